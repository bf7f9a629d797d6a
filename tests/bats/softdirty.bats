#!/usr/bin/env bats
# bats file_tags=root
# The soft-dirty tracker on a kernel without soft-dirty (this machine's): it
# is refused with the reason, before anything is stopped, and `ckpt check`
# reports it unavailable.  Where the kernel has it, the tracker is tested in
# the VM lane (tests/vm/softdirty-predump.bats, tests/vm/softdirty-criu.bats).

load helpers

setup() {
	requires root ptrace
	if "$CKPT" check --feature soft-dirty >/dev/null 2>&1; then
		skip "this kernel has soft-dirty (its tests run in the VM lane)"
	fi
	start_victim exec-sleeper 60
	mkdir -p "$BATS_TEST_TMPDIR/img"
}

teardown() {
	kill_victims
}

@test "ckpt check: soft-dirty is unavailable, with the reason, and not chosen" {
	ckpt_run -1 check --feature soft-dirty
	assert_output --regexp '^soft-dirty: no \(.*pagemap bit 55.*\)$'
	ckpt_run -0 check
	assert_line --regexp '^soft-dirty: no \('
	refute_line --regexp '^tracker: soft-dirty '
	refute_output --partial "not implemented in this build"
	ckpt_run -0 check --json
	echo "$output" | jq -e '.tracker.name != "soft-dirty"'
}

@test "pre-dump and dump --tracker soft-dirty are refused with the reason; the target is untouched, no layer is left" {
	local img="$BATS_TEST_TMPDIR/img"
	ckpt_run -1 pre-dump -t "$VICTIM_PID" -D "$img/1" --tracker soft-dirty
	assert_output --partial "tracker soft-dirty is not available on this kernel"
	assert_output --partial "pagemap bit 55"
	ckpt_run -1 dump --memory-only -t "$VICTIM_PID" -D "$img/2" --tracker soft-dirty --leave-running
	assert_output --partial "tracker soft-dirty is not available on this kernel"
	[ -z "$(ls -A "$img")" ]
	untraced "$VICTIM_PID"
	[ "$(proc_state "$VICTIM_PID")" != T ]
	[ "$(proc_state "$VICTIM_PID")" != t ]
	kill -0 "$VICTIM_PID"
}
