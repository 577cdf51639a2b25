#!/usr/bin/env bash
# Builds a libFuzzer target with clang (AddressSanitizer + UndefinedBehaviorSanitizer) and runs it from
# the seed corpus in tests/fuzz/corpus, bounded by time or by a number of executions. New inputs go to a
# scratch directory, not into the repository; a crash, leak or undefined behaviour exits non-zero and its
# input is kept under BUILD/fuzz-artifacts/. The whole libFuzzer log is kept in BUILD/fuzz-TARGET.log.
#
#   run.sh [SECONDS]                              every decoder, the first byte picks (CI: run.sh 60)
#   run.sh --target T [--seconds S | --runs N] [--max-len BYTES]
#
# T: all (fuzz_modbus_server, the default), mbap, rtu, ascii, bare-pdu (alias tls: the bare-PDU framing
# of pymodbus 2.x-3.7 TLS peers; MBAP inside TLS is the mbap decoder), config (the JSON configuration),
# http (the HTTP server's request path).
# Without --runs a run lasts S seconds (default 60). FUZZ_BUILD_DIR overrides the build directory.
set -euo pipefail
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
target=all seconds=60 runs="" max_len=""
if [[ $# -eq 1 && $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || usage
  case $1 in
    --target) target=$2 ;;
    --seconds) seconds=$2 ;;
    --runs) runs=$2 ;;
    --max-len) max_len=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $seconds =~ ^[0-9]+$ && ${runs:-0} =~ ^[0-9]+$ && ${max_len:-0} =~ ^[0-9]+$ ]] || usage

here=$(cd "$(dirname "$0")/../.." && pwd)
corpus=$here/tests/fuzz/corpus
# Each target: its executable, the seeds it starts from, its longest input and extra flags.
extra=()
case $target in
  all) exe=fuzz_modbus_server seeds=("$corpus"/*) len=1024 ;;
  mbap) exe=fuzz_mbap seeds=("$corpus"/mbap_*) len=1024 ;;
  rtu) exe=fuzz_rtu seeds=("$corpus"/rtu_*) len=1024 ;;
  ascii) exe=fuzz_ascii seeds=("$corpus"/ascii_*) len=1024 ;;
  bare-pdu | tls) exe=fuzz_bare_pdu seeds=("$corpus"/tls_bare_*) len=1024 ;;
  # 4096: deep JSON nesting is the config reader's own limit to enforce, not this fuzzer's find.
  http) exe=fuzz_http seeds=("$corpus"/http/*) len=8192 ;;
  config) exe=fuzz_config seeds=("$corpus"/config/*) len=4096 extra=(-dict="$here/tests/fuzz/config.dict") ;;
  *) usage ;;
esac
len=${max_len:-$len}

build=${FUZZ_BUILD_DIR:-$here/build-fuzz}
CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUVMODBUS_FUZZ=ON \
  -DUVMODBUS_TESTS=ON -DUVMODBUS_SAMPLES=OFF -DUVMODBUS_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
cmake --build "$build" --target "$exe" -j"$(nproc)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for seed in "${seeds[@]}"; do
  if [[ -f $seed ]]; then cp "$seed" "$work"/; fi
done
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
bound=(-max_total_time="$seconds")
if [[ -n $runs ]]; then bound=(-runs="$runs"); fi
log=$build/fuzz-$target.log
echo "fuzzing $exe (${bound[*]}, -max_len=$len); log: $log"
"$build"/tests/fuzz/"$exe" "${bound[@]}" -max_len="$len" -timeout=10 "${extra[@]}" -print_final_stats=1 \
  -artifact_prefix="$artifacts/$target-" "$work" >"$log" 2>&1 || {
  status=$?
  tail -40 "$log"
  echo "FAILED: $exe exited $status; the input is in $artifacts/ (add it to tests/fuzz/corpus/)" >&2
  exit "$status"
}
tail -15 "$log"
