# shellcheck shell=bash
# Shared by the runc container suites (container-dump.bats, container-tty.bats): the front-end
# behind `runc --criu`, a checkpoint through it, and runc's ext_mnt list.  They use the suite's
# $W (work dir), $CTR (container name) and $CPID (its init).

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
