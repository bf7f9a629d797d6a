#!/usr/bin/env bats
# bats file_tags=root
# The layer's page writer (runtime-glue/mem/copy.c): the target is read into a
# ring of buffers while a writer thread writes the previous ones.  A failure on
# either side ends the layer: a clear error, no layer (not even a hidden
# temporary one), earlier layers intact, the tree running and untraced.

load helpers

TRACKER=${CKPT_TEST_TRACKER:-hash}

load mem-helpers

setup() {
	requires root ptrace crit
	mem_setup
	FULL=""
}

teardown() {
	mem_teardown
	if [ -n "$FULL" ]; then
		umount "$FULL" 2>/dev/null || true
	fi
}

# no_tmp: no hidden temporary layer directory is left in $IMG
no_tmp() {
	run -1 bash -c "ls -A '$IMG' | grep -q ckpt-tmp"
}

running() {
	untraced "$VPID"
	[ "$(proc_state "$VPID")" != t ]
	[ "$(proc_state "$VPID")" != T ]
	vcmd fill a 0 1 9
}

@test "a write failing in the writer thread mid-layer: pre-dump and dump fail, no layer, tree running, earlier layer intact" {
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	local before
	before=$(cd "$IMG/1" && sha256sum ./* | sha256sum)
	vcmd fill a 0 2048 2
	# the copy-write point fails the writer's second 2 MiB buffer
	CK_FAULT=copy-write ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	assert_output --partial "writing pages: fault injected at copy-write"
	[ ! -e "$IMG/2" ]
	no_tmp
	running
	# the final dump copies into its frozen buffer and writes that after the thaw
	CK_FAULT=frozen-write ckpt_run -1 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER" --leave-running
	assert_output --partial "fault injected at frozen-write"
	[ ! -e "$IMG/2" ]
	no_tmp
	running
	[ "$(cd "$IMG/1" && sha256sum ./* | sha256sum)" = "$before" ]
	# the chain still works: a good layer on top, proved against memory
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER" --leave-stopped
	ckpt_run -0 verify -t "$VPID" -D "$IMG/2"
	assert_output --partial ": OK"
	kill -CONT "$VPID"
}

@test "ckpt killed writing pages while the tree is frozen: tree detached and running, the next run removes the hidden directory" {
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	# a 1 MiB frozen buffer spills the 16 MiB to the image while the tree is frozen
	CK_FAULT=frozen-write:kill ckpt_run ! dump --memory-only -t "$VPID" -D "$IMG/k" --tracker "$TRACKER" --leave-running --frozen-buffer 1M
	[ ! -e "$IMG/k" ]
	retry 100 0.02 untraced "$VPID"
	running
	ls -A "$IMG" | grep -q '^\.k\.ckpt-tmp-'
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/k" --tracker "$TRACKER"
	no_tmp
	[ -e "$IMG/k/inventory.img" ]
}

@test "a real write error (full filesystem) stops the copy: the error names it, no layer, tree running" {
	FULL="$BATS_TEST_TMPDIR/full-first"
	mkdir -p "$FULL"
	mount -t tmpfs -o size=4m ckpt-test-full "$FULL"
	IMG="$FULL"
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	ckpt_run -1 pre-dump -t "$VPID" -D "$FULL/1" --tracker "$TRACKER"
	assert_output --partial "No space left on device"
	[ ! -e "$FULL/1" ]
	no_tmp
	running
	ckpt_run -1 dump --memory-only -t "$VPID" -D "$FULL/1" --tracker "$TRACKER" --leave-running
	assert_output --partial "No space left on device"
	[ ! -e "$FULL/1" ]
	no_tmp
	running
	[ -z "$(ls -A "$FULL")" ]
}

@test "the target exits in the middle of the copy: a clear error, no layer, no temporary directory" {
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	local log="$BATS_TEST_TMPDIR/ckpt.err" rc=0
	# stopped with half of the pages written, the writer thread holding buffers
	CK_FAULT=pages:stop "$CKPT" pre-dump -t "$VPID" -D "$IMG/dead" --tracker "$TRACKER" >/dev/null 2>"$log" 3>&- &
	CKPT_PID=$!
	retry 200 0.02 grep -q "stopped at pages" "$log" || fail "ckpt did not stop: $(cat "$log")"
	kill -KILL "$VPID"
	retry 100 0.02 bash -c "! grep -qE '^State:.*[RSDTt] ' /proc/$VPID/status 2>/dev/null"
	kill -CONT "$CKPT_PID"
	wait "$CKPT_PID" || rc=$?
	cat "$log" >&2
	[ "$rc" = 1 ]
	grep -q "pid $VPID (the root of the tree) exited during the pre-dump; no layer written" "$log"
	[ ! -e "$IMG/dead" ]
	no_tmp
}

@test "pages written while a pre-dump copies them are in the next layer: the chain verifies" {
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	local log="$BATS_TEST_TMPDIR/ckpt.err" rc=0
	# stopped after the thaw with half of the pages copied: the first and
	# the last pages of the region change now, copied or not yet
	CK_FAULT=pages:stop "$CKPT" pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER" >/dev/null 2>"$log" 3>&- &
	CKPT_PID=$!
	retry 200 0.02 grep -q "stopped at pages" "$log" || fail "ckpt did not stop: $(cat "$log")"
	vcmd fill a 0 16 2
	vcmd fill a 4080 16 3
	kill -CONT "$CKPT_PID"
	wait "$CKPT_PID" || rc=$?
	[ "$rc" = 0 ] || fail "pre-dump failed: $(cat "$log")"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker "$TRACKER" --leave-stopped
	ckpt_run -0 verify -t "$VPID" -D "$IMG/3"
	assert_output --partial ": OK"
	kill -CONT "$VPID"
}

@test "a full dump through an 8 MiB frozen buffer: the writer thread writes one half while the other fills; exact; a writer error mid-spill fails it with the tree running" {
	vcmd alloc a 8192
	vcmd fill a 0 8192 1
	# 32 MiB through 8 MiB: after the first spill, halves of 4 MiB take turns (docs/memory.md),
	# so 6 or more spills where writing it all at once would be full 4 times
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/1" --tracker "$TRACKER" --frozen-buffer 8M --leave-stopped -v
	assert_output --partial "frozen buffer full (8192 KiB): spilling page data to the image while frozen"
	assert_output --regexp "frozen buffer \(8192 KiB\): [0-9]+ KiB of pages, [0-9]+ KiB of them spilled to the image while frozen \(([6-9]|[0-9]{2,}) times full\)"
	ckpt_run -0 verify -t "$VPID" -D "$IMG/1"
	assert_output --partial ": OK"
	kill -CONT "$VPID"
	local before
	before=$(cd "$IMG/1" && sha256sum ./* | sha256sum)
	# the writer's second batch fails while the engine reads on into the other half
	vcmd fill a 0 8192 2
	CK_FAULT=copy-write ckpt_run -1 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER" --frozen-buffer 8M --leave-running
	assert_output --partial "writing pages: fault injected at copy-write"
	[ ! -e "$IMG/2" ]
	no_tmp
	running
	# killed by its writer thread between two spilled batches, the tree frozen
	CK_FAULT=copy-write:kill ckpt_run ! dump --memory-only -t "$VPID" -D "$IMG/k" --prev-images-dir ../1 --tracker "$TRACKER" --frozen-buffer 8M --leave-running
	[ ! -e "$IMG/k" ]
	retry 100 0.02 untraced "$VPID"
	running
	[ "$(cd "$IMG/1" && sha256sum ./* | sha256sum)" = "$before" ]
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER" --frozen-buffer 8M --leave-stopped
	ckpt_run -0 verify -t "$VPID" -D "$IMG/2"
	assert_output --partial ": OK"
	kill -CONT "$VPID"
}
