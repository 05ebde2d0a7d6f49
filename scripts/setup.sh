#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, or, when not root, prints
# the one apt-get line to run. Exit 0 when everything is present.
set -euo pipefail

PACKAGES=(
  meson ninja-build pkg-config gcc clang
  libgrpc-dev protobuf-c-compiler libprotobuf-c-dev
  libjansson-dev libfyaml-dev libcyaml-dev
  libfiu-dev fiu-utils libcmocka-dev valgrind
  python3 python3-grpcio python3-grpc-tools python3-yaml python3-jsonschema
  nodejs libfaketime
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm: Debian's package, unless the installed nodejs brings its own (e.g. a
# repackaged upstream build, which conflicts with Debian's npm)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The Node supervisor host (adapters/node, issue 11): its npm packages from the
# committed lockfile, reinstalled only when the lockfile changed.
node_deps() {
  local lock=adapters/node/package-lock.json stamp=adapters/node/node_modules/.package-lock.json
  [ -f "$lock" ] || return 0
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    echo "setup: npm ci --prefix adapters/node" >&2
    npm ci --prefix adapters/node --no-audit --no-fund --loglevel=error >&2
  fi
}
cd "$(dirname "$0")/.."

if [ ${#missing[@]} -eq 0 ]; then
  node_deps
  exit 0
fi

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: run as root:  apt-get update && $line" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
node_deps
