#!/usr/bin/env bash
# Quick start, command 2: set up, build, and pass the whole test suite (unit, integration against
# libmodbus, pymodbus and mbpoll, samples, install). BUILD_DIR and extra cmake arguments select a
# variant (.ci/run uses this for the sanitizer build).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
# The tests need every part built (a directory serve.sh configured has them off); "$@" comes last so a
# caller can still turn one off (.ci/run's sanitizer build leaves out the benchmark).
bash "$here/scripts/build.sh" -DUVMODBUS_TESTS=ON -DUVMODBUS_SAMPLES=ON -DUVMODBUS_BENCH=ON "$@"
build=${BUILD_DIR:-$here/build}
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 300
