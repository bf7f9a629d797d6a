#!/usr/bin/env bats
# bats file_tags=root
# Iterative pre-dumps of a real runc container (busybox), frozen through its
# cgroup: what a runtime hook does.

load helpers

setup() {
	requires root runc
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	BUNDLE="$BATS_TEST_TMPDIR/bundle"
	IMG="$BATS_TEST_TMPDIR/img"
	mkdir -p "$BUNDLE/rootfs/bin" "$IMG"
	cp /bin/busybox "$BUNDLE/rootfs/bin/"
	local c
	for c in sh sleep true; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	(cd "$BUNDLE" && runc spec)
	CTR="ckpt-test-$$-$BATS_TEST_NUMBER"
}

teardown() {
	[ -v CTR ] || return 0
	runc delete -f "$CTR" >/dev/null 2>&1 || true
}

# run_container CMD: start the container detached with sh -c CMD; sets CPID.
run_container() {
	jq --arg c "$1" '.process.terminal = false | .process.args = ["/bin/sh", "-c", $c]' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	runc run -d --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	[ "$CPID" -gt 0 ]
}

@test "runc container forking short-lived children: 10 pre-dumps, a final memory layer, verify" {
	# a child every 20 ms: tasks exit between the freeze and the copy
	run_container 'while true; do sleep 0.02; done'
	ckpt_run -0 pre-dump -t "$CPID" --cgroup auto -D "$IMG/1"
	local i
	for i in $(seq 2 10); do
		ckpt_run -0 pre-dump -t "$CPID" --cgroup auto -D "$IMG/$i" --prev-images-dir "../$((i - 1))"
	done
	ckpt_run -0 dump --memory-only -t "$CPID" --cgroup auto -D "$IMG/final" --prev-images-dir ../10 --leave-stopped
	# the cgroup stays frozen: verify sees exactly the dumped memory
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$IMG/final"
	assert_output --partial ": OK"
	local cg v2
	cg=$(awk -F: '$1 == 0 {print $3}' "/proc/$CPID/cgroup")
	v2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	if [ -n "$v2" ] && [ -e "$v2$cg/cgroup.freeze" ]; then
		grep -q '^frozen 1' "$v2$cg/cgroup.events"
		echo 0 >"$v2$cg/cgroup.freeze"
	else
		echo THAWED >"$(findmnt -n -t cgroup -O freezer -o TARGET | head -1)$(awk -F: '$2 ~ /freezer/ {print $3}' "/proc/$CPID/cgroup")/freezer.state"
	fi
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	# images of every layer decode
	local f
	for f in "$IMG"/*/pstree.img "$IMG"/*/inventory.img; do
		crit decode -i "$f" >/dev/null
	done
}

@test "runc container: layers after the first hold only what changed" {
	run_container 'while true; do sleep 1; done'
	ckpt_run -0 pre-dump -t "$CPID" --cgroup auto -D "$IMG/1"
	ckpt_run -0 pre-dump -t "$CPID" --cgroup auto -D "$IMG/2" --prev-images-dir ../1
	run -0 crit decode -i "$IMG/2/stats-dump"
	echo "$output" | jq -e '.entries[0].dump | .pages_skipped_parent > .pages_written'
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
}
