#!/usr/bin/env bats
# The VM lane's runner, seen from the host: status and output come back, the
# guest cannot write the host's files, a hung guest is a failure, and missing
# pieces give a clear error.  Each boot costs ~5 s under TCG.
bats_require_minimum_version 1.8.0
bats_load_library bats-support
bats_load_library bats-assert

setup() {
	REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)"
	RUN="$REPO_ROOT/tests/vm/run-in-vm.sh"
	PROBE="$REPO_ROOT/tests/vm/.host-write-probe-$$"
	rm -f "$PROBE"
}

teardown() {
	rm -f "$PROBE"
}

@test "runner: exit status, stdout and stderr come back; the host's files stay untouched" {
	run --separate-stderr "$RUN" -t 120 -- sh -c \
		'echo out; echo err >&2; uname -r; echo x >"$1" && echo WROTE; exit 7' sh "$PROBE"
	echo "stdout: $output" >&2
	echo "stderr: $stderr" >&2
	[ "$status" -eq 7 ]
	assert_line out
	assert_line --regexp '^6\.1\.'
	refute_line WROTE
	[[ "$stderr" == *err* ]]
	[[ "$stderr" == *"Read-only file system"* ]]
	[ ! -e "$PROBE" ]
}

@test "runner: a guest that hangs is killed at the timeout and reported as a failure" {
	run --separate-stderr "$RUN" -t 10 -- sleep 600
	echo "$stderr" >&2
	[ "$status" -eq 124 ]
	[[ "$stderr" == *"timeout"* ]]
}

@test "runner: missing qemu or kernel gives a clear error and status 125" {
	CKPT_VM_QEMU=qemu-system-nonexistent run --separate-stderr "$RUN" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"qemu-system-nonexistent not found"*"qemu-system-x86"* ]]
	CKPT_VM_KVER=6.1.0-0-none run --separate-stderr "$RUN" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"/boot/vmlinuz-6.1.0-0-none"* ]]
	run --separate-stderr "$RUN"
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"no command given"* ]]
}
