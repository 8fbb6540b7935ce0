#!/usr/bin/env bats
# skiffd + skiff-shim + the skiff CLI: the container lifecycle on one host.

load ../lib/helpers
load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() { skiff_require_root; }

# Containers a test left behind must not leak into the next one.
teardown() { daemon_remove_containers; }

@test "version and info answer with the daemon's API version" {
  run skiff version
  [ "$status" -eq 0 ]
  [[ "$output" == *"API version:"*"1.41"* ]]
  run skiff info
  [ "$status" -eq 0 ]
  [[ "$output" == *"Containers:"* ]]
}

@test "run --rm prints the command's output and leaves nothing behind" {
  run skiff run --rm --network none alpine echo hello from skiff
  [ "$status" -eq 0 ]
  [ "$output" = "hello from skiff" ]
  [ -z "$(skiff ps -aq)" ]
  # no snapshot, bundle, shim state, runtime state or cgroup
  [ -z "$(ls "$D_ROOT/overlay")" ]
  [ -z "$(ls "$D_EXEC/bundles" 2>/dev/null)" ]
  [ -z "$(ls "$D_EXEC/shims" 2>/dev/null)" ]
  [ -z "$(ls "$D_EXEC/runtime" 2>/dev/null)" ]
  [ -z "$(find /sys/fs/cgroup/pids/skiff -mindepth 1 -type d 2>/dev/null)" ]
}

@test "run passes the container's exit status through" {
  run skiff run --rm --network none alpine sh -c 'exit 7'
  [ "$status" -eq 7 ]
}

@test "an unknown image: Unable to find image, exit 125" {
  run skiff run --rm --network none nosuchimage true
  [ "$status" -eq 125 ]
  [[ "$output" == *"Unable to find image 'nosuchimage:latest' locally"* ]]
}

@test "an unknown flag: usage on stderr and exit 125" {
  run skiff run --no-such-flag alpine true
  [ "$status" -eq 125 ]
}

@test "run -dit --name, container ls, stop and rm of two names" {
  run skiff run -dit --name alpine1 --network none alpine ash
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  run skiff run -dit --name alpine2 --network none alpine ash
  [ "$status" -eq 0 ]
  run skiff container ls
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "CONTAINER ID"*"IMAGE"*"COMMAND"*"CREATED"*"STATUS"*"PORTS"*"NAMES" ]]
  [[ "$output" == *alpine1* ]]
  [[ "$output" == *alpine2* ]]
  [[ "$output" == *"Up "* ]]
  run skiff container stop alpine1 alpine2
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "alpine1" ]
  [ "${lines[1]}" = "alpine2" ]
  run skiff container ls -a
  [[ "$output" == *"Exited ("* ]]
  run skiff container rm alpine1 alpine2
  [ "$status" -eq 0 ]
  [ -z "$(skiff ps -aq)" ]
}

@test "a duplicate name is a conflict that names the holder" {
  id=$(skiff create --name dup --network none alpine true)
  # run reports daemon errors with 125 (create with 1, as docker create)
  run skiff run -d --name dup --network none alpine true
  [ "$status" -eq 125 ]
  [[ "$output" == *"Conflict. The container name \"/dup\" is already in use by container \"$id\""* ]]
}

@test "attach through a pty, then detach with ctrl-p ctrl-q: the container keeps running" {
  skiff run -dit --name att --network none alpine ash >/dev/null
  # script(1) gives the CLI a terminal; its input comes from the pipe.
  run bash -c "(sleep 0.5; printf 'echo marker-\$((6*7))\r'; sleep 0.5; printf '\020\021') |
               script -qfec '$SKIFF -H unix://$D_SOCK attach att' /dev/null"
  [[ "$output" == *"marker-42"* ]]
  [ "$(ctr_status att)" = "running" ]
}

@test "attach shows the waiting shell's prompt again, as docker attach does" {
  skiff run -dit --name prompt --network none alpine ash >/dev/null
  # A terminal of the same size twice, nothing typed but the detach keys:
  # the second time, only the resize trick makes ash print its prompt.
  for i in 1 2; do
    run bash -c "(sleep 0.5; printf '\020\021') |
                 script -qfec 'stty rows 24 cols 80; $SKIFF -H unix://$D_SOCK attach prompt' /dev/null"
  done
  [[ "$output" == *"/ # "* ]]
  [ "$(ctr_status prompt)" = "running" ]
}

@test "logs show what the container printed" {
  skiff run --name lg --network none alpine sh -c 'echo out-line; echo err-line >&2'
  run skiff logs lg
  [ "$status" -eq 0 ]
  [[ "$output" == *"out-line"* ]]
  [[ "$output" == *"err-line"* ]]
}

@test "exec runs in the container and passes its status through" {
  skiff run -d --name ex --network none alpine sleep 300 >/dev/null
  run skiff exec ex sh -c 'echo in-container $(hostname); exit 3'
  [ "$status" -eq 3 ]
  [[ "$output" == "in-container "* ]]
}

@test "the container's limits and defaults reach the process" {
  run skiff run --rm --network none -m 32m --pids-limit 20 --read-only --cap-drop NET_RAW -w /tmp -e FOO=bar \
    -h myhost alpine sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids/pids.max;
      touch /x 2>&1; grep CapEff /proc/self/status; pwd; echo $FOO; hostname'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "33554432" ]
  [ "${lines[1]}" = "20" ]
  [[ "${lines[2]}" == *"Read-only file system"* ]]
  # Docker's 14 capabilities without NET_RAW (bit 13)
  [[ "${lines[3]}" == *"00000000a80405fb" ]]
  [ "${lines[4]}" = "/tmp" ]
  [ "${lines[5]}" = "bar" ]
  [ "${lines[6]}" = "myhost" ]
}

@test "live restore: a container started before kill -9 of skiffd is still running and its exit is recorded" {
  skiff run -d --name lr --network none alpine sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done' >/dev/null
  daemon_kill9
  daemon_start
  [ "$(ctr_status lr)" = "running" ]
  run skiff ps
  [[ "$output" == *lr* ]]
  run skiff stop -t 5 lr
  [ "$status" -eq 0 ]
  [ "$(api GET /containers/lr/json | jq -r .State.ExitCode)" = "9" ]
}

@test "restart policy on-failure:2 restarts a failing container twice" {
  skiff run -d --name rp --restart on-failure:2 --network none alpine sh -c 'exit 1' >/dev/null
  _restarted_twice() {
    [ "$(api GET /containers/rp/json | jq -r '.RestartCount')" = "2" ] && [ "$(ctr_status rp)" = "exited" ]
  }
  wait_for _restarted_twice
}

@test "a malformed API body is a 400 and creates nothing" {
  api POST /containers/create -H 'Content-Type: application/json' -d '{not json' >/dev/null
  [ "$API_STATUS" = "400" ]
  [ -z "$(skiff ps -aq)" ]
}

@test "the real docker CLI can drive skiffd" {
  command -v docker >/dev/null || skip "no docker CLI"
  export DOCKER_HOST=unix://$D_SOCK
  run docker version
  [ "$status" -eq 0 ]
  [[ "$output" == *"Server:"* ]]
  run docker run --rm --network none alpine echo via-docker
  [ "$status" -eq 0 ]
  [ "$output" = "via-docker" ]
  run docker run -d --name dk --network none alpine sleep 300
  [ "$status" -eq 0 ]
  run docker ps
  [[ "$output" == *dk* ]]
  run docker exec dk echo exec-ok
  [ "$output" = "exec-ok" ]
  run docker stop dk
  [ "$status" -eq 0 ]
  run docker rm dk
  [ "$status" -eq 0 ]
  run docker images
  [[ "$output" == *alpine* ]]
}
