#!/bin/sh
# skiff's main job on this machine, from a fresh Debian 12: install the
# dependencies, build, run a container from a locally built busybox bundle
# with skiff-runtime, then the tutorial's single-host steps through skiffd
# (with --network none until the bridge network exists).
set -eu
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/install-deps" test
"$top/scripts/build"
"$top/scripts/demo-runtime" "$top/build/skiff-runtime"
exec "$top/scripts/demo-daemon" "$top/build"
