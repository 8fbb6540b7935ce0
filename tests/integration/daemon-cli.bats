#!/usr/bin/env bats
# The skiff CLI's flags, each with an observable effect, against a skiffd of
# the test's own.

load ../lib/helpers
load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() { skiff_require_root; }

teardown() { daemon_remove_containers; }

r() { skiff run --rm --network none "$@"; }

@test "run -e and --env-file set the environment" {
  printf 'FROM_FILE=yes\n# comment\n\nOTHER=2\n' >"$BATS_TEST_TMPDIR/env"
  run r -e A=1 --env-file "$BATS_TEST_TMPDIR/env" alpine sh -c 'echo $A $FROM_FILE $OTHER'
  [ "$status" -eq 0 ]
  [ "$output" = "1 yes 2" ]
}

@test "run -u runs as that user, by number and by name" {
  run r -u 1000:1000 alpine id
  [[ "$output" == "uid=1000(tester) gid=1000"* ]]
  run r -u nobody alpine id -u
  [ "$output" = "65534" ]
}

@test "run --entrypoint replaces the image's command" {
  run r --entrypoint /bin/echo alpine from-entrypoint
  [ "$output" = "from-entrypoint" ]
}

@test "run --cpus, --cpu-shares and --memory-swap reach the cgroup" {
  run r --cpus 1.5 --cpu-shares 512 -m 64m --memory-swap 128m alpine sh -c \
    'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares
     cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo no-swap-accounting'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "150000" ]
  [ "${lines[1]}" = "100000" ]
  [ "${lines[2]}" = "512" ]
  [[ "${lines[3]}" == "134217728" || "${lines[3]}" == "no-swap-accounting" ]]
}

@test "run --cap-add adds a capability, --privileged gives them all" {
  run r --cap-add SYS_ADMIN alpine grep CapEff /proc/self/status
  [[ "$output" == *"00000000a82425fb" ]]
  # privileged: every capability skiffd itself holds
  want=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
  run r --privileged alpine grep CapEff /proc/self/status
  [ "$status" -eq 0 ]
  [[ "$output" == *"$want" ]]
}

@test "--security-opt no-new-privileges and seccomp=unconfined" {
  run r --security-opt no-new-privileges alpine grep NoNewPrivs /proc/self/status
  [[ "$output" == *"NoNewPrivs:"*"1" ]]
  run r alpine grep Seccomp: /proc/self/status
  [[ "$output" == *"Seccomp:"*"2" ]]
  run r --security-opt seccomp=unconfined alpine grep Seccomp: /proc/self/status
  [[ "$output" == *"Seccomp:"*"0" ]]
}

@test "the default seccomp profile refuses what Docker's refuses" {
  # unshare(CLONE_NEWUSER) is not allowed without CAP_SYS_ADMIN.
  run r alpine unshare -U true
  [ "$status" -ne 0 ]
}

@test "run -l sets labels, visible in inspect" {
  id=$(skiff create -l team=boats --network none alpine true)
  run skiff inspect -f '{{index .Config.Labels "team"}}' "$id"
  [ "$output" = "boats" ]
}

@test "run --init puts an init at PID 1" {
  run r --init alpine sh -c 'cat /proc/1/cmdline | tr "\0" " "'
  [[ "$output" == "/sbin/docker-init -- sh -c"* ]]
}

@test "run -i passes stdin, -t gives a terminal" {
  run bash -c "echo piped-in | $SKIFF -H unix://$D_SOCK run --rm -i --network none alpine cat"
  [ "$output" = "piped-in" ]
  run script -qfec "$SKIFF -H unix://$D_SOCK run --rm -t --network none alpine tty" /dev/null
  [[ "$output" == "/dev/pts/0"* ]]
}

@test "run -i and exec -i without a terminal pass any bytes: ctrl-p ctrl-q does not detach" {
  local f=$BATS_TEST_TMPDIR/bin
  { head -c 1000 /dev/urandom; printf 'a\020\021b'; head -c 300000 /dev/urandom; } >"$f"
  want=$(md5sum <"$f" | cut -d' ' -f1)
  run bash -c "$SKIFF -H unix://$D_SOCK run --rm -i --network none alpine md5sum <'$f'"
  [ "$status" -eq 0 ]
  [ "${output%% *}" = "$want" ]
  skiff run -d --name bin1 --network none alpine sleep 300 >/dev/null
  run bash -c "$SKIFF -H unix://$D_SOCK exec -i bin1 md5sum <'$f'"
  [ "$status" -eq 0 ]
  [ "${output%% *}" = "$want" ]
  skiff rm -f bin1 >/dev/null
}

@test "--shm-size default is 64 MiB and /etc files are managed" {
  run r -h box alpine sh -c 'df -k /dev/shm | tail -1; cat /etc/hostname; grep -c localhost /etc/hosts'
  [[ "${lines[0]}" == *" 65536 "* ]]
  [ "${lines[1]}" = "box" ]
  [ "${lines[2]}" -ge 1 ]
}

@test "a single-character name is refused, as Docker does" {
  run skiff create --name k --network none alpine true
  [ "$status" -ne 0 ]
  [[ "$output" == *"Invalid container name (k)"* ]]
}

@test "a container's hostname is its short id by default" {
  id=$(skiff run -d --network none alpine sleep 300)
  run skiff exec "$id" hostname
  [ "$output" = "${id:0:12}" ]
}

@test "create then start -a attaches and returns the status" {
  id=$(skiff create --network none alpine sh -c 'echo started-late; exit 4')
  run skiff start -a "$id"
  [ "$status" -eq 4 ]
  [ "$output" = "started-late" ]
}

@test "kill -s sends the signal, wait returns the status" {
  skiff run -d --name kl --network none alpine sh -c 'trap "exit 42" USR1; while :; do sleep 0.1; done' >/dev/null
  run skiff kill -s USR1 kl
  [ "$status" -eq 0 ]
  run skiff wait kl
  [ "$output" = "42" ]
}

@test "restart runs the container again" {
  skiff run -d --name rs --network none alpine sleep 300 >/dev/null
  before=$(api GET /containers/rs/json | jq -r .State.StartedAt)
  run skiff restart -t 1 rs
  [ "$status" -eq 0 ]
  [ "$(ctr_status rs)" = "running" ]
  [ "$(api GET /containers/rs/json | jq -r .State.StartedAt)" != "$before" ]
}

@test "ps -q -n -l --no-trunc and --filter" {
  a=$(skiff run -d --name psa --network none alpine sleep 300)
  b=$(skiff create --name psb --network none alpine true)
  run skiff ps -q
  [ "$output" = "${a:0:12}" ]
  run skiff ps -aq --no-trunc
  [[ "$output" == *"$a"* && "$output" == *"$b"* ]]
  run skiff ps -l -q
  [ "$output" = "${b:0:12}" ]
  run skiff ps -a -n 1 -q
  [ "$output" = "${b:0:12}" ]
  run skiff ps -a -q --filter name=psa
  [ "$output" = "${a:0:12}" ]
  run skiff ps -a -q --filter status=created
  [ "$output" = "${b:0:12}" ]
  run skiff ps -a --format '{{json .}}'
  echo "$output" | head -1 | jq -e .ID >/dev/null
}

@test "inspect prints Docker's JSON" {
  id=$(skiff run -d --name ins --network none alpine sleep 300)
  run skiff inspect ins
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --arg id "$id" '.[0].Id == $id and .[0].State.Running == true and .[0].Name == "/ins"'
}

@test "logs --tail, -t and -f" {
  skiff run -d --name lf --network none alpine sh -c 'for i in 1 2 3; do echo line$i; done; sleep 1; echo late' >/dev/null
  _has_three() { skiff logs lf | grep -q line3; }
  wait_for _has_three
  run skiff logs --tail 1 lf
  [ "$output" = "line3" ]
  run skiff logs -t --tail 1 lf
  [[ "$output" =~ ^20[0-9-]+T[0-9:.]+Z\ line3$ ]]
  run timeout 20 "$SKIFF" -H "unix://$D_SOCK" logs -f lf
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "late" ]
}

@test "exec -d -e -u -w" {
  skiff run -d --name ex2 --network none alpine sleep 300 >/dev/null
  run skiff exec -e X=y -u 1000 -w /tmp ex2 sh -c 'echo $X $(id -u) $(pwd)'
  [ "$output" = "y 1000 /tmp" ]
  run skiff exec -d ex2 sh -c 'echo detached > /tmp/marker'
  [ "$status" -eq 0 ]
  _marker() { skiff exec ex2 cat /tmp/marker 2>/dev/null | grep -q detached; }
  wait_for _marker
}

@test "exec -it gives the process a terminal" {
  skiff run -d --name ex3 --network none alpine sleep 300 >/dev/null
  run script -qfec "$SKIFF -H unix://$D_SOCK exec -it ex3 tty" /dev/null
  [[ "$output" == *"/dev/pts/"* ]]
}

@test "top lists the container's processes" {
  skiff run -d --name tp --network none alpine sleep 300 >/dev/null
  run skiff top tp
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *PID* ]]
  [[ "$output" == *"sleep 300"* ]]
}

@test "container prune removes stopped containers only" {
  skiff run -d --name keep --network none alpine sleep 300 >/dev/null
  gone=$(skiff create --network none alpine true)
  run skiff container prune -f
  [ "$status" -eq 0 ]
  [[ "$output" == *"$gone"* ]]
  run skiff ps -aq
  [ "$output" = "$(skiff ps -q)" ]
}

@test "save -o, rmi, load -i and images round-trip an image" {
  id=$(api GET /images/alpine/json | jq -r .Id)
  run skiff save -o "$BATS_TEST_TMPDIR/img.tar" alpine:latest
  [ "$status" -eq 0 ]
  # an OCI image layout as well (Docker 25's archive): skopeo reads it
  run skopeo inspect --config --raw "oci-archive:$BATS_TEST_TMPDIR/img.tar:latest"
  [ "$status" -eq 0 ]
  [ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$id" ]
  tar -xOf "$BATS_TEST_TMPDIR/img.tar" index.json |
    jq -e '.manifests[0].annotations["io.containerd.image.name"] == "docker.io/library/alpine:latest"'
  run skiff rmi alpine:latest
  [ "$status" -eq 0 ]
  [[ "$output" == *"Untagged: alpine:latest"* ]]
  run skiff images -q
  [ -z "$output" ]
  run skiff load -i "$BATS_TEST_TMPDIR/img.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: alpine:latest"* ]]
  # the same image, by id
  [ "$(api GET /images/alpine/json | jq -r .Id)" = "$id" ]
}

@test "run of a missing command: 127; of a directory: 126" {
  run -127 r alpine /no/such/command
  [ "$status" -eq 127 ]
  [[ "$output" == *"no such file or directory"* ]]
  run -127 r alpine nosuchcommand
  [ "$status" -eq 127 ]
  [[ "$output" == *"executable file not found"* ]]
  run -126 r alpine /etc
  [ "$status" -eq 126 ]
}

@test "a container whose shim died is reported as exited with a reason" {
  id=$(skiff run -d --name sd --network none alpine sleep 300)
  kill -KILL "$(cat "$D_EXEC/shims/$id/shim.pid")"
  _exited() { [ "$(ctr_status sd)" = "exited" ]; }
  wait_for _exited
  run api GET /containers/sd/json
  echo "$output" | jq -e '.State.Error | test("shim")'
  # and its processes are gone
  [ -z "$(find /sys/fs/cgroup/pids/skiff -mindepth 1 -type d -name "$id" 2>/dev/null)" ]
}

@test "the daemon not reachable: one line naming the socket" {
  run "$SKIFF" -H unix:///tmp/no-such-skiff.sock ps
  [ "$status" -ne 0 ]
  [[ "$output" == *"/tmp/no-such-skiff.sock"* ]]
}

@test "restart always brings an exited container back; stop keeps it stopped" {
  skiff run -d --name ra --restart always --network none alpine sh -c 'sleep 0.3; exit 0' >/dev/null
  _restarted() { [ "$(api GET /containers/ra/json | jq -r .RestartCount)" -ge 2 ]; }
  wait_for _restarted
  run skiff stop -t 1 ra
  [ "$status" -eq 0 ]
  count=$(api GET /containers/ra/json | jq -r .RestartCount)
  [ "$(ctr_status ra)" = "exited" ]
  # no restart after a manual stop: no start event in the next 2 s
  # (since with a fraction: a start earlier in the same second is not "after")
  now=$EPOCHREALTIME
  run curl -s --unix-socket "$D_SOCK" -G "http://x/events" --data-urlencode "since=$now" \
    --data-urlencode "until=$(awk -v t="$now" 'BEGIN { printf "%.6f", t + 2 }')" \
    --data-urlencode 'filters={"container":["ra"],"event":["start"]}'
  [ -z "$output" ]
  [ "$(ctr_status ra)" = "exited" ]
  [ "$(api GET /containers/ra/json | jq -r .RestartCount)" = "$count" ]
}

@test "attach --detach-keys with custom keys detaches" {
  skiff run -dit --name dk2 --network none alpine ash >/dev/null
  run bash -c "(sleep 0.5; printf 'echo custom-\$((2*21))\r'; sleep 0.5; printf '\001x') |
               script -qfec '$SKIFF -H unix://$D_SOCK attach --detach-keys ctrl-a,x dk2' /dev/null"
  [[ "$output" == *"custom-42"* ]]
  [ "$(ctr_status dk2)" = "running" ]
}

@test "logs --since in the future shows nothing" {
  skiff run --name ls1 --network none alpine echo old-line >/dev/null
  run skiff logs --since "$(($(date +%s) + 3600))" ls1
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "the docker CLI: info, logs, load, exec -it and attach with detach" {
  command -v docker >/dev/null || skip "no docker CLI"
  export DOCKER_HOST=unix://$D_SOCK
  run docker info
  [ "$status" -eq 0 ]
  [[ "$output" == *"Server Version: 0.1.0"* ]]
  docker run --name dlog --network none alpine echo via-docker-logs >/dev/null
  run docker logs dlog
  [ "$output" = "via-docker-logs" ]
  skiff save -o "$BATS_TEST_TMPDIR/a.tar" alpine:latest
  run docker load -i "$BATS_TEST_TMPDIR/a.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: alpine:latest"* ]]
  docker run -dit --name dat --network none alpine ash >/dev/null
  run script -qfec "docker exec -it dat tty" /dev/null
  [[ "$output" == *"/dev/pts/"* ]]
  run bash -c "(sleep 0.5; printf 'echo docker-\$((40+2))\r'; sleep 0.5; printf '\020\021') |
               script -qfec 'docker attach dat' /dev/null"
  [[ "$output" == *"docker-42"* ]]
  [ "$(ctr_status dat)" = "running" ]
}

@test "image prune removes dangling images, -a every unused one, never what a container or another image uses" {
  tar=$SKIFF_TEST_TMP/alpine-rootfs.tar
  alpine=$(api GET /images/alpine/json | jq -r .Id)
  dangling=$(skiff import -c 'CMD ["/bin/sh"]' -m one "$tar")
  unused=$(skiff import -c 'CMD ["/bin/true"]' -m two "$tar" spare:1)
  # the same layer in all three: it must stay while alpine keeps it
  skiff create --name keeper alpine true >/dev/null
  run skiff image prune -f
  [ "$status" -eq 0 ]
  [[ "$output" == *"Deleted Images:"*"deleted: $dangling"* ]]
  [[ "$output" != *"$unused"* ]]
  [[ "$output" == *"Total reclaimed space: 0B"* ]]
  run skiff image prune -a -f
  [ "$status" -eq 0 ]
  [[ "$output" == *"untagged: spare:1"*"deleted: $unused"* ]]
  [[ "$output" != *"$alpine"* ]]
  run skiff images -q --no-trunc
  [ "$output" = "$alpine" ]
  run skiff start -a keeper
  [ "$status" -eq 0 ]
  # nothing is left to prune; without -f it asks and a "n" stops it
  run bash -c "echo n | $SKIFF -H unix://$D_SOCK image prune -a"
  [[ "$output" == *"WARNING! This will remove all images without at least one container associated to them."* ]]
  skiff rm keeper >/dev/null
  run skiff image prune -a -f
  [[ "$output" == *"untagged: alpine:latest"*"deleted: $alpine"* ]]
  [[ "$output" =~ Total\ reclaimed\ space:\ [1-9][0-9.]*MB ]]
  import_alpine
}
