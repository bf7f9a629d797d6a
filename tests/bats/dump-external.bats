#!/usr/bin/env bats
# bats file_tags=root
#
# Plain trees with fds leading outside (issue 15): a pipe end whose peer the tree does not hold is
# dumped as CRIU does, and the log names the key a restore must be given
# (--inherit-fd fd[N]:pipe:[INODE]); CRIU 4.2 restores it onto a new pipe given that way.

load helpers
load restore-helpers

setup() {
	requires root ptrace crit
	rst_setup
}

teardown() {
	rst_teardown
}

@test "stdout on a pipe to the test: dumped, the log names pipe:[INODE]" {
	# the victim's stdout and stderr are a pipe whose read end is cat's, outside the tree
	"$VICTIMS/rst-mem" 2>&1 3>&- </dev/null | cat >"$OUT" &
	retry 200 0.05 grep -q '^READY' "$OUT"
	VICTIM_PID=$(pgrep -n -f "$VICTIMS/rst-mem")
	VICTIM_PIDS+=("$VICTIM_PID")
	local link ino
	link=$(readlink "/proc/$VICTIM_PID/fd/1")
	[[ "$link" == pipe:* ]] || fail "fd 1 is $link"
	ino=${link#pipe:[}
	ino=${ino%]}
	ckpt_run -0 --separate-stderr dump -t "$VICTIM_PID" -D "$IMG/1" --leave-running
	stderr_has "pipe:[$ino] leads outside the tree"
	stderr_has "--inherit-fd fd[N]:pipe:[$ino]"
	check_images "$IMG/1" "$VICTIM_PID"
	kill -TERM "$VICTIM_PID"
	retry 100 0.05 grep -q '^PASS$' "$OUT"
}

@test "CRIU 4.2 restores it with --inherit-fd fd[N]:pipe:[INODE] onto a new pipe" {
	requires criu4
	local rlog="$BATS_TEST_TMPDIR/restore.log" out2="$BATS_TEST_TMPDIR/restored.out"
	"$VICTIMS/rst-mem" 2>&1 3>&- </dev/null | cat >"$OUT" &
	retry 200 0.05 grep -q '^READY' "$OUT"
	VICTIM_PID=$(pgrep -n -f "$VICTIMS/rst-mem")
	VICTIM_PIDS+=("$VICTIM_PID")
	local link ino pid=$VICTIM_PID
	link=$(readlink "/proc/$pid/fd/1")
	ino=${link#pipe:[}
	ino=${ino%]}
	ckpt_run -0 --separate-stderr dump -t "$pid" -D "$IMG/1"
	stderr_has "--inherit-fd fd[N]:pipe:[$ino]"
	free_pids "$pid"
	# a new pipe: its write end is fd 7 of ckpt (and CRIU), its read end a cat into out2
	exec 7> >(exec cat >"$out2")
	ckpt_run restore -D "$IMG/1" --criu "$CRIU4" -d -o "$rlog" -- --inherit-fd "fd[7]:pipe:[$ino]"
	exec 7>&-
	[ "$status" -eq 0 ] || fail "CRIU 4 could not restore: $output $(tail -20 "$rlog")"
	assert_output --partial "restored pid $pid"
	RESTORED_PID=$pid
	kill -TERM "$pid"
	retry 200 0.05 grep -qE '^(PASS|FAIL)' "$out2" || fail "nothing on the new pipe: $(cat "$out2")"
	run -0 grep -qx PASS "$out2"
}

@test "an outside pipe next to a TCP socket and an eventfd: refused up front with the whole list" {
	"$VICTIMS/rst-socket" 2>&1 3>&- </dev/null | cat >"$OUT" &
	retry 200 0.05 grep -q '^READY' "$OUT"
	VICTIM_PID=$(pgrep -n -f "$VICTIMS/rst-socket")
	VICTIM_PIDS+=("$VICTIM_PID")
	ckpt_run -1 --separate-stderr dump -t "$VICTIM_PID" -D "$IMG/1"
	# one message with every problem; the pipe is not one of them
	local msg
	msg=$(grep 'cannot dump' <<<"$stderr")
	[[ "$msg" == *"(TCP socket)"* && "$msg" == *"anon_inode:[eventfd]"* ]] || fail "not the whole list: $msg"
	[[ "$msg" != *"pipe:["* ]] || fail "the outside pipe is refused: $msg"
	[ ! -e "$IMG/1/inventory.img" ]
	run -0 untraced "$VICTIM_PID"
	[ "$(proc_state "$VICTIM_PID")" = S ]
	kill -TERM "$VICTIM_PID"
	retry 100 0.05 grep -q '^PASS$' "$OUT"
}

@test "a --leave-running dump whose tree exits right after the thaw still writes every image" {
	victim rst-mem
	local pid=$VICTIM_PID log="$BATS_TEST_TMPDIR/ckpt.err" rc=0
	CK_FAULT=final-thawed:stop "$CKPT" dump -t "$pid" -D "$IMG/1" --leave-running >/dev/null 2>"$log" 3>&- &
	local ckpt_pid=$!
	retry 200 0.02 grep -q "stopped at final-thawed" "$log" || fail "ckpt did not stop: $(cat "$log")"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	retry 200 0.02 test ! -e "/proc/$pid"
	kill -CONT "$ckpt_pid"
	wait "$ckpt_pid" || rc=$?
	cat "$log" >&2
	[ "$rc" = 0 ] || fail "the dump failed after the thaw: $(cat "$log")"
	check_images "$IMG/1" "$pid"
}
