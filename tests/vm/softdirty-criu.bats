#!/usr/bin/env bats
# CRIU 3.17 and ckpt's soft-dirty layers, both ways, on Debian's 6.1 kernel:
# CRIU dumps onto ckpt pre-dumps and restores the process; ckpt pre-dumps onto
# a CRIU pre-dump with PE_PARENT entries pointing into CRIU's layer, and
# crit decodes every image ckpt wrote.  This only works if ckpt's layers, its
# inventory (dump_uptime) and its soft-dirty resets are what CRIU expects.

load ../bats/helpers
load ../bats/mem-helpers
load vm-helpers
load sd-helpers

setup() {
	requires_vm
	requires root ptrace criu crit
}

teardown() {
	mem_teardown
}

# The stats CRIU or ckpt wrote into a layer, as JSON (.pages_written, ...).
stats() {
	"$CKPT" show "$1/stats-dump" | jq -c '.entries[0].dump'
}

@test "CRIU chains onto ckpt: ckpt pre-dump --track-mem x2, criu dump --prev-images-dir ../ckpt-layer --track-mem, criu restore: the process resumes and passes its memory checks" {
	IMG="$BATS_TEST_TMPDIR/img"
	local out="$BATS_TEST_TMPDIR/vm-roundtrip.out" st
	start_session_victim vm-roundtrip 512
	mkdir -p "$IMG/3"
	ckpt_run -0 pre-dump --track-mem -t "$VICTIM_PID" -D "$IMG/1"
	assert_output --partial "tracker soft-dirty"
	kill -USR2 "$VICTIM_PID"
	retry 100 0.05 grep -q REDIRTIED "$out"
	ckpt_run -0 pre-dump --track-mem -t "$VICTIM_PID" -D "$IMG/2" --prev-images-dir ../1
	st=$(stats "$IMG/2")
	echo "ckpt layer 2: $st" >&2
	echo "$st" | jq -e '.pages_skipped_parent > 400 and .pages_written < 120'
	kill -USR2 "$VICTIM_PID"
	retry 100 0.05 eval '[ "$(grep -c REDIRTIED "$out")" -eq 2 ]'
	criu_run dump -t "$VICTIM_PID" -D "$IMG/3" --prev-images-dir ../2 --track-mem
	assert_success
	# CRIU found ckpt's layer to be this process's history (pid-reuse check on
	# ckpt's dump_uptime) and trusted the soft-dirty state ckpt left
	run -1 grep -q "Pid reuse" "$IMG/3/dump.log"
	st=$(stats "$IMG/3")
	echo "criu dump: $st" >&2
	echo "$st" | jq -e '.pages_skipped_parent > 400 and .pages_written < 150'
	[ "$(layer_pages "$IMG/3" "$VICTIM_PID" 1 | wc -l)" -gt 400 ]
	retry 50 0.1 eval '! kill -0 "$VICTIM_PID" 2>/dev/null || [ "$(proc_state "$VICTIM_PID")" = Z ]'
	kill_victims
	criu_run restore -d -D "$IMG/3"
	assert_success
	# pages were read through the chain: CRIU's layer, then ckpt's two
	grep -qE 'Opened local page read [0-9]+ \(parent [0-9]+\)' "$IMG/3/restore.log"
	VICTIM_PIDS+=("$VICTIM_PID")
	kill -USR1 "$VICTIM_PID"
	retry 100 0.1 grep -qE '^(PASS|FAIL)' "$out"
	run cat "$out"
	assert_line --regexp '^PASS [0-9]+$'
}

@test "ckpt chains onto CRIU: criu pre-dump, then ckpt pre-dump --prev-images-dir ../criu-layer: PE_PARENT into CRIU's layer, exact layers, verify; crit decodes every image ckpt wrote" {
	mem_setup --session
	local f="$BATS_TEST_TMPDIR/data" child
	head -c $((16 * 4096)) /dev/urandom >"$f"
	vcmd alloc a 64
	vcmd fill a 0 64 1
	vcmd shared s 8
	vcmd fill s 0 8 1
	vcmd file fm "$f" 16
	vcmd fill fm 2 2 1
	vcmd fork a 2
	child=$(awk '$1 == "CHILD" {print $2}' "$OUT")
	VICTIM_PIDS+=("$child")
	mkdir -p "$IMG/c1"
	criu_run pre-dump -t "$VPID" -D "$IMG/c1"
	assert_success
	vcmd fill a 5 3 2
	vcmd fill fm 9 1 3
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/k2" --prev-images-dir ../c1 -v
	assert_output --partial "soft-dirty: pid $VPID: parent is a CRIU pre-dump, which cleared soft-dirty"
	assert_output --partial "soft-dirty: pid $child: parent is a CRIU pre-dump"
	[ "$(readlink "$IMG/k2/parent")" = ../c1 ]
	{ region_pages a 5 3; } >"$BATS_TEST_TMPDIR/expa"
	expect_layer "$IMG/k2" "$VPID" a 64 "$BATS_TEST_TMPDIR/expa"
	region_pages fm 9 1 >"$BATS_TEST_TMPDIR/expf"
	expect_layer "$IMG/k2" "$VPID" fm 16 "$BATS_TEST_TMPDIR/expf"
	: >"$BATS_TEST_TMPDIR/none"
	expect_layer "$IMG/k2" "$child" a 64 "$BATS_TEST_TMPDIR/none"
	# the rest of a are PE_PARENT entries, served by CRIU's layer
	[ "$(layer_pages "$IMG/k2" "$VPID" 1 | in_region a 64 | wc -l)" -eq 61 ]
	layer_pages "$IMG/k2" "$VPID" 1 | in_region a 64 >"$BATS_TEST_TMPDIR/parent"
	layer_pages "$IMG/c1" "$VPID" 4 | in_region a 64 >"$BATS_TEST_TMPDIR/criu"
	[ "$(comm -23 <(sort "$BATS_TEST_TMPDIR/parent") <(sort "$BATS_TEST_TMPDIR/criu") | wc -l)" -eq 0 ]
	# a further ckpt layer on top: exact again
	vcmd fill a 60 1 4
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/k3" --prev-images-dir ../k2
	region_pages a 60 1 >"$BATS_TEST_TMPDIR/expa3"
	expect_layer "$IMG/k3" "$VPID" a 64 "$BATS_TEST_TMPDIR/expa3"
	ckpt_run -0 verify -t "$VPID" -D "$IMG/k3"
	assert_output --partial ": OK"
	assert_output --partial "2 tasks"

	# a CRIU dump (not a pre-dump) does not record whether it reset soft-dirty
	# (--track-mem is not in its images): a full layer
	mkdir -p "$IMG/c4"
	criu_run dump -t "$VPID" -D "$IMG/c4" --leave-running --track-mem
	assert_success
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/k5" --prev-images-dir ../c4 -v
	assert_output --partial "soft-dirty: pid $VPID: the parent layer is a CRIU dump, not a pre-dump"
	region_pages a 0 64 >"$BATS_TEST_TMPDIR/all"
	expect_layer "$IMG/k5" "$VPID" a 64 "$BATS_TEST_TMPDIR/all"

	# crit reads every image ckpt wrote in this lane
	local imgs=() d
	for d in k2 k3 k5; do
		for f in "$IMG/$d"/*.img "$IMG/$d/stats-dump"; do
			case "$(basename "$f")" in pages-*.img) ;; *) imgs+=("$f") ;; esac
		done
	done
	[ "${#imgs[@]}" -ge 15 ]
	run "$REPO_ROOT/tests/vm/crit-decode-all" "$BATS_TEST_TMPDIR/json" "${imgs[@]}"
	echo "$output" >&2
	assert_success
	[ "$(grep -c '^ok ' <<<"$output")" -eq "${#imgs[@]}" ]
}
