#!/bin/sh
# make-nginx-rootfs.sh DIR [DEBDIR]
#
# Builds the nginx layer of the test bed's nginx image: the tree laid over
# the busybox rootfs of make-rootfs.sh (the alpine stand-in), as the nginx
# image on Docker Hub lays nginx over its base image.
#
#   DIR/usr/sbin/nginx             from Debian's package nginx (bookworm's
#                                  nginx-light is that binary plus the echo
#                                  module, which the fixture does not need)
#   DIR/lib*/...                   the libraries `ldd` names, at the paths it
#                                  names, and the dynamic loader
#   DIR/etc/nginx/nginx.conf       no systemd, no daemon (Cmd adds "daemon
#                                  off;"), logs to the container's stdout
#                                  and stderr, serves /usr/share/nginx/html
#                                  on port 80
#   DIR/etc/nginx/mime.types, DIR/usr/share/nginx/html/index.html
#                                  from nginx-common (the welcome page)
#   DIR/etc/passwd, group          root, www-data (the worker user), nobody
#   DIR/var/log/nginx/{access,error}.log -> /dev/stdout, /dev/stderr
#   DIR/.nginx-version             the Debian version used (not in the layer)
#
# The packages come from DEBDIR (default DIR.debs): `apt-get download`
# fills it when it holds no nginx_*.deb, so a second build downloads
# nothing.  Nothing is installed on the machine.  Idempotent and atomic:
# built in DIR.tmp.<pid>, renamed when complete.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR [DEBDIR]" >&2
  exit 2
fi
dest=$1
debs=${2:-$dest.debs}
stamp=.skiff-nginx-v1
prog=${0##*/}
die() {
  echo "$prog: $*" >&2
  exit 1
}

[ -f "$dest/$stamp" ] && exit 0
umask 022

mkdir -p -- "$debs"
if ! ls "$debs"/nginx_*.deb >/dev/null 2>&1 || ! ls "$debs"/nginx-common_*.deb >/dev/null 2>&1; then
  command -v apt-get >/dev/null || die "apt-get is needed to fetch the Debian packages nginx and nginx-common"
  # As root, apt's _apt sandbox user cannot write into DEBDIR: say who downloads.
  fetch() { (cd "$debs" && apt-get -q -o APT::Sandbox::User=root download nginx nginx-common >/dev/null); }
  # Package lists missing or stale (a fresh machine): refresh them once.
  fetch || { [ "$(id -u)" -eq 0 ] && apt-get update -qq && fetch; } ||
    die "apt-get download nginx nginx-common failed (is Debian's archive reachable?)"
fi
# One version of each (the newest when the cache holds several).
deb=$(find "$debs" -maxdepth 1 -name 'nginx_*.deb' | sort -V | tail -n 1)
common=$(find "$debs" -maxdepth 1 -name 'nginx-common_*.deb' | sort -V | tail -n 1)

tmp=$dest.tmp.$$
rm -rf -- "$tmp" "$tmp.x"
trap 'rm -rf -- "$tmp" "$tmp.x"' EXIT INT TERM
mkdir -p -- "$tmp" "$tmp.x"
dpkg-deb -x "$deb" "$tmp.x"
dpkg-deb -x "$common" "$tmp.x"
[ -x "$tmp.x/usr/sbin/nginx" ] || die "$deb holds no usr/sbin/nginx"

for d in usr/sbin etc/nginx usr/share/nginx/html var/lib/nginx var/log/nginx var/lock run; do
  mkdir -p -- "$tmp/$d"
done
cp -- "$tmp.x/usr/sbin/nginx" "$tmp/usr/sbin/nginx"
cp -- "$tmp.x/etc/nginx/mime.types" "$tmp/etc/nginx/mime.types"
cp -- "$tmp.x/usr/share/nginx/html/index.html" "$tmp/usr/share/nginx/html/index.html"
chmod 755 "$tmp/usr/sbin/nginx"
chmod 644 "$tmp/etc/nginx/mime.types" "$tmp/usr/share/nginx/html/index.html"

# The libraries, as the machine's loader resolves them (the same Debian
# release), copied to the paths ldd prints: Debian's loader searches
# /lib/x86_64-linux-gnu without an ld.so.cache.
libs=$(ldd "$tmp/usr/sbin/nginx") || die "ldd cannot read $tmp/usr/sbin/nginx"
if printf '%s\n' "$libs" | grep -q 'not found'; then
  die "libraries of nginx missing on this machine: $(printf '%s\n' "$libs" | grep 'not found' | tr -s ' \t' ' ')"
fi
printf '%s\n' "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u |
  while IFS= read -r lib; do
    mkdir -p -- "$tmp${lib%/*}"
    cp -L -- "$lib" "$tmp$lib"
    chmod 755 "$tmp$lib"
  done
ls "$tmp"/lib*/ld-linux* >/dev/null 2>&1 || ls "$tmp"/lib*/*/ld-linux* >/dev/null 2>&1 ||
  die "ldd named no dynamic loader for nginx"

cat >"$tmp/etc/nginx/nginx.conf" <<'EOF'
# skiff's test-bed nginx: runs in the foreground as the container's main
# process (Cmd adds "daemon off;"), no systemd; the access log goes to the
# container's stdout and the error log to its stderr (see /var/log/nginx).
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr notice;

events {
	worker_connections 512;
}

http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	log_format main '$remote_addr - $remote_user [$time_local] "$request" '
	                '$status $body_bytes_sent "$http_referer" "$http_user_agent"';
	access_log /var/log/nginx/access.log main;
	sendfile on;
	keepalive_timeout 65;

	server {
		listen 80 default_server;
		server_name _;
		root /usr/share/nginx/html;
		index index.html;
	}
}
EOF
ln -s /dev/stdout "$tmp/var/log/nginx/access.log"
ln -s /dev/stderr "$tmp/var/log/nginx/error.log"

cat >"$tmp/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$tmp/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
nogroup:x:65534:
EOF
# glibc's built-in defaults would do; spelled out for a reader of the image.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$tmp/etc/nsswitch.conf"
chmod 644 "$tmp/etc/nginx/nginx.conf" "$tmp/etc/passwd" "$tmp/etc/group" "$tmp/etc/nsswitch.conf"

dpkg-deb -f "$deb" Version >"$tmp/.nginx-version"
rm -rf -- "$tmp.x"
touch "$tmp/$stamp"

# A complete DIR of a concurrent build wins; an incomplete one is replaced.
if [ ! -f "$dest/$stamp" ]; then
  rm -rf -- "$dest"
  mv -T -- "$tmp" "$dest"
fi
