#!/usr/bin/env bats
# Reliability (issue 17): every CK_FAULT point fails cleanly, SIGKILL of ckpt at random moments
# never hurts the target, a full disk or read-only image directory fails cleanly, two runs on one
# target are refused, parent loops are refused, image modes are private, nobody cannot reach
# root's tasks; the pre-copy agent's and the RPC server's fault points and kills.
# CKPT_REL_KILLS (the pre-dump loop), CKPT_REL_INJECT_KILLS (the exec and dump loops),
# CKPT_REL_AGENT_KILLS and CKPT_REL_RPC_KILLS set the kill counts (default 6 each: 30 in make
# check); make reliability raises them.  With CKPT_REL_STATS=FILE each check appends "KIND ok|bad" lines.

load helpers
load mem-helpers

setup() {
	requires root ptrace
	mem_setup
	KILLS=${CKPT_REL_KILLS:-6}
	AGENT_PIDS=()
	export CKPT_AGENT_REGISTRY="$BATS_TEST_TMPDIR/agents"
}

teardown() {
	[ -n "${RO_MNT:-}" ] && { umount "$RO_MNT" 2>/dev/null || umount -l "$RO_MNT" 2>/dev/null; }
	# the test's agents first (by pid): nothing may freeze the cgroup after its thaw
	local p
	for p in "${AGENT_PIDS[@]+"${AGENT_PIDS[@]}"}"; do kill -KILL "$p" 2>/dev/null || true; done
	[ -n "${BATS_TEST_COMPLETED:-}" ] || tail -n 20 "$BATS_TEST_TMPDIR"/bundle/checkpoint/agent.log >&2 2>/dev/null || true
	mem_teardown
	return 0
}

stat_line() {
	[ -n "${CKPT_REL_STATS:-}" ] && echo "$*" >>"$CKPT_REL_STATS"
	return 0
}

# The fds of $1 as "fd -> target" lines (no ckpt leftovers: userfaultfd, pipes of ours...).
fds_of() {
	local f
	for f in /proc/"$1"/fd/*; do echo "${f##*/} $(readlink "$f")"; done | sort
}

# target_clean PID FDS_BEFORE: running, untraced, no extra fd, no userfaultfd, no parasite mapping.
target_clean() {
	local pid=$1 before=$2 st
	retry 100 0.02 untraced "$pid" || { echo "pid $pid still traced" >&2; return 1; }
	st=$(proc_state "$pid")
	[ "$st" != t ] && [ "$st" != T ] && [ "$st" != D ] || { echo "pid $pid state $st" >&2; return 1; }
	[ "$(fds_of "$pid")" = "$before" ] || { echo "fds changed:" >&2; diff <(echo "$before") <(fds_of "$pid") >&2; return 1; }
	! grep -q userfaultfd <(fds_of "$pid") || { echo "userfaultfd left" >&2; return 1; }
	! grep -qE 'rwxp|parasite' "/proc/$pid/maps" || { echo "parasite mapping left:" >&2; grep -E 'rwxp|parasite' "/proc/$pid/maps" >&2; return 1; }
	if [ -e "/sys/fs/cgroup/$(awk -F:: '/^0::/ {print $2}' "/proc/$pid/cgroup")/cgroup.events" ]; then
		! grep -q '^frozen 1' "/sys/fs/cgroup/$(awk -F:: '/^0::/ {print $2}' "/proc/$pid/cgroup")/cgroup.events"
	fi
}

# Start ckpt in the background with CK_FAULT=POINT:pause and wait until it is paused.
ckpt_paused() {
	local log="$BATS_TEST_TMPDIR/ckpt.err"
	CK_FAULT="$1:pause" "$CKPT" "${@:2}" >/dev/null 2>"$log" 3>&- &
	CKPT_PID=$!
	retry 200 0.02 grep -q "paused at $1" "$log" || fail "ckpt did not pause at $1: $(cat "$log")"
}

layer_sum() { (cd "$1" && sha256sum ./* | sha256sum); }

no_half_layer() {
	[ ! -e "$IMG/$1" ] || { echo "layer $1 exists" >&2; return 1; }
}

# fault_case POINT CMD...: inject POINT (fail) into `ckpt CMD`; everything must stay clean.
fault_case() {
	local point=$1 before
	shift
	before=$(fds_of "$VPID")
	CK_FAULT="$point" ckpt_run "$@"
	if [ "$status" -ne 1 ] || [[ "$output" != *"fault injected at $point"* ]]; then
		stat_line "fault bad $point"
		fail "fault $point: status $status, output: $output"
	fi
	target_clean "$VPID" "$before" || { stat_line "fault bad $point"; fail "fault $point left the target unclean"; }
	vcmd verify a 0 64 1
	stat_line "fault ok $point"
}

@test "every fault point of pre-dump and memory dump: exit 1 naming it, target clean, no half layer, earlier layer intact" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	local before p
	before=$(layer_sum "$IMG/1")
	for p in seize frozen collected thawed pages commit rename image image-PAGEMAP image-PAGES image-INVENTORY; do
		fault_case "$p" pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
		no_half_layer 2
	done
	for p in seize frozen collected pages commit rename image-MM image-PAGEMAP; do
		fault_case "$p" dump --memory-only --leave-running -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
		no_half_layer 2
	done
	[ "$(layer_sum "$IMG/1")" = "$before" ]
	run -1 bash -c "ls -A '$IMG' | grep -q ckpt-tmp"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
}

@test "fault points of exec: exit 1 naming it, target clean and unchanged" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	local p
	for p in seize exec-call; do
		fault_case "$p" exec -t "$VPID" getpid
		fault_case "$p" exec -t "$VPID" write 1 '&x' 1
	done
	! grep -q '^x' "$OUT"
}

@test "fault points of the uffd tracker: create, register, handoff" {
	"$CKPT" check --feature uffd-wp-async >/dev/null 2>&1 || skip "kernel lacks uffd-wp-async"
	vcmd alloc a 64
	vcmd fill a 0 64 1
	local p
	# a tracker that cannot be armed is not an error: the layer is written and the next is full
	for p in uffd-create uffd-register uffd-handoff; do
		before=$(fds_of "$VPID")
		CK_FAULT="$p" ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/u$p" --tracker uffd-wp
		assert_output --partial "cannot arm the tracker (fault injected at $p); the next layer is full"
		target_clean "$VPID" "$before" || { stat_line "fault bad $p"; fail "fault $p left the target unclean"; }
		[ -e "$IMG/u$p/inventory.img" ]
		vcmd verify a 0 64 1
		stat_line "fault ok $p"
	done
}

@test "fault points of the full dump: infect, parasite command, cure, image writes, the final kill" {
	local before p pid
	start_victim rst-mem
	pid=$VICTIM_PID
	retry 200 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/rst-mem.out"
	before=$(fds_of "$pid")
	for p in seize frozen infect parasite-sigactions cure image-CORE image-MM image-PSTREE image-INVENTORY rename; do
		CK_FAULT="$p" ckpt_run -1 dump --leave-running -t "$pid" -D "$IMG/f"
		[[ "$output" == *"fault injected at $p"* ]] || { stat_line "fault bad $p"; fail "no message for $p"; }
		target_clean "$pid" "$before" || { stat_line "fault bad $p"; fail "dump fault $p left the target unclean"; }
		no_half_layer f
		stat_line "fault ok $p"
	done
	CK_FAULT=kill ckpt_run -1 dump -t "$pid" -D "$IMG/k"
	assert_output --partial "fault injected at kill"
	target_clean "$pid" "$before"
	stat_line "fault ok kill"
	kill -TERM "$pid"
	retry 100 0.05 grep -q '^PASS$' "$BATS_TEST_TMPDIR/rst-mem.out"
}

# kill_loop N CMD...: start `ckpt CMD` N times, SIGKILL it after a random 0..60 ms; after each the
# target must be clean; a last run must succeed.
kill_loop() {
	local n=$1 i before pid
	shift
	before=$(fds_of "$KPID")
	for ((i = 0; i < n; i++)); do
		"$CKPT" "$@" >/dev/null 2>&1 3>&- &
		pid=$!
		sleep "0.0$((RANDOM % 60 / 10))$((RANDOM % 10))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		if target_clean "$KPID" "$before"; then stat_line "kill ok $1"; else stat_line "kill bad $1"; fail "kill $i of ckpt $* left the target unclean"; fi
		rm -rf "${KDIR:?}" "$IMG"/.*ckpt-tmp* 2>/dev/null
	done
	ckpt_run -0 "$@"
}

@test "SIGKILL of pre-dump at random moments: victim runs, its memory checks, next pre-dump works" {
	vcmd alloc a 256
	vcmd fill a 0 256 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	KPID=$VPID KDIR="$IMG/2"
	kill_loop "$KILLS" pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
	vcmd verify a 0 256 1
	[ -e "$IMG/1/inventory.img" ]
}

@test "SIGKILL of exec at random moments: victim runs and checks its memory, next exec works" {
	KILLS=${CKPT_REL_INJECT_KILLS:-6}
	vcmd alloc a 64
	vcmd fill a 0 64 1
	KPID=$VPID KDIR="$IMG/none"
	kill_loop "$KILLS" exec -t "$VPID" getppid
	vcmd verify a 0 64 1
}

@test "SIGKILL of dump --leave-running at random moments: the victim's own check passes" {
	KILLS=${CKPT_REL_INJECT_KILLS:-6}
	start_victim rst-mem
	KPID=$VICTIM_PID KDIR="$IMG/d"
	retry 200 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/rst-mem.out"
	kill_loop "$KILLS" dump --leave-running -t "$KPID" -D "$IMG/d"
	kill -USR1 "$KPID"
	kill -TERM "$KPID"
	retry 100 0.05 grep -q '^PASS$' "$BATS_TEST_TMPDIR/rst-mem.out"
}

@test "a full disk: clean failure, no half layer, earlier layer intact, tree running" {
	vcmd alloc a 512
	vcmd fill a 0 512 1
	RO_MNT="$BATS_TEST_TMPDIR/small"
	mkdir -p "$RO_MNT"
	mount -t tmpfs -o size=3m "ckpt-rel-$$" "$RO_MNT"
	ckpt_run -0 pre-dump -t "$VPID" -D "$RO_MNT/1" --tracker hash
	local before
	before=$(layer_sum "$RO_MNT/1")
	vcmd fill a 0 512 2
	local fds
	fds=$(fds_of "$VPID")
	ckpt_run -1 pre-dump -t "$VPID" -D "$RO_MNT/2" --prev-images-dir ../1 --tracker hash
	assert_output --partial "No space left on device"
	target_clean "$VPID" "$fds"
	[ ! -e "$RO_MNT/2" ]
	run -1 bash -c "ls -A '$RO_MNT' | grep -q ckpt-tmp"
	[ "$(layer_sum "$RO_MNT/1")" = "$before" ]
	vcmd verify a 0 512 2
	stat_line "bad ok disk-full"
}

@test "a read-only image directory: clean failure, tree running" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	RO_MNT="$BATS_TEST_TMPDIR/ro"
	mkdir -p "$RO_MNT"
	mount -t tmpfs -o size=1m "ckpt-rel-$$" "$RO_MNT"
	ckpt_run -0 pre-dump -t "$VPID" -D "$RO_MNT/1" --tracker hash
	mount -o remount,ro "$RO_MNT"
	local fds
	fds=$(fds_of "$VPID")
	ckpt_run -1 pre-dump -t "$VPID" -D "$RO_MNT/2" --prev-images-dir ../1 --tracker hash
	assert_output --partial "Read-only file system"
	target_clean "$VPID" "$fds"
	[ -e "$RO_MNT/1/inventory.img" ] && [ ! -e "$RO_MNT/2" ]
	stat_line "bad ok read-only"
}

@test "two runs on one target: the second is refused naming the holder (pre-dump+pre-dump, pre-dump+exec)" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_paused frozen pre-dump -t "$VPID" -D "$IMG/a" --tracker hash
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/b" --tracker hash
	assert_output --partial "process $VPID is being checkpointed by ckpt pid $CKPT_PID"
	[ ! -e "$IMG/b" ]
	ckpt_run -1 exec -t "$VPID" getpid
	assert_output --partial "being checkpointed by ckpt pid $CKPT_PID"
	kill -KILL "$CKPT_PID"
	wait "$CKPT_PID" || true
	retry 100 0.02 untraced "$VPID"
	# the kernel dropped the lock with the holder
	ckpt_run -0 exec -t "$VPID" getpid
	stat_line "bad ok concurrent-pre-dump"
	stat_line "bad ok concurrent-exec"
}

@test "a parent loop in the layer chain is refused with a clear message" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
	ln -s ../2 "$IMG/1/parent"
	ckpt_run -1 verify -t "$VPID" -D "$IMG/2"
	assert_output --partial "img/1/parent leads back to $IMG/2"
	untraced "$VPID"
	stat_line "bad ok parent-loop"
}

@test "image directories are 0700 and image files 0600" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	[ "$(stat -c %a "$IMG/1")" = 700 ]
	run -0 find "$IMG/1" -type f ! -perm 0600
	[ -z "$output" ]
}

@test "nobody cannot pre-dump or exec into root's process" {
	requires nobody
	chmod 0755 "$BATS_TEST_TMPDIR"
	local fds
	fds=$(fds_of "$VPID")
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" exec -t "$VPID" getpid
	echo "$output" >&2
	[[ "$output" == *"ermission"* || "$output" == *"not permitted"* ]]
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" pre-dump -t "$VPID" -D "/tmp/ckpt-rel-nobody-$$" --tracker hash
	echo "$output" >&2
	[ ! -e "/tmp/ckpt-rel-nobody-$$/inventory.img" ]
	rm -rf "/tmp/ckpt-rel-nobody-$$"
	target_clean "$VPID" "$fds"
	stat_line "bad ok nobody-exec"
	stat_line "bad ok nobody-pre-dump"
}

# ---- the pre-copy agent and the RPC server (issue 17) ----------------------------------------
# The agent runs on the mem-victim moved into its own cgroup v2 (the agent freezes the cgroup of
# the container's init): `ckpt hook poststart` gets a state naming the victim and a bundle whose
# config.json asks for an agent; CK_FAULT reaches the agent through the hook's environment.

FRONT="$BUILD/criu"
CLIENT="$BUILD/tests/tools/rpc-client"

# agent_bundle [ANNOTATION=VALUE...]: BUNDLE with a config.json asking for an agent (hash
# tracker, a 1 min interval unless given); D is its checkpoint directory.
agent_bundle() {
	BUNDLE="$BATS_TEST_TMPDIR/bundle"
	D="$BUNDLE/checkpoint"
	mkdir -p "$BUNDLE"
	local ann='{"org.ckpt.enable":"true","org.ckpt.interval":"1m","org.ckpt.tracker":"hash"}' kv
	for kv in "$@"; do
		ann=$(jq -c --arg k "${kv%%=*}" --arg v "${kv#*=}" '. + {($k): $v}' <<<"$ann")
	done
	jq -n --argjson a "$ann" '{ociVersion: "1.0.2", root: {path: "rootfs"}, annotations: $a}' >"$BUNDLE/config.json"
	[ -n "${CG:-}" ] || make_cgroup 2
}

# hook_start: `ckpt hook poststart` for the victim (run: status, output).
hook_start() {
	run "$CKPT" hook poststart 3>&- <<<"{\"ociVersion\":\"1.0.2\",\"id\":\"ckpt-rel-$$\",\"status\":\"running\",\"pid\":$VPID,\"bundle\":\"$BUNDLE\"}"
}

# agent_up: start the agent (CK_FAULT from the caller's environment) and wait until it has
# seen the workload (before, it refuses layers); APID is its pid, agent.log only its own.
agent_up() {
	[ ! -e "$D/agent.log" ] || : >"$D/agent.log"
	hook_start
	[ "$status" -eq 0 ] || fail "hook: $output"
	APID=$(sed -n 's/.*: agent \([0-9]*\), layers in.*/\1/p' <<<"$output")
	[ -n "$APID" ] || fail "no agent started: $output"
	AGENT_PIDS+=("$APID")
	retry 250 0.02 grep -q "workload started" "$D/agent.log" || fail "agent $APID: $(cat "$D/agent.log")"
}

# agent_gone: wait until the agent APID has exited (it is not our child).
agent_gone() {
	retry 250 0.02 bash -c "! kill -0 $APID 2>/dev/null" || fail "agent $APID did not exit"
}

agent_stop() {
	"$CKPT" agent stop --bundle "$BUNDLE" >/dev/null 2>&1 || true
	agent_gone
}

# no_half_agent_layer: no hidden temporary layer in D and every numbered layer complete.
no_half_agent_layer() {
	local l
	! ls -A "$D" | grep -q ckpt-tmp || { echo "half layer in $D: $(ls -A "$D")" >&2; return 1; }
	for l in "$D"/[0-9]*; do
		[ -e "$l" ] || continue
		[ -e "$l/inventory.img" ] || { echo "layer $l has no inventory" >&2; return 1; }
	done
}

@test "agent: each failed round (before the freeze, frozen, collected, pages, commit, rename, an image): the agent lives on, target clean, no half layer, the next layer works" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	agent_bundle
	local before p
	before=$(fds_of "$VPID")
	for p in round frozen collected pages commit rename image-PAGEMAP; do
		CK_FAULT="agent-$p:fail:1" agent_up
		# the first round runs at once and fails; the next automatic one is a minute away
		retry 250 0.02 grep -q "fault injected at agent-$p; next try in 60000 ms" "$D/agent.log" ||
			{ stat_line "fault bad agent-$p"; fail "agent-$p: $(tail -3 "$D/agent.log")"; }
		kill -0 "$APID"
		target_clean "$VPID" "$before" || { stat_line "fault bad agent-$p"; fail "agent-$p left the target unclean"; }
		no_half_agent_layer || { stat_line "fault bad agent-$p"; fail "agent-$p left a half layer"; }
		# the agent survived: a layer on request works, and it is the latest
		ckpt_run -0 agent layer --bundle "$BUNDLE" --json
		[ "$(readlink "$D/latest")" = "$(jq -r .layer <<<"$output")" ]
		agent_stop
		target_clean "$VPID" "$before"
		ckpt_run -0 verify -t "$VPID" -D "$D/latest"
		assert_output --partial ": OK"
		stat_line "fault ok agent-$p"
	done
	vcmd verify a 0 64 1
}

@test "agent: killed at its own fault points (frozen, pages): the guardian thaws the cgroup, the next agent works" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	agent_bundle
	local before p
	before=$(fds_of "$VPID")
	for p in frozen pages; do
		CK_FAULT="agent-$p:kill" agent_up
		agent_gone
		retry 100 0.02 target_clean "$VPID" "$before" || { stat_line "fault bad agent-$p-kill"; fail "agent-$p:kill left the target unclean"; }
		rm -rf "$D"/.*ckpt-tmp*
		no_half_agent_layer
		stat_line "fault ok agent-$p-kill"
	done
	agent_up
	ckpt_run -0 agent layer --bundle "$BUNDLE"
	agent_stop
	vcmd verify a 0 64 1
}

@test "agent: faults of the control socket (accept, request, reply): a clear client error, exit 1; the agent answers the next request" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	agent_bundle
	local p
	for p in accept request reply; do
		CK_FAULT="agent-$p:fail:1" agent_up
		ckpt_run -1 agent status --bundle "$BUNDLE"
		case $p in
		request) assert_output --partial "fault injected at agent-request" ;;
		*) assert_output --regexp "agent of $D: status: .*(closed the connection|Connection reset|Broken pipe)" ;;
		esac
		grep -q "fault injected at agent-$p" "$D/agent.log"
		kill -0 "$APID"
		ckpt_run -0 agent status --bundle "$BUNDLE" --json
		jq -e .ok <<<"$output"
		agent_stop
		stat_line "fault ok agent-$p"
	done
	# a layer whose reply is lost: the layer itself is complete and the latest
	CK_FAULT="agent-reply:fail:1" agent_up
	ckpt_run -1 agent layer --bundle "$BUNDLE"
	retry 100 0.02 test -L "$D/latest"
	[ -e "$D/latest/inventory.img" ]
	# it may still pre-copy (a requested layer does not count toward convergence), and a layer
	# it is taking is a hidden directory until complete: look once it has converged
	retry 200 0.05 bash -o pipefail -c "'$CKPT' agent status --bundle '$BUNDLE' --json | jq -e '.state == \"converged\"'"
	no_half_agent_layer
	agent_stop
	ckpt_run -0 verify -t "$VPID" -D "$D/latest"
	stat_line "fault ok agent-reply-layer"
	vcmd verify a 0 16 1
}

@test "agent: faults of the hook's spawn (before the fork, before ready, killed before ready): no agent, no socket, no registry entry, the container runs" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	agent_bundle
	local before p
	before=$(fds_of "$VPID")
	for p in agent-spawn agent-ready agent-ready:kill; do
		CK_FAULT="$p" hook_start
		# the hook never fails a container start: it says why there is no agent and exits 0
		[ "$status" -eq 0 ] || { stat_line "fault bad $p"; fail "hook $p: $output"; }
		case $p in
		*:kill) assert_output --partial "no agent: the agent exited before it was ready" ;;
		*) assert_output --partial "no agent: " && assert_output --partial "fault injected at $p" ;;
		esac
		if [[ "$p" == *:kill ]]; then
			# killed: its socket and registry entries are stale, and taken for no agent
			run -1 "$CKPT" agent status --bundle "$BUNDLE"
			assert_output --partial "Connection refused"
			run -1 "$CKPT" agent status --id "ckpt-rel-$$"
			assert_output --partial "container ckpt-rel-$$: no agent"
		else
			[ ! -e "$D/agent.sock" ] && [ ! -e "$CKPT_AGENT_REGISTRY/pid-$VPID" ] || { stat_line "fault bad $p"; fail "$p left a socket or registry entry"; }
			[ ! -e "$CKPT_AGENT_REGISTRY/id-ckpt-rel-$$" ]
		fi
		target_clean "$VPID" "$before"
		# nothing holds the target's lock
		ckpt_run -0 exec -t "$VPID" getpid
		stat_line "fault ok $p"
	done
	agent_up
	ckpt_run -0 agent status --bundle "$BUNDLE"
	agent_stop
	vcmd verify a 0 16 1
}

@test "agent + manual pre-dump, dump, exec of the same target: refused naming the agent until its final layer" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	agent_bundle
	agent_up
	retry 250 0.02 test -L "$D/latest"
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/m" --tracker hash
	assert_output --partial "process $VPID is being checkpointed by ckpt pid $APID"
	[ ! -e "$IMG/m" ]
	ckpt_run -1 dump --memory-only --leave-running -t "$VPID" -D "$IMG/m" --tracker hash
	assert_output --partial "being checkpointed by ckpt pid $APID"
	ckpt_run -1 exec -t "$VPID" getpid
	assert_output --partial "being checkpointed by ckpt pid $APID"
	stat_line "bad ok agent+pre-dump"
	stat_line "bad ok agent+exec"
	# the agent's own layers go on meanwhile
	ckpt_run -0 agent layer --bundle "$BUNDLE"
	# after its final layer the agent takes none of its own: the target is free (verify)
	ckpt_run -0 agent final --bundle "$BUNDLE"
	ckpt_run -0 verify -t "$VPID" -D "$D/latest"
	assert_output --partial ": OK"
	agent_stop
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/m" --tracker hash
	vcmd verify a 0 16 1
}

# rpc_fault POINT DIR [CLIENT-ARGS...]: a PRE_DUMP with POINT injected into the server.
rpc_fault() {
	local point=$1 dir=$2 before
	shift 2
	before=$(fds_of "$VPID")
	run -0 env CK_FAULT="$point" "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$dir" -W "$BATS_TEST_TMPDIR/work" "$@"
	if [[ "$output" != *"type=13 success=0"*"errmsg="*"fault injected at $point"* ]] || [[ "$output" != *"server exit=1"* ]]; then
		stat_line "fault bad $point"
		fail "rpc $point: $output"
	fi
	target_clean "$VPID" "$before" || { stat_line "fault bad $point"; fail "rpc $point left the target unclean"; }
	! ls -A "$(dirname "$dir")" | grep -q 'ckpt-tmp\|ckpt-old' || { stat_line "fault bad $point"; fail "rpc $point left a half layer"; }
	stat_line "fault ok $point"
}

@test "rpc: faults at the request, the PRE_DUMP, its engine steps, the response: an error response or a clean close, exit 1, target clean, earlier layer intact" {
	[ -x "$FRONT" ] && [ -x "$CLIENT" ] || fail "build/criu and the rpc client are built by make and make test-bins"
	vcmd alloc a 64
	vcmd fill a 0 64 1
	local W="$BATS_TEST_TMPDIR" p before sum
	mkdir -p "$W/rimg/1" "$W/rimg/2" "$W/rimg/3" "$W/work"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/1" -W "$W/work"
	assert_line --partial "type=13 success=1"
	sum=$(layer_sum "$W/rimg/1")
	for p in rpc-request rpc-pre-dump rpc-frozen rpc-collected rpc-pages rpc-commit rpc-rename rpc-image-PAGEMAP; do
		rpc_fault "$p" "$W/rimg/2" -P ../1
		[ -z "$(ls -A "$W/rimg/2")" ]
	done
	# into a directory holding a layer (moved aside, then put back on failure)
	for p in rpc-pre-dump rpc-frozen rpc-commit; do
		rpc_fault "$p" "$W/rimg/1"
		[ "$(layer_sum "$W/rimg/1")" = "$sum" ]
	done
	# the response itself: not sent, the socket closes; the layer is complete
	before=$(fds_of "$VPID")
	run -0 env CK_FAULT=rpc-response "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/2" -W "$W/work" -P ../1
	assert_line "eof"
	assert_line "server exit=1"
	grep -q "fault injected at rpc-response" "$W/work/dump.log"
	target_clean "$VPID" "$before"
	[ -e "$W/rimg/2/inventory.img" ]
	stat_line "fault ok rpc-response"
	# DUMP and RESTORE delegation: an error response instead of the exec
	run -0 env CK_FAULT=rpc-delegate CKPT_CRIU=/bin/true "$CLIENT" "$FRONT" dump -t "$VPID" -D "$W/rimg/3" -W "$W/work"
	assert_line --partial "type=1 success=0"
	assert_line --partial "fault injected at rpc-delegate"
	assert_line "server exit=1"
	run -0 env CK_FAULT=rpc-delegate CKPT_CRIU=/bin/true "$CLIENT" "$FRONT" raw 0802
	assert_line --partial "type=2 success=0"
	assert_line --partial "fault injected at rpc-delegate"
	target_clean "$VPID" "$before"
	stat_line "fault ok rpc-delegate"
	[ "$(layer_sum "$W/rimg/1")" = "$sum" ]
	vcmd verify a 0 64 1
}

@test "rpc: a PRE_DUMP through the agent: the call to the agent and the agent's round fail cleanly; the agent lives on and the next PRE_DUMP is its layer" {
	[ -x "$FRONT" ] && [ -x "$CLIENT" ] || fail "build/criu and the rpc client are built by make and make test-bins"
	vcmd alloc a 64
	vcmd fill a 0 64 1
	local W="$BATS_TEST_TMPDIR" before
	mkdir -p "$W/rimg/1" "$W/rimg/2" "$W/work"
	agent_bundle
	CK_FAULT="agent-frozen:fail:2" agent_up
	retry 250 0.02 grep -q "fault injected at agent-frozen; next try" "$D/agent.log"
	before=$(fds_of "$VPID")
	rpc_fault rpc-agent-call "$W/rimg/1"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/1" -W "$W/work"
	assert_line --partial "type=13 success=0"
	assert_line --partial "refused 'layer': layer "
	assert_line --partial "($W/rimg/1): pre-dump of $CG: fault injected at agent-frozen"
	target_clean "$VPID" "$before"
	[ -z "$(ls -A "$W/rimg/1")" ]
	stat_line "fault ok rpc-agent-round"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/1" -W "$W/work"
	assert_line --partial "type=13 success=1"
	grep -q "has a pre-copy agent" "$W/work/dump.log"
	[ -e "$W/rimg/1/inventory.img" ]
	agent_stop
	vcmd verify a 0 64 1
}

@test "SIGKILL of the agent at random moments while it takes layers: victim runs, memory checks, the next agent works" {
	KILLS=${CKPT_REL_AGENT_KILLS:-6}
	vcmd alloc a 256
	vcmd fill a 0 256 1
	# a layer right after the other (precopy), then every 100 ms
	agent_bundle org.ckpt.interval=100ms org.ckpt.converge-pages=0
	local before i
	before=$(fds_of "$VPID")
	for ((i = 0; i < KILLS; i++)); do
		agent_up
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
		kill -KILL "$APID" 2>/dev/null || true
		agent_gone
		if retry 100 0.02 target_clean "$VPID" "$before"; then stat_line "kill ok agent"; else stat_line "kill bad agent"; fail "kill $i of the agent left the target unclean"; fi
		rm -rf "$D"/.*ckpt-tmp*
		no_half_agent_layer
	done
	agent_up
	ckpt_run -0 agent layer --bundle "$BUNDLE"
	agent_stop
	ckpt_run -0 verify -t "$VPID" -D "$D/latest"
	assert_output --partial ": OK"
	vcmd verify a 0 256 1
}

@test "SIGKILL of the RPC server at random moments during a PRE_DUMP: victim runs, memory checks, the next PRE_DUMP works" {
	[ -x "$FRONT" ] && [ -x "$CLIENT" ] || fail "build/criu and the rpc client are built by make and make test-bins"
	KILLS=${CKPT_REL_RPC_KILLS:-6}
	# 16 MiB, written whole by every try (no parent): a PRE_DUMP long enough to be hit
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	local W="$BATS_TEST_TMPDIR" before i cpid srv
	mkdir -p "$W/rimg/1" "$W/rimg/2" "$W/work"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/1" -W "$W/work"
	assert_line --partial "type=13 success=1"
	before=$(fds_of "$VPID")
	# a kill counts when it hit the server mid-request (the client saw signal 9), 0-30 ms after
	# its fork; at most 8 tries a kill
	local killed=0 tries=0 j
	while ((killed < KILLS && tries < 8 * KILLS)); do
		tries=$((tries + 1))
		rm -f "$W/srv.pid"
		RPC_CLIENT_PIDFILE="$W/srv.pid" "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/2" -W "$W/work" >"$W/client.out" 2>&1 3>&- &
		cpid=$!
		srv=
		for ((j = 0; j < 2000; j++)); do
			[ -s "$W/srv.pid" ] && read -r srv <"$W/srv.pid" && [ -n "$srv" ] && break
			srv=
		done
		sleep "0.0$(printf %02d $((RANDOM % 30)))"
		[ -z "$srv" ] || kill -KILL "$srv" 2>/dev/null || true
		wait "$cpid" || true
		if grep -q "server signal=9" "$W/client.out"; then
			killed=$((killed + 1))
			if retry 100 0.02 target_clean "$VPID" "$before"; then stat_line "kill ok rpc"; else stat_line "kill bad rpc"; fail "kill $i of the rpc server left the target unclean: $(cat "$W/client.out")"; fi
		fi
		rm -rf "$W"/rimg/.*ckpt-tmp* "$W"/rimg/.*ckpt-old* "$W/rimg/2"
		mkdir -p "$W/rimg/2"
	done
	echo "rpc: $killed kills mid-request in $tries tries" >&2
	stat_line "note rpc-kill-tries $tries"
	((killed == KILLS)) || fail "only $killed of $KILLS kills hit the server mid-request in $tries tries"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/2" -W "$W/work" -P ../1
	assert_line --partial "type=13 success=1"
	ckpt_run -0 verify -t "$VPID" -D "$W/rimg/2"
	assert_output --partial ": OK"
	vcmd verify a 0 4096 1
}

@test "path confinement: an RPC parent_img out of the images dir's directory ('..', a symlink) is refused naming it; a layer name swapped for a symlink mid-dump is never renamed into place" {
	[ -x "$FRONT" ] && [ -x "$CLIENT" ] || fail "build/criu and the rpc client are built by make and make test-bins"
	vcmd alloc a 16
	vcmd fill a 0 16 1
	local W="$BATS_TEST_TMPDIR" before
	mkdir -p "$W/rimg/1" "$W/rimg/2" "$W/work" "$W/outside"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/1" -W "$W/work"
	assert_line --partial "type=13 success=1"
	# a real layer outside the directory holding the images dirs
	ckpt_run -0 pre-dump -t "$VPID" -D "$W/outside/L" --tracker hash
	ln -s "$W/outside/L" "$W/rimg/link"
	before=$(fds_of "$VPID")
	local p
	for p in ../../outside/L ../link ../1/../../outside/L "$W/outside/L"; do
		run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/2" -W "$W/work" -P "$p"
		if [[ "$output" != *"type=13 success=0"*"parent_img $p (relative to $W/rimg/2)"*@("leads out of"|"must stay beneath")" $W/rimg"* ]]; then
			stat_line "bad bad parent_img $p"
			fail "parent_img $p: $output"
		fi
		[ -z "$(ls -A "$W/rimg/2")" ]
		target_clean "$VPID" "$before"
		stat_line "bad ok parent_img $p"
	done
	# beside it is fine
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/rimg/2" -W "$W/work" -P ../1
	assert_line --partial "type=13 success=1"
	# the temporary layer directory swapped for a symlink while ckpt is stopped before the rename
	mkdir -p "$W/decoy"
	CK_FAULT="rename:stop" "$CKPT" pre-dump -t "$VPID" -D "$IMG/s" --tracker hash >/dev/null 2>"$W/swap.err" 3>&- &
	local cpid=$! tmp
	retry 250 0.02 grep -q "stopped at rename" "$W/swap.err" || fail "ckpt did not stop: $(cat "$W/swap.err")"
	tmp=$(find "$IMG" -maxdepth 1 -name '.s.ckpt-tmp-*' | head -1)
	[ -n "$tmp" ]
	mv "$tmp" "$W/moved"
	ln -s "$W/decoy" "$tmp"
	kill -CONT "$cpid"
	local st=0
	wait "$cpid" || st=$?
	[ "$st" -eq 1 ] || fail "ckpt exited $st: $(cat "$W/swap.err")"
	run cat "$W/swap.err"
	assert_output --partial "the temporary layer $tmp was replaced during the dump; nothing renamed to $IMG/s"
	[ ! -e "$IMG/s" ] && [ ! -L "$IMG/s" ]
	[ -z "$(ls -A "$W/decoy")" ]
	# what was written through ckpt's own fd is removed from wherever it went
	[ -z "$(ls -A "$W/moved")" ]
	target_clean "$VPID" "$before"
	stat_line "bad ok layer-swap"
	vcmd verify a 0 16 1
}
