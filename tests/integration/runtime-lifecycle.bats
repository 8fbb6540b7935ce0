#!/usr/bin/env bats
# Lifecycle of a container through the runtime's command line:
# spec, create, start, state, kill, delete, run, list, ps, logging, terminal.

load ../lib/helpers

# A bundle whose process touches /shared/started, then sleeps.
sleeping_bundle() {
  make_bundle "$BUNDLE"
  SHARED=$(bundle_add_shared "$BUNDLE")
  bundle_set_args "$BUNDLE" sh -c 'touch /shared/started; exec sleep 1000'
}

@test "spec writes a valid default config.json" {
  local dir=$TESTDIR/specdir
  mkdir -p "$dir"
  run rt spec -b "$dir"
  [ "$status" -eq 0 ]
  [ -s "$dir/config.json" ]
  run jq -e '
      (.ociVersion | type == "string" and startswith("1."))
      and (.process.args | type == "array" and length > 0)
      and (.process.cwd | type == "string")
      and (.root.path | type == "string")
      and (.linux.namespaces | type == "array")
      and ([.linux.namespaces[].type] | any(. == "pid") and any(. == "mount"))
    ' "$dir/config.json"
  [ "$status" -eq 0 ]

  # Without -b it writes to the current directory.
  local dir2=$TESTDIR/specdir2
  mkdir -p "$dir2"
  (cd "$dir2" && rt spec)
  jq -e . "$dir2/config.json" >/dev/null

  # The generated spec is usable as it is (once it points at a rootfs).
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" echo spec-ok
  run rt_run "$CID"
  [ "$status" -eq 0 ]
  [ "$output" = spec-ok ]
}

@test "create: state is created, with the pid, and the process has not run" {
  sleeping_bundle
  bundle_jq "$BUNDLE" '.annotations = {"org.skiff.test": "lifecycle"}'
  ctr_create "$CID"

  run rt state "$CID"
  [ "$status" -eq 0 ]
  local state=$output
  echo "$state"
  jq -e --arg id "$CID" --arg b "$BUNDLE" '
      .id == $id and .status == "created" and .bundle == $b
      and (.ociVersion | type == "string")
      and (.pid | type == "number" and . > 0)
      and .annotations["org.skiff.test"] == "lifecycle"
    ' <<<"$state"
  local pid
  pid=$(jq -r .pid <<<"$state")
  pid_alive "$pid"
  # The pid lives in the container's own pid namespace.
  [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
  # The user's command has not started.
  [ ! -e "$SHARED/started" ]
}

@test "start: state becomes running and the process runs" {
  sleeping_bundle
  ctr_create "$CID"
  local pid
  pid=$(container_pid "$CID")

  run rt start "$CID"
  [ "$status" -eq 0 ]
  wait_for_file "$SHARED/started"
  [ "$(container_status "$CID")" = running ]
  [ "$(container_pid "$CID")" = "$pid" ]
  wait_for_grep "/proc/$pid/cmdline" '^sleep'

  # A second start is an error.
  run rt start "$CID"
  [ "$status" -eq 1 ]
}

@test "the process exits: state becomes stopped" {
  make_bundle "$BUNDLE"
  SHARED=$(bundle_add_shared "$BUNDLE")
  bundle_set_args "$BUNDLE" sh -c 'touch /shared/started; while [ ! -e /shared/go ]; do sleep 0.05; done; echo bye'
  ctr_start "$CID"
  wait_for_file "$SHARED/started"
  local pid
  pid=$(container_pid "$CID")
  [ "$(container_status "$CID")" = running ]

  touch "$SHARED/go"
  wait_for_status "$CID" stopped
  wait_for_pid_exit "$pid"
  [ "$(ctr_output "$CID")" = bye ]
  # A stopped container can still be inspected and listed.
  run rt list -q
  [ "$status" -eq 0 ]
  [ "$output" = "$CID" ]
}

@test "run propagates the process's exit status and output" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'
  run --separate-stderr rt_run "$CID"
  [ "$status" -eq 7 ]
  [ "$output" = to-stdout ]
  [[ "$stderr" == *to-stderr* ]]
  # A foreground run removes the container when it is done.
  run rt state "$CID"
  [ "$status" -eq 1 ]
  [ -z "$(rt list -q)" ]

  bundle_set_args "$BUNDLE" true
  run rt_run "$CID"
  [ "$status" -eq 0 ]
}

@test "run: a process killed by a signal gives 128+n" {
  # Without a pid namespace the process is not an init: it dies of SIGTERM.
  make_bundle "$BUNDLE"
  bundle_remove_namespace "$BUNDLE" pid
  bundle_set_args "$BUNDLE" sh -c 'kill -TERM $$; sleep 5'
  run rt_run "$CID"
  [ "$status" -eq 143 ]

  # A container init killed from outside with SIGKILL: 137.
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sleep 1000
  rt_run "$CID" >"$TESTDIR/run.out" 2>&1 &
  local runpid=$!
  track_pid "$runpid"
  wait_for_status "$CID" running
  rt kill "$CID" KILL
  local rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 137 ]
}

@test "kill delivers the named signal, and TERM by default" {
  make_bundle "$BUNDLE"
  SHARED=$(bundle_add_shared "$BUNDLE")
  bundle_set_args "$BUNDLE" sh -c '
    trap "echo usr1 >> /shared/sigs" USR1
    trap "echo term >> /shared/sigs; exit 0" TERM
    touch /shared/ready
    while :; do sleep 0.05; done'
  ctr_start "$CID"
  wait_for_file "$SHARED/ready"

  run rt kill "$CID" USR1
  [ "$status" -eq 0 ]
  wait_for_grep "$SHARED/sigs" '^usr1$'
  [ "$(container_status "$CID")" = running ]

  run rt kill "$CID"
  [ "$status" -eq 0 ]
  wait_for_grep "$SHARED/sigs" '^term$'
  wait_for_status "$CID" stopped

  # Killing a stopped container is an error.
  run rt kill "$CID" KILL
  [ "$status" -eq 1 ]
}

@test "kill then delete leaves no state, cgroup, mount or process behind" {
  sleeping_bundle
  local cg=$BUNDLE_CGROUP
  ctr_start "$CID"
  wait_for_file "$SHARED/started"
  local pid
  pid=$(container_pid "$CID")

  # While it runs, all of these exist.
  [ -n "$(find "$RT_ROOT" -name "*$CID*")" ]
  [ -d "$(cgroup_dir memory "$cg")" ]
  [ -d "$(cgroup_dir pids "$cg")" ]
  grep -qx "$pid" "$(cgroup_dir pids "$cg")/cgroup.procs"

  run rt kill "$CID" KILL
  [ "$status" -eq 0 ]
  wait_for_status "$CID" stopped
  run rt delete "$CID"
  [ "$status" -eq 0 ]

  run rt state "$CID"
  [ "$status" -eq 1 ]
  [ -z "$(find "$RT_ROOT" -name "*$CID*")" ]
  [ -z "$(rt list -q)" ]
  local ctl
  for ctl in /sys/fs/cgroup/*/; do
    [ ! -e "$ctl${cg#/}" ] || fail "cgroup left behind: $ctl${cg#/}"
  done
  wait_for_pid_exit "$pid"
  assert_no_leaked_mounts
}

@test "delete refuses a running container unless -f" {
  sleeping_bundle
  local cg=$BUNDLE_CGROUP
  ctr_start "$CID"
  wait_for_file "$SHARED/started"
  local pid
  pid=$(container_pid "$CID")

  run --separate-stderr rt delete "$CID"
  [ "$status" -eq 1 ]
  [ -n "$stderr" ]
  [ "$(container_status "$CID")" = running ]
  pid_alive "$pid"

  run rt delete -f "$CID"
  [ "$status" -eq 0 ]
  run rt state "$CID"
  [ "$status" -eq 1 ]
  wait_for_pid_exit "$pid"
  [ ! -e "$(cgroup_dir pids "$cg")" ]
  [ ! -e "$(cgroup_dir memory "$cg")" ]
  [ -z "$(find "$RT_ROOT" -name "*$CID*")" ]
}

@test "state, start, kill and delete of an unknown container fail" {
  local cmd
  for cmd in state start kill delete; do
    run --separate-stderr rt "$cmd" no-such-container
    [ "$status" -eq 1 ] || fail "$cmd exited $status"
    [ -n "$stderr" ] || fail "$cmd printed no error"
  done
}

@test "list shows ID PID STATUS BUNDLE CREATED OWNER, and JSON" {
  sleeping_bundle
  local c1=$CID-a c2=$CID-b b2=$TESTDIR/bundle2
  # Each container gets its own bundle, hence its own cgroup.
  make_bundle "$b2"
  bundle_set_args "$b2" sleep 1000
  ctr_create "$c1"
  ctr_start --bundle "$b2" "$c2"
  wait_for_status "$c2" running
  local p1 p2
  p1=$(container_pid "$c1")
  p2=$(container_pid "$c2")

  run rt list
  [ "$status" -eq 0 ]
  echo "$output"
  [ "$(echo "${lines[0]}" | awk '{$1=$1; print}')" = "ID PID STATUS BUNDLE CREATED OWNER" ]
  [ "${#lines[@]}" -eq 3 ]
  local row
  row=$(printf '%s\n' "${lines[@]}" | awk -v id="$c1" '$1 == id')
  [ "$(awk '{print $2, $3, $4}' <<<"$row")" = "$p1 created $BUNDLE" ]
  [[ "$(awk '{print $5}' <<<"$row")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+ ]]
  [ "$(awk '{print $6}' <<<"$row")" = root ]
  row=$(printf '%s\n' "${lines[@]}" | awk -v id="$c2" '$1 == id')
  [ "$(awk '{print $2, $3, $4}' <<<"$row")" = "$p2 running $b2" ]

  run rt list -f json
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --arg a "$c1" --arg b "$c2" --arg bundle "$BUNDLE" \
    --argjson p1 "$p1" --argjson p2 "$p2" '
      length == 2
      and (map(select(.id == $a))[0] | .pid == $p1 and .status == "created"
           and .bundle == $bundle and (.created | type == "string") and .owner == "root")
      and (map(select(.id == $b))[0] | .pid == $p2 and .status == "running")
    '

  run rt list -q
  [ "$status" -eq 0 ]
  [ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "$c1 $c2 " ]
}

@test "list of an empty root prints only the header, or [] in JSON" {
  run rt list -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run rt list -f json
  [ "$status" -eq 0 ]
  [ "$(jq -c . <<<"${output:-null}")" = "[]" ] || [ "$(jq -c . <<<"${output:-null}")" = null ]
}

@test "ps lists the container's processes" {
  make_bundle "$BUNDLE"
  SHARED=$(bundle_add_shared "$BUNDLE")
  bundle_set_args "$BUNDLE" sh -c 'sleep 1001 & touch /shared/ready; exec sleep 1000'
  local procs
  procs=$(cgroup_dir pids "$BUNDLE_CGROUP")/cgroup.procs
  ctr_start "$CID"
  wait_for_file "$SHARED/ready"
  local pid
  pid=$(container_pid "$CID")
  _two_procs() { [ "$(wc -l <"$procs")" -eq 2 ]; }
  wait_for _two_procs
  wait_for_grep "/proc/$pid/cmdline" '^sleep'

  run rt ps -f json "$CID"
  [ "$status" -eq 0 ]
  echo "$output"
  [ "$(jq -r '.[]' <<<"$output" | sort -n | tr '\n' ' ')" = "$(sort -n "$procs" | tr '\n' ' ')" ]
  jq -e --argjson p "$pid" 'any(.[]; . == $p)' <<<"$output"

  run rt ps "$CID"
  [ "$status" -eq 0 ]
  echo "$output"
  [[ "${lines[0]}" == *PID* ]]
  [ "${#lines[@]}" -eq 3 ]
  printf '%s\n' "${lines[@]}" | grep -q 'sleep 1000'
  printf '%s\n' "${lines[@]}" | grep -q 'sleep 1001'
  printf '%s\n' "${lines[@]:1}" | grep -qw "$pid"
}

@test "a duplicate container id is refused and the first container is untouched" {
  sleeping_bundle
  ctr_create "$CID"
  local pid
  pid=$(container_pid "$CID")

  local rc=0
  rt create --bundle "$BUNDLE" "$CID" </dev/null >"$TESTDIR/dup.out" 2>"$TESTDIR/dup.err" || rc=$?
  cat "$TESTDIR/dup.err"
  [ "$rc" -eq 1 ]
  grep -Eqi "exist|$CID" "$TESTDIR/dup.err"

  rc=0
  rt run -d --bundle "$BUNDLE" "$CID" </dev/null >"$TESTDIR/dup2.out" 2>"$TESTDIR/dup2.err" || rc=$?
  [ "$rc" -eq 1 ]

  [ "$(container_status "$CID")" = created ]
  [ "$(container_pid "$CID")" = "$pid" ]
  pid_alive "$pid"
  [ "$(rt list -q)" = "$CID" ]
  # And it still starts.
  rt start "$CID"
  wait_for_file "$SHARED/started"
}

@test "--log-format json writes JSON lines to --log on an error" {
  local log=$TESTDIR/runtime.log
  run --separate-stderr rt --log "$log" --log-format json start no-such-container
  [ "$status" -eq 1 ]
  [ -s "$log" ]
  cat "$log"
  local line n=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    jq -e 'type == "object"' <<<"$line" >/dev/null || fail "not a JSON object: $line"
    n=$((n + 1))
  done <"$log"
  [ "$n" -ge 1 ]
  jq -se 'any(.[]; .level == "error" and (.msg | type == "string" and length > 0))' "$log"

  # The text format is not JSON.
  local tlog=$TESTDIR/runtime.txt
  run rt --log "$tlog" --log-format text start no-such-container
  [ "$status" -eq 1 ]
  [ -s "$tlog" ]
  run jq -e . "$tlog"
  [ "$status" -ne 0 ]
}

@test "terminal: create --console-socket sends the pty master to recvtty" {
  make_bundle "$BUNDLE" '.process.terminal = true'
  bundle_set_args "$BUNDLE" sh -c 'tty; echo tty-done'
  local sock=$SHORT_DIR/tty.sock out=$TESTDIR/tty.out
  start_recvtty "$sock" "$out"

  ctr_create --console-socket "$sock" "$CID"
  rt start "$CID"
  # recvtty ends when the terminal hangs up (the process exited).
  local rc=0
  wait_recvtty || rc=$?
  cat -A "$out" "$out.err"
  [ "$rc" -eq 0 ]
  run strip_cr <"$out"
  [[ "${lines[0]}" =~ ^/dev/(pts/[0-9]+|console)$ ]]
  [ "${lines[1]}" = tty-done ]
  wait_for_status "$CID" stopped
}
