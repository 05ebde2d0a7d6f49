#!/usr/bin/env bash
# The main job: build, run the whole suite (unit, cross-stack, integration and
# every scenario against real processes on real sockets), then write the
# conformance report by SPEC clause into reports/out/:
#   conformance.json  conformance.md  conformance.html  junit.xml
# Exit 0 only if every clause passes and nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh || exit 2

out=${NEIRA_REPORT_DIR:-reports/out}
rm -rf build/results          # a stale result must never stand in for this run
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t0=$(date +%s%N)
echo "== conformance run: meson test (all suites) =="
meson test -C build --num-processes 2 --print-errorlogs
tests_status=$?
t1=$(date +%s%N)

echo "== conformance report =="
build/harness/neira-harness report --from build/results \
  --testlog build/meson-logs/testlog.json --out "$out" \
  --meta "commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --meta "started_at=$start" --meta "duration_ms=$(( (t1 - t0) / 1000000 ))"
report_status=$?
echo "conformance: open $out/conformance.html (summary in $out/conformance.md)"
[ $report_status -eq 2 ] && exit 2
[ $tests_status -ne 0 ] || [ $report_status -ne 0 ] && exit 1
exit 0
