#!/bin/sh
# Sanitizer lane (issue 15): a clang AddressSanitizer + UndefinedBehavior-
# Sanitizer build in build-asan, then the unit, integration and scenario
# suites against it. Every process of the run (test programs, neira-host,
# the agents it spawns, the harness) writes its reports into one directory;
# the lane fails if any report is there, so a finding in a child process that
# a test did not notice still fails it. Suppressions: sanitizers/*.supp, one
# justified line each.
#
#   scripts/sanitize.sh [MESON TEST ARGS...]    e.g. scripts/sanitize.sh sup_hostile
#
# fault_injection=false: libfiu's posix preload (faults/ F-posix-* scenarios)
# wraps malloc and friends under LD_PRELOAD, which ASan's own interceptors
# cannot share; the in-code fault points are covered by the normal lanes.
#
# --no-suite preload: a scenario whose env preloads a library into the host
# (C2-wall-clock-jump: libfaketime) is not run against the ASan host. Debian
# 12's libfaketime 0.9.10 is known to hang a clang-ASan binary (static ASan
# runtime): upstream wolfcw/libfaketime#365, fixed after 0.9.10 by #389, and
# #391 (a recursive clock_gettime under its own mutex, still open). CI saw
# it once: C2's ASan host never answered `hello` (the harness now prints the
# hung host's threads and wchan). C2 itself runs in the main lane and
# against the Node hosts; this lane is about memory errors.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${NEIRA_ASAN_BUILD:-build-asan}
if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
		-Dfault_injection=false -Dbuildtype=debugoptimized >/dev/null
fi
if ! meson compile -C "$BUILD" >"$BUILD/compile.log" 2>&1; then
	tail -30 "$BUILD/compile.log" >&2
	echo "sanitize: build failed (full log: $BUILD/compile.log)" >&2
	exit 1
fi

LOGS=$ROOT/$BUILD/sanitizer-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
# halt_on_error: the first finding ends the process (with these exit codes),
# detect_leaks: LeakSanitizer at exit; log_path: one file per pid.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=98:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:log_path=$LOGS/asan"
export LSAN_OPTIONS="suppressions=$ROOT/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=97:log_path=$LOGS/ubsan"
if [ $# -gt 0 ]; then
	set -- "$@"
else
	set -- --suite unit --suite integration --suite scenario
fi
rc=0
meson test -C "$BUILD" --no-rebuild --num-processes 2 --timeout-multiplier 3 \
	--no-suite python --no-suite scenario-valgrind --no-suite preload "$@" || rc=$?
n=$(find "$LOGS" -type f | wc -l)
if [ "$n" -gt 0 ]; then
	echo "sanitize: $n report file(s) in $LOGS:" >&2
	for f in "$LOGS"/*; do
		echo "--- $f" >&2
		head -40 "$f" >&2
	done
	[ "$rc" -ne 0 ] || rc=1
fi
[ "$rc" -eq 0 ] && echo "sanitize: 0 findings (ASan+UBSan, LSan at exit)"
exit "$rc"
