#!/usr/bin/env bats
# Soft-dirty on Debian's 6.1 kernel: an independent probe, and ckpt check.

load ../bats/helpers
load vm-helpers

setup() {
	requires_vm
}

@test "soft-dirty: clear_refs 4 then writes mark exactly the written pages (probe)" {
	run "$VICTIMS/softdirty-probe"
	assert_success
	assert_output --regexp '^soft-dirty: yes '
}

@test "ckpt check --feature soft-dirty exits 0, --feature uffd-wp-async exits 1" {
	ckpt_run -0 check --feature soft-dirty
	ckpt_run -1 check --feature uffd-wp-async
}

@test "ckpt check lists soft-dirty: yes and uffd-wp-async: no" {
	ckpt_run check
	assert_line 'soft-dirty: yes'
	assert_line --regexp '^uffd-wp-async: no( |$)'
}
