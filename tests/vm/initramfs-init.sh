#!/bin/sh
# shellcheck shell=sh
# /init of the VM lane's initramfs (busybox sh, PID 1).  Loads the virtio and
# 9p modules, mounts the host's root read-only and the results export, puts
# proc/sys/dev/devpts and tmpfs scratch (/tmp, /run, /dev/shm) in place, then
# switch_root's into the host's root and runs tests/vm/guest-run.sh there as
# PID 1.  Any failure here powers the guest off without a status file, which
# the host reports as a lane failure.
export PATH=/bin

fail() {
	echo "ckpt-vm init: $*" >/dev/console
	poweroff -f
	sleep 5
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
	insmod "/modules/$m" || fail "insmod $m failed"
done </modules/order

r=/newroot
# cache=loose: the root is read-only and nothing changes it during a run.
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose hostroot $r ||
	fail "cannot mount the host's root over 9p"
# A second view of the host's root, without the tmpfs mounts put over it below.
mkdir -p /hostroot
mount --bind $r /hostroot || fail "bind the host's root"
mount -t proc proc $r/proc || fail "mount proc"
mount -t sysfs sysfs $r/sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs $r/dev || fail "mount devtmpfs"
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts $r/dev/pts || fail "mount devpts"
[ -e $r/dev/ptmx ] || ln -s pts/ptmx $r/dev/ptmx
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o mode=1777 tmpfs $r/tmp || fail "mount /tmp"
mount -t tmpfs -o mode=0755 tmpfs $r/run || fail "mount /run"
mkdir -p $r/run/ckpt-vm
mount -t 9p -o rw,trans=virtio,version=9p2000.L,msize=262144,cache=none results $r/run/ckpt-vm ||
	fail "cannot mount the results export"
[ -r $r/run/ckpt-vm/stage2 ] || fail "no stage2 in the results export"
# Paths the job needs that are hidden by those tmpfs mounts (a repo under /tmp).
while read -r p; do
	[ -n "$p" ] || continue
	mkdir -p "$r$p" || fail "cannot create $p"
	mount --bind "/hostroot$p" "$r$p" || fail "cannot bind $p"
done <$r/run/ckpt-vm/binds
stage2=$(cat $r/run/ckpt-vm/stage2)
[ -r "$r$stage2" ] || fail "$stage2 not visible in the guest"

umount /proc /sys /dev
exec switch_root $r /bin/bash "$stage2"
