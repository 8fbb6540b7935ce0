#!/bin/sh
# make-rootfs.sh DIR
#
# Builds a minimal "alpine stand-in" root filesystem for the integration
# tests out of Debian's statically linked busybox (package busybox-static):
#
#   DIR/bin/busybox            the static binary
#   DIR/{bin,sbin,usr/bin,usr/sbin}/<applet> -> /bin/busybox
#   DIR/etc/passwd, DIR/etc/group (root, nobody 65534, tester 1000)
#   DIR/etc/hostname, empty DIR/{proc,sys,dev,tmp,mnt,srv,opt,shared,...}
#
# Idempotent and atomic: the tree is built in DIR.tmp.<pid> and renamed to
# DIR only when complete, so a concurrent or interrupted build never leaves
# a half-made DIR.  When DIR already holds a complete rootfs (its stamp file
# exists) the script returns at once.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi

dest=$1
stamp=.skiff-rootfs-v2

if [ -f "$dest/$stamp" ]; then
  exit 0
fi

busybox=${BUSYBOX:-}
if [ -z "$busybox" ]; then
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ]; then
      busybox=$b
      break
    fi
  done
fi
if [ -z "$busybox" ]; then
  echo "$0: busybox not found (install the Debian package busybox-static)" >&2
  exit 1
fi
# The container has no libraries: the binary must be static.
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" >/dev/null 2>&1; then
  echo "$0: $busybox is dynamically linked (install busybox-static)" >&2
  exit 1
fi

parent=$(dirname -- "$dest")
mkdir -p -- "$parent"
tmp=$dest.tmp.$$
rm -rf -- "$tmp"
trap 'rm -rf -- "$tmp"' EXIT INT TERM

mkdir -p -- "$tmp"
# Mount points tests use must exist: the rootfs is shared and read-only,
# a runtime must not have to create them in it.
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root home/tester \
  var/tmp run mnt srv opt shared; do
  mkdir -p -- "$tmp/$d"
done
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
chmod 700 "$tmp/root"
chown 1000:1000 "$tmp/home/tester"

cp -- "$busybox" "$tmp/bin/busybox"
chmod 755 "$tmp/bin/busybox"

# One symlink per applet, at the path busybox itself reports.
"$busybox" --list-full | while IFS= read -r applet; do
  case $applet in
    */*) ;;
    *) continue ;; # e.g. "linuxrc": not needed
  esac
  [ "$applet" = bin/busybox ] && continue
  [ -e "$tmp/$applet" ] || [ -L "$tmp/$applet" ] && continue
  [ -d "$tmp/${applet%/*}" ] || mkdir -p -- "$tmp/${applet%/*}"
  ln -s /bin/busybox "$tmp/$applet"
done
for must in bin/sh bin/ash bin/ps usr/bin/id bin/sleep; do
  if [ ! -L "$tmp/$must" ]; then
    echo "$0: busybox at $busybox lacks the applet $must" >&2
    exit 1
  fi
done

cat >"$tmp/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$tmp/etc/group" <<'EOF'
root:x:0:
wheel:x:10:root
tester:x:1000:
nogroup:x:65534:
EOF
chmod 644 "$tmp/etc/passwd" "$tmp/etc/group"
: >"$tmp/etc/hostname"
: >"$tmp/etc/hosts"
: >"$tmp/etc/resolv.conf"
touch "$tmp/$stamp"

# Publish atomically.  If another builder won the race, keep its tree.
if ! mv -T -- "$tmp" "$dest" 2>/dev/null; then
  if [ -f "$dest/$stamp" ]; then
    exit 0
  fi
  # A stale, incomplete DIR (not built by this script): replace it.
  old=$dest.old.$$
  mv -T -- "$dest" "$old"
  mv -T -- "$tmp" "$dest"
  rm -rf -- "$old"
fi
trap - EXIT INT TERM
exit 0
