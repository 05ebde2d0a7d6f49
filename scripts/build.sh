#!/usr/bin/env bash
# Configures (once) and builds the project in ./build after making sure the
# Debian packages are there. Used by test.sh and conformance.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  meson setup build >&2
fi
meson compile -C build >&2
