#!/usr/bin/env bash
# The test suite: unit, integration, cross-stack and scenario tests, then the
# native unit tests again under valgrind memcheck, a warnings-as-errors
# compile with clang, the clang ASan+UBSan lane and bounded fuzz runs. Ends
# with one line "N passed, N failed, N skipped".
# Usage: scripts/test.sh [extra meson test arguments, e.g. --suite H]
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh || exit 1

status=0
rm -f build/meson-logs/testlog-main.json build/meson-logs/testlog-valgrind.json
rm -f build-asan/meson-logs/testlog.json
meson test -C build --print-errorlogs --num-processes 2 "$@" || status=1
cp build/meson-logs/testlog.json build/meson-logs/testlog-main.json 2>/dev/null
# Ctrl-C reaches meson, which cancels its tests and exits 1 (not by the
# signal, so bash goes on): an interrupted test in the log ends the script.
interrupted() { grep -q '"result": "INTERRUPT"' "$1" 2>/dev/null && { echo "test.sh: interrupted" >&2; exit 130; }; }
interrupted build/meson-logs/testlog-main.json
if [ $# -eq 0 ]; then
  echo "== valgrind lane: meson test --setup=valgrind --suite unit --suite integration =="
  meson test -C build --setup=valgrind --print-errorlogs --num-processes 2 --suite unit --suite integration || status=1
  interrupted build/meson-logs/testlog-valgrind.json
  if command -v clang >/dev/null; then
    echo "== clang build (warnings are errors) =="
    { [ -f build-clang/build.ninja ] || CC=clang meson setup build-clang >/dev/null; } &&
      meson compile -C build-clang >/dev/null || { echo "clang build failed" >&2; status=1; }
    echo "== sanitizer lane: clang ASan+UBSan, unit + integration + scenario (scripts/sanitize.sh) =="
    scripts/sanitize.sh || status=1
    echo "== fuzz lane: each libFuzzer target 5 s (scripts/fuzz.sh 5) =="
    scripts/fuzz.sh 5 || status=1
  fi
fi
# The failures' evidence, then one closing line that any CI can read,
# counted over all lanes. A CI page often shows only the head and the tail
# of a log: the digest puts each failed test's name and its first
# assertion/error lines at the tail, next to the count.
/usr/bin/python3 - build/meson-logs/testlog-main.json build/meson-logs/testlog-valgrind.json \
  build-asan/meson-logs/testlog.json <<'PY'
import json, os, re, sys
lanes = {"testlog-main": "main", "testlog-valgrind": "valgrind", "testlog": "asan"}
evidence = re.compile(r"\[   LINE   \]|\[  ERROR   \]|error:|ERROR:|runtime error|"
                      r"^\s*FAIL|FAIL |Assertion|assert|Traceback|timed out|TIMEOUT|definitely lost|"
                      r"^soak: |^sanitize: ")
counts = {"passed": 0, "failed": 0, "skipped": 0}
digest = []
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    lane = lanes.get(os.path.basename(path)[:-5], path)
    for line in open(path):
        r = json.loads(line)
        key = {"OK": "passed", "EXPECTEDFAIL": "passed", "SKIP": "skipped"}.get(r["result"], "failed")
        counts[key] += 1
        if key != "failed":
            continue
        out = (r.get("stdout") or "") + "\n" + (r.get("stderr") or "")
        hits = [l.strip() for l in out.splitlines() if evidence.search(l)][:8]
        digest.append("  [%s] %s: %s (exit %s, %.1f s)" % (lane, r["name"], r["result"],
                      r.get("returncode"), r.get("duration") or 0))
        digest.extend("      " + h[:200] for h in hits or ["(no assertion line found; see the lane's testlog.txt)"])
if digest:
    print("== failed tests, with their first assertion or error lines ==")
    print("\n".join(digest))
print("%d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"], counts["skipped"]))
PY
exit $status
