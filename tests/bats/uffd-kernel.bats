#!/usr/bin/env bats
# bats file_tags=root
# uffd-wp tracker: what the kernel writes counts, and transparent huge pages
# are tracked at 4 KiB (soft-dirty marks whole 2 MiB pages).

load helpers
load mem-helpers

mem_suite root ptrace crit uffd-wp-async

# scattered NAME: page indexes of the last "scatter NAME" command, one per line.
scattered() {
	awk -v n="$1" '$1 == "SCATTER" && $2 == n {l = $0} END {print l}' "$OUT" | tr ' ' '\n' | tail -n +3
}

@test "uffd-wp: pages the kernel writes for the task (read(2) into a buffer) are in the next layer" {
	local f="$BATS_TEST_TMPDIR/input"
	head -c $((8 * 4096)) /dev/urandom >"$f"
	vcmd alloc buf 64
	vcmd fill buf 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd readin buf 20 8 "$f"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	region_pages buf 20 8 >"$BATS_TEST_TMPDIR/exp2"
	expect_layer "$IMG/2" "$VPID" buf 64 "$BATS_TEST_TMPDIR/exp2"
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp --leave-running
	verify_ok "$IMG/3"
}

@test "uffd-wp: random 4 KiB writes into transparent huge pages give a layer of exactly those pages" {
	grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled ||
		skip "transparent huge pages are disabled"
	vcmd thp h 4096
	local base thp_kb
	base=$(printf '%x' "$(region_addr h)")
	thp_kb=$(awk -v a="$base" '$1 ~ "^"a"-" {f = 1} f && /^AnonHugePages:/ {print $2; exit}' "/proc/$VPID/smaps")
	echo "# AnonHugePages of the region before tracking: ${thp_kb:-0} kB" >&3
	[ "${thp_kb:-0}" -gt 0 ] || skip "the kernel gave no huge pages to the region"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker uffd-wp
	vcmd scatter h 64 7
	scattered h | while read -r i; do echo $(($(region_addr h) + i * 4096)); done >"$BATS_TEST_TMPDIR/exp2"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/exp2")" -eq 64 ]
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp
	expect_layer "$IMG/2" "$VPID" h 4096 "$BATS_TEST_TMPDIR/exp2"
	vcmd scatter h 64 8
	ckpt_run -0 dump --memory-only -t "$VPID" -D "$IMG/3" --prev-images-dir ../2 --tracker uffd-wp --leave-running
	verify_ok "$IMG/3"
}
