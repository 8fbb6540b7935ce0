# A test bed of N hosts and an "outside" that plays the internet, all in
# network namespaces made for it (never the machine's own):
#
#   host1 .. hostN   198.51.100.11 .. 198.51.100.(10+N)/24 on eth0, default
#                    route via the router; each runs a skiffd of its own
#                    (daemon.bash) whose daemon.json says
#                    {"dns": ["203.0.113.53"]}, in a UTS namespace named
#                    hostI, with the "alpine" stand-in imported
#   switch           a bridge joining the hosts and the router: one L2
#                    segment
#   router           198.51.100.1 on the segment, 203.0.113.1 towards the
#                    outside, forwarding between them
#   outside          203.0.113.10 (example.com: answers ping and HTTP on
#                    port 80 with a known page) and 203.0.113.53 (DNS:
#                    dnsmasq answers example.com and www.example.com with
#                    203.0.113.10, NXDOMAIN for any other name, and never
#                    forwards a query anywhere), default route via the
#                    router
#
# Everything lives in TB_DIR (/tmp/tb.XXXXXX) and in namespaces named
# tb.XXXXXX-NAME; the state of a bed is derived from TB_DIR alone, so
# `testbed.bash down DIR` can remove one made by another process.
#
# In bats:    load ../lib/helpers
#             load ../lib/daemon
#             load ../lib/testbed
#             setup_file() { testbed_setup_file 2; }
#             teardown_file() { testbed_teardown_file; }
# then `tb_host I` makes host I the current daemon (skiff, api, in_host,
# daemon_start, daemon_kill9... act on it), `tb_on I CMD...` runs CMD with
# host I current, `in_outside CMD...` runs CMD in the outside namespace.
# host 1 is current after setup.  tb_dns_mark / tb_dns_seen tell what the
# outside's DNS server was asked.
#
# As a command (SKIFFD, SKIFF, SKIFF_SHIM, SKIFF_INIT, SKIFF_IMAGE_HELPER and SKIFF_RUNTIME set,
# or --build DIR):
#   testbed.bash up [--build DIR] N   -> prints TB_DIR; hostI's socket is
#                                        TB_DIR/hI/skiff.sock
#   testbed.bash down TB_DIR
#
# Packages: iproute2, util-linux (nsenter, unshare), dnsmasq-base,
# busybox-static (httpd, nslookup), curl.

TB_SEGMENT=198.51.100
TB_ROUTER_IP=$TB_SEGMENT.1
TB_ROUTER_OUT_IP=203.0.113.1
TB_OUTSIDE_IP=203.0.113.10
TB_DNS_IP=203.0.113.53
TB_PAGE="skiff test bed: the outside host example.com"
export TB_SEGMENT TB_ROUTER_IP TB_ROUTER_OUT_IP TB_OUTSIDE_IP TB_DNS_IP TB_PAGE

# The names of things, from TB_DIR.
tb_netns() { echo "tb.${TB_DIR##*.}-$1"; }
tb_host_ip() { echo "$TB_SEGMENT.$((10 + $1))"; }
tb_hosts() { cat "$TB_DIR/hosts" 2>/dev/null || echo 0; }

in_netns() {
  local ns=$1
  shift
  nsenter --net="/run/netns/$ns" "$@"
}
in_outside() { in_netns "$(tb_netns outside)" "$@"; }
in_router() { in_netns "$(tb_netns router)" "$@"; }

# tb_host I: host I becomes the current daemon.
tb_host() {
  [ "$1" -ge 1 ] 2>/dev/null && [ "$1" -le "$(tb_hosts)" ] || { fail "tb_host: no host '$1' in this test bed"; return 1; }
  daemon_use "$TB_DIR/h$1" "$(tb_netns "h$1")" "host$1"
}

# tb_on I CMD...: CMD with host I current (in a subshell: the current host
# of the caller does not change).
tb_on() {
  (tb_host "$1" && shift && "$@")
}

# What the outside's DNS server was asked: tb_dns_mark prints a mark,
# tb_dns_seen MARK ERE succeeds when a line of its log after MARK matches
# ERE (lines look like "query[A] example.com from 198.51.100.11" and
# "config example.com is 203.0.113.10").
tb_dns_mark() { wc -l <"$TB_DIR/dns-queries.log"; }
tb_dns_seen() { tail -n +"$(($1 + 1))" "$TB_DIR/dns-queries.log" | grep -Eq -- "$2"; }

_tb_netns_add() {
  ip netns add "$1" || return 1
  echo "$1" >>"$TB_DIR/netns"
  ip -n "$1" link set lo up
}

# _tb_start NAME NETNS CMD...: a process of the bed, in NETNS, output to
# TB_DIR/NAME.log, its PID in TB_DIR/NAME.pid.
_tb_start() {
  local name=$1 ns=$2
  shift 2
  nsenter --net="/run/netns/$ns" "$@" >"$TB_DIR/$name.log" 2>&1 </dev/null 3>&- &
  echo "$!" >"$TB_DIR/$name.pid"
  disown "$!" 2>/dev/null || true
}

_tb_dns_answers() {
  [ "$(in_outside busybox nslookup example.com "$TB_DNS_IP" 2>/dev/null |
    awk '/^Name:/ { n = 1 } n && /^Address:/ { print $2; exit }')" = "$TB_OUTSIDE_IP" ]
}
_tb_web_answers() { in_outside curl -sf --max-time 2 "http://$TB_OUTSIDE_IP/" | grep -qF "$TB_PAGE"; }

# The outside: addresses, the DNS server, the web server.
_tb_make_outside() {
  local out rt
  out=$(tb_netns outside)
  rt=$(tb_netns router)
  _tb_netns_add "$out" || return 1
  ip -n "$rt" link add out type veth peer name eth0 netns "$out" || return 1
  ip -n "$rt" addr add "$TB_ROUTER_OUT_IP/24" dev out &&
    ip -n "$rt" link set out up &&
    ip -n "$out" addr add "$TB_OUTSIDE_IP/24" dev eth0 &&
    ip -n "$out" addr add "$TB_DNS_IP/24" dev eth0 &&
    ip -n "$out" link set eth0 up &&
    ip -n "$out" route add default via "$TB_ROUTER_OUT_IP" || return 1

  # Local names only (--local=/#/: NXDOMAIN for the rest), no upstream
  # (--no-resolv), no /etc/hosts, no config file: it can never forward.
  _tb_start dnsmasq "$out" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address="$TB_DNS_IP" --pid-file --local=/#/ \
    --host-record="example.com,$TB_OUTSIDE_IP" --host-record="www.example.com,$TB_OUTSIDE_IP" \
    --log-queries --log-facility="$TB_DIR/dns-queries.log"
  mkdir -p "$TB_DIR/www" &&
    echo "$TB_PAGE" >"$TB_DIR/www/index.html" || return 1
  _tb_start httpd "$out" busybox httpd -f -p "$TB_OUTSIDE_IP:80" -h "$TB_DIR/www"
  poll_until 10 _tb_dns_answers || { cat "$TB_DIR/dnsmasq.log" >&2; return 1; }
  poll_until 10 _tb_web_answers || { cat "$TB_DIR/httpd.log" >&2; return 1; }
}

# _tb_add_host I: host I's namespace and its port on the switch.
_tb_add_host() {
  local i=$1 ns sw
  ns=$(tb_netns "h$i")
  sw=$(tb_netns switch)
  _tb_netns_add "$ns" || return 1
  ip -n "$sw" link add "h$i" type veth peer name eth0 netns "$ns" &&
    ip -n "$sw" link set "h$i" master br0 up &&
    ip -n "$ns" addr add "$(tb_host_ip "$i")/24" dev eth0 &&
    ip -n "$ns" link set eth0 up &&
    ip -n "$ns" route add default via "$TB_ROUTER_IP"
}

# testbed_up N: makes the bed (TB_DIR, the namespaces, the outside, N
# hosts each with a running skiffd and the alpine image).  Needs
# daemon_prepare and the busybox rootfs in $SKIFF_TEST_TMP/rootfs.
testbed_up() {
  local n=$1 i sw rt
  [ "$n" -ge 1 ] 2>/dev/null && [ "$n" -le 200 ] || { fail "testbed_up: '$n' hosts: want 1 to 200"; return 1; }
  command -v dnsmasq >/dev/null || { fail "dnsmasq is needed (apt-get install dnsmasq-base)"; return 1; }
  # Short: unix socket paths are limited to 107 bytes.
  TB_DIR=$(mktemp -d /tmp/tb.XXXXXX) || return 1
  export TB_DIR
  : >"$TB_DIR/netns"
  echo 0 >"$TB_DIR/hosts"

  sw=$(tb_netns switch)
  rt=$(tb_netns router)
  _tb_netns_add "$sw" || return 1
  ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up || return 1
  _tb_netns_add "$rt" || return 1
  ip -n "$sw" link add rt type veth peer name seg netns "$rt" &&
    ip -n "$sw" link set rt master br0 up &&
    ip -n "$rt" addr add "$TB_ROUTER_IP/24" dev seg &&
    ip -n "$rt" link set seg up &&
    in_router sysctl -qw net.ipv4.ip_forward=1 || return 1
  _tb_make_outside || return 1

  for ((i = 1; i <= n; i++)); do
    _tb_add_host "$i" || return 1
    echo "$i" >"$TB_DIR/hosts"
    tb_host "$i" || return 1
    mkdir -p "$D_DIR" &&
      printf '{"dns": ["%s"]}\n' "$TB_DNS_IP" >"$D_DIR/daemon.json" &&
      daemon_start &&
      import_alpine || return 1
  done
  tb_host 1
}

_tb_stop_pid() {
  local f=$TB_DIR/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
    poll_until 10 pid_dead "$pid" || { kill -KILL "$pid" 2>/dev/null && poll_until 10 pid_dead "$pid"; }
  fi
  rm -f "$f"
}

# testbed_down: removes all the bed made (whatever part of it exists).
testbed_down() {
  local i ns
  [ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ] || return 0
  for ((i = $(tb_hosts); i >= 1; i--)); do
    tb_host "$i" && daemon_cleanup || true
  done
  _tb_stop_pid httpd
  _tb_stop_pid dnsmasq
  # A veth pair goes with the namespace of either end.
  while read -r ns; do
    [ -z "$ns" ] || ip netns del "$ns" 2>/dev/null || true
  done <"$TB_DIR/netns"
  rm -rf --one-file-system "$TB_DIR"
  TB_DIR=
}

testbed_setup_file() {
  skiff_setup_file || return 1
  [ -z "$SKIFF_SKIP_REASON" ] || return 0
  daemon_prepare && testbed_up "${1:-1}"
}

testbed_teardown_file() {
  testbed_down
  skiff_teardown_file
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  _tb_lib=$(cd "$(dirname "$0")" && pwd)
  # shellcheck source=helpers.bash
  source "$_tb_lib/helpers.bash"
  # shellcheck source=daemon.bash
  source "$_tb_lib/daemon.bash"
  cmd=${1:-}
  shift || true
  if [ "${1:-}" = --build ]; then
    b=$(cd "${2:?--build wants a directory}" && pwd) || exit 1
    SKIFFD=$b/skiffd SKIFF=$b/skiff SKIFF_SHIM=$b/skiff-shim SKIFF_INIT=$b/skiff-init SKIFF_RUNTIME=$b/skiff-runtime
    SKIFF_IMAGE_HELPER=$b/skiff-image SKIFF_SECCOMP_PROFILE=$_tb_lib/../../data/seccomp-default.json
    export SKIFFD SKIFF SKIFF_SHIM SKIFF_INIT SKIFF_RUNTIME SKIFF_IMAGE_HELPER SKIFF_SECCOMP_PROFILE
    shift 2
  fi
  case $cmd in
    up)
      SKIFF_TEST_TMP=$(mktemp -d /tmp/tbr.XXXXXX) || exit 1
      export SKIFF_TEST_TMP
      if ! { skiff_setup_file && daemon_prepare && testbed_up "${1:-1}"; }; then
        [ -z "${TB_DIR:-}" ] || testbed_down
        rm -rf "$SKIFF_TEST_TMP"
        exit 1
      fi
      rm -rf "$SKIFF_TEST_TMP"
      echo "$TB_DIR"
      ;;
    down)
      TB_DIR=${1:?usage: $0 down TB_DIR}
      [ -d "$TB_DIR" ] && [ -f "$TB_DIR/netns" ] || { echo "$0: $TB_DIR is not a test bed" >&2; exit 1; }
      : "${SKIFF_RUNTIME:=}"
      testbed_down
      ;;
    *)
      echo "usage: $0 up [--build DIR] N | down [--build DIR] TB_DIR" >&2
      exit 2
      ;;
  esac
fi
