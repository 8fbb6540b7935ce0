#!/usr/bin/env bats
# Containers on the default bridge of a test-bed host reach the outside
# through the bridge's NAT, and resolve names with the daemon's `dns`
# servers (daemon.json), as Docker's do: the tutorial's `ping -c 2
# google.com` step, with the test bed's example.com.

load ../lib/helpers
load ../lib/daemon
load ../lib/testbed

setup_file() { testbed_setup_file 1; }
teardown_file() { testbed_teardown_file; }
setup() { skiff_require_root; }

teardown() {
  daemon_remove_containers
  daemon_remove_networks
}

@test "a container on the default bridge has the daemon's dns servers in /etc/resolv.conf" {
  run skiff run --rm alpine cat /etc/resolv.conf
  [ "$status" -eq 0 ]
  [[ "$output" == *"nameserver $TB_DNS_IP"* ]]
  [ "$(grep -c '^nameserver' <<<"$output")" -eq 1 ]
}

@test "ping -c 2 example.com succeeds through the bridge's NAT (the tutorial's ping -c 2 google.com)" {
  mark=$(tb_dns_mark)
  run skiff run --rm alpine ping -c 2 example.com
  [ "$status" -eq 0 ]
  [[ "$output" == *"PING example.com ($TB_OUTSIDE_IP)"* ]]
  [[ "$output" == *"2 packets transmitted, 2 packets received, 0% packet loss"* ]]
  # The outside has no route to 172.17.0.0/16: the query (and the echo
  # replies) came back only because the host masqueraded them.
  wait_for tb_dns_seen "$mark" "query\[A\] example\.com from $(tb_host_ip 1)\$"
}

@test "a container fetches the outside's web page by name (wget and nc)" {
  # busybox-static's wget crashes with -T: busybox timeout bounds it instead
  run skiff run --rm alpine timeout 10 wget -q -O - http://www.example.com/
  [ "$status" -eq 0 ]
  [ "$output" = "$TB_PAGE" ]
  run skiff run --rm alpine sh -c \
    'printf "GET / HTTP/1.0\r\nHost: example.com\r\n\r\n" | nc -w 5 example.com 80'
  [ "$status" -eq 0 ]
  [[ "$output" == *" 200 OK"* ]]
  [[ "$output" == *"$TB_PAGE"* ]]
}

@test "an unknown name does not resolve; the test bed's DNS was asked and said NXDOMAIN" {
  mark=$(tb_dns_mark)
  run skiff run --rm alpine ping -c 1 -W 2 no-such-host.example.net
  [ "$status" -ne 0 ]
  [[ "$output" == *"bad address 'no-such-host.example.net'"* ]]
  wait_for tb_dns_seen "$mark" "config no-such-host\.example\.net is NXDOMAIN"
  run skiff run --rm alpine sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 2 no-such-host.example.net 80'
  [ "$status" -ne 0 ]
  [[ "$output" != *"$TB_PAGE"* ]]
}

@test "--network none reaches nothing outside" {
  run skiff run --rm --network none alpine ping -c 1 -W 1 "$TB_OUTSIDE_IP"
  [ "$status" -ne 0 ]
  [[ "$output" == *"Network is unreachable"* ]]
}

@test "on a user-defined network the embedded DNS forwards outside names to the daemon's dns servers" {
  skiff network create outnet >/dev/null
  mark=$(tb_dns_mark)
  run skiff run --rm --network outnet alpine cat /etc/resolv.conf
  [[ "$output" == *"nameserver 127.0.0.11"* ]]
  run skiff run --rm --network outnet alpine ping -c 2 www.example.com
  [ "$status" -eq 0 ]
  [[ "$output" == *"PING www.example.com ($TB_OUTSIDE_IP)"* ]]
  [[ "$output" == *"2 packets transmitted, 2 packets received, 0% packet loss"* ]]
  wait_for tb_dns_seen "$mark" "query\[A\] www\.example\.com from $(tb_host_ip 1)\$"
  # the outside's NXDOMAIN comes through
  run skiff run --rm --network outnet alpine nslookup unknown.example.org
  [ "$status" -ne 0 ]
  [[ "$output" == *"NXDOMAIN"* ]]
  wait_for tb_dns_seen "$mark" "config unknown\.example\.org is NXDOMAIN"
}
