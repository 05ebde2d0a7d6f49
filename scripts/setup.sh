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
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

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
