#!/bin/bash
# make-fixture-images.sh OUT
#
# Builds the test bed's fixture images from Debian packages, as OCI image
# layouts that `skopeo copy --all oci:OUT/NAME:latest docker://...` pushes:
#
#   OUT/alpine   the alpine stand-in: one layer, the busybox-static rootfs of
#                make-rootfs.sh; Cmd ["/bin/sh"].  Docker media types (schema 2
#                manifests under a manifest list).
#   OUT/nginx    the alpine stand-in's layer plus the nginx layer of
#                make-nginx-rootfs.sh; Cmd ["nginx","-g","daemon off;"],
#                ExposedPorts 80/tcp, StopSignal SIGQUIT.  OCI media types
#                (image manifests under an image index).
#
# Each layout's index.json names three references:
#   latest   the multi-platform list: linux/arm64/v8 first, then linux/amd64
#   amd64    the linux/amd64 manifest (the image a pull on this machine picks)
#   arm64    the linux/arm64/v8 manifest: config architecture arm64, and one
#            more layer holding /etc/skiff-fixture-platform; a stand-in (the
#            binaries are the machine's), there so that a client has to pick
#            from the list, and one that picks wrong is seen to
# and OUT/NAME/fixture.json records the digests: .index, .mediaType,
# .platforms["linux/amd64"] = {manifest, config, layers: [digest...]}, ...
#
# Deterministic: layers are tarred in name order with fixed times and
# numeric owners and gzipped without a time stamp; JSON is written compactly
# by jq; `created` is a fixed date.  The same Debian packages give the same
# digests on every build.  Idempotent and atomic per layout (built in
# OUT/NAME.tmp.<pid>, renamed when complete).  The source trees and the
# downloaded .debs stay in OUT/src for the next build.
#
# Packages: busybox-static, tar, gzip, jq, coreutils; nginx and nginx-common
# are fetched with `apt-get download`, not installed.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUT" >&2
  exit 2
fi
out=$1
lib=$(cd "$(dirname "$0")" && pwd)
stamp=.skiff-fixture-v1
umask 022
export LC_ALL=C

# bookworm's release day: a fixed creation time keeps the configs stable.
created=2023-06-10T00:00:00Z
epoch=1686355200

mkdir -p "$out/src"
sh "$lib/make-rootfs.sh" "$out/src/busybox"
sh "$lib/make-nginx-rootfs.sh" "$out/src/nginx" "$out/src/nginx.debs"
if [ ! -f "$out/src/marker-arm64/$stamp" ]; then
  rm -rf "$out/src/marker-arm64"
  mkdir -p "$out/src/marker-arm64.tmp/etc"
  echo linux/arm64/v8 >"$out/src/marker-arm64.tmp/etc/skiff-fixture-platform"
  touch "$out/src/marker-arm64.tmp/$stamp"
  mv -T "$out/src/marker-arm64.tmp" "$out/src/marker-arm64"
fi

busybox_version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)
nginx_version=$(cat "$out/src/nginx/.nginx-version")

# ---- blobs ----

# put_blob LAYOUT FILE: moves FILE into the layout's blobs; prints the digest.
put_blob() {
  local hex
  hex=$(sha256sum "$2" | cut -d' ' -f1)
  mv -f "$2" "$1/blobs/sha256/$hex"
  echo "sha256:$hex"
}

blob_size() { stat -c %s "$1/blobs/sha256/${2#sha256:}"; }

# put_json LAYOUT JSON: a compact JSON document as a blob; prints the digest.
put_json() {
  printf '%s' "$2" >"$1/blobs/.json"
  put_blob "$1" "$1/blobs/.json"
}

# put_layer LAYOUT DIR: DIR as a gzipped tar layer; sets LAYER_DIGEST,
# LAYER_DIFF_ID, LAYER_SIZE.  The builders' stamp and version files stay out.
put_layer() {
  local l=$1 dir=$2 names
  names=$(cd "$dir" && find . -mindepth 1 -maxdepth 1 ! -name '.skiff-*' ! -name '.nginx-version' -printf '%P\n' | sort)
  # shellcheck disable=SC2086 # one word per top-level name (none has blanks)
  (cd "$dir" && tar --sort=name --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime="@$epoch" --numeric-owner -cf - $names) >"$l/blobs/.tar"
  LAYER_DIFF_ID=sha256:$(sha256sum "$l/blobs/.tar" | cut -d' ' -f1)
  gzip -n -6 -c "$l/blobs/.tar" >"$l/blobs/.tar.gz"
  rm -f "$l/blobs/.tar"
  LAYER_DIGEST=$(put_blob "$l" "$l/blobs/.tar.gz")
  LAYER_SIZE=$(blob_size "$l" "$LAYER_DIGEST")
}

# ---- one image (one platform) ----

# put_image LAYOUT MEDIA PLATFORM CONFIG_JSON LAYER_DIR:WHAT...: the layers,
# the image config (CONFIG_JSON is its "config" object) and the manifest.
# Sets MANIFEST_DIGEST, MANIFEST_SIZE, CONFIG_DIGEST, LAYER_DIGESTS (JSON).
put_image() {
  local l=$1 media=$2 platform=$3 cfg=$4
  shift 4
  local os arch variant diff_ids='[]' history='[]' layers='[]' spec dir what config manifest
  local layer_type config_type manifest_type
  if [ "$media" = docker ]; then
    layer_type=application/vnd.docker.image.rootfs.diff.tar.gzip
    config_type=application/vnd.docker.container.image.v1+json
    manifest_type=application/vnd.docker.distribution.manifest.v2+json
  else
    layer_type=application/vnd.oci.image.layer.v1.tar+gzip
    config_type=application/vnd.oci.image.config.v1+json
    manifest_type=application/vnd.oci.image.manifest.v1+json
  fi
  IFS=/ read -r os arch variant <<<"$platform"
  for spec in "$@"; do
    dir=${spec%%:*}
    what=${spec#*:}
    put_layer "$l" "$dir"
    diff_ids=$(jq -c --arg d "$LAYER_DIFF_ID" '. + [$d]' <<<"$diff_ids")
    history=$(jq -c --arg c "$created" --arg w "$what" '. + [{created: $c, created_by: $w}]' <<<"$history")
    layers=$(jq -c --arg t "$layer_type" --arg d "$LAYER_DIGEST" --argjson s "$LAYER_SIZE" \
      '. + [{mediaType: $t, size: $s, digest: $d}]' <<<"$layers")
  done
  config=$(jq -nc --arg arch "$arch" --arg os "$os" --arg variant "${variant:-}" --arg c "$created" \
    --argjson cfg "$cfg" --argjson diff_ids "$diff_ids" --argjson history "$history" \
    '{architecture: $arch} + (if $variant != "" then {variant: $variant} else {} end)
     + {os: $os, created: $c, config: $cfg, rootfs: {type: "layers", diff_ids: $diff_ids}, history: $history}')
  CONFIG_DIGEST=$(put_json "$l" "$config")
  manifest=$(jq -nc --arg mt "$manifest_type" --arg ct "$config_type" --arg cd "$CONFIG_DIGEST" \
    --argjson cs "$(blob_size "$l" "$CONFIG_DIGEST")" --argjson layers "$layers" \
    '{schemaVersion: 2, mediaType: $mt, config: {mediaType: $ct, size: $cs, digest: $cd}, layers: $layers}')
  MANIFEST_DIGEST=$(put_json "$l" "$manifest")
  MANIFEST_SIZE=$(blob_size "$l" "$MANIFEST_DIGEST")
  MANIFEST_TYPE=$manifest_type
  LAYER_DIGESTS=$(jq -c '[.[].digest]' <<<"$layers")
}

# ---- one layout: both platforms, the list, index.json ----

# build_layout NAME MEDIA CONFIG_JSON LAYER_DIR:WHAT...
build_layout() {
  local name=$1 media=$2 cfg=$3
  shift 3
  local dest=$out/$name tmp list_type list entries='[]' platforms='{}' list_digest
  [ -f "$dest/$stamp" ] && return 0
  tmp=$dest.tmp.$$
  rm -rf "$tmp"
  mkdir -p "$tmp/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
  if [ "$media" = docker ]; then
    list_type=application/vnd.docker.distribution.manifest.list.v2+json
  else
    list_type=application/vnd.oci.image.index.v1+json
  fi

  local platform ref refs='[]'
  # arm64 first: a client that takes the first entry is caught.
  for platform in linux/arm64/v8 linux/amd64; do
    if [ "$platform" = linux/amd64 ]; then
      put_image "$tmp" "$media" "$platform" "$cfg" "$@"
      ref=amd64
    else
      put_image "$tmp" "$media" "$platform" "$cfg" "$@" \
        "$out/src/marker-arm64:skiff fixture: /etc/skiff-fixture-platform (linux/arm64/v8 stand-in)"
      ref=arm64
    fi
    entries=$(jq -c --arg t "$MANIFEST_TYPE" --arg d "$MANIFEST_DIGEST" --argjson s "$MANIFEST_SIZE" \
      --arg p "$platform" \
      '. + [{mediaType: $t, size: $s, digest: $d, platform: ($p | split("/")
             | {architecture: .[1], os: .[0]} + (if .[2] then {variant: .[2]} else {} end))}]' <<<"$entries")
    platforms=$(jq -c --arg p "$platform" --arg m "$MANIFEST_DIGEST" --arg c "$CONFIG_DIGEST" \
      --argjson l "$LAYER_DIGESTS" '. + {($p): {manifest: $m, config: $c, layers: $l}}' <<<"$platforms")
    refs=$(jq -c --arg t "$MANIFEST_TYPE" --arg d "$MANIFEST_DIGEST" --argjson s "$MANIFEST_SIZE" --arg r "$ref" \
      '. + [{mediaType: $t, size: $s, digest: $d, annotations: {"org.opencontainers.image.ref.name": $r}}]' <<<"$refs")
  done
  list=$(jq -nc --arg t "$list_type" --argjson m "$entries" '{schemaVersion: 2, mediaType: $t, manifests: $m}')
  list_digest=$(put_json "$tmp" "$list")
  jq -nc --arg t "$list_type" --arg d "$list_digest" --argjson s "$(blob_size "$tmp" "$list_digest")" \
    --argjson refs "$refs" \
    '{schemaVersion: 2, manifests: ([{mediaType: $t, size: $s, digest: $d,
       annotations: {"org.opencontainers.image.ref.name": "latest"}}] + $refs)}' >"$tmp/index.json"
  jq -nc --arg n "library/$name" --arg d "$list_digest" --arg t "$list_type" --argjson p "$platforms" \
    '{name: $n, index: $d, mediaType: $t, platforms: $p}' >"$tmp/fixture.json"
  touch "$tmp/$stamp"
  rm -rf "$dest"
  mv -T "$tmp" "$dest"
}

path=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
base="$out/src/busybox:skiff fixture: busybox-static $busybox_version rootfs (make-rootfs.sh)"

build_layout alpine docker "$(jq -nc --arg p "$path" '{Env: [$p], Cmd: ["/bin/sh"]}')" "$base"
build_layout nginx oci "$(jq -nc --arg p "$path" '{ExposedPorts: {"80/tcp": {}}, Env: [$p],
    Cmd: ["nginx", "-g", "daemon off;"], StopSignal: "SIGQUIT"}')" \
  "$base" "$out/src/nginx:skiff fixture: nginx $nginx_version (make-nginx-rootfs.sh)"
