#!/bin/sh
# libFuzzer targets (issue 15), clang 14: the line reader, neira-host's drive
# command parser, the config parser, the fake-agent script parser, the
# fault-plan parser and agent-reply decoding. Sources in fuzz/, seed corpora
# in fuzz/corpus/<target>/ (committed); new inputs found go to
# build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target SECONDS (default 60)
#   scripts/fuzz.sh 5                       the bounded run of the test lane
#
# Every target is built with ASan+UBSan. The drive target links the
# supervisor from build-asan (scripts/sanitize.sh makes it; configured here
# if missing). Exit status: 0 when no target found anything.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-60}
[ $# -gt 0 ] && shift
TARGETS=${*:-linebuf config fa_script fault_plan reply drive}
OUT=$ROOT/build-fuzz
ASAN=$ROOT/build-asan
CC=${CC:-clang}
mkdir -p "$OUT/gen" "$OUT/artifacts"

CFLAGS="-std=c11 -g -O1 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
JANSSON=$(pkg-config --cflags --libs jansson)

build() { # name sources... -- extra flags
	name=$1
	shift
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$OUT/fuzz_$name" "$@"
}

need_asan() {
	if [ ! -f "$ASAN/build.ninja" ]; then
		CC=clang meson setup "$ASAN" -Db_sanitize=address,undefined -Db_lundef=false \
			-Dfault_injection=false -Dbuildtype=debugoptimized >/dev/null
	fi
	meson compile -C "$ASAN" neira_supervisor >/dev/null
}

for t in $TARGETS; do
	case $t in
	linebuf)
		build linebuf fuzz/fuzz_linebuf.c supervisor/sup_linebuf.c -Isupervisor ;;
	config)
		build config fuzz/fuzz_config.c supervisor/sup_config.c supervisor/sup_error.c -Isupervisor $JANSSON ;;
	fa_script)
		build fa_script fuzz/fuzz_fa_script.c fake_agents/fa_script.c fake_agents/fa_presets.c vocab/nv.c \
			-Ifake_agents -Ivocab $JANSSON ;;
	fault_plan)
		build fault_plan fuzz/fuzz_fault_plan.c faults/flt_runtime.c faults/flt_plan.c faults/flt_errno.c vocab/nv.c -Ifaults -Ivocab \
			-DFIU_ENABLE \
			$JANSSON -lfiu ;;
	reply)
		protoc-c --c_out="$OUT/gen" -Iproto proto/agent.proto
		build reply fuzz/fuzz_reply.c supervisor/sup_bytes.c "$OUT/gen/agent.pb-c.c" -Isupervisor -I"$OUT/gen" \
			$(pkg-config --cflags --libs libprotobuf-c) $JANSSON ;;
	drive)
		need_asan
		# the static libraries neira-host links, from the ASan build
		libs=$(find "$ASAN/supervisor" "$ASAN/rpc" "$ASAN/proto" "$ASAN/vocab" -maxdepth 1 -name 'lib*.a' \
			! -name '*test*' ! -name 'libneira_sup_config.a' | sort)
		# shellcheck disable=SC2086
		build drive fuzz/fuzz_drive.c -I"$ASAN" -Isupervisor -Irpc -Ivocab -Ifaults -I"$ASAN/proto" \
			-Wl,--start-group $libs -Wl,--end-group $(pkg-config --cflags --libs grpc libprotobuf-c) $JANSSON \
			-lpthread ;;
	*)
		echo "fuzz: unknown target $t (linebuf config fa_script fault_plan reply drive)" >&2
		exit 2 ;;
	esac
done

rc=0
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$ROOT/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in $TARGETS; do
	mkdir -p "$OUT/corpus/$t"
	log=$OUT/fuzz_$t.log
	if "$OUT/fuzz_$t" "$OUT/corpus/$t" "fuzz/corpus/$t" -max_total_time="$SECS" -timeout=25 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$OUT/artifacts/${t}-" -print_final_stats=1 >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz: $t ok (${SECS}s, ${execs:-?} runs)"
	else
		echo "fuzz: $t FOUND SOMETHING — see $log and $OUT/artifacts/" >&2
		tail -40 "$log" >&2
		rc=1
	fi
done
exit $rc
