# shellcheck shell=bash
# Shared by the memory-layer suites (predump.bats, uffd.bats): a mem-victim
# driven through a fifo, layer inspection with crit, verify.
# Load after helpers: `load helpers; load mem-helpers`.

# mem_suite REQUIREMENT...: the setup()/teardown() every memory suite uses:
# skip unless the requirements hold, start the mem-victim, tear it all down.
# Call at the top of a suite, after `load mem-helpers`.
# shellcheck disable=SC2317,SC2119 # setup/teardown are called by bats
mem_suite() {
	MEM_SUITE_REQUIRES=("$@")
	setup() {
		requires "${MEM_SUITE_REQUIRES[@]}"
		mem_setup
	}
	teardown() {
		mem_teardown
	}
}

# mem_setup [--session]: start the mem-victim on a fifo (call from setup()
# after requires); --session makes it lead its own session (a CRIU dump then
# needs no --shell-job).
# shellcheck disable=SC2120 # --session is optional
mem_setup() {
	local start=start_victim
	[ "${1:-}" = --session ] && start=start_session_victim
	FIFO="$BATS_TEST_TMPDIR/cmd"
	OUT="$BATS_TEST_TMPDIR/mem-victim.out"
	IMG="$BATS_TEST_TMPDIR/img"
	mkdir -p "$IMG"
	mkfifo "$FIFO"
	NCMD=0
	CGROUPS=()
	# glibc registers an rseq area that the kernel rewrites (cpu id) whenever the
	# task resumes on another CPU, i.e. after every thaw: not a memory change
	# the test should see, so the victim runs without rseq.
	GLIBC_TUNABLES=glibc.pthread.rseq=0 "$start" mem-victim "$FIFO"
	VPID=$VICTIM_PID
}

# mem_teardown: thaw and remove test cgroups, kill victims; idempotent.
mem_teardown() {
	local cg
	# a ckpt left stopped at a fault point by a failed test (ckpt_stopped_at)
	[ -z "${CK_STOPPED:-}" ] || kill -KILL "$CK_STOPPED" 2>/dev/null || true
	for cg in "${CGROUPS[@]+"${CGROUPS[@]}"}"; do
		[ -e "$cg/cgroup.freeze" ] && echo 0 >"$cg/cgroup.freeze" 2>/dev/null
		[ -e "$cg/freezer.state" ] && echo THAWED >"$cg/freezer.state" 2>/dev/null
	done
	kill_victims
	for cg in "${CGROUPS[@]+"${CGROUPS[@]}"}"; do
		retry 20 0.05 rmdir "$cg" 2>/dev/null || true
	done
}

# vcmd CMD...: send one command to the victim and wait for its ACK.
vcmd() {
	NCMD=$((NCMD + 1))
	echo "$*" >"$FIFO"
	retry 200 0.02 grep -qE "^(ACK|ERROR) $NCMD( |\$)" "$OUT" || fail "victim did not answer '$*'"
	! grep -qE "^ERROR $NCMD " "$OUT" || fail "victim: $(grep -E "^ERROR $NCMD " "$OUT")"
	# back in read(2) on the fifo: its memory no longer changes
	retry 200 0.01 victim_idle || fail "victim did not go back to reading commands"
}

victim_idle() {
	local s
	s=$(cat "/proc/$VPID/syscall" 2>/dev/null) || return 1
	[ "${s%% *}" = 0 ]
}

# region_addr NAME: decimal start address of the victim's region NAME.
region_addr() {
	printf '%d' "$(awk -v n="$1" '$1 == "REGION" && $2 == n {a = $3} END {print a}' "$OUT")"
}

# layer_pages DIR PID FLAG: decimal addresses of the pages of pagemap-PID.img
# whose entry flags equal FLAG (4 = PE_PRESENT, 1 = PE_PARENT), one per line.
layer_pages() {
	crit decode -i "$1/pagemap-$2.img" |
		jq -r --argjson f "$3" '.entries[1:][] | select(.flags == $f) |
			range(.vaddr; .vaddr + .nr_pages * 4096; 4096)'
}

# region_pages NAME FIRST COUNT: decimal addresses of those pages of region NAME.
region_pages() {
	local base i
	base=$(region_addr "$1")
	for ((i = $2; i < $2 + $3; i++)); do
		echo $((base + i * 4096))
	done
}

# in_region NAME PAGES: the lines of stdin that fall inside region NAME (PAGES long).
in_region() {
	local base
	base=$(region_addr "$1")
	awk -v lo="$base" -v hi="$((base + $2 * 4096))" '$1 >= lo && $1 < hi'
}

# expect_layer DIR PID NAME PAGES EXPECTED_FILE: the PE_PRESENT pages of region
# NAME in layer DIR are exactly those listed in EXPECTED_FILE.  Pages written
# that are missing (false negatives) fail; extra ones (false positives) fail too
# inside the region, where the victim wrote nothing else.
expect_layer() {
	local got="$BATS_TEST_TMPDIR/got"
	layer_pages "$1" "$2" 4 | in_region "$3" "$4" | sort -n >"$got"
	sort -n "$5" >"$5.sorted"
	local fn fp
	fn=$(comm -13 "$got" "$5.sorted" | wc -l)
	fp=$(comm -23 "$got" "$5.sorted" | wc -l)
	echo "# layer $(basename "$1") region $3: $(wc -l <"$got") pages, $fn false negatives, $fp false positives" >&3
	[ "$fn" -eq 0 ] || fail "layer $1 lacks $fn pages written since its parent"
	[ "$fp" -eq 0 ] || fail "layer $1 holds $fp pages of $3 not written since its parent"
}

# Every image of every layer decodes with crit.
crit_all() {
	local d f
	for d in "$@"; do
		for f in "$d"/*.img "$d"/stats-dump; do
			case "$f" in */pages-*.img) continue ;; esac
			crit decode -i "$f" >/dev/null || fail "crit cannot decode $f"
		done
	done
}

verify_ok() {
	ckpt_run verify -t "$VPID" -D "$1"
	assert_success
	assert_output --partial ": OK"
}

make_cgroup() {
	local v=$1 cg
	if [ "$v" = 2 ]; then
		cg=/sys/fs/cgroup/unified/ckpt-test-$$-$BATS_TEST_NUMBER-${#CGROUPS[@]}
		[ -d /sys/fs/cgroup/unified ] || skip "no cgroup v2 hierarchy"
	else
		cg=/sys/fs/cgroup/freezer/ckpt-test-$$-$BATS_TEST_NUMBER-${#CGROUPS[@]}
		[ -d /sys/fs/cgroup/freezer ] || skip "no v1 freezer hierarchy"
	fi
	mkdir "$cg"
	CGROUPS+=("$cg")
	echo "$VPID" >"$cg/cgroup.procs"
	CG=$cg
}

# child_of_pages PAGES: the victim forks a child that writes PAGES pages of a
# region of its own (the victim leaves them untouched); CHILD is its pid once
# they are resident.
child_of_pages() {
	vcmd alloc big "$1"
	vcmd fork big 1
	CHILD=$(sed -n 's/^CHILD //p' "$OUT" | tail -1)
	retry 300 0.05 bash -c "awk -v kib=$(($1 * 4 - 256)) '/^VmRSS/ { exit !(\$2 > kib) }' /proc/$CHILD/status"
}

# predump_exiting_child MESSAGE: a pre-dump ($TRACKER) stopped at fault point
# $POINT (default thawed: after its thaw) while a child of 2 GiB of 4 KiB pages is killed; it goes on when the child's
# memory is released but it is not a zombie yet (the release takes a few
# hundred ms, while /proc says it runs, with vsize 0).  The layer is written,
# its log names the child with MESSAGE.
predump_exiting_child() {
	local point=${POINT:-thawed} child
	child_of_pages 524288
	child=$CHILD
	ckpt_stopped_at "$point" pre-dump -t "$VPID" -D "$IMG/x" --tracker "$TRACKER"
	kill -KILL "$child"
	retry 500 0.001 bash -c "s=\$(cat /proc/$child/stat); s=\${s##*) }; set -- \$s; [ \$1 != Z ] && [ \${21} = 0 ]" ||
		fail "the child was never seen exiting with its memory released"
	ckpt_resume_ok
	grep -q "$child.* $1\|$1.* $child" "$LOG"
	[ -e "$IMG/x/pagemap-$VPID.img" ]
	crit_all "$IMG/x"
	untraced "$VPID"
}

# cat_reading PID: wait until PID runs /bin/cat (the victims' exec) and blocks
# in its read(0), done writing its memory (a later layer is then its instant).
cat_reading() {
	local exe
	exe=$(realpath /bin/cat)
	retry 200 0.02 bash -c "[ \"\$(readlink /proc/$1/exe)\" = $exe ]" || fail "pid $1 did not exec cat"
	retry 200 0.02 grep -q "^0 0x0 " "/proc/$1/syscall" || fail "pid $1 (cat) does not block in read(0)"
}

# predump_execing_child POINT: a pre-dump ($TRACKER) stopped at fault point
# POINT while its child (32 MiB of its own) execs /bin/cat.  The address
# space the freeze saw is gone, and what is read after the exec would be the
# new program's: the layer holds nothing of the child (no pagemap, pages, mm
# image or tracker state), the parent's part is there.  The next pre-dump
# takes the child whole, and that chain verifies.
predump_execing_child() {
	local point=$1 child
	child_of_pages 8192
	child=$CHILD
	ckpt_stopped_at "$point" pre-dump -t "$VPID" -D "$IMG/x" --tracker "$TRACKER"
	kill -USR1 "$child"
	cat_reading "$child"
	ckpt_resume_ok
	grep -q "pid $child exec'd during the pre-dump" "$LOG"
	[ -e "$IMG/x/pagemap-$VPID.img" ]
	[ ! -e "$IMG/x/pagemap-$child.img" ]
	[ ! -e "$IMG/x/mm-$child.img" ]
	run ls "$IMG/x"
	refute_output --partial "-$child.state"
	# no pages-N.img left behind without its pagemap
	local pages=("$IMG"/x/pages-*.img) maps=("$IMG"/x/pagemap-*.img)
	[ "${#pages[@]}" = "${#maps[@]}" ]
	crit_all "$IMG/x"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/y" --prev-images-dir ../x --tracker "$TRACKER"
	verify_ok "$IMG/y"
	untraced "$VPID"
	untraced "$child"
}

# ckpt_stopped_at POINT ARGS...: ckpt ARGS -v 4 in the background, stopped at
# its fault point POINT (CK_FAULT=POINT:stop); sets CK_STOPPED and LOG (ckpt's
# stderr).  ckpt_resume_ok: let it go on; it must succeed.
ckpt_stopped_at() {
	local point=$1
	shift
	LOG="$BATS_TEST_TMPDIR/ckpt.err"
	CK_FAULT=$point:stop "$CKPT" "$@" -v 4 >/dev/null 2>"$LOG" 3>&- &
	CK_STOPPED=$!
	retry 200 0.02 grep -q "stopped at $point" "$LOG" || fail "ckpt did not stop: $(cat "$LOG")"
	retry 200 0.02 grep -qE '^State:\s+T' "/proc/$CK_STOPPED/status"
}

ckpt_resume_ok() {
	local rc=0
	kill -CONT "$CK_STOPPED"
	wait "$CK_STOPPED" || rc=$?
	CK_STOPPED=""
	cat "$LOG" >&2
	[ "$rc" = 0 ] || fail "ckpt failed: $(cat "$LOG")"
}
