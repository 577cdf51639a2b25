#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds a project outside the tree against it,
# once with find_package(uvmodbus) and once with pkg-config, and runs both programs.
set -euo pipefail
build=$1
flags=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
# One translation unit per installed header, each including only that header: every header must
# compile alone with what the package provides. The list comes from the install tree, so a new header
# is checked without editing this file (protocols/ too: no installed header includes nlohmann, which
# the package does not provide to consumers; the JSON-taking helpers live in detail/, not installed).
include=$(find "$work/prefix" -type d -path '*/include/uvmodbus' | head -1)
mkdir -p "$work/header-checks"
for dir in reactor framers datastore protocols; do
  while IFS= read -r header; do
    rel=${header#"$include"/}
    echo "#include \"$rel\"" >"$work/header-checks/$(echo "$rel" | tr '/.' '__').cc"
  done < <(find "$include/$dir" -name '*.h' | sort)
done
cmake -S "$here/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DHEADER_CHECKS_DIR="$work/header-checks" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer"
pcdir=$(dirname "$(find "$work/prefix" -name uvmodbus.pc | head -1)")
export PKG_CONFIG_PATH="$pcdir"
# shellcheck disable=SC2046
# shellcheck disable=SC2086
c++ -std=c++20 $flags "$here/consumer/main.cc" -o "$work/consumer-pc" $(pkg-config --cflags --libs --static uvmodbus)
"$work/consumer-pc"
