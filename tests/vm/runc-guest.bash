# shellcheck shell=bash
# runc 1.1.5 inside the VM lane's guest, for tests/vm/container-criu317.bats.
# The guest's /init mounts no cgroups (most suites need none, and every mount
# costs boot time), so this file mounts the cgroup v1 layout of the machine's
# own host (a tmpfs on /sys/fs/cgroup, one hierarchy per controller, plus
# name=systemd) for one suite and takes it down again, so that a later suite
# can still mount cgroup2 there (rpc-softdirty.bats does).  runc's default
# --root, /run/runc, is already writable: /run is a tmpfs in the guest.

# The hierarchies as on the machine (lane 1): runc joins every one it finds in
# /proc/self/cgroup; cpu and cpuacct are separate there, so they are here too.
GUEST_CG_CTRLS=(cpu cpuacct cpuset memory devices freezer blkio pids name=systemd)

# guest_cgroups_mount: mount the v1 layout; records what it mounted in
# $BATS_FILE_TMPDIR/cg-mounts (in mount order) for guest_cgroups_umount.
guest_cgroups_mount() {
	local c dir rec="$BATS_FILE_TMPDIR/cg-mounts"
	: >"$rec"
	if [ "$(stat -f -c %T /sys/fs/cgroup)" != tmpfs ]; then
		mount -t tmpfs -o mode=0755 cgroup_root /sys/fs/cgroup || return 1
		echo /sys/fs/cgroup >>"$rec"
	fi
	for c in "${GUEST_CG_CTRLS[@]}"; do
		dir=/sys/fs/cgroup/${c#name=}
		findmnt -n "$dir" >/dev/null && continue
		mkdir -p "$dir"
		# a named hierarchy without a controller needs "none"
		mount -t cgroup -o "${c/#name=/none,name=}" cgroup "$dir" || return 1
		echo "$dir" >>"$rec"
	done
}

# guest_cgroups_umount: undo guest_cgroups_mount, last mount first.  A v1
# hierarchy whose cgroups are all gone is released by its umount, which frees
# its controllers for a cgroup2 mount by a later suite.
guest_cgroups_umount() {
	local rec="$BATS_FILE_TMPDIR/cg-mounts" dir
	[ -s "$rec" ] || return 0
	tac "$rec" | while read -r dir; do
		umount "$dir" || umount -l "$dir" || true
	done
	: >"$rec"
}

# guest_bundle DIR SCRIPT: a runc bundle in DIR (its rootfs on the guest's
# tmpfs) running `/bin/sh -c SCRIPT` with stdio on /dev/null and no tty.  The
# rootfs holds busybox-static with the applets SCRIPT may use, and the lane's
# dynamically linked vm-roundtrip victim with the two libraries it needs.
guest_bundle() {
	local dir=$1 script=$2 c lib
	mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp"
	cp /bin/busybox "$dir/rootfs/bin/"
	for c in sh sleep cat echo mv cmp; do ln -s busybox "$dir/rootfs/bin/$c"; done
	cp "$VICTIMS/vm-roundtrip" "$dir/rootfs/bin/"
	for lib in $(ldd "$VICTIMS/vm-roundtrip" | awk '$1 ~ /^\// {print $1} $3 ~ /^\// {print $3}'); do
		mkdir -p "$dir/rootfs${lib%/*}"
		cp "$lib" "$dir/rootfs$lib"
	done
	(cd "$dir" && runc spec) || return 1
	jq --arg c "$script" '.process.terminal = false | .root.readonly = false |
		.process.args = ["/bin/sh", "-c", $c]' "$dir/config.json" >"$dir/config.new" &&
		mv "$dir/config.new" "$dir/config.json"
}

# guest_ext_mnts PID CONFIG: sets EXT to the --ext-mnt options runc's DUMP
# sends for the container whose init is PID and whose config.json is CONFIG
# (container-dump.md 1.3): every cgroup v1 bind keyed by its mount point, and,
# as runc's addMaskPaths, each masked path that exists as a non-directory in
# the container keyed by /dev/null (on 6.1 that includes /proc/kcore).
guest_ext_mnts() {
	local mp fs
	EXT=()
	while read -r mp fs; do
		[ "$fs" != cgroup ] || EXT+=(--ext-mnt "$mp:$mp")
	done < <(awk '{for (i = 7; $i != "-"; i++); print $5, $(i + 1)}' "/proc/$1/mountinfo")
	while read -r mp; do
		[ -e "/proc/$1/root$mp" ] && [ ! -d "/proc/$1/root$mp" ] && EXT+=(--ext-mnt "$mp:/dev/null")
	done < <(jq -r '.linux.maskedPaths[]' "$2")
	return 0
}
