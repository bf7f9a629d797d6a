#!/usr/bin/env bats
# Issue 12 item 1: ckpt killed at any moment of its run never harms the
# target.  tests/victims/kill-sweep forks ckpt, kills it after a delay that
# steps by KILL_SWEEP_STEP_US (default 100), and checks after each kill that
# sweep-victim is alive, untraced, not stopped, with its signal mask, maps and
# fds as before; sweep-victim checks its own memory, registers, MXCSR and mask
# all the time and exits 3 on a difference.  SIGTERM/SIGINT must give exit
# 143/130 (or 0 when ckpt finished first).  No leftover mapping or fd is
# allowed (ckpt's leftover guardian removes them).  The pre-copy agent is swept
# too (kill-sweep -A, runtime-glue/agent/): started by `ckpt hook poststart` for
# sweep-victim alone in a v2 cgroup, killed from its start (its first layers)
# or from a `ckpt agent layer` / `final` request, the cgroup checked thawed.
# KILL_SWEEP_LONG=1 sweeps further, with a 10 us step for exec and the agent's
# next-run check at every point.

load helpers

setup() {
	requires ptrace
	STEP=${KILL_SWEEP_STEP_US:-100}
	start_victim sweep-victim
	V=$VICTIM_PID
	SWEEP="$VICTIMS/kill-sweep"
}

teardown() {
	# a ckpt left paused or stopped by a failed blob test (and its guardian)
	[ -z "${CK_BG:-}" ] || kill -KILL $CK_BG 2>/dev/null || true
	agent_teardown
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

# A full dump (not --memory-only) runs the blob's command in each task: its
# run under PTRACE_CONT, its wait for ckpt's interrupt and the way home.
@test "item 1: a full dump --leave-running killed with SIGKILL at every step: the target survives" {
	local to=30000 step=$((STEP * 2))
	[ -z "${KILL_SWEEP_LONG:-}" ] || { to=80000; step=$STEP; }
	ckpt_run -0 dump --leave-running --shell-job -t "$V" -D "$BATS_TEST_TMPDIR/d"
	sweep -s 9 -f 0 -t "$to" -S "$step" -- "$CKPT" dump --leave-running --shell-job \
		-t "$V" -D "$BATS_TEST_TMPDIR/d{}"
}

# ckpt SIGKILLs itself (CK_FAULT) with the leader's registers set for a
# recorded call that has not run: without the guardian's skip, the detached
# leader would run it after the guardian's look (issue 12 item 1, the late
# leftover of docs/parasite.md).
ctxsw() {
	awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$V/status"
}

armed_kill() {
	local what=$1 maps fds
	shift
	maps=$(cat "/proc/$V/maps")
	fds=$(ls -l "/proc/$V/fd" | awk '{print $9, $11}')
	run env CK_FAULT="remote-call-armed-$what:kill" "$CKPT" "$@"
	echo "$output" >&2
	[ "$status" -eq 137 ] || fail "expected ckpt to die by SIGKILL (137), got $status"
	# Either the guardian's seize came first and it skipped the call (an undo
	# call it then does itself), or the detached leader ran it first (and the
	# guardian undid what it created): both leave nothing.
	if [[ "$output" == *"ckpt guardian: process $V: ckpt died before its call $what ran; skipped it"* ]]; then
		echo "# call $what: skipped by the guardian" >&3
	else
		echo "# call $what: run by the detached leader before the guardian's seize (then undone by it)" >&3
	fi
	retry 100 0.02 untraced "$V"
	# the victim sleeps every ~200 us: two more sleeps prove it is back in its own
	# code, past where a call let run would have run
	local c0
	c0=$(ctxsw)
	retry 250 0.02 eval '[ "$(ctxsw)" -ge $((c0 + 2)) ]'
	[ "$(cat "/proc/$V/maps")" = "$maps" ] || fail "mappings changed"
	[ "$(ls -l "/proc/$V/fd" | awk '{print $9, $11}')" = "$fds" ] || fail "fds changed"
	victim_healthy
}

@test "item 1: ckpt killed with a remote mmap armed but not run: the guardian skips or undoes it" {
	armed_kill 9 exec -t "$V" getcwd @64 64
}

@test "item 1: ckpt killed with the remote userfaultfd() armed but not run: the guardian skips or undoes it" {
	requires uffd-wp-async
	armed_kill 323 pre-dump -t "$V" -D "$BATS_TEST_TMPDIR/a" --tracker uffd-wp
}

@test "item 1: ckpt killed with the undo (munmap, close of the userfaultfd) armed but not run: the guardian undoes it itself" {
	armed_kill 11 exec -t "$V" getcwd @64 64
	requires uffd-wp-async
	armed_kill 3 pre-dump -t "$V" -D "$BATS_TEST_TMPDIR/b" --tracker uffd-wp
}

# The blob's ending (docs/parasite.md): the blob runs under PTRACE_CONT and
# waits in a futex for ckpt's interrupt.  ckpt SIGKILLs itself while the blob
# waits (blob-waiting) or with the leader stopped in that wait (blob-stopped):
# the guardian finds the leader in the blob, sends it home through the safety
# frame and removes the blob.  Without the guardian the blob's own wait ends
# and it goes home itself; with ckpt stopped past that wait, ckpt finds the
# task back in its own code and leaves it there.
blob_state() {
	maps=$(cat "/proc/$V/maps")
	fds=$(ls -l "/proc/$V/fd" | awk '{print $9, $11}')
}

blob_back_home() {
	local tries=$1 c0
	retry "$tries" 0.1 untraced "$V"
	retry "$tries" 0.1 eval '[ "$(cat "/proc/$V/maps")" = "$maps" ]' || fail "mappings changed"
	c0=$(ctxsw)
	retry 250 0.02 eval '[ "$(ctxsw)" -ge $((c0 + 2)) ]'
	[ "$(ls -l "/proc/$V/fd" | awk '{print $9, $11}')" = "$fds" ] || fail "fds changed"
	victim_healthy
}

@test "item 1: ckpt killed while the blob waits for it or is stopped in that wait: the guardian sends the task home" {
	local point maps fds
	for point in blob-waiting blob-stopped; do
		blob_state
		run env CK_FAULT="$point:kill:1" "$CKPT" dump --leave-running --shell-job -t "$V" \
			-D "$BATS_TEST_TMPDIR/$point"
		echo "$output" >&2
		[ "$status" -eq 137 ] || fail "$point: expected ckpt to die by SIGKILL (137), got $status"
		[[ "$output" == *"ckpt guardian: process $V: ckpt died during a blob command; sent the task home"* ]] ||
			fail "$point: the guardian did not send the task home"
		# the blob's own wait lasts 15 s: back within 5 s is the guardian's doing
		blob_back_home 50
	done
}

@test "item 1: ckpt and its guardian killed while the blob waits: the blob goes home by itself" {
	local log="$BATS_TEST_TMPDIR/ckpt.err" maps fds g
	blob_state
	CK_FAULT="blob-waiting:pause:1" "$CKPT" dump --leave-running --shell-job -t "$V" \
		-D "$BATS_TEST_TMPDIR/d" >/dev/null 2>"$log" 3>&- &
	local ck=$!
	CK_BG=$ck
	retry 200 0.05 grep -q "paused at blob-waiting" "$log" || fail "ckpt did not pause: $(cat "$log")"
	g=$(tr -d ' \n' <"/proc/$ck/task/$ck/children")
	CK_BG="$ck $g"
	[ -n "$g" ] && [ "$(cat "/proc/$g/comm")" = ckpt-leftovers ] || fail "no guardian child: '$g'"
	kill -KILL "$g"
	kill -KILL "$ck"
	wait "$ck" || true
	# the blob waits 15 s (the 10 s command timeout and a 5 s margin), then leaves
	blob_back_home 250
}

@test "item 1: ckpt stopped past the blob's wait: the task goes home, ckpt fails and leaves it there" {
	local log="$BATS_TEST_TMPDIR/ckpt.err" maps fds
	blob_state
	CK_FAULT="blob-waiting:stop:1" "$CKPT" dump --leave-running --shell-job -t "$V" \
		-D "$BATS_TEST_TMPDIR/d" >/dev/null 2>"$log" 3>&- &
	local ck=$!
	CK_BG=$ck
	retry 200 0.05 grep -q "stopped at blob-waiting" "$log" || fail "ckpt did not stop: $(cat "$log")"
	# traced but not stopped, the leader runs the blob's 15 s wait out, unmaps it and
	# returns to its own code
	retry 250 0.1 eval '[ "$(cat "/proc/$V/maps")" = "$maps" ]' || fail "the blob did not leave"
	kill -CONT "$ck"
	local st=0
	wait "$ck" || st=$?
	cat "$log" >&2
	[ "$st" -eq 1 ] || fail "expected ckpt to fail (1), got $st"
	grep -q "the blob gave up waiting for ckpt and left" "$log" || fail "no reason given"
	blob_back_home 50
}

# The pre-copy agent of a "container" without runc: sweep-victim alone in a
# v2 cgroup of its own, a bundle whose config.json enables the agent, and the
# OCI state `ckpt hook poststart` reads.  The agent freezes that cgroup for
# each layer (uffd-wp tracker when available).
agent_setup() {
	requires root
	[ -d /sys/fs/cgroup/unified ] || skip "no cgroup v2 hierarchy"
	AG_CG=/sys/fs/cgroup/unified/ckpt-safety-$$-$BATS_TEST_NUMBER
	mkdir "$AG_CG"
	[ -f "$AG_CG/cgroup.freeze" ] || skip "cgroup v2 without cgroup.freeze"
	echo "$V" >"$AG_CG/cgroup.procs"
	AG_B="$BATS_TEST_TMPDIR/bundle"
	mkdir -p "$AG_B"
	export CKPT_AGENT_REGISTRY="$BATS_TEST_TMPDIR/agents"
	jq -n '{ociVersion: "1.0.2", annotations: {"org.ckpt.enable": "true",
		"org.ckpt.interval": "1h", "org.ckpt.max-layers": "3"}}' >"$AG_B/config.json"
	jq -n --argjson pid "$V" --arg b "$AG_B" --arg id "ckpt-safety-$$" \
		'{ociVersion: "1.0.2", id: $id, status: "running", pid: $pid, bundle: $b}' \
		>"$BATS_TEST_TMPDIR/state.json"
	AG_START="exec '$CKPT' hook poststart <'$BATS_TEST_TMPDIR/state.json' 2>/dev/null"
}

agent_teardown() {
	[ -n "${AG_CG:-}" ] || return 0
	[ -n "${BATS_TEST_COMPLETED:-}" ] || tail -n 30 "$AG_B/checkpoint/agent.log" >&2 2>/dev/null || true
	echo 0 >"$AG_CG/cgroup.freeze" 2>/dev/null || true
	# the victim goes first: its uffd holders follow it; every agent has been killed by the sweep
	kill_victims
	retry 50 0.1 rmdir "$AG_CG" 2>/dev/null || true
}

agent_sweep() {
	local sig=$1 to=$2 step=$3
	shift 3
	sweep -A -g "$AG_CG" -s "$sig" -f 0 -t "$to" -S "$step" "$@" -- /bin/sh -c "$AG_START"
	# every point started an agent that took layers: the last one's log shows it
	grep -q 'layer [0-9]*:' "$AG_B/checkpoint/agent.log" || fail "no agent ever wrote a layer"
	echo "# freezes undone by the guardian: $(grep -c 'ckpt guardian: ckpt died with' "$AG_B/checkpoint/agent.log"), layers interrupted: $(grep -c 'interrupted by SIG' "$AG_B/checkpoint/agent.log")" >&3
}

@test "item 1: the agent killed with SIGKILL at every step of its first layers: the target survives, the cgroup is thawed" {
	agent_setup
	# layers 1 (full, arms the tracker) and 2 take about 17 ms here; the agent is idle after
	local to=20000 every=8
	[ -z "${KILL_SWEEP_LONG:-}" ] || { to=60000; every=1; }
	# every 8th point (each with KILL_SWEEP_LONG=1): a fresh agent takes a layer and stops on SIGTERM
	agent_sweep 9 "$to" "$STEP" -c -e "$every" -N "'$CKPT' agent layer --bundle '$AG_B'"
	[[ "$SUMMARY" =~ killed=[1-9] ]] || fail "nothing was killed: $SUMMARY"
}

@test "item 1: the agent stopped with SIGTERM / SIGINT during its layers: exit 143 / 130, target untouched" {
	agent_setup
	agent_sweep 15 25000 $((STEP * 2))
	[[ "$SUMMARY" =~ caught=[1-9] ]] || fail "no SIGTERM was caught: $SUMMARY"
	[[ "$SUMMARY" == *killed=0* ]] || fail "SIGTERM killed the agent: $SUMMARY"
	agent_sweep 2 25000 $((STEP * 4))
	[[ "$SUMMARY" == *killed=0* ]] || fail "SIGINT killed the agent: $SUMMARY"
	grep -q 'signal 2: stopping' "$AG_B/checkpoint/agent.log"
	# an interrupted layer is undone: no temporary layer directory is left
	[ -z "$(find "$AG_B/checkpoint" -maxdepth 1 -name '*ckpt-tmp*')" ] ||
		fail "left: $(find "$AG_B/checkpoint" -maxdepth 1 -name '*ckpt-tmp*')"
}

@test "item 1: the agent killed with SIGKILL at every step of a 'ckpt agent layer' request: the target survives" {
	agent_setup
	# converged first (layers 1 and 2), then the request's layer is the one hit
	AG_START="$AG_START && for i in \$(seq 200); do '$CKPT' agent status --bundle '$AG_B' | grep -q converged && exit 0; sleep 0.01; done; exit 1"
	agent_sweep 9 15000 "$STEP" -R "exec '$CKPT' agent layer --bundle '$AG_B' >/dev/null 2>&1"
}

@test "item 1: the agent killed with SIGKILL at every step of a final layer (--leave running): the target survives, thawed" {
	agent_setup
	AG_START="$AG_START && for i in \$(seq 200); do '$CKPT' agent status --bundle '$AG_B' | grep -q converged && exit 0; sleep 0.01; done; exit 1"
	agent_sweep 9 25000 "$STEP" -R "exec '$CKPT' agent final --leave running --bundle '$AG_B' >/dev/null 2>&1"
}

# Calls in non-leader threads (parasite/host/thread.c): each thread's
# alternate signal stack and parent-death signal, read inside it, with its
# safety frame in the blob.  rst-threads' four workers check their TLS, stack,
# alternate stack and death signal all the time; SIGTERM makes it report.
threads_victim_passes() {
	kill -TERM "$T"
	retry 100 0.05 grep -qE '^(PASS|FAIL)' "$BATS_TEST_TMPDIR/rst-threads.out"
	grep -q '^PASS' "$BATS_TEST_TMPDIR/rst-threads.out" || fail "$(cat "$BATS_TEST_TMPDIR/rst-threads.out")"
}

@test "threads: ckpt killed at each step of a call inside a non-leader thread: every thread goes on with its own state, the blob is gone" {
	start_victim rst-threads
	T=$VICTIM_PID
	local point maps
	maps=$(cat "/proc/$T/maps")
	for point in thread-call-armed thread-call-entry thread-call-exit thread-call-parked; do
		run env CK_FAULT="$point:kill:1" "$CKPT" dump --leave-running --shell-job -t "$T" \
			-D "$BATS_TEST_TMPDIR/$point"
		[ "$status" -eq 137 ] || fail "$point: expected ckpt to die by SIGKILL (137), got $status: $output"
		retry 100 0.05 untraced "$T"
		retry 100 0.05 eval '[ "$(cat "/proc/$T/maps")" = "$maps" ]' || fail "$point: mappings changed"
		echo "# $point: ${output:+$(grep -o 'ckpt guardian: .*' <<<"$output" | tr '\n' ' ')}" >&3
	done
	requires crit
	# and a whole dump still reads every thread
	ckpt_run -0 dump --leave-running --shell-job -t "$T" -D "$BATS_TEST_TMPDIR/whole"
	local c got=""
	for c in "$BATS_TEST_TMPDIR"/whole/core-*.img; do
		got+="$(crit decode -i "$c" | jq -r '.entries[0].thread_core | "\(.sas.ss_size // 0)/\(.pdeath_sig)"') "
	done
	# the main thread: none; the workers: 64 KiB each, SIGWINCH, SIGURG, none, SIGURG
	[ "$(tr ' ' '\n' <<<"$got" | grep . | sort | tr '\n' ' ')" = "0/0 65536/0 65536/23 65536/23 65536/28 " ] ||
		fail "thread cores: $got"
	threads_victim_passes
}

@test "threads: a full dump --leave-running of a multi-threaded process killed with SIGKILL at every step: every thread goes on" {
	start_victim rst-threads
	T=$VICTIM_PID
	local to=30000 step=$((STEP * 2))
	[ -z "${KILL_SWEEP_LONG:-}" ] || { to=80000; step=$STEP; }
	run "$SWEEP" -p "$T" -s 9 -f 0 -t "$to" -S "$step" -- "$CKPT" dump --leave-running \
		--shell-job -t "$T" -D "$BATS_TEST_TMPDIR/d{}"
	echo "$output" | grep -E 'FAIL|LEFTOVER|points=' -A3 >&2 || true
	[ "$status" -eq 0 ] || fail "sweep failed: $(echo "$output" | grep -A40 FAIL | head -60)"
	echo "# $(echo "$output" | tail -1)" >&3
	threads_victim_passes
}
