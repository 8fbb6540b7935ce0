#!/usr/bin/env bats
# The same bundles under skiff-runtime and under crun (the reference):
# what the process observes must be the same.
#
# crun runs with --cgroup-manager=disabled.  On a hybrid cgroup host whose
# unified hierarchy still holds a controller, crun refuses to run at all
# ("cgroups in hybrid mode not supported"), so there it runs in a private
# mount namespace in which /sys/fs/cgroup/unified is unmounted: crun then
# sees a legacy host.  The host's mounts are not changed.

load ../lib/helpers

setup_file() {
  skiff_setup_file
}

setup() {
  if ! command -v crun >/dev/null 2>&1; then
    skip "crun is not installed"
  fi
  skiff_setup
  CRUN_ROOT=$TESTDIR/crun-root
  mkdir -p "$CRUN_ROOT"
  SKIFF_EXTRA_RUNTIMES+=(crun_rt)
}

_crun_needs_legacy_view() {
  [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
    [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]
}

# crun_rt ARGS...: crun with its own per-test --root.
crun_rt() {
  if _crun_needs_legacy_view; then
    timeout -k 10 "$SKIFF_RT_TIMEOUT" unshare -m --propagation private sh -c \
      'umount -l /sys/fs/cgroup/unified && exec crun --cgroup-manager=disabled --root "$0" "$@"' \
      "$CRUN_ROOT" "$@" 3>&-
  else
    timeout -k 10 "$SKIFF_RT_TIMEOUT" crun --cgroup-manager=disabled --root "$CRUN_ROOT" "$@" 3>&-
  fi
}

# compare_runs [NORMALIZER]: runs $BUNDLE in the foreground under both
# runtimes; their stdout (piped through NORMALIZER, default cat) and exit
# statuses must be equal.  Sets SKIFF_OUT, SKIFF_STATUS, CRUN_OUT and
# CRUN_STATUS.
compare_runs() {
  local norm=${1:-cat}
  SKIFF_STATUS=0
  rt run --bundle "$BUNDLE" "$CID" </dev/null >"$TESTDIR/skiff.out" 2>"$TESTDIR/skiff.err" || SKIFF_STATUS=$?
  CRUN_STATUS=0
  crun_rt run --bundle "$BUNDLE" "$CID-crun" </dev/null >"$TESTDIR/crun.out" 2>"$TESTDIR/crun.err" || CRUN_STATUS=$?
  SKIFF_OUT=$("$norm" <"$TESTDIR/skiff.out")
  CRUN_OUT=$("$norm" <"$TESTDIR/crun.out")
  echo "--- skiff-runtime (exit $SKIFF_STATUS):"
  echo "$SKIFF_OUT"
  cat "$TESTDIR/skiff.err"
  echo "--- crun (exit $CRUN_STATUS):"
  echo "$CRUN_OUT"
  cat "$TESTDIR/crun.err"
  [ "$SKIFF_STATUS" -eq "$CRUN_STATUS" ] || fail "exit statuses differ"
  [ "$SKIFF_OUT" = "$CRUN_OUT" ] || fail "outputs differ"
}

# ps output with every pid but 1 replaced by N (pid numbering of helper
# threads differs between runtimes).
normalize_ps() {
  awk '{ if ($1 ~ /^[0-9]+$/ && $1 != 1) $1 = "N"; $1 = $1; print }'
}

@test "vs crun: PID 1 and ps" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'echo "pid=$$"; ps -o pid,comm; exit 0'
  compare_runs normalize_ps
  [ "$SKIFF_STATUS" -eq 0 ]
  [ "$(head -n1 <<<"$SKIFF_OUT")" = pid=1 ]
  [ "$(wc -l <<<"$SKIFF_OUT")" -eq 4 ]
}

@test "vs crun: hostname" {
  make_bundle "$BUNDLE" '.hostname = "cmp-host"'
  bundle_set_args "$BUNDLE" hostname
  compare_runs
  [ "$SKIFF_OUT" = cmp-host ]
}

@test "vs crun: capabilities" {
  local caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
    "CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT",
    "CAP_KILL","CAP_AUDIT_WRITE"]'
  make_bundle "$BUNDLE" '.process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c}' \
    --argjson c "$caps"
  bundle_set_args "$BUNDLE" grep ^Cap /proc/self/status
  compare_runs
  grep -q '^CapEff:[[:space:]]*00000000a80425fb$' <<<"$SKIFF_OUT"

  # And the runtime's default set.
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" grep ^Cap /proc/self/status
  compare_runs
}

@test "vs crun: NoNewPrivs" {
  make_bundle "$BUNDLE" '.process.noNewPrivileges = true'
  bundle_set_args "$BUNDLE" grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  compare_runs
  grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$SKIFF_OUT"
}

@test "vs crun: seccomp errno" {
  make_bundle "$BUNDLE" '.linux.seccomp = {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 93}]}'
  bundle_set_args "$BUNDLE" sh -c 'mkdir /tmp/x 2>&1; echo "rc=$?"; grep ^Seccomp: /proc/self/status'
  compare_runs
  grep -q 'Protocol not supported' <<<"$SKIFF_OUT"
}

@test "vs crun: read-only root" {
  make_bundle "$BUNDLE" '.root.readonly = true'
  bundle_set_args "$BUNDLE" sh -c 'touch /x 2>&1; echo "rc=$?"'
  compare_runs
  grep -q 'Read-only file system' <<<"$SKIFF_OUT"
}

@test "vs crun: exit status 7" {
  make_bundle "$BUNDLE"
  bundle_set_args "$BUNDLE" sh -c 'echo before; exit 7'
  compare_runs
  [ "$SKIFF_STATUS" -eq 7 ]
}

@test "vs crun: user, group and additional groups" {
  make_bundle "$BUNDLE" '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 65534]}'
  bundle_set_args "$BUNDLE" sh -c 'id; grep -E "^(Uid|Gid|Groups):" /proc/self/status'
  compare_runs
  [[ "$SKIFF_OUT" == uid=1000* ]]
}

@test "vs crun: masked paths" {
  local f
  for f in /proc/kcore /proc/keys /proc/timer_list; do
    [ -f "$f" ] && break
  done
  make_bundle "$BUNDLE" '.linux.maskedPaths = [$f, "/sys/firmware", "/proc/no-such-path"]' --arg f "$f"
  bundle_set_args "$BUNDLE" sh -c "stat -c %F $f; ls -A /sys/firmware | wc -l"
  compare_runs
  [ "$(head -n1 <<<"$SKIFF_OUT")" = "character special file" ]
}
