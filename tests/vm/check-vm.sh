#!/bin/bash
# make check-vm (and the last part of make check): the soft-dirty lane.
# Installs the lane's packages when missing, runs the runner's own tests on
# the host (tests/vm/host/*.bats), then every guest suite (tests/vm/*.bats) in
# one boot of Debian's 6.1 kernel.  Prints TAP; a lane that could not run, a
# guest killed by the timeout or a suite that stopped early is reported as a
# "not ok" line, so it is counted as a failure, never as a pass.
#
# CKPT_VM_FILTER="GLOB..." runs only tests/vm/GLOB.bats for each word in the
# guest (the host tests are skipped then); CKPT_SKIP_VM=1 reports the lane as skipped.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD="${BUILD:-build}"
export BUILD

if [ "${CKPT_SKIP_VM:-0}" = 1 ]; then
	echo "ok - vm lane # SKIP CKPT_SKIP_VM=1"
	exit 0
fi
if ! CKPT_VM_DEPS=1 tests/install-deps.sh >&2; then
	echo "not ok - vm lane: its packages could not be installed (CKPT_VM_DEPS=1 tests/install-deps.sh)"
	exit 1
fi

fail=0
if [ -z "${CKPT_VM_FILTER:-}" ]; then
	bats --formatter tap tests/vm/host/*.bats || fail=1
	suites=(tests/vm/*.bats)
else
	suites=()
	for f in $CKPT_VM_FILTER; do
		# shellcheck disable=SC2206 # each word is a glob
		suites+=(tests/vm/$f.bats)
	done
fi

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
tests/vm/run-in-vm.sh -- bats --formatter tap "${suites[@]}" | tee "$out"
rc=${PIPESTATUS[0]}

planned=$(sed -n 's/^1\.\.\([0-9]\+\)$/\1/p' "$out" | head -n1)
reported=$(grep -cE '^(not )?ok ' "$out")
if [ "$rc" -eq 124 ]; then
	echo "not ok - vm lane: the guest was killed by the timeout"
	fail=1
elif [ -z "$planned" ]; then
	echo "not ok - vm lane: the guest suite did not run (exit $rc)"
	fail=1
elif [ "$reported" -lt "$planned" ]; then
	echo "not ok - vm lane: only $reported of $planned tests reported (exit $rc)"
	fail=1
elif [ "$rc" -ne 0 ]; then
	grep -qE '^not ok ' "$out" || echo "not ok - vm lane: exit $rc without a failed test"
	fail=1
fi
exit $fail
