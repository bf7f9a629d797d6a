# shellcheck shell=bash
# Loaded by every .bats file: paths, the ckpt wrapper, requirements, victims.
set -u
bats_require_minimum_version 1.8.0
bats_load_library bats-support
bats_load_library bats-assert

REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
BUILD="${BUILD:-$REPO_ROOT/build}"
case "$BUILD" in /*) ;; *) BUILD="$REPO_ROOT/$BUILD" ;; esac
CKPT="$BUILD/ckpt"
VICTIMS="$BUILD/tests/victims"
UNIT="$BUILD/tests/unit"
export ASAN_OPTIONS=detect_leaks=0

# Run ckpt through bats' `run`, echoing the command and result to stderr so a
# failing test shows them (runc's sane_run idea).  Use as: ckpt_run -0 check ...
# The expected status is checked here, after the echo, not by `run -N`: bats
# fails a `run -N` before the caller sees the output of the very run that failed.
ckpt_run() {
	local flags=() want=""
	while [[ $# -gt 0 && ("$1" =~ ^-[0-9]+$ || "$1" == "!" || "$1" == --separate-stderr) ]]; do
		case "$1" in
		--separate-stderr) flags+=("$1") ;;
		*) want=$1 ;;
		esac
		shift
	done
	run "${flags[@]}" "$CKPT" "$@"
	echo "ckpt $* (status=$status)" >&2
	echo "$output" >&2
	[ -z "${stderr:-}" ] || echo "$stderr" >&2
	case "$want" in
	"") ;;
	"!") [ "$status" -ne 0 ] || {
		echo "expected a non-zero exit, got 0" >&2
		return 1
	} ;;
	*) [ "$status" -eq "${want#-}" ] || {
		echo "expected exit ${want#-}, got $status" >&2
		return 1
	} ;;
	esac
}

in_userns() {
	[ -r /proc/self/uid_map ] || return 1
	! grep -qE '^\s*0\s+0\s+4294967295' /proc/self/uid_map
}

requires() {
	local r
	for r in "$@"; do
		case "$r" in
		root) { [ "$EUID" -eq 0 ] && ! in_userns; } || skip "test requires root" ;;
		ptrace) [ "$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)" -lt 3 ] || skip "ptrace disabled (yama ptrace_scope=3)" ;;
		soft-dirty | uffd-wp-async | cgroup-freezer | seccomp-suspend)
			"$CKPT" check --feature "$r" >/dev/null 2>&1 || skip "kernel lacks $r" ;;
		crit | runc | criu) command -v "$r" >/dev/null || skip "test requires $r" ;;
		nobody) id nobody >/dev/null 2>&1 || skip "test requires user nobody" ;;
		criu4) requires_criu4 ;;
		*) fail "BUG: unknown requirement '$r'" ;;
		esac
	done
}

# requires criu4: a CRIU >= 4.0 from tests/tools/criu.sh (CKPT_CRIU, or CRIU 4.2 built once
# from ../shared/tools into a cache); sets CRIU4 to its path.  Skips with the script's reason
# when none is available; a failed build or a bad CKPT_CRIU fails the test.  Asked once per run.
requires_criu4() {
	local f="$BATS_RUN_TMPDIR/criu4" rc path
	if [ ! -f "$f" ]; then
		rc=0
		path=$("$REPO_ROOT/tests/tools/criu.sh" 2>"$f.err") || rc=$?
		echo "$rc $path" >"$f"
	fi
	read -r rc path <"$f"
	case "$rc" in
	0) CRIU4=$path ;;
	3) skip "$(tail -n1 "$f.err")" ;;
	*) fail "tests/tools/criu.sh failed (exit $rc): $(cat "$f.err")" ;;
	esac
}

# retry N DELAY CMD...: run CMD until it succeeds, at most N times.
retry() {
	local n=$1 delay=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep "$delay"
	done
	echo "retry: '$*' failed $n times" >&2
	return 1
}

# Start a victim in the background (closing bats' fd 3) and wait until it
# prints its readiness line to $BATS_TEST_TMPDIR/<name>.out.  Sets VICTIM_PID.
# Usage: start_victim NAME [ARGS...]
start_victim() {
	local name=$1
	shift
	local out="$BATS_TEST_TMPDIR/$name.out"
	"$VICTIMS/$name" "$@" >"$out" 2>&1 3>&- </dev/null &
	VICTIM_PID=$!
	VICTIM_PIDS+=("$VICTIM_PID")
	retry 100 0.05 grep -q '^READY' "$out" || {
		cat "$out" >&2
		return 1
	}
}
VICTIM_PIDS=()

# Kill every victim this test started; idempotent.
kill_victims() {
	local p
	for p in "${VICTIM_PIDS[@]+"${VICTIM_PIDS[@]}"}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	VICTIM_PIDS=()
}

# The victim's state letter from /proc (R, S, T, t, Z, ...).
proc_state() {
	awk '/^State:/ {print $2}' "/proc/$1/status"
}

# state_is PID X: PID's state letter is X, read at each call (`retry state_is`
# samples again; `retry test "$(proc_state P)" = X` would test one sample).
state_is() {
	[ "$(proc_state "$1")" = "$2" ]
}

# True when no task of pid $1 is traced (TracerPid 0 in every thread).
untraced() {
	local t
	for t in /proc/"$1"/task/*; do
		[ "$(awk '/^TracerPid:/ {print $2}' "$t/status")" = 0 ] || return 1
	done
}

# agent_hooks BUNDLE INTERVAL [JQ]: BUNDLE's config.json asks for ckpt's pre-copy agent
# (org.ckpt.enable, org.ckpt.interval INTERVAL) and runs `ckpt hook` at poststart and poststop
# with $CKPT_AGENT_REGISTRY; JQ (a jq filter) is applied after.
agent_hooks() {
	local b=$1 iv=$2 extra=${3:-.}
	jq --arg ck "$CKPT" --arg reg "$CKPT_AGENT_REGISTRY" --arg iv "$iv" '
		.annotations = {"org.ckpt.enable": "true", "org.ckpt.interval": $iv}
		| .hooks = {
			"poststart": [{"path": $ck, "args": ["ckpt", "hook", "poststart"],
				"env": ["CKPT_AGENT_REGISTRY=" + $reg], "timeout": 10}],
			"poststop": [{"path": $ck, "args": ["ckpt", "hook", "poststop"],
				"env": ["CKPT_AGENT_REGISTRY=" + $reg], "timeout": 10}] }' \
		"$b/config.json" | jq "$extra" >"$b/config.new"
	mv "$b/config.new" "$b/config.json"
}
