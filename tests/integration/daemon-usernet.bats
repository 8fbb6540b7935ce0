#!/usr/bin/env bats
# User-defined bridge networks: create/rm/prune, isolation, connect and
# disconnect, --ip and aliases, and the embedded DNS server.

load ../lib/helpers
load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() { skiff_require_root; }

teardown() {
  daemon_remove_containers
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  skiff network prune -f >/dev/null 2>&1 || true
}

@test "network create makes a bridge on the next free default subnet; ls and inspect show it; rm removes it" {
  run skiff network create mynet
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  id=$output
  br=br-${id:0:12}
  run in_host ip -4 -o addr show "$br"
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet 172.18.0.1/16"* ]]
  run skiff network ls
  [[ "$output" =~ ${id:0:12}\ +mynet\ +bridge\ +local ]]
  api GET /networks/mynet | jq -e --arg id "$id" '.Id == $id and .Driver == "bridge" and .Scope == "local"
      and .IPAM.Config[0].Subnet == "172.18.0.0/16" and .IPAM.Config[0].Gateway == "172.18.0.1"
      and .Internal == false and .Options == {} and .Containers == {}'
  run in_host nft list table ip skiff
  [[ "$output" == *"$br"* ]]
  run skiff network rm mynet
  [ "$status" -eq 0 ]
  [ "$output" = "mynet" ]
  run in_host ip link show "$br"
  [ "$status" -ne 0 ]
  run in_host nft list table ip skiff
  [[ "$output" != *"$br"* ]]
}

@test "create takes --subnet --gateway --ip-range --internal --label -o bridge.name" {
  run skiff network create --subnet 10.77.0.0/24 --gateway 10.77.0.254 --ip-range 10.77.0.128/25 \
    --internal --label team=blue -o com.docker.network.bridge.name=skbr-test custom
  [ "$status" -eq 0 ]
  run in_host ip -4 -o addr show skbr-test
  [[ "$output" == *"inet 10.77.0.254/24"* ]]
  api GET /networks/custom | jq -e '.IPAM.Config[0] == {"Subnet":"10.77.0.0/24","IPRange":"10.77.0.128/25","Gateway":"10.77.0.254"}
      and .Internal == true and .Labels == {"team":"blue"}
      and .Options["com.docker.network.bridge.name"] == "skbr-test"'
  run skiff run --rm --network custom alpine ip -4 -o addr show eth0
  [[ "$output" =~ inet\ 10\.77\.0\.(12[89]|1[3-9][0-9]|2[0-4][0-9]|25[0-3])/24 ]]
  # internal: no way out, so no default route
  run skiff run --rm --network custom alpine ip route
  [[ "$output" != *default* ]]
  run skiff network ls --filter label=team=blue --format '{{.Name}}'
  [ "$output" = "custom" ]
}

@test "bad network requests fail clearly and leave nothing behind" {
  before=$(in_host ip -o link | wc -l)
  run skiff network create --subnet 172.17.5.0/24 clash
  [ "$status" -ne 0 ]
  [[ "$output" == *"Pool overlaps with other one on this address space"* ]]
  run skiff network create --subnet 10.9.0.0/24 --gateway 10.10.0.1 gwout
  [ "$status" -ne 0 ]
  [[ "$output" == *"no matching subnet for gateway 10.10.0.1"* ]]
  run skiff network create -d foo drv
  [ "$status" -ne 0 ]
  [[ "$output" == *'plugin "foo" not found'* ]]
  skiff network create dup >/dev/null
  run skiff network create dup
  [ "$status" -ne 0 ]
  [[ "$output" == *"network with name dup already exists"* ]]
  run skiff network rm bridge
  [ "$status" -ne 0 ]
  [[ "$output" == *"bridge is a pre-defined network and cannot be removed"* ]]
  skiff network rm dup >/dev/null
  run skiff network ls --format '{{.Name}}'
  [ "$(echo "$output" | sort | tr '\n' ' ')" = "bridge host none " ]
  [ "$(in_host ip -o link | wc -l)" -eq "$before" ]
  [ -z "$(ls "$D_ROOT/network" | grep -v -e bridge.json -e host.json -e none.json)" ]
}

@test "containers on a user-defined network resolve each other by name, alias and short id" {
  skiff network create mynet >/dev/null
  skiff run -dit --network mynet --name alpine1 alpine ash >/dev/null
  id2=$(skiff run -dit --network mynet --name alpine2 --network-alias db alpine ash)
  ip2=$(api GET /containers/alpine2/json | jq -r .NetworkSettings.Networks.mynet.IPAddress)
  [[ "$ip2" == 172.18.0.* ]]
  run skiff exec alpine1 cat /etc/resolv.conf
  [[ "$output" == *"nameserver 127.0.0.11"* ]]
  [[ "$output" == *"options ndots:0"* ]]
  run skiff exec alpine1 ping -c 2 -W 2 alpine2
  [ "$status" -eq 0 ]
  [[ "$output" == *"($ip2)"* ]]
  [[ "$output" == *"2 packets transmitted, 2 packets received"* ]]
  for name in db "${id2:0:12}" alpine2.mynet ALPINE2; do
    run skiff exec alpine1 nslookup "$name" 127.0.0.11
    [ "$status" -eq 0 ]
    [[ "$output" == *"Address: $ip2"* ]] || [[ "$output" == *"Address 1: $ip2"* ]]
  done
  api GET /containers/alpine2/json | jq -e --arg s "${id2:0:12}" '.NetworkSettings.Networks.mynet.Aliases == ["db", $s]'
  # PTR gives name.network
  run skiff exec alpine1 nslookup "$ip2" 127.0.0.11
  [[ "$output" == *"alpine2.mynet"* ]]
  # unknown single names are NXDOMAIN, not forwarded
  run skiff exec alpine1 nslookup nosuchname 127.0.0.11
  [ "$status" -ne 0 ]
}

@test "duplicate aliases round-robin over every container that has them" {
  skiff network create mynet >/dev/null
  skiff run -d --network mynet --network-alias web --name w1 alpine sleep 1000 >/dev/null
  skiff run -d --network mynet --network-alias web --name w2 alpine sleep 1000 >/dev/null
  ip1=$(api GET /containers/w1/json | jq -r .NetworkSettings.Networks.mynet.IPAddress)
  ip2=$(api GET /containers/w2/json | jq -r .NetworkSettings.Networks.mynet.IPAddress)
  run skiff run --rm --network mynet alpine nslookup web 127.0.0.11
  [[ "$output" == *"$ip1"* ]]
  [[ "$output" == *"$ip2"* ]]
}

@test "two user-defined networks are isolated; the default bridge does not resolve names" {
  skiff network create net1 >/dev/null
  skiff network create net2 >/dev/null
  skiff run -dit --network net1 --name c1 alpine ash >/dev/null
  skiff run -dit --network net2 --name c2 alpine ash >/dev/null
  skiff run -dit --name c3 alpine ash >/dev/null
  ip1=$(api GET /containers/c1/json | jq -r .NetworkSettings.Networks.net1.IPAddress)
  run skiff exec c2 ping -c 1 -W 1 "$ip1"
  [ "$status" -ne 0 ]
  run skiff exec c3 ping -c 1 -W 1 "$ip1"
  [ "$status" -ne 0 ]
  run skiff exec c2 nslookup c1 127.0.0.11
  [ "$status" -ne 0 ]
  # each still reaches its own gateway
  run skiff exec c2 ping -c 1 -W 2 "$(api GET /networks/net2 | jq -r '.IPAM.Config[0].Gateway')"
  [ "$status" -eq 0 ]
}

@test "network connect and disconnect a running container, and a stopped one" {
  skiff network create mynet >/dev/null
  skiff run -dit --network mynet --name a1 alpine ash >/dev/null
  skiff run -dit --name b1 alpine ash >/dev/null
  run skiff network connect --alias bee mynet b1
  [ "$status" -eq 0 ]
  run skiff exec b1 ip -4 -o addr show eth1
  [[ "$output" == *"inet 172.18.0."* ]]
  run skiff exec a1 ping -c 1 -W 2 bee
  [ "$status" -eq 0 ]
  run skiff exec a1 ping -c 1 -W 2 b1
  [ "$status" -eq 0 ]
  api GET /networks/mynet | jq -e '[.Containers[].Name] | sort == ["a1","b1"]'
  api GET /containers/b1/json | jq -e '.NetworkSettings.Networks | keys == ["bridge","mynet"]'
  run skiff network connect mynet b1
  [ "$status" -ne 0 ]
  [[ "$output" == *"already exists in network mynet"* ]]
  run skiff network disconnect mynet b1
  [ "$status" -eq 0 ]
  run skiff exec b1 ip link show eth1
  [ "$status" -ne 0 ]
  run skiff exec a1 ping -c 1 -W 1 b1
  [ "$status" -ne 0 ]
  run skiff network disconnect mynet b1
  [ "$status" -ne 0 ]
  [[ "$output" == *"is not connected to network mynet"* ]]
  # a stopped container joins at its next start
  skiff create --name s1 alpine sleep 1000 >/dev/null
  skiff network connect mynet s1
  api GET /containers/s1/json | jq -e '.NetworkSettings.Networks | keys == ["bridge","mynet"]'
  skiff start s1 >/dev/null
  run skiff exec s1 ip -4 -o addr
  [[ "$output" == *"eth0"*"172.17.0."* ]]
  [[ "$output" == *"eth1"*"172.18.0."* ]]
  run skiff network connect host s1
  [ "$status" -ne 0 ]
  [[ "$output" == *"host network"* ]]
}

@test "--ip picks the address on a user-defined network, not on the default bridge" {
  skiff network create --subnet 10.88.0.0/24 fixed >/dev/null
  run skiff run --rm --network fixed --ip 10.88.0.50 alpine ip -4 -o addr show eth0
  [ "$status" -eq 0 ]
  [[ "$output" == *"inet 10.88.0.50/24"* ]]
  skiff run -d --network fixed --ip 10.88.0.60 --name f1 alpine sleep 1000 >/dev/null
  run skiff run --rm --network fixed --ip 10.88.0.60 alpine true
  [ "$status" -ne 0 ]
  [[ "$output" == *"Address already in use"* ]]
  # --rm removed the container that could not start
  [ "$(skiff ps -aq | wc -l)" -eq 1 ]
  run skiff run --rm --network bridge --ip 172.17.0.99 alpine true
  [ "$status" -ne 0 ]
  [[ "$output" == *"user specified IP address is supported on user defined networks only"* ]]
  run skiff run --rm --network nosuchnet alpine true
  [ "$status" -ne 0 ]
  [[ "$output" == *"network nosuchnet not found"* ]]
}

@test "network rm is refused while a container uses it, naming it; prune removes only unused networks" {
  skiff network create busy >/dev/null
  skiff network create idle >/dev/null
  skiff run -d --network busy --name holder alpine sleep 1000 >/dev/null
  run skiff network rm busy
  [ "$status" -ne 0 ]
  [[ "$output" == *"has active endpoints"*'name:"holder"'* ]]
  run skiff network prune -f
  [ "$status" -eq 0 ]
  [[ "$output" == *"Deleted Networks:"*"idle"* ]]
  [[ "$output" != *"busy"* ]]
  skiff rm -f holder >/dev/null
  run skiff network rm busy
  [ "$status" -eq 0 ]
}

@test "after kill -9 of skiffd, a container on a user-defined network keeps its address and its DNS" {
  skiff network create mynet >/dev/null
  skiff run -dit --network mynet --name k1 alpine ash >/dev/null
  skiff run -dit --network mynet --name k2 alpine ash >/dev/null
  ip2=$(api GET /containers/k2/json | jq -r .NetworkSettings.Networks.mynet.IPAddress)
  daemon_kill9
  daemon_start
  run skiff exec k1 nslookup k2 127.0.0.11
  [ "$status" -eq 0 ]
  [[ "$output" == *"$ip2"* ]]
  # the pool still holds k2's address
  skiff run -d --network mynet --name k3 alpine sleep 1000 >/dev/null
  ip3=$(api GET /containers/k3/json | jq -r .NetworkSettings.Networks.mynet.IPAddress)
  [ "$ip3" != "$ip2" ]
}

@test "the docker CLI creates a network, runs containers that ping each other by name, and removes it" {
  command -v docker >/dev/null || skip "no docker CLI"
  export DOCKER_HOST=unix://$D_SOCK
  run docker network create --subnet 10.66.0.0/24 dnet
  [ "$status" -eq 0 ]
  docker run -dit --name d1 --network dnet alpine ash >/dev/null
  run docker run --rm --network dnet alpine ping -c 1 -W 2 d1
  [ "$status" -eq 0 ]
  [[ "$output" == *"PING d1 (10.66.0.2)"* ]]
  run docker inspect d1 --format '{{.NetworkSettings.Networks.dnet.IPAddress}}'
  [ "$output" = "10.66.0.2" ]
  run docker network inspect dnet --format '{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}'
  [ "$output" = "d1 10.66.0.2/24" ]
  docker rm -f d1 >/dev/null
  run docker network rm dnet
  [ "$status" -eq 0 ]
  run docker network ls --filter type=custom -q
  [ -z "$output" ]
}

@test "a port published from a user-defined network answers the host and containers of other networks" {
  skiff network create mynet >/dev/null
  id=$(skiff run -d --network mynet -p 8081:80 --name web alpine sh -c \
    'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www')
  _answers() { in_host curl -sf --max-time 2 "http://127.0.0.1:8081/" | grep -q "hello from ${id:0:12}"; }
  wait_for _answers
  run skiff run --rm alpine sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 172.17.0.1 8081'
  [[ "$output" == *"hello from ${id:0:12}"* ]]
  run skiff port web
  [ "$output" = "80/tcp -> 0.0.0.0:8081" ]
}

@test "--dns, --dns-search and --dns-option write resolv.conf; on a user-defined network they keep 127.0.0.11" {
  run skiff run --rm --network none --dns 198.51.100.53 --dns 198.51.100.54 --dns-search corp.example \
    --dns-option attempts:2 alpine cat /etc/resolv.conf
  [ "$status" -eq 0 ]
  [[ "$output" == *"search corp.example"* ]]
  [[ "$output" == *$'nameserver 198.51.100.53\nnameserver 198.51.100.54'* ]]
  [[ "$output" == *"options attempts:2"* ]]
  skiff network create mynet >/dev/null
  run skiff run --rm --network mynet --dns 198.51.100.53 --dns-option timeout:1 alpine cat /etc/resolv.conf
  [[ "$output" == *"nameserver 127.0.0.11"* ]]
  [[ "$output" != *"198.51.100.53"* ]]
  [[ "$output" == *"options timeout:1 ndots:0"* ]]
  run skiff run --rm --dns not-an-ip alpine true
  [ "$status" -eq 125 ]
  [[ "$output" == *"not-an-ip is not an ip address"* ]]
}

@test "daemon.json's dns servers, all of them, are the default bridge's name servers" {
  daemon_stop
  echo '{"dns": ["198.51.100.53", "198.51.100.54"]}' >"$D_DIR/daemon.json"
  daemon_start
  run skiff run --rm alpine cat /etc/resolv.conf
  echo '{}' >"$D_DIR/daemon.json"
  [[ "$output" == *$'nameserver 198.51.100.53\nnameserver 198.51.100.54'* ]]
  daemon_stop
  daemon_start
}

@test "network events: create, connect at start, disconnect at stop, destroy" {
  since=$(date +%s)
  skiff network create evnet >/dev/null
  id=$(skiff run -d --network evnet alpine true)
  skiff wait "$id" >/dev/null
  skiff network rm evnet >/dev/null
  until=$(($(date +%s) + 1))
  api GET "/events?since=$since&until=$until&filters=%7B%22type%22%3A%5B%22network%22%5D%7D" >"$BATS_TEST_TMPDIR/ev"
  jq -s -e --arg id "$id" '[.[] | .Action + " " + .Actor.Attributes.name + " " + (.Actor.Attributes.container // "")]
      == ["create evnet ", "connect evnet " + $id, "disconnect evnet " + $id, "destroy evnet "]' "$BATS_TEST_TMPDIR/ev"
}

@test "network connect --ip gives the running container that address on the network" {
  skiff network create --subnet 10.99.0.0/24 fixed2 >/dev/null
  skiff run -dit --name cip alpine ash >/dev/null
  run skiff network connect --ip 10.99.0.77 fixed2 cip
  [ "$status" -eq 0 ]
  run skiff exec cip ip -4 -o addr show eth1
  [[ "$output" == *"inet 10.99.0.77/24"* ]]
  api GET /containers/cip/json | jq -e '.NetworkSettings.Networks.fixed2.IPAMConfig.IPv4Address == "10.99.0.77"
      and .NetworkSettings.Networks.fixed2.IPAddress == "10.99.0.77"'
  # an address outside the subnet is refused, and nothing is connected
  skiff network create --subnet 10.98.0.0/24 other >/dev/null
  run skiff network connect --ip 10.99.0.78 other cip
  [ "$status" -ne 0 ]
  [[ "$output" == *"It does not belong to any of this network's subnets"* ]]
  run skiff exec cip ip link show eth2
  [ "$status" -ne 0 ]
}
