#!/usr/bin/env bats
# bats file_tags=root
# The mount tree of a runc container's final dump (runtime-glue/dump/dump-mnt.c,
# driven by build/tests/tools/mnt-dump): mountpoints-<id>.img and the tmpfs tars
# compared with CRIU 4.2's own for the same container, then restored by CRIU 4.2
# through runc in place of CRIU's.

load helpers
load podman-helpers

MNTDUMP="$BUILD/tests/tools/mnt-dump"

setup() {
	requires root runc criu4
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	[ -x "$MNTDUMP" ] || fail "build $MNTDUMP first (make test-bins)"
	BUNDLE="$BATS_TEST_TMPDIR/bundle"
	mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/tmp"
	cp /bin/busybox "$BUNDLE/rootfs/bin/"
	local c
	for c in sh sleep cat echo; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	(cd "$BUNDLE" && runc spec)
	CTR="mounts-$$-$BATS_TEST_NUMBER"
}

teardown() {
	if [ -v PODMAN_T ]; then
		podman rm -f -t0 "$CTR" >/dev/null 2>&1 || true
		podman_store_teardown mounts-
	fi
	[ -v CTR ] || return 0
	runc delete -f "$CTR" >/dev/null 2>&1 || true
}

# run_ctr [JQ-FILTER]: the counter loop of container-dump.md, root writable, stdio /dev/null.
run_ctr() {
	local loop='i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done'
	jq --arg c "$loop" '.process.terminal = false | .root.readonly = false
		| .process.args = ["/bin/sh", "-c", $c] | '"${1:-.}" \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	runc run -d --bundle "$BUNDLE" "$CTR" </dev/null >/dev/null 2>&1 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	[ "$CPID" -gt 0 ]
}

counter() { cat "$BUNDLE/rootfs/tmp/n" 2>/dev/null || echo 0; }
counter_at_least() { [ "$(counter)" -ge "$1" ]; }
counter_moves_from() { [ "$(counter)" != "$1" ]; }

# ext_args [CONFIG]: the ext_mnt pairs runc 1.1.5 sends on DUMP (container-dump.md §1.3) as
# mnt-dump --ext options: bind mounts (dest=dest), cgroup v1 binds (dest=dest), masked
# paths that exist and are not directories (dest=/dev/null), the default device nodes.
ext_args() {
	local p
	local cfg=${1:-$BUNDLE/config.json}
	EXT=()
	while read -r p; do EXT+=(--ext "$p=$p"); done < <(jq -r '.mounts[] | select(.type == "bind") | .destination' "$cfg")
	while read -r p; do EXT+=(--ext "$p=$p"); done < <(awk '$9 == "cgroup" {print $5}' "/proc/$CPID/mountinfo")
	while read -r p; do
		if [ -e "/proc/$CPID/root$p" ] && [ ! -d "/proc/$CPID/root$p" ]; then EXT+=(--ext "$p=/dev/null"); fi
	done < <(jq -r '.linux.maskedPaths[]' "$cfg")
	for p in null random full tty zero urandom; do EXT+=(--ext "/dev/$p=/dev/$p"); done
}

# criu_dump DIR: CRIU 4.2's own dump of the running container (left running).
criu_dump() {
	runc --criu "$CRIU4" checkpoint --leave-running --image-path "$1" --work-path "$1.work" "$CTR" ||
		fail "runc checkpoint with CRIU 4.2 failed: $(tail -n 5 "$1.work/dump.log")"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	NSID=$(cd "$1" && ls mountpoints-*.img | sed 's/mountpoints-\([0-9]*\)\.img/\1/')
	[ -n "$NSID" ]
}

# entries FILE: the decoded entries with kernel ids replaced by mount points (ids may
# differ between dumps; the tree they describe must not), sorted by mount point.
entries() {
	"$CKPT" show "$1" | jq -S '.entries as $e
		| ($e | map({key: (.mnt_id | tostring), value: .mountpoint}) | from_entries) as $mp
		| $e | map(.parent = ($mp[.parent_mnt_id | tostring] // "outside") | del(.mnt_id, .parent_mnt_id))
		| sort_by(.mountpoint)'
}

# tar_list FILE: the members of a tmpfs tar with type, mode, owner and device numbers.
tar_list() { tar --list --verbose --gzip --numeric-owner -f "$1" | awk '{print $1, $2, $3, $NF}' | sort; }

@test "mountpoints image and tmpfs tars match CRIU 4.2's for a runc busybox container" {
	run_ctr
	retry 100 0.1 counter_at_least 3
	ext_args
	criu_dump "$BATS_TEST_TMPDIR/criu"
	mkdir "$BATS_TEST_TMPDIR/ckpt"
	run -0 "$MNTDUMP" "$CPID" "$BATS_TEST_TMPDIR/ckpt" "$NSID" --root "$BUNDLE/rootfs" "${EXT[@]}"
	local c="$BATS_TEST_TMPDIR/criu" k="$BATS_TEST_TMPDIR/ckpt" f
	entries "$c/mountpoints-$NSID.img" >"$BATS_TEST_TMPDIR/criu.json"
	entries "$k/mountpoints-$NSID.img" >"$BATS_TEST_TMPDIR/ckpt.json"
	# the image really has the runc tree (so the comparison below compares something)
	jq -e 'length >= 20 and ([.[] | select(.fstype == 5)] | length) >= 6
		and ([.[] | select(.ext_key)] | length) >= 9' "$BATS_TEST_TMPDIR/criu.json"
	diff -u "$BATS_TEST_TMPDIR/criu.json" "$BATS_TEST_TMPDIR/ckpt.json"
	# same order as CRIU writes them (children first: mountinfo reversed)
	diff <("$CKPT" show "$c/mountpoints-$NSID.img" | jq -r '.entries[].mountpoint') \
		<("$CKPT" show "$k/mountpoints-$NSID.img" | jq -r '.entries[].mountpoint')
	# the same tmpfs tars, with the same members
	diff <(cd "$c" && ls tmpfs-dev-*) <(cd "$k" && ls tmpfs-dev-*)
	[ "$(cd "$k" && ls tmpfs-dev-* | wc -l)" -eq 5 ]
	for f in "$c"/tmpfs-dev-*; do
		diff <(tar_list "$f") <(tar_list "$k/${f##*/}")
	done
	# /dev's tar holds the device nodes and not the mounts on top of it (pts, shm, mqueue)
	f=$(jq -r '.[] | select(.mountpoint == "/dev") | .root_dev' "$BATS_TEST_TMPDIR/ckpt.json")
	tar_list "$k/tmpfs-dev-$f.tar.gz.img" | grep -q '^crw-rw-rw- 0/0 .* ./null$'
	run -0 tar --list --gzip -f "$k/tmpfs-dev-$f.tar.gz.img"
	refute_output --partial "./pts/ptmx"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
}

@test "CRIU 4.2 restores the container with ckpt's mountpoints image and tmpfs tars" {
	run_ctr
	retry 100 0.1 counter_at_least 30
	runc exec "$CTR" sh -c 'echo before > /dev/shm/mark'
	ext_args
	local img="$BATS_TEST_TMPDIR/img" n0
	n0=$(counter)
	criu_dump "$img"
	# a change after CRIU's dump: only ckpt's tar can carry it
	runc exec "$CTR" sh -c 'echo ckpt > /dev/shm/mark2'
	rm "$img/mountpoints-$NSID.img" "$img"/tmpfs-dev-*.tar.gz.img
	run -0 "$MNTDUMP" "$CPID" "$img" "$NSID" --root "$BUNDLE/rootfs" "${EXT[@]}"
	[ -f "$img/mountpoints-$NSID.img" ]
	runc delete -f "$CTR"
	echo 0 >"$BUNDLE/rootfs/tmp/n"
	(cd "$BUNDLE" && runc --criu "$CRIU4" restore -d --image-path "$img" --work-path "$img.rwork" \
		--bundle "$BUNDLE" "$CTR" </dev/null >/dev/null 2>&1 3>&-) ||
		fail "runc restore with CRIU 4.2 failed: $(tail -n 5 "$img.rwork/restore.log")"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	# the counter continues from the dumped value (the file was reset to 0: not a fresh start)
	retry 100 0.1 counter_at_least "$n0"
	local v
	v=$(counter)
	retry 100 0.1 counter_moves_from "$v"
	run -0 runc exec "$CTR" cat /dev/shm/mark /dev/shm/mark2
	assert_output $'before\nckpt'
	run -0 runc exec "$CTR" cat /proc/self/mountinfo
	assert_output --partial " /dev/mqueue "
	assert_output --partial " /sys/fs/cgroup/freezer "
}

@test "refusals: a bind-mounted host socket, a host directory without ext key and a message queue, all listed; the container keeps running" {
	local sock="$BATS_TEST_TMPDIR/mounts.sock" dir="$BATS_TEST_TMPDIR/hostdir"
	mkdir "$dir"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
	[ -S "$sock" ]
	mkdir -p "$BUNDLE/rootfs/run" "$BUNDLE/rootfs/data"
	touch "$BUNDLE/rootfs/run/host.sock"
	local m
	m=$(jq -nc --arg s "$sock" --arg d "$dir" '[
		{destination: "/run/host.sock", type: "bind", source: $s, options: ["bind"]},
		{destination: "/data", type: "bind", source: $d, options: ["rbind"]}]')
	run_ctr ".mounts += $m"
	retry 100 0.1 counter_at_least 2
	ext_args
	# /data's ext key left out, as if the runtime had not sent it
	local args=() i
	for ((i = 0; i < ${#EXT[@]}; i += 2)); do
		[ "${EXT[i + 1]}" = "/data=/data" ] || args+=("${EXT[i]}" "${EXT[i + 1]}")
	done
	# a POSIX message queue in the container's mqueue (not dumped: refused as CRIU does)
	: >"/proc/$CPID/root/dev/mqueue/mounts-q"
	mkdir "$BATS_TEST_TMPDIR/out"
	run -1 "$MNTDUMP" "$CPID" "$BATS_TEST_TMPDIR/out" 13 --root "$BUNDLE/rootfs" "${args[@]}"
	assert_output --partial "3 mounts cannot be dumped"
	assert_output --partial "/dev/mqueue: mqueue is not empty"
	assert_output --partial "/run/host.sock: a bind mount of the socket"
	assert_output --partial "/data: "
	[ -z "$(ls "$BATS_TEST_TMPDIR/out")" ]
	local v
	v=$(counter)
	retry 100 0.1 counter_moves_from "$v"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
}

@test "without tar on PATH the tmpfs dump fails naming the mount, leaves no tar, and the container keeps running" {
	run_ctr
	retry 100 0.1 counter_at_least 2
	ext_args
	mkdir "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/bin"
	run -1 env PATH="$BATS_TEST_TMPDIR/bin" "$MNTDUMP" "$CPID" "$BATS_TEST_TMPDIR/out" 13 "${EXT[@]}"
	assert_output --partial "tar of tmpfs /"
	assert_output --partial "tar or gzip not found"
	[ -z "$(cd "$BATS_TEST_TMPDIR/out" && ls tmpfs-dev-* 2>/dev/null)" ]
	local v
	v=$(counter)
	retry 100 0.1 counter_moves_from "$v"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	# the container's mounts are as they were (nothing left behind by the clone)
	run -0 awk '{print $5}' "/proc/$CPID/mountinfo"
	[ "${#lines[@]}" -ge 20 ]
	run -0 runc exec "$CTR" sh -c 'echo /dev/pts/*'
	assert_output --partial "ptmx"
}

@test "Podman: ckpt's mountpoints image and tmpfs tars replace CRIU 4.2's in podman container checkpoint; podman restore resumes" {
	command -v podman >/dev/null || skip "test requires podman (CKPT_PODMAN_DEPS=1 tests/install-deps.sh)"
	PODMAN_T="$BATS_TEST_TMPDIR/podman"
	podman_store_setup "$PODMAN_T" mounts-
	# CRIU 4.2 as the criu podman and runc run
	mkdir -p "$PODMAN_T/bin"
	ln -s "$CRIU4" "$PODMAN_T/bin/criu"
	podman run -d --name "$CTR" localhost/mounts-busybox \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done' >/dev/null 3>&-
	CPID=$(podman inspect -f '{{.State.Pid}}' "$CTR")
	local sd n0 f
	sd=$(podman inspect -f '{{.StaticDir}}' "$CTR")
	pcounter() { podman exec "$CTR" cat /tmp/n; }
	pcounter_at_least() { [ "$(pcounter)" -ge "$1" ]; }
	retry 100 0.1 pcounter_at_least 30
	# Podman's tree: overlay-less vfs root, binds of host files, host /dev/shm, masked tmpfs
	ext_args "$sd/config.json"
	podman exec "$CTR" sh -c 'echo ckpt > /dev/mark'
	mkdir "$BATS_TEST_TMPDIR/ckpt"
	run -0 "$MNTDUMP" "$CPID" "$BATS_TEST_TMPDIR/ckpt" 13 "${EXT[@]}"
	# changed after ckpt's dump: CRIU's tar has "criu", ckpt's "ckpt"
	podman exec "$CTR" sh -c 'echo criu > /dev/mark'
	n0=$(pcounter)
	PATH="$PODMAN_T/bin:$PATH" podman container checkpoint --keep "$CTR" >/dev/null
	[ -f "$sd/checkpoint/mountpoints-13.img" ]
	diff <("$CKPT" show "$sd/checkpoint/mountpoints-13.img" | jq -c '.entries[] | del(.mnt_id, .parent_mnt_id)') \
		<("$CKPT" show "$BATS_TEST_TMPDIR/ckpt/mountpoints-13.img" | jq -c '.entries[] | del(.mnt_id, .parent_mnt_id)')
	"$CKPT" show "$sd/checkpoint/mountpoints-13.img" | jq -e '[.entries[] | select(.mountpoint == "/etc/hosts" and .ext_key == "/etc/hosts")] | length == 1'
	diff <(cd "$sd/checkpoint" && ls tmpfs-dev-*) <(cd "$BATS_TEST_TMPDIR/ckpt" && ls tmpfs-dev-*)
	rm "$sd/checkpoint"/tmpfs-dev-*.tar.gz.img "$sd/checkpoint/mountpoints-13.img"
	cp "$BATS_TEST_TMPDIR/ckpt"/* "$sd/checkpoint/"
	PATH="$PODMAN_T/bin:$PATH" podman container restore --keep "$CTR" >/dev/null ||
		fail "podman restore: $(tail -n 5 "$sd/restore.log" 2>/dev/null)"
	[ "$(podman inspect -f '{{.State.Status}}' "$CTR")" = running ]
	retry 100 0.1 pcounter_at_least "$n0"
	local v
	v=$(pcounter)
	retry 100 0.1 pcounter_at_least $((v + 1))
	run -0 podman exec "$CTR" cat /dev/mark
	assert_output ckpt
}
