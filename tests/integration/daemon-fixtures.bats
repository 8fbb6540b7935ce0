#!/usr/bin/env bats
# The test bed's fixture images, built from Debian packages
# (tests/lib/make-fixture-images.sh), in a real registry (Debian's
# docker-registry) that skiffd uses as its mirror: the plain names `alpine`
# and `nginx` are pulled through their multi-platform lists (linux/arm64/v8
# listed before linux/amd64), nginx serves its page on published ports, and
# nothing is downloaded twice.  The registry runs on the test-bed host's
# loopback and logs every request.

load ../lib/helpers
load ../lib/daemon
load ../lib/fixtures

setup_file() {
  daemon_setup_file || return 1
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  fixtures_mirror_start || return 1
  # The imported stand-in goes: `alpine` must come from the registry.
  skiff rmi alpine:latest >/dev/null
}

teardown_file() {
  fixtures_mirror_stop
  daemon_teardown_file
}

setup() { skiff_require_root; }

teardown() { daemon_remove_containers; }

short() { local d=${1#sha256:}; echo "${d:0:12}"; }

# Blob GETs for one digest of one repository, from the registry's log.
blob_gets() { grep -c "\"GET /v2/library/$1/blobs/$2 " "$R_DIR/registry.log" || true; }

@test "run of plain alpine pulls it through the manifest list and picks linux/amd64" {
  run skiff run --rm --network none alpine sh -c 'test -e /etc/skiff-fixture-platform && echo arm64-layer || echo amd64-only'
  [ "$status" -eq 0 ]
  [[ "$output" == *"Unable to find image 'alpine:latest' locally"* ]]
  [[ "$output" == *"$(short "$(fixture_digest alpine '.platforms["linux/amd64"].layers[0]')"): Pull complete"* ]]
  [[ "$output" == *"Digest: $(fixture_digest alpine .index)"* ]]
  [[ "$output" == *"Status: Downloaded newer image for alpine:latest"* ]]
  [ "${lines[-1]}" = amd64-only ]
  run api GET /images/alpine/json
  echo "$output" | jq -e --arg id "$(fixture_digest alpine '.platforms["linux/amd64"].config')" \
    --arg rd "alpine@$(fixture_digest alpine .index)" \
    '.Id == $id and .Os == "linux" and .Architecture == "amd64" and .RepoDigests == [$rd]
     and .Config.Cmd == ["/bin/sh"]'
  # Nothing of the arm64 image was fetched.
  [ "$(blob_gets alpine "$(fixture_digest alpine '.platforms["linux/arm64/v8"].config')")" = 0 ]
  [ "$(blob_gets alpine "$(fixture_digest alpine '.platforms["linux/arm64/v8"].layers[1]')")" = 0 ]
}

@test "pull of plain nginx goes through the OCI index to linux/amd64; alpine's layer already exists" {
  local base ngx
  base=$(fixture_digest nginx '.platforms["linux/amd64"].layers[0]')
  ngx=$(fixture_digest nginx '.platforms["linux/amd64"].layers[1]')
  [ "$base" = "$(fixture_digest alpine '.platforms["linux/amd64"].layers[0]')" ]
  api POST "/images/create?fromImage=nginx&tag=latest" >"$BATS_TEST_TMPDIR/pull"
  [ "$API_STATUS" = 200 ]
  run jq -r --arg id "$(short "$base")" 'select(.id == $id) | .status' "$BATS_TEST_TMPDIR/pull"
  [ "$output" = "Already exists" ]
  run jq -r --arg id "$(short "$ngx")" 'select(.id == $id) | .status' "$BATS_TEST_TMPDIR/pull"
  [[ "$output" == *"Downloading"* ]]
  [ "${lines[-1]}" = "Pull complete" ]
  run jq -r 'select(.id == null) | .status' "$BATS_TEST_TMPDIR/pull"
  [[ "$output" == *"Digest: $(fixture_digest nginx .index)"* ]]
  [ "${lines[-1]}" = "Status: Downloaded newer image for nginx:latest" ]
  run api GET /images/nginx/json
  echo "$output" | jq -e --arg id "$(fixture_digest nginx '.platforms["linux/amd64"].config')" \
    --arg rd "nginx@$(fixture_digest nginx .index)" \
    '.Id == $id and .Architecture == "amd64" and .RepoDigests == [$rd]
     and .Config.Cmd == ["nginx", "-g", "daemon off;"] and .Config.ExposedPorts == {"80/tcp": {}}
     and (.RootFS.Layers | length) == 2'
  # The shared layer came from library/alpine once, never from library/nginx.
  [ "$(blob_gets nginx "$base")" = 0 ]
  [ "$(blob_gets nginx "$ngx")" = 1 ]
  [ "$(blob_gets nginx "$(fixture_digest nginx '.platforms["linux/arm64/v8"].config')")" = 0 ]
}

# _page_is CMD...: CMD prints exactly the page of the nginx image.
_page_is() {
  local got
  got=$("$@") || return 1
  [ "$got" = "$(cat "$(fixture_page)")" ]
}

@test "nginx -p 8080:80 serves its page to the host and to another container and logs to stdout" {
  grep -q '<title>Welcome to nginx!</title>' "$(fixture_page)"
  run skiff run -d --name web -p 8080:80 nginx
  [ "$status" -eq 0 ]
  wait_for _page_is in_host curl -sf --max-time 2 http://127.0.0.1:8080/
  # through the host's address from another container (hairpin through the bridge)
  run skiff run --rm alpine sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 172.17.0.1 8080'
  [ "$status" -eq 0 ]
  [[ "$output" == *"HTTP/1.1 200 OK"* ]]
  [[ "$output" == *"Server: nginx/"* ]]
  [[ "$output" == *"<title>Welcome to nginx!</title>"* ]]
  # the access log on stdout, one line per request (curl's, then nc's); the
  # error log on stderr
  _logged() { skiff logs web 2>/dev/null | grep -q '"GET / HTTP/1.0" 200'; }
  wait_for _logged
  run --separate-stderr skiff logs web
  [ "$status" -eq 0 ]
  [[ "$output" == *'"GET / HTTP/1.1" 200 '*curl/*'"GET / HTTP/1.0" 200 '* ]]
  [[ "$output" != *"[notice]"* ]]
  [[ "$stderr" == *"[notice] 1#1: start worker processes"* ]]
  # nginx runs as its configuration says: master as root, worker as www-data
  # (without -e, ps would select only processes of its own user)
  run skiff top web -eo pid,user,args
  [[ "$output" == *"nginx: master process nginx -g daemon off;"* ]]
  [[ "$output" == *"www-data"*"nginx: worker process"* ]]
}

@test "nginx -P publishes the image's exposed 80/tcp on an ephemeral port" {
  run skiff run -d --name webp -P nginx
  [ "$status" -eq 0 ]
  run skiff port webp
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^80/tcp\ -\>\ 0\.0\.0\.0:([0-9]+)$ ]]
  port=${BASH_REMATCH[1]}
  [ "$port" -ge 49153 ]
  run api GET /containers/webp/json
  echo "$output" | jq -e --arg p "$port" '.NetworkSettings.Ports["80/tcp"][0].HostPort == $p
    and .Config.ExposedPorts == {"80/tcp": {}} and .HostConfig.PublishAllPorts == true'
  wait_for _page_is in_host curl -sf --max-time 2 "http://127.0.0.1:$port/"
}

@test "a second pull of nginx downloads no blob: Image is up to date" {
  local before
  before=$(registry_blob_gets)
  [ "$before" -gt 0 ]
  api POST "/images/create?fromImage=nginx&tag=latest" >"$BATS_TEST_TMPDIR/pull"
  [ "$API_STATUS" = 200 ]
  run jq -r .status "$BATS_TEST_TMPDIR/pull"
  [[ "$output" != *"Downloading"* ]]
  [ "${lines[-1]}" = "Status: Image is up to date for nginx:latest" ]
  [ "$(registry_blob_gets)" = "$before" ]
  # The same image under its platform tag: here already, nothing to fetch.
  api POST "/images/create?fromImage=nginx&tag=amd64" >"$BATS_TEST_TMPDIR/pull"
  [ "$API_STATUS" = 200 ]
  run jq -r .status "$BATS_TEST_TMPDIR/pull"
  [[ "$output" != *"Downloading"* ]]
  [ "$(registry_blob_gets)" = "$before" ]
  [ "$(api GET /images/nginx:amd64/json | jq -r .Id)" = "$(fixture_digest nginx '.platforms["linux/amd64"].config')" ]
}

@test "nginx:arm64, the list's other manifest: two layers already exist, only its own is downloaded" {
  local before marker
  before=$(registry_blob_gets)
  marker=$(fixture_digest nginx '.platforms["linux/arm64/v8"].layers[2]')
  api POST "/images/create?fromImage=nginx&tag=arm64" >"$BATS_TEST_TMPDIR/pull"
  [ "$API_STATUS" = 200 ]
  run jq -r 'select(.status == "Already exists") | .id' "$BATS_TEST_TMPDIR/pull"
  [ "$output" = "$(fixture_digest nginx '.platforms["linux/amd64"].layers[] | .[7:19]')" ]
  run jq -r --arg id "$(short "$marker")" 'select(.id == $id) | .status' "$BATS_TEST_TMPDIR/pull"
  [ "${lines[-1]}" = "Pull complete" ]
  # the config and the one new layer
  [ "$(registry_blob_gets)" = $((before + 2)) ]
  [ "$(blob_gets nginx "$marker")" = 1 ]
  run api GET /images/nginx:arm64/json
  echo "$output" | jq -e --arg id "$(fixture_digest nginx '.platforms["linux/arm64/v8"].config')" \
    '.Id == $id and .Architecture == "arm64" and .Variant == "v8"'
}

@test "the docker CLI pulls nginx through skiffd: up to date, the index's digest" {
  command -v docker >/dev/null || skip "no docker CLI"
  DOCKER_HOST=unix://$D_SOCK run docker pull nginx
  [ "$status" -eq 0 ]
  [[ "$output" == *"Digest: $(fixture_digest nginx .index)"* ]]
  [[ "$output" == *"Status: Image is up to date for nginx:latest"* ]]
  [ "${lines[-1]}" = docker.io/library/nginx:latest ]
}
