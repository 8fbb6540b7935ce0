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

@test "skiffd links neither libcurl nor libarchive nor libcrypto, the CLI not libcrypto; skiff-image does" {
  run readelf -d "$SKIFF"
  [ "$status" -eq 0 ]
  [[ "$output" != *libcrypto* && "$output" == *libresolv* ]]
  run readelf -d "$SKIFFD"
  [ "$status" -eq 0 ]
  [[ "$output" != *libcurl* && "$output" != *libarchive* && "$output" != *libcrypto* ]]
  run ldd "$SKIFFD"
  [[ "$output" != *libcurl* && "$output" != *libarchive* ]]
  run readelf -d "$SKIFF_IMAGE_HELPER"
  [[ "$output" == *libcurl* && "$output" == *libarchive* && "$output" == *libcrypto* ]]
}

@test "after an operation no skiff-image runs one, and nothing is left in the staging area" {
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" alpine >/dev/null
  skiff version >/dev/null
  [ -z "$(daemon_helper_pids)" ]
  [ -z "$(ls -A "$D_ROOT/image/tmp")" ]
}

# The pid skiffd logged for the last operation of that name.
op_pid() { sed -n "s/.* debug: skiff-image $1: pid \([0-9]*\)\$/\1/p" "$D_LOG" | tail -1; }
one_server() { [ "$(daemon_image_server_pid | wc -l)" -eq 1 ]; }

@test "image operations run in processes forked by one skiff-image fork server, which stays for the next one" {
  local server first second
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" alpine >/dev/null
  poll_until 20 one_server
  server=$(daemon_image_server_pid)
  first=$(op_pid save)
  [[ "$(tr '\0' ' ' <"/proc/$server/cmdline")" == *" --fork-server " ]]
  # its operation's process has ended, and left no staging directory
  [ -n "$first" ] && [ "$first" != "$server" ]
  poll_until 20 pid_dead "$first"
  [ -z "$(ls -A "$D_ROOT/image/tmp")" ]

  run skiff save -o "$BATS_TEST_TMPDIR/b.tar" alpine
  [ "$status" -eq 0 ]
  cmp "$BATS_TEST_TMPDIR/a.tar" "$BATS_TEST_TMPDIR/b.tar"
  second=$(op_pid save)
  [ "$second" != "$first" ] && [ "$second" != "$server" ]
  [ "$(daemon_image_server_pid)" = "$server" ]
  # skiffd started no other skiff-image of its own
  [ "$(grep -c 'debug: skiff-image server: pid' "$D_LOG")" -ge 1 ]
  [ -z "$(ps -o pid=,comm= --ppid "$(_daemon_pid)" | awk '$2 == "skiff-image"')" ]
}

@test "the fork server killed while it waits: the next operation starts a new one and works" {
  local server
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" alpine >/dev/null
  poll_until 20 one_server
  server=$(daemon_image_server_pid)
  kill -KILL "$server"
  poll_until 20 pid_dead "$server"
  poll_until 20 grep -q "skiff-image server (pid $server) ended: signal 9" "$D_LOG"
  run skiff save -o "$BATS_TEST_TMPDIR/b.tar" alpine
  [ "$status" -eq 0 ]
  cmp "$BATS_TEST_TMPDIR/a.tar" "$BATS_TEST_TMPDIR/b.tar"
  poll_until 20 one_server
  [ "$(daemon_image_server_pid)" != "$server" ]
}

@test "--image-helper-idle: the fork server ends after that many seconds unused; 0 starts a skiff-image per operation; a bad value is refused" {
  local server pid
  daemon_stop
  D_SKIFFD_OPTS="--image-helper-idle 1" daemon_start
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" alpine >/dev/null
  poll_until 20 one_server
  server=$(daemon_image_server_pid)
  poll_until 20 pid_dead "$server"
  grep -q "skiff-image server (pid $server): no operation for 1 s, it ends" "$D_LOG"
  [ -z "$(daemon_image_server_pid)" ]

  daemon_stop
  D_SKIFFD_OPTS="--image-helper-idle 0" daemon_start
  skiff save -o "$BATS_TEST_TMPDIR/b.tar" alpine >/dev/null
  pid=$(op_pid save)
  skiff version >/dev/null
  [ -z "$(daemon_image_server_pid)" ]
  cmp "$BATS_TEST_TMPDIR/a.tar" "$BATS_TEST_TMPDIR/b.tar"
  # that skiff-image was skiffd's own child
  grep -q "skiff-image save: pid $pid\$" "$D_LOG"
  ! grep -q "skiff-image server: pid" <(tail -n +"$(grep -n 'listening on' "$D_LOG" | tail -1 | cut -d: -f1)" "$D_LOG")
  daemon_stop

  run "$SKIFFD" --image-helper-idle 1x
  [ "$status" -eq 1 ]
  [[ "$output" == *"invalid --image-helper-idle \`1x\`: give whole seconds, 0 to 86400"* ]]
  run "$SKIFFD" --image-helper-idle -1
  [ "$status" -eq 1 ]
  daemon_start
}

@test "skiff-image --fork-server wants its socket on fd 4 and no command" {
  run "$SKIFF_IMAGE_HELPER" --root "$D_ROOT" --fork-server 4>&-
  [ "$status" -eq 1 ]
  [[ "$output" == *"--fork-server: fd 4 is not open"* ]]
  run "$SKIFF_IMAGE_HELPER" --fork-server pull alpine
  [ "$status" -eq 1 ]
  [[ "$output" == *"--fork-server takes its commands from fd 4, not from arguments"* ]]
}

# kill_mid_load NAME VICTIM: a load of a new image NAME (a 32 MiB layer)
# gets half of its archive, then nothing, so that its skiff-image waits
# for the rest; then VICTIM is killed: "process" (that skiff-image) or
# "server" (the fork server, its parent).  The load fails with a clear
# error, the store is as it was, nothing is left, the same load then works.
kill_mid_load() {
  local name=$1 victim=$2 big=$BATS_TEST_TMPDIR/big fifo=$BATS_TEST_TMPDIR/body out=$BATS_TEST_TMPDIR/answer
  local before pid curl_pid size
  image_with_blob "$name" 32 "$big"
  before=$(store_listing)

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
  # the fork server forked it
  [ "$(awk '{ print $4 }' "/proc/$pid/stat")" = "$(daemon_image_server_pid)" ]
  if [ "$victim" = server ]; then
    kill -KILL "$(daemon_image_server_pid)"
  else
    kill -KILL "$pid"
  fi
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
  poll_until 20 pid_dead "$pid"
  poll_until 20 test ! -e "$D_ROOT/image/tmp/skiff-image-$pid"
  [ -z "$(ls -A "$D_ROOT/image/tmp")" ]
  run skiff run --rm --network none alpine echo still running
  [ "$output" = "still running" ]

  run skiff load -i "$big/image.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: $name"* ]]
  run skiff run --rm --network none "$name" stat -c %s /blob
  [ "$output" = $((32 << 20)) ]
  skiff rmi "$name" >/dev/null
}

@test "skiff-image killed in the middle of a load: that load fails with a clear error, the store is as it was, the same load then works" {
  kill_mid_load big:1 process
}

@test "the fork server killed in the middle of a load: the same, its process goes with it" {
  kill_mid_load big:2 server
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
