#!/usr/bin/env bats
# bats file_tags=root
# uffd-wp on a target whose seccomp filter forbids userfaultfd() (the Docker
# and Podman default profiles do): root suspends the filter for the injected
# call, and the target's own calls stay filtered.

load helpers

setup() {
	requires root ptrace crit uffd-wp-async seccomp-suspend
	IMG="$BATS_TEST_TMPDIR/img"
	mkdir -p "$IMG"
}

teardown() {
	kill_victims
}

@test "uffd-wp: a target whose seccomp filter forbids userfaultfd is tracked (seccomp suspended for ckpt)" {
	start_victim uffd-seccomp
	local out="$BATS_TEST_TMPDIR/uffd-seccomp.out" addr
	grep -q 'userfaultfd=EPERM' "$out"
	addr=$(awk '$1 == "READY" {print $2}' "$out")
	ckpt_run -0 pre-dump -t "$VICTIM_PID" -D "$IMG/1" --tracker uffd-wp -v
	assert_output --partial "uffd-wp: pid $VICTIM_PID: tracker armed"
	[ -z "$(ls -l "/proc/$VICTIM_PID/fd" | grep userfaultfd)" ]
	kill -USR1 "$VICTIM_PID"
	retry 100 0.02 grep -q '^WROTE' "$out"
	ckpt_run -0 pre-dump -t "$VICTIM_PID" -D "$IMG/2" --prev-images-dir ../1 --tracker uffd-wp -v
	assert_output --regexp "uffd-wp: pid $VICTIM_PID: [0-9]+ written pages"
	# the written page of the region is in the layer, the other 63 are parent entries
	run -0 crit decode -i "$IMG/2/pagemap-$VICTIM_PID.img"
	local a
	a=$(printf '%d' "$addr")
	echo "$output" | jq -e --argjson a "$a" '[.entries[1:][] | select(.flags == 4) |
		range(.vaddr; .vaddr + .nr_pages * 4096; 4096) | select(. >= $a and . < $a + 64 * 4096)] == [$a + 5 * 4096]'
	echo "$output" | jq -e --argjson a "$a" '[.entries[1:][] | select(.flags == 1) |
		range(.vaddr; .vaddr + .nr_pages * 4096; 4096) | select(. >= $a and . < $a + 64 * 4096)] | length == 63'
	# the filter still applies to the target itself
	grep -q '^Seccomp:[[:space:]]*2' "/proc/$VICTIM_PID/status"
	run -0 untraced "$VICTIM_PID"
}
