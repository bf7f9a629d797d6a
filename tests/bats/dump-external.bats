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

# shell_job_victim: rst-tty started by a shell on a new 40x100 pty (pty-run): stdout and stderr
# on the terminal, the session and group led by the shell, outside the tree.
shell_job_victim() {
	local pidf="$BATS_TEST_TMPDIR/victim.pid"
	"$VICTIMS/pty-run" "$OUT" 40 100 sh -c "RST_NO_SETSID=1 '$VICTIMS/rst-tty' & echo \$! >'$pidf'; wait" \
		>/dev/null 2>&1 3>&- </dev/null &
	retry 200 0.05 grep -q '^READY 40x100' "$OUT" || fail "no READY: $(cat "$OUT")"
	VICTIM_PID=$(cat "$pidf")
	VICTIM_PIDS+=("$VICTIM_PID")
}

# last_tick FILE: the highest TICK the victim wrote to FILE
last_tick() {
	tr -d '\r' <"$1" | awk '$1 == "TICK" {n = $2} END {print n + 0}'
}

# ticks_above FILE N: the victim wrote a TICK above N to FILE
ticks_above() {
	[ "$(last_tick "$1")" -gt "$2" ]
}

@test "a shell job on a terminal: refused without --shell-job (the whole list, still running), dumped with it as CRIU writes it" {
	shell_job_victim
	local tty
	tty=$(readlink "/proc/$VICTIM_PID/fd/1")
	ckpt_run -1 --separate-stderr dump -t "$VICTIM_PID" -D "$IMG/1"
	stderr_has "its session leader"
	stderr_has "fd 1: terminal $tty: its master is outside the tree; give --shell-job"
	stderr_has "fd 2: terminal $tty"
	[ ! -e "$IMG/1/inventory.img" ]
	run -0 untraced "$VICTIM_PID"
	local n0
	n0=$(last_tick "$OUT")
	retry 100 0.05 ticks_above "$OUT" "$n0"
	ckpt_run -0 dump -t "$VICTIM_PID" -D "$IMG/1" --shell-job --leave-running
	check_images "$IMG/1" "$VICTIM_PID"
	# one pty slave of index N, its session outside (zeroed), the window and ECHO off carried
	run -0 "$CKPT" show "$IMG/1/tty-info.img"
	jq -e --argjson n "${tty##*/}" '.entries | length == 1 and .[0].type == "PTY" and .[0].pty.index == $n
		and .[0].sid == 0 and .[0].winsize.ws_row == 40 and .[0].winsize.ws_col == 100
		and (.[0].termios.c_lflag % 16 < 8)' <<<"$output" || fail "tty-info: $output"
	run -0 "$CKPT" show "$IMG/1/files.img"
	jq -e '[.entries[] | select(.type == "TTY")] | length == 1' <<<"$output" || fail "files: $output"
	n0=$(last_tick "$OUT")
	retry 100 0.05 ticks_above "$OUT" "$n0"
	kill -TERM "$VICTIM_PID"
	retry 100 0.05 grep -q '^PASS' "$OUT"
}

@test "CRIU 4.2 restores a shell job onto the terminal the restore runs in: it ticks on there, window size and ECHO off carried" {
	requires criu4
	shell_job_victim
	local pid=$VICTIM_PID out2="$BATS_TEST_TMPDIR/restored.out" rlog="$BATS_TEST_TMPDIR/restore.log"
	ckpt_run -0 dump -t "$pid" -D "$IMG/1" --shell-job
	gone "$pid"
	local n0
	n0=$(last_tick "$OUT")
	free_pids "$pid"
	# a new 24x80 terminal whose shell runs the restore (CRIU inherits its stdin tty) and stays
	"$VICTIMS/pty-run" "$out2" 24 80 sh -c "'$CKPT' restore -D '$IMG/1' --criu '$CRIU4' -d -o '$rlog'; echo RC=\$?; echo \$\$ >'$out2.sh'; exec sleep 600" \
		>/dev/null 2>&1 3>&- </dev/null &
	VICTIM_PIDS+=($!)
	retry 200 0.05 grep -q '^RC=' "$out2" || fail "restore did not end: $(cat "$out2")"
	retry 100 0.05 test -s "$out2.sh"
	VICTIM_PIDS+=("$(cat "$out2.sh")")
	grep -q '^RC=0' "$out2" || fail "restore failed: $(cat "$out2") $(tail -20 "$rlog")"
	RESTORED_PID=$pid
	retry 100 0.05 ticks_above "$out2" $((n0 + 2)) || fail "no ticks on the new terminal: $(cat "$out2")"
	# the counter goes on from the dumped value (the tick in flight at the dump may come twice)
	local first
	first=$(tr -d '\r' <"$out2" | awk '$1 == "TICK" {print $2; exit}')
	[ "$first" -ge "$n0" ] && [ "$first" -le $((n0 + 1)) ] || fail "first tick $first after $n0"
	kill -TERM "$pid"
	retry 200 0.05 grep -qE '^(PASS|FAIL)' "$out2"
	cat "$out2" >&2
	run -0 grep -q '^PASS' "$out2"
	tr -d '\r' <"$out2" | grep -q "^TTY /dev/pts/" || fail "not on a pts"
}
