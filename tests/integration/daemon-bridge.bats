#!/usr/bin/env bats
# The default bridge network, as the tutorial's last part uses it.

load ../lib/helpers
load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() { skiff_require_root; }

teardown() { daemon_remove_containers; }

@test "the daemon makes bridge skiff0 with 172.17.0.1/16 in its host" {
  run in_host ip -4 -o addr show skiff0
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet 172.17.0.1/16"* ]]
  run in_host cat /proc/sys/net/ipv4/ip_forward
  [ "$output" = "1" ]
  # masquerade for the subnet, in skiff's own table
  run in_host nft list table ip skiff
  [ "$status" -eq 0 ]
  [[ "$output" == *"172.17.0.0/16"*"masquerade"* ]]
}

@test "a container on the default bridge gets eth0 with an address from 172.17.0.0/16 and Docker's MAC" {
  run skiff run --rm alpine ip -4 -o addr show eth0
  [ "$status" -eq 0 ]
  [[ "$output" =~ inet\ 172\.17\.0\.([0-9]+)/16 ]]
  run skiff run --rm alpine cat /sys/class/net/eth0/address
  [[ "$output" =~ ^02:42:ac:11:00:[0-9a-f]{2}$ ]]
  run skiff run --rm alpine ip route
  [[ "$output" == *"default via 172.17.0.1 dev eth0"* ]]
}

@test "two containers reach each other by address, not by name (as in the tutorial)" {
  skiff run -dit --name alpine1 alpine ash >/dev/null
  skiff run -dit --name alpine2 alpine ash >/dev/null
  ip2=$(api GET /containers/alpine2/json | jq -r .NetworkSettings.IPAddress)
  [[ "$ip2" == 172.17.0.* ]]
  run skiff exec alpine1 ping -c 2 -W 2 "$ip2"
  [ "$status" -eq 0 ]
  [[ "$output" == *"2 packets transmitted, 2 packets received"* ]]
  run skiff exec alpine1 ping -c 1 -W 2 alpine2
  [ "$status" -ne 0 ]
  [[ "$output" == *"bad address 'alpine2'"* ]]
}

@test "both ends of a container's veth pair take 256 KiB IPv4 GSO packets (BIG TCP)" {
  [ -x "${LINKGSO:-}" ] || fail "LINKGSO (tests/lib/linkgso) is not set: make check sets it"
  skiff run -dit --name alpine1 alpine ash >/dev/null
  pid=$(skiff inspect -f '{{.State.Pid}}' alpine1)
  run nsenter --net="/proc/$pid/ns/net" "$LINKGSO" eth0
  [ "$status" -eq 0 ]
  [ "$output" = 262144 ]
  veth=$(in_host ip -o link show master skiff0 | awk -F': ' '{ print $2 }' | cut -d@ -f1)
  [[ "$veth" == veth* ]]
  run in_host "$LINKGSO" "$veth"
  [ "$output" = 262144 ]
  # A TCP transfer over the bridge with those packets arrives whole.
  # (busybox nc -l ends at EOF on its stdin: a sleep holds it open)
  skiff run -d --name sink alpine sh -c 'sleep 600 | nc -l -p 5000 | md5sum >/tmp/sum; sleep 600' >/dev/null
  ip2=$(skiff inspect -f '{{.NetworkSettings.IPAddress}}' sink)
  head -c $((8 << 20)) /dev/urandom >"$BATS_TEST_TMPDIR/blob"
  want=$(md5sum <"$BATS_TEST_TMPDIR/blob" | cut -d' ' -f1)
  _listening() { skiff exec sink netstat -ltn | grep -q ':5000 '; }
  wait_for _listening
  skiff exec -i alpine1 nc -w 2 "$ip2" 5000 <"$BATS_TEST_TMPDIR/blob"
  _summed() { skiff exec sink cat /tmp/sum | grep -q .; }
  wait_for _summed
  run skiff exec sink cat /tmp/sum
  [ "${output%% *}" = "$want" ]
}

@test "network inspect bridge lists the container with the address ip addr shows inside" {
  skiff run -dit --name alpine1 alpine ash >/dev/null
  inside=$(skiff exec alpine1 ip -4 -o addr show eth0 | awk '{print $4}')
  id=$(api GET /containers/alpine1/json | jq -r .Id)
  api GET /networks/bridge >"$BATS_TEST_TMPDIR/bridge.json"
  [ "$API_STATUS" = "200" ]
  jq -e --arg id "$id" --arg a "$inside" '
      .Name == "bridge" and .Driver == "bridge" and .Scope == "local"
      and .IPAM.Config[0].Subnet == "172.17.0.0/16" and .IPAM.Config[0].Gateway == "172.17.0.1"
      and .Containers[$id].Name == "alpine1" and .Containers[$id].IPv4Address == $a
      and (.Containers[$id].MacAddress | startswith("02:42:ac:11:"))
      and .Options["com.docker.network.bridge.name"] == "skiff0"' "$BATS_TEST_TMPDIR/bridge.json"
}

@test "networks bridge, host and none exist" {
  run api GET /networks
  echo "$output" | jq -e '[.[].Name] | sort == ["bridge","host","none"]'
  echo "$output" | jq -e '[.[] | select(.Name=="none") | .Driver] == ["null"]'
}

@test "--network host shows the host's interfaces, none only lo" {
  run skiff run --rm --network host alpine ip -o link
  [[ "$output" == *"skiff0"* ]]
  run skiff run --rm --network none alpine ip -o link
  [[ "$output" == *"lo:"* ]]
  [[ "$output" != *"eth0"* ]]
}

@test "an address is freed when its container stops, and no veth is left" {
  skiff run -d --name a1 alpine sleep 300 >/dev/null
  ip1=$(api GET /containers/a1/json | jq -r .NetworkSettings.IPAddress)
  skiff rm -f a1 >/dev/null
  _no_veth() { [ -z "$(in_host ip -o link show type veth)" ]; }
  wait_for _no_veth
  # the pool gives the address back once the veth pair is gone (its
  # addresses in use are kept in the exec root)
  pool=$D_EXEC/network/$(api GET /networks/bridge | jq -r .Id).json
  _freed() { [ -f "$pool" ] && ! jq -e --arg ip "$ip1" '.Allocated | index($ip)' "$pool" >/dev/null; }
  wait_for _freed
  skiff run -d --name a2 alpine sleep 300 >/dev/null
  [ "$(api GET /containers/a2/json | jq -r .NetworkSettings.IPAddress)" = "$ip1" ]
}

@test "a running container keeps its address over kill -9 of skiffd, and IPAM does not hand it out again" {
  skiff run -d --name keep alpine sleep 300 >/dev/null
  ip1=$(api GET /containers/keep/json | jq -r .NetworkSettings.IPAddress)
  daemon_kill9
  daemon_start
  [ "$(api GET /containers/keep/json | jq -r .NetworkSettings.IPAddress)" = "$ip1" ]
  run skiff exec keep ip -4 -o addr show eth0
  [[ "$output" == *"$ip1/16"* ]]
  skiff run -d --name other alpine sleep 300 >/dev/null
  [ "$(api GET /containers/other/json | jq -r .NetworkSettings.IPAddress)" != "$ip1" ]
}

@test "after kill -9 of skiffd, the pools hold the addresses of the running containers even when their state is lost" {
  skiff run -d --name keep alpine sleep 300 >/dev/null
  ip1=$(api GET /containers/keep/json | jq -r .NetworkSettings.IPAddress)
  # the network's own file keeps the pool's configuration, not its addresses
  run jq -c .IPAM "$D_ROOT/network/bridge.json"
  [ "$output" = '{"Subnet":"172.17.0.0/16","Gateway":"172.17.0.1","IPRange":"","Serial":false}' ]
  daemon_kill9
  # as if the exec root had been emptied (the containers running on)
  rm "$D_EXEC"/network/*.json
  daemon_start
  skiff run -d --name other alpine sleep 300 >/dev/null
  ip2=$(api GET /containers/other/json | jq -r .NetworkSettings.IPAddress)
  [[ "$ip2" == 172.17.0.* ]]
  [ "$ip2" != "$ip1" ]
  run skiff exec other ping -c 1 -W 2 "$ip1"
  [ "$status" -eq 0 ]
}

@test "network ls prints Docker's table; network inspect bridge its JSON" {
  run skiff network ls
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "NETWORK ID     NAME      DRIVER    SCOPE" ]
  [[ "${lines[1]}" =~ ^[0-9a-f]{12}\ \ \ bridge\ \ \ \ bridge\ \ \ \ local$ ]]
  [[ "${lines[2]}" =~ ^[0-9a-f]{12}\ \ \ host\ \ \ \ \ \ host\ \ \ \ \ \ local$ ]]
  [[ "${lines[3]}" =~ ^[0-9a-f]{12}\ \ \ none\ \ \ \ \ \ null\ \ \ \ \ \ local$ ]]
  run skiff network inspect bridge
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.[0].Name == "bridge" and .[0].IPAM.Config[0].Subnet == "172.17.0.0/16"'
}

# A web server: busybox httpd serving a page that names the container.
_run_web() {
  skiff run -d --name "$1" "${@:2}" alpine sh -c \
    'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'
}

@test "-p publishes a port: reached from the host and from another container; ps and inspect show it" {
  id=$(_run_web web -p 8080:80)
  _answers() { in_host curl -sf --max-time 2 "http://127.0.0.1:8080/" | grep -q "hello from ${id:0:12}"; }
  wait_for _answers
  # through the host's address from another container (hairpin through the bridge)
  # (busybox-static's wget crashes with -T: plain HTTP over nc instead)
  run skiff run --rm alpine sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 172.17.0.1 8080'
  [[ "$output" == *"hello from ${id:0:12}"* ]]
  run skiff ps --format '{{.Ports}}'
  [[ "$output" == *"0.0.0.0:8080->80/tcp"* ]]
  run api GET /containers/web/json
  echo "$output" | jq -e '.NetworkSettings.Ports["80/tcp"][0].HostPort == "8080"'
  run skiff port web
  [ "$output" = "80/tcp -> 0.0.0.0:8080" ]
  run skiff port web 80
  [ "$output" = "0.0.0.0:8080" ]
  run skiff container port web 81/udp
  [ "$status" -eq 1 ]
  [ "$output" = "Error: No public port '81/udp' published for web" ]
  # a second container cannot take the same host port
  run _run_web web2 -p 8080:80
  [ "$status" -ne 0 ]
  [[ "$output" == *"port is already allocated"* ]]
  # the rule goes with the container
  skiff rm -f web >/dev/null
  _refused() { ! in_host curl -sf --max-time 1 "http://127.0.0.1:8080/" >/dev/null; }
  wait_for _refused
  run in_host nft list table ip skiff
  [[ "$output" != *"8080"* ]]
}

@test "-p without a host port publishes on an ephemeral host port" {
  _run_web webp -p 80
  port=$(api GET /containers/webp/json | jq -r '.NetworkSettings.Ports["80/tcp"][0].HostPort')
  [ "$port" -ge 49153 ]
  _answers() { in_host curl -sf --max-time 2 "http://127.0.0.1:$port/" | grep -q hello; }
  wait_for _answers
}

@test "-p takes port ranges and 127.0.0.1:PORT:PORT/udp; port, ps and the nftables rules show them" {
  skiff run -d --name rng -p 9001-9002:80-81 -p 127.0.0.1:9053:53/udp alpine sleep 1000 >/dev/null
  ip=$(api GET /containers/rng/json | jq -r .NetworkSettings.IPAddress)
  run skiff port rng
  [ "$output" = $'53/udp -> 127.0.0.1:9053\n80/tcp -> 0.0.0.0:9001\n81/tcp -> 0.0.0.0:9002' ]
  # docker's PORTS column: sorted by container port; runs of the same
  # numbers grouped; --expose'd ports without a host port
  run skiff ps --filter name=rng --format '{{.Ports}}'
  [ "$output" = "127.0.0.1:9053->53/udp, 0.0.0.0:9001->80/tcp, 0.0.0.0:9002->81/tcp" ]
  skiff run -d --name grp -p 7001-7002:7001-7002 --expose 7100-7101 alpine sleep 1000 >/dev/null
  run skiff ps --filter name=grp --format '{{.Ports}}'
  [ "$output" = "0.0.0.0:7001-7002->7001-7002/tcp, 7100-7101/tcp" ]
  api GET /containers/grp/json | jq -e '.NetworkSettings.Ports["7100/tcp"] == null and .Config.ExposedPorts["7101/tcp"] == {}'
  run skiff run --rm --expose 1.2.3.4:80:80 alpine true
  [ "$status" -eq 125 ]
  [[ "$output" == *"invalid range format for --expose"* ]]
  run in_host nft list table ip skiff
  [[ "$output" == *"ip daddr 127.0.0.1 udp dport 9053 dnat to $ip:53"* ]]
  [[ "$output" == *"tcp dport 9002 dnat to $ip:81"* ]]
  run skiff run --rm -p 9001-9003:80-81 alpine true
  [ "$status" -eq 125 ]
  [[ "$output" == *"invalid ranges specified for container and host Ports"* ]]
  skiff rm -f rng >/dev/null
  run in_host nft list table ip skiff
  [[ "$output" != *"9053"* ]]
}
