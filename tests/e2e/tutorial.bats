#!/usr/bin/env bats
# The README's main job, scripts/demo-tutorial, replays the seed tutorial
# on a three-host test bed: what it prints must be what a person following
# the tutorial expects to see.

load ../lib/helpers

setup_file() {
  skiff_check_skip
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  : "${SKIFFD:?SKIFFD is not set}"
  TUTORIAL_OUT=$(mktemp /tmp/skiff-tutorial.XXXXXX)
  export TUTORIAL_OUT
  TUTORIAL_STATUS=0
  bash "$SKIFF_LIB_DIR/../../scripts/demo-tutorial" "$(dirname "$SKIFFD")" >"$TUTORIAL_OUT" 2>&1 || TUTORIAL_STATUS=$?
  export TUTORIAL_STATUS
}

teardown_file() { rm -f "${TUTORIAL_OUT:-}"; }
setup() { skiff_require_root; }

# The lines of the transcript between the step "$ skiff STEP" and the next
# step or section title ("## ...", in bold).
after_step() {
  S="$ skiff $1" awk 'index($0, ENVIRON["S"]) == 1 {on = 1; next} /^\$ skiff / || /## / {on = 0} on' "$TUTORIAL_OUT"
}

@test "the tutorial runs to its end on three hosts" {
  cat "$TUTORIAL_OUT"
  [ "$TUTORIAL_STATUS" -eq 0 ]
  grep -qx 'host1: host1 0.1.0' "$TUTORIAL_OUT"
  grep -qx 'host3: host3 0.1.0' "$TUTORIAL_OUT"
}

@test "network ls shows bridge, host and none in Docker's table" {
  run after_step "network ls"
  [ "${lines[0]}" = "NETWORK ID     NAME      DRIVER    SCOPE" ]
  [[ "${lines[1]}" =~ ^[0-9a-f]{12}\ +bridge\ +bridge\ +local$ ]]
  [[ "${lines[2]}" =~ ^[0-9a-f]{12}\ +host\ +host\ +local$ ]]
  [[ "${lines[3]}" =~ ^[0-9a-f]{12}\ +none\ +null\ +local$ ]]
}

@test "container ls shows both alpine containers up, running ash" {
  run after_step "container ls"
  [[ "$output" =~ alpine\ +\"ash\".*Up.*alpine2 ]]
  [[ "$output" =~ alpine\ +\"ash\".*Up.*alpine1 ]]
}

@test "network inspect bridge lists both containers with 172.17.0.2 and .3" {
  after_step "network inspect bridge" >"$BATS_TEST_TMPDIR/bridge.json"
  jq -e '.[0].Name == "bridge" and ([.[0].Containers[] | .Name + " " + .IPv4Address] | sort
      == ["alpine1 172.17.0.2/16", "alpine2 172.17.0.3/16"])' "$BATS_TEST_TMPDIR/bridge.json"
}

@test "attached to alpine1: its eth0 has 172.17.0.2, example.com answers, alpine2 answers by address but not by name" {
  run after_step "attach alpine1"
  [[ "${lines[0]}" == "/ # ip addr show" ]]
  [[ "$output" == *"inet 172.17.0.2/16"*"scope global eth0"* ]]
  [[ "$output" == *"link/ether 02:42:ac:11:00:02"* ]]
  [[ "$output" == *"PING example.com (203.0.113.10)"*"2 packets transmitted, 2 packets received, 0% packet loss"* ]]
  [[ "$output" == *"PING 172.17.0.3 (172.17.0.3)"*"2 packets transmitted, 2 packets received, 0% packet loss"* ]]
  [[ "$output" == *"/ # ping -c 2 alpine2"$'\n'"ping: bad address 'alpine2'"* ]]
}

@test "CTRL-p CTRL-q detaches and leaves alpine1 running; stop and rm take both names" {
  run after_step "container ls --filter name=alpine1"
  [[ "$output" =~ Up.*alpine1 ]]
  run after_step "container stop alpine1 alpine2"
  [ "${lines[*]}" = "alpine1 alpine2" ]
  run after_step "container rm alpine1 alpine2"
  [ "${lines[*]}" = "alpine1 alpine2" ]
}

@test "on a user-defined bridge, alpine1 reaches alpine2 by name" {
  run after_step "exec alpine1 ping -c 2 alpine2"
  [[ "$output" == *"PING alpine2 (172.18.0.3)"*"2 packets received"* ]]
}
