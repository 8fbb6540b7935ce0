#!/bin/sh
# make-elf-rootfs.sh DIR PROGRAM...
#
# A fixture root filesystem: the busybox "alpine stand-in" of
# make-rootfs.sh plus Debian's dynamically linked PROGRAMs (names looked up
# in PATH, or paths) and every shared library ldd lists for them, each at
# the path it has on this machine (e.g. iperf3 for bench/net).
#
# Idempotent and atomic like make-rootfs.sh: built in DIR.tmp.<pid> and
# renamed to DIR when complete; a DIR made for the same programs is kept.
set -eu

if [ $# -lt 2 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR PROGRAM..." >&2
  exit 2
fi
dest=$1
shift
here=$(cd "$(dirname -- "$0")" && pwd)
stamp=.skiff-elf-rootfs

progs=
for p; do
  path=$(command -v -- "$p") || { echo "$0: $p not found (install its Debian package)" >&2; exit 1; }
  progs="$progs $(readlink -f -- "$path")"
done
if [ -f "$dest/$stamp" ] && [ "$(cat "$dest/$stamp")" = "$progs" ]; then
  exit 0
fi
command -v ldd >/dev/null || { echo "$0: ldd not found (libc-bin)" >&2; exit 1; }

tmp=$dest.tmp.$$
rm -rf -- "$tmp"
trap 'rm -rf -- "$tmp"' EXIT INT TERM
sh "$here/make-rootfs.sh" "$tmp"

# copy FILE: FILE (links followed) at the same path in the tree; replaces
# a busybox applet of the same name.
copy() {
  mkdir -p -- "$tmp$(dirname -- "$1")"
  rm -f -- "$tmp$1"
  cp -L -- "$1" "$tmp$1"
}

for prog in $progs; do
  libs=$(ldd "$prog") || { echo "$0: $prog is not a dynamically linked program" >&2; exit 1; }
  copy "$prog"
  # "libx.so => /path (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  for lib in $(printf '%s\n' "$libs" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    copy "$lib"
  done
done
echo "$progs" >"$tmp/$stamp"

rm -rf -- "$dest"
mv -T -- "$tmp" "$dest"
trap - EXIT INT TERM
