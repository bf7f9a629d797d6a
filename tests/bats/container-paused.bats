#!/usr/bin/env bats
# bats file_tags=root
#
# Paused containers (issue 15, container-dump.md section 7): `runc pause` leaves the v1 freezer
# FROZEN.  ckpt's own final dump seizes such a tree frozen, thaws the cgroup under the ptrace
# stops (a v1 frozen task takes no trap) and freezes it again before detaching, as CRIU 4.2
# does; cgroup.img records freezer.state FROZEN with its real perms.  The tree never runs: the
# counter the container writes does not move while it is paused, and it stays paused after a
# --leave-running dump or a pre-dump.  A ckpt killed mid-dump leaves it FROZEN and untraced
# (the guardian re-freezes it).  The restore is CRIU 4.2's through runc, and ends as the
# restore of CRIU's own image of the same paused container ends (running, THAWED: runc has
# made the cgroup, and CRIU skips its properties).  cgroup v2 (cgroup.freeze 1) is tested with
# a plain tree in a cgroup of /sys/fs/cgroup/unified.

load helpers
load restore-helpers
load ctr-helpers

setup() {
	ctr_setup sh sleep cat mv
	# /tmp/n replaced whole (a pause between a truncation and the write would show it empty)
	# SIGUSR1 is trapped: a test sends it while paused, to be pending at the dump
	jq --arg c 'trap "echo \$i > /tmp/usr1" USR1; sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.1; done' \
		'.process.terminal = false | .root.readonly = false | .process.args = ["/bin/sh", "-c", $c]' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	CTR="ctpaused-$$-$BATS_TEST_NUMBER"
	FZ="/sys/fs/cgroup/freezer/$CTR"
	# build/criu's swrk behind `runc --criu`, the real CRIU 4.2 as criu.real for RESTORE
	ln -sf "$CKPT" "$W/bin/criu"
	ln -sf "$CRIU4" "$W/bin/criu.real"
	export CKPT_CRIU_CONF="$W/no-criu.conf"
	FE="$W/bin/criu"
}

teardown() {
	[ -v CTR ] && runc delete -f "$CTR" >/dev/null 2>&1
	if [ -v V2CG ] && [ -d "$V2CG" ]; then
		echo 0 >"$V2CG/cgroup.freeze" 2>/dev/null
		rst_teardown
		rmdir "$V2CG" 2>/dev/null
	fi
	return 0
}

# run_paused: the container, counting; paused once it has counted a little.  Sets CPID, N0.
run_paused() {
	runc run -d --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	retry 100 0.1 counter_at_least 3
	runc pause "$CTR"
	[ "$(cat "$FZ/freezer.state")" = FROZEN ]
	# (a pause that catches a child's exit leaves the shell's SIGCHLD pending: it is dumped)
	N0=$(counter)
}

# still_paused: runc and the freezer say paused, nothing traces the init, the counter has
# not moved since the pause (the tree never ran).
still_paused() {
	[ "$(runc state "$CTR" | jq -r .status)" = paused ]
	[ "$(cat "$FZ/freezer.state")" = FROZEN ]
	untraced "$CPID"
	[ "$(counter)" = "$N0" ]
}

# fe_checkpoint NAME [ARGS...]: runc checkpoint through the front-end into $W/img/NAME.
fe_checkpoint() {
	local name=$1
	shift
	run runc --criu "$FE" checkpoint --image-path "$W/img/$name" --work-path "$W/work-$name" "$@" "$CTR"
	[ "$status" = 0 ] || {
		cat "$W/work-$name/dump.log" >&2 || true
		fail "runc checkpoint $name failed: $output"
	}
}

# freezer_prop DIR: freezer.state as cgroup.img of DIR records it, "VALUE MODE UID".
freezer_prop() {
	run -0 "$CKPT" show "$1/cgroup.img"
	echo "$output" | jq -r '[.entries[0].controllers[].dirs[].properties[] | select(.name == "freezer.state")][0] | "\(.value) \(.perms.mode) \(.perms.uid)"'
}

# restored_state IMG WORK: restore IMG with runc + CRIU 4.2, print "STATUS FREEZER", and check
# that the counter went on from the dumped value when it runs.
restored_state() {
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$1" --work-path "$2" "$CTR" </dev/null 3>&-
	local st
	st=$(runc state "$CTR" | jq -r .status)
	if [ "$st" = running ]; then
		retry 100 0.1 counter_above "$N0" >&2
		[ "$(counter)" -lt $((N0 + 200)) ]
	fi
	echo "$st $(cat "$FZ/freezer.state")"
}

@test "front-end DUMP of a paused runc container is ckpt's own (cgroup.img FROZEN, real perms); restored by runc + CRIU 4.2 it ends as CRIU's own image of it does (running, THAWED), the counter continuing" {
	run_paused
	# CRIU's own image of the same paused container first (it stays paused: CRIU re-freezes)
	run -0 runc --criu "$CRIU4" checkpoint --leave-running --image-path "$W/img/criu" --work-path "$W/work-criu" "$CTR"
	still_paused
	[ "$(freezer_prop "$W/img/criu" | cut -d' ' -f1)" = FROZEN ]
	fe_checkpoint final
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log"
	grep -q "is paused (v1 freezer)" "$W/work-final/dump.log"
	[ "$(freezer_prop "$W/img/final")" = "FROZEN 33188 0" ]
	# killed at the dump, as CRIU does, without having run
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	[ "$(counter)" = "$N0" ]
	run ! runc state "$CTR"
	local ours criu
	ours=$(restored_state "$W/img/final" "$W/workr")
	runc delete -f "$CTR"
	criu=$(restored_state "$W/img/criu" "$W/workr-criu")
	echo "ckpt's image restored: $ours; CRIU's: $criu" >&2
	[ "$ours" = "$criu" ]
	[ "$ours" = "running THAWED" ]
}

@test "a paused runc container with a signal pending (SIGUSR1 sent while paused, trapped by its shell): ckpt's own dump writes the shared queue; restored by runc + CRIU 4.2, the trap runs and sees the dumped counter" {
	run_paused
	kill -USR1 "$CPID"
	grep -qE '^ShdPnd:.*[1-9a-f]' "/proc/$CPID/status"
	fe_checkpoint final
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log"
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	[ "$(counter)" = "$N0" ]
	[ ! -e "$BUNDLE/rootfs/tmp/usr1" ]
	run -0 "$CKPT" show "$W/img/final/core-1.img"
	echo "$output" | jq -e '[.entries[0].tc.signals_s.signals[].siginfo] | length >= 1' >/dev/null ||
		fail "no shared signal queue in core-1.img: $output"
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	retry 100 0.05 test -s "$BUNDLE/rootfs/tmp/usr1"
	# the trap saw the counter as dumped (the shell ran the handler first thing)
	[ "$(cat "$BUNDLE/rootfs/tmp/usr1")" = "$N0" ] || [ "$(cat "$BUNDLE/rootfs/tmp/usr1")" = $((N0 + 1)) ]
	retry 100 0.1 counter_above "$N0"
}

@test "ckpt dump --cgroup --leave-running of a paused runc container: consistent image, the container stays paused and untraced; restored, it continues" {
	run_paused
	ext_mnts
	ckpt_run -0 dump --cgroup "$FZ" --empty-ns net --manage-cgroups --descriptors "${EXT[@]}" \
		--leave-running -D "$W/img/cli" -o "$W/dump.log"
	grep -q "is paused (v1 freezer)" "$W/dump.log"
	grep -q "is paused again" "$W/dump.log"
	still_paused
	[ "$(freezer_prop "$W/img/cli")" = "FROZEN 33188 0" ]
	# the image holds the paused value of the counter: the restore goes on from there
	runc resume "$CTR"
	retry 100 0.1 counter_above "$N0"
	runc delete -f "$CTR"
	echo "$N0" >"$BUNDLE/rootfs/tmp/n"
	[ "$(restored_state "$W/img/cli" "$W/workr")" = "running THAWED" ]
}

@test "pre-dumps of a paused runc container (front-end --pre-dump, ckpt pre-dump --cgroup) work and leave it paused; a final dump on that chain restores" {
	run_paused
	fe_checkpoint pre1 --pre-dump
	still_paused
	grep -q "PRE_DUMP" "$W/work-pre1/dump.log"
	ckpt_run -0 pre-dump --cgroup "$FZ" -D "$W/img/pre2" --prev-images-dir ../pre1
	still_paused
	fe_checkpoint final --parent-path ../pre2
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log"
	[ "$(readlink "$W/img/final/parent")" = ../pre2 ] || [ "$(readlink "$W/img/final/parent")" = "$W/img/pre2" ]
	[ "$(restored_state "$W/img/final" "$W/workr")" = "running THAWED" ]
}

@test "ckpt killed mid-dump of a paused runc container (tree thawed under its ptrace stops): the guardian pauses it again, it is left FROZEN and untraced" {
	run_paused
	ext_mnts
	local point n
	for point in frozen collected; do
		rm -rf "$W/img/k"
		run env CK_FAULT="$point:kill" "$CKPT" dump --cgroup "$FZ" --empty-ns net --manage-cgroups \
			--descriptors "${EXT[@]}" --leave-running -D "$W/img/k"
		echo "$output" >&2
		[ "$status" = 137 ]
		assert_output --partial "ckpt guardian: ckpt died with paused $FZ thawed; froze it again"
		retry 100 0.05 untraced "$CPID"
		retry 100 0.05 grep -qx FROZEN "$FZ/freezer.state"
		[ "$(runc state "$CTR" | jq -r .status)" = paused ]
		[ ! -e "$W/img/k/inventory.img" ]
		# it may have moved one step between the kernel's detach and the re-freeze at most;
		# then it is paused again
		n=$(counter)
		[ "$n" -le $((N0 + 1)) ]
		sleep 0.3
		[ "$(counter)" = "$n" ]
		# resumed, it runs on (and handles what that step left, say a SIGCHLD); paused again
		runc resume "$CTR"
		retry 100 0.1 counter_above "$n"
		runc pause "$CTR"
		N0=$(counter)
	done
}

@test "cgroup v2: ckpt pre-dump and dump --cgroup of a plain tree in a frozen /sys/fs/cgroup/unified cgroup leave it frozen and untraced; the dump restores with CRIU 4.2 (memory check passes)" {
	[ -e /sys/fs/cgroup/unified/cgroup.procs ] || skip "no cgroup v2 hierarchy at /sys/fs/cgroup/unified"
	rst_setup
	V2CG="/sys/fs/cgroup/unified/ctpaused-$$-$BATS_TEST_NUMBER"
	mkdir "$V2CG"
	victim rst-mem
	echo "$VICTIM_PID" >"$V2CG/cgroup.procs"
	echo 1 >"$V2CG/cgroup.freeze"
	retry 100 0.05 grep -qx "frozen 1" "$V2CG/cgroup.events"
	ckpt_run -0 pre-dump --cgroup "$V2CG" -D "$IMG/1"
	grep -qx "frozen 1" "$V2CG/cgroup.events"
	untraced "$VICTIM_PID"
	ckpt_run -0 dump --cgroup "$V2CG" -D "$IMG/2" --prev-images-dir ../1 --leave-running
	grep -qx "frozen 1" "$V2CG/cgroup.events"
	[ "$(cat "$V2CG/cgroup.freeze")" = 1 ]
	untraced "$VICTIM_PID"
	[ "$(readlink "$IMG/2/parent")" = ../1 ]
	# a v2 frozen task dies of SIGKILL; the restore needs its pid free
	kill -KILL "$VICTIM_PID"
	wait "$VICTIM_PID" 2>/dev/null || true
	free_pids "$VICTIM_PID"
	ckpt_run -0 restore -D "$IMG/2" --criu "$CRIU4" -d -o "$W/restore.log"
	RESTORED_PID=$VICTIM_PID
	kill -TERM "$VICTIM_PID"
	retry 200 0.05 grep -qE '^(PASS|FAIL)' "$OUT"
	run -0 grep -qx PASS "$OUT"
}
