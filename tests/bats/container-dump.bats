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
load ctr-helpers

setup() {
	ctr_setup sh sleep cat
	CTR="ctdump-$$-$BATS_TEST_NUMBER"
}

teardown() {
	[ -v CTR ] || return 0
	runc delete -f "$CTR" >/dev/null 2>&1 || true
	[ ! -v NETNS ] || ip netns del "$NETNS" 2>/dev/null || true
}

LOOP='sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done'
PIPE_LOOP='sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /tmp/n; echo "out $i"; sleep 0.1; done'
# Appends its counter to a file of its tmpfs (/dev/shm) without pause, on its stdout (any
# redirect per round, even >&3, makes ash dup fds to and fro, which the check of the running
# tree may catch changing).  The file holds 1, 2, ..., i: a tar taken while the
# shell runs on (neither frozen nor killed) holds more lines than the dumped memory's i, and
# the restored shell's next lines repeat numbers.
SHM_LOOP='i=0; exec >>/dev/shm/n; while :; do i=$((i+1)); echo $i; done'

# run_container [REDIRECT]: the variant-B container, detached; sets CPID.  With "hostfile",
# stdout goes to a file of the host (outside the container's mount namespace); with "pipe",
# stdout and stderr are a pipe read by a cat outside, which appends to $W/out1.
run_container() {
	local loop=$LOOP
	[ "${1:-}" = pipe ] && loop=$PIPE_LOOP
	[ "${1:-}" = shm ] && loop=$SHM_LOOP
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

# ctr_dump [ARGS...]: ckpt's dump of the container, as runc would ask for it, into $W/img.
ctr_dump() {
	local i
	ext_mnts
	for i in 1 2 3; do
		rm -rf "$W/img"
		ckpt_run dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --manage-cgroups \
			--descriptors "${EXT[@]}" -D "$W/img" -o "$W/dump.log" "$@"
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
	runs_on
	[ ! -e "$W/img/inventory.img" ]
}

@test "ckpt dump of a runc container with a user namespace of its own: refused in the whole list (its cgroup namespace is not); the container keeps running untouched" {
	jq '.linux.namespaces += [{type: "user"}, {type: "cgroup"}] |
		.linux.uidMappings = [{containerID: 0, hostID: 0, size: 65536}] |
		.linux.gidMappings = [{containerID: 0, hostID: 0, size: 65536}]' \
		"$BUNDLE/config.json" >"$BUNDLE/c.new"
	mv "$BUNDLE/c.new" "$BUNDLE/config.json"
	run_container
	retry 100 0.1 counter_at_least 3
	[ "$(readlink "/proc/$CPID/ns/user")" != "$(readlink /proc/self/ns/user)" ]
	ext_mnts
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --manage-cgroups "${EXT[@]}" -D "$W/img"
	assert_output --partial "user namespace of its own (not supported)"
	refute_output --partial "cgroup namespace"
	runs_on
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
	# stats-dump in the work dir (Podman's --print-stats): the figures of this dump's log
	local log="$W/work-final/dump.log" frozen freezing written
	frozen=$(grep "tree killed after" "$log" | tail -n1 | sed 's/.*after \([0-9]*\) us.*/\1/')
	freezing=$(grep "froze .* tasks .* in " "$log" | tail -n1 | sed 's/.* in \([0-9]*\) us.*/\1/')
	written=$(grep "^.* layer .*: [0-9]* pages written" "$log" | sed 's/.*: \([0-9]*\) pages written.*/\1/')
	run -0 crit decode -i "$W/work-final/stats-dump"
	echo "$output" | jq -e --argjson f "$frozen" --argjson z "$freezing" --argjson w "$written" '.entries[0].dump |
		.frozen_time == $f and .freezing_time == $z and .pages_written == $w and
		.pages_written + .pages_skipped_parent == .pages_scanned and .memdump_time > 0 and
		.memwrite_time > 0 and .pages_lazy == 0'
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

# cgns_in PID: /proc/PID/cgroup as PID sees it (its cgroup namespace's view)
cgns_in() {
	nsenter -t "$1" -C cat "/proc/$1/cgroup"
}

@test "runc --criu build/criu: a container with a cgroup namespace of its own: pre-dumps and ckpt's own final dump (cgns_prefix in cgroup.img), restored by CRIU 4.2 into a cgroup namespace rooted at its cgroups again" {
	jq '.linux.namespaces += [{type: "cgroup"}]' "$BUNDLE/config.json" >"$BUNDLE/c.new"
	mv "$BUNDLE/c.new" "$BUNDLE/config.json"
	front_end
	run_mem_container
	[ "$(readlink "/proc/$CPID/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ]
	# inside: every hierarchy at its root; outside: the container's cgroups
	cgns_in "$CPID" | awk -F: '$3 != "/" { exit 1 }'
	grep -q ":/$CTR\$" "/proc/$CPID/cgroup"
	fe_checkpoint pre1 --pre-dump
	fe_checkpoint final --parent-path ../pre1
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log"
	# each member's cgns_prefix is the length of its path's namespace root (the whole path here)
	run -0 "$CKPT" show "$W/img/final/cgroup.img"
	echo "$output" | jq -e '[.entries[0].sets[0].ctls[] | .cgns_prefix == (.path | length)] | all and length > 1'
	run -0 "$CKPT" show "$W/img/final/ids-1.img"
	local cgns_id
	cgns_id=$(echo "$output" | jq '.entries[0].cgroup_ns_id')
	run -0 "$CKPT" show "$W/img/final/inventory.img"
	echo "$output" | jq -e --argjson c "$cgns_id" '.entries[0].root_ids.cgroup_ns_id != $c'
	# the cgroup mounts inside are written from the namespace's view: root /
	run -0 crit decode -i "$W/img/final/mountpoints-13.img"
	echo "$output" | jq -e '[.entries[] | select(.fstype == 12) | .root == "/"] | all and length > 0'
	local n0
	n0=$(counter)
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	local rpid
	rpid=$(runc state "$CTR" | jq .pid)
	retry 100 0.1 counter_above "$((n0 + 2))"
	status_ok
	[ "$(readlink "/proc/$rpid/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ]
	cgns_in "$rpid" | awk -F: '$3 != "/" { exit 1 }'
	grep -q ":/$CTR\$" "/proc/$rpid/cgroup"
}

@test "ckpt dump of a container with a cgroup namespace of its own, without --manage-cgroups: refused (cgroup.img holds its root), the container runs on" {
	jq '.linux.namespaces += [{type: "cgroup"}]' "$BUNDLE/config.json" >"$BUNDLE/c.new"
	mv "$BUNDLE/c.new" "$BUNDLE/config.json"
	run_container
	retry 100 0.1 counter_at_least 3
	ext_mnts
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --descriptors "${EXT[@]}" -D "$W/img"
	assert_output --partial "cgroup namespace of its own: ckpt writes one only with --manage-cgroups"
	runs_on
	[ ! -e "$W/img/inventory.img" ]
}

@test "a runc container joined to a network namespace by path (ip netns): runc sends external net[INO]:extRootNetNS; two pre-dumps and ckpt's own final dump (netns image with that key), runc restore by CRIU 4.2 joins the same namespace, memory check passes" {
	front_end
	NETNS="ckpt-$$-$BATS_TEST_NUMBER"
	ip netns add "$NETNS"
	jq --arg p "/var/run/netns/$NETNS" '(.linux.namespaces[] | select(.type == "network")) |= (.path = $p)' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	run_mem_container
	local ino n0 img
	ino=$(stat -L -c %i "/var/run/netns/$NETNS")
	[ "$(stat -L -c %i "/proc/$CPID/ns/net")" = "$ino" ]
	fe_checkpoint pre1 --pre-dump
	fe_checkpoint pre2 --pre-dump --parent-path ../pre1
	fe_checkpoint final --parent-path ../pre2
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log" ||
		fail "not ckpt's dump: $(grep -i "front-end" "$W/work-final/dump.log")"
	grep -q "net namespace $ino is external: netns-[0-9]*.img holds its key extRootNetNS" "$W/work-final/dump.log"
	img=$(ls "$W/img/final"/netns-*.img)
	run -0 crit decode -i "$img"
	echo "$output" | jq -e '.entries[0].ext_key == "extRootNetNS"'
	n0=$(counter)
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	CPID=$(runc state "$CTR" | jq .pid)
	[ "$(stat -L -c %i "/proc/$CPID/ns/net")" = "$ino" ]
	retry 100 0.1 counter_above "$((n0 + 2))"
	status_ok
}

@test "ckpt dump --external: only net[INODE]:KEY is taken; a netns other than the one named external is refused in the list, the container keeps running" {
	run_container
	run -2 "$CKPT" dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --external 'pid[1]:x' -D "$W/img"
	assert_output --partial "ckpt knows only net[INODE]:KEY"
	retry 100 0.1 counter_at_least 3
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --manage-cgroups \
		--external 'net[1]:extRootNetNS' -D "$W/img"
	assert_output --partial "net namespace $(stat -L -c %i "/proc/$CPID/ns/net") of its own, not the external net[1]"
	runs_on
	[ ! -e "$W/img/inventory.img" ]
}

@test "runc --criu build/criu: --leave-running final dump, more pre-dumps, a second final dump; both restore (the second as a re-dump of a restored container)" {
	front_end
	run_mem_container
	fe_checkpoint pre1 --pre-dump
	fe_checkpoint final1 --parent-path ../pre1 --leave-running
	grep -q "notify network-unlock" "$W/work-final1/dump.log"
	runs_on
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


SC_LOOP='sleep 1000 & i=0; while :; do i=$((i+1)); chmod 600 /tmp/n 2>/dev/null && r=ALLOWED || r=FILTERED
	echo "$i $r" >/tmp/s.new; mv /tmp/s.new /tmp/status; echo $i > /tmp/n; sleep 0.1; done'

# seccomp_of PID: "MODE FILTERS" of /proc/PID/status.
seccomp_of() {
	awk '/^Seccomp:/ {m = $2} /^Seccomp_filters:/ {n = $2} END {print m, n}' "/proc/$1/status"
}

@test "runc --criu build/criu: a container with a seccomp profile in config.json (chmod -> EPERM): final dump by ckpt after two pre-dumps, restored by CRIU 4.2 still filtered" {
	local c
	for c in chmod mv; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	jq --arg c "$SC_LOOP" '.process.terminal = false | .root.readonly = false |
		.process.args = ["/bin/sh", "-c", $c] |
		.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
			syscalls: [{names: ["chmod", "fchmodat", "fchmodat2"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	runc run -d --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	retry 100 0.1 grep -q FILTERED "$BUNDLE/rootfs/tmp/status"
	local before
	before=$(seccomp_of "$CPID")
	[[ "$before" == "2 "[1-9]* ]]
	front_end
	fe_checkpoint pre1 --pre-dump
	fe_checkpoint pre2 --pre-dump --parent-path ../pre1
	fe_checkpoint final --parent-path ../pre2
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log"
	run -0 crit decode -i "$W/img/final/seccomp.img"
	echo "$output" | jq -e '.entries[0].seccomp_filters | length > 0'
	run -0 crit decode -i "$W/img/final/core-1.img"
	echo "$output" | jq -e '.entries[0].thread_core.seccomp_mode == "filter"'
	run ! runc state "$CTR"
	local n0 rpid
	n0=$(counter)
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	rpid=$(runc state "$CTR" | jq .pid)
	retry 100 0.1 counter_above "$((n0 + 2))"
	# the restored shell is under the same filters, and chmod is still refused
	[ "$(seccomp_of "$rpid")" = "$before" ]
	local i r
	read -r i r <"$BUNDLE/rootfs/tmp/status"
	[ "$i" -gt "$n0" ] && [ "$r" = FILTERED ]
}

# shm_of PID: the last counter in the container's /dev/shm/n (0 when not there yet)
shm_of() {
	local n
	n=$(tail -n1 "/proc/$1/root/dev/shm/n" 2>/dev/null)
	echo "${n:-0}"
}

# shm_above PID N
shm_above() {
	[ "$(shm_of "$1")" -gt "$2" ]
}

# in_step FILE: the lines are 1, 2, 3, ... (fails naming the first one out of step)
in_step() {
	awk 'NR != $1 {print "line " NR " is " $0 >"/dev/stderr"; bad = 1; exit} END {exit bad}' "$1"
}

# shm_in_image: the last counter of the dumped /dev/shm/n (the tar that holds ./n), whose
# lines are checked in step
shm_in_image() {
	local t
	for t in "$W"/img/tmpfs-dev-*.tar.gz.img; do
		if tar -xzOf "$t" ./n >"$W/n.dumped" 2>/dev/null; then
			in_step "$W/n.dumped" || return 1
			tail -n1 "$W/n.dumped"
			return 0
		fi
	done
	return 1
}

# restore_shm N0: delete the dumped container, restore it by runc + CRIU 4.2; its shell goes
# on from the dumped counter, and the file it appends to stays in step with its memory
restore_shm() {
	runc delete -f "$CTR"
	run -0 runc --criu "$CRIU4" restore -d --bundle "$BUNDLE" --image-path "$W/img" --work-path "$W/work" "$CTR" </dev/null 3>&-
	local rpid
	rpid=$(runc state "$CTR" | jq .pid)
	retry 200 0.05 shm_above "$rpid" $(($1 + 2000))
	# stopped, so that no line is half written while it is read
	runc pause "$CTR"
	cp "/proc/$rpid/root/dev/shm/n" "$W/n.restored"
	runc resume "$CTR"
	in_step "$W/n.restored" || fail "the restored tmpfs is not the one of the dumped memory"
}

@test "a container writing its tmpfs without pause: tars after the kill (from the clones held while frozen), restored by CRIU 4.2, its tmpfs agrees with its memory" {
	run_container shm
	retry 200 0.05 shm_above "$CPID" 2000
	ctr_dump
	# the order in the log: the tree is killed, then the tars are written
	local killed tars
	killed=$(grep -n "tree killed after" "$W/dump.log" | cut -d: -f1)
	tars=$(grep -n "tmpfs tars written" "$W/dump.log" | cut -d: -f1)
	[ -n "$killed" ] && [ -n "$tars" ] && [ "$killed" -lt "$tars" ]
	grep -q "after the kill: .* tmpfs tars [0-9]* us" "$W/dump.log"
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	local n0
	n0=$(shm_in_image)
	[ "$n0" -gt 2000 ]
	restore_shm "$n0"
}

@test "--leave-running: the tmpfs tars stay inside the freeze (the container writes on after the thaw); the dump restores with tmpfs and memory in step" {
	run_container shm
	retry 200 0.05 shm_above "$CPID" 2000
	ctr_dump --leave-running
	grep -q "namespaces and tars: the tree lives on" "$W/dump.log"
	untraced "$CPID"
	local n0
	n0=$(shm_in_image)
	# it runs on, and its tmpfs moves past what was dumped
	retry 200 0.05 shm_above "$CPID" $((n0 + 2000))
	restore_shm "$n0"
}

@test "a tmpfs tar failing after the kill (fault tmpfs-tar): a clear error, no committed image, no half image directory" {
	run_container shm
	retry 200 0.05 shm_above "$CPID" 100
	ext_mnts
	CK_FAULT=tmpfs-tar ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net \
		--manage-cgroups --descriptors "${EXT[@]}" -D "$W/img" -o "$W/dump.log"
	assert_output --partial "fault injected at tmpfs-tar"
	assert_output --partial "after the tree was killed (the layer is not complete)"
	# the documented trade-off (docs/reliability.md): the tree is gone, and so is the layer
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	[ ! -e "$W/img/inventory.img" ]
	run -0 find "$W" -maxdepth 1 -name "*ckpt-tmp*"
	[ -z "$output" ]
	if [ -d "$W/img" ]; then
		run -0 ls -A "$W/img"
		[ -z "$output" ]
	fi
}

@test "no room for the tmpfs tars after the kill: refused while frozen, the container resumes untouched" {
	ln -s busybox "$BUNDLE/rootfs/bin/dd"
	LOOP='dd if=/dev/zero of=/dev/shm/big bs=1M count=6 2>/dev/null; i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done'
	run_container
	retry 100 0.1 counter_at_least 3
	mkdir -p "$W/small"
	mount -t tmpfs -o size=6m tmpfs "$W/small"
	ext_mnts
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --manage-cgroups \
		--descriptors "${EXT[@]}" -D "$W/small/img" -o "$W/dump.log"
	umount "$W/small"
	assert_output --partial "before the kill"
	assert_output --partial "images written after the kill (tmpfs tars, the per-task and small images) may need"
	runs_on
}

# cg_prop NAME: the value of cgroup property NAME in $W/img/cgroup.img
cg_prop() {
	"$CKPT" show "$W/img/cgroup.img" | jq -r --arg n "$1" \
		'[.entries[0].controllers[].dirs[].properties[] | select(.name == $n)][0].value'
}

@test "cgroup.img: the files read before the freeze carry the dump's values (a limit changed by the host just before); with CAP_SYS_ADMIN in the bounding set they are read while frozen" {
	jq '.linux.resources.memory.limit = 67108864' "$BUNDLE/config.json" >"$BUNDLE/c.new"
	mv "$BUNDLE/c.new" "$BUNDLE/config.json"
	run_container
	retry 100 0.1 counter_at_least 3
	runc update --memory 50331648 "$CTR"
	ctr_dump
	grep -q "cgroup.img: [0-9]* property files from the read before the freeze" "$W/dump.log"
	[ "$(cg_prop memory.limit_in_bytes)" = 50331648 ]
	[ "$(cg_prop freezer.state)" = THAWED ]
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	runc delete -f "$CTR"

	# a task that may remount the cgroup files writable: nothing from before the freeze
	jq '.process.capabilities.bounding += ["CAP_SYS_ADMIN"]' "$BUNDLE/config.json" >"$BUNDLE/c.new"
	mv "$BUNDLE/c.new" "$BUNDLE/config.json"
	run_container
	retry 100 0.1 counter_at_least 3
	ctr_dump
	grep -q "cgroup.img: every property read while frozen (a task may have CAP_SYS_ADMIN)" "$W/dump.log"
	[ "$(cg_prop memory.limit_in_bytes)" = 67108864 ]
}

# dump_stopped_at_pre_read CMD...: ckpt dump of the container stopped right after its read
# before the freeze (fault pre-read:stop); CMD runs then (the container changes), then the
# dump goes on.  Sets status and $W/dump.err.
dump_stopped_at_pre_read() {
	local log="$W/dump.err" pid
	ext_mnts
	rm -rf "$W/img"
	CK_FAULT=pre-read:stop "$CKPT" dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net \
		--manage-cgroups --descriptors "${EXT[@]}" -D "$W/img" -o "$W/dump.log" >/dev/null 2>"$log" 3>&- &
	pid=$!
	retry 200 0.02 grep -q "stopped at pre-read" "$log" || fail "ckpt did not stop: $(cat "$log")"
	# it prints, then stops itself: a SIGCONT before the stop would be lost
	retry 200 0.02 grep -qE '^State:\s+T' "/proc/$pid/status" || fail "ckpt did not stop"
	"$@"
	kill -CONT "$pid"
	status=0
	wait "$pid" || status=$?
	cat "$log" >&2
}

@test "the mount tree read before the freeze: kept when mountinfo reads the same once frozen; a mount added in between, or a message queue created, is seen" {
	mkdir -p "$BUNDLE/rootfs/mnt"
	ln -s busybox "$BUNDLE/rootfs/bin/mount"
	run_container
	retry 100 0.1 counter_at_least 3
	dump_stopped_at_pre_read true
	[ "$status" = 0 ]
	grep -q "mount tree: as read before the freeze (mountinfo unchanged)" "$W/dump.log"
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	runc delete -f "$CTR"

	run_container
	retry 100 0.1 counter_at_least 3
	dump_stopped_at_pre_read nsenter -t "$CPID" -m /bin/mount -t tmpfs -o size=1m tmpfs /mnt
	[ "$status" = 0 ]
	grep -q "mount tree: read while frozen" "$W/dump.log"
	run -0 "$CKPT" show "$W/img/mountpoints-13.img"
	echo "$output" | jq -e 'any(.entries[]; .mountpoint == "/mnt" or .mountpoint == "./mnt")'
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	runc delete -f "$CTR"

	# the same mount tree, but an entry in /dev/mqueue since the read: refused, still running
	run_container
	retry 100 0.1 counter_at_least 3
	dump_stopped_at_pre_read touch "/proc/$CPID/root/dev/mqueue/q1"
	[ "$status" = 1 ]
	grep -q "/dev/mqueue: mqueue is not empty" "$W/dump.err"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	untraced "$CPID"
}

@test "--leave-running with a tmpfs tar failing in the freeze (fault tmpfs-tar:fail:2, the second tar): a clear error, no image, the container resumes" {
	run_container
	retry 100 0.1 counter_at_least 3
	ext_mnts
	CK_FAULT=tmpfs-tar:fail:2 ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net \
		--manage-cgroups --descriptors "${EXT[@]}" -D "$W/img" --leave-running
	assert_output --partial "fault injected at tmpfs-tar"
	refute_output --partial "after the tree was killed"
	runs_on
	[ ! -e "$W/img/inventory.img" ]
	run -0 find "$W" -maxdepth 1 -name "*ckpt-tmp*"
	[ -z "$output" ]
}
