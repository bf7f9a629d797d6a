#!/usr/bin/env bats
# bats file_tags=root
#
# ckpt's own final dump of a runc 1.1.5 container (issue 15), judged by CRIU 4.2 through
# `runc restore --criu CRIU4`: a busybox container (variant B of container-dump.md: stdio on
# /dev/null, a counter loop writing /tmp/n and a `sleep 1000 &` child) is dumped with
# `ckpt dump --cgroup`, deleted, and restored by runc + CRIU 4.2.  The counter continues from
# the dumped value, the child is there, the namespace pids, capabilities and no_new_privs are
# the dumped ones.  Refusals: what ckpt cannot write is listed up front, the container keeps
# running untouched.
# Every image is ckpt's; the mount part (mountpoints, tmpfs tars) is dump-mnt.c's.
#
# The dump is retried (at most 3 times) only when a `sleep 0.1` child of the loop exited
# while the tree was being stopped: ckpt does not write zombies yet and says "dump again".

load helpers

setup() {
	requires root runc criu4
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	W="$BATS_TEST_TMPDIR"
	BUNDLE="$W/bundle"
	mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/tmp" "$W/img" "$W/work"
	cp /bin/busybox "$BUNDLE/rootfs/bin/"
	local c
	for c in sh sleep cat; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	(cd "$BUNDLE" && runc spec)
	CTR="ctdump-$$-$BATS_TEST_NUMBER"
}

teardown() {
	[ -v CTR ] || return 0
	runc delete -f "$CTR" >/dev/null 2>&1 || true
}

LOOP='sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done'
PIPE_LOOP='sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n; echo "out $i"; sleep 0.1; done'

# run_container [REDIRECT]: the variant-B container, detached; sets CPID.  With "hostfile",
# stdout goes to a file of the host (outside the container's mount namespace); with "pipe",
# stdout and stderr are a pipe read by a cat outside, which appends to $W/out1.
run_container() {
	local loop=$LOOP
	[ "${1:-}" = pipe ] && loop=$PIPE_LOOP
	jq --arg c "$loop" '.process.terminal = false | .root.readonly = false |
		.process.args = ["/bin/sh", "-c", $c]' "$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	if [ "${1:-}" = hostfile ]; then
		runc run -d --bundle "$BUNDLE" "$CTR" >"$W/host-out" 2>&1 </dev/null 3>&-
	elif [ "${1:-}" = pipe ]; then
		runc run -d --bundle "$BUNDLE" "$CTR" > >(exec 3>&- && cat >>"$W/out1") 2>&1 </dev/null 3>&-
	else
		runc run -d --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	fi
	CPID=$(runc state "$CTR" | jq .pid)
	[ "$CPID" -gt 0 ]
}

counter() {
	cat "$BUNDLE/rootfs/tmp/n" 2>/dev/null || echo 0
}

# counter_at_least N
counter_at_least() {
	[ "$(counter)" -ge "$1" ]
}

# counter_above N
counter_above() {
	[ "$(counter)" -gt "$1" ]
}

# nspid PID: the pid in the innermost namespace.
nspid() {
	awk '/^NSpid:/ {print $NF}' "/proc/$1/status"
}

# sleeper PARENT: the host pid of the `sleep 1000` child of PARENT.
sleeper() {
	local c
	for c in $(cat /proc/"$1"/task/*/children); do
		if tr '\0' ' ' <"/proc/$c/cmdline" | grep -q '^sleep 1000'; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# ext_mnts: the --ext-mnt list runc's DUMP sends for this container (container-dump.md 1.3):
# every cgroup v1 bind keyed by its mount point, the masked /proc files by /dev/null.
ext_mnts() {
	local mp fs
	EXT=()
	while read -r mp fs; do
		[ "$fs" != cgroup ] || EXT+=(--ext-mnt "$mp:$mp")
		case "$mp" in /proc/keys | /proc/timer_list) EXT+=(--ext-mnt "$mp:/dev/null") ;; esac
	done < <(awk '{for (i = 7; $i != "-"; i++); print $5, $(i + 1)}' "/proc/$CPID/mountinfo")
}

# ctr_dump: ckpt's dump of the container, as runc would ask for it, into $W/img.
ctr_dump() {
	local i
	ext_mnts
	for i in 1 2 3; do
		rm -rf "$W/img"
		ckpt_run dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --manage-cgroups \
			--descriptors "${EXT[@]}" -D "$W/img" -o "$W/dump.log"
		[ "$status" = 0 ] && return 0
		[[ "$output" == *"a zombie now"*"dump again"* ]] || break
	done
	fail "ckpt dump failed: $output"
}

@test "ckpt dump --cgroup of a runc container, restored by runc + CRIU 4.2: counter continues, child there, ns pids, caps and no_new_privs kept" {
	run_container
	retry 100 0.1 counter_at_least 20
	local child ns_init ns_child caps
	child=$(sleeper "$CPID")
	ns_init=$(nspid "$CPID")
	ns_child=$(nspid "$child")
	caps=$(awk '/^CapEff:/ {print $2}' "/proc/$CPID/status")
	[ "$ns_init" = 1 ]

	ctr_dump
	ls "$W"/img/mountpoints-13.img "$W"/img/tmpfs-dev-*.tar.gz.img
	[ -e "$W/img/utsns-12.img" ] && [ -e "$W/img/ipcns-var-11.img" ] && [ -e "$W/img/seccomp.img" ]
	[ "$(cat "$W/img/descriptors.json")" = '["/dev/null","/dev/null","/dev/null"]' ]
	run -0 "$CKPT" show "$W/img/inventory.img"
	echo "$output" | jq -e '.entries[0].root_ids | .pid_ns_id == 1 and .net_ns_id == 2 and .mnt_ns_id == 6'
	run -0 "$CKPT" show "$W/img/ids-1.img"
	echo "$output" | jq -e '.entries[0] | .pid_ns_id == 9 and .net_ns_id == 10 and .ipc_ns_id == 11 and .uts_ns_id == 12 and .mnt_ns_id == 13 and .time_ns_id == 5'
	# cgroup.img: the container's set (2, ckpt's own is the root set 1), freezer.state with
	# its real value and perms (CRIU 4.2 writes garbage perms there)
	run -0 "$CKPT" show "$W/img/cgroup.img"
	echo "$output" | jq -e --arg p "/$CTR" '.entries[0].sets[0] | .id == 2 and any(.ctls[]; .name == "freezer" and .path == $p)'
	echo "$output" | jq -e '[.entries[0].controllers[].dirs[].properties[] | select(.name == "freezer.state")][0] | .value == "THAWED" and .perms.mode == 33188 and .perms.uid == 0'
	run -0 "$CKPT" show "$W/img/core-1.img"
	echo "$output" | jq -e '.entries[0].thread_core.cg_set == 2'
	run -0 "$CKPT" show "$W/img/inventory.img"
	echo "$output" | jq -e '.entries[0].root_cg_set == 1'
	run -0 "$CKPT" show "$W/img/utsns-12.img"
	echo "$output" | jq -e '.entries[0].nodename == "runc"'
	# the dumped tree was killed, as CRIU does: the counter stays at the dumped value
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	local n0
	n0=$(counter)
	[ "$n0" -ge 20 ]
	runc delete "$CTR"

	run -0 runc --criu "$CRIU4" restore -d --bundle "$BUNDLE" --image-path "$W/img" --work-path "$W/work" "$CTR" </dev/null 3>&-
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	local rpid rchild
	rpid=$(runc state "$CTR" | jq .pid)
	# continues from the dumped value (a fresh start would count from 1)
	retry 100 0.1 counter_above "$n0"
	[ "$(counter)" -lt $((n0 + 200)) ]
	[ "$(nspid "$rpid")" = "$ns_init" ]
	rchild=$(sleeper "$rpid")
	[ "$(nspid "$rchild")" = "$ns_child" ]
	[ "$(awk '/^CapEff:/ {print $2}' "/proc/$rpid/status")" = "$caps" ]
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$rpid/status")" = 1 ]
	[ "$(nsenter -t "$rpid" -u hostname)" = runc ]
}

@test "ckpt dump of a runc container refuses what it cannot write, with the whole list; the container keeps running untouched" {
	run_container hostfile
	retry 100 0.1 counter_at_least 3
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" -D "$W/img"
	assert_output --partial "net namespace of its own"
	assert_output --partial "give --empty-ns net"
	assert_output --partial "fd 1: $W/host-out is not reachable under that name in the task's mount namespace"
	assert_output --partial "fd 2: $W/host-out is not reachable"
	refute_output --partial "pid namespace"
	refute_output --partial "mnt namespace"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	untraced "$CPID"
	local n
	n=$(counter)
	retry 100 0.1 counter_above "$n"
	[ ! -e "$W/img/inventory.img" ]
}

@test "ckpt dump of a runc container with stdio on pipes: descriptors.json names them, runc restore hands new pipes in (inherit_fd), the output continues there" {
	run_container pipe
	retry 100 0.1 grep -q '^out 5$' "$W/out1"
	local ino
	ino=$(readlink "/proc/$CPID/fd/1")
	[[ "$ino" == pipe:* ]]
	ctr_dump
	[ "$(cat "$W/img/descriptors.json")" = "[\"/dev/null\",\"$ino\",\"$ino\"]" ]
	run -0 "$CKPT" show "$W/img/files.img"
	echo "$output" | jq -e --argjson i "${ino//[^0-9]/}" '[.entries[] | select(.type == "PIPE")] | length == 1 and .[0].pipe.pipe_id == $i'
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	local last
	last=$(tail -n1 "$W/out1" | awk '{print $2}')
	runc delete "$CTR"
	# not through `run`: its capture pipe would become the restored container's stdout
	runc --criu "$CRIU4" restore -d --bundle "$BUNDLE" --image-path "$W/img" --work-path "$W/work" "$CTR" > >(exec 3>&- && cat >>"$W/out2") 2>&1 </dev/null 3>&-
	grep -qF "Found id $ino" "$W/work/restore.log"
	# the next line on the new pipe is the one after the last on the old pipe
	retry 100 0.1 grep -q '^out ' "$W/out2"
	[ "$(head -n1 "$W/out2")" = "out $((last + 1))" ]
}

MEM_LOOP='sleep 1000 & s=$(head -c 110000 /dev/urandom | base64 | tr -d "\n"); h=$(echo "$s" | md5sum); i=0
	while :; do [ "$(echo "$s" | md5sum)" = "$h" ] && r=OK || r=BAD; i=$((i+1)); echo "$i $r" >/tmp/s.new; mv /tmp/s.new /tmp/status; echo $i > /tmp/n; sleep 0.05; done'

# front_end: build/criu's swrk behind `runc --criu`, with the real CRIU 4.2 as criu.real for RESTORE.
front_end() {
	mkdir -p "$W/bin"
	ln -sf "$CKPT" "$W/bin/criu"
	ln -sf "$CRIU4" "$W/bin/criu.real"
	export CKPT_CRIU_CONF="$W/no-criu.conf"
	FE="$W/bin/criu"
}

run_mem_container() {
	jq --arg c "$MEM_LOOP" '.process.terminal = false | .root.readonly = false |
		.process.args = ["/bin/sh", "-c", $c]' "$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	runc run -d --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	retry 100 0.1 grep -q OK "$BUNDLE/rootfs/tmp/status"
}

status_ok() {
	grep -qE '^[0-9]+ OK$' "$BUNDLE/rootfs/tmp/status"
}

# fe_checkpoint NAME [ARGS...]: runc checkpoint through the front-end into $W/img/NAME; a
# zombie race (a `sleep` child exiting while the tree is stopped) is retried, at most 3 times.
fe_checkpoint() {
	local name=$1 i
	shift
	for i in 1 2 3; do
		rm -rf "$W/img/$name" "$W/work-$name"
		run runc --criu "$FE" checkpoint --image-path "$W/img/$name" --work-path "$W/work-$name" "$@" "$CTR"
		[ "$status" = 0 ] && return 0
		grep -q "a zombie now" "$W/work-$name/dump.log" 2>/dev/null || break
	done
	cat "$W/work-$name/dump.log" >&2 || true
	fail "runc checkpoint $name failed: $output"
}

@test "runc --criu build/criu: two pre-dumps, the final checkpoint by ckpt on that chain (NOTIFY sequence, stats-dump), restore by CRIU 4.2: resumes, counter continues, memory check passes" {
	front_end
	run_mem_container
	fe_checkpoint pre1 --pre-dump
	fe_checkpoint pre2 --pre-dump --parent-path ../pre1
	fe_checkpoint final --parent-path ../pre2
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log"
	# the NOTIFY sequence runc expects, in order (its netns is dropped: network-lock)
	[ "$(grep -o 'notify [a-z-]*' "$W/work-final/dump.log" | tr '\n' ' ')" = "notify pre-dump notify network-lock notify post-dump " ]
	# runc's own descriptors.json is kept, and the memory is the last layer of the chain
	[ "$(cat "$W/img/final/descriptors.json")" = '["/dev/null","/dev/null","/dev/null"]' ]
	[ "$(readlink "$W/img/final/parent")" = ../pre2 ] || [ "$(readlink "$W/img/final/parent")" = "$W/img/pre2" ]
	run -0 crit decode -i "$W/img/final/pagemap-1.img"
	echo "$output" | jq -e '[.entries[1:][] | select(.flags == 1)] | length > 0'
	# stats-dump in the work dir with the real frozen time
	run -0 crit decode -i "$W/work-final/stats-dump"
	echo "$output" | jq -e '.entries[0].dump.frozen_time > 0'
	run ! runc state "$CTR"
	local n0
	n0=$(counter)
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	retry 100 0.1 counter_above "$((n0 + 2))"
	[ "$(counter)" -lt $((n0 + 400)) ]
	status_ok
	sleeper "$(runc state "$CTR" | jq .pid)" >/dev/null
}

@test "runc --criu build/criu: --leave-running final dump, more pre-dumps, a second final dump; both restore (the second as a re-dump of a restored container)" {
	front_end
	run_mem_container
	fe_checkpoint pre1 --pre-dump
	fe_checkpoint final1 --parent-path ../pre1 --leave-running
	grep -q "notify network-unlock" "$W/work-final1/dump.log"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	untraced "$CPID"
	local n
	n=$(counter)
	retry 100 0.1 counter_above "$n"
	fe_checkpoint pre2 --pre-dump --parent-path ../final1
	fe_checkpoint final2 --parent-path ../pre2
	run ! runc state "$CTR"
	local n0
	n0=$(counter)
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final2" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	retry 100 0.1 counter_above "$((n0 + 2))"
	status_ok
	# re-dump of the restored container (its own time namespace now) and a second restore
	fe_checkpoint final3
	grep -q "DUMP of container pid .* by ckpt's own final dump" "$W/work-final3/dump.log"
	[ -e "$W/img/final3/timens-13.img" ] && [ ! -e "$W/img/final3/timens-0.img" ]
	n0=$(counter)
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final3" --work-path "$W/workr3" "$CTR" </dev/null 3>&-
	retry 100 0.1 counter_above "$((n0 + 2))"
	status_ok
}

@test "a paused container: ckpt dump refuses it up front (it stays paused, untraced); through the front-end its DUMP goes to CRIU 4.2 with the reason logged, and restores" {
	front_end
	run_container
	retry 100 0.1 counter_at_least 3
	runc pause "$CTR"
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net -D "$W/img/cli"
	assert_output --partial "the container is paused"
	[ "$(runc state "$CTR" | jq -r .status)" = paused ]
	untraced "$CPID"
	[ ! -e "$W/img/cli" ]
	fe_checkpoint final
	grep -q "DUMP handed to .*: a container ckpt does not dump itself: ckpt's check refuses it: .*the container is paused" "$W/work-final/ckpt-front-end.log"
	grep -q "Dumping finished successfully" "$W/work-final/dump.log"
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	local n0
	n0=$(counter)
	retry 100 0.1 counter_above "$n0"
}
