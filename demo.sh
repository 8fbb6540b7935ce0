#!/bin/sh
# skiff's main job on this machine, from a fresh Debian 12: install the
# dependencies, build, and run the seed tutorial with skiff on a local
# test bed of three hosts (scripts/demo-tutorial says which parts run).
set -eu
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/install-deps" test
"$top/scripts/build"
exec "$top/scripts/demo-tutorial" "$top/build"
