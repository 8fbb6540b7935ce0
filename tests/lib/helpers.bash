# Common setup for skiff's shell-level integration tests.
#
# Load it from a test file with:   load ../lib/helpers
#
# Environment:
#   SKIFF_RUNTIME       the OCI runtime under test (required; `make check`
#                       sets it to the freshly built skiff-runtime)
#   SKIFF_TEST_TMP      scratch directory (default: a fresh mktemp dir that
#                       is removed when the test file ends)
#   RECVTTY             path to the recvtty helper (default: next to this
#                       file, else compiled into $SKIFF_TEST_TMP with $CC)
#   SKIFF_TEST_TIMEOUT  seconds a poll helper waits (default 20)
#   SKIFF_RT_TIMEOUT    seconds one runtime command may take (default 120)
#
# Per test (set by skiff_setup):
#   TEST_UID   short random token, unique to the test
#   TESTDIR    per-test scratch directory (removed by teardown)
#   RT_ROOT    per-test --root directory for the runtime
#   BUNDLE     a per-test bundle directory (config.json not yet written)
#   CID        a container id unique to the test
#   ROOTFS     the shared busybox rootfs (read-only use!)
#   SHORT_DIR  a per-test directory under /tmp with a short path (sockets,
#              hook scripts; a container's tmpfs /tmp can hold the same path)
#
# Functions (see each): rt, rt_run, ctr_create, ctr_start,
# ctr_run_detached, ctr_output, container_status, container_pid,
# wait_for_status, poll_until, wait_for, wait_for_file, wait_for_grep,
# wait_for_pid_exit, pid_alive, cgroup_dir, assert_no_leaked_mounts,
# track_pid, track_cgroup, netns_add, start_recvtty, wait_recvtty.
# A test file that needs its own setup()/teardown() must call
# skiff_setup / skiff_teardown from it.

# Also sourced by plain bash scripts (bench/net, testbed.bash as a command).
if declare -F bats_require_minimum_version >/dev/null; then
  bats_require_minimum_version 1.5.0
fi

SKIFF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bundle.bash
source "$SKIFF_LIB_DIR/bundle.bash"

: "${SKIFF_TEST_TIMEOUT:=20}"
: "${SKIFF_RT_TIMEOUT:=120}"

# ---------------------------------------------------------------------------
# small utilities

fail() {
  printf '%s\n' "$*" >&2
  return 1
}

# _now_us: microseconds since the epoch (bash 5 $EPOCHREALTIME).
_now_us() {
  local t=${EPOCHREALTIME//[.,]/}
  echo "$t"
}

# poll_until SECONDS CMD [ARGS...]: runs CMD every 50ms until it succeeds;
# fails (after printing what it waited for) when SECONDS have elapsed.
poll_until() {
  local timeout=$1
  shift
  local deadline=$(($(_now_us) + timeout * 1000000))
  while :; do
    if "$@"; then
      return 0
    fi
    if (($(_now_us) >= deadline)); then
      echo "timed out after ${timeout}s waiting for: $*" >&2
      return 1
    fi
    sleep 0.05
  done
}

# wait_for CMD [ARGS...]: poll_until with the default deadline.
wait_for() {
  poll_until "$SKIFF_TEST_TIMEOUT" "$@"
}

_file_exists() { [ -e "$1" ]; }
_socket_exists() { [ -S "$1" ]; }
_file_nonempty() { [ -s "$1" ]; }
_file_matches() { [ -e "$1" ] && grep -Eq -- "$2" "$1"; }

wait_for_file() { wait_for _file_exists "$1"; }
wait_for_socket() { wait_for _socket_exists "$1"; }
wait_for_nonempty() { wait_for _file_nonempty "$1"; }
# wait_for_grep FILE ERE
wait_for_grep() { wait_for _file_matches "$1" "$2"; }

# pid_alive PID: true while PID exists and is not a zombie.
pid_alive() {
  local st
  [ -n "$1" ] && [ "$1" -gt 0 ] 2>/dev/null || return 1
  st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
pid_dead() { ! pid_alive "$1"; }
wait_for_pid_exit() { wait_for pid_dead "$1"; }

# strip_cr: removes the \r a terminal adds before \n.
strip_cr() { tr -d '\r'; }

# ---------------------------------------------------------------------------
# the runtime under test

# rt ARGS...: runs the runtime with the per-test --root.  fd 3 (bats' own)
# is closed so that a container started in the background never keeps
# bats waiting.  A runtime command that hangs is killed after
# $SKIFF_RT_TIMEOUT seconds (exit status 124) instead of hanging the suite.
rt() {
  timeout -k 10 "$SKIFF_RT_TIMEOUT" "$SKIFF_RUNTIME" --root "$RT_ROOT" "$@" 3>&-
}

# _register_id ID: remembers a container for teardown.
_register_id() {
  local id
  for id in "${SKIFF_CONTAINERS[@]}"; do
    [ "$id" = "$1" ] && return 0
  done
  SKIFF_CONTAINERS+=("$1")
}

# _ctr_detached CMD ARGS... ID: runs `rt CMD [-b $BUNDLE] ARGS... ID` with
# stdin from /dev/null and stdout/stderr to $TESTDIR/ID.out / ID.err (the
# container inherits them; a pipe would keep `run` waiting for ever).
# On failure the runtime's stderr is copied to our stderr.
_ctr_detached() {
  local cmd=$1
  shift
  local id=${!#} have_bundle=0 a rc
  for a in "$@"; do
    case $a in
      -b | --bundle | --bundle=*) have_bundle=1 ;;
    esac
  done
  local extra=()
  [ "$have_bundle" -eq 1 ] || extra=(--bundle "$BUNDLE")
  _register_id "$id"
  rc=0
  rt "$cmd" "${extra[@]}" "$@" </dev/null >"$TESTDIR/$id.out" 2>"$TESTDIR/$id.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "skiff-runtime $cmd $* exited $rc; stderr:" >&2
    cat "$TESTDIR/$id.err" >&2
  fi
  return "$rc"
}

# ctr_create [CREATE OPTIONS...] ID   (defaults to --bundle $BUNDLE)
ctr_create() { _ctr_detached create "$@"; }
# ctr_run_detached [RUN OPTIONS...] ID   (= run -d)
ctr_run_detached() { _ctr_detached run -d "$@"; }
# ctr_start ID: create + start
ctr_start() {
  ctr_create "$@" && rt start "${!#}"
}
# ctr_output ID / ctr_errors ID: what the container (and the runtime)
# wrote to stdout / stderr of a ctr_create'd container.
ctr_output() { cat "$TESTDIR/$1.out"; }
ctr_errors() { cat "$TESTDIR/$1.err"; }

# rt_run [RUN OPTIONS...] ID: a foreground `run` of $BUNDLE (stdin
# /dev/null); use it as `run rt_run ID`.
rt_run() {
  local id=${!#} a have_bundle=0
  for a in "$@"; do
    case $a in
      -b | --bundle | --bundle=*) have_bundle=1 ;;
    esac
  done
  local extra=()
  [ "$have_bundle" -eq 1 ] || extra=(--bundle "$BUNDLE")
  rt run "${extra[@]}" "$@" </dev/null
}

container_state() { rt state "$1" 2>/dev/null; }
container_status() { rt state "$1" 2>/dev/null | jq -r '.status // empty'; }
container_pid() { rt state "$1" 2>/dev/null | jq -r '.pid // empty'; }
_status_is() { [ "$(container_status "$1")" = "$2" ]; }
# wait_for_status ID STATUS
wait_for_status() { wait_for _status_is "$1" "$2"; }
_container_absent() { ! rt state "$1" >/dev/null 2>&1; }
wait_for_container_gone() { wait_for _container_absent "$1"; }

# cgroup_dir CONTROLLER CGROUPS_PATH: the v1 directory of a cgroupsPath.
cgroup_dir() {
  echo "/sys/fs/cgroup/$1/${2#/}"
}

# mounts_snapshot: host mount points, one per line (ip netns bookkeeping
# under /run/netns excluded: tests create network namespaces).
mounts_snapshot() {
  awk '$5 !~ "^/run/netns" {print $5}' /proc/self/mountinfo | sort
}

# leaked_mounts: host mounts left by this test's containers: any host
# mount point in this test's directories or the shared rootfs or naming
# the container id, and any mount stacked since setup on the system mount
# points a runtime works with (/, /proc, /sys, /dev...).  Other new host
# mounts are not looked at: other activity on the machine makes them.
# (Prefer assert_no_leaked_mounts, which tolerates a transient mount.)
leaked_mounts() {
  {
    comm -13 <(printf '%s\n' "$SKIFF_MOUNTS_BEFORE") <(mounts_snapshot) |
      grep -E '^/$|^/(proc|sys|dev)(/|$)' || true
    awk '{print $5}' /proc/self/mountinfo |
      grep -F -e "$TESTDIR" -e "$SHORT_DIR" -e "$ROOTFS" -e "$CID" || true
  } | sort -u
}

_no_leaked_mounts() { [ -z "$(leaked_mounts)" ]; }
# assert_no_leaked_mounts: fails (listing them) if mounts stay leaked.
assert_no_leaked_mounts() {
  poll_until 5 _no_leaked_mounts 2>/dev/null || fail "mounts left behind: $(leaked_mounts)"
}

# track_pid PID: a host process that teardown must kill.
track_pid() { SKIFF_PIDS+=("$1"); }
# track_cgroup PATH: a cgroupsPath that teardown must remove if left.
track_cgroup() { SKIFF_CGROUPS+=("$1"); }

# netns_add NAME: creates a named network namespace removed at teardown.
netns_add() {
  ip netns add "$1" || return 1
  SKIFF_NETNS+=("$1")
}

# Why the tests of this file must be skipped, decided once in setup_file:
# bats 1.8 reports a `skip` in setup_file as a failure, so setup_file only
# records the reason and each test's setup() skips.
skiff_check_skip() {
  SKIFF_SKIP_REASON=
  if [ "$(id -u)" -ne 0 ]; then
    SKIFF_SKIP_REASON="integration tests need root"
  elif [ -n "${SKIFF_SKIP_INTEGRATION:-}" ]; then
    # make distcheck runs them once more; scripts/run-tests already did.
    SKIFF_SKIP_REASON="SKIFF_SKIP_INTEGRATION is set"
  fi
  export SKIFF_SKIP_REASON
}

# skiff_require_root: in setup(), skips when setup_file said so.
skiff_require_root() {
  if [ -n "${SKIFF_SKIP_REASON:-}" ]; then
    skip "$SKIFF_SKIP_REASON"
  fi
}

# recvtty_bin: prints the path of the recvtty helper, building it into
# $SKIFF_TEST_TMP from recvtty.c when it has not been built.
recvtty_bin() {
  local c
  for c in "${RECVTTY:-}" "$SKIFF_LIB_DIR/recvtty" "$SKIFF_TEST_TMP/recvtty"; do
    if [ -n "$c" ] && [ -x "$c" ]; then
      echo "$c"
      return 0
    fi
  done
  local cc=${CC:-cc}
  command -v "$cc" >/dev/null 2>&1 || cc=gcc
  local out=$SKIFF_TEST_TMP/recvtty tmp=$SKIFF_TEST_TMP/recvtty.$$
  "$cc" -O2 -Wall -o "$tmp" "$SKIFF_LIB_DIR/recvtty.c" >&2 || return 1
  mv -f "$tmp" "$out" && echo "$out"
}

# start_recvtty SOCKET OUTFILE [recvtty options]: starts recvtty in the
# background (stdin /dev/null unless RECVTTY_STDIN names a file), output
# to OUTFILE; waits until SOCKET listens.  Sets RECVTTY_PID.
start_recvtty() {
  local sock=$1 out=$2
  shift 2
  local bin
  bin=$(recvtty_bin) || fail "cannot build recvtty" || return 1
  "$bin" "$@" "$sock" <"${RECVTTY_STDIN:-/dev/null}" >"$out" 2>"$out.err" 3>&- &
  RECVTTY_PID=$!
  track_pid "$RECVTTY_PID"
  wait_for_socket "$sock"
}

# wait_recvtty: waits (with the poll deadline) for recvtty to end, that is
# for the terminal to hang up; returns recvtty's exit status.
wait_recvtty() {
  wait_for pid_dead "$RECVTTY_PID" || return 1
  wait "$RECVTTY_PID"
}

# ---------------------------------------------------------------------------
# setup and teardown

skiff_setup_file() {
  skiff_check_skip
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  if [ -z "${SKIFF_RUNTIME:-}" ]; then
    if [ -x "$SKIFF_LIB_DIR/../../skiff-runtime" ]; then
      SKIFF_RUNTIME=$(cd "$SKIFF_LIB_DIR/../.." && pwd)/skiff-runtime
    else
      fail "SKIFF_RUNTIME is not set (point it at the runtime under test)"
      return 1
    fi
  fi
  if ! command -v "$SKIFF_RUNTIME" >/dev/null 2>&1; then
    fail "SKIFF_RUNTIME=$SKIFF_RUNTIME is not executable"
    return 1
  fi
  # Tests change directory: make a relative path absolute.
  case $SKIFF_RUNTIME in
    /*) ;;
    */*) SKIFF_RUNTIME=$(cd "$(dirname "$SKIFF_RUNTIME")" && pwd)/$(basename "$SKIFF_RUNTIME") ;;
  esac
  export SKIFF_RUNTIME
  command -v jq >/dev/null || { fail "jq is needed (apt-get install jq)"; return 1; }
  if [ -z "${SKIFF_TEST_TMP:-}" ]; then
    SKIFF_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/skiff-tests.XXXXXX")
    export SKIFF_TEST_TMP_OWNED=1
  fi
  mkdir -p "$SKIFF_TEST_TMP"
  SKIFF_TEST_TMP=$(cd "$SKIFF_TEST_TMP" && pwd)
  # Containers with a user namespace must be able to reach the rootfs.
  chmod 755 "$SKIFF_TEST_TMP"
  export SKIFF_TEST_TMP
  "$SKIFF_LIB_DIR/make-rootfs.sh" "$SKIFF_TEST_TMP/rootfs"
}

skiff_teardown_file() {
  if [ "${SKIFF_TEST_TMP_OWNED:-}" = 1 ] && [ -n "${SKIFF_TEST_TMP:-}" ]; then
    if ! grep -qF "$SKIFF_TEST_TMP" /proc/self/mountinfo; then
      rm -rf --one-file-system "$SKIFF_TEST_TMP"
    fi
  fi
}

skiff_setup() {
  skiff_require_root
  if [ -z "${SKIFF_TEST_TMP:-}" ] || [ ! -f "$SKIFF_TEST_TMP/rootfs/.skiff-rootfs-v2" ]; then
    skiff_setup_file
  fi
  ROOTFS=$SKIFF_TEST_TMP/rootfs
  TESTDIR=$(mktemp -d "$SKIFF_TEST_TMP/t.XXXXXX")
  chmod 755 "$TESTDIR"
  TEST_UID=${TESTDIR##*.}
  TEST_UID=${TEST_UID,,} # lower case: names made from it stay valid everywhere
  CID=skt-$TEST_UID
  RT_ROOT=$TESTDIR/root
  mkdir -p "$RT_ROOT"
  BUNDLE=$TESTDIR/bundle
  mkdir -p "$BUNDLE"
  SHORT_DIR=$(mktemp -d /tmp/skt.XXXXXX)
  chmod 755 "$SHORT_DIR"
  SKIFF_CONTAINERS=()
  SKIFF_PIDS=()
  SKIFF_CGROUPS=()
  SKIFF_NETNS=()
  SKIFF_EXTRA_RUNTIMES=()
  SKIFF_BUNDLE_SEQ=0
  SKIFF_MOUNTS_BEFORE=$(mounts_snapshot)
}

# _delete_all FUNC: force-deletes every container FUNC (a function taking
# runtime arguments, like rt) knows about, killing by PID if that fails.
_delete_all() {
  local fn=$1 id pid ids
  ids=$({
    printf '%s\n' "${SKIFF_CONTAINERS[@]}"
    "$fn" list -q 2>/dev/null
  } | sort -u)
  for id in $ids; do
    [ -n "$id" ] || continue
    "$fn" state "$id" >/dev/null 2>&1 || continue
    pid=$("$fn" state "$id" 2>/dev/null | jq -r '.pid // 0' 2>/dev/null)
    if ! "$fn" delete -f "$id" >/dev/null 2>&1; then
      [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null && kill -KILL "$pid" 2>/dev/null
      poll_until 5 pid_dead "$pid" 2>/dev/null
      "$fn" delete -f "$id" >/dev/null 2>&1 || echo "teardown: cannot delete $id" >&2
    fi
    if [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null; then
      poll_until 5 pid_dead "$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
  done
}

_remove_cgroup() {
  local path=${1#/} dir pids p
  [ -n "$path" ] || return 0
  for dir in /sys/fs/cgroup/*/"$path"; do
    [ -d "$dir" ] || continue
    pids=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    for p in $pids; do poll_until 5 pid_dead "$p" 2>/dev/null; done
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
  done
}

skiff_teardown() {
  local fn p n
  [ -n "${TESTDIR:-}" ] || return 0
  _delete_all rt
  for fn in "${SKIFF_EXTRA_RUNTIMES[@]}"; do
    _delete_all "$fn"
  done
  for p in "${SKIFF_PIDS[@]}"; do
    kill -KILL "$p" 2>/dev/null
  done
  for p in "${SKIFF_PIDS[@]}"; do
    wait "$p" 2>/dev/null
    poll_until 5 pid_dead "$p" 2>/dev/null
  done
  for p in "${SKIFF_CGROUPS[@]}"; do
    _remove_cgroup "$p"
  done
  for n in "${SKIFF_NETNS[@]}"; do
    ip netns delete "$n" 2>/dev/null
  done
  # Never rm -rf through a mount.
  awk '{print $5}' /proc/self/mountinfo | grep -F -e "$TESTDIR" -e "$SHORT_DIR" | sort -r |
    while IFS= read -r m; do
      umount -l "$m" 2>/dev/null
    done
  rm -rf --one-file-system "$TESTDIR" "$SHORT_DIR"
  return 0
}

setup_file() { skiff_setup_file; }
teardown_file() { skiff_teardown_file; }
setup() { skiff_setup; }
teardown() { skiff_teardown; }
