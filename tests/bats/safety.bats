#!/usr/bin/env bats
# Hostile and unusual targets (issue 12): ckpt refuses with a clear message
# and a non-zero exit, and leaves the target as it found it (running, not
# traced, not stopped, same mappings).

load helpers

setup() {
	requires ptrace
	IMG="$BATS_TEST_TMPDIR/img"
}

teardown() {
	kill_victims
	[ -z "${NOBODY_DIR:-}" ] || rm -rf "$NOBODY_DIR"
}

# The victim is alive, runs (not stopped or traced) and kept its mappings.
target_untouched() {
	local pid=$1 maps_before=$2
	[ -d "/proc/$pid" ] || fail "target $pid is gone"
	case "$(proc_state "$pid")" in
	R | S | D) ;;
	*) fail "target $pid is in state $(proc_state "$pid")" ;;
	esac
	untraced "$pid" || fail "target $pid is still traced by ckpt"
	[ "$(cat "/proc/$pid/maps")" = "$maps_before" ] || fail "target $pid's mappings changed"
}

# ckpt VERB on a target it cannot attach to: exit 1 (never a crash), MESSAGE.
refused() {
	local msg=$1
	shift
	ckpt_run "$@"
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status"
	assert_output --partial "$msg"
}

@test "item 7: a traced target: pre-dump, dump and exec say who traces it, no crash" {
	start_victim exec-sleeper 60
	local v=$VICTIM_PID
	start_victim tracer "$v"
	local tr=$VICTIM_PID maps
	maps=$(cat "/proc/$v/maps")
	refused "already traced by process $tr" pre-dump -t "$v" -D "$IMG"
	refused "is traced by pid $tr" dump --leave-running --shell-job -t "$v" -D "$IMG"
	refused "already traced by process $tr" exec -t "$v" getpid
	kill "$tr"
	retry 50 0.05 untraced "$v"
	target_untouched "$v" "$maps"
}

@test "item 7: a kernel thread (-t 2): 'is a kernel thread', no crash" {
	refused "process 2 is a kernel thread" pre-dump -t 2 -D "$IMG"
	refused "process 2 is a kernel thread" exec -t 2 getpid
}

@test "item 7: a zombie: 'is a zombie', no crash" {
	start_victim exec-zombie
	local z
	z=$(sed -n 's/^READY child=//p' "$BATS_TEST_TMPDIR/exec-zombie.out")
	refused "process $z is a zombie" pre-dump -t "$z" -D "$IMG"
	refused "process $z is a zombie" exec -t "$z" getpid
}

@test "item 7: a root-owned target as nobody: 'cannot attach', no crash" {
	requires root nobody
	start_victim exec-sleeper 60
	local v=$VICTIM_PID maps
	maps=$(cat "/proc/$v/maps")
	NOBODY_DIR=$(mktemp -d /tmp/ckpt-inject.XXXXXX)
	chmod 777 "$NOBODY_DIR"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" pre-dump -t "$v" -D "$NOBODY_DIR/x"
	echo "$output" >&2
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status"
	assert_output --partial "cannot attach to process $v"
	refute_output --partial "Operation not permitted: Operation not permitted"
	target_untouched "$v" "$maps"
}

@test "item 7: ckpt's own pid and its parent: 'ckpt itself', no crash" {
	run sh -c 'exec "$0" pre-dump -t $$ -D "$1"' "$CKPT" "$IMG"
	echo "$output" >&2
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status"
	assert_output --partial "ckpt itself"
	run sh -c '"$0" pre-dump -t $$ -D "$1"; echo "rc=$?"' "$CKPT" "$IMG"
	echo "$output" >&2
	assert_output --partial "ckpt itself"
	assert_output --partial "rc=1"
}

@test "item 7: the loser of two concurrent pre-dumps fails cleanly, no crash" {
	start_victim exec-sleeper 60
	local v=$VICTIM_PID i rc1 rc2 crashes=0
	for i in $(seq 1 10); do
		"$CKPT" pre-dump -t "$v" -D "$IMG.a$i" >/dev/null 2>&1 &
		local p1=$!
		"$CKPT" pre-dump -t "$v" -D "$IMG.b$i" >"$BATS_TEST_TMPDIR/b.err" 2>&1 && rc2=0 || rc2=$?
		wait "$p1" && rc1=0 || rc1=$?
		echo "round $i: $rc1 $rc2" >&2
		[ "$rc1" -le 1 ] && [ "$rc2" -le 1 ] || crashes=$((crashes + 1))
	done
	[ "$crashes" -eq 0 ] || fail "$crashes rounds crashed"
	retry 50 0.05 untraced "$v"
	[ "$(proc_state "$v")" != t ] || fail "victim left stopped"
}

# A victim as nobody under a seccomp filter (getcwd -> EPERM): exec-seccomp.
start_seccomp_victim() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$VICTIMS/exec-seccomp" \
		>"$BATS_TEST_TMPDIR/sc.out" 2>&1 3>&- </dev/null &
	SC_PID=$!
	VICTIM_PIDS+=("$SC_PID")
	retry 100 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/sc.out"
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$SC_PID/status"
}

@test "item 2: unprivileged pre-dump and dump of a target with a seccomp filter are refused up front, target untouched" {
	requires root nobody
	NOBODY_DIR=$(mktemp -d /tmp/ckpt-safety-sc.XXXXXX)
	chmod 777 "$NOBODY_DIR"
	start_seccomp_victim
	local v=$SC_PID maps verb
	maps=$(cat "/proc/$v/maps")
	for verb in pre-dump "dump --leave-running --memory-only" "dump --leave-running --shell-job"; do
		# shellcheck disable=SC2086 # the verb's words
		run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" $verb -t "$v" -D "$NOBODY_DIR/a" -v
		echo "ckpt $verb: status $status: $output" >&2
		[ "$status" -eq 1 ] || fail "$verb: expected exit 1, got $status"
		assert_output --partial "process $v has a seccomp filter (Seccomp: 2) that ckpt can suspend only as root (CAP_SYS_ADMIN in the initial user namespace; here ckpt lacks CAP_SYS_ADMIN): a call injected into it could kill it, so ckpt refused it before stopping anything"
		# refused before anything: no freeze, no tracker, no layer directory
		refute_output --partial "froze"
		refute_output --partial "tracker:"
		[ -z "$(ls -A "$NOBODY_DIR")" ] || fail "$verb left $(ls -A "$NOBODY_DIR")"
		target_untouched "$v" "$maps"
		grep -q '^Seccomp:[[:space:]]*2$' "/proc/$v/status"
	done
	# the same check refuses exec (one function), also for --cgroup targets
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" exec -t "$v" getpid
	[ "$status" -eq 1 ] || fail "exec: expected exit 1, got $status"
	assert_output --partial "refused it before stopping anything"
	target_untouched "$v" "$maps"
	# the victim's own filter still works and it still runs
	grep -q '^READY getcwd=EPERM' "$BATS_TEST_TMPDIR/sc.out"
	! grep -q 'killed\|FAIL' "$BATS_TEST_TMPDIR/sc.out"
}

@test "item 2: root (CAP_SYS_ADMIN) still pre-dumps and dumps a target with a seccomp filter" {
	requires root nobody seccomp-suspend
	mkdir -p "$IMG"
	start_seccomp_victim
	local v=$SC_PID maps
	maps=$(cat "/proc/$v/maps")
	ckpt_run -0 pre-dump -t "$v" -D "$IMG/1"
	[ -f "$IMG/1/pagemap-$v.img" ] || fail "no layer written"
	ckpt_run -0 pre-dump -t "$v" -D "$IMG/2" --prev-images-dir ../1
	ckpt_run -0 dump --leave-running --memory-only -t "$v" -D "$IMG/3" --prev-images-dir ../2
	ckpt_run -0 exec -t "$v" getpid
	assert_output "Syscall returned $v (0x$(printf %x "$v"))"
	# let go of the tracking before comparing the mappings
	ckpt_run untrack -t "$v"
	target_untouched "$v" "$maps"
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$v/status"
	# a full dump writes the filter into seccomp.img (as root it can read it) and leaves the
	# target running under it; a root-owned victim (prlimit of another user's task needs
	# CAP_SYS_RESOURCE, which this machine's root lacks)
	"$VICTIMS/exec-seccomp" >"$BATS_TEST_TMPDIR/sc-root.out" 2>&1 3>&- </dev/null &
	v=$!
	VICTIM_PIDS+=("$v")
	retry 100 0.05 grep -q '^READY getcwd=EPERM' "$BATS_TEST_TMPDIR/sc-root.out"
	ckpt_run -0 dump --leave-running --shell-job -t "$v" -D "$IMG/4"
	run -0 crit decode -i "$IMG/4/seccomp.img"
	echo "$output" | jq -e '.entries[0].seccomp_filters | length == 1'
	run -0 crit decode -i "$IMG/4/core-$v.img"
	echo "$output" | jq -e '.entries[0].thread_core | .seccomp_mode == "filter" and .seccomp_filter == 0'
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$v/status"
	kill -0 "$v"
}

@test "item 4: a tree with a task in vfork: pre-dump and exec stop waiting, name it, release the tree" {
	start_victim vfork-victim
	local p c
	p=$(sed -n 's/^READY parent=\([0-9]*\) child=.*/\1/p' "$BATS_TEST_TMPDIR/vfork-victim.out")
	c=$(sed -n 's/^READY parent=[0-9]* child=//p' "$BATS_TEST_TMPDIR/vfork-victim.out")
	VICTIM_PIDS+=("$c")
	run timeout 30 "$CKPT" pre-dump -t "$p" -D "$IMG"
	echo "$output" >&2
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status"
	assert_output --partial "process $p (thread $p) did not stop within"
	assert_output --partial "vfork()"
	run timeout 30 "$CKPT" exec -t "$p" getpid
	echo "$output" >&2
	[ "$status" -eq 1 ] || fail "expected exit 1, got $status"
	assert_output --partial "vfork()"
	retry 50 0.1 untraced "$p"
	untraced "$c" || fail "the vfork child is still traced"
	[ "$(proc_state "$c")" = S ] || fail "the vfork child is in state $(proc_state "$c")"
	ckpt_run -0 exec -t "$c" getpid
}
