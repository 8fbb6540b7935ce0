#!/usr/bin/env bats
# linux.resources: limits land in the cgroup (v1 controllers under
# /sys/fs/cgroup/<controller>/<cgroupsPath>) and take effect; the cgroups
# are removed on delete.

load ../lib/helpers

MIB=$((1024 * 1024))

# memory_bundle BYTES: $BUNDLE with memory.limit = BYTES and, where the
# kernel accounts swap (memory.memsw.*), memory.swap = BYTES too (no swap).
memory_bundle() {
  if [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
    make_bundle "$BUNDLE" '.linux.resources.memory = {"limit": $l, "swap": $l}' --argjson l "$1"
  else
    make_bundle "$BUNDLE" '.linux.resources.memory = {"limit": $l}' --argjson l "$1"
  fi
}

# cg CONTROLLER FILE: path of FILE in this bundle's cgroup.
cg() {
  echo "$(cgroup_dir "$1" "$BUNDLE_CGROUP")/$2"
}

# assert_cgroups_removed CGROUPS_PATH
assert_cgroups_removed() {
  local ctl
  for ctl in /sys/fs/cgroup/*/; do
    [ ! -e "$ctl${1#/}" ] || fail "cgroup left behind after delete: $ctl${1#/}"
  done
}

@test "memory limit: an allocator beyond it is OOM-killed" {
  memory_bundle $((32 * MIB))
  SHARED=$(bundle_add_shared "$BUNDLE")
  bundle_set_args "$BUNDLE" sh -c '
    dd if=/dev/zero of=/dev/null bs=100M count=1
    echo $? >/shared/rc
    exec sleep 1000'
  local cgpath=$BUNDLE_CGROUP
  ctr_start "$CID"
  wait_for_nonempty "$SHARED/rc"
  ctr_errors "$CID"

  [ "$(cat "$(cg memory memory.limit_in_bytes)")" -eq $((32 * MIB)) ]
  if [ -e "$(cg memory memory.memsw.limit_in_bytes)" ]; then
    [ "$(cat "$(cg memory memory.memsw.limit_in_bytes)")" -eq $((32 * MIB)) ]
  fi
  # dd was killed by SIGKILL ...
  [ "$(cat "$SHARED/rc")" -eq 137 ]
  # ... by the OOM killer of this cgroup.
  cat "$(cg memory memory.oom_control)"
  [ "$(awk '$1 == "oom_kill" {print $2}' "$(cg memory memory.oom_control)")" -ge 1 ]
  [ "$(cat "$(cg memory memory.max_usage_in_bytes)")" -le $((32 * MIB)) ]

  rt delete -f "$CID"
  assert_cgroups_removed "$cgpath"
}

@test "memory limit: run exits 137 when the container process is OOM-killed" {
  memory_bundle $((32 * MIB))
  bundle_set_args "$BUNDLE" dd if=/dev/zero of=/dev/null bs=100M count=1
  run rt_run "$CID"
  echo "$output"
  [ "$status" -eq 137 ]

  # The same allocation fits without the limit.
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" dd if=/dev/zero of=/dev/null bs=100M count=1
  run rt_run "$CID"
  [ "$status" -eq 0 ]
}

@test "pids limit stops a fork bomb" {
  make_bundle "$BUNDLE" '.linux.resources.pids = {"limit": 10}'
  SHARED=$(bundle_add_shared "$BUNDLE")
  # Forks up to 30 sleepers in a subshell; fork failure ends the subshell.
  # Only builtins and exec after that: no fork is left to spare.
  bundle_set_args "$BUNDLE" sh -c '
    (
      i=0
      while [ $i -lt 30 ]; do
        sleep 1000 &
        i=$((i + 1))
      done
    ) 2>/shared/err
    echo $? >/shared/rc
    exec sleep 1000'
  local cgpath=$BUNDLE_CGROUP
  ctr_start "$CID"
  wait_for_nonempty "$SHARED/rc"
  cat "$SHARED/err"

  [ "$(cat "$(cg pids pids.max)")" = 10 ]
  # The subshell failed to fork ...
  [ "$(cat "$SHARED/rc")" -ne 0 ]
  grep -Eqi "fork|Resource temporarily unavailable" "$SHARED/err"
  # ... the cgroup refused forks, and never held more than 10 tasks.
  [ "$(awk '$1 == "max" {print $2}' "$(cg pids pids.events)")" -ge 1 ]
  local n
  n=$(wc -l <"$(cg pids cgroup.procs)")
  [ "$n" -le 10 ]
  [ "$n" -ge 5 ]
  [ "$(cat "$(cg pids pids.current)")" -le 10 ]

  rt delete -f "$CID"
  assert_cgroups_removed "$cgpath"
}

@test "cpu shares, quota, period and cpuset land in the cgroup" {
  local cpu=0
  # Use the last CPU, so a runtime that ignores cpus is caught on SMP.
  cpu=$(($(nproc) - 1))
  local mems
  mems=$(sed 's/[-,].*//' </sys/fs/cgroup/cpuset/cpuset.mems)
  make_bundle "$BUNDLE" '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000,
                                                  "cpus": $cpus, "mems": $mems}' \
    --arg cpus "$cpu" --arg mems "$mems"
  SHARED=$(bundle_add_shared "$BUNDLE")
  bundle_set_args "$BUNDLE" sh -c 'grep Cpus_allowed_list /proc/self/status >/shared/cpus; exec sleep 1000'
  local cgpath=$BUNDLE_CGROUP
  ctr_start "$CID"
  wait_for_nonempty "$SHARED/cpus"

  [ "$(cat "$(cg cpu cpu.shares)")" = 512 ]
  [ "$(cat "$(cg cpu cpu.cfs_quota_us)")" = 50000 ]
  [ "$(cat "$(cg cpu cpu.cfs_period_us)")" = 100000 ]
  [ "$(cat "$(cg cpuset cpuset.cpus)")" = "$cpu" ]
  [ "$(cat "$(cg cpuset cpuset.mems)")" = "$mems" ]
  [ "$(awk '{print $2}' "$SHARED/cpus")" = "$cpu" ]
  # The process is in those cgroups.
  local pid
  pid=$(container_pid "$CID")
  grep -qx "$pid" "$(cg cpu cgroup.procs)"
  grep -qx "$pid" "$(cg cpuset cgroup.procs)"

  rt kill "$CID" KILL
  wait_for_status "$CID" stopped
  rt delete "$CID"
  assert_cgroups_removed "$cgpath"
}

@test "a nested cgroupsPath is created and removed" {
  make_bundle "$BUNDLE" '.linux.cgroupsPath += "/nested" | .linux.resources.pids = {"limit": 42}'
  bundle_set_args "$BUNDLE" sleep 1000
  local top=$BUNDLE_CGROUP
  ctr_start "$CID"
  wait_for_status "$CID" running
  [ "$(cat "$(cgroup_dir pids "$top/nested")/pids.max")" = 42 ]
  grep -qx "$(container_pid "$CID")" "$(cgroup_dir pids "$top/nested")/cgroup.procs"
  rt delete -f "$CID"
  [ ! -e "$(cgroup_dir pids "$top/nested")" ]
  [ ! -e "$(cgroup_dir memory "$top/nested")" ]
}
