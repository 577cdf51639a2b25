#!/usr/bin/env bash
# Configure and build into a build directory (default ./build, a Release build). Extra arguments go
# to cmake's configure step; BUILD_TARGET builds one target instead of everything.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
