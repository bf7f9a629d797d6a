#!/usr/bin/env bats
# Wire compatibility with CRIU's image format, checked against CRIU's own crit:
# - every image ckpt writes is accepted by `crit decode` and `crit x`;
# - `ckpt show` and `crit decode` agree on ckpt's images;
# - images written by CRIU's encoder (`crit encode` of the JSON fixtures in
#   fixtures/images/) decode in ckpt to the same values as in crit.
# crit 3.17 knows pagemap field 2 as "nr_pages" and not field 5, so pagemap
# entries are compared with ckpt's compat_nr_pages renamed (see norm()).

load helpers

FIXTURES="$BATS_TEST_DIRNAME/fixtures/images"

setup() {
	requires crit
	IMGS="$BATS_TEST_TMPDIR/imgs"
	"$UNIT/img-sample" "$IMGS" 4242
}

# Sorted JSON; pagemap entries as crit 3.17 names them.
norm() {
	jq -S 'if .magic == "PAGEMAP" then .entries |= map(
		if has("compat_nr_pages") then
			(if has("nr_pages") and .nr_pages != .compat_nr_pages then error("nr_pages != compat_nr_pages") else . end)
			| .nr_pages = .compat_nr_pages | del(.compat_nr_pages)
		else . end) else . end'
}

# Compare ckpt show and crit decode on one file, plain and --pretty.
same_as_crit() {
	local f=$1 p ours theirs
	for p in "" --pretty; do
		ours=$("$CKPT" show $p "$f" | norm) || fail "ckpt show $p $f failed"
		theirs=$(crit decode $p -i "$f" | jq -S .) || fail "crit decode $p $f failed"
		if [ "$ours" != "$theirs" ]; then
			diff <(echo "$ours") <(echo "$theirs") >&2 || true
			fail "ckpt show $p and crit decode $p differ on $f"
		fi
	done
}

# crit encode every fixture into $1.
encode_fixtures() {
	local dir=$1 f
	mkdir -p "$dir"
	for f in "$FIXTURES"/*.json; do
		crit encode -i "$f" -o "$dir/$(basename "$f" .json)" || fail "crit encode $f"
	done
}

@test "every image ckpt writes is accepted by crit decode" {
	local f n=0 magic
	for f in "$IMGS"/*; do
		case "$f" in */pages-*.img) continue ;; esac
		magic=$(crit decode -i "$f" | jq -r .magic) || fail "crit decode $f"
		[ "$magic" = "$("$CKPT" show "$f" | jq -r .magic)" ] || fail "$f: crit says $magic"
		n=$((n + 1))
	done
	# every file of the sample set but pages-1.img (18 with mountpoints-4242.img)
	[ "$n" -eq $(($(find "$IMGS" -type f | wc -l) - 1)) ]
	[ "$n" -ge 18 ]
}

@test "crit x reads the sample set: ps, fds, mems, rss" {
	run -0 crit x "$IMGS" ps
	assert_line --regexp '^ +4242 +4242 +4242 +sample$'
	run -0 crit x "$IMGS" fds
	assert_line --regexp '^\s+0: /dev/null$'
	assert_line --regexp '^\s+1: pipe\[123456\]$'
	assert_line --regexp '^\s+cwd: /tmp$'
	assert_line --regexp '^\s+root: /$'
	run -0 crit x "$IMGS" mems
	assert_line --regexp '^\s+exe\s+/usr/bin/sample$'
	assert_line --regexp '^\s+555555554000-555555556000\s+r-x /usr/bin/sample$'
	assert_line --regexp '^\s+ffffffffff600000-ffffffffff601000\s+--x \[vsyscall\] \*$'
	# rss reads pagemap field 2: the counts must be there (compat_nr_pages)
	run -0 crit x "$IMGS" rss
	assert_line --regexp '^\s+555555559000 / 3\s+555555559000 / 33'
	assert_line --regexp '^\s+7f1234560000 / 4\s+'
}

@test "ckpt show and crit decode agree on every image ckpt writes" {
	local f
	for f in "$IMGS"/*; do
		case "$f" in */pages-*.img) continue ;; esac
		same_as_crit "$f"
	done
}

@test "ckpt reads its images back after a crit decode | crit encode round trip" {
	local f back="$BATS_TEST_TMPDIR/back"
	mkdir "$back"
	for f in "$IMGS"/*; do
		case "$f" in */pages-*.img) continue ;; esac
		crit decode -i "$f" | crit encode -o "$back/$(basename "$f")"
		diff <("$CKPT" show "$f" | norm) <("$CKPT" show "$back/$(basename "$f")" | norm) ||
			fail "$f changed through crit"
	done
}

@test "images encoded by CRIU (crit encode) decode to the same values as in crit" {
	local f n=0
	encode_fixtures "$BATS_TEST_TMPDIR/criu"
	for f in "$BATS_TEST_TMPDIR"/criu/*; do
		same_as_crit "$f"
		n=$((n + 1))
	done
	[ "$n" -eq 16 ]
}

@test "CRIU-encoded values: u64 limits, hex masks, flags, non-ASCII names, base64" {
	local d="$BATS_TEST_TMPDIR/criu"
	encode_fixtures "$d"
	ckpt_run -0 show "$d/core-12637.img"
	# 2^64-1 is printed exactly, not rounded through a double
	[[ "$output" == *'"cur":18446744073709551615'* ]]
	echo "$output" | jq -e '.entries[0].tc.sigactions | length == 62'
	echo "$output" | jq -e '.entries[0].thread_core.rseq_entry.signature == 1392848979'
	ckpt_run -0 show --pretty "$d/mm-12637.img"
	echo "$output" | jq -e '.entries[0].vmas[3] | .madv == "0x10000" and .status == "VMA_AREA_REGULAR | VMA_ANON_PRIVATE | VMA_AREA_VVAR"'
	ckpt_run -0 show --pretty "$d/files.img"
	echo "$output" | jq -e '.entries[2].reg | .name == "/srv/plain/pläin.log" and .flags == "O_WRONLY | O_LARGEFILE"'
	echo "$output" | jq -e '.entries[5].pipe.flags == "0x1"'
	ckpt_run -0 show "$d/seccomp.img"
	echo "$output" | jq -e --slurpfile fx "$FIXTURES/seccomp.img.json" '.entries[0].seccomp_filters[0].filter == $fx[0].entries[0].seccomp_filters[0].filter'
	ckpt_run -0 show "$d/pipes-data.img"
	echo "$output" | jq -e '.entries[0].extra == "cXVldWVkIGJ5dGVz\n"'
}

@test "a crit 3.x pagemap (no field 5) shows its count as compat_nr_pages" {
	local d="$BATS_TEST_TMPDIR/criu"
	encode_fixtures "$d"
	ckpt_run -0 show "$d/pagemap-12637.img"
	echo "$output" | jq -e '[.entries[1:][] | has("nr_pages")] | any | not'
	echo "$output" | jq -e '[.entries[1:][].compat_nr_pages] == [1, 2, 3, 5, 2, 3]'
	echo "$output" | jq -e '.entries[6].in_parent == false'
}

@test "show DIR on a CRIU-encoded set decodes every kind, cgroup.img included (a kind without a schema: test-img)" {
	local d="$BATS_TEST_TMPDIR/criu"
	encode_fixtures "$d"
	ckpt_run -0 show "$d"
	echo "$output" | jq -e '.["cgroup.img"].magic == "CGROUP" and (.["cgroup.img"].entries | length == 1)'
	echo "$output" | jq -e '.["stats-dump"].entries[0].dump.pages_written == 44'
	echo "$output" | jq -e 'keys | length == 16'
}
