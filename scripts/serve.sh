#!/usr/bin/env bash
# Quick start, command 1: set up, build, and run the server on its default configuration
# (config/default.json: unit 1 with 10 000 of each table on 127.0.0.1:5020). Ctrl-C stops it.
# Arguments go to uvmodbus-server (e.g. --config my.json --log-level debug).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
bash "$here/scripts/build.sh"
build=${BUILD_DIR:-$here/build}
if [ $# -eq 0 ]; then
  set -- --config "$here/config/default.json"
fi
exec "$build/uvmodbus-server" "$@"
