#!/usr/bin/env bash
# The test suite: unit, integration, cross-stack and scenario tests, then the
# same native tests again under valgrind memcheck (leaks and fds).
# Usage: scripts/test.sh [extra meson test arguments, e.g. --suite H]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
meson test -C build --print-errorlogs --num-processes 2 "$@"
if [ $# -eq 0 ]; then
  echo "== valgrind lane (meson test --setup=valgrind) =="
  meson test -C build --setup=valgrind --print-errorlogs --num-processes 2 --suite unit
fi
