#!/usr/bin/env bash
# Builds the libFuzzer target with clang and runs it for a bounded time (seconds, default 60) from the
# seed corpus in tests/fuzz/corpus. New inputs go to a scratch directory, not into the repository.
# Exits non-zero if the fuzzer finds a crash, a leak or undefined behaviour.
set -euo pipefail
seconds=${1:-60}
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$here/build-fuzz}
CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUVMODBUS_FUZZ=ON \
  -DUVMODBUS_TESTS=ON -DUVMODBUS_SAMPLES=OFF -DUVMODBUS_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
cmake --build "$build" --target fuzz_modbus_server -j"$(nproc)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/tests/fuzz/corpus/* "$work"/
"$build"/tests/fuzz/fuzz_modbus_server -max_total_time="$seconds" -max_len=1024 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work" 2>&1 | tail -15
