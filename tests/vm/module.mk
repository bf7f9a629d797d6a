# tests/vm: the soft-dirty lane, Debian 12's 6.1 kernel under qemu (docs/test-lanes.md).
# Its victims (softdirty-probe, vm-roundtrip) live in tests/victims/ and come with test-bins.
check-vm: all test-bins
	$(Q)BUILD=$(BUILD) tests/vm/check-vm.sh

.PHONY: check-vm

# make bench-vm: ckpt (soft-dirty) vs CRIU 3.17 in the guest, side by side (not part of check).
bench-vm: all test-bins
	$(Q)BUILD=$(BUILD) tests/vm/bench-vm.sh

.PHONY: bench-vm
