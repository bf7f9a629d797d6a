#!/usr/bin/env bats
# The VM lane itself: the guest runs the kernel it should, as root, and cannot
# write the host's files.

load ../bats/helpers
load vm-helpers

setup() {
	requires_vm
}

@test "lane: guest runs Debian's 6.1 kernel as root with the repo as cwd" {
	run uname -r
	assert_output --regexp '^6\.1\.'
	[ "$(id -u)" = 0 ]
	[ "$PWD" = "$REPO_ROOT" ]
	[ -x "$BUILD/tests/victims/softdirty-probe" ]
}

@test "lane: the host's root is read-only; scratch is tmpfs" {
	run touch "$REPO_ROOT/.vm-write-test"
	assert_failure
	assert_output --partial 'Read-only file system'
	[ ! -e "$REPO_ROOT/.vm-write-test" ]
	run mkdir /etc/vm-write-test
	assert_failure
	[ "$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)" = 9p ]
	[ "$(awk '$2 == "/tmp" { t = $3 } END { print t }' /proc/mounts)" = tmpfs ]
	echo scratch >"$BATS_TEST_TMPDIR/f"
	[ "$(cat "$BATS_TEST_TMPDIR/f")" = scratch ]
}

@test "lane: loopback is up and nf_tables is loaded (CRIU's kerndat needs both)" {
	run ip -o link show lo
	assert_output --partial 'UP'
	grep -q '^nf_tables ' /proc/modules
}
