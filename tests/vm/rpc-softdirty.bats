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
	if [ -v CTR ]; then
		runc delete -f "$CTR" >/dev/null 2>&1 || true
	fi
	if [ -v MOUNTED_CG ]; then
		retry 20 0.1 umount /sys/fs/cgroup || umount -l /sys/fs/cgroup || true
	fi
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

@test "runc in the guest: two pre-dumps through the front-end (soft-dirty), runc checkpoint --parent-path handed to CRIU 3.17 in place (it chains onto ckpt's layer), runc restore: the container resumes with its memory" {
	requires runc
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	local t="$BATS_TEST_TMPDIR" c
	# the guest mounts no cgroups; runc needs them (a throwaway kernel)
	if ! findmnt -n -t cgroup2 /sys/fs/cgroup >/dev/null; then
		mount -t cgroup2 none /sys/fs/cgroup
		MOUNTED_CG=1
	fi
	CTR=ckpt-rpc-vm-$$
	mkdir -p "$t/bundle/rootfs/bin" "$t/bundle/rootfs/tmp" "$t/img" "$t/bin"
	cp /bin/busybox "$t/bundle/rootfs/bin/"
	for c in sh sleep md5sum head base64 tr echo mv; do ln -s busybox "$t/bundle/rootfs/bin/$c"; done
	(cd "$t/bundle" && runc spec)
	jq '.process.terminal = false | .root.readonly = false
		| .linux.namespaces |= map(select(.type != "network"))
		| .process.args = ["/bin/sh", "-c", "s=$(head -c 60000 /dev/urandom | base64 | tr -d \"\\n\"); h=$(echo \"$s\" | md5sum); i=0; while true; do [ \"$(echo \"$s\" | md5sum)\" = \"$h\" ] && r=OK || r=BAD; i=$((i+1)); echo \"$i $r\" >/tmp/s.new; mv /tmp/s.new /tmp/status; sleep 0.1; done"]' \
		"$t/bundle/config.json" >"$t/config.new"
	mv "$t/config.new" "$t/bundle/config.json"
	runc run -d --bundle "$t/bundle" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	retry 100 0.1 grep -q OK "$t/bundle/rootfs/tmp/status"
	ln -s "$CKPT" "$t/bin/criu"
	ln -s "$(command -v criu)" "$t/bin/criu.real"
	run -0 runc --criu "$t/bin/criu" checkpoint --pre-dump --image-path "$t/img/pre1" --work-path "$t/w1" "$CTR"
	grep -q "tracker soft-dirty" "$t/w1/dump.log"
	run -0 runc --criu "$t/bin/criu" checkpoint --pre-dump --image-path "$t/img/pre2" --work-path "$t/w2" --parent-path ../pre1 "$CTR"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	local cpid
	cpid=$(runc state "$CTR" | jq .pid)
	run -0 runc --criu "$t/bin/criu" checkpoint --image-path "$t/img/final" --work-path "$t/wf" --parent-path ../pre2 "$CTR"
	if [ "$(readlink "/proc/$cpid/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ]; then
		# runc on a cgroup2-only host gives it a cgroup namespace, which ckpt writes:
		# ckpt's own final dump on its chain, CRIU 3.17 restores it
		grep -q "DUMP of container pid $cpid by ckpt's own final dump" "$t/wf/dump.log"
		echo "# the container has a cgroup namespace: the final dump is ckpt's" >&3
	else
		# in place with the parent: CRIU's log alone, pages taken from ckpt's layer
		run ! grep -q "ckpt's criu front-end" "$t/wf/dump.log"
	fi
	[ "$(readlink "$t/img/final/parent")" = ../pre2 ]
	"$CKPT" show "$t/wf/stats-dump" | jq -e '.entries[0].dump.pages_skipped_parent > 0'
	local before
	before=$(cut -d' ' -f1 "$t/bundle/rootfs/tmp/status")
	run -0 runc --criu "$t/bin/criu" restore -d --bundle "$t/bundle" --image-path "$t/img/final" --work-path "$t/wr" "$CTR" </dev/null 3>&-
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	retry 100 0.1 bash -c "[ \$(cut -d' ' -f1 '$t/bundle/rootfs/tmp/status') -gt $((before + 2)) ]"
	run -0 cat "$t/bundle/rootfs/tmp/status"
	assert_output --regexp '^[0-9]+ OK$'
}
