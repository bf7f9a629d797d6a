#!/bin/bash
# Run one command as root inside a qemu guest that boots Debian 12's 6.1 kernel
# (soft-dirty tracking, CRIU 3.17 works there) with this machine's root
# filesystem shared read-only over 9p, so the freshly built binaries and test
# scripts run unchanged.  The command's stdout and stderr come back on this
# script's stdout and stderr, and its exit status becomes ours.
#
#   tests/vm/run-in-vm.sh [-t SECONDS] [-o RESULTS_DIR] [--] CMD [ARG...]
#
# The command runs with cwd = the repository, BUILD (absolute) and every
# CKPT_* variable passed through, CKPT_IN_VM=1 set, HOME=/tmp/home.  Inside the
# guest / is read-only; /tmp, /run and /dev/shm are tmpfs (guest memory), so
# scratch files go there.  Nothing the guest does can write the host's files:
# qemu exports / with readonly=on; only the per-run results folder is writable.
#
# Exit status: the command's, or 124 when the guest had to be killed by the
# timeout, or 125 when the lane itself failed (qemu or the 6.1 kernel missing,
# guest died before reporting a status).  Both are failures, never a pass.
#
# Knobs (environment): CKPT_VM_TIMEOUT (default 2700 s), CKPT_VM_MEM (MiB, 1024),
# CKPT_VM_SMP (1; 2 was slower under TCG here), CKPT_VM_QEMU (qemu binary),
# CKPT_VM_KVER (kernel version, default: the newest 6.1 found),
# CKPT_VM_CONSOLE=1 (copy the guest's serial console to stderr as it runs),
# CKPT_VM_KEEP=1 (keep the results folder of a passing run).
set -euo pipefail

me=ckpt-vm
die() {
	echo "$me: $*" >&2
	exit 125
}

repo="$(cd "$(dirname "$0")/../.." && pwd)"
vmdir="$repo/tests/vm"
timeout_s="${CKPT_VM_TIMEOUT:-2700}"
results=""
while [ $# -gt 0 ]; do
	case "$1" in
	-t)
		timeout_s="$2"
		shift 2
		;;
	-o)
		results="$2"
		shift 2
		;;
	--)
		shift
		break
		;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "no command given (usage: tests/vm/run-in-vm.sh [-t SECONDS] [-o DIR] -- CMD [ARG...])"
case "$timeout_s" in '' | *[!0-9]*) die "timeout must be a number of seconds, got '$timeout_s'" ;; esac

BUILD="${BUILD:-build}"
case "$BUILD" in /*) ;; *) BUILD="$repo/$BUILD" ;; esac
export BUILD

# --- prerequisites -----------------------------------------------------------
hint="install them with: CKPT_VM_DEPS=1 tests/install-deps.sh (or make check-vm)"
qemu="$(command -v "${CKPT_VM_QEMU:-qemu-system-x86_64}" || true)"
[ -n "$qemu" ] || die "${CKPT_VM_QEMU:-qemu-system-x86_64} not found (Debian package qemu-system-x86); $hint"
command -v cpio >/dev/null || die "cpio not found; $hint"
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox not found (Debian package busybox-static); $hint"
bbldd="$(LC_ALL=C ldd "$busybox" 2>&1 || true)"
if ! grep -qE 'not a dynamic|statically linked' <<<"$bbldd"; then
	die "$busybox is dynamically linked; the initramfs needs busybox-static; $hint"
fi

kver="${CKPT_VM_KVER:-}"
if [ -z "$kver" ]; then
	kver="$(find /lib/modules -mindepth 1 -maxdepth 1 -name '6.1.*' -printf '%f\n' 2>/dev/null |
		sort -V | while read -r v; do [ -r "/boot/vmlinuz-$v" ] && echo "$v"; done | tail -n1)"
fi
[ -n "$kver" ] || die "Debian's 6.1 kernel is not installed (no /boot/vmlinuz-6.1.* with /lib/modules/6.1.*; Debian package linux-image-amd64); $hint"
kernel="/boot/vmlinuz-$kver"
moddir="/lib/modules/$kver"
[ -r "$kernel" ] || die "$kernel not readable"
[ -r "$moddir/modules.dep" ] || die "$moddir/modules.dep missing (run depmod $kver)"

# --- the initramfs (cached per kernel version and per content of its /init) ---
# Modules needed to reach the 9p root; each is loaded after the modules it
# depends on (modules.dep lists a module's dependencies, deepest last).
want=(virtio_pci 9pnet_virtio 9p)
mods=()
add_mod() { # add_mod RELPATH: append once
	local m
	for m in "${mods[@]+"${mods[@]}"}"; do [ "$m" = "$1" ] && return 0; done
	mods+=("$1")
}
for w in "${want[@]}"; do
	line="$(grep -E "(^|/)${w}\.ko(\.[gx]z|\.zst)?:" "$moddir/modules.dep" | head -n1 || true)"
	if [ -z "$line" ]; then
		grep -qE "(^|/)${w}\.ko" "$moddir/modules.builtin" 2>/dev/null && continue
		die "module $w not found for kernel $kver"
	fi
	read -r -a deps <<<"${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add_mod "${deps[i]}"; done
	add_mod "${line%%:*}"
done

key="$( (
	cat "$vmdir/initramfs-init.sh"
	printf '%s\n' "$kver" "${mods[@]}"
	sha256sum "$busybox"
) | sha256sum | cut -c1-12)"
initrd="$BUILD/vm/initramfs-$kver-$key.cpio.gz"
if [ ! -s "$initrd" ]; then
	mkdir -p "$BUILD/vm"
	stage="$(mktemp -d "$BUILD/vm/initramfs.XXXXXX")"
	trap 'rm -rf "$stage"' EXIT
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
	mknod -m 0600 "$stage/dev/console" c 5 1
	cp "$busybox" "$stage/bin/busybox"
	for a in sh mount umount mkdir ln insmod switch_root cat echo sleep poweroff; do
		ln -s busybox "$stage/bin/$a"
	done
	cp "$vmdir/initramfs-init.sh" "$stage/init"
	chmod 0755 "$stage/init"
	: >"$stage/modules/order"
	for m in "${mods[@]}"; do
		base="$(basename "$m")"
		case "$base" in
		*.ko) cp "$moddir/$m" "$stage/modules/$base" ;;
		*.ko.xz) xz -dc "$moddir/$m" >"$stage/modules/${base%.xz}" ;;
		*.ko.gz) gzip -dc "$moddir/$m" >"$stage/modules/${base%.gz}" ;;
		*.ko.zst) zstd -qdc "$moddir/$m" >"$stage/modules/${base%.zst}" ;;
		esac
		echo "${base%.ko*}.ko" >>"$stage/modules/order"
	done
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$initrd.tmp.$$"
	mv "$initrd.tmp.$$" "$initrd"
	rm -rf "$stage"
	trap - EXIT
fi

# Booting the uncompressed kernel through its PVH entry point skips the
# decompressor, which takes about 5 s under TCG.  Falls back to the bzImage.
boot_kernel="$kernel"
vmlinux="$BUILD/vm/vmlinux-$kver"
if [ ! -s "$vmlinux" ] && grep -q '^CONFIG_PVH=y' "/boot/config-$kver" 2>/dev/null &&
	grep -q '^CONFIG_KERNEL_XZ=y' "/boot/config-$kver" && command -v xz >/dev/null; then
	mkdir -p "$BUILD/vm"
	off="$(LC_ALL=C grep -abo $'\xfd7zXZ\x00' "$kernel" | head -n1 | cut -d: -f1 || true)"
	if [ -n "$off" ] && xz -dc --single-stream <(tail -c +$((off + 1)) "$kernel") >"$vmlinux.tmp.$$" 2>/dev/null &&
		[ "$(head -c 4 "$vmlinux.tmp.$$" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
		mv "$vmlinux.tmp.$$" "$vmlinux"
	else
		rm -f "$vmlinux.tmp.$$"
	fi
fi
[ -s "$vmlinux" ] && boot_kernel="$vmlinux"

# --- the run -----------------------------------------------------------------
keep="${CKPT_VM_KEEP:-0}"
if [ -n "$results" ]; then
	mkdir -p "$results"
	results="$(cd "$results" && pwd)"
	keep=1
	rm -f "$results"/{job,stage2,binds,stdout,stderr,status,console.log,guest-times}
else
	mkdir -p "$BUILD/vm/runs"
	# results of failed runs are kept for a day
	find "$BUILD/vm/runs" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
	results="$(mktemp -d "$BUILD/vm/runs/run.XXXXXX")"
fi
chmod 0755 "$results"

# The job: data only, read by tests/vm/guest-run.sh inside the guest.
{
	printf 'CKPT_VM_CWD=%q\n' "$repo"
	printf 'CKPT_VM_CMD=('
	printf ' %q' "$@"
	printf ' )\n'
	printf 'CKPT_VM_ENV=('
	while IFS= read -r v; do
		printf ' %q' "$v=${!v}"
	done < <(compgen -e | grep -E '^(BUILD|CKPT_[A-Za-z0-9_]*)$' | grep -vE '^CKPT_VM_(CWD|CMD|ENV)$')
	printf ' )\n'
} >"$results/job"
echo "$vmdir/guest-run.sh" >"$results/stage2"
# The guest mounts tmpfs over /tmp, /run and /dev/shm; a repository or build
# folder under one of them is bound back from the host's root at the same path.
: >"$results/binds"
for p in "$repo" "$BUILD"; do
	[ "$p" = "$BUILD" ] && [[ "$BUILD/" == "$repo/"* ]] && continue
	case "$p" in /tmp/* | /run/* | /dev/shm/*) echo "$p" >>"$results/binds" ;; esac
done

smp="${CKPT_VM_SMP:-1}"
mem="${CKPT_VM_MEM:-1024}"
qemu_args=(
	-accel tcg -cpu max -m "$mem" -smp "$smp" -nographic -no-reboot -net none
	-kernel "$boot_kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 loglevel=3 quiet"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap"
)

# The guest writes stdout and stderr straight into the results export (9p,
# uncached), so they are followed here while the guest runs.
: >"$results/stdout"
: >"$results/stderr"
start=$(date +%s.%N)
set +e
if [ "${CKPT_VM_CONSOLE:-0}" = 1 ]; then
	timeout --kill-after=10 "$timeout_s" "$qemu" "${qemu_args[@]}" </dev/null \
		> >(tee "$results/console.log" >&2) 2>&1 &
else
	timeout --kill-after=10 "$timeout_s" "$qemu" "${qemu_args[@]}" </dev/null >"$results/console.log" 2>&1 &
fi
qpid=$!
# timeout passes the signal on to qemu
trap 'kill -TERM "$qpid" 2>/dev/null; wait "$qpid"; exit 125' INT TERM HUP
tail -s 0.5 -n +1 -F --pid="$qpid" "$results/stdout" 2>/dev/null &
t1=$!
tail -s 0.5 -n +1 -F --pid="$qpid" "$results/stderr" 1>&2 2>/dev/null &
t2=$!
wait "$qpid"
qrc=$?
wait "$t1" "$t2"
trap - INT TERM HUP
set -e
end=$(date +%s.%N)

total=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
times=""
if [ -r "$results/guest-times" ]; then
	# guest-times: guest uptime when stage 2 started, the command started, it ended
	read -r t_boot t_cmd t_end <"$results/guest-times" || true
	times=$(awk -v b="$t_boot" -v c="$t_cmd" -v e="$t_end" \
		'BEGIN { printf "guest boot %.1f s, setup %.1f s, command %.1f s, ", b, c - b, e - c }')
fi

rc=125
why=""
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	rc=124
	why="guest killed after the ${timeout_s} s timeout (counts as a failure)"
elif [ -s "$results/status" ]; then
	rc=$(cat "$results/status")
	case "$rc" in '' | *[!0-9]*) rc=125 why="bad status file" ;; esac
elif [ "$qrc" -ne 0 ]; then
	why="qemu failed with status $qrc"
else
	why="the guest stopped without reporting the command's status"
fi

echo "$me: kernel $kver, ${times}total ${total} s, exit $rc${why:+ ($why)}" >&2
if [ -n "$why" ]; then
	echo "$me: last lines of the guest console ($results/console.log):" >&2
	tail -n 40 "$results/console.log" >&2 || true
	keep=1
fi
if [ "$keep" = 1 ]; then
	echo "$me: results kept in $results" >&2
else
	rm -rf "$results"
fi
exit "$rc"
