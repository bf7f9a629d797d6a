# shellcheck shell=bash
# runc container suites (container-dump.bats, container-paused.bats, container-agent.bats): a
# busybox bundle and the --ext-mnt list runc sends.  Load after helpers.bash.

# busybox_bundle DIR APPLET...: DIR/rootfs with busybox and links for the applets, and
# runc's default config.json in DIR.
busybox_bundle() {
	local b=$1 c
	shift
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp"
	cp /bin/busybox "$b/rootfs/bin/"
	for c in "$@"; do ln -s busybox "$b/rootfs/bin/$c"; done
	(cd "$b" && runc spec)
}

# ext_mnts: the --ext-mnt list runc's DUMP sends for the container of $CPID (container-dump.md
# 1.3), into EXT: every cgroup v1 bind keyed by its mount point, the masked /proc files by
# /dev/null.
ext_mnts() {
	local mp fs
	EXT=()
	while read -r mp fs; do
		[ "$fs" != cgroup ] || EXT+=(--ext-mnt "$mp:$mp")
		case "$mp" in /proc/keys | /proc/timer_list) EXT+=(--ext-mnt "$mp:/dev/null") ;; esac
	done < <(awk '{for (i = 7; $i != "-"; i++); print $5, $(i + 1)}' "/proc/$CPID/mountinfo")
}

# counter: the value the container's loop last wrote to /tmp/n (0 before the first).
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
