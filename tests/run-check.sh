#!/bin/bash
# make check: lint, C unit tests (TAP), the bats suites and the VM lane, then one closing line
# "check: N passed, N failed, N skipped".  Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD="${BUILD:-build}"
export BUILD
log="$BUILD/check.tap"
mkdir -p "$BUILD"
: >"$log"

fail=0
echo "== lint"
if ! tests/lint.sh; then
	echo "not ok - lint" | tee -a "$log"
	fail=1
else
	echo "ok - lint" >>"$log"
fi

# SANITIZE=1: LeakSanitizer on for the unit tests (helpers.bash turns it off for ckpt under bats).
unit_asan="${ASAN_OPTIONS:-}"
[ "${SANITIZE:-0}" = 1 ] && unit_asan="detect_leaks=1:abort_on_error=0${unit_asan:+:$unit_asan}"

echo "== unit tests"
for t in "$BUILD"/tests/unit/test-*; do
	[ -x "$t" ] || continue
	case "$t" in *.o | *.d) continue ;; esac
	echo "# $(basename "$t")"
	ASAN_OPTIONS="$unit_asan" "$t" | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
done

echo "== tools"
# CRIU >= 4.0 for the lane-1 restore suite, built once into a cache (tests/tools/criu.sh);
# built here so its time is not charged to a test.  Absent tarball: those tests skip.
criu4_rc=0
criu4=$(tests/tools/criu.sh) || criu4_rc=$?
case "$criu4_rc" in
0) echo "# CRIU 4: $criu4" ;;
3) echo "# no CRIU 4: the tests that need it skip" ;;
*)
	echo "not ok - CRIU 4 for the restore suite (tests/tools/criu.sh exit $criu4_rc)" | tee -a "$log"
	fail=1
	;;
esac

echo "== bats"
suites=(tests/bats/*.bats)
if [ -n "${CKPT_BATS_FILTER:-}" ]; then
	suites=()
	for s in $CKPT_BATS_FILTER; do suites+=("tests/bats/$s.bats"); done
fi
bats --formatter tap "${suites[@]}" | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1

if [ "${CKPT_NO_FUZZ:-0}" = 1 ]; then
	echo "== fuzz skipped (CKPT_NO_FUZZ=1)"
else
	echo "== fuzz (libFuzzer, ${FUZZ_SECONDS:-3} s a harness)"
	if ! make -s fuzz-bins; then
		echo "not ok - fuzz: the harnesses do not build" | tee -a "$log"
		fail=1
	else
		tests/fuzz/run.sh | tee -a "$log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
	fi
fi

if [ "${CKPT_NO_VM:-0}" = 1 ]; then
	echo "== vm lane skipped (CKPT_NO_VM=1)"
else
	echo "== vm lane (Debian 12's 6.1 kernel under qemu: soft-dirty, CRIU as judge)"
	tests/vm/check-vm.sh | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail=1
fi

passed=$(grep -cE '^ok ' "$log" | tr -d ' ')
skipped=$(grep -cE '^ok .*# ?[Ss][Kk][Ii][Pp]' "$log" | tr -d ' ')
failed=$(grep -cE '^not ok ' "$log" | tr -d ' ')
passed=$((passed - skipped))
echo
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$fail" -eq 0 ]
