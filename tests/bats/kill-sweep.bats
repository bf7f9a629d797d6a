#!/usr/bin/env bats
# Issue 12 item 1: ckpt killed at any moment of its run never harms the
# target.  tests/victims/kill-sweep forks ckpt, kills it after a delay that
# steps by KILL_SWEEP_STEP_US (default 100), and checks after each kill that
# sweep-victim is alive, untraced, not stopped, with its signal mask, maps and
# fds as before; sweep-victim checks its own memory, registers, MXCSR and mask
# all the time and exits 3 on a difference.  SIGTERM/SIGINT must give exit
# 143/130 (or 0 when ckpt finished first).  No leftover mapping or fd is
# allowed (ckpt's leftover guardian removes them).  KILL_SWEEP_LONG=1 sweeps further
# and with a 10 us step for exec.

load helpers

setup() {
	requires ptrace
	STEP=${KILL_SWEEP_STEP_US:-100}
	start_victim sweep-victim
	V=$VICTIM_PID
	SWEEP="$VICTIMS/kill-sweep"
}

teardown() {
	kill_victims
}

victim_healthy() {
	[ -d "/proc/$V" ] || fail "victim died: $(cat "$BATS_TEST_TMPDIR/sweep-victim.out")"
	! grep -q BAD "$BATS_TEST_TMPDIR/sweep-victim.out" || fail "$(cat "$BATS_TEST_TMPDIR/sweep-victim.out")"
	ckpt_run -0 exec -t "$V" getpid
	assert_output "Syscall returned $V (0x$(printf %x "$V"))"
}

sweep() {
	run "$SWEEP" -p "$V" "$@"
	echo "$output" | grep -E 'FAIL|LEFTOVER|points=' -A3 >&2 || true
	[ "$status" -eq 0 ] || fail "sweep failed: $(echo "$output" | grep -A40 FAIL | head -60)"
	SUMMARY=$(echo "$output" | tail -1)
	echo "# $SUMMARY" >&3
	victim_healthy
}

@test "item 1: exec killed with SIGKILL at every step: the target survives untouched" {
	local to=2500 step=$STEP
	[ -z "${KILL_SWEEP_LONG:-}" ] || { to=5000; step=10; }
	sweep -s 9 -f 0 -t "$to" -S "$step" -c -- "$CKPT" exec -t "$V" getpid
}

@test "item 1: exec killed with SIGTERM / SIGINT: exit 143 / 130, target untouched" {
	sweep -s 15 -f 0 -t 2500 -S "$STEP" -c -- "$CKPT" exec -t "$V" getpid
	sweep -s 2 -f 0 -t 2500 -S "$STEP" -- "$CKPT" exec -t "$V" getpid
	[[ "$SUMMARY" =~ caught=[1-9] ]] || fail "no SIGINT was caught: $SUMMARY"
}

@test "item 1: exec with a scratch argument killed at every step: the target survives" {
	sweep -s 9 -f 0 -t 2500 -S "$STEP" -- "$CKPT" exec -t "$V" getcwd @64 64
}

@test "item 1: pre-dump killed with SIGKILL / SIGTERM at every step: the target survives" {
	local to=12000
	[ -z "${KILL_SWEEP_LONG:-}" ] || to=40000
	sweep -s 9 -f 0 -t "$to" -S "$STEP" -- "$CKPT" pre-dump -t "$V" -D "$BATS_TEST_TMPDIR/k{}"
	sweep -s 15 -f 0 -t "$to" -S $((STEP * 4)) -- "$CKPT" pre-dump -t "$V" -D "$BATS_TEST_TMPDIR/t{}"
	[[ "$SUMMARY" == *leftovers=0* ]] || fail "SIGTERM/SIGINT left something: $SUMMARY"
}

@test "item 1: dump --leave-running killed with SIGKILL / SIGINT at every step: the target survives" {
	local to=30000 step=$((STEP * 2))
	[ -z "${KILL_SWEEP_LONG:-}" ] || { to=80000; step=$STEP; }
	ckpt_run -0 dump --leave-running --memory-only -t "$V" -D "$BATS_TEST_TMPDIR/d"
	sweep -s 9 -f 0 -t "$to" -S "$step" -- "$CKPT" dump --leave-running --memory-only \
		-t "$V" -D "$BATS_TEST_TMPDIR/d{}"
	sweep -s 2 -f 0 -t "$to" -S $((step * 2)) -- "$CKPT" dump --leave-running --memory-only \
		-t "$V" -D "$BATS_TEST_TMPDIR/i{}"
	[[ "$SUMMARY" == *leftovers=0* ]] || fail "SIGTERM/SIGINT left something: $SUMMARY"
}
