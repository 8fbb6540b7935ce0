#!/usr/bin/env bats
# What the process sees inside the container: namespaces, capabilities,
# seccomp, mounts, devices, limits and identity.

load ../lib/helpers

# run_ctr ARGS...: sets process.args of $BUNDLE and runs it in the
# foreground (bats `run`: $status, $output, $lines).
run_ctr() {
  bundle_set_args "$BUNDLE" "$@"
  run rt_run "$CID"
  echo "exit status $status; output:"
  echo "$output"
}

# cap_number NAME: the capability's bit number (linux/capability.h).
cap_number() {
  local caps=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID
    SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN
    NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE
    SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME
    SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP
    MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ
    PERFMON BPF CHECKPOINT_RESTORE)
  local i
  for i in "${!caps[@]}"; do
    if [ "CAP_${caps[$i]}" = "$1" ]; then
      echo "$i"
      return 0
    fi
  done
  fail "unknown capability $1"
}

# cap_mask NAME...: the /proc/PID/status hex mask of a set of capabilities.
cap_mask() {
  local mask=0 n c
  for c in "$@"; do
    n=$(cap_number "$c") || return 1
    mask=$((mask | (1 << n)))
  done
  printf '%016x\n' "$mask"
}

# spec_cap_mask SET: the mask of process.capabilities.SET in $BUNDLE.
spec_cap_mask() {
  local names
  mapfile -t names < <(jq -r --arg s "$1" '.process.capabilities[$s][]?' "$BUNDLE/config.json")
  cap_mask "${names[@]}"
}

# status_field FIELD: the value of FIELD in $output (a /proc/PID/status).
status_field() {
  printf '%s\n' "${lines[@]}" | awk -v f="$1:" '$1 == f {$1 = ""; sub(/^ +/, ""); print}'
}

DOCKER_CAPS=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD
  CAP_NET_RAW CAP_SETGID CAP_SETUID CAP_SETFCAP CAP_SETPCAP
  CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL CAP_AUDIT_WRITE)

@test "the command is PID 1 and ps sees only the container's processes" {
  make_bundle "$BUNDLE"
  run_ctr sh -c 'echo "pid=$$"; ps -o pid,comm; exit 0'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = pid=1 ]
  # header + sh (pid 1) + ps
  [ "${#lines[@]}" -eq 4 ]
  [ "$(echo "${lines[2]}" | awk '{print $1, $2}')" = "1 sh" ]
  [ "$(echo "${lines[3]}" | awk '{print $2}')" = ps ]
  # The host has more processes than that.
  [ "$(ls -d /proc/[0-9]* | wc -l)" -gt 2 ]
}

@test "hostname comes from the spec (own UTS namespace)" {
  local host_before
  host_before=$(hostname)
  make_bundle "$BUNDLE" '.hostname = "skiff-box"'
  run_ctr sh -c 'hostname; cat /proc/sys/kernel/hostname'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = skiff-box ]
  [ "${lines[1]}" = skiff-box ]
  [ "$(hostname)" = "$host_before" ]
}

@test "capabilities: CapEff/CapPrm/CapBnd equal the spec's sets" {
  # The table is right: Docker's default 14 capabilities.
  [ "$(cap_mask "${DOCKER_CAPS[@]}")" = 00000000a80425fb ]

  make_bundle "$BUNDLE" '
    .process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c}' \
    --argjson c "$(json_array "${DOCKER_CAPS[@]}")"
  run_ctr cat /proc/self/status
  [ "$status" -eq 0 ]
  [ "$(status_field CapEff)" = 00000000a80425fb ]
  [ "$(status_field CapPrm)" = 00000000a80425fb ]
  [ "$(status_field CapBnd)" = 00000000a80425fb ]
  [ "$(status_field CapInh)" = 0000000000000000 ]

  # The runtime's default spec: whatever it lists is what the process has.
  make_bundle "$BUNDLE"
  run_ctr cat /proc/self/status
  [ "$status" -eq 0 ]
  [ "$(status_field CapEff)" = "$(spec_cap_mask effective)" ]
  [ "$(status_field CapBnd)" = "$(spec_cap_mask bounding)" ]

  # A smaller set really drops capabilities: no CAP_CHOWN, chown fails.
  make_bundle "$BUNDLE" '
    .process.capabilities = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                             "permitted": ["CAP_KILL"]}'
  run_ctr sh -c 'grep CapEff /proc/self/status; touch /tmp/f; chown 1000 /tmp/f && echo chowned'
  [ "$(printf '%s\n' "${lines[@]}" | awk '$1 == "CapEff:" {print $2}')" = "$(cap_mask CAP_KILL)" ]
  [[ "$output" != *chowned* ]]
  [[ "$output" == *"Operation not permitted"* ]]
}

@test "seccomp: a rule with errnoRet makes mkdir fail with that errno" {
  local profile='{
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 93}]
  }'
  make_bundle "$BUNDLE" '.linux.seccomp = $p' --argjson p "$profile"
  run_ctr sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/x; echo "mkdir=$?"; touch /tmp/y && echo touched'
  [[ "$output" == *"mkdir: can't create directory '/tmp/x': Protocol not supported"* ]]
  [[ "$output" == *mkdir=1* ]]
  [[ "$output" == *touched* ]]
  [ "$(printf '%s\n' "${lines[@]}" | awk '$1 == "Seccomp:" {print $2}')" = 2 ]

  # Without the profile, the same mkdir works.
  make_bundle "$BUNDLE"
  run_ctr sh -c 'mkdir /tmp/x && echo made'
  [ "$status" -eq 0 ]
  [ "$output" = made ]
}

@test "noNewPrivileges sets NoNewPrivs in /proc/self/status" {
  make_bundle "$BUNDLE" '.process.noNewPrivileges = true'
  run_ctr cat /proc/self/status
  [ "$status" -eq 0 ]
  [ "$(status_field NoNewPrivs)" = 1 ]

  make_bundle "$BUNDLE" '.process.noNewPrivileges = false'
  run_ctr cat /proc/self/status
  [ "$status" -eq 0 ]
  [ "$(status_field NoNewPrivs)" = 0 ]
}

@test "a read-only root refuses writes" {
  make_bundle "$BUNDLE" '.root.readonly = true'
  run_ctr sh -c 'touch /x; echo "touch=$?"; touch /tmp/ok && echo tmp-writable'
  [[ "$output" == *"touch: /x: Read-only file system"* ]]
  [[ "$output" == *touch=1* ]]
  [[ "$output" == *tmp-writable* ]]
  [ ! -e "$ROOTFS/x" ]
}

@test "maskedPaths hide files and directories" {
  # /proc/kcore where the kernel has it, else another /proc file.
  local f
  for f in /proc/kcore /proc/keys /proc/timer_list; do
    [ -f "$f" ] && break
  done
  [ -f "$f" ] || skip "no maskable /proc file on this kernel"
  make_bundle "$BUNDLE" '.linux.maskedPaths = [$f, "/sys/firmware"]' --arg f "$f"
  run_ctr sh -c "stat -c %F $f; wc -c <$f; ls -A /sys/firmware | wc -l"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "character special file" ]
  [ "$(echo "${lines[1]}" | tr -d ' ')" = 0 ]
  [ "$(echo "${lines[2]}" | tr -d ' ')" = 0 ]

  # Unmasked, they are the real thing.
  make_bundle "$BUNDLE" '.linux.maskedPaths = []'
  run_ctr sh -c "stat -c %F $f; ls -A /sys/firmware | wc -l"
  [[ "${lines[0]}" == regular* ]]
  if [ -n "$(ls -A /sys/firmware)" ]; then
    [ "$(echo "${lines[1]}" | tr -d ' ')" -gt 0 ]
  fi
}

@test "readonlyPaths make /proc/sys read-only" {
  local knob=/proc/sys/net/ipv4/ip_default_ttl
  make_bundle "$BUNDLE" '.linux.readonlyPaths = ["/proc/sys"]'
  run_ctr sh -c "echo 99 >$knob && echo wrote; awk '\$5 == \"/proc/sys\" {print \"opts=\" \$6}' /proc/self/mountinfo"
  [[ "$output" == *"Read-only file system"* ]]
  [[ "$output" != *wrote* ]]
  printf '%s\n' "${lines[@]}" | grep -Eq '^opts=ro(,|$)'

  # Control: without it, root in a new network namespace may write there.
  make_bundle "$BUNDLE" '.linux.readonlyPaths = []'
  run_ctr sh -c "echo 99 >$knob && cat $knob"
  [ "$status" -eq 0 ]
  [ "$output" = 99 ]
}

@test "user namespace: uidMappings and gidMappings are applied" {
  # uid 100000 must be able to reach the rootfs.
  local d=$ROOTFS
  while [ "$d" != / ]; do
    if [ $(($(stat -c %#a "$d") & 1)) -eq 0 ]; then
      skip "$d is not searchable by others: containers in a user namespace cannot reach the rootfs"
    fi
    d=$(dirname "$d")
  done
  make_bundle "$BUNDLE" '
    .linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .mounts = [.mounts[] | select(.type != "cgroup")]'
  SHARED=$(bundle_add_shared "$BUNDLE")
  bundle_set_args "$BUNDLE" sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /shared/ready; exec sleep 1000'
  ctr_start "$CID"
  wait_for_file "$SHARED/ready"
  run ctr_output "$CID"
  echo "$output"
  [ "$(echo "${lines[0]}" | awk '{$1=$1; print}')" = "0 100000 65536" ]
  [ "$(echo "${lines[1]}" | awk '{$1=$1; print}')" = "0 100000 65536" ]
  [ "${lines[2]}" = 0 ]
  # Seen from the host, the process runs as uid/gid 100000.
  local pid
  pid=$(container_pid "$CID")
  [ "$(awk '$1 == "Uid:" {print $2}' "/proc/$pid/status")" = 100000 ]
  [ "$(awk '$1 == "Gid:" {print $2}' "/proc/$pid/status")" = 100000 ]
  [ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

@test "network namespace joined by path shows that namespace's interfaces" {
  local ns=skiff-test-$$-$TEST_UID
  netns_add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 10.199.77.1/32 dev lo
  make_bundle "$BUNDLE"
  bundle_add_namespace "$BUNDLE" network "/run/netns/$ns"
  run_ctr sh -c 'ip -o addr show; readlink /proc/self/ns/net'
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet 10.199.77.1/32"* ]]
  [ "${lines[-1]}" = "net:[$(stat -L -c %i "/run/netns/$ns")]" ]

  # Control: a new network namespace does not have that address.
  make_bundle "$BUNDLE"
  run_ctr ip -o addr show
  [[ "$output" != *10.199.77.1* ]]
}

@test "a tmpfs mount with noexec refuses to execute" {
  make_bundle "$BUNDLE"
  bundle_add_mount "$BUNDLE" /mnt tmpfs tmpfs noexec nosuid nodev size=8m
  run_ctr sh -c '
    awk "\$5 == \"/mnt\" {print \$6, \$9}" /proc/self/mountinfo
    cp /bin/busybox /mnt/true && /mnt/true; echo "mnt=$?"
    cp /bin/busybox /tmp/true && /tmp/true; echo "tmp=$?"'
  [[ "${lines[0]}" == *noexec*" tmpfs" ]]
  [[ "$output" == *"Permission denied"* ]]
  [[ "$output" == *mnt=126* ]]
  [[ "$output" == *tmp=0* ]]
}

@test "a read-only bind mount of a host directory" {
  local hostdir=$TESTDIR/hostdata
  mkdir -p "$hostdir"
  echo hello-from-host >"$hostdir/file"
  make_bundle "$BUNDLE"
  bundle_add_mount "$BUNDLE" /mnt bind "$hostdir" rbind ro
  run_ctr sh -c 'cat /mnt/file; touch /mnt/new; echo "touch=$?"; echo x >>/mnt/file'
  # (stdout and stderr lines may interleave in any order)
  printf '%s\n' "${lines[@]}" | grep -qx hello-from-host
  [[ "$output" == *"Read-only file system"* ]]
  [[ "$output" == *touch=1* ]]
  [ ! -e "$hostdir/new" ]
  [ "$(cat "$hostdir/file")" = hello-from-host ]

  # Writable when not ro.
  make_bundle "$BUNDLE"
  bundle_add_mount "$BUNDLE" /mnt bind "$hostdir" rbind rw
  run_ctr sh -c 'echo from-container >/mnt/new'
  [ "$status" -eq 0 ]
  [ "$(cat "$hostdir/new")" = from-container ]
}

@test "linux.devices creates the device node" {
  make_bundle "$BUNDLE" '
    .linux.devices = [{"path": "/dev/skiff-full", "type": "c", "major": 1, "minor": 7,
                       "fileMode": 432, "uid": 0, "gid": 1000}]
    | .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 7, "access": "rwm"}]'
  run_ctr sh -c '
    stat -c "%F %t %T %a %u %g" /dev/skiff-full
    head -c 4 /dev/skiff-full | od -An -tx1
    echo x >/dev/skiff-full'
  printf '%s\n' "${lines[@]}" | grep -qx "character special file 1 7 660 0 1000"
  printf '%s\n' "${lines[@]}" | awk '{$1=$1; print}' | grep -qx "00 00 00 00"
  [[ "$output" == *"No space left on device"* ]]
}

@test "rlimits: RLIMIT_NOFILE sets ulimit -n" {
  make_bundle "$BUNDLE" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}]'
  run_ctr sh -c 'ulimit -n; ulimit -Hn'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1024 ]
  [ "${lines[1]}" = 1024 ]

  # Distinct soft and hard values, and a second resource.
  make_bundle "$BUNDLE" '.process.rlimits = [
      {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
      {"type": "RLIMIT_NPROC", "soft": 333, "hard": 444}]'
  run_ctr sh -c 'ulimit -n; ulimit -Hn; grep "Max processes" /proc/self/limits'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 2000 ]
  [ "$(echo "${lines[2]}" | awk '{print $3, $4}')" = "333 444" ]
}

@test "user: uid, gid and additionalGids" {
  make_bundle "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 65534]}'
  run_ctr sh -c 'id; grep -E "^(Uid|Gid|Groups):" /proc/self/status'
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "uid=1000(tester) gid=1000(tester) groups="* ]]
  [[ "${lines[0]}" == *"10(wheel)"* ]]
  [[ "${lines[0]}" == *"65534(nogroup)"* ]]
  [ "$(echo "${lines[1]}" | awk '{$1=$1; print}')" = "Uid: 1000 1000 1000 1000" ]
  [ "$(echo "${lines[2]}" | awk '{$1=$1; print}')" = "Gid: 1000 1000 1000 1000" ]
  [ "$(echo "${lines[3]}" | awk '{$1=""; print}' | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')" = "10 65534 " ]

  # A uid the rootfs does not know is still applied.
  make_bundle "$BUNDLE" '.process.user = {"uid": 4242, "gid": 4343}'
  run_ctr sh -c 'id -u; id -g'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 4242 ]
  [ "${lines[1]}" = 4343 ]
}

@test "cwd, env and umask" {
  make_bundle "$BUNDLE" '
    .process.cwd = "/home/tester"
    | .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar baz", "EMPTY="]
    | .process.user.umask = 63'
  run_ctr sh -c 'pwd; echo "[$FOO]"; env | grep -c "^EMPTY=$"; umask; touch /tmp/f; stat -c %a /tmp/f; env | grep -c "^TERM="; true'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = /home/tester ]
  [ "${lines[1]}" = "[bar baz]" ]
  [ "${lines[2]}" = 1 ]
  [ "${lines[3]}" = 0077 ]
  [ "${lines[4]}" = 600 ]
  # Only the spec's environment: no TERM from the default spec or the host.
  [ "${lines[5]}" = 0 ]
}

@test "sysctl: values are set in the container's namespaces" {
  local host_fwd host_ttl
  host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
  host_ttl=$(cat /proc/sys/net/ipv4/ip_default_ttl)
  make_bundle "$BUNDLE" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "net.ipv4.ip_default_ttl": "42"}'
  run_ctr cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 42 ]
  # The host's values are untouched.
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
  [ "$(cat /proc/sys/net/ipv4/ip_default_ttl)" = "$host_ttl" ]
}

@test "oomScoreAdj is applied to the process" {
  make_bundle "$BUNDLE" '.process.oomScoreAdj = 500'
  run_ctr sh -c 'cat /proc/self/oom_score_adj'
  [ "$status" -eq 0 ]
  [ "$output" = 500 ]
}
