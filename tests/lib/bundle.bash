# Bundle (config.json) builders for the integration tests.  Needs jq.
#
#   make_bundle DIR [JQ_FILTER [JQ ARGS...]]
#       Writes DIR/config.json: the runtime's own default spec
#       (`$SKIFF_RUNTIME spec -b DIR`) edited so that
#         root.path          = the shared busybox rootfs ($ROOTFS), read-only
#         process.terminal   = false
#         process.args       = ["sh"] unless changed with bundle_set_args
#         linux.cgroupsPath  = "/skiff-test-<unique>" (also left in the
#                              variable BUNDLE_CGROUP; teardown removes it
#                              if the runtime did not)
#         a writable tmpfs on /tmp (the rootfs is shared between tests)
#       then applies JQ_FILTER (with JQ ARGS, e.g. --arg x y).
#
#   bundle_jq DIR FILTER [JQ ARGS...]   edit DIR/config.json in place
#   bundle_set_args DIR ARGS...         process.args = ARGS
#   bundle_set_env DIR K=V...           add or replace process.env entries
#   bundle_add_mount DIR DEST TYPE SOURCE [OPTION...]
#   bundle_add_shared DIR [DEST]        bind DIR/shared (rw) at DEST
#                                       (default /shared); echoes host path
#
# Mount destinations must exist in the rootfs (it has /mnt, /srv, /opt,
# /shared) or lie under the container's tmpfs /tmp: the rootfs is shared
# and a runtime must not have to create mount points in it.
#   bundle_add_namespace DIR TYPE [PATH]
#   bundle_remove_namespace DIR TYPE
#   bundle_add_hook DIR KIND PATH [ARGS...]  (KIND: prestart, createRuntime,
#                                       createContainer, startContainer,
#                                       poststart, poststop)
#   bundle_cgroup DIR                   echoes linux.cgroupsPath

# json_array ARGS...: prints ARGS as a JSON array of strings (safe for
# arguments that look like jq options, such as -c).
json_array() {
  local a
  for a in "$@"; do
    jq -n --arg v "$a" '$v'
  done | jq -s -c .
}

bundle_jq() {
  local dir=$1 filter=$2
  shift 2
  local cfg=$dir/config.json
  jq "$@" "$filter" "$cfg" >"$cfg.new" || {
    rm -f "$cfg.new"
    echo "bundle_jq: jq failed on $cfg with: $filter" >&2
    return 1
  }
  mv -f "$cfg.new" "$cfg"
}

make_bundle() {
  local dir=$1
  shift
  local filter=${1:-.}
  [ $# -gt 0 ] && shift
  mkdir -p "$dir"
  chmod 755 "$dir"
  dir=$(cd "$dir" && pwd)
  rm -f "$dir/config.json"
  "$SKIFF_RUNTIME" spec -b "$dir" 3>&- || {
    echo "make_bundle: $SKIFF_RUNTIME spec -b $dir failed" >&2
    return 1
  }
  [ -s "$dir/config.json" ] || {
    echo "make_bundle: $SKIFF_RUNTIME spec wrote no $dir/config.json" >&2
    return 1
  }
  SKIFF_BUNDLE_SEQ=$((${SKIFF_BUNDLE_SEQ:-0} + 1))
  BUNDLE_CGROUP=/skiff-test-${TEST_UID:-$$}-$SKIFF_BUNDLE_SEQ
  if declare -F track_cgroup >/dev/null; then
    track_cgroup "$BUNDLE_CGROUP"
  fi
  bundle_jq "$dir" '
    .root.path = $rootfs
    | .root.readonly = true
    | .process.terminal = false
    | .process.args = ["sh"]
    | .linux.cgroupsPath = $cg
    | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                   "options": ["nosuid", "nodev", "mode=1777", "size=16m"]}]
  ' --arg rootfs "$ROOTFS" --arg cg "$BUNDLE_CGROUP" || return 1
  if [ "$filter" != . ]; then
    bundle_jq "$dir" "$filter" "$@" || return 1
  fi
}

bundle_cgroup() {
  jq -r '.linux.cgroupsPath // empty' "$1/config.json"
}

bundle_set_args() {
  local dir=$1
  shift
  bundle_jq "$dir" '.process.args = $a' --argjson a "$(json_array "$@")"
}

bundle_set_env() {
  local dir=$1 kv
  shift
  for kv in "$@"; do
    bundle_jq "$dir" '.process.env = ([.process.env[]? | select(startswith(($kv | split("=")[0]) + "=") | not)] + [$kv])' \
      --arg kv "$kv" || return 1
  done
}

bundle_add_mount() {
  local dir=$1 dest=$2 type=$3 src=$4
  shift 4
  bundle_jq "$dir" '.mounts += [{"destination": $d, "type": $t, "source": $s, "options": $o}]' \
    --arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$(json_array "$@")"
}

bundle_add_shared() {
  local dir=$1 dest=${2:-/shared}
  mkdir -p "$dir/shared"
  chmod 777 "$dir/shared"
  bundle_add_mount "$dir" "$dest" bind "$dir/shared" rbind rw >/dev/null || return 1
  echo "$dir/shared"
}

bundle_add_namespace() {
  local dir=$1 type=$2 path=${3:-}
  if [ -n "$path" ]; then
    bundle_jq "$dir" '.linux.namespaces = ([.linux.namespaces[]? | select(.type != $t)] + [{"type": $t, "path": $p}])' \
      --arg t "$type" --arg p "$path"
  else
    bundle_jq "$dir" '.linux.namespaces = ([.linux.namespaces[]? | select(.type != $t)] + [{"type": $t}])' \
      --arg t "$type"
  fi
}

bundle_remove_namespace() {
  bundle_jq "$1" '.linux.namespaces = [.linux.namespaces[]? | select(.type != $t)]' --arg t "$2"
}

bundle_add_hook() {
  local dir=$1 kind=$2 path=$3
  shift 3
  bundle_jq "$dir" '.hooks[$k] += [{"path": $p, "args": ([$p] + $a)}]' \
    --arg k "$kind" --arg p "$path" --argjson a "$(json_array "$@")"
}
