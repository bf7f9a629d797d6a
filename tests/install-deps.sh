#!/bin/bash
# Installs what building and testing ckpt needs on Debian 12, only what is missing.
# Called by make before the first compile; safe to run again.
set -euo pipefail

PKGS=(
	gcc make pkg-config libyajl-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev
	bats bats-assert bats-support jq xxd clang-format clang
	criu runc busybox-static util-linux procps
	# a container's final dump: tar + gzip save each tmpfs, CRIU's network lock needs iptables
	tar gzip iptables
	# a container joined to a network namespace by path (ip netns), container-dump.bats
	iproute2
	# the OCI hook suites (tests/bats/agent-podman.bats); runc is named so apt keeps it
	# instead of pulling crun in for podman's "crun | runc"
	podman conmon
	# CNI's bridge and host-local plugins (podman depends on them; named for
	# tests/bats/container-podman-net.bats)
	containernetworking-plugins
)
# Packages for the soft-dirty qemu lane, installed when CKPT_VM_DEPS=1 (tests/vm/check-vm.sh,
# run by make check, sets it).  linux-image-amd64 only adds /boot and /lib/modules files; it
# needs an initramfs generator, and when none is installed tiny-initramfs is chosen because
# initramfs-tools would pull in udev and upgrade systemd.
if [ "${CKPT_VM_DEPS:-0}" = 1 ]; then
	PKGS+=(qemu-system-x86 linux-image-amd64 cpio busybox-static xz-utils)
	gens="$(dpkg-query -W -f='${Status}\n' initramfs-tools dracut tiny-initramfs 2>/dev/null || true)"
	grep -q "install ok installed" <<<"$gens" || PKGS+=(tiny-initramfs)
fi
# Build dependencies of CRIU 4.2 (a test tool built from ../shared/tools by
# tests/tools/criu.sh, which sets it), installed when CKPT_CRIU_DEPS=1.
if [ "${CKPT_CRIU_DEPS:-0}" = 1 ]; then
	PKGS+=(gcc make pkg-config xz-utils libnl-3-dev libnl-route-3-dev libnet1-dev libcap-dev
		libbsd-dev libprotobuf-dev protobuf-compiler python3-protobuf libprotobuf-c-dev
		protobuf-c-compiler uuid-dev libgnutls28-dev)
fi
# Podman for the Podman suites (docs: ../shared/docs/podman.md), when CKPT_PODMAN_DEPS=1.
# runc is named so that apt does not pick crun to satisfy podman's "crun | runc".
if [ "${CKPT_PODMAN_DEPS:-0}" = 1 ]; then
	PKGS+=(podman runc busybox-static)
fi

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "ckpt: missing packages: ${missing[*]}" >&2
	echo "ckpt: run as root, or install them first: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "ckpt: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
