#!/usr/bin/env bats
# exec: running more processes in a running container.

load ../lib/helpers

# start_sleeper: a running container whose init is `sleep 1000`.
start_sleeper() {
  make_bundle "$BUNDLE" '.process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FROM_SPEC=1"]'
  bundle_set_args "$BUNDLE" sleep 1000
  ctr_start "$CID"
  wait_for_status "$CID" running
  INIT_PID=$(container_pid "$CID")
  wait_for_grep "/proc/$INIT_PID/cmdline" '^sleep'
}

@test "exec runs in the container's namespaces: pid 1 is the container init" {
  start_sleeper
  run rt exec "$CID" sh -c 'tr "\0" " " </proc/1/cmdline; echo; for n in pid mnt net uts; do readlink /proc/self/ns/$n; done; hostname'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "sleep 1000 " ]
  [ "${lines[1]}" = "$(readlink "/proc/$INIT_PID/ns/pid")" ]
  [ "${lines[2]}" = "$(readlink "/proc/$INIT_PID/ns/mnt")" ]
  [ "${lines[3]}" = "$(readlink "/proc/$INIT_PID/ns/net")" ]
  [ "${lines[4]}" = "$(readlink "/proc/$INIT_PID/ns/uts")" ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/pid)" ]
  [ "${lines[5]}" = "$(jq -r .hostname "$BUNDLE/config.json")" ]

  # ps inside sees the init and itself only.
  run rt exec "$CID" ps -o pid,comm
  [ "$status" -eq 0 ]
  echo "$output"
  [ "${#lines[@]}" -eq 3 ]
  [ "$(echo "${lines[1]}" | awk '{print $1, $2}')" = "1 sleep" ]
}

@test "exec gets the spec's environment, capabilities and limits" {
  start_sleeper
  run rt exec "$CID" sh -c 'echo "$FROM_SPEC"; grep -E "^(CapEff|NoNewPrivs):" /proc/self/status'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "$(echo "${lines[1]}" | awk '{print $2}')" = "$(awk '$1 == "CapEff:" {print $2}' "/proc/$INIT_PID/status")" ]
  [ "$(echo "${lines[2]}" | awk '{print $2}')" = "$(awk '$1 == "NoNewPrivs:" {print $2}' "/proc/$INIT_PID/status")" ]
}

@test "exec --cwd, -e and -u" {
  start_sleeper
  run rt exec --cwd /home/tester "$CID" pwd
  [ "$status" -eq 0 ]
  [ "$output" = /home/tester ]

  run rt exec -e FOO=bar -e "SPACED=a b" "$CID" sh -c 'echo "$FOO|$SPACED|$FROM_SPEC"'
  [ "$status" -eq 0 ]
  [ "$output" = "bar|a b|1" ]

  run rt exec -u 1000:1000 "$CID" sh -c 'id -u; id -g; grep ^Uid: /proc/self/status'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [ "$(echo "${lines[2]}" | awk '{$1=$1; print}')" = "Uid: 1000 1000 1000 1000" ]

  run rt exec -u 65534 "$CID" id -u
  [ "$status" -eq 0 ]
  [ "$output" = 65534 ]
}

@test "exec --process runs a process.json" {
  start_sleeper
  cat >"$TESTDIR/process.json" <<'EOF'
{
  "terminal": false,
  "user": {"uid": 1000, "gid": 1000, "additionalGids": [10]},
  "args": ["sh", "-c", "echo \"$FOO\"; id -u; id -g; pwd; grep ^Groups: /proc/self/status"],
  "env": ["PATH=/usr/bin:/bin", "FOO=from-process-file"],
  "cwd": "/home/tester"
}
EOF
  run rt exec --process "$TESTDIR/process.json" "$CID"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = from-process-file ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = 1000 ]
  [ "${lines[3]}" = /home/tester ]
  [ "$(echo "${lines[4]}" | awk '{print $2}')" = 10 ]

  # -p is the short form.
  run rt exec -p "$TESTDIR/process.json" "$CID"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = from-process-file ]
}

@test "exec -d with --pid-file leaves the process running in the container" {
  start_sleeper
  local pidfile=$TESTDIR/exec.pid
  rt exec -d --pid-file "$pidfile" "$CID" sleep 1001 </dev/null >"$TESTDIR/exec.out" 2>"$TESTDIR/exec.err"
  [ -s "$pidfile" ]
  local pid
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]]
  track_pid "$pid"
  pid_alive "$pid"
  wait_for_grep "/proc/$pid/cmdline" '^sleep'
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 1001 " ]
  [ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$INIT_PID/ns/pid")" ]
  # ... and in the container's cgroup.
  grep -qx "$pid" "$(cgroup_dir pids "$BUNDLE_CGROUP")/cgroup.procs"

  run rt ps -f json "$CID"
  [ "$status" -eq 0 ]
  jq -e --argjson p "$pid" 'any(.[]; . == $p)' <<<"$output"

  # It goes away with the container.
  rt delete -f "$CID"
  wait_for_pid_exit "$pid"
}

@test "exec propagates the exit status, 128+n for a signal" {
  start_sleeper
  run rt exec "$CID" sh -c 'exit 5'
  [ "$status" -eq 5 ]
  run rt exec "$CID" true
  [ "$status" -eq 0 ]
  run rt exec "$CID" sh -c 'kill -TERM $$; sleep 5'
  [ "$status" -eq 143 ]
  run rt exec "$CID" sh -c 'kill -KILL $$; sleep 5'
  [ "$status" -eq 137 ]
  # The container is unaffected.
  [ "$(container_status "$CID")" = running ]
}

@test "exec into a container that is not running fails" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sleep 1000
  run --separate-stderr rt exec "$CID" true
  echo "exit status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [ -n "$stderr" ]

  bundle_set_args "$BUNDLE" true
  ctr_start "$CID"
  wait_for_status "$CID" stopped
  run --separate-stderr rt exec "$CID" true
  echo "exit status $status, stderr: $stderr"
  [ "$status" -eq 1 ]
  [ -n "$stderr" ]
}

@test "exec --tty with --console-socket goes through recvtty" {
  start_sleeper
  local sock=$SHORT_DIR/exec.sock out=$TESTDIR/tty.out
  printf 'tty\necho "sum=$((6 * 7))"\nexit\n' >"$TESTDIR/tty.in"
  RECVTTY_STDIN=$TESTDIR/tty.in start_recvtty "$sock" "$out"

  rt exec -d -t --console-socket "$sock" --pid-file "$TESTDIR/tty.pid" "$CID" sh \
    </dev/null >"$TESTDIR/exec.out" 2>"$TESTDIR/exec.err"
  track_pid "$(cat "$TESTDIR/tty.pid")"
  local rc=0
  wait_recvtty || rc=$?
  cat -A "$out" "$out.err"
  [ "$rc" -eq 0 ]
  run strip_cr <"$out"
  # The shell's terminal is a pty; it read our input from recvtty's stdin.
  printf '%s\n' "${lines[@]}" | grep -Eq '^/dev/(pts/[0-9]+|console)$'
  printf '%s\n' "${lines[@]}" | grep -qx 'sum=42'
  wait_for_pid_exit "$(cat "$TESTDIR/tty.pid")"
  [ "$(container_status "$CID")" = running ]
}
