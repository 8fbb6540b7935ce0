#!/usr/bin/env bats
# skiff tag, push, login and logout against real registries (Debian's
# docker-registry) in the test-bed host's network namespace, on its
# loopback: an open one, and one behind htpasswd (basic auth).

load ../lib/helpers
load ../lib/daemon
load ../lib/registry

setup_file() {
  daemon_setup_file || return 1
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  registry_available && command -v htpasswd >/dev/null || { fail "docker-registry, skopeo, curl, ss and htpasswd are needed"; return 1; }
  R_DIR=$D_DIR/registry
  A_DIR=$D_DIR/registry-auth
  mkdir -p "$R_DIR" "$A_DIR"
  export R_DIR A_DIR
  read -r _ R_PORT < <(in_host bash "$SKIFF_LIB_DIR/registry.bash" start "$R_DIR") || return 1
  read -r _ A_PORT < <(in_host bash "$SKIFF_LIB_DIR/registry.bash" start "$A_DIR" htpasswd tester s3cret) || return 1
  export R_PORT A_PORT
}

teardown_file() {
  [ -n "${R_DIR:-}" ] && bash "$SKIFF_LIB_DIR/registry.bash" stop "$R_DIR"
  [ -n "${A_DIR:-}" ] && bash "$SKIFF_LIB_DIR/registry.bash" stop "$A_DIR"
  daemon_teardown_file
}

setup() {
  skiff_require_root
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config
}

# The digest of a manifest as the registry serves it.
served_digest() {
  in_host curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$1/v2/$2/manifests/$3" | sha256sum | cut -d' ' -f1
}

@test "tag gives an image another name, as docker tag does" {
  run skiff tag alpine:latest tagged/one:v1
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(skiff image inspect -f '{{.Id}}' tagged/one:v1)" = "$(skiff image inspect -f '{{.Id}}' alpine)" ]
  # No tag means latest; `image tag` is the same command.
  run skiff image tag alpine tagged/two
  [ "$status" -eq 0 ]
  run skiff images --format '{{.Repository}}:{{.Tag}}' tagged/two
  [ "$output" = "tagged/two:latest" ]
  skiff rmi tagged/one:v1 tagged/two >/dev/null
}

@test "tag errors: Docker's messages and status codes" {
  run skiff tag no-such-image:1 x:1
  [ "$status" -eq 1 ]
  [ "$output" = "Error response from daemon: No such image: no-such-image:1" ]
  run skiff tag alpine Bad/Name
  [ "$status" -eq 1 ]
  [[ "$output" == "Error response from daemon: invalid reference format"* ]]
  run skiff tag alpine "x@sha256:$(printf '%064d' 0)"
  [ "$status" -eq 1 ]
  [ "$output" = "refusing to create a tag with a digest reference" ]
  run skiff tag alpine
  [ "$status" -eq 1 ]
  [[ "$output" == '"skiff tag" requires exactly 2 arguments.'* ]]
  api POST "/images/alpine/tag?repo=ok&tag=1" >/dev/null
  [ "$API_STATUS" = 201 ]
  api POST "/images/no-such-image/tag?repo=ok&tag=1" >/dev/null
  [ "$API_STATUS" = 404 ]
  # An invalid target is a 400 even when the source is missing too.
  api POST "/images/no-such-image/tag?repo=UPPER&tag=1" >/dev/null
  [ "$API_STATUS" = 400 ]
  skiff rmi ok:1 >/dev/null
}

@test "the docker CLI tags through skiffd" {
  command -v docker >/dev/null || skip "no docker CLI"
  DOCKER_HOST=unix://$D_SOCK run docker tag alpine dockertag:1
  [ "$status" -eq 0 ]
  run skiff images -q dockertag:1
  [ -n "$output" ]
  skiff rmi dockertag:1 >/dev/null
}

@test "push: Docker's progress lines, the registry's digest, and the image pulled back is the same" {
  local name=127.0.0.1:$R_PORT/test/alpine digest id
  skiff tag alpine "$name:v1"
  run skiff push "$name:v1"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "The push refers to repository [$name]" ]
  [[ "$output" == *": Preparing"* ]]
  [[ "$output" == *": Pushed"* ]]
  digest=$(served_digest "$R_PORT" test/alpine v1)
  [[ "${lines[-1]}" =~ ^v1:\ digest:\ sha256:$digest\ size:\ [0-9]+$ ]]
  # RepoDigests of the pushed image.
  run skiff image inspect -f '{{json .RepoDigests}}' "$name:v1"
  [[ "$output" == *"$name@sha256:$digest"* ]]
  id=$(skiff image inspect -f '{{.Id}}' alpine)
  # Pulled back after rmi: the same image, the same digest.
  skiff rmi "$name:v1" >/dev/null
  run skiff run --rm --network none "$name:v1" echo pulled-back
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "pulled-back" ]
  [ "$(skiff image inspect -f '{{.Id}}' "$name:v1")" = "$id" ]
  run skiff image inspect -f '{{json .RepoDigests}}' "$name:v1"
  [[ "$output" == *"$name@sha256:$digest"* ]]
}

@test "push again: Layer already exists; to another repository: Mounted from" {
  local name=127.0.0.1:$R_PORT/test/again
  skiff tag alpine "$name:1"
  skiff push "$name:1" >/dev/null
  run skiff push "$name:1"
  [ "$status" -eq 0 ]
  [[ "$output" == *": Layer already exists"* ]]
  [[ "$output" != *": Pushed"* ]]
  skiff tag alpine "127.0.0.1:$R_PORT/test/other:1"
  run skiff push "127.0.0.1:$R_PORT/test/other:1"
  [ "$status" -eq 0 ]
  [[ "$output" == *": Mounted from test/again"* ]]
  [ "$(served_digest "$R_PORT" test/other 1)" = "$(served_digest "$R_PORT" test/again 1)" ]
}

@test "push streams the aux message with Tag, Digest and Size" {
  local name=127.0.0.1:$R_PORT/test/aux
  # A layer the registry does not have yet: uploaded, with progress.
  mkdir -p "$BATS_TEST_TMPDIR/rootfs"
  head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/rootfs/noise"
  tar -C "$BATS_TEST_TMPDIR/rootfs" -cf "$BATS_TEST_TMPDIR/noise.tar" .
  skiff import "$BATS_TEST_TMPDIR/noise.tar" "$name:x" >/dev/null
  api POST "/images/$name/push?tag=x" >"$BATS_TEST_TMPDIR/out"
  [ "$API_STATUS" = 200 ]
  jq -e --arg d "sha256:$(served_digest "$R_PORT" test/aux x)" \
    'select(.aux) | .aux.Tag == "x" and .aux.Digest == $d and (.aux.Size > 0)' "$BATS_TEST_TMPDIR/out"
  jq -e 'select(.status == "Pushing") | .progressDetail.total > 0 and (.progress | test("/"))' "$BATS_TEST_TMPDIR/out" | grep -q true
}

@test "push errors: a missing tag, a missing repository, defaults and flags" {
  run skiff push "127.0.0.1:$R_PORT/test/none"
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = "Using default tag: latest" ]
  [ "${lines[-1]}" = "Error response from daemon: tag does not exist: 127.0.0.1:$R_PORT/test/none:latest" ]
  run skiff push -a "127.0.0.1:$R_PORT/test/none"
  [ "$status" -eq 1 ]
  [ "$output" = "Error response from daemon: An image does not exist locally with the tag: 127.0.0.1:$R_PORT/test/none" ]
  run skiff push -a "127.0.0.1:$R_PORT/test/none:1"
  [ "$status" -eq 1 ]
  [ "$output" = "tag can't be used with --all-tags/-a" ]
  skiff tag alpine "127.0.0.1:$R_PORT/test/quiet:1"
  run skiff push -q "127.0.0.1:$R_PORT/test/quiet:1"
  [ "$status" -eq 0 ]
  [ "$output" = "127.0.0.1:$R_PORT/test/quiet:1" ]
}

@test "the docker CLI pushes through skiffd" {
  command -v docker >/dev/null || skip "no docker CLI"
  local name=127.0.0.1:$R_PORT/test/bydocker
  skiff tag alpine "$name:d"
  DOCKER_HOST=unix://$D_SOCK run docker push "$name:d"
  [ "$status" -eq 0 ]
  [[ "$output" == *"d: digest: sha256:$(served_digest "$R_PORT" test/bydocker d) size: "* ]]
}

@test "login checks the password with the registry and stores it as docker does; push and pull use it; logout forgets it" {
  local name=127.0.0.1:$A_PORT/test/private
  skiff tag alpine "$name:1"
  run skiff push "$name:1"
  [ "$status" -eq 1 ]
  [ "${lines[-1]}" = "no basic auth credentials" ]

  run skiff login -u tester -p wrong "127.0.0.1:$A_PORT"
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = "WARNING! Using --password via the CLI is insecure. Use --password-stdin." ]
  [ "${lines[-1]}" = "Error response from daemon: login attempt to http://127.0.0.1:$A_PORT/v2/ failed with status: 401 Unauthorized" ]
  [ ! -e "$DOCKER_CONFIG/config.json" ]

  run skiff login -u tester --password-stdin "127.0.0.1:$A_PORT" <<<"s3cret"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "Login Succeeded" ]
  [ "$(stat -c %a "$DOCKER_CONFIG/config.json")" = 600 ]
  [ "$(jq -r --arg k "127.0.0.1:$A_PORT" '.auths[$k].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" = "tester:s3cret" ]

  run skiff push "$name:1"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == "1: digest: sha256:"* ]]
  skiff rmi "$name:1" >/dev/null
  run skiff run --rm --network none "$name:1" echo private
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "private" ]

  run skiff logout "127.0.0.1:$A_PORT"
  [ "$output" = "Removing login credentials for 127.0.0.1:$A_PORT" ]
  [ "$(jq -r '.auths | length' "$DOCKER_CONFIG/config.json")" = 0 ]
  run skiff logout "127.0.0.1:$A_PORT"
  [ "$output" = "Not logged in to 127.0.0.1:$A_PORT" ]
  run skiff push "$name:1"
  [ "$status" -eq 1 ]
}

@test "login keeps the other keys of config.json and honours DOCKER_CONFIG" {
  mkdir -p "$DOCKER_CONFIG"
  echo '{"auths":{"other.example":{"auth":"eDp5"}},"psFormat":"table {{.ID}}"}' >"$DOCKER_CONFIG/config.json"
  echo s3cret | skiff login -u tester --password-stdin "http://127.0.0.1:$A_PORT/" >/dev/null 2>&1
  jq -e --arg k "127.0.0.1:$A_PORT" '.psFormat == "table {{.ID}}" and .auths["other.example"].auth == "eDp5" and (.auths[$k].auth | length > 0)' \
    "$DOCKER_CONFIG/config.json"
  run skiff login -u tester "127.0.0.1:$A_PORT" </dev/null
  [ "$status" -eq 1 ]
  [ "$output" = "Error: Cannot perform an interactive login from a non TTY device" ]
}

@test "the docker CLI logs in through skiffd" {
  command -v docker >/dev/null || skip "no docker CLI"
  DOCKER_HOST=unix://$D_SOCK run docker login -u tester --password-stdin "127.0.0.1:$A_PORT" <<<"s3cret"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Login Succeeded"* ]]
  DOCKER_HOST=unix://$D_SOCK run docker login -u tester --password-stdin "127.0.0.1:$A_PORT" <<<"nope"
  [ "$status" -ne 0 ]
  [[ "$output" == *"401 Unauthorized"* ]]
}
