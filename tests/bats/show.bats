#!/usr/bin/env bats
# ckpt show: decoding image files written by ckpt's image layer (the sample set
# from tests/unit/img-sample), the JSON shape, --pretty, DIR mode, and clear
# errors (file name + byte offset, exit 1) for unknown or corrupt files.

load helpers

setup() {
	IMGS="$BATS_TEST_TMPDIR/imgs"
	"$UNIT/img-sample" "$IMGS" 4242
}

teardown() {
	kill_victims
}

# Write bytes given as hex (spaces allowed) to a file.
hexfile() {
	local out=$1
	shift
	echo "$*" | xxd -r -p >"$out"
}

@test "show FILE prints {magic, entries} with the written values" {
	ckpt_run -0 show "$IMGS/pstree.img"
	echo "$output" | jq -e '.magic == "PSTREE" and (.entries | length) == 1'
	echo "$output" | jq -e '.entries[0] == {pid: 4242, ppid: 0, pgid: 4242, sid: 4242, threads: [4242]}'
}

@test "show decodes every image of the sample set with the right magic" {
	local f magic
	declare -A want=([inventory.img]=INVENTORY [pstree.img]=PSTREE [core-4242.img]=CORE
		[mm-4242.img]=MM [pagemap-4242.img]=PAGEMAP [stats-dump]=STATS [ids-4242.img]=IDS
		[fs-4242.img]=FS [files.img]=FILES [fdinfo-2.img]=FDINFO [timens-0.img]=TIMENS
		[seccomp.img]=SECCOMP [creds-4242.img]=CREDS [reg-files.img]=REG_FILES
		[pipes.img]=PIPES [pipes-data.img]=PIPES_DATA [memfd.img]=MEMFD_INODE
		[mountpoints-4242.img]=MNTS [utsns-4242.img]=UTSNS [ipcns-var-4242.img]=IPC_VAR [cgroup.img]=CGROUP
		[tty-info.img]=TTY_INFO [netns-4242.img]=NETNS
		[pages-1.img]=PAGES)
	for f in "$IMGS"/*; do
		magic=$("$CKPT" show "$f" | jq -r .magic)
		[ "$magic" = "${want[$(basename "$f")]}" ] || fail "$f: magic '$magic'"
	done
	[ "$(find "$IMGS" -type f | wc -l)" -eq "${#want[@]}" ]
}

@test "pagemap entries carry nr_pages, compat_nr_pages and flags" {
	ckpt_run -0 show "$IMGS/pagemap-4242.img"
	echo "$output" | jq -e '.entries[0] == {pages_id: 1}'
	echo "$output" | jq -e '[.entries[1:][] | .nr_pages == .compat_nr_pages] | all'
	echo "$output" | jq -e '[.entries[1:][].flags] == [4, 6, 1, 4, 4, 4]'
}

@test "--pretty formats addresses in hex and flags by name" {
	ckpt_run -0 show --pretty "$IMGS/pagemap-4242.img"
	echo "$output" | jq -e '.entries[1] == {vaddr: "0x555555556000", compat_nr_pages: 1, flags: "PE_PRESENT", nr_pages: 1}'
	echo "$output" | jq -e '.entries[2].flags == "PE_LAZY | PE_PRESENT"'
	ckpt_run -0 show --pretty "$IMGS/mm-4242.img"
	echo "$output" | jq -e '.entries[0].vmas[0] | .start == "0x555555554000" and .prot == "PROT_READ | PROT_EXEC" and .status == "VMA_AREA_REGULAR | VMA_FILE_PRIVATE" and .fd == -1'
	echo "$output" | jq -e '.entries[0].vmas[2].flags == "MAP_PRIVATE | MAP_ANON"'
	ckpt_run -0 show --pretty "$IMGS/core-4242.img"
	echo "$output" | jq -e '.entries[0].tc.task_state == "Alive" and .entries[0].thread_info.gpregs.ax == "0xfffffffffffffffc"'
	echo "$output" | jq -e '(.entries[0].tc.sigactions | length) == 62 and (.entries[0].tc.rlimits.rlimits | length) == 16'
	# --pretty also indents
	[ "$(echo "$output" | wc -l)" -gt 100 ]
}

@test "raw pages files are summarised, not decoded" {
	ckpt_run -0 show "$IMGS/pages-1.img"
	echo "$output" | jq -e '. == {magic: "PAGES", size: 40960, pages: 10}'
}

@test "show DIR prints every image keyed by file name" {
	ckpt_run -0 show "$IMGS"
	# one key per file of the sample set (19 with mountpoints-4242.img)
	[ "$(echo "$output" | jq 'keys | length')" -eq "$(find "$IMGS" -type f | wc -l)" ]
	echo "$output" | jq -e 'keys | length >= 19'
	echo "$output" | jq -e '.["inventory.img"].entries[0].img_version == 2'
	echo "$output" | jq -e '.["pages-1.img"].pages == 10'
	echo "$output" | jq -e '.["fdinfo-2.img"].entries | map(.type) == ["REG", "PIPE", "REG", "MEMFD"]'
	echo "$output" | jq -e '.["pipes-data.img"].entries[0].extra == "aGVsbG8=\n"'
}

@test "show DIR skips the parent symlink and subdirectories" {
	mkdir "$IMGS/sub"
	ln -s ../elsewhere "$IMGS/parent"
	ckpt_run -0 show "$IMGS"
	echo "$output" | jq -e 'has("parent") | not'
	echo "$output" | jq -e 'has("sub") | not'
}

@test "wrong magic: error names the file and offset, exit 1" {
	printf 'garbage-data-xyz' >"$IMGS/bad.img"
	ckpt_run -1 --separate-stderr show "$IMGS/bad.img"
	[ -z "$output" ]
	[[ "$stderr" == *"bad.img: offset 0: unknown image magic"* ]]
}

@test "wrong type magic after the common head magic" {
	hexfile "$IMGS/bad.img" 19435654 78563412 00000000
	ckpt_run -1 --separate-stderr show "$IMGS/bad.img"
	[[ "$stderr" == *"bad.img: offset 4: unknown image magic 0x12345678"* ]]
}

@test "truncated entry length" {
	head -c 10 "$IMGS/pstree.img" >"$IMGS/bad.img"
	ckpt_run -1 --separate-stderr show "$IMGS/bad.img"
	[[ "$stderr" == *"bad.img: offset 8: truncated entry length (2 of 4 bytes)"* ]]
}

@test "truncated message" {
	local size
	size=$(stat -c %s "$IMGS/mm-4242.img")
	head -c $((size - 3)) "$IMGS/mm-4242.img" >"$IMGS/bad.img"
	ckpt_run -1 --separate-stderr show "$IMGS/bad.img"
	[[ "$stderr" == *"bad.img: offset 8: entry length $((size - 12)) is larger than the $((size - 15)) bytes left in the file"* ]]
}

@test "hostile huge length is refused before allocating" {
	hexfile "$IMGS/bad.img" 19435654 30302750 ffffffff 0801
	ckpt_run -1 --separate-stderr show "$IMGS/bad.img"
	[[ "$stderr" == *"bad.img: offset 8: entry length 4294967295 exceeds the"* ]]
}

@test "missing required field" {
	# pstree_entry with pid, ppid, pgid but no sid
	hexfile "$IMGS/bad.img" 19435654 30302750 06000000 080110001801
	ckpt_run -1 --separate-stderr show "$IMGS/bad.img"
	[[ "$stderr" == *"bad.img: offset 8: cannot decode pstree_entry (6 bytes)"* ]]
}

@test "a corrupt second entry names its offset" {
	cp "$IMGS/fdinfo-2.img" "$IMGS/bad.img"
	printf '\xff\xff\x00\x00' >>"$IMGS/bad.img"
	ckpt_run -1 --separate-stderr show "$IMGS/bad.img"
	[[ "$stderr" == *"bad.img: offset $(stat -c %s "$IMGS/fdinfo-2.img"): entry length 65535 is larger than the 0 bytes left"* ]]
}

@test "a pages file that ends inside a page is an error" {
	head -c 5000 "$IMGS/pages-1.img" >"$IMGS/pages-9.img"
	ckpt_run -1 --separate-stderr show "$IMGS/pages-9.img"
	[[ "$stderr" == *"pages-9.img: offset 4096: raw pages file of 5000 bytes ends inside a page"* ]]
}

@test "show DIR fails on a corrupt file, naming it" {
	head -c 13 "$IMGS/core-4242.img" >"$IMGS/core-1.img"
	ckpt_run -1 --separate-stderr show "$IMGS"
	[ -z "$output" ]
	[[ "$stderr" == *"$IMGS: core-1.img: offset 8: entry length"* ]]
}

@test "usage errors exit 2" {
	ckpt_run -2 --separate-stderr show
	[[ "$stderr" == *"missing FILE or DIR"* ]]
	ckpt_run -2 --separate-stderr show --frob "$IMGS"
	[[ "$stderr" == *"unknown option '--frob'"* ]]
	ckpt_run -2 --separate-stderr show "$IMGS/pstree.img" "$IMGS/files.img"
	[[ "$stderr" == *"one FILE or DIR only"* ]]
}

@test "a missing path is an error naming it" {
	ckpt_run -1 --separate-stderr show "$IMGS/nope.img"
	[[ "$stderr" == *"nope.img: No such file or directory"* ]]
}

@test "show --help" {
	ckpt_run -0 show --help
	assert_line --partial 'Usage: ckpt show FILE|DIR [--pretty]'
}

@test "item 10: show DIR of a layer ckpt wrote decodes ckpt's own files (ckpt-layer, tracker state, hashes)" {
	requires ptrace
	sleep 1000 3>&- &
	VICTIM_PIDS+=("$!")
	local p=$! t trackers=(hash)
	"$CKPT" check --feature uffd-wp-async >/dev/null 2>&1 && trackers+=(uffd-wp)
	for t in "${trackers[@]}"; do
		ckpt_run -0 pre-dump -t "$p" -D "$BATS_TEST_TMPDIR/l-$t" --tracker "$t"
		ckpt_run -0 show "$BATS_TEST_TMPDIR/l-$t"
		echo "$output" | jq -e --arg t "$t" --argjson p "$p" \
			'.["ckpt-layer"] | .magic == "CKPT_LAYER" and .version == 1 and .tracker == $t and .tasks[0].pid == $p and .tasks[0].start_time > 0'
		echo "$output" | jq -e '.["inventory.img"].magic == "INVENTORY"'
		ckpt_run -0 show "$BATS_TEST_TMPDIR/l-$t/ckpt-layer"
		echo "$output" | jq -e '.magic == "CKPT_LAYER"'
	done
	echo "$output" | jq -e --argjson p "$p" '.tasks[0].vpid == $p'
	ckpt_run -0 show "$BATS_TEST_TMPDIR/l-hash"
	echo "$output" | jq -e --arg f "ckpt-hash-pid-$p.bin" '.[$f].magic == "CKPT_HASHES" and .[$f].size > 8'
	if [ "${#trackers[@]}" = 2 ]; then
		ckpt_run -0 show "$BATS_TEST_TMPDIR/l-uffd-wp"
		echo "$output" | jq -e --arg f "uffd-$p.state" --argjson p "$p" '.[$f] | .magic == "CKPT_TRACKER_STATE" and .tracker == "uffd" and .id == $p and (.token | test("^[0-9a-f]{16}$"))'
		# a first layer's late list (empty: nothing came or went before the protection)
		echo "$output" | jq -e --arg f "uffd-late-$p.state" '.[$f] | .tracker == "uffd-late" and .ranges == []'
		printf 'token 0123456789abcdef starttime 5\nranges 2\n1000-3000\n8000-9000\n' >"$BATS_TEST_TMPDIR/uffd-late-7.state"
		ckpt_run -0 show "$BATS_TEST_TMPDIR/uffd-late-7.state"
		echo "$output" | jq -e '.id == 7 and .ranges == [{start: 4096, end: 12288}, {start: 32768, end: 36864}]'
	fi
	# a damaged ckpt-layer is an error naming the file and line
	printf 'ckpt-layer 1\ngarbage\n' >"$BATS_TEST_TMPDIR/ckpt-layer"
	ckpt_run -1 show "$BATS_TEST_TMPDIR/ckpt-layer"
	assert_output --partial "ckpt-layer: line 2: neither 'tracker' nor 'task'"
}

@test "item 5: show of a FIFO or a device fails at once naming it; show DIR skips them" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run -1 timeout 20 "$CKPT" show "$BATS_TEST_TMPDIR/fifo"
	assert_output "ckpt show: $BATS_TEST_TMPDIR/fifo is a FIFO, not a regular file"
	mkfifo "$BATS_TEST_TMPDIR/ckpt-layer"
	run -1 timeout 20 "$CKPT" show "$BATS_TEST_TMPDIR/ckpt-layer"
	assert_output --partial "ckpt-layer is a FIFO, not a regular file"
	run -1 timeout 20 "$CKPT" show /dev/null
	assert_output --partial "/dev/null is a character device, not a regular file"
	mkfifo "$IMGS/fifo.img"
	run -0 timeout 20 "$CKPT" show "$IMGS"
	echo "$output" | jq -e 'has("fifo.img") | not'
}
