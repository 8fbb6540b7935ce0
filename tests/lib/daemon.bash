# A skiffd of its own for each test file: own --root, --exec-root, socket
# and pid file, its own network namespace (a test-bed host: the default
# bridge, its nftables table and forwarding live there, never in the
# machine's own namespace), an "alpine" image imported from the busybox
# rootfs, and a teardown that leaves no process, mount, netns or cgroup
# behind.  testbed.bash runs several of these, one per test-bed host.
#
# Load after helpers:   load ../lib/helpers
#                       load ../lib/daemon
# Environment (set by `make check`): SKIFFD, SKIFF, SKIFF_SHIM, SKIFF_INIT,
# SKIFF_IMAGE_HELPER, SKIFF_SECCOMP_PROFILE.
#
# The current daemon is described by D_DIR (its files: root, run,
# skiff.sock, skiffd.log, skiffd.pid, daemon.json), D_NETNS (its network
# namespace) and D_HOSTNAME (optional: a UTS namespace of its own with this
# host name); daemon_use sets them.
#
# Functions: daemon_setup_file, daemon_prepare, daemon_use, daemon_start,
# daemon_stop, daemon_kill9, daemon_cleanup, daemon_remove_containers and
# daemon_remove_networks (a test's teardown), skiff (the CLI on this daemon),
# api (curl on the socket), import_alpine, in_host (a command in the
# daemon's network namespace), daemon_helper_pids (its skiff-image processes
# running an operation), daemon_image_server_pid (skiff-image's fork server),
# image_with_blob.
# D_SKIFFD_OPTS: more options for skiffd (split on spaces).

_find_built() {
  local var=$1 name=$2
  if [ -z "${!var:-}" ] && [ -x "$SKIFF_LIB_DIR/../../$name" ]; then
    printf -v "$var" '%s' "$(cd "$SKIFF_LIB_DIR/../.." && pwd)/$name"
  fi
  [ -n "${!var:-}" ] || { fail "$var is not set"; return 1; }
  export "${var?}"
}

# daemon_prepare: the programs every daemon of this file needs.
daemon_prepare() {
  _find_built SKIFFD skiffd && _find_built SKIFF skiff && _find_built SKIFF_SHIM skiff-shim &&
    _find_built SKIFF_INIT skiff-init && _find_built SKIFF_IMAGE_HELPER skiff-image || return 1
  : "${SKIFF_SECCOMP_PROFILE:=$SKIFF_LIB_DIR/../../data/seccomp-default.json}"
  export SKIFF_SECCOMP_PROFILE
  command -v curl >/dev/null || { fail "curl is needed (apt-get install curl)"; return 1; }
}

# daemon_use DIR NETNS [HOSTNAME]: makes the daemon whose files are in DIR
# and which runs in NETNS the current one (skiff, api, in_host,
# daemon_start... act on it).
daemon_use() {
  D_DIR=$1
  D_ROOT=$D_DIR/root
  D_EXEC=$D_DIR/run
  D_SOCK=$D_DIR/skiff.sock
  D_LOG=$D_DIR/skiffd.log
  D_NETNS=$2
  D_HOSTNAME=${3:-}
  D_PID=
  export D_DIR D_ROOT D_EXEC D_SOCK D_LOG D_NETNS D_HOSTNAME D_PID
}

daemon_setup_file() {
  skiff_setup_file || return 1
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  daemon_prepare || return 1
  # Short paths: unix socket paths are limited to 107 bytes.
  local dir
  dir=$(mktemp -d /tmp/skd.XXXXXX) || return 1
  daemon_use "$dir" "skd-${dir##*.}"
  echo '{}' >"$D_DIR/daemon.json"
  ip netns add "$D_NETNS" || return 1
  ip -n "$D_NETNS" link set lo up
  daemon_start
  import_alpine
}

daemon_teardown_file() {
  daemon_cleanup
  skiff_teardown_file
}

_daemon_pinged() { curl -sf --unix-socket "$D_SOCK" http://x/_ping >/dev/null 2>&1; }

daemon_start() {
  # nsenter, not `ip netns exec`, which remounts /sys and hides the cgroups.
  local uts=()
  [ -z "${D_HOSTNAME:-}" ] || uts=(unshare --uts -- sh -c 'hostname "$0" && exec "$@"' "$D_HOSTNAME")
  nsenter --net="/run/netns/$D_NETNS" "${uts[@]}" "$SKIFFD" -H "unix://$D_SOCK" --root "$D_ROOT" --exec-root "$D_EXEC" \
    --pidfile "$D_DIR/skiffd.pid" --config-file "$D_DIR/daemon.json" --log-level debug --shim "$SKIFF_SHIM" \
    --init-path "$SKIFF_INIT" --image-helper "$SKIFF_IMAGE_HELPER" --seccomp-profile "$SKIFF_SECCOMP_PROFILE" \
    ${D_SKIFFD_OPTS:-} >>"$D_LOG" 2>&1 3>&- &
  D_PID=$!
  disown "$D_PID" 2>/dev/null || true # no job-control noise when it is killed
  export D_PID
  poll_until 20 _daemon_pinged || { cat "$D_LOG" >&2; return 1; }
}

# The daemon's pid: a test that restarted it ran in a subshell, so the
# pid file is the truth, not $D_PID.
_daemon_pid() {
  local pid
  pid=$(cat "$D_DIR/skiffd.pid" 2>/dev/null) || pid=${D_PID:-}
  echo "$pid"
}

daemon_stop() {
  local pid
  pid=$(_daemon_pid)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    poll_until 20 pid_dead "$pid"
  fi
  D_PID=
}

daemon_kill9() {
  local pid
  pid=$(_daemon_pid)
  kill -KILL "$pid"
  poll_until 20 pid_dead "$pid"
  D_PID=
}

# Kills every shim and container of this daemon, unmounts what it mounted
# and removes its directories.
daemon_cleanup() {
  [ -n "${D_DIR:-}" ] || return 0
  daemon_stop || true
  local f pid
  for f in "$D_EXEC"/shims/*/shim.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -d "$D_EXEC/runtime" ]; then
    for f in "$D_EXEC"/runtime/*; do
      [ -d "$f" ] || continue
      "$SKIFF_RUNTIME" --root "$D_EXEC/runtime" delete -f "$(basename "$f")" >/dev/null 2>&1 || true
    done
  fi
  for f in "$D_ROOT"/overlay/*/merged "$D_EXEC"/netns/*; do
    [ -e "$f" ] || continue
    umount -l "$f" 2>/dev/null || true
  done
  rm -rf "$D_DIR"
  [ -z "${D_NETNS:-}" ] || ip netns del "$D_NETNS" 2>/dev/null || true
  # skiffd's parent cgroup, when no other daemon still uses it (rmdir
  # removes only an empty one).
  for f in /sys/fs/cgroup/*/skiff /sys/fs/cgroup/skiff; do
    [ ! -d "$f" ] || rmdir "$f" 2>/dev/null || true
  done
  D_DIR=
}

skiff() {
  "$SKIFF" -H "unix://$D_SOCK" "$@"
}

# A test's teardown: removes every container of the daemon.
daemon_remove_containers() {
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  local ids
  ids=$(skiff ps -aq 2>/dev/null) || true
  [ -z "$ids" ] || skiff rm -f $ids >/dev/null 2>&1 || true
}

# A test's teardown, after daemon_remove_containers: removes the
# user-defined networks of the daemon.
daemon_remove_networks() {
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  skiff network prune -f >/dev/null 2>&1 || true
}

# api METHOD PATH [curl args]: prints the body; the status is in $API_STATUS.
api() {
  local method=$1 path=$2 out
  shift 2
  out=$(curl -s -w '\n%{http_code}' -X "$method" --unix-socket "$D_SOCK" "$@" "http://x$path")
  API_STATUS=${out##*$'\n'}
  printf '%s\n' "${out%$'\n'*}"
}

# The alpine stand-in: the busybox rootfs as a one-layer image with
# Cmd ["/bin/sh"], imported once per daemon.
import_alpine() {
  local tar=$SKIFF_TEST_TMP/alpine-rootfs.tar
  if [ ! -s "$tar" ]; then
    tar -C "$SKIFF_TEST_TMP/rootfs" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  fi
  skiff import -c 'CMD ["/bin/sh"]' "$tar" alpine:latest >/dev/null
}

# State.Status of a container, through the API.
ctr_status() { api GET "/containers/$1/json" | jq -r '.State.Status // empty'; }
_ctr_status_is() { [ "$(ctr_status "$1")" = "$2" ]; }
wait_ctr_status() { wait_for _ctr_status_is "$1" "$2"; }

# A command in the test-bed host's network namespace.
in_host() { nsenter --net="/run/netns/$D_NETNS" "$@"; }

# The skiff-image children of the daemon (by parent pid, never by name).
# The skiff-image processes running an operation: skiffd logs "skiff-image
# OP: pid N" for each (the daemons of the tests log at debug level); with
# the fork server they are its children, not skiffd's.
daemon_helper_pids() {
  local p
  for p in $(sed -n 's/.* debug: skiff-image [a-z]*: pid \([0-9]*\)$/\1/p' "$D_LOG" | sort -u); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = skiff-image ] && echo "$p"
  done
  return 0
}
# The fork server (skiff-image --fork-server), if one runs.
daemon_image_server_pid() { ps -o pid=,comm= --ppid "$(_daemon_pid)" | awk '$2 == "skiff-image-srv" { print $1 }'; }

# image_with_blob NAME MIB DIR: an image NAME (the alpine rootfs and a /blob
# of MIB MiB of random bytes), saved to DIR/image.tar and removed again.
image_with_blob() {
  local name=$1 mib=$2 dir=$3
  mkdir -p "$dir/rootfs"
  cp -a "$SKIFF_TEST_TMP/rootfs/." "$dir/rootfs/"
  head -c $((mib << 20)) /dev/urandom >"$dir/rootfs/blob"
  tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" . &&
    skiff import "$dir/rootfs.tar" "$name" >/dev/null &&
    skiff save -o "$dir/image.tar" "$name" &&
    skiff rmi "$name" >/dev/null
}
