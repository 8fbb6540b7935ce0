#!/usr/bin/env bats
# Images from a real registry (Debian's docker-registry) used as skiffd's
# mirror, so that the plain name `alpine` is pulled from it.  The registry
# runs in the test-bed host's network namespace, on its loopback.

load ../lib/helpers
load ../lib/daemon
load ../lib/registry

setup_file() {
  daemon_setup_file || return 1
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  registry_available || { fail "docker-registry, skopeo, curl and ss are needed"; return 1; }
  R_DIR=$D_DIR/registry
  mkdir -p "$R_DIR"
  export R_DIR
  read -r _ R_PORT < <(in_host bash "$SKIFF_LIB_DIR/registry.bash" start "$R_DIR") || return 1
  export R_PORT
  skiff save -o "$D_DIR/alpine.tar" alpine:latest
  in_host bash "$SKIFF_LIB_DIR/registry.bash" push-archive "127.0.0.1:$R_PORT" "$D_DIR/alpine.tar" \
    library/alpine:latest >/dev/null || return 1
  # The daemon asks the registry first for docker.io names.
  printf '{"registry-mirrors": ["http://127.0.0.1:%s"]}\n' "$R_PORT" >"$D_DIR/daemon.json"
  daemon_stop
  daemon_start
  skiff rmi alpine:latest >/dev/null
}

teardown_file() {
  [ -n "${R_DIR:-}" ] && bash "$SKIFF_LIB_DIR/registry.bash" stop "$R_DIR"
  daemon_teardown_file
}

setup() { skiff_require_root; }

teardown() {
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  local ids
  ids=$(skiff ps -aq 2>/dev/null) || true
  [ -z "$ids" ] || skiff rm -f $ids >/dev/null 2>&1 || true
}

@test "run of a missing image pulls it through the mirror, as docker run does" {
  run skiff run --rm --network none alpine echo pulled-and-ran
  [ "$status" -eq 0 ]
  [[ "$output" == *"Unable to find image 'alpine:latest' locally"* ]]
  [[ "$output" == *"Pull complete"* ]]
  [[ "$output" == *"Status: Downloaded newer image for alpine:latest"* ]]
  [ "${lines[-1]}" = "pulled-and-ran" ]
}

@test "a second pull downloads nothing: Image is up to date" {
  run curl -s --unix-socket "$D_SOCK" -X POST "http://x/images/create?fromImage=alpine&tag=latest"
  [[ "$output" == *"Image is up to date for alpine:latest"* ]]
  [[ "$output" != *"Downloading"* ]]
}

@test "the pulled image has its RepoDigests" {
  run api GET /images/alpine/json
  echo "$output" | jq -e '.RepoDigests | length == 1 and (.[0] | test("alpine@sha256:[0-9a-f]{64}$"))'
}

@test "an image the mirror lacks: the origin is tried, unreachable from the test bed, and the pull fails cleanly" {
  api POST "/images/create?fromImage=no-such-image&tag=latest" >"$BATS_TEST_TMPDIR/out"
  [ "$API_STATUS" = "500" ]
  grep -q "registry-1.docker.io" "$BATS_TEST_TMPDIR/out"
  run api GET /images/no-such-image/json
  [[ "$output" == *"No such image"* ]]
}

@test "the docker CLI pulls through skiffd" {
  command -v docker >/dev/null || skip "no docker CLI"
  skiff rmi alpine:latest >/dev/null
  DOCKER_HOST=unix://$D_SOCK run docker pull alpine
  [ "$status" -eq 0 ]
  [[ "$output" == *"Downloaded newer image for alpine:latest"* ]]
}
