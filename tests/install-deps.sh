#!/bin/bash
# Installs what building and testing ckpt needs on Debian 12, only what is missing.
# Called by make before the first compile; safe to run again.
set -euo pipefail

PKGS=(
	gcc make pkg-config libyajl-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev
	bats bats-assert bats-support jq xxd clang-format
	criu runc busybox-static util-linux procps
)
# Optional packages for the soft-dirty qemu lane, installed when CKPT_VM_DEPS=1.
if [ "${CKPT_VM_DEPS:-0}" = 1 ]; then
	PKGS+=(qemu-system-x86 linux-image-amd64 cpio)
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
