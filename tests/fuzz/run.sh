#!/bin/bash
# Runs every libFuzzer harness in $FUZZ_BUILD/tests/fuzz for FUZZ_SECONDS on a scratch copy of
# its seed corpus (tests/fuzz/corpus/NAME), after replaying the corpus and every saved crash
# (tests/fuzz/regress/NAME/*) once.  TAP: one line per harness for the replay, one for the run,
# and "# fuzz NAME: N execs, N crashes" for make reliability.  New crash inputs are kept in
# $FUZZ_BUILD/fuzz-crashes/NAME/ (copy them to tests/fuzz/regress/NAME/ once fixed).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
FUZZ_BUILD="${FUZZ_BUILD:-build-fuzz}"
FUZZ_SECONDS="${FUZZ_SECONDS:-3}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fail=0
n=0
bins=()
for b in "$FUZZ_BUILD"/tests/fuzz/fuzz-*; do
	case "$b" in *.o | *.d) ;; *) [ -x "$b" ] && bins+=("$b") ;; esac
done
echo "1..$((${#bins[@]} * 2))"
for bin in "${bins[@]}"; do
	name="${bin##*/fuzz-}"
	seeds="tests/fuzz/corpus/$name"
	work="$FUZZ_BUILD/fuzz-work/$name"
	crashes="$FUZZ_BUILD/fuzz-crashes/$name"
	log="$FUZZ_BUILD/fuzz-$name.log"
	rm -rf "$work" && mkdir -p "$work" "$crashes"
	inputs=("$seeds"/*)
	[ -d "tests/fuzz/regress/$name" ] && inputs+=("tests/fuzz/regress/$name"/*)
	n=$((n + 1))
	if "$bin" -runs=1 "${inputs[@]}" >"$log.replay" 2>&1; then
		echo "ok $n - fuzz $name: corpus and regressions replay cleanly (${#inputs[@]} inputs)"
	else
		echo "not ok $n - fuzz $name: an input of the corpus or tests/fuzz/regress/$name fails (see $log.replay)"
		fail=1
	fi
	n=$((n + 1))
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	ncrash=$(find "$crashes" -type f | wc -l)
	echo "# fuzz $name: ${execs:-0} execs, $ncrash crashes"
	if [ "$rc" -eq 0 ] && [ "$ncrash" -eq 0 ]; then
		echo "ok $n - fuzz $name: ${execs:-0} executions in ${FUZZ_SECONDS}s, no crash"
	else
		echo "not ok $n - fuzz $name: exit $rc, crash inputs in $crashes (see $log)"
		fail=1
	fi
done
exit $fail
