# The test bed's fixture images (make-fixture-images.sh: the alpine stand-in
# and nginx, each under a two-platform list) pushed into a registry of
# registry.bash, and a test daemon that uses that registry as its mirror so
# that the plain names `alpine` and `nginx` are pulled from it.
#
# Source it after helpers and daemon (bats: `load ../lib/fixtures`), or run
# it as a command (e.g. inside a test-bed host's network namespace):
#   fixtures.bash build OUT          -> the layouts in OUT/alpine, OUT/nginx
#   fixtures.bash push ADDR OUT      -> library/NAME:latest (the list),
#                                       :amd64 and :arm64 (the manifests)
#
# Functions: fixtures_build (into $SKIFF_TEST_TMP/fixtures, sets FIXTURES),
# fixtures_push ADDR [DIR], fixture_digest NAME JQ-PATH, fixture_page (the
# page nginx serves), fixtures_mirror_start / fixtures_mirror_stop (a
# registry in the daemon's host with the fixtures, daemon.json's
# registry-mirrors pointing at it, the daemon restarted; sets R_DIR, R_PORT),
# registry_blob_gets (blob downloads the registry has served so far).
#
# Packages: those of make-fixture-images.sh and registry.bash.

_FIXTURES_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=registry.bash
source "$_FIXTURES_LIB/registry.bash"

# fixtures_build [OUT]: builds the layouts once per build tree.
fixtures_build() {
  FIXTURES=${1:-$SKIFF_TEST_TMP/fixtures}
  export FIXTURES
  bash "$_FIXTURES_LIB/make-fixture-images.sh" "$FIXTURES"
}

# fixture_digest NAME JQ-PATH: e.g. fixture_digest nginx '.platforms["linux/amd64"].config'
fixture_digest() {
  jq -er "$2" "$FIXTURES/$1/fixture.json"
}

# The page the nginx image serves at /.
fixture_page() {
  echo "$FIXTURES/src/nginx/usr/share/nginx/html/index.html"
}

_fixture_blob_present() {
  local code
  code=$(_registry_curl -o /dev/null -w '%{http_code}' -I "http://$1/v2/$2/blobs/$3" 2>/dev/null)
  [ "$code" = 200 ]
}

_fixture_put_blob() {
  local addr=$1 repo=$2 layout=$3 digest=$4 got
  _fixture_blob_present "$addr" "$repo" "$digest" && return 0
  got=$(registry_put_blob "$addr" "$repo" "$layout/blobs/sha256/${digest#sha256:}") || return 1
  [ "$got" = "$digest" ] || { _registry_fail "blob $digest of $layout uploaded as $got"; return 1; }
}

# _fixture_put_manifest ADDR REPO LAYOUT DIGEST TAG: the manifest (or list)
# stored under DIGEST in the layout, put under TAG with its own media type.
_fixture_put_manifest() {
  local addr=$1 repo=$2 layout=$3 digest=$4 tag=$5 file media
  file=$layout/blobs/sha256/${digest#sha256:}
  media=$(jq -er .mediaType "$file") || { _registry_fail "$file has no mediaType"; return 1; }
  registry_put_manifest "$addr" "$repo" "$tag" "$media" "$file"
}

# _fixture_pushed_digest ADDR REPO TAG: the digest the registry serves for TAG.
_fixture_pushed_digest() {
  _registry_curl -I -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$1/v2/$2/manifests/$3" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }'
}

# fixtures_push ADDR [DIR]: blobs first, then each platform's manifest under
# its tag, then the list as :latest; checks that the registry serves the
# layout's own digests (the pushes change no byte).
fixtures_push() {
  local addr=$1 dir=${2:-$FIXTURES} name layout repo platform tag digest blob want got
  for name in alpine nginx; do
    layout=$dir/$name
    repo=$(jq -er .name "$layout/fixture.json") || return 1
    for platform in linux/amd64 linux/arm64/v8; do
      for blob in $(jq -r --arg p "$platform" '.platforms[$p] | .layers[], .config' "$layout/fixture.json"); do
        _fixture_put_blob "$addr" "$repo" "$layout" "$blob" || return 1
      done
      tag=${platform#linux/}
      tag=${tag%%/*}
      digest=$(jq -er --arg p "$platform" '.platforms[$p].manifest' "$layout/fixture.json") || return 1
      _fixture_put_manifest "$addr" "$repo" "$layout" "$digest" "$tag" || return 1
    done
    want=$(jq -er .index "$layout/fixture.json") || return 1
    _fixture_put_manifest "$addr" "$repo" "$layout" "$want" latest || return 1
    got=$(_fixture_pushed_digest "$addr" "$repo" latest)
    [ "$got" = "$want" ] || { _registry_fail "$repo:latest is served as ${got:-nothing}, built as $want"; return 1; }
  done
}

# fixtures_mirror_start: a registry (with access log) in the daemon's host,
# the fixtures pushed into it, the daemon restarted with it as its mirror.
# Needs daemon.bash's daemon (D_DIR, in_host).
fixtures_mirror_start() {
  registry_available || { fail "docker-registry, skopeo, curl and ss are needed"; return 1; }
  fixtures_build || return 1
  R_DIR=$D_DIR/registry
  mkdir -p "$R_DIR"
  export R_DIR
  read -r _ R_PORT < <(SKIFF_REGISTRY_ACCESSLOG=1 in_host bash "$_FIXTURES_LIB/registry.bash" start "$R_DIR") ||
    return 1
  [ -n "$R_PORT" ] || return 1
  export R_PORT
  in_host bash "$_FIXTURES_LIB/fixtures.bash" push "127.0.0.1:$R_PORT" "$FIXTURES" || return 1
  printf '{"registry-mirrors": ["http://127.0.0.1:%s"]}\n' "$R_PORT" >"$D_DIR/daemon.json"
  daemon_stop
  daemon_start
}

fixtures_mirror_stop() {
  [ -z "${R_DIR:-}" ] || bash "$_FIXTURES_LIB/registry.bash" stop "$R_DIR"
}

# registry_blob_gets [REPO]: how many blob GETs the registry has answered.
registry_blob_gets() {
  grep -cE "\"GET /v2/${1:-[^ ]+}/blobs/sha256:[0-9a-f]{64} " "$R_DIR/registry.log" || true
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  cmd=${1:-}
  shift || true
  case $cmd in
    build) fixtures_build "$@" ;;
    push) fixtures_push "$@" ;;
    *)
      echo "usage: $0 build OUT | push ADDR OUT" >&2
      exit 2
      ;;
  esac
fi
