#!/bin/bash
# Stage 2 of the VM lane, PID 1 inside the guest after switch_root into the
# host's (read-only) root.  Reads the job written by tests/vm/run-in-vm.sh from
# the results export, brings up loopback, loads nf_tables (CRIU 3.17's kerndat
# probes nftables), runs the command as root with cwd = the repository, writes
# its stdout, stderr and exit status into the results export, and powers off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home LANG=C.UTF-8 TERM=dumb
res=/run/ckpt-vm
bb=/bin/busybox

off() {
	sync
	$bb poweroff -f
	sleep 10
}
trap off EXIT

read -r boot_up _ </proc/uptime
mkdir -p "$HOME"
hostname ckpt-vm 2>/dev/null || true
ip link set lo up || echo "ckpt-vm: loopback could not be brought up" >&2
modprobe -a nf_tables || echo "ckpt-vm: modprobe nf_tables failed" >&2

CKPT_VM_CWD=/
CKPT_VM_CMD=()
CKPT_VM_ENV=()
# shellcheck source=/dev/null
. "$res/job" || {
	echo "ckpt-vm: cannot read the job" >"$res/stderr"
	exit 1
}
for kv in "${CKPT_VM_ENV[@]+"${CKPT_VM_ENV[@]}"}"; do
	export "${kv?}"
done
export CKPT_IN_VM=1

read -r cmd_up _ </proc/uptime
(
	cd "$CKPT_VM_CWD" || exit 125
	exec "${CKPT_VM_CMD[@]}"
) </dev/null >"$res/stdout" 2>"$res/stderr"
rc=$?

read -r end_up _ </proc/uptime
echo "$boot_up $cmd_up $end_up" >"$res/guest-times"
echo "$rc" >"$res/status.tmp" && mv "$res/status.tmp" "$res/status"
