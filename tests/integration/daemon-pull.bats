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

@test "skiff pull: Using default tag, plain progress lines off a terminal, the full reference last" {
  skiff rmi alpine:latest >/dev/null 2>&1 || true
  run skiff pull alpine
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Using default tag: latest" ]
  [ "${lines[1]}" = "latest: Pulling from library/alpine" ]
  [[ "$output" == *": Pull complete"* ]]
  # No progress bars when stdout is not a terminal.
  [[ "$output" != *"Downloading"* ]]
  [[ "${lines[-3]}" == "Digest: sha256:"* ]]
  [ "${lines[-2]}" = "Status: Downloaded newer image for alpine:latest" ]
  [ "${lines[-1]}" = "docker.io/library/alpine:latest" ]
  run skiff pull -q alpine:latest
  [ "$status" -eq 0 ]
  [ "$output" = "docker.io/library/alpine:latest" ]
}

@test "skiff pull on a terminal: one line per layer, rewritten in place with a progress bar" {
  command -v script >/dev/null || skip "no script(1)"
  skiff rmi alpine:latest >/dev/null
  # A 150-column pseudo-terminal: wide enough for Docker's bar.
  SKIFF_BIN=$SKIFF SKIFF_SOCK=$D_SOCK script -qfec 'stty cols 150; "$SKIFF_BIN" -H "unix://$SKIFF_SOCK" pull alpine' \
    "$BATS_TEST_TMPDIR/typescript" >/dev/null
  grep -q $'\033\[2K' "$BATS_TEST_TMPDIR/typescript"
  grep -q 'Downloading \[=*>' "$BATS_TEST_TMPDIR/typescript"
  grep -q 'Pull complete' "$BATS_TEST_TMPDIR/typescript"
}

@test "skiff pull errors: a missing tag, a bad platform" {
  run skiff pull "127.0.0.1:$R_PORT/library/alpine:nope"
  [ "$status" -eq 1 ]
  [ "${lines[-1]}" = "Error response from daemon: manifest for 127.0.0.1:$R_PORT/library/alpine:nope not found: manifest unknown: manifest unknown" ]
  run skiff pull --platform nonsense alpine
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid platform \"nonsense\""* ]]
}

@test "skiff-image killed in the middle of a pull: that pull fails with a clear error, nothing half is stored, the same pull then works" {
  local big=$BATS_TEST_TMPDIR/big out=$BATS_TEST_TMPDIR/pull curl_pid pid
  image_with_blob bigpull:1 4 "$big"
  in_host bash "$SKIFF_LIB_DIR/registry.bash" push-archive "127.0.0.1:$R_PORT" "$big/image.tar" library/bigpull:1 >/dev/null
  # A slow registry: this test-bed host's loopback at 4 Mbit/s.
  in_host tc qdisc add dev lo root tbf rate 4mbit burst 256kb latency 2s
  curl -sS --unix-socket "$D_SOCK" -X POST "http://x/images/create?fromImage=bigpull&tag=1" >"$out" 2>&1 &
  curl_pid=$!
  poll_until 30 grep -q '"status":"Downloading","progressDetail":{"current":[1-9]' "$out" || { cat "$out" "$D_LOG" | tail -40; false; }
  pid=$(daemon_helper_pids)
  [ -n "$pid" ]
  kill -KILL "$pid"
  wait "$curl_pid"
  in_host tc qdisc del dev lo root
  run cat "$out"
  [[ "$output" == *'"errorDetail":{"message":"pull failed: skiff-image was killed by signal 9 (Killed)"}'* ]]
  run skiff images --format '{{.Repository}}'
  [[ "$output" != *bigpull* ]]
  poll_until 20 test ! -e "$D_ROOT/image/tmp/skiff-image-$pid"
  # Only the partial download is kept, for the next pull to resume.
  [ "$(ls -A "$D_ROOT/image/tmp")" = blobs ]
  run skiff pull bigpull:1
  [ "$status" -eq 0 ]
  [[ "$output" == *"Status: Downloaded newer image for bigpull:1"* ]]
  run skiff run --rm --network none bigpull:1 stat -c %s /blob
  [ "$output" = $((4 << 20)) ]
  skiff rmi bigpull:1 >/dev/null
}
