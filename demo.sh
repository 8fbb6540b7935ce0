#!/bin/sh
# skiff's main job on this machine, from a fresh Debian 12: install the
# build dependencies, build, and run a container from a locally built
# busybox bundle with skiff-runtime.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/install-deps" test
"$top/scripts/build"
exec "$top/scripts/demo-runtime" "$top/build/skiff-runtime"
