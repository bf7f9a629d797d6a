#!/usr/bin/env bats
# bats file_tags=root
# The uffd-wp tracker (userfaultfd async write-protect + PAGEMAP_SCAN): exact
# layers, fallbacks, tracker lifetime.  Same victim and helpers as predump.bats.

load helpers
load mem-helpers

mem_suite root ptrace crit uffd-wp-async

# holder_sock PID: the path of the uffd holder socket of PID (root's directory).
holder_sock() {
	local st
	st=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null) || return 0
	echo "/run/ckpt/uffd/$1-$st.sock"
}

# holder_of PID: the pid of the uffd holder serving PID ("" when none): the
# process holding the socket that listens on holder_sock PID.
holder_of() {
	local ino h
	ino=$(awk -v p="$(holder_sock "$1")" '$8 == p && $4 == "00010000" {print $7; exit}' /proc/net/unix)
	[ -n "$ino" ] || return 0
	for h in $(pgrep -x ckpt-uffd); do
		if ls -l "/proc/$h/fd" 2>/dev/null | grep -qF "socket:[$ino]"; then
			echo "$h"
			return 0
		fi
	done
}

no_holder_for() {
	! grep -q " /run/ckpt/uffd/$1-[0-9]*\.sock\$" /proc/net/unix
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

# first_layer_gap POINT IN1: a first uffd-wp layer stopped at POINT (after the
# thaw), 50 pages faulted in there; they must be in layer 1 when IN1 is 1 (its
# presence scan comes later), else in layer 2; the chain is exact either way.
first_layer_gap() {
	vcmd alloc a 256
	vcmd fill a 0 16 1
	ckpt_stopped_at "$1" pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 100 50 2
	ckpt_resume_ok
	# the first layer holds the freeze for the VMA list only; presence is scanned after the thaw
	grep -q "presence scan after the thaw" "$LOG"
	{
		region_pages a 0 16
		[ "$2" = 1 ] && region_pages a 100 50
	} >"$BATS_TEST_TMPDIR/exp1"
	expect_layer "$IMG/1" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp1"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v 4
	local out2=$output
	if [ "$2" = 1 ]; then :; else region_pages a 100 50; fi >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp2"
	verify_ok "$IMG/2"
	# how: the first layer listed what changed before its protection (the 50
	# pages when they came after its presence scan), the second checked those
	# pages and scanned no unchanged VMA
	[ -f "$IMG/1/uffd-late-$VPID.state" ]
	local came=0
	[ "$2" = 1 ] || came=50
	grep -q "pid $VPID: $came pages came and 0 went before their protection" "$LOG"
	[[ "$out2" == *"armed after the parent layer's freeze: $came pages whose presence changed before their protection are checked"* ]]
	[[ "$out2" != *"every VMA checked for presence"* ]]
	# (the last such line: a pre-dump's, after the thaw)
	local ans
	ans=$(sed -n 's/.*; \([0-9]\+ of [0-9]\+\) unchanged anonymous VMAs answered.*/\1/p' <<<"$out2" | tail -n1)
	[ -n "$ans" ] && [ "${ans%% *}" -gt 0 ] && [ "${ans%% *}" = "${ans##* }" ] || fail "layer 2 scanned VMAs: '$ans'"
	# armed while frozen since: the next layer is exact on the written set alone
	[ ! -e "$IMG/2/uffd-late-$VPID.state" ]
	vcmd fill a 3 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp -v 4
	refute_output --partial "armed after the parent layer's freeze"
	region_pages a 3 1 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp3"
	verify_ok "$IMG/3"
}

@test "uffd-wp: pages that appear between a first layer's presence scan (after the thaw) and its tracker's arm are in the next layer" {
	# late-presence: the scan done, the tracker not armed yet (the arm re-protects
	# these pages: no written bit names them; uffd-late makes layer 2 find them)
	first_layer_gap late-presence 2
}

@test "uffd-wp: pages that appear right after a first layer's thaw (before its presence scan) are in that layer" {
	first_layer_gap thawed 1
}

@test "uffd-wp: pages that came or went between a first layer's presence scan and its protection are right in the final dump after it" {
	# the runc flow: one pre-dump, then the final dump, which reads the late
	# pages before its freeze (they are in its written set) and scans no VMA
	vcmd alloc a 256
	vcmd fill a 0 16 1
	ckpt_stopped_at late-presence pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 100 50 2
	vcmd zero a 0 4
	ckpt_resume_ok
	grep -q "pid $VPID: 50 pages came and 4 went before their protection" "$LOG"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp --leave-running -v 4
	assert_output --partial "54 pages whose presence changed before their protection are checked"
	refute_output --partial "every VMA checked for presence"
	# the 50 late pages were copied before the freeze, with the written ones
	[[ "$output" =~ before\ the\ freeze:\ [0-9]+\ tasks,\ parent\ pages\ and\ tracker\ state\ read,\ ([0-9]+)\ KiB\ copied ]]
	[ "${BASH_REMATCH[1]}" -ge 200 ] || fail "early copy: ${BASH_REMATCH[1]} KiB"
	region_pages a 100 50 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp2"
	# the zapped pages are not taken from the parent either
	region_pages a 4 12 >"$BATS_TEST_TMPDIR/par2"
	diff <(layer_pages "$IMG/2" "$VPID" 1 | in_region a 256 | sort -n) <(sort -n "$BATS_TEST_TMPDIR/par2")
	verify_ok "$IMG/2"
}

@test "uffd-wp: a damaged late list in the parent layer: every VMA is checked for presence, the layer is exact" {
	vcmd alloc a 64
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	local f="$IMG/1/uffd-late-$VPID.state"
	grep -qx 'ranges 0' "$f"
	{ head -n1 "$f"; printf 'ranges 2\n2000-1000\n'; } >"$f.new" && mv "$f.new" "$f"
	vcmd fill a 20 5 2
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v
	assert_output --partial "uffd-late-$VPID.state in the parent layer: malformed range list (entry 1 of 2)"
	assert_output --partial "armed after the parent layer's freeze: every VMA checked for presence"
	region_pages a 20 5 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 64 "$BATS_TEST_TMPDIR/exp2"
	verify_ok "$IMG/2"
}

@test "uffd-wp: a first layer protects its pages chunk by chunk and hands the tracker over after the copy: pages written in between are in the next layer" {
	vcmd alloc a 256
	vcmd fill a 0 16 1
	# uffd-handoff: every page copied and protected, the uffd not given to its holder yet
	ckpt_stopped_at uffd-handoff pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 0 8 2
	vcmd fill a 100 50 2
	ckpt_resume_ok
	region_pages a 0 16 >"$BATS_TEST_TMPDIR/exp1"
	expect_layer "$IMG/1" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp1"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v 4
	{ region_pages a 0 8; region_pages a 100 50; } >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp2"
	verify_ok "$IMG/2"
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

# vtry CMD...: send one command to the victim; succeeds on ACK, fails on
# ERROR (its line in $output).
vtry() {
	NCMD=$((NCMD + 1))
	echo "$*" >"$FIFO"
	retry 200 0.02 grep -qE "^(ACK|ERROR) $NCMD( |\$)" "$OUT" || fail "victim did not answer '$*'"
	output=$(grep -E "^(ACK|ERROR) $NCMD( |\$)" "$OUT")
	retry 200 0.01 victim_idle || fail "victim did not go back to reading commands"
	[[ "$output" == ACK* ]]
}

@test "item 3: a target with a userfaultfd of its own: auto picks another tracker, --tracker uffd-wp is refused" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	vcmd uffd-open
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1"
	assert_output --partial "uffd-wp not used: pid $VPID holds a userfaultfd of its own"
	refute_output --partial "(tracker uffd-wp)"
	no_holder_for "$VPID"
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	assert_output --partial "--tracker uffd-wp refused: pid $VPID holds a userfaultfd of its own"
	[ ! -e "$IMG/2" ]
	run -0 untraced "$VPID"
	[ "$(proc_state "$VPID")" != t ]
	# its own use of userfaultfd works
	vtry uffd-register a
	# a final dump arms nothing: uffd-wp is not refused there
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../1 --tracker uffd-wp --leave-running
	verify_ok "$IMG/3"
}

@test "item 3: after uffd-wp pre-dumps the target's UFFDIO_REGISTER gets EBUSY; ckpt untrack releases the ranges" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	[ -n "$(holder_of "$VPID")" ]
	vcmd uffd-open
	if vtry uffd-register a; then fail "UFFDIO_REGISTER on a tracked range worked"; fi
	assert_output --partial "Device or resource busy"
	ckpt_run -0 untrack -t "$VPID"
	assert_output --regexp "untrack: pid $VPID: uffd-wp tracking released \(tracker process [0-9]+\)"
	assert_output --partial "1 of 1 tasks were tracked; released"
	no_holder_for "$VPID"
	# untouched otherwise: never stopped nor traced, and no fd left behind
	run -0 untraced "$VPID"
	[ "$(ls -l "/proc/$VPID/fd" | grep -c userfaultfd)" -eq 1 ]
	vtry uffd-register a
	ckpt_run -0 untrack -t "$VPID"
	assert_output --partial "no task of the tree (1) is tracked"
	# the next pre-dump sees the target's own uffd and does not track it again
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1
	assert_output --partial "uffd-wp not used: pid $VPID holds a userfaultfd of its own"
	no_holder_for "$VPID"
}

@test "item 3: a target that opened a userfaultfd after tracking began: the next pre-dump releases the tracking" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd uffd-open
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1
	assert_output --partial "pid $VPID uses userfaultfd itself: its tracking from an earlier run is released"
	no_holder_for "$VPID"
	vtry uffd-register a
}

@test "untrack: usage errors" {
	ckpt_run -2 untrack
	assert_output --partial "no target"
	ckpt_run -2 untrack -t abc
	assert_output --partial "is not a process id"
	ckpt_run -2 untrack -t "$VPID" extra
	assert_output --partial "unexpected argument"
	ckpt_run -1 untrack -t 999999999
	assert_output --partial "999999999"
}

# Start a mem-victim as pid 1 of a new pid namespace: NSPID (host pid of it).
start_ns_victim() {
	local out="$BATS_TEST_TMPDIR/ns-victim.out" i
	mkfifo "$BATS_TEST_TMPDIR/nscmd"
	GLIBC_TUNABLES=glibc.pthread.rseq=0 unshare -p -f --mount-proc \
		"$VICTIMS/mem-victim" "$BATS_TEST_TMPDIR/nscmd" >"$out" 2>&1 3>&- </dev/null &
	VICTIM_PIDS+=("$!")
	retry 100 0.05 grep -q '^READY 1$' "$out" || fail "no victim in a new pid namespace"
	NSPID=$(pgrep -P "$!" -x mem-victim)
	[ -n "$NSPID" ]
	VICTIM_PIDS+=("$NSPID")
}

# No task of the tree of $1 is a uffd holder (the holder's children are listed).
no_holder_child() {
	! ps -o comm= --ppid "$1" | grep -qx ckpt-uffd
}

@test "item 6: ckpt inside the target's pid namespace: no holder in the tree, no hang, --tracker uffd-wp refused" {
	start_ns_victim
	run -0 timeout 60 nsenter -t "$NSPID" -p -m "$CKPT" pre-dump -t 1 -D "$IMG/1"
	echo "$output"
	assert_output --partial "uffd-wp not used: pid 1, the init of ckpt's pid namespace, is in the tree"
	no_holder_child "$NSPID"
	# the next pre-dump ends (it waited forever for a holder frozen with the tree)
	run -0 timeout 60 nsenter -t "$NSPID" -p -m "$CKPT" pre-dump -t 1 -D "$IMG/2" --prev-images-dir ../1
	echo "$output"
	no_holder_child "$NSPID"
	run -1 timeout 60 nsenter -t "$NSPID" -p -m "$CKPT" pre-dump -t 1 -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	echo "$output"
	assert_output --partial "--tracker uffd-wp refused: pid 1, the init of ckpt's pid namespace"
	[ ! -e "$IMG/3" ]
	run -0 untraced "$NSPID"
	[ "$(proc_state "$NSPID")" != t ]
	# from outside the namespace the tree is tracked, and the holder is not its child
	ckpt_run -0 pre-dump -t "$NSPID" -D "$IMG/4" --tracker uffd-wp
	[ -n "$(holder_of "$NSPID")" ]
	no_holder_child "$NSPID"
	ckpt_run -0 pre-dump -t "$NSPID" -D "$IMG/5" --prev-images-dir ../4 --tracker uffd-wp
	assert_output --partial "0 pages written"
	ckpt_run -0 untrack -t "$NSPID"
}

@test "item 6: a stopped tracker process is not waited for: full layer, it is replaced, tracking goes on" {
	vcmd alloc a 32
	vcmd fill a 0 32 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	local h
	h=$(holder_of "$VPID")
	[ -n "$h" ]
	kill -STOP "$h"
	vcmd fill a 3 1 2
	run -0 timeout 60 "$CKPT" pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	echo "$output"
	assert_output --partial "uffd holder $h of pid $VPID is stopped: ignored"
	assert_output --partial "is stopped: killed"
	region_pages a 0 32 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 32 "$BATS_TEST_TMPDIR/exp2"
	[ -n "$(holder_of "$VPID")" ]
	[ "$(holder_of "$VPID")" != "$h" ]
	vcmd fill a 7 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	region_pages a 7 1 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 32 "$BATS_TEST_TMPDIR/exp3"
	ckpt_run -0 untrack -t "$VPID"
}

@test "item 12: another user squatting the holder's socket names does not switch root's tracking off" {
	requires nobody
	local st sock
	st=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$VPID/stat")
	sock=$(holder_sock "$VPID")
	# the old abstract name, the new path, and the directory itself (when absent)
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$VICTIMS/sock-squat" \
		"@ckpt-uffd-$VPID-$st" "$sock" >"$BATS_TEST_TMPDIR/squat.out" 2>&1 3>&- </dev/null &
	VICTIM_PIDS+=("$!")
	retry 100 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/squat.out"
	cat "$BATS_TEST_TMPDIR/squat.out"
	grep -qx "BOUND @ckpt-uffd-$VPID-$st" "$BATS_TEST_TMPDIR/squat.out"
	grep -q "^FAILED $sock " "$BATS_TEST_TMPDIR/squat.out"
	run ! setpriv --reuid=nobody --regid=nogroup --clear-groups mkdir -p /run/ckpt/uffd/x
	vcmd alloc a 64
	vcmd fill a 0 64 1
	# (bounded: ckpt used to wait forever for the squatter's answer)
	run -0 timeout 60 "$CKPT" pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	echo "$output"
	refute_output --partial "Warn"
	vcmd fill a 10 2 2
	run -0 timeout 60 "$CKPT" pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	echo "$output"
	refute_output --partial "Warn"
	region_pages a 10 2 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 64 "$BATS_TEST_TMPDIR/exp2"
	# the directory is root's alone
	[ "$(stat -c '%U %a' /run/ckpt/uffd)" = "root 700" ]
	ckpt_run -0 untrack -t "$VPID"
}

# file_text_ranges PID: "start end" (decimal) of every private file mapping
# that is executable and not writable (text): never COW'd here, only page cache
# (read-only data may hold COW'd pages: RELRO is written, then protected).
file_text_ranges() {
	local range perms off dev ino path
	while read -r range perms off dev ino path; do
		[[ "$perms" == r-xp && "$path" == /* ]] || continue
		echo "$((16#${range%-*})) $((16#${range#*-}))"
	done <"/proc/$1/maps"
}

@test "item 13: independent pre-dumps of an idle process hold the same pages, no page-cache page of a private file mapping" {
	local lay n
	vcmd alloc a 64
	vcmd fill a 0 64 1
	for lay in 1 2 3 4; do
		ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/$lay" --tracker uffd-wp
		layer_pages "$IMG/$lay" "$VPID" 4 >"$BATS_TEST_TMPDIR/pages.$lay"
		wc -l <"$BATS_TEST_TMPDIR/pages.$lay" >>"$BATS_TEST_TMPDIR/counts"
	done
	echo "# pages per layer: $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/counts")" >&3
	# an armed tracker (left by the layer before) changes nothing in the next one
	[ "$(sort -u "$BATS_TEST_TMPDIR/counts" | wc -l)" -eq 1 ]
	for lay in 2 3 4; do
		diff "$BATS_TEST_TMPDIR/pages.1" "$BATS_TEST_TMPDIR/pages.$lay"
	done
	# libc's and the victim's text: no page in any layer
	file_text_ranges "$VPID" >"$BATS_TEST_TMPDIR/ro"
	[ -s "$BATS_TEST_TMPDIR/ro" ]
	n=$(cat "$BATS_TEST_TMPDIR"/pages.* | awk 'NR == FNR { lo[NR] = $1; hi[NR] = $2; k = NR; next }
		{ for (j = 1; j <= k; j++) if ($1 >= lo[j] && $1 < hi[j]) c++ } END { print c + 0 }' \
		"$BATS_TEST_TMPDIR/ro" -)
	[ "$n" -eq 0 ] || fail "$n pages of private file text mappings in the layers"
}

# A failed or killed run has already re-protected the pages it scanned: the
# next layer on the same parent must not trust the tracker (the written set is
# gone), or it would take the pages written before the failed run from the
# parent.  Found by copy.bats under CKPT_TEST_TRACKER=uffd-wp.
@test "uffd-wp: a layer that fails or is killed after its scans leaves the parent without history: the next layer is full and verifies" {
	local fault
	vcmd alloc a 1024
	vcmd fill a 0 1024 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	for fault in pages pages:kill; do
		vcmd fill a 0 512 2
		CK_FAULT=$fault ckpt_run ! pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
		[ ! -e "$IMG/2" ]
		retry 100 0.02 untraced "$VPID"
	done
	ckpt_run -0 --separate-stderr dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 \
		--tracker uffd-wp --leave-stopped
	# the killed run had armed anew (no history) and died before handing its uffd to a
	# holder: the parent's holder is gone (stopped by that arm), or another one runs
	[[ "$stderr" == *"is not the one of the parent layer: full layer"* ||
		"$stderr" == *"the tracker process that armed the parent layer is gone: full layer"* ]] ||
		fail "no full-layer line: $stderr"
	ckpt_run -0 verify -t "$VPID" -D "$IMG/2"
	assert_output --partial ": OK"
	kill -CONT "$VPID"
}

# dash runs each command through vfork: the child shares the tracked shell's
# address space and shows its registrations (VmFlags uw) without a holder of
# its own.  Those are ours, not the target's own userfaultfd use.
@test "uffd-wp: a shell vforking short-lived children: 10 chained pre-dumps succeed, none refused" {
	sh -c 'while :; do /bin/true; done' 3>&- </dev/null >/dev/null 2>&1 &
	VICTIM_PIDS+=("$!")
	local p=$! i prev=()
	for i in $(seq 1 10); do
		ckpt_run -0 --separate-stderr pre-dump -t "$p" -D "$IMG/v$i" --tracker uffd-wp "${prev[@]}"
		[[ "$stderr" != *"registered with a userfaultfd"* ]] || fail "$stderr"
		prev=(--prev-images-dir "../v$i")
	done
	untraced "$p"
}

@test "uffd-wp: a child killed during a first pre-dump, caught while its memory is released (not yet a zombie): the scan after the thaw drops it, the layer is written" {
	TRACKER=uffd-wp predump_exiting_child "exited during the pre-dump"
}

@test "uffd-wp: a child execs between the pre-dump's thaw and its scan: left out of the layer (its scans fail on the address space that is gone), the next layer takes it whole" {
	TRACKER=uffd-wp predump_execing_child thawed
}

@test "uffd-wp: a child execs after the pre-dump's scan, before its copy: left out of the layer, not armed in the new program" {
	TRACKER=uffd-wp predump_execing_child late-presence
	grep -q "pid $(sed -n 's/^CHILD //p' "$OUT" | tail -1): tracker armed" "$LOG" && fail "armed in the new program"
	true
}

@test "uffd-wp: a child execs half-way through the pre-dump's copy of its pages: what was read is discarded with its images" {
	TRACKER=uffd-wp predump_execing_child pages
}

# The vfork child shares its parent's address space at the freeze; after its
# exec the parent keeps that one alive, so only kcmp tells.
@test "uffd-wp: a vfork child execs after a cgroup pre-dump's thaw: left out of the layer (kcmp against its parent), not armed in the new program; the next layer takes it whole" {
	requires cgroup-freezer
	[ -d /sys/fs/cgroup/unified ] || skip "no cgroup v2 hierarchy"
	CG=/sys/fs/cgroup/unified/ckpt-test-$$-$BATS_TEST_NUMBER-vfork
	mkdir "$CG"
	CGROUPS+=("$CG")
	local go="$BATS_TEST_TMPDIR/go" out="$BATS_TEST_TMPDIR/vf.out" p c
	mkfifo "$go"
	(
		echo "$BASHPID" >"$CG/cgroup.procs"
		exec "$VICTIMS/vfork-victim" exec >"$out" 2>&1 3<>"$go" </dev/null
	) &
	VICTIM_PIDS+=("$!")
	retry 100 0.05 grep -q '^READY' "$out"
	p=$(sed -n 's/^READY parent=\([0-9]*\) child=.*/\1/p' "$out")
	c=$(sed -n 's/^READY parent=[0-9]* child=//p' "$out")
	VICTIM_PIDS+=("$c")
	ckpt_stopped_at thawed pre-dump --cgroup "$CG" -D "$IMG/x" --tracker uffd-wp
	echo x >"$go"
	cat_reading "$c"
	ckpt_resume_ok
	grep -q "pid $c exec'd during the pre-dump (it no longer shares the address space of pid $p" "$LOG"
	run grep "pid $c: tracker armed" "$LOG"
	assert_failure
	[ -e "$IMG/x/pagemap-$p.img" ]
	[ ! -e "$IMG/x/pagemap-$c.img" ]
	[ ! -e "$IMG/x/mm-$c.img" ]
	[ ! -e "$IMG/x/uffd-$c.state" ]
	no_holder_for "$c"
	no_uffd_in "$c"
	ckpt_run -0 pre-dump --cgroup "$CG" -D "$IMG/y" --prev-images-dir ../x --tracker uffd-wp
	ckpt_run -0 verify --cgroup "$CG" -D "$IMG/y"
	assert_output --partial ": OK"
}

@test "uffd-wp: a tracked child execs between two pre-dumps: the next one finds its tracker's address space gone, takes it whole and arms it anew; the one after is incremental for it again" {
	child_of_pages 8192
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	kill -USR1 "$CHILD"
	cat_reading "$CHILD"
	ckpt_run -0 --separate-stderr pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v 4
	[[ "$stderr" == *"pid $CHILD exec'd since its parent layer"* ]] || fail "$stderr"
	[[ "$stderr" == *"uffd-wp: pid $CHILD: tracker armed"* ]] || fail "$stderr"
	ckpt_run -0 --separate-stderr pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp -v 4
	[[ "$stderr" =~ "uffd-wp: pid $CHILD: "[0-9]+" written pages, 0 VMAs dumped whole" ]] || fail "$stderr"
	verify_ok "$IMG/3"
	untraced "$CHILD"
}

@test "uffd-wp: a child killed while a pre-dump holds the tree frozen, caught while its memory is released: no memory object for it, the layer is written" {
	TRACKER=uffd-wp POINT=frozen predump_exiting_child "is exiting (its memory already released)"
}
