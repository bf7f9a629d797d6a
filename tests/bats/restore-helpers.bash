# shellcheck shell=bash
# The rst-* victims' driver, shared by the restore suites (dump-restore.bats: CRIU 3.17 in the
# VM lane; restore-criu4.bats: CRIU 4.2 on this kernel).  Loaded after helpers.bash; the
# suite's setup sets IMG (the chain's folder) and OUT (the victim's output).

# rst_setup: the suite's folders (IMG: the chain, OUT: the victim's output).
rst_setup() {
	IMG="$BATS_TEST_TMPDIR/img"
	OUT="$BATS_TEST_TMPDIR/victim.out"
	mkdir -p "$IMG"
}

# rst_teardown: the victims and a restored tree are killed.
rst_teardown() {
	kill_victims
	[ -v RESTORED_PID ] && kill -KILL "$RESTORED_PID" 2>/dev/null
	return 0
}

# stderr_has TEXT: the last `run --separate-stderr` printed TEXT on stderr.
stderr_has() {
	[[ "$stderr" == *"$1"* ]] || {
		echo "stderr lacks '$1':" >&2
		echo "$stderr" >&2
		return 1
	}
}

# victim NAME [ARGS...]: start an rst-* victim with its output in $OUT.
victim() {
	local name=$1
	shift
	"$VICTIMS/$name" "$@" >"$OUT" 2>&1 3>&- </dev/null &
	VICTIM_PID=$!
	VICTIM_PIDS+=("$VICTIM_PID")
	retry 200 0.05 grep -q '^READY' "$OUT" || {
		cat "$OUT" >&2
		return 1
	}
}

# change N: ask the victim to change its state and wait for "CHANGED N".
change() {
	kill -USR1 "$VICTIM_PID"
	retry 200 0.05 grep -q "^CHANGED $1\$" "$OUT"
}

# dump_chain [DUMP-OPTIONS...]: pre-dump, change, pre-dump, change, final dump into $IMG/3.
# The pre-dumps get the options in the array PRE_DUMP_ARGS (e.g. a tracker).
PRE_DUMP_ARGS=()
dump_chain() {
	ckpt_run -0 pre-dump -t "$VICTIM_PID" -D "$IMG/1" "${PRE_DUMP_ARGS[@]+"${PRE_DUMP_ARGS[@]}"}"
	change 1
	ckpt_run -0 pre-dump -t "$VICTIM_PID" -D "$IMG/2" --prev-images-dir ../1 \
		"${PRE_DUMP_ARGS[@]+"${PRE_DUMP_ARGS[@]}"}"
	change 2
	ckpt_run -0 dump -t "$VICTIM_PID" -D "$IMG/3" --prev-images-dir ../2 "$@"
}

# check_images DIR PID...: the restorable set is there and every image decodes.
check_images() {
	local dir=$1 f p
	shift
	for f in inventory.img pstree.img files.img timens-0.img; do
		[ -f "$dir/$f" ] || fail "$f missing"
	done
	for p in "$@"; do
		for f in core-$p.img ids-$p.img mm-$p.img fs-$p.img pagemap-$p.img; do
			[ -f "$dir/$f" ] || fail "$f missing"
		done
	done
	for f in "$dir"/*.img; do
		case "${f##*/}" in pages-*) continue ;; esac
		crit decode -i "$f" -o /dev/null || fail "crit cannot decode ${f##*/}"
		"$CKPT" show "$f" >/dev/null || fail "ckpt show (protobuf-c) rejects ${f##*/}"
	done
	# crit's explorers resolve every cross reference (fdinfo -> files, mm -> files)
	run -0 crit x "$dir" ps
	run -0 crit x "$dir" fds
	run -0 crit x "$dir" mems
}

# gone PID: the dumped tree was killed (CRIU's default after a dump).
gone() {
	retry 100 0.05 bash -c "! kill -0 $1 2>/dev/null || grep -q '^State:.*Z' /proc/$1/status"
}

# free_pids PID...: wait (bounded) until the dumped pids are gone from /proc; PID 1 reaps
# the killed tree's orphans lazily, and CRIU needs the very same pids.
free_pids() {
	local p
	for p in "$@"; do
		retry 600 0.05 test ! -e "/proc/$p" ||
			fail "pid $p still exists 30 s after the dump (not reaped by PID 1)"
	done
}

# seccomp_chain DIR TID: the flags of thread TID's seccomp filters in DIR, first installed
# first, following seccomp.img's prev links from its core's seccomp_filter
# ("none" when the core says no filter), then "@" and the entry its chain starts at.
seccomp_chain() {
	local dir=$1 start
	start=$(crit decode -i "$dir/core-$2.img" |
		jq -r '.entries[0].thread_core | if .seccomp_mode == "filter" then .seccomp_filter else "none" end')
	if [ "$start" = none ]; then
		echo none
		return 0
	fi
	crit decode -i "$dir/seccomp.img" | jq -r --argjson i "$start" '.entries[0].seccomp_filters as $f
		| [$i | recurse(if $f[.].prev != null then $f[.].prev else empty end)]
		| (map($f[.].flags | tostring) | join(" ")) + " @" + ($i | tostring)'
}

# seccomp_victim [split]: start rst-seccomp; CHILD and WORKER are its child and thread.
seccomp_victim() {
	victim rst-seccomp "$@"
	read -r _ _ CHILD _ WORKER < <(grep '^READY' "$OUT")
	[ -n "$WORKER" ]
}

# seccomp_images DIR [split]: seccomp.img as CRIU writes it for rst-seccomp.  One chain
# (getppid then uname with SECCOMP_FILTER_FLAG_LOG) in all threads: the leader's with TSYNC
# (flags 1, 3), the worker restored by it, the child sharing the leader's two entries.
# split: no TSYNC in the parent, the worker's three filters its own, the child's with TSYNC.
seccomp_images() {
	local dir=$1 n
	n=$(crit decode -i "$dir/seccomp.img" | jq '.entries[0].seccomp_filters | length')
	if [ "${2:-}" = split ]; then
		[ "$n" -eq 7 ] || fail "seccomp.img has $n entries, want 7"
		[[ "$(seccomp_chain "$dir" "$VICTIM_PID")" == "0 2 @"* ]]
		[[ "$(seccomp_chain "$dir" "$WORKER")" == "0 2 0 @"* ]]
		[[ "$(seccomp_chain "$dir" "$CHILD")" == "1 3 @"* ]]
		return 0
	fi
	[ "$n" -eq 2 ] || fail "seccomp.img has $n entries, want 2"
	[ "$(seccomp_chain "$dir" "$VICTIM_PID")" = "1 3 @1" ]
	[ "$(seccomp_chain "$dir" "$WORKER")" = none ]
	[ "$(seccomp_chain "$dir" "$CHILD")" = "1 3 @1" ]
}
