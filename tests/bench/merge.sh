#!/bin/bash
# tests/bench/merge.sh (make bench): the layer merge (ckpt compact, what the
# pre-copy agent does at max-layers) on a BENCH_MIB (default 1024) MiB
# anonymous workload: a full layer, an incremental one with 32 MiB rewritten,
# then the merge of the two: elapsed time, throughput over the merged bytes,
# ckpt's peak RSS (streamed pages: it must not grow with the layer).  Medians
# of BENCH_RUNS (default 3).  Figures, never pass/fail; writes
# $BUILD/bench-merge.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
CKPT="$PWD/$BUILD/ckpt"
VICTIM="$PWD/$BUILD/tests/victims/mem-bench"
OUT="$PWD/$BUILD/bench-merge.json"
MIB=${BENCH_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "bench-merge: needs root" >&2; exit 1; }
WORK=$(mktemp -d "$PWD/$BUILD/bench-merge.XXXXXX")
export GLIBC_TUNABLES=glibc.pthread.rseq=0
VPID=""
cleanup() {
	[ -n "$VPID" ] && kill -KILL "$VPID" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

FIFO="$WORK/fifo"
VOUT="$WORK/out"
mkfifo "$FIFO"
"$VICTIM" "$MIB" "$FIFO" >"$VOUT" 2>&1 &
VPID=$!
for _ in $(seq 1200); do
	grep -q READY "$VOUT" && break
	sleep 0.05
done
grep -q READY "$VOUT" || { echo "bench-merge: workload did not start" >&2; exit 1; }
NCMD=0
wcmd() {
	NCMD=$((NCMD + 1))
	echo "$*" >"$FIFO"
	for _ in $(seq 6000); do
		grep -qE "^(ACK|ERROR) $NCMD( |$)" "$VOUT" && return 0
		sleep 0.01
	done
	echo "bench-merge: workload did not answer '$*'" >&2
	exit 1
}

secs=() rss=()
for r in $(seq "$RUNS"); do
	d="$WORK/r$r"
	mkdir "$d"
	"$CKPT" pre-dump -t "$VPID" -D "$d/1" --tracker hash >/dev/null
	wcmd rewrite 32 "$r"
	"$CKPT" pre-dump -t "$VPID" -D "$d/2" --prev-images-dir ../1 --tracker hash >/dev/null
	sync
	${BENCH_WRAP:-} /usr/bin/time -f "%e %M" -o "$WORK/time" "$CKPT" compact -D "$d/2" >/dev/null
	read -r s m <"$WORK/time"
	secs+=("$s")
	rss+=("$m")
	rm -rf "$d"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
s=$(median "${secs[@]}")
m=$(median "${rss[@]}")
gbps=$(awk -v b="$((MIB * 1048576))" -v s="$s" 'BEGIN {printf "%.2f", (s > 0 ? b / s / 1e9 : 0)}')
jq -n --argjson mib "$MIB" --argjson s "$s" --argjson gbps "$gbps" --argjson rss "$m" --argjson runs "$RUNS" \
	'{workload_mib: $mib, runs: $runs, merge_s: $s, merge_gbps: $gbps, merge_peak_rss_kib: $rss}' >"$OUT"
printf 'bench-merge: %s MiB (full layer + 32 MiB incremental), median of %s runs\n' "$MIB" "$RUNS"
printf '  %-28s %s\n' "merge (ckpt compact)" "${s} s" "throughput" "${gbps} GB/s" "ckpt peak RSS" "${m} KiB"
