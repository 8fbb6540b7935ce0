#!/usr/bin/env bats
# Invalid configurations are refused with exit status 1 and a message that
# names the offending field or value, before anything is created: no state
# under --root, no cgroup, no process, no mount.

load ../lib/helpers

# create_must_fail PATTERN: `create` of $BUNDLE must exit 1 with stderr
# matching the extended regexp PATTERN, and leave nothing behind.
create_must_fail() {
  local pattern=$1 cgpath
  cgpath=$(bundle_cgroup "$BUNDLE" 2>/dev/null) || cgpath=$BUNDLE_CGROUP
  [ -n "$cgpath" ] || cgpath=$BUNDLE_CGROUP
  run ctr_create "$CID"
  local err
  err=$(cat "$TESTDIR/$CID.err")
  echo "exit status $status; stderr: $err"
  [ "$status" -eq 1 ] || fail "expected exit status 1, got $status"
  grep -Eiq -- "$pattern" <<<"$err" || fail "stderr does not match /$pattern/"
  assert_nothing_left "$cgpath"
}

# assert_nothing_left CGROUPS_PATH
assert_nothing_left() {
  local cgpath=$1
  run rt state "$CID"
  [ "$status" -eq 1 ] || fail "the container exists"
  [ -z "$(rt list -q)" ] || fail "list is not empty"
  [ -z "$(find "$RT_ROOT" -mindepth 1 -name "*$CID*")" ] || fail "state left under --root: $(find "$RT_ROOT" -mindepth 1)"
  local ctl
  for ctl in pids memory cpu devices freezer; do
    [ ! -e "$(cgroup_dir "$ctl" "$cgpath")" ] || fail "cgroup created: $(cgroup_dir "$ctl" "$cgpath")"
  done
  assert_no_leaked_mounts
}

@test "malformed JSON" {
  make_bundle "$BUNDLE"
  local cgpath=$BUNDLE_CGROUP
  printf '{"ociVersion": "1.0.2", "process": {"args": ["sh"' >"$BUNDLE/config.json"
  run ctr_create "$CID"
  local err
  err=$(cat "$TESTDIR/$CID.err")
  echo "exit status $status; stderr: $err"
  [ "$status" -eq 1 ]
  grep -Eiq 'json|parse|syntax|config|unexpected|eof|invalid' <<<"$err"
  assert_nothing_left "$cgpath"
}

@test "config.json that is not an object" {
  make_bundle "$BUNDLE"
  local cgpath=$BUNDLE_CGROUP
  echo '[1, 2, 3]' >"$BUNDLE/config.json"
  run ctr_create "$CID"
  [ "$status" -eq 1 ]
  [ -s "$TESTDIR/$CID.err" ]
  assert_nothing_left "$cgpath"
}

@test "missing bundle config.json" {
  rm -f "$BUNDLE/config.json"
  run ctr_create "$CID"
  [ "$status" -eq 1 ]
  grep -q config.json "$TESTDIR/$CID.err"
  run rt state "$CID"
  [ "$status" -eq 1 ]
}

@test "missing root.path directory" {
  make_bundle "$BUNDLE" '.root.path = $p' --arg p "$TESTDIR/no-such-rootfs"
  create_must_fail "no-such-rootfs"
}

@test "unknown namespace type" {
  make_bundle "$BUNDLE" '.linux.namespaces += [{"type": "skiffns"}]'
  create_must_fail "skiffns"
}

@test "bad capability name" {
  make_bundle "$BUNDLE" '.process.capabilities.bounding += ["CAP_FOO"]'
  create_must_fail "CAP_FOO"
}

@test "invalid seccomp action" {
  make_bundle "$BUNDLE" '.linux.seccomp = {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]}'
  create_must_fail "SCMP_ACT_BOGUS"
}

@test "process missing" {
  make_bundle "$BUNDLE" 'del(.process)'
  create_must_fail "process"
}

@test "unknown top-level field is ignored" {
  make_bundle "$BUNDLE" '.skiffUnknownField = {"nested": [1, 2, 3]} | .zzz = "yes"'
  bundle_set_args "$BUNDLE" echo still-runs
  run rt_run "$CID"
  [ "$status" -eq 0 ]
  [ "$output" = still-runs ]
}
