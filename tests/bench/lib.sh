# shellcheck shell=bash
# tests/bench/lib.sh: what run.sh and compare.sh share — the mem-bench
# workload driver, ckpt's "done" event, the page-cache warm-up.  Source it
# after setting BUILD and WORK (a directory the caller removes).

CKPT="${BENCH_CKPT:-$PWD/$BUILD/ckpt}" # BENCH_CKPT: another build's, e.g. the one before a change
VICTIM="$PWD/$BUILD/tests/victims/mem-bench"
WRITE_BENCH="$PWD/$BUILD/tests/victims/write-bench"
export GLIBC_TUNABLES=glibc.pthread.rseq=0
VPID=""
NCMD=0

bench_die() {
	echo "bench: $*" >&2
	exit 1
}

# start_workload MIB [NVMA [NPROC]]: start mem-bench (its own session), wait
# for READY; sets VPID, FIFO, VOUT.  NVMA VMAs per process, NPROC processes.
start_workload() {
	FIFO="$WORK/fifo.$1"
	VOUT="$WORK/out.$1"
	rm -f "$FIFO" "$VOUT"
	mkfifo "$FIFO"
	NCMD=0
	setsid "$VICTIM" "$1" "$FIFO" "${2:-1}" "${3:-1}" >"$VOUT" 2>&1 </dev/null &
	VPID=$!
	for _ in $(seq 1200); do
		grep -q READY "$VOUT" && return 0
		sleep 0.05
	done
	bench_die "workload did not start"
}

stop_workload() {
	[ -n "$VPID" ] || return 0
	kill -KILL "$VPID" 2>/dev/null || true
	wait "$VPID" 2>/dev/null || true
	VPID=""
}

# wcmd CMD: send a command, wait for its answer line (ACK n / RATE n x)
wcmd() {
	NCMD=$((NCMD + 1))
	echo "$*" >"$FIFO"
	for _ in $(seq 6000); do
		grep -qE "^(ACK|RATE|ERROR) $NCMD( |$)" "$VOUT" && return 0
		sleep 0.01
	done
	bench_die "workload did not answer '$*'"
}

# wrate: the pages/s of the last spin's answer
wrate() {
	awk -v n="$NCMD" '$1 == "RATE" && $2 == n {print $3}' "$VOUT"
}

nowms() { echo $(($(date +%s%N) / 1000000)); }

# ms US: microseconds as milliseconds, 2 decimals (null stays null)
ms() { jq -n --argjson us "$1" 'if $us == null then null else $us / 10 | round / 100 end'; }

# warm_cache MIB: put the page cache in one state before every timed run that
# writes: MIB MiB written to a file in $WORK and removed, then sync.  On this
# VM (virtio-balloon free page reporting) memory freed a few seconds earlier is
# handed back to the host, and the next 1 GiB written to the page cache costs
# ~2 s instead of ~0.2 s; after this step every run writes into memory that was
# just freed, whichever tool runs.
warm_cache() {
	rm -f "$WORK/warm.bin"
	"$WRITE_BENCH" "$WORK/warm.bin" "$1" >/dev/null
	rm -f "$WORK/warm.bin"
	sync
}

# ckpt_done ARGS...: run ckpt with --json-progress, print its "done" event.
ckpt_done() {
	"$CKPT" "$@" --json-progress | grep '"event":"done"'
}
