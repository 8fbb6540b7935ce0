#!/usr/bin/env bats
# skiff-image: skiffd runs every image operation that needs libcurl,
# libarchive or libcrypto in a helper process of its own, so that skiffd
# links none of them; a helper killed in the middle fails its operation
# only and leaves the store as it was.

load ../lib/helpers
load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() { skiff_require_root; }

# Something is spooled in the staging directory of helper $1.
helper_staged() { [ -n "$(find "$D_ROOT/image/tmp/skiff-image-$1" -type f -size +0 2>/dev/null | head -1)" ]; }

# The image store's files, without the staging area.
store_listing() { (cd "$D_ROOT/image" && find configs layers metadata repositories.json -maxdepth 1 | sort); }

@test "skiffd links neither libcurl nor libarchive nor libcrypto; skiff-image does" {
  run readelf -d "$SKIFFD"
  [ "$status" -eq 0 ]
  [[ "$output" != *libcurl* && "$output" != *libarchive* && "$output" != *libcrypto* ]]
  run ldd "$SKIFFD"
  [[ "$output" != *libcurl* && "$output" != *libarchive* ]]
  run readelf -d "$SKIFF_IMAGE_HELPER"
  [[ "$output" == *libcurl* && "$output" == *libarchive* && "$output" == *libcrypto* ]]
}

@test "no skiff-image runs while the daemon is idle, and none is left after an operation" {
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" alpine >/dev/null
  [ -z "$(daemon_helper_pids)" ]
  [ -z "$(ls -A "$D_ROOT/image/tmp")" ]
}

@test "skiff-image killed in the middle of a load: that load fails with a clear error, the store is as it was, the same load then works" {
  local big=$BATS_TEST_TMPDIR/big fifo=$BATS_TEST_TMPDIR/body out=$BATS_TEST_TMPDIR/answer before pid curl_pid size
  # A new image with a 32 MiB layer, saved to an archive and removed again.
  image_with_blob big:1 32 "$big"
  before=$(store_listing)

  # Half of the archive, then nothing: the helper waits for the rest.
  mkfifo "$fifo"
  curl -sS --unix-socket "$D_SOCK" -X POST -H 'Content-Type: application/x-tar' -T "$fifo" \
    -w '\n%{http_code}\n' http://x/images/load >"$out" 2>&1 &
  curl_pid=$!
  exec 5>"$fifo"
  size=$(stat -c %s "$big/image.tar")
  head -c $((size / 2)) "$big/image.tar" >&5
  poll_until 20 test -n "$(daemon_helper_pids)"
  pid=$(daemon_helper_pids)
  poll_until 20 helper_staged "$pid"
  kill -KILL "$pid"
  exec 5>&-
  wait "$curl_pid"

  run cat "$out"
  [[ "$output" == *"load failed: skiff-image was killed by signal 9"* ]]
  [ "${lines[-1]}" = 500 ]
  # The daemon is fine, knows no new image, and nothing of the half load is left.
  run skiff images --format '{{.Repository}}:{{.Tag}}'
  [ "$status" -eq 0 ]
  [[ "$output" != *big* ]]
  [ "$(store_listing)" = "$before" ]
  poll_until 20 test ! -e "$D_ROOT/image/tmp/skiff-image-$pid"
  [ -z "$(ls -A "$D_ROOT/image/tmp")" ]
  run skiff run --rm --network none alpine echo still running
  [ "$output" = "still running" ]

  run skiff load -i "$big/image.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: big:1"* ]]
  run skiff run --rm --network none big:1 stat -c %s /blob
  [ "$output" = $((32 << 20)) ]
  skiff rmi big:1 >/dev/null
}

@test "a missing skiff-image fails the operation with a message naming it" {
  daemon_stop
  local helper=$SKIFF_IMAGE_HELPER
  SKIFF_IMAGE_HELPER=$D_DIR/no-such-helper daemon_start
  run skiff save -o "$BATS_TEST_TMPDIR/x.tar" alpine
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot run skiff-image \`$D_DIR/no-such-helper\`: no such file or directory"* ]]
  # Everything else works.
  run skiff run --rm --network none alpine echo ok
  [ "$output" = ok ]
  daemon_stop
  SKIFF_IMAGE_HELPER=$helper daemon_start
}
