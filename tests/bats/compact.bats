#!/usr/bin/env bats
# bats file_tags=root
# ckpt compact: merging the oldest layers of a real victim's pre-dump chain
# (runtime-glue/mem/merge.c); `ckpt verify` against the victim's memory judges
# every chain, also after a SIGKILL at each of the merge's fault points.

load helpers

TRACKER=${CKPT_TEST_TRACKER:-hash}

load mem-helpers

mem_suite root ptrace crit

# chain N: layers 1..N of region a (256 pages), each after writing a few pages
chain() {
	vcmd alloc a 256
	vcmd fill a 0 256 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker "$TRACKER"
	local i
	for i in $(seq 2 "$1"); do
		vcmd fill a $((i * 10)) 5 "$i"
		ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/$i" --prev-images-dir "../$((i - 1))" --tracker "$TRACKER"
	done
}

hidden() {
	find "$IMG" -mindepth 1 -maxdepth 1 -name '.*ckpt-tmp-*'
}

@test "compact --max-layers 2 of a 4-layer chain: 1 and 2 merged into 3, the chain verifies, the next layer is incremental" {
	chain 4
	verify_ok "$IMG/4"
	ckpt_run -0 compact -D "$IMG/4" --max-layers 2
	assert_output --partial "compact: merged $IMG/1 and $IMG/2 into $IMG/2"
	assert_output --partial "compact: merged $IMG/2 and $IMG/3 into $IMG/3"
	assert_output --partial "compact: $IMG/4: 4 layers, now 2"
	[ ! -e "$IMG/1" ] && [ ! -e "$IMG/2" ]
	[ ! -L "$IMG/3/parent" ]
	[ "$(readlink "$IMG/4/parent")" = ../3 ]
	[ -z "$(hidden)" ]
	# the merged base holds every page of the region (it is a full layer now)
	region_pages a 0 256 >"$BATS_TEST_TMPDIR/exp3"
	expect_layer "$IMG/3" "$VPID" a 256 "$BATS_TEST_TMPDIR/exp3"
	run -0 crit decode -i "$IMG/3/stats-dump"
	echo "$output" | jq -e '.entries[0].dump | .pages_skipped_parent == 0 and .pages_written >= 256'
	crit_all "$IMG/3" "$IMG/4"
	verify_ok "$IMG/4"
	# a pre-dump on top of the compacted chain is still incremental
	vcmd fill a 7 1 9
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/5" --prev-images-dir ../4 --tracker "$TRACKER"
	run -0 crit decode -i "$IMG/5/stats-dump"
	echo "$output" | jq -e '.entries[0].dump.pages_skipped_parent > 0'
	verify_ok "$IMG/5"
	# default: everything into the newest layer
	ckpt_run -0 compact -D "$IMG/5"
	assert_output --partial "3 layers, now 1"
	[ ! -L "$IMG/5/parent" ] && [ ! -e "$IMG/3" ] && [ ! -e "$IMG/4" ]
	verify_ok "$IMG/5"
	ckpt_run -0 compact -D "$IMG/5"
	assert_output --partial "1 layer, now 1"
}

@test "compact killed at each fault point of the merge: the chain still verifies; the next layer's run removes what was left" {
	chain 2
	local p n=2
	# layer N+1 on top of the chain
	next_layer() {
		vcmd fill a 3 1 $((n + 10))
		ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/$((n + 1))" --prev-images-dir "../$n" --tracker "$TRACKER"
		n=$((n + 1))
	}
	for p in merge-pages merge-built merge-switched image-PAGEMAP; do
		next_layer
		CK_FAULT="$p:kill" ckpt_run -137 compact -D "$IMG/$n" --max-layers 2
		verify_ok "$IMG/$n"
		[ -n "$(hidden)" ]
		# the next pre-dump beside removes the stale directories (and, after
		# merge-switched, the old base the merge had left under its name)
		next_layer
		[ -z "$(hidden)" ]
		verify_ok "$IMG/$n"
		ckpt_run -0 compact -D "$IMG/$n" --max-layers 2
		verify_ok "$IMG/$n"
		[ "$(find "$IMG" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 2 ]
	done
}

@test "compact: bad input is a clear error, the chain is untouched" {
	chain 2
	ckpt_run -2 compact
	assert_output --partial "no images directory"
	ckpt_run -2 compact -D "$IMG/2" --max-layers 0
	assert_output --partial "--max-layers: '0' is not 1 to 1000"
	ckpt_run -1 compact -D "$IMG/nope"
	assert_output --partial "$IMG/nope"
	mkdir "$IMG/empty"
	ckpt_run -1 compact -D "$IMG/empty"
	assert_output --partial "holds no layer"
	# a base that lacks the pagemap its child refers to: refused, nothing changed
	mv "$IMG/1/pagemap-$VPID.img" "$BATS_TEST_TMPDIR/pm"
	local sum
	sum=$(cd "$IMG/2" && md5sum ./* | sort)
	ckpt_run -1 compact -D "$IMG/2"
	assert_output --partial "pagemap-$VPID.img missing, but $IMG/2 refers to it"
	[ "$(cd "$IMG/2" && md5sum ./* | sort)" = "$sum" ]
	[ "$(readlink "$IMG/2/parent")" = ../1 ]
	[ -z "$(hidden)" ]
	mv "$BATS_TEST_TMPDIR/pm" "$IMG/1/pagemap-$VPID.img"
	verify_ok "$IMG/2"
}

@test "two compacts of one chain: the second is refused while the first holds the chain's directory; the first then finishes" {
	chain 3
	# stopped in its first merge only (a 3-layer chain takes two)
	CK_FAULT=merge-built:stop:1 "$CKPT" compact -D "$IMG/3" >"$BATS_TEST_TMPDIR/first" 2>&1 3>&- &
	local first=$!
	retry 100 0.05 grep -q "stopped at merge-built" "$BATS_TEST_TMPDIR/first"
	ckpt_run -1 compact -D "$IMG/3"
	assert_output --partial "the layers in $IMG are being merged by another ckpt"
	[ -e "$IMG/1" ] && [ -e "$IMG/2" ]
	kill -CONT "$first"
	wait "$first"
	cat "$BATS_TEST_TMPDIR/first"
	grep -q "compact: $IMG/3: 3 layers, now 1" "$BATS_TEST_TMPDIR/first"
	[ ! -e "$IMG/1" ] && [ ! -e "$IMG/2" ] && [ -z "$(hidden)" ]
	verify_ok "$IMG/3"
	# released with the first run: a third compact works
	ckpt_run -0 compact -D "$IMG/3"
	assert_output --partial "1 layer, now 1"
}
