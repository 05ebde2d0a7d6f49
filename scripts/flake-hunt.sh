#!/usr/bin/env bash
# flake-hunt.sh N [--lane main|valgrind|asan] [meson test args…] — run a
# test lane N times at CI's parallelism (2) with a CPU hog beside it
# (stress-ng, one worker per core), keep every run's testlog, and print
# which tests failed in which run. A flaky test is a bug to root-cause: the
# logs are the evidence. Lanes (the same as scripts/test.sh runs them):
#   main      meson test -C build                       (default)
#   valgrind  meson test -C build --setup=valgrind --suite unit --suite integration
#   asan      scripts/sanitize.sh (build-asan: unit, integration, scenario)
#   scripts/flake-hunt.sh 20                       # the whole suite, 20 times
#   scripts/flake-hunt.sh 5 --suite scenario       # only the scenarios
#   scripts/flake-hunt.sh 5 --lane asan            # the sanitizer lane
# Logs: build/flake-hunt/<timestamp>/run-K.{json,txt}. Exit 0 only if all N
# runs were green. Ends with "N passed, N failed" (runs).
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-}
case "$n" in ''|*[!0-9]*) echo "usage: scripts/flake-hunt.sh N [meson test args...]" >&2; exit 2;; esac
[ "$n" -ge 1 ] || { echo "flake-hunt: N must be >= 1" >&2; exit 2; }
shift
lane=main
if [ "${1:-}" = --lane ]; then
  lane=${2:-}
  shift 2 || { echo "flake-hunt: --lane needs main, valgrind or asan" >&2; exit 2; }
fi
case "$lane" in
  main) log=build/meson-logs/testlog.json ;;
  valgrind) log=build/meson-logs/testlog-valgrind.json ;;
  asan) log=build-asan/meson-logs/testlog.json ;;
  *) echo "flake-hunt: unknown lane '$lane' (main, valgrind or asan)" >&2; exit 2 ;;
esac
scripts/build.sh || exit 2
if ! command -v stress-ng >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends stress-ng >&2 || exit 2
  else
    echo "flake-hunt: needs stress-ng: apt-get install -y --no-install-recommends stress-ng" >&2; exit 2
  fi
fi
out=build/flake-hunt/$(date -u +%Y%m%dT%H%M%SZ)-$lane
mkdir -p "$out"
cores=$(nproc)
stress-ng --cpu "$cores" --cpu-load 100 --timeout 0 >/dev/null 2>&1 &
hog=$!
trap 'kill $hog 2>/dev/null; wait $hog 2>/dev/null' EXIT
trap 'echo "flake-hunt: interrupted after $green green, $red red run(s)" >&2; exit 130' INT TERM
green=0 red=0
t0=$(date +%s)
for k in $(seq 1 "$n"); do
  s=$(date +%s)
  rm -f "$log"
  case "$lane" in
    main) meson test -C build --num-processes 2 --no-rebuild "$@" ;;
    valgrind) meson test -C build --setup=valgrind --num-processes 2 --no-rebuild \
                --suite unit --suite integration "$@" ;;
    asan) scripts/sanitize.sh "$@" ;;
  esac > "$out/run-$k.txt" 2>&1
  rc=$?
  cp "$log" "$out/run-$k.json" 2>/dev/null || : > "$out/run-$k.json"
  fails=$(/usr/bin/python3 - "$out/run-$k.json" <<'PY'
import json, sys
bad = []
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:  # a run cut short leaves a partial line
        bad.append("(testlog line unreadable)")
        continue
    if r["result"] not in ("OK", "EXPECTEDFAIL", "SKIP"):
        bad.append("%s (%s)" % (r["name"], r["result"]))
print(", ".join(bad))
PY
)
  if [ $rc -eq 0 ] && [ -z "$fails" ]; then green=$((green + 1)); v=green; else red=$((red + 1)); v="RED: $fails"; fi
  echo "[run $k/$n] $(( $(date +%s) - s )) s, $v"
done
echo "flake-hunt: lane $lane: $green of $n runs green with a $cores-worker CPU hog ($(( $(date +%s) - t0 )) s); logs in $out"
echo "$green passed, $red failed"
[ $red -eq 0 ]
