# A real Docker registry on loopback for tests: Debian's docker-registry
# (distribution 2.8) with its own config, storage and port, plus helpers to
# push fixture images into it.  Every process is started and stopped by PID;
# traffic stays on 127.0.0.1.
#
# Source it (bats: `load ../lib/registry`) or run it as a command:
#   registry.bash start DIR [none | htpasswd USER PASS | token REALM SERVICE ISSUER CERT]
#       -> prints "PID PORT" once the registry answers on 127.0.0.1:PORT
#   registry.bash stop DIR
#   registry.bash push-archive ADDR ARCHIVE REPO:TAG [skopeo copy options...]
#   registry.bash put-blob ADDR REPO FILE           -> prints the digest
#   registry.bash put-manifest ADDR REPO REF MEDIA_TYPE FILE
#   registry.bash token-cert DIR                    -> DIR/token.key, DIR/token.crt
# Environment: SKIFF_REGISTRY_CREDS=user:pass for registries with authentication,
# SKIFF_REGISTRY_STORAGE (start: serve another registry's storage directory, e.g.
# the same images behind authentication), SKIFF_REGISTRY_TIMEOUT (seconds,
# default 20), SKIFF_REGISTRY_ACCESSLOG=1 (start: one line per request in
# DIR/registry.log, e.g. to count blob downloads).
#
# Packages: docker-registry, skopeo, apache2-utils (htpasswd -B), openssl,
# curl, iproute2 (ss).

: "${SKIFF_REGISTRY_TIMEOUT:=20}"

_registry_fail() {
  printf 'registry.bash: %s\n' "$*" >&2
  return 1
}

# registry_poll SECONDS CMD...: runs CMD every 50ms until it succeeds.
registry_poll() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

registry_available() {
  command -v docker-registry >/dev/null && command -v skopeo >/dev/null && command -v curl >/dev/null &&
    command -v ss >/dev/null
}

# _registry_config DIR MODE ARGS...: writes DIR/config.yml.
_registry_config() {
  local dir=$1 mode=${2:-none}
  mkdir -p "${SKIFF_REGISTRY_STORAGE:-$dir/storage}"
  {
    cat <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: $([ -n "${SKIFF_REGISTRY_ACCESSLOG:-}" ] && echo false || echo true)
storage:
  filesystem:
    rootdirectory: ${SKIFF_REGISTRY_STORAGE:-$dir/storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: skiff-test-secret
EOF
    case $mode in
      none) ;;
      htpasswd)
        command -v htpasswd >/dev/null || { _registry_fail "htpasswd missing (apt-get install apache2-utils)"; return 1; }
        htpasswd -Bbc "$dir/htpasswd" "$3" "$4" 2>/dev/null || return 1
        cat <<EOF
auth:
  htpasswd:
    realm: skiff-test
    path: $dir/htpasswd
EOF
        ;;
      token)
        cat <<EOF
auth:
  token:
    realm: $3
    service: $4
    issuer: $5
    rootcertbundle: $6
EOF
        ;;
      *)
        _registry_fail "unknown mode $mode"
        return 1
        ;;
    esac
  } >"$dir/config.yml.tmp" && mv "$dir/config.yml.tmp" "$dir/config.yml"
}

# The port a PID listens on (the registry binds port 0: no races).
_registry_port_of() {
  ss -Hltnp 2>/dev/null | awk -v pid="pid=$1," 'index($0, pid) { n = split($4, a, ":"); print a[n]; exit }'
}

_registry_up() {
  local code
  kill -0 "$1" 2>/dev/null || return 2
  SKIFF_REGISTRY_PORT=$(_registry_port_of "$1")
  [ -n "$SKIFF_REGISTRY_PORT" ] || return 1
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SKIFF_REGISTRY_PORT/v2/") || return 1
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

# registry_start DIR [MODE ARGS...]: sets SKIFF_REGISTRY_PID, SKIFF_REGISTRY_PORT,
# SKIFF_REGISTRY_ADDR; writes DIR/pid, DIR/port, logs to DIR/registry.log.
registry_start() {
  local dir=$1
  shift
  [ -n "$dir" ] || { _registry_fail "registry_start: no directory"; return 1; }
  _registry_config "$dir" "$@" || return 1
  # A clean environment: distribution reads REGISTRY_* variables as config.
  env -i PATH="$PATH" docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  SKIFF_REGISTRY_PID=$!
  echo "$SKIFF_REGISTRY_PID" >"$dir/pid"
  if ! registry_poll "$SKIFF_REGISTRY_TIMEOUT" _registry_up "$SKIFF_REGISTRY_PID"; then
    cat "$dir/registry.log" >&2
    registry_stop "$dir"
    _registry_fail "registry in $dir did not come up"
    return 1
  fi
  echo "$SKIFF_REGISTRY_PORT" >"$dir/port"
  SKIFF_REGISTRY_ADDR=127.0.0.1:$SKIFF_REGISTRY_PORT
  export SKIFF_REGISTRY_PID SKIFF_REGISTRY_PORT SKIFF_REGISTRY_ADDR
}

_registry_gone() { ! kill -0 "$1" 2>/dev/null; }

# registry_stop DIR: TERM, then KILL after SKIFF_REGISTRY_TIMEOUT; by PID only.
registry_stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    registry_poll "$SKIFF_REGISTRY_TIMEOUT" _registry_gone "$pid" || kill -KILL "$pid" 2>/dev/null
    registry_poll "$SKIFF_REGISTRY_TIMEOUT" _registry_gone "$pid"
  fi
  wait "$pid" 2>/dev/null
  rm -f "$dir/pid"
}

# registry_push_archive ADDR ARCHIVE REPO:TAG [skopeo options]: a
# docker-archive (as `docker save` / image_save writes it) into the registry.
registry_push_archive() {
  local addr=$1 archive=$2 target=$3
  shift 3
  local creds=()
  [ -z "${SKIFF_REGISTRY_CREDS:-}" ] || creds=(--dest-creds "$SKIFF_REGISTRY_CREDS")
  skopeo --insecure-policy copy -q --dest-tls-verify=false "${creds[@]}" "$@" \
    "docker-archive:$archive" "docker://$addr/$target" >&2
}

_registry_curl() {
  local creds=()
  [ -z "${SKIFF_REGISTRY_CREDS:-}" ] || creds=(-u "$SKIFF_REGISTRY_CREDS")
  curl -sS --fail-with-body "${creds[@]}" "$@"
}

# registry_put_blob ADDR REPO FILE: monolithic upload; prints the digest.
registry_put_blob() {
  local addr=$1 repo=$2 file=$3 digest location
  digest=sha256:$(sha256sum "$file" | cut -d' ' -f1)
  location=$(_registry_curl -X POST -D - -o /dev/null "http://$addr/v2/$repo/blobs/uploads/" |
    tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }') || return 1
  [ -n "$location" ] || { _registry_fail "no upload location for $repo"; return 1; }
  case $location in
    http*) ;;
    *) location=http://$addr$location ;;
  esac
  case $location in
    *\?*) location="$location&digest=$digest" ;;
    *) location="$location?digest=$digest" ;;
  esac
  _registry_curl -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$file" \
    -o /dev/null "$location" || return 1
  echo "$digest"
}

# registry_put_manifest ADDR REPO REF MEDIA_TYPE FILE
registry_put_manifest() {
  _registry_curl -X PUT -H "Content-Type: $4" --data-binary "@$5" -o /dev/null "http://$1/v2/$2/manifests/$3"
}

# registry_token_cert DIR: an RSA key and self-signed certificate for a
# token server (the registry's rootcertbundle).
registry_token_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=skiff-test-token \
    -keyout "$1/token.key" -out "$1/token.crt" >/dev/null 2>&1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  cmd=${1:-}
  shift || true
  case $cmd in
    start)
      registry_start "$@" || exit 1
      echo "$SKIFF_REGISTRY_PID $SKIFF_REGISTRY_PORT"
      ;;
    stop) registry_stop "$@" ;;
    push-archive) registry_push_archive "$@" ;;
    put-blob) registry_put_blob "$@" ;;
    put-manifest) registry_put_manifest "$@" ;;
    token-cert) registry_token_cert "$@" ;;
    available) registry_available ;;
    *)
      echo "usage: $0 start|stop|push-archive|put-blob|put-manifest|token-cert|available ..." >&2
      exit 2
      ;;
  esac
fi
