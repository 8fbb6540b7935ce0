#!/usr/bin/env bats
# skiff-shim: the per-container supervisor (doc/daemon.md, "skiff-shim"),
# driven through its socket with the shimctl test client.
#
# Environment, besides helpers.bash's: SKIFF_SHIM and SHIMCTL point at the
# binaries; when unset they are compiled into $SKIFF_TEST_TMP from the
# sources (again whenever a source is newer).

load ../lib/helpers

SKIFF_SRC_DIR=$(cd "$SKIFF_LIB_DIR/../.." && pwd)

# _build_into OUT SOURCES... : compiles OUT unless it is newer than every
# source and header under common/ and runtime/.
_build_into() {
  local out=$1
  shift
  if [ -x "$out" ] && [ -z "$(find "$SKIFF_SRC_DIR/common" "$SKIFF_SRC_DIR/runtime" "$SKIFF_LIB_DIR/shimctl.c" \
    -name '*.[ch]' -newer "$out" -print -quit)" ]; then
    return 0
  fi
  local cc=${CC:-cc}
  command -v "$cc" >/dev/null 2>&1 || cc=gcc
  "$cc" -O2 -Wall -D_GNU_SOURCE -I"$SKIFF_SRC_DIR/common" -I"$SKIFF_SRC_DIR/runtime" \
    -o "$out.$$" "$@" -lyajl -lseccomp -lcap >&2 || return 1
  mv -f "$out.$$" "$out"
}

shim_binaries() {
  if [ -z "${SKIFF_SHIM:-}" ]; then
    SKIFF_SHIM=$SKIFF_TEST_TMP/skiff-shim
    _build_into "$SKIFF_SHIM" "$SKIFF_SRC_DIR"/common/*.c "$SKIFF_SRC_DIR"/runtime/*.c \
      "$SKIFF_SRC_DIR"/runtime/shim/*.c || fail "cannot build skiff-shim" || return 1
  fi
  if [ -z "${SHIMCTL:-}" ]; then
    SHIMCTL=$SKIFF_TEST_TMP/shimctl
    _build_into "$SHIMCTL" "$SKIFF_LIB_DIR/shimctl.c" "$SKIFF_SRC_DIR/runtime/shim_proto.c" \
      "$SKIFF_SRC_DIR"/common/*.c || fail "cannot build shimctl" || return 1
  fi
  export SKIFF_SHIM SHIMCTL
}

setup_file() {
  skiff_setup_file || return 1
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  shim_binaries
}

setup() {
  skiff_setup
  shim_binaries
  # Short: the socket path must fit in sun_path for shimctl.
  SHIM_STATE=$SHORT_DIR/shim
  SHIM_SOCK=$SHIM_STATE/shim.sock
  SHIM_LOG=$TESTDIR/$CID-json.log
  SHIM_PID=
  INIT_PID=
}

_is_our_shim() {
  pid_alive "$1" && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "--state-dir $SHIM_STATE "
}

# shim_pids: the pids of shims serving this test's state dir (a shim whose
# container ends at once is gone before shim.pid can be read).
shim_pids() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    if _is_our_shim "$pid"; then
      echo "$pid"
    fi
  done
}
_no_shim() { [ -z "$(shim_pids)" ]; }

teardown() {
  # Kill a shim that is still running (checking that the pid is still
  # ours); teardown then deletes the container it leaves.
  local pid
  for pid in $(shim_pids); do
    kill -KILL "$pid"
    poll_until 5 pid_dead "$pid"
  done
  skiff_teardown
}

shimctl() {
  "$SHIMCTL" "$SHIM_SOCK" "$@" 3>&-
}

# start_shim [SHIM OPTIONS...]: starts the shim for $BUNDLE as skiffd does,
# reads its ready line; sets INIT_PID and SHIM_PID.
start_shim() {
  local fifo=$TESTDIR/ready.fifo starter
  _register_id "$CID"
  rm -f "$fifo"
  mkfifo "$fifo"
  "$SKIFF_SHIM" --id "$CID" --bundle "$BUNDLE" --runtime-root "$RT_ROOT" --state-dir "$SHIM_STATE" \
    --log "$SHIM_LOG" "$@" 3>"$fifo" </dev/null >/dev/null 2>"$TESTDIR/shim.err" &
  starter=$!
  READY=
  read -r -t "$SKIFF_TEST_TIMEOUT" READY <"$fifo" || true
  # The process skiffd started returns at once, whatever happens next.
  wait "$starter" || fail "skiff-shim exited $? before detaching: $(cat "$TESTDIR/shim.err")" || return 1
  rm -f "$fifo"
  case $READY in
    "ok "[0-9]*) ;;
    *) fail "skiff-shim did not start: '$READY' $(cat "$TESTDIR/shim.err")" || return 1 ;;
  esac
  INIT_PID=${READY#ok }
  # Written before the ready line, removed when the container has ended.
  SHIM_PID=$(cat "$SHIM_STATE/shim.pid" 2>/dev/null) || [ -f "$SHIM_STATE/exit.json" ] ||
    fail "no shim.pid and no exit.json"
}

wait_for_exit_json() { wait_for_file "$SHIM_STATE/exit.json"; }
exit_json() { jq -c "$@" "$SHIM_STATE/exit.json"; }

# log_entries STREAM: the "log" values of one stream, as JSON strings.
log_entries() { jq -c --arg s "$1" 'select(.stream == $s) | .log' "$SHIM_LOG"; }

# assert_shim_gone: the shim exited and left only exit.json, and no
# runtime state, cgroup or container process.
assert_shim_gone() {
  local cg
  wait_for _no_shim
  wait_for_pid_exit "$INIT_PID"
  run ls -A "$SHIM_STATE"
  [ "$output" = exit.json ] || fail "state dir holds: $output"
  ! rt state "$CID" >/dev/null 2>&1 || fail "runtime state of $CID is left"
  [ -z "$(ls -A "$RT_ROOT")" ] || fail "runtime root holds: $(ls -A "$RT_ROOT")"
  cg=$(bundle_cgroup "$BUNDLE")
  for d in /sys/fs/cgroup/*/"${cg#/}"; do
    [ ! -d "$d" ] || fail "cgroup $d is left"
  done
  if grep -F -e "$TESTDIR" -e "$SHORT_DIR" /proc/self/mountinfo; then
    fail "mounts left behind"
  fi
}

@test "output goes to the json-file log, the exit code to exit.json, and nothing is left" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'echo hello; echo oops >&2; echo "a\"b<&>"; exit 3'
  start_shim
  [ "$INIT_PID" -gt 0 ]
  wait_for_exit_json
  [ "$(exit_json .exit_code)" = 3 ]
  [ "$(exit_json .oom_killed)" = false ]
  [ "$(exit_json .error)" = '""' ]
  exit_json -r .finished_at | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+Z$'

  cat "$SHIM_LOG"
  [ "$(log_entries stdout | head -1)" = '"hello\n"' ]
  [ "$(log_entries stderr)" = '"oops\n"' ]
  # Docker's escaping: < > & as \u00XX.
  grep -qF '{"log":"a\"b\u003c\u0026\u003e\n","stream":"stdout","time":"' "$SHIM_LOG"
  # Every line is one object with exactly Docker's keys.
  [ "$(jq -c 'keys' "$SHIM_LOG" | sort -u)" = '["log","stream","time"]' ]
  run bash -c 'jq -r .time "$1" | grep -Ev "^[0-9-]{10}T[0-9:]{8}(\.[0-9]*[1-9])?Z\$"' _ "$SHIM_LOG"
  [ -z "$output" ] || fail "bad time format: $output"
  assert_shim_gone
}

@test "a partial last line is logged at exit, a long line is split at 16 KiB" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'head -c 20000 /dev/zero | tr "\0" x; echo; printf "no newline"'
  start_shim
  wait_for_exit_json
  run log_entries stdout
  [ "${#lines[@]}" -eq 3 ]
  [ "$(jq -r 'length' <<<"${lines[0]}")" -eq 16384 ]
  [ "$(jq -r 'length' <<<"${lines[1]}")" -eq $((20000 - 16384 + 1)) ]
  [ "$(jq -r 'endswith("\n")' <<<"${lines[1]}")" = true ]
  [ "${lines[2]}" = '"no newline"' ]
}

@test "attach --stdin to a cat container echoes stdin back" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" cat
  start_shim --stdin --stdin-once
  run --separate-stderr shimctl attach --stdin <<<$'hello\nworld'
  [ "$status" -eq 0 ]
  [ "$output" = $'hello\nworld' ]
  wait_for_exit_json
  [ "$(exit_json .exit_code)" = 0 ]
  [ "$(log_entries stdout)" = $'"hello\\n"\n"world\\n"' ]
  assert_shim_gone
}

@test "without --stdin the container's stdin is /dev/null" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'cat; echo "cat ended"'
  start_shim
  wait_for_exit_json
  [ "$(exit_json .exit_code)" = 0 ]
  [ "$(log_entries stdout)" = '"cat ended\n"' ]
}

@test "terminal: attach sees /dev/pts/0 and resize changes stty size" {
  make_bundle "$BUNDLE" '.process.terminal = true | .process.consoleSize = {"height": 24, "width": 80}'
  bundle_set_args "$BUNDLE" sh -c 'read x; tty; stty size; read y; stty size'
  start_shim --stdin
  local in=$TESTDIR/in out=$TESTDIR/out pid
  mkfifo "$in"
  "$SHIMCTL" "$SHIM_SOCK" attach --stdin <"$in" >"$out" 2>"$out.err" 3>&- &
  pid=$!
  track_pid "$pid"
  exec 5>"$in"
  echo go >&5
  wait_for_grep "$out" '^24 80'
  grep -q '^/dev/pts/0' "$out"
  shimctl resize 30 100
  echo again >&5
  wait_for_grep "$out" '^30 100'
  exec 5>&-
  wait "$pid"
  # A terminal's output is all stdout, with the terminal's \r\n.
  grep -qF '{"log":"/dev/pts/0\r\n","stream":"stdout"' "$SHIM_LOG"
  [ -z "$(log_entries stderr)" ]
  wait_for_exit_json
  [ "$(exit_json .exit_code)" = 0 ]
  assert_shim_gone
}

@test "the shim outlives the process that started it" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'read x; echo "got $x"'
  _register_id "$CID"
  local ready=$TESTDIR/ready starter ppid sid
  bash -c '"$0" --id "$1" --bundle "$2" --runtime-root "$3" --state-dir "$4" --log "$5" --stdin 3>"$6" \
    </dev/null >/dev/null 2>&1; echo $$ >"$6.starter"; exit 0' \
    "$SKIFF_SHIM" "$CID" "$BUNDLE" "$RT_ROOT" "$SHIM_STATE" "$SHIM_LOG" "$ready" 3>&-
  starter=$(cat "$ready.starter")
  wait_for_grep "$ready" '^ok [0-9]+$'
  INIT_PID=$(awk '{print $2}' "$ready")
  SHIM_PID=$(cat "$SHIM_STATE/shim.pid")
  _is_our_shim "$SHIM_PID"
  pid_dead "$starter"
  ppid=$(awk '$1 == "PPid:" {print $2}' "/proc/$SHIM_PID/status")
  [ "$ppid" != "$starter" ]
  # Its own session, and the container's init is its child.
  sid=$(cut -d' ' -f6 "/proc/$SHIM_PID/stat")
  [ "$sid" = "$SHIM_PID" ]
  [ "$(awk '$1 == "PPid:" {print $2}' "/proc/$INIT_PID/status")" = "$SHIM_PID" ]
  [ "$(awk '$1 == "NoNewPrivs:" {print $2}' "/proc/$SHIM_PID/status")" = 0 ]

  run shimctl status
  [ "$status" -eq 0 ]
  [ "$(jq -c . <<<"$output")" = "{\"pid\":$INIT_PID,\"running\":true}" ]
  run --separate-stderr shimctl attach --stdin <<<"there"
  [ "$status" -eq 0 ]
  [ "$output" = "got there" ]
  assert_shim_gone
}

@test "SIGKILL of the init is exit code 137, reported to a monitor connection" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sleep 1000
  start_shim
  local mon=$TESTDIR/monitor pid
  "$SHIMCTL" "$SHIM_SOCK" wait >"$mon" 2>&1 3>&- &
  pid=$!
  track_pid "$pid"
  # An exec process running too: it dies with the container.
  run shimctl exec --detach -- sleep 999
  [ "$status" -eq 0 ]
  local exec_pid=$output
  pid_alive "$exec_pid"
  run shimctl status
  [ "$(jq -r .running <<<"$output")" = true ]

  kill -KILL "$INIT_PID"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 137 ]
  [ "$(jq -c . "$mon")" = '{"exit_code":137,"oom_killed":false}' ]
  [ "$(exit_json .exit_code)" = 137 ]
  [ "$(exit_json .oom_killed)" = false ]
  wait_for_pid_exit "$exec_pid"
  assert_shim_gone
}

@test "exec gets its own output, stdin, terminal and exit code" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'echo init-output; exec sleep 1000'
  start_shim
  wait_for_grep "$SHIM_LOG" init-output

  run --separate-stderr shimctl exec -- sh -c 'echo out; echo err >&2; exit 7'
  [ "$status" -eq 7 ]
  [ "$output" = out ]
  [ "$stderr" = err ]

  run --separate-stderr shimctl exec --stdin -- sh -c 'cat; echo done' <<<"piped"
  [ "$status" -eq 0 ]
  [ "$output" = $'piped\ndone' ]

  run --separate-stderr shimctl exec --tty -- sh -c 'tty; exit 5'
  [ "$status" -eq 5 ]
  [[ "$output" == /dev/pts/* ]]

  # In the container's pid namespace, beside its init.
  run --separate-stderr shimctl exec -- sh -c 'tr "\0" " " </proc/1/cmdline'
  [ "$status" -eq 0 ]
  [ "$output" = "sleep 1000 " ]

  run --separate-stderr shimctl exec -- /no/such/binary
  [ "$status" -eq 126 ]
  [[ "$stderr" == *"/no/such/binary"* ]]

  # Exec output is not the container's log.
  if grep -qE '"(out|err|piped|done)\\n"' "$SHIM_LOG"; then
    fail "exec output in the container log: $(cat "$SHIM_LOG")"
  fi
  run shimctl status
  [ "$(jq -r .running <<<"$output")" = true ]
}

@test "two attach clients get the same output; one going away stops nothing" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'i=0; while :; do echo "tick $i"; i=$((i + 1)); sleep 0.05; done'
  start_shim
  local a=$TESTDIR/a b=$TESTDIR/b pa pb n
  "$SHIMCTL" "$SHIM_SOCK" attach >"$a" 2>&1 3>&- &
  pa=$!
  track_pid "$pa"
  "$SHIMCTL" "$SHIM_SOCK" attach >"$b" 2>&1 3>&- &
  pb=$!
  track_pid "$pb"
  wait_for_nonempty "$a"
  wait_for_nonempty "$b"
  # Both are attached now: every later tick reaches both.
  n=$(tail -n 1 "$a" | awk '{print $2}')
  wait_for_grep "$a" "^tick $((n + 3))\$"
  wait_for_grep "$b" "^tick $((n + 3))\$"
  diff <(grep -A3 "^tick $n\$" "$a" | head -4) <(grep -A3 "^tick $n\$" "$b" | head -4)

  kill -KILL "$pa"
  wait "$pa" || true
  n=$(tail -n 1 "$b" | awk '{print $2}')
  wait_for_grep "$b" "^tick $((n + 5))\$"
  run shimctl status
  [ "$(jq -r .running <<<"$output")" = true ]
  grep -qF "{\"log\":\"tick $((n + 5))\\n\",\"stream\":\"stdout\"" "$SHIM_LOG"

  kill -KILL "$INIT_PID"
  local rc=0
  wait "$pb" || rc=$?
  [ "$rc" -eq 137 ]
  assert_shim_gone
}

@test "the rootfs mount handed to the shim is unmounted when the container ends" {
  local merged=$TESTDIR/merged
  mkdir -p "$merged"
  mount --bind "$ROOTFS" "$merged"
  make_bundle "$BUNDLE" '.root.path = $m' --arg m "$merged"
  bundle_set_args "$BUNDLE" true
  start_shim --rootfs-mount "$merged"
  wait_for_exit_json
  [ "$(exit_json .exit_code)" = 0 ]
  wait_for _no_shim
  if grep -qF " $merged " /proc/self/mountinfo; then
    fail "$merged is still mounted"
  fi
  assert_shim_gone
}

@test "a container that cannot start is reported on the ready pipe" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" /no/such/binary
  run start_shim
  [ "$status" -ne 0 ]
  [[ "$output" == *"did not start: 'error "*"/no/such/binary"* ]]
  # Nothing left: no socket, no pid file, no runtime state or cgroup.
  poll_until 5 _container_absent "$CID"
  [ -z "$(ls -A "$SHIM_STATE")" ]
  [ -z "$(ls -A "$RT_ROOT")" ]
  local cg
  cg=$(bundle_cgroup "$BUNDLE")
  for d in /sys/fs/cgroup/*/"${cg#/}"; do
    [ ! -d "$d" ]
  done
}

@test "an OOM kill is reported as oom_killed" {
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/memory.events ] || skip "no memory controller"
  make_bundle "$BUNDLE" '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
  bundle_set_args "$BUNDLE" sh -c 'tail /dev/zero'
  start_shim
  wait_for_exit_json
  [ "$(exit_json .exit_code)" = 137 ]
  [ "$(exit_json .oom_killed)" = true ]
  assert_shim_gone
}
