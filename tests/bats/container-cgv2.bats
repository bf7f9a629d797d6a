#!/usr/bin/env bats
# bats file_tags=root
#
# runc 1.1.5 in cgroup v2 mode (issue 15): this host is hybrid (v1 hierarchies, cgroup2 at
# /sys/fs/cgroup/unified), so the suite makes the view of a v2 host: a mount namespace whose
# /sys/fs/cgroup is cgroup2 and nothing else, held by a sleeping process; runc, ckpt's criu
# front-end and CRIU 4.2 all run in it (nsenter).  runc then puts the container into the v2
# cgroup /CTR and freezes it with cgroup.freeze.  The tasks stay at the root of the kernel's v1
# hierarchies, which this view does not show: cgroup.img records those controllers without
# properties (CRIU's restore wants one for every name of a set).
# A paused container (runc pause: cgroup.freeze 1) is dumped by ckpt and restored as CRIU's own
# image of it is.

load helpers
load ctr-helpers

setup() {
	ctr_setup sh sleep cat mv
	jq --arg c 'sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.1; done' \
		'.process.terminal = false | .root.readonly = false | .process.args = ["/bin/sh", "-c", $c]' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	front_end
	CTR="ctv2-$$-$BATS_TEST_NUMBER"
	RR="/run/ckpt-test-runc-v2"
	unshare -m --propagation private sh -c \
		'umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && echo ready >"$1" && exec sleep 100000' \
		sh "$W/ready" </dev/null >/dev/null 2>&1 3>&- &
	HOLDER=$!
	retry 100 0.05 test -s "$W/ready"
}

teardown() {
	[ -v HOLDER ] || return 0
	v2 runc --root "$RR" delete -f "$CTR" >/dev/null 2>&1 || true
	kill "$HOLDER" 2>/dev/null || true
}

# v2 CMD...: CMD in the cgroup2-only mount namespace.
v2() {
	nsenter -t "$HOLDER" -m -- "$@"
}

@test "runc on cgroup v2 (a mount namespace with cgroup2 alone at /sys/fs/cgroup): front-end pre-dump, ckpt's own final dump on it, runc restore by CRIU 4.2: the counter continues, the container is in its v2 cgroup again" {
	v2 grep -q ' /sys/fs/cgroup cgroup2 ' /proc/self/mounts
	v2 runc --root "$RR" run -d --bundle "$BUNDLE" "$CTR" </dev/null >/dev/null 2>&1 3>&-
	CPID=$(v2 runc --root "$RR" state "$CTR" | jq .pid)
	grep -qx "0::/$CTR" "/proc/$CPID/cgroup"
	retry 100 0.1 counter_at_least 3
	run -0 v2 runc --root "$RR" --criu "$FE" checkpoint --pre-dump --image-path "$W/img/pre" --work-path "$W/work-pre" "$CTR"
	[ "$(v2 runc --root "$RR" state "$CTR" | jq -r .status)" = running ]
	run v2 runc --root "$RR" --criu "$FE" checkpoint --parent-path ../pre --image-path "$W/img/final" --work-path "$W/work-final" "$CTR"
	[ "$status" = 0 ] || fail "checkpoint: $output $(cat "$W/work-final/dump.log")"
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log" ||
		fail "not ckpt's: $(grep -i front-end "$W/work-final/dump.log")"
	[ "$(readlink "$W/img/final/parent")" = ../pre ] || [ "$(readlink "$W/img/final/parent")" = "$W/img/pre" ]
	# the v2 dir of the container, and a controller for every name of the set
	run -0 "$CKPT" show "$W/img/final/cgroup.img"
	echo "$output" | jq -e --arg d "$CTR" '.entries[0] |
		([.controllers[] | select(.cnames == [""]) | .dirs[].dir_name] == [$d]) and
		([.sets[0].ctls[].name] | sort) == ([.controllers[].cnames | join(",")] | sort)'
	local n0
	n0=$(counter)
	run -0 v2 runc --root "$RR" --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/work-rst" "$CTR" </dev/null 3>&-
	[ "$(v2 runc --root "$RR" state "$CTR" | jq -r .status)" = running ]
	CPID=$(v2 runc --root "$RR" state "$CTR" | jq .pid)
	grep -qx "0::/$CTR" "/proc/$CPID/cgroup"
	retry 100 0.1 counter_above "$((n0 + 2))"
	[ "$(counter)" -lt $((n0 + 300)) ]
}

# restored_state IMG WORK: restore IMG with runc + CRIU 4.2 (through the front-end), print
# "STATUS FREEZE"; a paused one is resumed after.
restored_state() {
	run -0 v2 runc --root "$RR" --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$1" --work-path "$2" "$CTR" </dev/null 3>&-
	echo "$(v2 runc --root "$RR" state "$CTR" | jq -r .status) $(v2 cat "/sys/fs/cgroup/$CTR/cgroup.freeze")"
	[ "$(v2 runc --root "$RR" state "$CTR" | jq -r .status)" != paused ] || v2 runc --root "$RR" resume "$CTR"
}

@test "runc pause on cgroup v2 (cgroup.freeze 1): ckpt's own final dump through the front-end, the tree killed without having run; restored by runc + CRIU 4.2 it ends as CRIU's own image of it does, the counter going on from the dumped value" {
	v2 runc --root "$RR" run -d --bundle "$BUNDLE" "$CTR" </dev/null >/dev/null 2>&1 3>&-
	CPID=$(v2 runc --root "$RR" state "$CTR" | jq .pid)
	retry 100 0.1 counter_at_least 3
	v2 runc --root "$RR" pause "$CTR"
	[ "$(v2 cat "/sys/fs/cgroup/$CTR/cgroup.freeze")" = 1 ]
	local n0 ours criu
	n0=$(counter)
	# CRIU's own image of the paused container first (it stays paused)
	run -0 v2 runc --root "$RR" --criu "$CRIU4" checkpoint --leave-running --image-path "$W/img/criu" --work-path "$W/work-criu" "$CTR"
	[ "$(v2 runc --root "$RR" state "$CTR" | jq -r .status)" = paused ]
	run v2 runc --root "$RR" --criu "$FE" checkpoint --image-path "$W/img/final" --work-path "$W/work-final" "$CTR"
	[ "$status" = 0 ] || fail "checkpoint: $output $(cat "$W/work-final/dump.log")"
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log" ||
		fail "not ckpt's: $(grep -i front-end "$W/work-final/dump.log")"
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	[ "$(counter)" = "$n0" ]
	ours=$(restored_state "$W/img/final" "$W/work-rst")
	retry 100 0.1 counter_above "$((n0 + 2))"
	v2 runc --root "$RR" delete -f "$CTR"
	criu=$(restored_state "$W/img/criu" "$W/work-rst-criu")
	echo "ckpt's image restored: $ours; CRIU's: $criu" >&3
	[ "$ours" = "$criu" ]
}
