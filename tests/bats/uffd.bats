#!/usr/bin/env bats
# bats file_tags=root
# The uffd-wp tracker (userfaultfd async write-protect + PAGEMAP_SCAN): exact
# layers, fallbacks, tracker lifetime.  Same victim and helpers as predump.bats.

load helpers
load mem-helpers

mem_suite root ptrace crit uffd-wp-async

# holder_of PID: the pid of the uffd holder serving PID ("" when none).
holder_of() {
	local st
	st=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null) || return 0
	grep -q "@ckpt-uffd-$1-$st\$" /proc/net/unix || return 0
	pgrep -x ckpt-uffd | while read -r h; do
		ls -l "/proc/$h/fd" 2>/dev/null | grep -q socket && echo "$h"
	done | head -1
}

no_holder_for() {
	! grep -q "@ckpt-uffd-$1-" /proc/net/unix
}

no_uffd_in() {
	! ls -l "/proc/$1/fd" | grep -q userfaultfd
}

@test "uffd-wp: pre-dump x3 + dump, each layer holds exactly the pages written since its parent" {
	vcmd alloc a 256
	vcmd fill a 0 256 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	assert_output --partial "tracker uffd-wp"
	region_pages a 0 256 >"$BATS_TEST_TMPDIR/exp1"
	expect_layer "$IMG/1" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp1"
	[ -f "$IMG/1/uffd-$VPID.state" ]
	no_uffd_in "$VPID"

	vcmd fill a 10 5 2
	vcmd fill a 100 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	{ region_pages a 10 5; region_pages a 100 1; } >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp2"

	# the kernel reports writes, not changes: rewriting a page counts
	vcmd fill a 200 3 4
	vcmd fill a 10 1 2
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	{ region_pages a 200 3; region_pages a 10 1; } >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp3"

	vcmd fill a 255 1 5
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp --leave-running
	region_pages a 255 1 >"$BATS_TEST_TMPDIR/exp4"
	expect_layer "$IMG/4" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp4"
	[ "$(layer_pages "$IMG/4" "$VPID" 1 | in_region a 256 | wc -l)" -eq 255 ]
	crit_all "$IMG"/1 "$IMG"/2 "$IMG"/3 "$IMG"/4
	verify_ok "$IMG/4"
	# the whole process, not only the region: the incremental layer is small
	run -0 crit decode -i "$IMG/4/stats-dump"
	echo "$output" | jq -e '.entries[0].dump | .pages_written < 64 and .pages_skipped_parent > 200'
	# after the final dump the tracker process is gone, and no uffd is left in the target
	retry 100 0.02 no_holder_for "$VPID"
	no_uffd_in "$VPID"
	vcmd fill a 0 1 9
}

@test "uffd-wp is the automatic choice on this kernel" {
	ckpt_run -0 check
	assert_line --regexp '^tracker: uffd-wp '
	vcmd alloc a 8
	vcmd fill a 0 8 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" -v
	assert_output --partial "tracker: uffd-wp"
}

@test "uffd-wp fallbacks: new mmap, munmap, mremap and MADV_DONTNEED between rounds" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	vcmd alloc m 16
	vcmd fill m 0 16 5
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd alloc b 8
	vcmd fill b 0 8 2
	vcmd unmap a 32 16
	vcmd zero a 0 4
	vcmd remap m m2 20
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v
	# new and moved VMAs are unregistered (EPERM from the scan): dumped whole
	region_pages b 0 8 >"$BATS_TEST_TMPDIR/expb"
	expect_layer "$IMG/2" "$VPID" b 8 "$BATS_TEST_TMPDIR/expb"
	region_pages m2 0 16 >"$BATS_TEST_TMPDIR/expm"
	expect_layer "$IMG/2" "$VPID" m2 16 "$BATS_TEST_TMPDIR/expm"
	# zapped pages are gone (not present), unmapped ones too; the rest is parent
	[ "$(layer_pages "$IMG/2" "$VPID" 4 | in_region a 64 | wc -l)" -eq 0 ]
	[ "$(layer_pages "$IMG/2" "$VPID" 1 | in_region a 64 | wc -l)" -eq 44 ]
	# next round: the new VMAs are tracked now
	vcmd fill b 3 1 7
	vcmd fill m2 0 1 8
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	region_pages b 3 1 >"$BATS_TEST_TMPDIR/expb3"
	expect_layer "$IMG/3" "$VPID" b 8 "$BATS_TEST_TMPDIR/expb3"
	region_pages m2 0 1 >"$BATS_TEST_TMPDIR/expm3"
	expect_layer "$IMG/3" "$VPID" m2 20 "$BATS_TEST_TMPDIR/expm3"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp --leave-running
	crit_all "$IMG/2" "$IMG/3" "$IMG/4"
	verify_ok "$IMG/4"
}

@test "uffd-wp fallback: a forked child is untracked and dumped whole, the parent stays tracked" {
	vcmd alloc a 32
	vcmd fill a 0 32 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fork a 2
	local child
	child=$(awk '$1 == "CHILD" {print $2}' "$OUT")
	VICTIM_PIDS+=("$child")
	vcmd fill a 0 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v
	assert_output --regexp "uffd-wp: pid $child: no tracker state"
	region_pages a 0 32 >"$BATS_TEST_TMPDIR/expc"
	expect_layer "$IMG/2" "$child" a 32 "$BATS_TEST_TMPDIR/expc"
	region_pages a 0 1 >"$BATS_TEST_TMPDIR/expp"
	expect_layer "$IMG/2" "$VPID" a 32 "$BATS_TEST_TMPDIR/expp"
	# both are tracked from now on
	no_uffd_in "$child"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	: >"$BATS_TEST_TMPDIR/none"
	expect_layer "$IMG/3" "$child" a 32 "$BATS_TEST_TMPDIR/none"
	expect_layer "$IMG/3" "$VPID" a 32 "$BATS_TEST_TMPDIR/none"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp --leave-running
	verify_ok "$IMG/4"
	assert_output --partial "2 tasks"
	retry 100 0.02 no_holder_for "$child"
}

@test "uffd-wp: private file mapping, only COW'd pages; a DONTNEED'd COW page reverts to the file" {
	local f="$BATS_TEST_TMPDIR/data"
	head -c $((32 * 4096)) /dev/urandom >"$f"
	vcmd file fm "$f" 32
	vcmd fill fm 4 2 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	region_pages fm 4 2 >"$BATS_TEST_TMPDIR/exp1"
	expect_layer "$IMG/1" "$VPID" fm 32 "$BATS_TEST_TMPDIR/exp1"
	vcmd fill fm 20 1 2
	vcmd zero fm 4 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	region_pages fm 20 1 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" fm 32 "$BATS_TEST_TMPDIR/exp2"
	# page 4 is page cache again: neither present nor parent in the new layer
	[ "$(region_pages fm 4 1 | grep -cxFf - <(layer_pages "$IMG/2" "$VPID" 1))" -eq 0 ]
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp --leave-running
	verify_ok "$IMG/3"
}

@test "uffd-wp: threads writing while the tracker scans; the final dump equals memory" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	vcmd threads 2 64
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp --leave-stopped
	verify_ok "$IMG/4"
	kill -CONT "$VPID"
	vcmd stop-threads
}

@test "uffd-wp: killing the tracker process makes the next layer full, with a clear log line" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	local h
	h=$(holder_of "$VPID")
	[ -n "$h" ]
	kill -KILL "$h"
	retry 100 0.02 no_holder_for "$VPID"
	vcmd fill a 5 1 2
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	assert_output --partial "the tracker process that armed the parent layer is gone: full layer"
	region_pages a 0 64 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 64 "$BATS_TEST_TMPDIR/exp2"
	# and tracking is armed again
	vcmd fill a 6 1 3
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp --leave-running
	region_pages a 6 1 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 64 "$BATS_TEST_TMPDIR/exp3"
	verify_ok "$IMG/3"
}

@test "uffd-wp: the tracker process exits when the target exits" {
	vcmd alloc a 8
	vcmd fill a 0 8 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	[ -n "$(holder_of "$VPID")" ]
	echo exit >"$FIFO"
	retry 100 0.02 no_holder_for "$VPID"
}

@test "uffd-wp: a layer whose parent was taken with another tracker is full" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v
	assert_output --partial "no tracker state in the parent layer: full layer"
	region_pages a 0 16 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 16 "$BATS_TEST_TMPDIR/exp2"
	vcmd fill a 3 1 2
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp --leave-running
	region_pages a 3 1 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 16 "$BATS_TEST_TMPDIR/exp3"
	verify_ok "$IMG/3"
}
