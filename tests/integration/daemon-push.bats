#!/usr/bin/env bats
# skiff tag, push, login and logout against real registries (Debian's
# docker-registry) in the test-bed host's network namespace, on its
# loopback: an open one, and one behind htpasswd (basic auth).

load ../lib/helpers
load ../lib/daemon
load ../lib/registry

setup_file() {
  daemon_setup_file || return 1
}

teardown_file() {
  daemon_teardown_file
}

setup() { skiff_require_root; }

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
