#!/bin/bash
# make bench-vm: ckpt (soft-dirty tracker) against CRIU 3.17 in the VM lane's
# guest, side by side on one workload in one boot (tests/vm/bench-vm-guest.sh):
# frozen time and layer size of two pre-dumps and the final dump, as ckpt/CRIU
# ratios.  Prints the table and writes $BUILD/bench-vm.json.  Not part of
# `make check`: figures, never pass/fail.
#
# Knobs: BENCH_VM_MIB (workload, 4..256 MiB, default 256), BENCH_VM_THP
# (never|madvise|always: the guest's transparent huge pages; default never:
# with huge pages, soft-dirty marks 2 MiB per write and every layer of this
# workload is full, for both tools), BENCH_VM_RUNS (3: each figure is the
# median), CKPT_VM_MEM (guest MiB, default here 2048: images live on the
# guest's tmpfs).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
export BUILD
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
res="$BUILD/vm/bench-vm"
rm -rf "$res"
mib="${BENCH_VM_MIB:-256}"
thp="${BENCH_VM_THP:-never}"
runs="${BENCH_VM_RUNS:-3}"
CKPT_VM_MEM="${CKPT_VM_MEM:-2048}" CKPT_VM_TIMEOUT="${CKPT_VM_TIMEOUT:-1200}" \
	tests/vm/run-in-vm.sh -o "$res" -- env BENCH_VM_MIB="$mib" BENCH_VM_THP="$thp" BENCH_VM_RUNS="$runs" \
	tests/vm/bench-vm-guest.sh
cp "$res/bench-vm.json" "$BUILD/bench-vm.json"
echo "bench-vm: $BUILD/bench-vm.json"
