#!/usr/bin/env bats
# The soft-dirty tracker on Debian's 6.1 kernel: the correctness proof the
# uffd-wp tracker passes on the machine (tests/bats/uffd.bats): every layer
# holds exactly the pages written since its parent (false positives are
# counted and must have a known cause; a false negative is a failure), and
# the chain rebuilds memory exactly (ckpt verify).  Same victim and helpers as
# the machine's memory suites (tests/victims/mem-victim.c, mem-helpers.bash).

load ../bats/helpers
load ../bats/mem-helpers
load vm-helpers
load sd-helpers

THP=/sys/kernel/mm/transparent_hugepage/enabled

setup_file() {
	# Soft-dirty lives in the PMD of a transparent huge page: one write marks
	# 2 MiB.  The exact-layer tests run without THP; the THP test turns it on
	# for its own region (MADV_HUGEPAGE) and counts what that costs.  The
	# guest is a throwaway kernel: this changes nothing on the host.
	if [ "${CKPT_IN_VM:-0}" = 1 ] && [ -w "$THP" ]; then
		sed -n 's/.*\[\(.*\)\].*/\1/p' "$THP" >"$BATS_FILE_TMPDIR/thp"
		echo madvise >"$THP"
	fi
}

teardown_file() {
	if [ -s "$BATS_FILE_TMPDIR/thp" ]; then
		cat "$BATS_FILE_TMPDIR/thp" >"$THP"
	fi
}

setup() {
	requires_vm
	requires root ptrace
	mem_setup
}

teardown() {
	mem_teardown
}

sd() {
	ckpt_run -0 pre-dump -t "$VPID" --tracker soft-dirty "$@"
}

@test "soft-dirty: pre-dump x4 + dump --memory-only: each layer holds exactly the pages written since its parent, the chain equals memory" {
	vcmd alloc a 256
	vcmd fill a 0 256 1
	sd -D "$IMG/1"
	assert_output --partial "tracker soft-dirty"
	region_pages a 0 256 >"$BATS_TEST_TMPDIR/exp1"
	expect_layer "$IMG/1" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp1"
	grep -q "^token [0-9a-f]\{16\} starttime " "$IMG/1/softdirty-$VPID.state"

	vcmd fill a 10 5 2
	vcmd fill a 100 1 3
	sd -D "$IMG/2" --prev-images-dir ../1 -v
	assert_output --regexp "soft-dirty: pid $VPID: [0-9]+ of [0-9]+ pages written"
	{ region_pages a 10 5; region_pages a 100 1; } >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp2"

	# the kernel reports writes, not changes: rewriting a page counts
	vcmd fill a 200 3 4
	vcmd fill a 10 1 2
	sd -D "$IMG/3" --prev-images-dir ../2
	{ region_pages a 200 3; region_pages a 10 1; } >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp3"

	# kernel writes count: read(2) into the buffer
	head -c $((3 * 4096)) /dev/urandom >"$BATS_TEST_TMPDIR/data"
	vcmd readin a 50 3 "$BATS_TEST_TMPDIR/data"
	sd -D "$IMG/4" --prev-images-dir ../3
	region_pages a 50 3 >"$BATS_TEST_TMPDIR/exp4"
	expect_layer "$IMG/4" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp4"

	# the final layer: frozen throughout, no re-arm (no state file)
	vcmd fill a 255 1 5
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/5" --prev-images-dir ../4 --tracker soft-dirty --leave-running
	region_pages a 255 1 >"$BATS_TEST_TMPDIR/exp5"
	expect_layer "$IMG/5" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp5"
	[ "$(layer_pages "$IMG/5" "$VPID" 1 | in_region a 256 | wc -l)" -eq 255 ]
	[ ! -e "$IMG/5/softdirty-$VPID.state" ]
	verify_ok "$IMG/5"
	# the whole process, not only the region: the incremental layer is small
	run -0 "$CKPT" show "$IMG/5/stats-dump"
	echo "$output" | jq -e '.entries[0].dump | .pages_written < 32 and .pages_skipped_parent > 200'
	vcmd fill a 0 1 9
}

@test "soft-dirty: new mmap, munmap, mremap and MADV_DONTNEED between rounds; no false negatives, the chain equals memory" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	vcmd alloc m 16
	vcmd fill m 0 16 5
	sd -D "$IMG/1"
	vcmd alloc b 8
	vcmd fill b 0 8 2
	vcmd unmap a 32 16
	vcmd zero a 0 4
	vcmd remap m m2 20
	sd -D "$IMG/2" --prev-images-dir ../1
	# new VMAs are soft-dirty as a whole (VM_SOFTDIRTY), moved pages are
	# marked by mremap: both are in the layer
	region_pages b 0 8 >"$BATS_TEST_TMPDIR/expb"
	expect_layer "$IMG/2" "$VPID" b 8 "$BATS_TEST_TMPDIR/expb"
	region_pages m2 0 16 >"$BATS_TEST_TMPDIR/expm"
	expect_layer "$IMG/2" "$VPID" m2 16 "$BATS_TEST_TMPDIR/expm"
	# region a: the zapped and unmapped pages are gone; the 44 left were not
	# written.  A new mapping that the kernel merged into a's VMA makes the
	# whole VMA soft-dirty: then they are counted false positives, never lost.
	local fp held
	fp=$(layer_pages "$IMG/2" "$VPID" 4 | in_region a 64 | wc -l)
	held=$(layer_pages "$IMG/2" "$VPID" 1 | in_region a 64 | wc -l)
	echo "# region a: $held pages from the parent, $fp false positives" >&3
	[ $((fp + held)) -eq 44 ]
	if [ "$fp" -ne 0 ]; then
		[ "$fp" -eq 44 ] # all or nothing: a VMA flag, not a page bit
		grep -q "^VmFlags:.* sd" "/proc/$VPID/smaps"
	fi
	# next round: only what was written
	vcmd fill b 3 1 7
	vcmd fill m2 0 1 8
	sd -D "$IMG/3" --prev-images-dir ../2
	region_pages b 3 1 >"$BATS_TEST_TMPDIR/expb3"
	expect_layer "$IMG/3" "$VPID" b 8 "$BATS_TEST_TMPDIR/expb3"
	region_pages m2 0 1 >"$BATS_TEST_TMPDIR/expm3"
	expect_layer "$IMG/3" "$VPID" m2 20 "$BATS_TEST_TMPDIR/expm3"
	: >"$BATS_TEST_TMPDIR/none"
	expect_layer "$IMG/3" "$VPID" a 64 "$BATS_TEST_TMPDIR/none"
	verify_ok "$IMG/3"
}

@test "soft-dirty: a forked child has no history (full layer, log line), then both are exact; private file COW pages" {
	local f="$BATS_TEST_TMPDIR/data" child
	head -c $((32 * 4096)) /dev/urandom >"$f"
	vcmd alloc a 32
	vcmd fill a 0 32 1
	vcmd file fm "$f" 32
	vcmd fill fm 4 2 1
	sd -D "$IMG/1"
	region_pages fm 4 2 >"$BATS_TEST_TMPDIR/expf1"
	expect_layer "$IMG/1" "$VPID" fm 32 "$BATS_TEST_TMPDIR/expf1"
	vcmd fork a 2
	child=$(awk '$1 == "CHILD" {print $2}' "$OUT")
	VICTIM_PIDS+=("$child")
	vcmd fill a 0 1 3
	vcmd fill fm 20 1 2
	vcmd zero fm 4 1
	sd -D "$IMG/2" --prev-images-dir ../1 -v
	assert_output --partial "soft-dirty: pid $child: the parent layer does not hold this process (new or reused pid): full layer"
	region_pages a 0 32 >"$BATS_TEST_TMPDIR/expc"
	expect_layer "$IMG/2" "$child" a 32 "$BATS_TEST_TMPDIR/expc"
	region_pages a 0 1 >"$BATS_TEST_TMPDIR/expp"
	expect_layer "$IMG/2" "$VPID" a 32 "$BATS_TEST_TMPDIR/expp"
	# fm page 4 went back to the page cache: neither present nor parent
	region_pages fm 20 1 >"$BATS_TEST_TMPDIR/expf2"
	expect_layer "$IMG/2" "$VPID" fm 32 "$BATS_TEST_TMPDIR/expf2"
	[ "$(region_pages fm 4 1 | grep -cxFf - <(layer_pages "$IMG/2" "$VPID" 1))" -eq 0 ]
	sd -D "$IMG/3" --prev-images-dir ../2
	: >"$BATS_TEST_TMPDIR/none"
	expect_layer "$IMG/3" "$child" a 32 "$BATS_TEST_TMPDIR/none"
	expect_layer "$IMG/3" "$VPID" a 32 "$BATS_TEST_TMPDIR/none"
	verify_ok "$IMG/3"
	assert_output --partial "2 tasks"
}

@test "soft-dirty: shared memory is dumped whole; threads writing during the pre-dumps; the chain equals memory" {
	vcmd shared s 16
	vcmd fill s 0 16 1
	vcmd alloc a 16
	vcmd fill a 0 16 1
	vcmd threads 2 64
	sd -D "$IMG/1"
	sd -D "$IMG/2" --prev-images-dir ../1
	vcmd stop-threads
	sd -D "$IMG/3" --prev-images-dir ../2
	# nothing written to s since layer 2: still all 16 pages (soft-dirty is per process)
	local shm
	shm=$(cd "$IMG/3" && ls pagemap-shmem-*.img)
	[ "$("$CKPT" show "$IMG/3/$shm" | jq '[.entries[1:][] | select(.flags == 4) | .nr_pages] | add')" -eq 16 ]
	: >"$BATS_TEST_TMPDIR/none"
	expect_layer "$IMG/3" "$VPID" a 16 "$BATS_TEST_TMPDIR/none"
	verify_ok "$IMG/3"
}

@test "soft-dirty: THP region, random 4 KiB writes: whole 2 MiB pages are reported, counted as false positives, none missed" {
	[ -w "$THP" ] || skip "no transparent huge pages in this kernel"
	vcmd thp h 1024
	grep -q '^AnonHugePages: *[1-9]' "/proc/$VPID/smaps" || skip "no huge page was allocated"
	sd -D "$IMG/1"
	vcmd scatter h 8 7
	sd -D "$IMG/2" --prev-images-dir ../1
	local got fp exp="$BATS_TEST_TMPDIR/exp2" blocks="$BATS_TEST_TMPDIR/blocks"
	# the written pages, and the 2 MiB blocks (512 pages) that hold them
	awk -v b="$(region_addr h)" '$1 == "SCATTER" {
		for (k = 3; k <= NF; k++) printf "%.0f\n", b + $k * 4096 }' "$OUT" | sort -n >"$exp"
	awk -v b="$(region_addr h)" '$1 == "SCATTER" {
		for (k = 3; k <= NF; k++) {
			s = int($k / 512) * 512
			for (j = s; j < s + 512; j++) printf "%.0f\n", b + j * 4096
		} }' "$OUT" | sort -nu >"$blocks"
	[ "$(wc -l <"$exp")" -eq 8 ]
	layer_pages "$IMG/2" "$VPID" 4 | in_region h 1024 | sort -n >"$BATS_TEST_TMPDIR/got"
	got=$(wc -l <"$BATS_TEST_TMPDIR/got")
	fp=$(comm -23 "$BATS_TEST_TMPDIR/got" "$exp" | wc -l)
	echo "# THP: 8 pages written, layer holds $got pages of the region ($fp false positives)" >&3
	[ "$(comm -13 "$BATS_TEST_TMPDIR/got" "$exp" | wc -l)" -eq 0 ]
	# false positives only inside the huge pages that were written
	[ "$(comm -23 "$BATS_TEST_TMPDIR/got" "$blocks" | wc -l)" -eq 0 ]
	verify_ok "$IMG/2"
}

@test "soft-dirty: no valid history means a full layer with a log line (other tracker, another chain, a failed run); --tracker uffd-wp refused; auto is soft-dirty" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	: >"$BATS_TEST_TMPDIR/none"
	region_pages a 0 16 >"$BATS_TEST_TMPDIR/all"
	# parent taken with another tracker
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/h" --tracker hash
	sd -D "$IMG/1" --prev-images-dir ../h -v
	assert_output --partial "soft-dirty: pid $VPID: no tracker state in the parent layer: full layer"
	expect_layer "$IMG/1" "$VPID" a 16 "$BATS_TEST_TMPDIR/all"
	# another chain cleared the bits since layer 1
	sd -D "$IMG/other"
	sd -D "$IMG/2" --prev-images-dir ../1
	assert_output --partial "soft-dirty bits were cleared again since the parent layer"
	expect_layer "$IMG/2" "$VPID" a 16 "$BATS_TEST_TMPDIR/all"
	# a run that cleared the bits and then failed leaves no layer, and its
	# parent is no history any more
	CK_FAULT=collected:fail ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/x" --tracker soft-dirty --prev-images-dir ../2
	[ ! -e "$IMG/x" ]
	sd -D "$IMG/3" --prev-images-dir ../2
	assert_output --partial "cleared again since the parent layer"
	expect_layer "$IMG/3" "$VPID" a 16 "$BATS_TEST_TMPDIR/all"
	# and tracking works again from there
	sd -D "$IMG/4" --prev-images-dir ../3
	expect_layer "$IMG/4" "$VPID" a 16 "$BATS_TEST_TMPDIR/none"
	verify_ok "$IMG/4"
	untraced "$VPID"
	# an explicit tracker the kernel lacks is refused, with the reason
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/u" --tracker uffd-wp
	assert_output --partial "tracker uffd-wp is not available on this kernel"
	[ ! -e "$IMG/u" ]
	untraced "$VPID"
	# and the automatic choice is soft-dirty
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/5" --prev-images-dir ../4
	assert_output --partial "tracker soft-dirty"
	expect_layer "$IMG/5" "$VPID" a 16 "$BATS_TEST_TMPDIR/none"
}
