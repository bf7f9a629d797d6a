# shellcheck shell=bash
# Loaded (after ../bats/helpers) by the suites that run inside the VM lane's
# guest (tests/vm/*.bats, run by tests/vm/check-vm.sh through run-in-vm.sh).

# Skip unless inside the lane's guest: these tests assert facts about Debian's
# 6.1 kernel (soft-dirty present, PAGEMAP_SCAN absent, CRIU 3.17 working).
requires_vm() {
	[ "${CKPT_IN_VM:-0}" = 1 ] || skip "runs only inside the VM lane (make check-vm)"
}

# Start a victim as the leader of its own session (no controlling terminal, so
# CRIU needs no --shell-job), output to $BATS_TEST_TMPDIR/<name>.out, and wait
# for its "READY <pid>" line.  Sets VICTIM_PID from that line.
# Usage: start_session_victim NAME [ARGS...]
start_session_victim() {
	local name=$1 out
	shift
	out="$BATS_TEST_TMPDIR/$name.out"
	setsid "$VICTIMS/$name" "$@" >"$out" 2>&1 </dev/null 3>&- &
	VICTIM_PIDS+=("$!")
	retry 100 0.1 grep -q '^READY' "$out" || {
		cat "$out" >&2
		return 1
	}
	VICTIM_PID=$(awk '/^READY/ {print $2; exit}' "$out")
	VICTIM_PIDS+=("$VICTIM_PID")
}

# criu_run VERB ARGS...: run criu with a log in the images dir named after the
# verb; on failure show the log's last lines.  Sets status like bats' run.
criu_run() {
	local verb=$1 dir="" a prev=""
	for a in "$@"; do
		[ "$prev" = -D ] && dir=$a
		prev=$a
	done
	run criu "$@" -o "$verb.log" -v4
	echo "criu $* (status=$status)" >&2
	if [ "$status" -ne 0 ] && [ -n "$dir" ] && [ -r "$dir/$verb.log" ]; then
		grep -E 'Error|Warn' "$dir/$verb.log" | tail -n 20 >&2
		tail -n 20 "$dir/$verb.log" >&2
	fi
}
