#!/usr/bin/env bats
# CRIU 3.17 judges ckpt's final dumps: inside the lane's guest, run the whole
# dump/restore suite (tests/bats/dump-restore.bats), where every victim is
# pre-dumped twice, dumped by ckpt, restored by `criu restore` (through
# `ckpt restore`) and must print PASS after checking its own state.

load ../bats/helpers
load vm-helpers

setup() {
	requires_vm
	requires root criu crit
}

@test "ckpt dump -> criu restore: every rst-* victim comes back and passes its own checks" {
	run criu check
	assert_success
	run bats --formatter tap "$REPO_ROOT/tests/bats/dump-restore.bats"
	echo "$output" >&2
	assert_success
	refute_output --partial '# skip'
	refute_output --regexp '^not ok'
	# each restore test reports that CRIU restored the victim
	[ "$(grep -c 'restored by CRIU' <<<"$output")" -ge 6 ]
}
