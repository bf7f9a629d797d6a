#!/usr/bin/env bats
# ckpt's criu front-end on Debian's 6.1 kernel (soft-dirty): the path the
# machine cannot take, a DUMP handed to CRIU 3.17 in place with its parent_img
# kept, because CRIU continues ckpt's soft-dirty layers.  The client is the
# libcriu-style tests/tools/rpc-client.

load ../bats/helpers
load vm-helpers

setup() {
	requires_vm
	requires root ptrace criu crit
	FRONT="$BUILD/criu"
	CLIENT="$BUILD/tests/tools/rpc-client"
	export CKPT_CRIU_CONF="$BATS_TEST_TMPDIR/no-criu.conf"
	unset CKPT_CRIU
}

teardown() {
	kill_victims
}

@test "front-end on soft-dirty: two SINGLE_PRE_DUMPs by ckpt, DUMP handed to CRIU 3.17 in place with the parent, criu restore: the victim passes" {
	local img="$BATS_TEST_TMPDIR/img" out="$BATS_TEST_TMPDIR/vm-roundtrip.out" bin="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$img/1" "$img/2" "$img/3" "$bin"
	start_session_victim vm-roundtrip 512
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VICTIM_PID" -D "$img/1"
	assert_line --partial "type=13 success=1"
	grep -q "tracker soft-dirty" "$img/1/dump.log"
	kill -USR2 "$VICTIM_PID"
	retry 100 0.05 grep -q REDIRTIED "$out"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VICTIM_PID" -D "$img/2" -P ../1
	assert_line --partial "type=13 success=1"
	kill -USR2 "$VICTIM_PID"
	retry 100 0.05 eval '[ "$(grep -c REDIRTIED "$out")" -eq 2 ]'
	# the real CRIU next to the front-end
	ln -s "$CKPT" "$bin/criu"
	ln -s "$(command -v criu)" "$bin/criu.real"
	run -0 "$CLIENT" "$bin/criu" dump -t "$VICTIM_PID" -D "$img/3" -P ../2
	assert_line --partial "type=1 success=1 restored=0"
	assert_line "server exit=0"
	# in place: the log is CRIU's alone, and CRIU used ckpt's layer 2 as the parent
	run ! grep -q "ckpt's criu front-end" "$img/3/dump.log"
	[ "$(readlink "$img/3/parent")" = ../2 ]
	"$CKPT" show "$img/3/stats-dump" | jq -e '.entries[0].dump.pages_skipped_parent > 400'
	retry 50 0.1 eval '! kill -0 "$VICTIM_PID" 2>/dev/null || [ "$(proc_state "$VICTIM_PID")" = Z ]'
	kill_victims
	criu_run restore -d -D "$img/3"
	assert_success
	VICTIM_PIDS+=("$VICTIM_PID")
	kill -USR1 "$VICTIM_PID"
	retry 100 0.1 grep -qE '^(PASS|FAIL)' "$out"
	run cat "$out"
	assert_line --regexp '^PASS'
}
