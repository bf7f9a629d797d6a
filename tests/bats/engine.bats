#!/usr/bin/env bats
# bats file_tags=root
# The memory engine's freeze (issue 16): an incremental uffd-wp layer scans no
# unchanged anonymous VMA for presence (removed pages come from the tracker's
# written set), and the final dump writes its pages after the freeze through a
# bounded buffer that spills to the image when full.  Same victim and helpers
# as predump.bats and uffd.bats.

load helpers
load mem-helpers

mem_suite root ptrace crit uffd-wp-async

# the suite's teardown, plus the small filesystem of the full-disk test
teardown() {
	if [ -n "${SMALL_MNT:-}" ]; then
		umount "$SMALL_MNT" 2>/dev/null || umount -l "$SMALL_MNT" 2>/dev/null || true
	fi
	mem_teardown
}

# answered OUTPUT: "N of M" from the last log line that counts them (needs -v):
# a dump's frozen-work line, a uffd-wp pre-dump's line after the thaw.
answered() {
	sed -n 's/.*; \([0-9]\+ of [0-9]\+\) unchanged anonymous VMAs answered.*/\1/p' <<<"$1" | tail -n1
}

# no_page_in NAME FIRST COUNT DIR: none of those pages of region NAME is in
# layer DIR's pagemap (neither present nor parent).
no_page_in() {
	local covered
	covered=$(region_pages "$1" "$2" "$3" |
		grep -cxFf - <(layer_pages "$4" "$VPID" 4; layer_pages "$4" "$VPID" 1) || true)
	[ "$covered" -eq 0 ] || fail "layer $4 still covers $covered of the removed pages $1 $2+$3"
}

# start_at_prefreeze ARGS...: ckpt ARGS stopped right before the freeze, the
# tracker taken over from its holder and, for a dump, the written set read and
# its pages copied (ckpt_stopped_at); ckpt_resume_ok lets it go on.  A
# pre-dump reads its written set after the thaw, in one walk.
start_at_prefreeze() {
	ckpt_stopped_at prefreeze "$@"
	if [ "$1" = dump ]; then
		grep -q "written pages before the freeze" "$LOG" || fail "no scan before the freeze: $(cat "$LOG")"
	else
		! grep -q "written pages before the freeze" "$LOG" || fail "a pre-dump scanned before the freeze: $(cat "$LOG")"
	fi
}

@test "engine: an incremental uffd-wp layer scans no unchanged VMA; zapped 4 KiB pages, a zapped THP and zapped-then-read pages are not claimed from the parent" {
	vcmd alloc a 1024
	vcmd fill a 0 1024 1
	vcmd thp t 1024
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/0" --tracker uffd-wp
	# the first layer armed its tracker after the thaw: the next one checks the
	# pages it listed (none came or went: the victim was idle), no VMA
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --prev-images-dir ../0 --tracker uffd-wp -v
	assert_output --partial "armed after the parent layer's freeze: 0 pages whose presence changed before their protection are checked"
	local ans
	ans=$(answered "$output")
	[ -n "$ans" ] && [ "${ans%% *}" -gt 0 ] && [ "${ans%% *}" = "${ans##* }" ] ||
		fail "layer 1 scanned VMAs: '$ans'"
	# removed in VMAs that did not change: one page, a run, a whole 2 MiB THP
	vcmd zero a 5 1
	vcmd zero a 100 50
	vcmd zero t 512 512
	vcmd fill a 300 2 2
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v
	assert_output --partial "uffd-wp: pid $VPID:"
	# every anonymous VMA of the task was unchanged and answered by the tracker
	ans=$(answered "$output")
	echo "# layer 2: $ans unchanged anonymous VMAs answered by the tracker" >&3
	[ -n "$ans" ] && [ "${ans%% *}" -gt 0 ] && [ "${ans%% *}" = "${ans##* }" ] ||
		fail "the presence scan was not skipped: '$ans'"
	region_pages a 300 2 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 1024 "$BATS_TEST_TMPDIR/exp2"
	no_page_in a 5 1 "$IMG/2"
	no_page_in a 100 50 "$IMG/2"
	no_page_in t 512 512 "$IMG/2"
	# read after the zap (the zero page; the victim's own check fails, as it
	# should): still in no layer
	vcmd verify a 100 1 1 || true
	grep -q "^ERROR $NCMD " "$OUT"
	vcmd zero a 600 1
	vcmd fill a 5 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp -v
	region_pages a 5 1 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 1024 "$BATS_TEST_TMPDIR/exp3"
	no_page_in a 600 1 "$IMG/3"
	no_page_in a 100 50 "$IMG/3"
	no_page_in t 512 512 "$IMG/3"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp --leave-stopped
	crit_all "$IMG"/0 "$IMG"/1 "$IMG"/2 "$IMG"/3 "$IMG"/4
	verify_ok "$IMG/4"
	kill -CONT "$VPID"
}

@test "engine: pre-dumps while threads rewrite their pages during the copy, five rounds; nothing is lost (final dump verifies)" {
	vcmd alloc a 256
	vcmd fill a 0 256 1
	# four writers, 4 MiB each, rewriting with a new pattern every round, forever
	vcmd threads 4 1024
	local n prev=()
	for n in 1 2 3 4 5; do
		ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/$n" --tracker uffd-wp -v "${prev[@]+"${prev[@]}"}"
		prev=(--prev-images-dir "../$n")
	done
	# the writers' regions changed during every copy: later layers hold them again
	run -0 crit decode -i "$IMG/5/stats-dump"
	echo "$output" | jq -e '.entries[0].dump.pages_written > 0'
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/6" --prev-images-dir ../5 --tracker uffd-wp --leave-stopped
	verify_ok "$IMG/6"
	kill -CONT "$VPID"
	vcmd stop-threads
}

@test "engine: a final dump whose dirty pages exceed --frozen-buffer spills while frozen; the layer verifies exactly" {
	vcmd alloc a 16384
	vcmd fill a 0 16384 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 0 16384 2
	# 64 MiB dirty, a 1 MiB buffer
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp \
		--track-mem --frozen-buffer 1M --leave-stopped -v
	assert_output --partial "frozen buffer full (1024 KiB): spilling page data to the image while frozen"
	assert_output --regexp "frozen buffer \(1024 KiB\): [0-9]+ KiB of pages, [0-9]+ KiB of them spilled"
	# 7/8 of the bound copied before the freeze, the rest read while frozen
	assert_output --regexp "; 896 KiB of them copied before the freeze"
	region_pages a 0 16384 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 16384 "$BATS_TEST_TMPDIR/exp2"
	crit_all "$IMG/1" "$IMG/2"
	verify_ok "$IMG/2"
	kill -CONT "$VPID"
	# the default buffer holds it all: written after the freeze, no spill
	vcmd fill a 0 2048 3
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp \
		--track-mem --leave-stopped -v
	refute_output --partial "frozen buffer full"
	assert_output --regexp "frozen buffer \(40960 KiB\): [0-9]+ KiB of pages, 0 KiB of them spilled"
	verify_ok "$IMG/3"
	kill -CONT "$VPID"
	# --frozen-buffer 0: every page written while frozen, still exact
	vcmd fill a 0 64 4
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp --frozen-buffer 0 --leave-stopped
	verify_ok "$IMG/4"
	kill -CONT "$VPID"
}

@test "engine: --frozen-buffer: bad sizes and the wrong verb are refused, the victim untouched" {
	local bad
	for bad in "" x 12Q -1 1MX 99999999999999999999G; do
		ckpt_run -2 dump --memory-only -t "$VPID" -D "$IMG/x" --frozen-buffer "$bad"
		assert_output --partial "--frozen-buffer"
	done
	ckpt_run ! pre-dump -t "$VPID" -D "$IMG/y" --frozen-buffer 1M
	[ ! -e "$IMG/x" ] && [ ! -e "$IMG/y" ]
	vcmd alloc z 1
	untraced "$VPID"
}

@test "engine: the default (killing) dump onto a full disk fails before the kill, through the buffer or spilling; the tree runs on and its memory checks" {
	local pid small="$BATS_TEST_TMPDIR/small" bufsize
	SMALL_MNT=$small
	start_victim rst-mem
	pid=$VICTIM_PID
	retry 200 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/rst-mem.out"
	mkdir -p "$small"
	# rst-mem has 16 MiB of pages: far more than the filesystem holds
	mount -t tmpfs -o size=4m "ckpt-frozen-$$" "$small"
	for bufsize in 48M 1M; do
		ckpt_run -1 dump -t "$pid" -D "$small/d" --frozen-buffer "$bufsize" -v
		assert_output --partial "No space left on device"
		refute_output --partial "tree killed"
		kill -0 "$pid"
		untraced "$pid"
		[ ! -e "$small/d" ]
		run -1 bash -c "ls -A '$small' | grep -q ckpt-tmp"
	done
	umount "$small"
	SMALL_MNT=
	kill -TERM "$pid"
	retry 100 0.05 grep -q '^PASS$' "$BATS_TEST_TMPDIR/rst-mem.out"
}

@test "engine: a fault at pre-kill (everything read, reserved, small images written): the tree is not killed and runs on" {
	local pid
	start_victim rst-mem
	pid=$VICTIM_PID
	retry 200 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/rst-mem.out"
	CK_FAULT=pre-kill ckpt_run -1 dump -t "$pid" -D "$IMG/k" -v
	assert_output --partial "fault injected at pre-kill"
	refute_output --partial "tree killed"
	kill -0 "$pid"
	untraced "$pid"
	[ ! -e "$IMG/k" ]
	run -1 bash -c "ls -A '$IMG' | grep -q ckpt-tmp"
	# and without the fault the same dump kills it after reading, then writes
	ckpt_run -0 dump -t "$pid" -D "$IMG/k" -v
	assert_output --partial "tree killed after"
	assert_output --regexp "KiB written after the freeze"
	retry 100 0.05 bash -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
	[ -e "$IMG/k/inventory.img" ] && [ -e "$IMG/k/pagemap-$pid.img" ]
}

@test "engine: the tree changes right before a pre-dump's freeze, its tracker taken over (writes, zaps, unmap, mremap, a new VMA): nothing is lost, the chain verifies" {
	vcmd alloc a 1024
	vcmd fill a 0 1024 1
	vcmd alloc b 256
	vcmd fill b 0 256 1
	vcmd alloc m 64
	vcmd fill m 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 0 8 2
	# stopped with the tracker taken over, not frozen yet
	start_at_prefreeze pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	vcmd fill a 100 4 3
	vcmd fill a 1020 4 3
	vcmd zero a 500 2
	vcmd unmap b 128 128
	vcmd fill b 0 2 3
	vcmd remap m m2 64
	vcmd fill m2 0 1 3
	vcmd alloc c 32
	vcmd fill c 0 32 3
	ckpt_resume_ok
	# the pages written before the freeze are in layer 2, the zapped ones are not
	region_pages a 0 8 >"$BATS_TEST_TMPDIR/exp2"
	region_pages a 100 4 >>"$BATS_TEST_TMPDIR/exp2"
	region_pages a 1020 4 >>"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 1024 "$BATS_TEST_TMPDIR/exp2"
	no_page_in a 500 2 "$IMG/2"
	vcmd fill a 200 1 4
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp --leave-stopped
	crit_all "$IMG"/1 "$IMG"/2 "$IMG"/3
	verify_ok "$IMG/3"
	kill -CONT "$VPID"
}

@test "engine: an incremental uffd-wp pre-dump reads its written set after the thaw: writes, zaps, an unmap, a replaced and a new VMA in between are in this layer or the next, the chain verifies" {
	vcmd alloc a 1024
	vcmd fill a 0 1024 1
	vcmd alloc b 256
	vcmd fill b 0 256 1
	vcmd alloc r 4
	vcmd fill r 0 4 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 0 8 2
	# stopped right after the thaw: the VMA list read frozen, no written set read since
	ckpt_stopped_at thawed pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	grep -q "frozen work: maps [0-9]* us, presence scans 0 us, tracker 0 us" "$LOG" || fail "$(cat "$LOG")"
	vcmd fill a 100 4 3
	vcmd zero a 500 2
	# the new VMA first: mapped into b's freed half, the scan of b's listed
	# range would meet it and dump b whole too (right, but not what is checked)
	vcmd alloc c 32
	vcmd fill c 0 32 3
	vcmd unmap b 128 128
	vcmd replace r
	vcmd fill r 0 2 3
	ckpt_resume_ok
	grep -qE "uffd-wp: pid $VPID: [0-9]+ written pages, 1 VMAs dumped whole" "$LOG" || fail "$(cat "$LOG")"
	grep -q "presence scan after the thaw, with the written set" "$LOG"
	# written before the freeze and after the thaw: in layer 2; the zapped pages not
	{ region_pages a 0 8; region_pages a 100 4; } >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 1024 "$BATS_TEST_TMPDIR/exp2"
	no_page_in a 500 2 "$IMG/2"
	# the replaced VMA whole: its two present pages
	region_pages r 0 2 >"$BATS_TEST_TMPDIR/expr"
	expect_layer "$IMG/2" "$VPID" r 4 "$BATS_TEST_TMPDIR/expr"
	# the new VMA (made after the freeze) is the next layer's, whole
	vcmd fill a 200 1 4
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	region_pages c 0 32 >"$BATS_TEST_TMPDIR/expc"
	expect_layer "$IMG/3" "$VPID" c 32 "$BATS_TEST_TMPDIR/expc"
	region_pages a 200 1 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 1024 "$BATS_TEST_TMPDIR/exp3"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp --leave-stopped
	crit_all "$IMG"/1 "$IMG"/2 "$IMG"/3 "$IMG"/4
	verify_ok "$IMG/4"
	kill -CONT "$VPID"
}

@test "engine: a VMA replaced at the same address right before the freeze (maps unchanged, registration gone), among 200 tracked VMAs: dumped whole by a pre-dump (checked calls after the thaw) and by a final dump (after its scan before the freeze; one frozen scan span)" {
	local i
	# every other region read-only: 200 VMAs that never merge
	for i in $(seq 100); do
		vcmd alloc r$i 4
		vcmd fill r$i 0 4 1
		vcmd alloc q$i 1
		vcmd protect q$i 0 1 r
	done
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	# stopped right before the freeze
	start_at_prefreeze pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp
	vcmd replace r50
	vcmd fill r50 0 2 3
	vcmd fill r7 1 1 4
	ckpt_resume_ok
	grep -qE "uffd-wp: pid $VPID: [0-9]+ written pages, 1 VMAs dumped whole" "$LOG" || fail "$(cat "$LOG")"
	# the replacement's two present pages, and the one written in a tracked VMA
	region_pages r50 0 2 >"$BATS_TEST_TMPDIR/exp50"
	expect_layer "$IMG/3" "$VPID" r50 4 "$BATS_TEST_TMPDIR/exp50"
	region_pages r7 1 1 >"$BATS_TEST_TMPDIR/exp7"
	expect_layer "$IMG/3" "$VPID" r7 4 "$BATS_TEST_TMPDIR/exp7"
	# tracked again from then on
	vcmd fill r50 3 1 5
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker uffd-wp
	region_pages r50 3 1 >"$BATS_TEST_TMPDIR/exp50b"
	expect_layer "$IMG/4" "$VPID" r50 4 "$BATS_TEST_TMPDIR/exp50b"
	# the same in a final dump, whose written-set scan is frozen: the span scan
	# must find r60 unregistered among the 200, though its maps line is as before
	start_at_prefreeze dump --memory-only -t "$VPID" -D "$IMG/5" --prev-images-dir ../4 --tracker uffd-wp --leave-stopped
	vcmd replace r60
	vcmd fill r60 1 2 6
	ckpt_resume_ok
	grep -qE "uffd-wp: pid $VPID: [0-9]+ written pages, 1 VMAs dumped whole" "$LOG" || fail "$(cat "$LOG")"
	region_pages r60 1 2 >"$BATS_TEST_TMPDIR/exp60"
	expect_layer "$IMG/5" "$VPID" r60 4 "$BATS_TEST_TMPDIR/exp60"
	verify_ok "$IMG/5"
	kill -CONT "$VPID"
}

@test "engine: a final dump copies the written pages before the freeze; pages written, zapped or unmapped before the freeze are read again, the layer verifies" {
	vcmd alloc a 2048
	vcmd fill a 0 2048 1
	vcmd alloc b 64
	vcmd fill b 0 64 1
	vcmd alloc c 64
	vcmd fill c 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 0 1024 2
	vcmd fill b 0 64 2
	vcmd fill c 0 64 2
	# stopped with the written pages copied, not frozen yet
	start_at_prefreeze dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp --leave-stopped
	vcmd fill a 10 20 3
	vcmd fill a 1000 48 3
	vcmd zero a 500 4
	vcmd unmap b 0 32
	vcmd remap c c2 64
	vcmd fill c2 7 1 4
	ckpt_resume_ok
	grep -q "; [1-9][0-9]* KiB of them copied before the freeze" "$LOG" || fail "no early copy: $(cat "$LOG")"
	crit_all "$IMG"/1 "$IMG"/2
	verify_ok "$IMG/2"
	kill -CONT "$VPID"
}

@test "engine: a final dump's early copy stays within --frozen-buffer: the rest is read while frozen, the layer verifies" {
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd fill a 0 4096 2
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp --leave-stopped --frozen-buffer 4M -v4
	# 7/8 of the bound copied before the freeze, the rest read while frozen
	assert_output --partial "3584 KiB copied, in"
	assert_output --partial "; 3584 KiB of them copied before the freeze"
	verify_ok "$IMG/2"
	kill -CONT "$VPID"
}
