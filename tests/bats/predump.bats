#!/usr/bin/env bats
# bats file_tags=root
# Memory layers: pre-dump / dump / verify with the hash and none trackers, on a
# victim driven through a fifo (tests/victims/mem-victim.c).

load helpers

# The tracker under test; the next trackers run this file with
# CKPT_TEST_TRACKER=uffd-wp (or soft-dirty in its lane).
TRACKER=${CKPT_TEST_TRACKER:-hash}

load mem-helpers

mem_suite root ptrace crit

@test "pre-dump x3 + dump (hash): each layer holds exactly the pages written since its parent, chain equals memory" {
	vcmd alloc a 256
	vcmd fill a 0 256 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	assert_output --partial "tracker $TRACKER"
	region_pages a 0 256 >"$BATS_TEST_TMPDIR/exp1"
	expect_layer "$IMG/1" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp1"

	vcmd fill a 10 5 2
	vcmd fill a 100 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	{ region_pages a 10 5; region_pages a 100 1; } >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp2"
	[ "$(readlink "$IMG/2/parent")" = ../1 ]

	# rewriting a page with the same content is not a change
	vcmd fill a 200 3 4
	vcmd fill a 10 1 2
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker "$TRACKER"
	region_pages a 200 3 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp3"

	vcmd fill a 255 1 5
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../3 --tracker "$TRACKER" --leave-running
	region_pages a 255 1 >"$BATS_TEST_TMPDIR/exp4"
	expect_layer "$IMG/4" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp4"
	# unchanged pages are PE_PARENT entries
	[ "$(layer_pages "$IMG/4" "$VPID" 1 | in_region a 256 | wc -l)" -eq 255 ]

	crit_all "$IMG"/1 "$IMG"/2 "$IMG"/3 "$IMG"/4
	verify_ok "$IMG/4"
	# every layer of the chain is a valid reconstruction of its own time; the
	# newest one equals memory
	run -0 crit decode -i "$IMG/4/stats-dump"
	echo "$output" | jq -e '.entries[0].dump | .pages_written > 0 and .pages_skipped_parent > 0 and .frozen_time > 0'
	echo "$output" | jq -e '.entries[0].dump | .pages_scanned == .pages_written + .pages_skipped_parent'
	# the victim keeps running
	vcmd fill a 0 1 9
}

@test "none tracker: every layer is full, the chain still verifies" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker none
	vcmd fill a 3 1 2
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker none --leave-running
	assert_output --partial "0 from parent"
	region_pages a 0 64 >"$BATS_TEST_TMPDIR/exp"
	expect_layer "$IMG/2" "$VPID" a 64 "$BATS_TEST_TMPDIR/exp"
	crit_all "$IMG/1" "$IMG/2"
	verify_ok "$IMG/2"
}

@test "verify detects a corrupted page and a page changed after the dump" {
	vcmd alloc a 32
	vcmd fill a 0 32 1
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/1" --leave-running --tracker "$TRACKER"
	verify_ok "$IMG/1"
	vcmd fill a 7 1 2
	ckpt_run -1 verify -t "$VPID" -D "$IMG/1"
	assert_output --partial "MISMATCH pid $VPID page $(printf '%#x' "$(region_pages a 7 1)")"
	assert_output --regexp "[1-9][0-9]* differ, 0 missing"
	# a fresh layer, then damage the image itself
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --leave-running --tracker "$TRACKER"
	verify_ok "$IMG/2"
	local off
	off=$(($(stat -c %s "$IMG/2/pages-1.img") / 2))
	printf '\x5a' | dd of="$IMG/2/pages-1.img" bs=1 seek="$off" conv=notrunc status=none
	ckpt_run -1 verify -t "$VPID" -D "$IMG/2"
	assert_output --regexp "MISMATCH pid $VPID page 0x[0-9a-f]+"
	assert_output --partial "1 differ, 0 missing"
}

@test "forked child: both tasks are dumped, pstree lists them, chain verifies" {
	vcmd alloc a 32
	vcmd fill a 0 32 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	vcmd fork a 2
	local child
	child=$(awk '$1 == "CHILD" {print $2}' "$OUT")
	VICTIM_PIDS+=("$child")
	vcmd fill a 0 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	run -0 crit decode -i "$IMG/2/pstree.img"
	echo "$output" | jq -e --argjson p "$VPID" --argjson c "$child" \
		'[.entries[] | {pid, ppid}] == [{pid: $p, ppid: 0}, {pid: $c, ppid: $p}]'
	# the child is new: all its pages are in the layer
	region_pages a 0 32 >"$BATS_TEST_TMPDIR/expc"
	expect_layer "$IMG/2" "$child" a 32 "$BATS_TEST_TMPDIR/expc"
	region_pages a 0 1 >"$BATS_TEST_TMPDIR/expp"
	expect_layer "$IMG/2" "$VPID" a 32 "$BATS_TEST_TMPDIR/expp"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --leave-running --tracker "$TRACKER"
	crit_all "$IMG/2" "$IMG/3"
	verify_ok "$IMG/3"
	assert_output --partial "2 tasks"
}

@test "new mmap, munmap, mremap and MADV_DONTNEED between rounds" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	vcmd alloc m 16
	vcmd fill m 0 16 5
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	vcmd alloc b 8
	vcmd fill b 0 8 2
	vcmd unmap a 32 16
	vcmd zero a 0 4
	vcmd remap m m2 20
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	# the new VMA and the moved pages are written whole; zeroed and unmapped pages are gone
	region_pages b 0 8 >"$BATS_TEST_TMPDIR/expb"
	expect_layer "$IMG/2" "$VPID" b 8 "$BATS_TEST_TMPDIR/expb"
	region_pages m2 0 16 >"$BATS_TEST_TMPDIR/expm"
	expect_layer "$IMG/2" "$VPID" m2 16 "$BATS_TEST_TMPDIR/expm"
	[ "$(layer_pages "$IMG/2" "$VPID" 4 | in_region a 64 | wc -l)" -eq 0 ]
	[ "$(layer_pages "$IMG/2" "$VPID" 1 | in_region a 64 | wc -l)" -eq 44 ]
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --leave-running --tracker "$TRACKER"
	crit_all "$IMG/2" "$IMG/3"
	verify_ok "$IMG/3"
	refute_output --partial OUTSIDE
}

@test "private file mapping: only written (COW) pages are dumped" {
	local f="$BATS_TEST_TMPDIR/data"
	head -c $((32 * 4096)) /dev/urandom >"$f"
	vcmd file fm "$f" 32
	vcmd fill fm 4 2 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	region_pages fm 4 2 >"$BATS_TEST_TMPDIR/exp1"
	expect_layer "$IMG/1" "$VPID" fm 32 "$BATS_TEST_TMPDIR/exp1"
	vcmd fill fm 20 1 2
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --leave-running --tracker "$TRACKER"
	region_pages fm 20 1 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" fm 32 "$BATS_TEST_TMPDIR/exp2"
	run -0 crit decode -i "$IMG/2/mm-$VPID.img"
	# REGULAR|FILE_PRIVATE
	echo "$output" | jq -e --argjson a "$(region_addr fm)" '.entries[0].vmas[] | select(.start == $a) | .status == 65'
	verify_ok "$IMG/2"
}

@test "multi-threaded writer: the final dump equals memory" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	vcmd threads 2 64
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --leave-stopped --tracker "$TRACKER"
	[ "$(proc_state "$VPID")" = T ]
	run -0 crit decode -i "$IMG/3/pstree.img"
	echo "$output" | jq -e '.entries[0].threads | length == 3'
	verify_ok "$IMG/3"
	[ "$(proc_state "$VPID")" = T ]
	kill -CONT "$VPID"
	vcmd stop-threads
}

@test "shared anonymous memory is dumped once as a shmem pagemap" {
	vcmd shared s 16
	vcmd fill s 0 8 1
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/1" --leave-running --tracker "$TRACKER"
	local ino
	ino=$(stat -L -c %i "/proc/$VPID/map_files/$(printf '%x' "$(region_addr s)")-$(printf '%x' $(($(region_addr s) + 16 * 4096)))")
	[ -f "$IMG/1/pagemap-shmem-$ino.img" ]
	run -0 crit decode -i "$IMG/1/pagemap-shmem-$ino.img"
	echo "$output" | jq -e '[.entries[1:][] | .nr_pages] | add == 8'
	verify_ok "$IMG/1"
	assert_output --partial "1 segments"
}

@test "PROT_NONE pages with content are dumped and verified" {
	vcmd alloc a 8
	vcmd fill a 0 8 1
	vcmd protect a 2 2 none
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/1" --leave-running --tracker "$TRACKER"
	region_pages a 0 8 >"$BATS_TEST_TMPDIR/exp"
	expect_layer "$IMG/1" "$VPID" a 8 "$BATS_TEST_TMPDIR/exp"
	verify_ok "$IMG/1"
}

@test "pagemap fallback (no PAGEMAP_SCAN) selects the same pages" {
	vcmd alloc a 64
	vcmd fill a 0 20 1
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/1" --leave-running --tracker "$TRACKER"
	CK_FAULT=no-pagemap-scan ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --leave-running --tracker "$TRACKER"
	diff <(layer_pages "$IMG/1" "$VPID" 4) <(layer_pages "$IMG/2" "$VPID" 4)
	verify_ok "$IMG/2"
}

@test "cgroup v2 and v1 freezer: pre-dump, dump, verify; the cgroup ends thawed" {
	requires cgroup-freezer
	local v
	for v in 2 1; do
		make_cgroup "$v"
		vcmd alloc a$v 16
		vcmd fill a$v 0 16 $v
		ckpt_run -0 pre-dump --cgroup "$CG" -D "$IMG/$v-1" -v --tracker "$TRACKER"
		vcmd fill a$v 0 1 9
		ckpt_run -0 dump --memory-only --cgroup "$CG" -D "$IMG/$v-2" --prev-images-dir "../$v-1" --leave-running --tracker "$TRACKER"
		region_pages a$v 0 1 >"$BATS_TEST_TMPDIR/exp"
		expect_layer "$IMG/$v-2" "$VPID" a$v 16 "$BATS_TEST_TMPDIR/exp"
		ckpt_run -0 verify --cgroup "$CG" -D "$IMG/$v-2"
		assert_output --partial ": OK"
		if [ "$v" = 2 ]; then
			grep -q '^frozen 0' "$CG/cgroup.events"
		else
			[ "$(cat "$CG/freezer.state")" = THAWED ]
		fi
		echo "$VPID" >/sys/fs/cgroup/unified/cgroup.procs 2>/dev/null || true
		echo "$VPID" >/sys/fs/cgroup/freezer/cgroup.procs 2>/dev/null || true
	done
	# --cgroup auto finds the cgroup of -t PID
	make_cgroup 2
	ckpt_run -0 dump --memory-only -t "$VPID" --cgroup auto -D "$IMG/auto" --leave-running -v --tracker "$TRACKER"
	assert_output --partial "cgroup v2 $CG"
}

@test "dump --leave-stopped leaves a frozen cgroup frozen; a frozen cgroup is not thawed by verify" {
	requires cgroup-freezer
	make_cgroup 2
	vcmd alloc a 4
	vcmd fill a 0 4 1
	ckpt_run -0 dump --memory-only --cgroup "$CG" -D "$IMG/1" --leave-stopped --tracker "$TRACKER"
	grep -q '^frozen 1' "$CG/cgroup.events"
	ckpt_run -0 verify --cgroup "$CG" -D "$IMG/1"
	grep -q '^frozen 1' "$CG/cgroup.events"
	echo 0 >"$CG/cgroup.freeze"
	vcmd fill a 0 1 2
}

# Start ckpt in the background with CK_FAULT=POINT:pause and wait until it is paused.
ckpt_paused() {
	local log="$BATS_TEST_TMPDIR/ckpt.err"
	CK_FAULT="$1:pause" "$CKPT" "${@:2}" >/dev/null 2>"$log" 3>&- &
	CKPT_PID=$!
	retry 200 0.02 grep -q "paused at $1" "$log" || fail "ckpt did not pause at $1: $(cat "$log")"
}

@test "SIGKILL of ckpt while a cgroup is frozen: the guardian thaws it" {
	requires cgroup-freezer
	local v
	for v in 2 1; do
		make_cgroup "$v"
		ckpt_paused frozen pre-dump --cgroup "$CG" -D "$IMG/k$v" --tracker "$TRACKER"
		if [ "$v" = 2 ]; then grep -q '^frozen 1' "$CG/cgroup.events"; else [ "$(cat "$CG/freezer.state")" = FROZEN ]; fi
		kill -KILL "$CKPT_PID"
		wait "$CKPT_PID" || true
		if [ "$v" = 2 ]; then
			retry 100 0.02 grep -q '^frozen 0' "$CG/cgroup.events"
		else
			retry 100 0.02 grep -qx THAWED "$CG/freezer.state"
		fi
		grep -q "ckpt guardian: ckpt died with $CG frozen; thawed it" "$BATS_TEST_TMPDIR/ckpt.err"
		vcmd alloc x$v 1
		[ ! -e "$IMG/k$v" ]
		echo "$VPID" >/sys/fs/cgroup/unified/cgroup.procs 2>/dev/null || true
		echo "$VPID" >/sys/fs/cgroup/freezer/cgroup.procs 2>/dev/null || true
	done
}

@test "SIGKILL of ckpt while the tree is seized: the kernel detaches and the tasks run on" {
	vcmd alloc a 8
	vcmd fork a 1
	local child point
	child=$(awk '$1 == "CHILD" {print $2}' "$OUT")
	VICTIM_PIDS+=("$child")
	for point in frozen collected; do
		ckpt_paused "$point" dump --memory-only -t "$VPID" -D "$IMG/$point" --tracker "$TRACKER"
		[ "$(proc_state "$VPID")" = t ]
		kill -KILL "$CKPT_PID"
		wait "$CKPT_PID" || true
		retry 100 0.02 untraced "$VPID"
		retry 100 0.02 untraced "$child"
		[ "$(proc_state "$child")" != t ] && [ "$(proc_state "$child")" != T ]
		vcmd fill a 0 1 2
		[ ! -e "$IMG/$point" ]
	done
	# the pre-dump's copy phase runs after the thaw
	ckpt_paused thawed pre-dump -t "$VPID" -D "$IMG/t" --tracker "$TRACKER"
	untraced "$VPID"
	vcmd fill a 0 1 3
	kill -KILL "$CKPT_PID"
	wait "$CKPT_PID" || true
}

@test "a failed run leaves no half layer and the earlier layers intact" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	local before
	before=$(cd "$IMG/1" && sha256sum ./* | sha256sum)
	CK_FAULT=pages ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	assert_output --partial "fault injected at pages"
	[ ! -e "$IMG/2" ]
	CK_FAULT=frozen ckpt_run -1 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	assert_output --partial "fault injected at frozen"
	[ ! -e "$IMG/2" ]
	untraced "$VPID"
	[ "$(proc_state "$VPID")" != t ]
	# killed right before the rename: only a hidden temporary dir remains, removed by the next run
	CK_FAULT=commit:kill ckpt_run ! pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	[ ! -e "$IMG/2" ]
	ls -A "$IMG" | grep -q '^\.2\.ckpt-tmp-'
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER"
	run -1 bash -c "ls -A '$IMG' | grep -q ckpt-tmp"
	[ "$(cd "$IMG/1" && sha256sum ./* | sha256sum)" = "$before" ]
	vcmd fill a 0 1 2
}

@test "json progress and stats-dump agree" {
	vcmd alloc a 32
	vcmd fill a 0 32 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --json-progress --tracker "$TRACKER"
	local done
	done=$(echo "$output" | grep '"event":"done"')
	echo "$done" | jq -e --arg t "$TRACKER" '.tracker == $t and .frozen_us > 0 and .pages_written > 0'
	echo "$output" | grep -q '"phase":"frozen"'
	echo "$output" | grep -q '"phase":"thawed"'
	run -0 crit decode -i "$IMG/1/stats-dump"
	[ "$(echo "$output" | jq '.entries[0].dump.pages_written')" = "$(echo "$done" | jq .pages_written)" ]
	[ "$(echo "$output" | jq '.entries[0].dump.frozen_time')" = "$(echo "$done" | jq .frozen_us)" ]
}

@test "plain dump (restorable) of the fifo-driven victim: refused up front with the list, victim keeps running" {
	vcmd alloc a 8
	vcmd fill a 0 8 1
	ckpt_run -1 --separate-stderr dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	[[ "$stderr" == *"cannot dump"* ]] || fail "no list: $stderr"
	[[ "$stderr" == *"named fifo $FIFO"* ]] || fail "the fifo is not listed: $stderr"
	[[ "$stderr" == *"session leader"*"--shell-job"* ]] || fail "the session is not listed: $stderr"
	[ -z "$(ls -A "$IMG")" ] || fail "left behind: $(ls -A "$IMG")"
	untraced "$VPID"
	[ "$(proc_state "$VPID")" = S ]
	# still alive and answering; --memory-only dumps the same tree
	vcmd fill a 0 1 2
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --tracker "$TRACKER" --leave-running
	[ ! -e "$IMG/2/core-$VPID.img" ]
	vcmd fill a 1 1 3
	# without --leave-running, --memory-only leaves the tree stopped (not killed)
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/4" --prev-images-dir ../2 --tracker "$TRACKER"
	retry 50 0.05 bash -c "[ \"\$(awk '/^State:/ {print \$2}' /proc/$VPID/status)\" = T ]"
	untraced "$VPID"
	kill -CONT "$VPID"
	vcmd fill a 2 1 4
	ckpt_run -2 dump --memory-only --shell-job -t "$VPID" -D "$IMG/3"
	assert_output --partial "--shell-job belongs to the restorable dump"
	ckpt_run -2 pre-dump --memory-only -t "$VPID" -D "$IMG/3"
	assert_output --partial "--memory-only is a dump option"
	[ ! -e "$IMG/3" ]
}

@test "bad input: clear message, non-zero status, victim untouched" {
	ckpt_run -2 pre-dump -D "$IMG/x"
	assert_output --partial "no target"
	ckpt_run -2 pre-dump -t "$VPID"
	assert_output --partial "no images directory"
	ckpt_run -2 pre-dump -t abc -D "$IMG/x"
	assert_output --partial "not a process id"
	ckpt_run -2 pre-dump -t "$VPID" -D "$IMG/x" --tracker fast
	assert_output --partial "unknown tracker 'fast'"
	ckpt_run -2 pre-dump -t "$VPID" -D "$IMG/x" --leave-running
	assert_output --partial "--leave-running is a dump option"
	ckpt_run -1 pre-dump -t 999999999 -D "$IMG/x" --tracker "$TRACKER"
	assert_output --partial "999999999"
	if ! "$CKPT" check --feature soft-dirty >/dev/null 2>&1; then
		ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/x" --tracker soft-dirty
		assert_output --partial "tracker soft-dirty is not available on this kernel"
	fi
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/x" --prev-images-dir ../nope --tracker "$TRACKER"
	assert_output --partial "parent images directory ../nope"
	mkdir -p "$IMG/full" && touch "$IMG/full/junk"
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/full" --tracker "$TRACKER"
	assert_output --partial "already holds files"
	ckpt_run -1 pre-dump --cgroup /no/such/cgroup -D "$IMG/x" --tracker "$TRACKER"
	assert_output --partial "cgroup /no/such/cgroup not found"
	ckpt_run -1 verify -t "$VPID" -D "$IMG/none"
	assert_output --partial "$IMG/none"
	[ ! -e "$IMG/x" ]
	untraced "$VPID"
	vcmd alloc a 1
}

@test "item 8: a parent with an unreaped zombie child: pre-dump, memory dump and verify succeed; the restorable dump refuses it" {
	start_victim exec-zombie
	local p=$VICTIM_PID child
	child=$(sed -n 's/^READY child=//p' "$BATS_TEST_TMPDIR/exec-zombie.out")
	[ "$(proc_state "$child")" = Z ]
	ckpt_run -0 pre-dump -t "$p" -D "$IMG/z1" --tracker "$TRACKER" -v4
	assert_output --partial "pid $child is a zombie"
	# the zombie is in the tree (pstree), without memory (no pagemap)
	run -0 crit decode -i "$IMG/z1/pstree.img"
	echo "$output" | jq -e --argjson c "$child" '[.entries[].pid] | index($c) != null'
	[ -e "$IMG/z1/pagemap-$p.img" ] && [ ! -e "$IMG/z1/pagemap-$child.img" ]
	crit_all "$IMG/z1"
	ckpt_run -0 dump --memory-only --leave-stopped -t "$p" -D "$IMG/z2" --prev-images-dir ../z1 --tracker "$TRACKER"
	ckpt_run -0 verify -t "$p" -D "$IMG/z2"
	assert_output --partial ": OK"
	kill -CONT "$p"
	ckpt_run -1 dump -t "$p" -D "$IMG/z3" --shell-job
	assert_output --partial "pid $child is a zombie"
	[ ! -e "$IMG/z3" ]
	untraced "$p"
	[ "$(proc_state "$child")" = Z ]
}

@test "item 8: a shell forking short-lived children: 10 pre-dumps in a row succeed" {
	sh -c 'while :; do /bin/true; done' 3>&- </dev/null >/dev/null 2>&1 &
	VICTIM_PIDS+=("$!")
	local p=$! i
	for i in $(seq 1 10); do
		ckpt_run -0 pre-dump -t "$p" -D "$IMG/loop$i" --tracker "$TRACKER"
	done
	untraced "$p"
}

@test "item 9: the tree dies while a pre-dump copies: a clear error, no layer, no temporary directory" {
	vcmd alloc a 4096
	vcmd fill a 0 4096 1
	local log="$BATS_TEST_TMPDIR/ckpt.err" rc=0
	CK_FAULT=thawed:stop "$CKPT" pre-dump -t "$VPID" -D "$IMG/dead" --tracker "$TRACKER" >/dev/null 2>"$log" 3>&- &
	CKPT_PID=$!
	retry 200 0.02 grep -q "stopped at thawed" "$log" || fail "ckpt did not stop: $(cat "$log")"
	kill -KILL "$VPID"
	# dead: a zombie or reaped
	retry 100 0.02 bash -c "! grep -qE '^State:.*[RSDTt] ' /proc/$VPID/status 2>/dev/null"
	kill -CONT "$CKPT_PID"
	wait "$CKPT_PID" || rc=$?
	cat "$log" >&2
	[ "$rc" = 1 ]
	grep -q "pid $VPID (the root of the tree) exited during the pre-dump; no layer written" "$log"
	[ ! -e "$IMG/dead" ]
	run -1 bash -c "ls -A '$IMG' | grep -q ckpt-tmp"
}

@test "a child killed during a pre-dump, caught while its memory is released (not yet a zombie): left out of the layer after the thaw, the layer is written" {
	# the hash tracker scans frozen; after the thaw the child is seen gone
	predump_exiting_child "exited during the pre-dump: left out of this layer"
}

@test "a child execs after the pre-dump's thaw: left out of the layer, the next layer takes it whole" {
	predump_execing_child thawed
}

@test "a child execs half-way through the pre-dump's copy of its pages: what was read is discarded with its images" {
	predump_execing_child pages
}

@test "a child killed while a pre-dump holds the tree frozen, caught while its memory is released: no memory object for it, the layer is written" {
	POINT=frozen predump_exiting_child "is exiting (its memory already released)"
}

@test "item 18: the man page's example on a process that keeps writing: dump --leave-stopped, verify OK, SIGCONT" {
	sh -c 'i=0; while :; do i=$((i + 1)); done' 3>&- </dev/null >/dev/null 2>&1 &
	VICTIM_PIDS+=("$!")
	local p=$!
	ckpt_run -0 dump --memory-only -t "$p" -D "$IMG/m" --leave-stopped --tracker "$TRACKER"
	[ "$(proc_state "$p")" = T ]
	ckpt_run -0 verify -t "$p" -D "$IMG/m"
	assert_output --partial ": OK"
	[ "$(proc_state "$p")" = T ]
	kill -CONT "$p"
	retry 50 0.02 bash -c "! grep -q '^State:.*T' /proc/$p/status"
	untraced "$p"
}

@test "item 15: a killed run's hidden temporary directory is removed by the next run in that directory, whatever the layer's name" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	CK_FAULT=commit:kill ckpt_run ! pre-dump -t "$VPID" -D "$IMG/a" --tracker "$TRACKER"
	local stale
	stale=$(ls -A "$IMG" | grep '^\.a\.ckpt-tmp-')
	[ -n "$stale" ] && [ -d "$IMG/$stale" ]
	# the temporary directory of a live run (bats itself stands in) stays
	mkdir "$IMG/.b.ckpt-tmp-$$"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/other" --tracker "$TRACKER"
	assert_output --regexp "removed $IMG/$stale \([0-9]+ KiB\), left by ckpt run [0-9]+ that died"
	[ ! -e "$IMG/$stale" ]
	[ -d "$IMG/.b.ckpt-tmp-$$" ]
	[ -e "$IMG/other/inventory.img" ]
}

@test "item 11: a corrupt or looping parent chain is an error naming the file; another process's layer as parent still means a full layer" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	local f
	# a parent of random bytes
	cp -r "$IMG/1" "$IMG/rand"
	for f in "$IMG"/rand/*; do head -c "$(stat -c %s "$f")" /dev/urandom >"$f"; done
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../rand --tracker "$TRACKER"
	assert_output --partial "rand/inventory.img"
	[ ! -e "$IMG/2" ]
	# a damaged ckpt-layer file
	cp -r "$IMG/1" "$IMG/meta"
	head -c 64 /dev/urandom >"$IMG/meta/ckpt-layer"
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../meta --tracker "$TRACKER"
	assert_output --partial "meta/ckpt-layer"
	# a parent link to itself, and a loop of two
	cp -r "$IMG/1" "$IMG/self"
	ln -s ../self "$IMG/self/parent"
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../self --tracker "$TRACKER"
	assert_output --partial "loop"
	assert_output --partial "self/parent"
	cp -r "$IMG/1" "$IMG/x" && cp -r "$IMG/1" "$IMG/y"
	ln -s ../y "$IMG/x/parent" && ln -s ../x "$IMG/y/parent"
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../x --tracker "$TRACKER"
	assert_output --partial "loop"
	ckpt_run -1 verify -t "$VPID" -D "$IMG/x"
	assert_output --partial "loop"
	refute_output --partial "longer than"
	[ ! -e "$IMG/2" ]
	run -1 bash -c "ls -A '$IMG' | grep -q ckpt-tmp"
	# the layer of another process: CRIU's rule, a full layer
	sleep 1000 3>&- &
	VICTIM_PIDS+=("$!")
	ckpt_run -0 pre-dump -t "$!" -D "$IMG/o1" --tracker "$TRACKER"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../o1 --tracker "$TRACKER"
	run -0 crit decode -i "$IMG/3/stats-dump"
	echo "$output" | jq -e '.entries[0].dump | .pages_skipped_parent == 0 and .pages_written > 0'
	verify_ok "$IMG/3"
}

@test "item 5: a FIFO in a layer chain: pre-dump and verify fail naming it, at once, the victim never left stopped" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker "$TRACKER" --leave-running
	local f
	for f in pages-1.img "pagemap-$VPID.img" inventory.img ckpt-layer; do
		mv "$IMG/1/$f" "$IMG/1/$f.saved"
		mkfifo "$IMG/1/$f"
		run -1 timeout 20 "$CKPT" verify -t "$VPID" -D "$IMG/2"
		echo "$output" >&2
		assert_output --partial "1/$f is a FIFO, not a regular file"
		run -1 timeout 20 "$CKPT" pre-dump -t "$VPID" -D "$IMG/3" --prev-images-dir ../1 --tracker "$TRACKER"
		echo "$output" >&2
		assert_output --partial "1/$f is a FIFO, not a regular file"
		[ ! -e "$IMG/3" ]
		untraced "$VPID"
		[ "$(proc_state "$VPID")" != t ]
		rm "$IMG/1/$f"
		mv "$IMG/1/$f.saved" "$IMG/1/$f"
	done
	verify_ok "$IMG/2"
}
