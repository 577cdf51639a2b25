#!/usr/bin/env bash
# One set-up step shared by the README's two commands: make sure every Debian package the build,
# the tests and the benchmark need is present. Installs what is missing when run as root; otherwise
# prints the exact apt-get line to run and fails. Idempotent, and quick when nothing is missing.
# `setup.sh server` installs only what building uvmodbus-server and uvmodbus-simulator need (the quick
# start's first command; liblua5.4-dev is small and only the simulator links it);
# with no argument, everything the tests, the fuzzer and the benchmark need as well.
# Then the simulator web UI's npm packages (web/package-lock.json) with `npm ci`, when they are not
# there yet or the lock file changed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES=(
  build-essential cmake pkg-config
  libuv1-dev libserialport-dev libmbedtls-dev nlohmann-json3-dev libcli11-dev libhttp-parser-dev
  libhiredis-dev
  liblua5.4-dev
  nodejs npm
)
if [ "${1:-all}" != server ]; then
  PACKAGES+=(
    clang libclang-rt-14-dev doctest-dev curl
    libmodbus-dev python3 python3-pymodbus python3-serial python3-serial-asyncio python3-jsonschema mbpoll socat openssl redis-server
    chromium chromium-driver python3-selenium
  )
fi

missing=()
for p in "${PACKAGES[@]}"; do
  # A nodejs package that bundles npm (and conflicts with Debian's) serves as well.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

install_web_packages() {
  # npm ci writes node_modules/.package-lock.json: newer than the lock file means up to date.
  local web="$here/web"
  if [ ! -f "$web/node_modules/.package-lock.json" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    echo "uvmodbus set-up: npm ci in web/ (the simulator UI's chart library)"
    (cd "$web" && npm ci --no-audit --no-fund)
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  install_web_packages
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "uvmodbus set-up: these Debian packages are missing:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "uvmodbus set-up: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when apt has none yet or when an install fails for want of them.
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  apt-get update -q
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
install_web_packages
