#!/usr/bin/env bash
# Quick start, command 1: set up, build, and run the server on its default configuration
# (config/default.json: unit 1 with 10 000 of each table on 127.0.0.1:5020). Ctrl-C stops it.
# Arguments go to uvmodbus-server (e.g. --config my.json --log-level debug).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
# Only what the server needs: its packages, and its own target. A build directory the tests have
# already configured keeps its options (and its objects); a new one leaves the tests out.
bash "$here/scripts/setup.sh" server
if [ -f "$build/CMakeCache.txt" ]; then
  BUILD_TARGET=uvmodbus-server bash "$here/scripts/build.sh"
else
  BUILD_TARGET=uvmodbus-server bash "$here/scripts/build.sh" \
    -DUVMODBUS_TESTS=OFF -DUVMODBUS_SAMPLES=OFF -DUVMODBUS_BENCH=OFF
fi
if [ $# -eq 0 ]; then
  set -- --config "$here/config/default.json"
fi
exec "$build/uvmodbus-server" "$@"
