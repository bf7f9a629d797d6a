# shellcheck shell=bash
# Shared by the runc container suites (container-dump.bats, container-tty.bats,
# container-paused.bats, container-agent.bats): a busybox bundle, the front-end behind
# `runc --criu`, a checkpoint through it, runc's ext_mnt list and the loop's counter.  They use
# the suite's $W (work dir), $CTR (container name), $CPID (its init) and $BUNDLE.  Load after
# helpers.bash.

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

# ctr_setup APPLET...: a runc suite's setup: root, runc and CRIU 4.2 required; $W (the test's
# tmpdir) with img/, bin/ and work/; $BUNDLE, a busybox bundle with APPLETs.
ctr_setup() {
	requires root runc criu4
	W="$BATS_TEST_TMPDIR"
	BUNDLE="$W/bundle"
	mkdir -p "$W/img" "$W/bin" "$W/work"
	busybox_bundle "$BUNDLE" "$@"
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

# front_end: build/criu's swrk behind `runc --criu`, with the real CRIU 4.2 as criu.real for RESTORE.
front_end() {
	mkdir -p "$W/bin"
	ln -sf "$CKPT" "$W/bin/criu"
	ln -sf "$CRIU4" "$W/bin/criu.real"
	export CKPT_CRIU_CONF="$W/no-criu.conf"
	FE="$W/bin/criu"
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

# counter: the loop's last value; `echo $i > /tmp/n` truncates first, so an empty read (the
# loop between truncate and write) is read again.
counter() {
	local n='' k
	for k in 1 2 3 4 5; do
		n=$(cat "$BUNDLE/rootfs/tmp/n" 2>/dev/null) || true
		[ -z "$n" ] || break
		sleep 0.02
	done
	echo "${n:-0}"
}

# counter_at_least N
counter_at_least() {
	[ "$(counter)" -ge "$1" ]
}

# counter_above N
counter_above() {
	[ "$(counter)" -gt "$1" ]
}

# runs_on: the container is running, untraced, and its counter moves
runs_on() {
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	untraced "$CPID"
	local n
	n=$(counter)
	retry 100 0.1 counter_above "$n"
}
