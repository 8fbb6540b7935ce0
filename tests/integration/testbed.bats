#!/usr/bin/env bats
# The test bed itself (tests/lib/testbed.bash): three hosts on one
# segment, each with its own skiffd, and an outside with DNS, ping and
# HTTP behind a router; and a teardown that leaves nothing behind.

load ../lib/helpers
load ../lib/daemon
load ../lib/testbed

setup_file() {
  testbed_setup_file 3 || return 1
  FILE_TB=${TB_DIR:-}
  export FILE_TB
}
teardown_file() { testbed_teardown_file; }
setup() { skiff_require_root; }

teardown() {
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  local i
  if [ -n "${INNER_TB:-}" ]; then
    TB_DIR=$INNER_TB
    testbed_down
  fi
  TB_DIR=$FILE_TB
  for i in 1 2 3; do
    tb_host "$i" && daemon_remove_containers
  done
  tb_host 1
}

@test "the hosts share one segment: each pings the others by address" {
  local i j
  for i in 1 2 3; do
    for j in 1 2 3; do
      [ "$i" != "$j" ] || continue
      tb_host "$i"
      run in_host ping -c 1 -W 2 "$(tb_host_ip "$j")"
      [ "$status" -eq 0 ]
    done
  done
}

@test "each host reaches the outside through the router: ping, DNS and HTTP" {
  local i
  for i in 1 2 3; do
    tb_host "$i"
    run in_host ip -4 route show default
    [ "$output" = "default via $TB_ROUTER_IP dev eth0 " ] || [ "$output" = "default via $TB_ROUTER_IP dev eth0" ]
    run in_host ping -c 1 -W 2 "$TB_OUTSIDE_IP"
    [ "$status" -eq 0 ]
    [[ "$output" == *"1 packets transmitted, 1 received"* ]]
    run in_host busybox nslookup www.example.com "$TB_DNS_IP"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Address: $TB_OUTSIDE_IP"* ]]
    run in_host curl -sS --max-time 5 "http://$TB_OUTSIDE_IP/"
    [ "$output" = "$TB_PAGE" ]
  done
}

@test "the outside's DNS answers only its own names and forwards nothing" {
  tb_host 2
  run in_host busybox nslookup debian.org "$TB_DNS_IP"
  [[ "$output" == *"can't find debian.org: NXDOMAIN"* ]]
  run in_host busybox nslookup -type=mx example.com "$TB_DNS_IP"
  [[ "$output" != *"mail exchanger"* ]]
  # the machine's own resolvers cannot be reached from the bed: the router
  # has no route to them (a route lookup, no packet is sent)
  local ns
  for ns in $(awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ && $2 !~ /^127\./ { print $2 }' /etc/resolv.conf) 8.8.8.8; do
    run in_router ip route get "$ns"
    [ "$status" -ne 0 ]
    [[ "$output" == *"unreachable"* ]]
  done
}

@test "each host runs its own skiffd, in its own namespaces, with the bed's DNS in daemon.json" {
  local i pid pids=()
  for i in 1 2 3; do
    tb_host "$i"
    pid=$(cat "$D_DIR/skiffd.pid")
    pids+=("$pid")
    [ "$(readlink "/proc/$pid/ns/net")" = "$(in_host readlink /proc/self/ns/net)" ]
    [ "$(skiff info --format '{{.Name}}')" = "host$i" ]
    jq -e --arg dns "$TB_DNS_IP" '.dns == [$dns]' "$D_DIR/daemon.json"
    run in_host ip -4 -o addr show skiff0
    [[ "$output" == *"inet 172.17.0.1/16"* ]]
  done
  [ "$(printf '%s\n' "${pids[@]}" | sort -u | wc -l)" -eq 3 ]
}

@test "a container on host 1 reaches a port published on host 3 across the segment" {
  tb_on 3 skiff run -d --name web -p 8080:80 alpine sh -c \
    'mkdir -p /www && echo "hello from host3" > /www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
  _answers() { tb_on 3 in_host curl -sf --max-time 2 http://127.0.0.1:8080/ | grep -q "hello from host3"; }
  wait_for _answers
  run skiff run --rm alpine sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $(tb_host_ip 3) 8080"
  [[ "$output" == *"hello from host3"* ]]
}

@test "testbed_down removes the namespaces, processes, cgroups and files of a bed" {
  local names pids id f
  testbed_up 1
  INNER_TB=$TB_DIR
  id=$(skiff run -d alpine sleep 300)
  pids="$(cat "$INNER_TB"/*.pid "$D_DIR/skiffd.pid" "$D_EXEC"/shims/*/shim.pid) $(skiff inspect -f '{{.State.Pid}}' "$id")"
  names=$(cat "$INNER_TB/netns")
  [ "$(wc -w <<<"$names")" -eq 4 ]
  [ "$(wc -w <<<"$pids")" -eq 5 ]
  testbed_down
  TB_DIR=$FILE_TB
  tb_host 1
  [ ! -e "$INNER_TB" ]
  for f in $names; do
    run ip netns list
    [[ "$output" != *"$f"* ]]
  done
  for f in $pids; do
    pid_dead "$f"
  done
  for f in /sys/fs/cgroup/*/skiff/"$id" /sys/fs/cgroup/skiff/"$id"; do
    [ ! -e "$f" ]
  done
  INNER_TB=
  # the bed of this file is untouched
  run in_host ping -c 1 -W 2 "$TB_OUTSIDE_IP"
  [ "$status" -eq 0 ]
}
