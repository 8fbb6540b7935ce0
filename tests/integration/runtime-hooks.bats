#!/usr/bin/env bats
# OCI hooks: prestart, createRuntime, createContainer, startContainer,
# poststart, poststop.
#
# createContainer and startContainer hooks run in the container's
# namespaces; startContainer after pivot_root, so its path must resolve in
# the container.  The hook directory is therefore a host directory under
# /tmp (SHORT_DIR) that is also bind-mounted at the same path inside the
# container (under the container's own tmpfs /tmp, so the shared rootfs is
# not touched): the same script path works in both, and what a hook
# writes there is visible on the host.

load ../lib/helpers

HOOK_KINDS=(prestart createRuntime createContainer startContainer poststart poststop)

# make_hook_dir: writes $HOOKS/hook.sh, which saves its stdin (the state)
# to $HOOKS/KIND.json, its mount namespace to $HOOKS/KIND.mntns and
# appends KIND to $HOOKS/order.
make_hook_dir() {
  HOOKS=$SHORT_DIR/hooks
  mkdir -p "$HOOKS"
  chmod 777 "$HOOKS"
  cat >"$HOOKS/hook.sh" <<'EOF'
#!/bin/sh
kind=$1
dir=$2
cat >"$dir/$kind.json.tmp"
readlink /proc/self/ns/mnt >"$dir/$kind.mntns"
echo "$kind" >>"$dir/order"
mv "$dir/$kind.json.tmp" "$dir/$kind.json"
EOF
  chmod 755 "$HOOKS/hook.sh"
  cat >"$HOOKS/fail.sh" <<'EOF'
#!/bin/sh
cat >"$1"
echo "hook refuses" >&2
exit 1
EOF
  chmod 755 "$HOOKS/fail.sh"
}

# add_hook KIND SCRIPT ARGS...
add_hook() {
  local kind=$1 path=$2
  shift 2
  bundle_jq "$BUNDLE" '.hooks[$k] += [{"path": $p, "args": ([$p] + $a),
                                      "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}]' \
    --arg k "$kind" --arg p "$path" --argjson a "$(json_array "$@")"
}

# order_index KIND: line number of KIND in $HOOKS/order (0 if absent).
order_index() {
  local n
  n=$(grep -nx -- "$1" "$HOOKS/order" | head -n1 | cut -d: -f1)
  echo "${n:-0}"
}

# check_state KIND ID PID STATUS...: $HOOKS/KIND.json is a state for ID
# with PID and one of the STATUS values.
check_state() {
  local kind=$1 id=$2 pid=$3
  shift 3
  local f=$HOOKS/$kind.json
  echo "$kind: $(cat "$f")"
  jq -e --arg id "$id" --arg b "$BUNDLE" '.id == $id and .bundle == $b and (.ociVersion | type == "string")' "$f" >/dev/null ||
    fail "$kind: bad state $(cat "$f")"
  local st p
  st=$(jq -r .status "$f")
  p=$(jq -r '.pid // 0' "$f")
  if [ -n "$pid" ] && [ "$p" != "$pid" ]; then
    fail "$kind: pid $p, expected $pid"
    return 1
  fi
  local s
  for s in "$@"; do
    [ "$st" = "$s" ] && return 0
  done
  fail "$kind: status $st, expected one of: $*"
}

@test "every hook kind runs at its point with the state on stdin" {
  make_hook_dir
  make_bundle "$BUNDLE"
  bundle_add_mount "$BUNDLE" "$HOOKS" bind "$HOOKS" rbind rw
  local k
  for k in "${HOOK_KINDS[@]}"; do
    add_hook "$k" "$HOOKS/hook.sh" "$k" "$HOOKS"
  done
  bundle_set_args "$BUNDLE" sh -c "echo process >>$HOOKS/order; exec sleep 1000"

  # create: prestart, createRuntime, createContainer; not the others.
  ctr_create "$CID"
  local pid
  pid=$(container_pid "$CID")
  for k in prestart createRuntime createContainer; do
    [ -e "$HOOKS/$k.json" ] || fail "$k did not run during create"
  done
  for k in startContainer poststart poststop; do
    [ ! -e "$HOOKS/$k.json" ] || fail "$k ran during create"
  done
  [ "$(order_index process)" -eq 0 ]
  check_state prestart "$CID" "$pid" creating created
  check_state createRuntime "$CID" "$pid" creating created
  check_state createContainer "$CID" "$pid" creating created

  # Namespaces: prestart and createRuntime in the runtime's, createContainer
  # in the container's.
  local host_mnt ctr_mnt
  host_mnt=$(readlink /proc/self/ns/mnt)
  ctr_mnt=$(readlink "/proc/$pid/ns/mnt")
  [ "$ctr_mnt" != "$host_mnt" ]
  [ "$(cat "$HOOKS/prestart.mntns")" = "$host_mnt" ]
  [ "$(cat "$HOOKS/createRuntime.mntns")" = "$host_mnt" ]
  [ "$(cat "$HOOKS/createContainer.mntns")" = "$ctr_mnt" ]

  # start: startContainer (in the container, before the process), poststart.
  rt start "$CID"
  wait_for_file "$HOOKS/startContainer.json"
  wait_for_file "$HOOKS/poststart.json"
  wait_for_grep "$HOOKS/order" '^process$'
  check_state startContainer "$CID" "$pid" created running
  check_state poststart "$CID" "$pid" running
  [ "$(cat "$HOOKS/startContainer.mntns")" = "$ctr_mnt" ]
  [ "$(cat "$HOOKS/poststart.mntns")" = "$host_mnt" ]
  [ ! -e "$HOOKS/poststop.json" ]

  # Order.
  cat "$HOOKS/order"
  [ "$(order_index prestart)" -lt "$(order_index createContainer)" ]
  [ "$(order_index createRuntime)" -lt "$(order_index createContainer)" ]
  [ "$(order_index createContainer)" -lt "$(order_index startContainer)" ]
  [ "$(order_index startContainer)" -lt "$(order_index process)" ]
  [ "$(order_index startContainer)" -lt "$(order_index poststart)" ]

  # poststop runs on delete, in the runtime's namespace.
  rt kill "$CID" KILL
  wait_for_status "$CID" stopped
  [ ! -e "$HOOKS/poststop.json" ]
  rt delete "$CID"
  wait_for_file "$HOOKS/poststop.json"
  check_state poststop "$CID" "" stopped
  [ "$(cat "$HOOKS/poststop.mntns")" = "$host_mnt" ]
  [ "$(tail -n1 "$HOOKS/order")" = poststop ]
  # Each hook ran once.
  for k in "${HOOK_KINDS[@]}"; do
    [ "$(grep -cx "$k" "$HOOKS/order")" -eq 1 ] || fail "$k ran $(grep -cx "$k" "$HOOKS/order") times"
  done
}

@test "hooks get their args and env" {
  make_hook_dir
  cat >"$HOOKS/args.sh" <<'EOF'
#!/bin/sh
echo "$0|$1|$2|$HOOK_VAR" >"$3"
EOF
  chmod 755 "$HOOKS/args.sh"
  make_bundle "$BUNDLE"
  bundle_jq "$BUNDLE" '.hooks.createRuntime = [{"path": $p, "args": ["argv0-name", "one", "two words", $out],
                                                "env": ["HOOK_VAR=hook-env"]}]' \
    --arg p "$HOOKS/args.sh" --arg out "$HOOKS/args.out"
  bundle_set_args "$BUNDLE" true
  run rt_run "$CID"
  [ "$status" -eq 0 ]
  cat "$HOOKS/args.out"
  [ "$(cut -d'|' -f2- "$HOOKS/args.out")" = "one|two words|hook-env" ]
}

@test "a failing createRuntime hook makes create fail and leaves nothing behind" {
  make_hook_dir
  make_bundle "$BUNDLE"
  local cgpath=$BUNDLE_CGROUP
  add_hook createRuntime "$HOOKS/fail.sh" "$HOOKS/failed.json"
  add_hook poststart "$HOOKS/hook.sh" poststart "$HOOKS"
  bundle_set_args "$BUNDLE" sh -c "echo process >>$HOOKS/order; exec sleep 1000"

  run ctr_create "$CID"
  echo "$output"
  [ "$status" -eq 1 ]
  [ -s "$TESTDIR/$CID.err" ]

  # The hook did run, with a state naming the container's init ...
  [ -s "$HOOKS/failed.json" ]
  local pid
  pid=$(jq -r '.pid // 0' "$HOOKS/failed.json")
  [ "$(jq -r .id "$HOOKS/failed.json")" = "$CID" ]
  # ... which is gone, as is everything else.
  if [ "$pid" -gt 0 ]; then
    wait_for_pid_exit "$pid"
  fi
  run rt state "$CID"
  [ "$status" -eq 1 ]
  [ -z "$(rt list -q)" ]
  [ -z "$(find "$RT_ROOT" -name "*$CID*")" ]
  local ctl
  for ctl in /sys/fs/cgroup/*/; do
    [ ! -e "$ctl${cgpath#/}" ] || fail "cgroup left behind: $ctl${cgpath#/}"
  done
  assert_no_leaked_mounts
  [ "$(order_index process)" -eq 0 ]
  [ ! -e "$HOOKS/poststart.json" ]
}

@test "poststop runs when a foreground run ends" {
  make_hook_dir
  make_bundle "$BUNDLE"
  add_hook poststop "$HOOKS/hook.sh" poststop "$HOOKS"
  bundle_set_args "$BUNDLE" sh -c 'exit 3'
  run rt_run "$CID"
  [ "$status" -eq 3 ]
  wait_for_file "$HOOKS/poststop.json"
  check_state poststop "$CID" "" stopped
}
