#!/usr/bin/env bash
# Quick start, command 2: set up, build, and pass the whole test suite (unit, integration against
# libmodbus, pymodbus and mbpoll, samples, install). BUILD_DIR and extra cmake arguments select a
# variant (.ci/run uses this for the sanitizer build).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
bash "$here/scripts/build.sh" "$@"
build=${BUILD_DIR:-$here/build}
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 300
