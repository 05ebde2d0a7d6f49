#!/bin/sh
# Soak (issue 15): many supervisor lifecycles in one process against
# neira-fake-agent failing every third ProcessPrompt, the breaker opening
# (threshold 1); fds, threads, child processes, files and RSS recorded after
# a warm-up cycle and at the end, and must come back (RSS within a bound).
#
#   scripts/soak.sh [CYCLES] [CALLS] [MAX_RSS_GROWTH_KB]   default 150 100 16384 (≈ 8 min on 2 cores)
#
# Uses ./build (or $NEIRA_BUILD); prints the figures as one JSON line.
set -eu
cd "$(dirname "$0")/.."
BUILD=${NEIRA_BUILD:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
meson compile -C "$BUILD" soak_sup neira-fake-agent >/dev/null
exec "$BUILD/supervisor/soak_sup" "$BUILD/fake_agents/neira-fake-agent" "${1:-150}" "${2:-100}" "${3:-16384}"
