#!/bin/sh
# Everything CI does, from a fresh Debian 12: install the build and test
# dependencies, build, run every test (unit and integration, through
# `make check`), then `make distcheck`.  Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")" && pwd)
"$top/scripts/install-deps" all || exit 1
"$top/scripts/build" || { echo "0 passed, 1 failed"; exit 1; }
exec "$top/scripts/run-tests" "$top/build"
