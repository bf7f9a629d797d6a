# shellcheck shell=bash
# Podman suites (agent-podman.bats, rpc-podman.bats): a store and config of the
# suite's own (shared docs, podman.md: "a store of its own") and a busybox image
# made from busybox-static, so the machine's own Podman state is never touched.
# Load after helpers: `load helpers; load podman-helpers`.

# podman_store_setup DIR PREFIX [HOOKS_DIR]: write DIR/storage.conf and
# DIR/containers.conf (vfs store under DIR, no network, cgroupfs, runc, the
# default_ulimits this machine needs without CAP_SYS_RESOURCE; hooks from
# HOOKS_DIR when given), export them, and import localhost/PREFIXbusybox.
podman_store_setup() {
	local T=$1 prefix=$2 hooks=${3:-} a
	mkdir -p "$T/root" "$T/run" "$T/tmp" "$T"/rootfs/{bin,proc,sys,dev,tmp,etc}
	cat >"$T/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		graphroot = "$T/root"
		runroot = "$T/run"
	EOF
	cat >"$T/containers.conf" <<-EOF
		[containers]
		netns = "none"
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
		log_driver = "k8s-file"

		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$T/events.log"
		runtime = "runc"
		tmp_dir = "$T/tmp"
		static_dir = "$T/root/libpod"
		volume_path = "$T/root/volumes"
		lock_type = "file"
	EOF
	[ -z "$hooks" ] || echo "hooks_dir = [\"$hooks\"]" >>"$T/containers.conf"
	podman_store_env "$T"
	cp /bin/busybox "$T/rootfs/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$T/rootfs/bin/$a" ] || ln -s busybox "$T/rootfs/bin/$a"
	done
	tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
	podman import --change 'CMD ["/bin/sh"]' "$T/rootfs.tar" "localhost/${prefix}busybox:latest" >/dev/null
}

# podman_store_env DIR: point podman at the store podman_store_setup wrote.
podman_store_env() {
	export CONTAINERS_CONF="$1/containers.conf" CONTAINERS_STORAGE_CONF="$1/storage.conf"
}

# podman_store_teardown PREFIX [DIR]: remove the suite's containers and image; with DIR (the
# store), wait (at most 10 s) until no process names it any more: conmon's `podman container
# cleanup` may still write there, and bats then fails to remove the directory.
podman_store_teardown() {
	local i
	podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$1" | xargs -r podman rm -f -t0 >/dev/null 2>&1 || true
	podman rmi -f "localhost/${1}busybox:latest" >/dev/null 2>&1 || true
	[ -n "${2:-}" ] || return 0
	for ((i = 0; i < 100; i++)); do
		pgrep -f -- "$2/" >/dev/null || return 0
		sleep 0.1
	done
}

# podman_fe_setup DIR PREFIX: podman_store_setup, and ckpt's criu front-end as DIR/bin/criu
# (first in PATH for podman, runc and conmon when run through pm).
podman_fe_setup() {
	podman_store_setup "$1" "$2"
	mkdir -p "$1/bin"
	ln -s "$CKPT" "$1/bin/criu"
}

# podman_fe_env DIR: podman_store_env; the front-end's real CRIU is only DIR/bin/criu.real
# (no criu.conf, no CKPT_CRIU).
podman_fe_env() {
	podman_store_env "$1"
	export CKPT_CRIU_CONF="$1/no-criu.conf"
	unset CKPT_CRIU
}

# The suite skeleton of the Podman suites whose containers ckpt's own final dump checkpoints
# and CRIU 4.2 restores (container-podman*.bats), for a suite prefix $P:
#   podman_ctr_setup_file     setup_file: a store of its own with the front-end (none without podman)
#   podman_ctr_teardown_file  teardown_file: its containers, image and store gone
#   podman_ctr_setup          setup: root, CRIU 4.2 as the front-end's criu.real, T, C
podman_ctr_setup_file() {
	command -v podman >/dev/null || return 0
	podman_fe_setup "$BATS_FILE_TMPDIR" "$P"
}

podman_ctr_teardown_file() {
	command -v podman >/dev/null || return 0
	podman_store_teardown "$P" "$BATS_FILE_TMPDIR"
}

podman_ctr_setup() {
	requires root criu4
	command -v podman >/dev/null || skip "test requires podman (CKPT_PODMAN_DEPS=1 tests/install-deps.sh)"
	T=$BATS_FILE_TMPDIR
	podman_fe_env "$T"
	ln -sf "$CRIU4" "$T/bin/criu.real"
	C="${P}${BATS_TEST_NUMBER}"
}

# pm ARGS: podman with the front-end of podman_fe_setup "$T" first in PATH.
pm() {
	PATH="$T/bin:$PATH" podman "$@"
}
