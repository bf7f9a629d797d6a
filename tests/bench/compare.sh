#!/bin/bash
# tests/bench/compare.sh: ckpt against upstream CRIU 4.2 and the write ceiling,
# side by side in one run (issue 16).  Figures and ratios, never pass/fail.
#
#   first layer (ckpt pre-dump without parent, ckpt dump) vs `criu dump` of the
#   same 1 GiB dirty anonymous workload, alternating runs, medians of BENCH_RUNS
#   (default 3); a plain write() of the same bytes to the same directory;
#   frozen time of an incremental uffd-wp layer (32 MiB dirty) at 1, 2, 4, 8 GiB
#   (BENCH_QUICK=1: 1 and 2 GiB); peak RSS of ckpt at the largest size.
# Appends to nothing: writes $BUILD/bench-compare.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
CKPT="$PWD/$BUILD/ckpt"
VICTIM="$PWD/$BUILD/tests/victims/mem-bench"
OUT="$PWD/$BUILD/bench-compare.json"
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-1024}
SIZES=${BENCH_SIZES:-"1024 2048 4096 8192"}
[ -n "${BENCH_QUICK:-}" ] && SIZES=${BENCH_SIZES:-"1024 2048"} && RUNS=${BENCH_RUNS:-2}
WORK=$(mktemp -d "$PWD/$BUILD/bench-cmp.XXXXXX")
export GLIBC_TUNABLES=glibc.pthread.rseq=0
[ "$(id -u)" = 0 ] || { echo "compare: needs root" >&2; exit 1; }

CRIU="" CRIU_WHY=""
rc=0
CRIU=$(tests/tools/criu.sh 2>"$WORK/criu.err") || rc=$?
[ "$rc" = 0 ] || { CRIU=""; CRIU_WHY="n/a ($(tail -n1 "$WORK/criu.err"))"; }

VPID=""
cleanup() {
	[ -n "$VPID" ] && kill -KILL "$VPID" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

NCMD=0
start_workload() {
	FIFO="$WORK/fifo.$1"
	VOUT="$WORK/out.$1"
	rm -f "$FIFO" "$VOUT"
	mkfifo "$FIFO"
	NCMD=0
	setsid "$VICTIM" "$1" "$FIFO" >"$VOUT" 2>&1 </dev/null &
	VPID=$!
	for _ in $(seq 1200); do
		grep -q READY "$VOUT" && return 0
		sleep 0.05
	done
	echo "compare: workload did not start" >&2
	exit 1
}
stop_workload() {
	kill -KILL "$VPID" 2>/dev/null || true
	wait "$VPID" 2>/dev/null || true
	VPID=""
}
wcmd() {
	NCMD=$((NCMD + 1))
	echo "$*" >"$FIFO"
	for _ in $(seq 6000); do
		grep -qE "^(ACK|RATE|ERROR) $NCMD( |$)" "$VOUT" && return 0
		sleep 0.01
	done
	echo "compare: workload did not answer '$*'" >&2
	exit 1
}
nowms() { echo $(($(date +%s%N) / 1000000)); }

runs="[]"
# rec TOOL KIND RUN WALL_MS FROZEN_MS
rec() { runs=$(jq -c --arg t "$1" --arg k "$2" --argjson r "$3" --argjson w "$4" --argjson f "$5" \
	'. + [{tool: $t, kind: $k, run: $r, wall_ms: $w, frozen_ms: $f}]' <<<"$runs"); }

# ckpt_layer KIND DIR ARGS...: one ckpt run; prints "wall frozen"
ckpt_layer() {
	local d=$1 t0 t1 j
	shift
	sync
	t0=$(nowms)
	j=$("$CKPT" "$@" -D "$d" --json-progress | grep '"event":"done"')
	t1=$(nowms)
	echo "$((t1 - t0)) $(jq -n --argjson us "$(jq .frozen_us <<<"$j")" '$us / 10 | round / 100')"
}
criu_layer() {
	local d=$1 t0 t1 f
	mkdir -p "$d"
	sync
	t0=$(nowms)
	"$CRIU" dump -t "$VPID" -D "$d" --shell-job --leave-running -o dump.log >/dev/null 2>&1 ||
		{ echo "compare: criu dump failed: $(tail -n3 "$d/dump.log")" >&2; echo "null null"; return; }
	t1=$(nowms)
	f=$(crit decode -i "$d/stats-dump" 2>/dev/null | jq '.entries[0].dump | (.frozen_time / 1000 * 100 | round / 100)' || echo null)
	echo "$((t1 - t0)) $f"
}

echo "compare: ${MIB} MiB dirty anon, ${RUNS} alternating runs; criu: ${CRIU:-$CRIU_WHY}" >&2
start_workload "$MIB"
"$CKPT" pre-dump -t "$VPID" -D "$WORK/warm" --tracker none >/dev/null
rm -rf "$WORK/warm"
for r in $(seq "$RUNS"); do
	read -r w f < <(ckpt_layer "$WORK/p$r" pre-dump -t "$VPID" --tracker uffd-wp)
	rec ckpt pre-dump "$r" "$w" "$f"; rm -rf "$WORK/p$r"
	read -r w f < <(ckpt_layer "$WORK/d$r" dump --memory-only -t "$VPID" --leave-running)
	rec ckpt dump "$r" "$w" "$f"; rm -rf "$WORK/d$r"
	if [ -n "$CRIU" ]; then
		read -r w f < <(criu_layer "$WORK/c$r")
		rec criu-4.2 dump "$r" "$w" "$f"; rm -rf "$WORK/c$r"
	fi
	sync
	# write() of a filled 16 MiB buffer, timed inside (dd from /dev/zero was
	# 8x slower here: it measures its reads, not the write path)
	w=$(python3 -c 'import os, sys, time
b = bytes([0x5a]) * (16 << 20)
f = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
t = time.monotonic()
for _ in range(int(sys.argv[2]) // 16):
    os.write(f, b)
print(round((time.monotonic() - t) * 1000))' "$WORK/w$r" "$MIB")
	rec "write()" write "$r" "$w" null; rm -f "$WORK/w$r"
done
stop_workload

# scale curve: frozen time of an incremental uffd-wp layer, 32 MiB dirty
peak=0
for s in $SIZES; do
	if [ "$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)" -lt $((s * 2 + 1024)) ]; then
		echo "compare: not enough memory for ${s} MiB; skipped" >&2
		continue
	fi
	echo "compare: scale ${s} MiB" >&2
	start_workload "$s"
	"$CKPT" pre-dump -t "$VPID" -D "$WORK/s1" --tracker uffd-wp >/dev/null
	for r in $(seq "$RUNS"); do
		wcmd rewrite 32 $((r + 10))
		read -r w f < <(ckpt_layer "$WORK/s$((r + 1))" pre-dump -t "$VPID" --tracker uffd-wp --prev-images-dir "../s$r")
		rec ckpt "incr-${s}" "$r" "$w" "$f"
	done
	wcmd rewrite 32 99
	d=$((RUNS + 2))
	/usr/bin/time -f %M -o "$WORK/rss" "$CKPT" dump --memory-only --track-mem -t "$VPID" -D "$WORK/s$d" \
		--prev-images-dir "../s$((d - 1))" --tracker uffd-wp --leave-running --json-progress >"$WORK/final.json"
	f=$(jq -n --argjson us "$(grep '"event":"done"' "$WORK/final.json" | jq .frozen_us)" '$us / 10 | round / 100')
	rec ckpt "final-${s}" 1 null "$f"
	peak=$(cat "$WORK/rss")
	rm -rf "$WORK"/s*
	stop_workload
done

jq -n --argjson runs "$runs" --arg kernel "$(uname -r)" --argjson mib "$MIB" --arg criu "${CRIU:-$CRIU_WHY}" \
	--argjson peak "$peak" --arg sizes "$SIZES" '
	def med: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
	($runs | group_by(.tool + " " + .kind) | map({key: (.[0].tool + " " + .[0].kind),
		value: {wall_ms: ([.[].wall_ms | select(. != null)] | med),
			frozen_ms: ([.[].frozen_ms | select(. != null)] | med)}}) | from_entries) as $m
	| {kernel: $kernel, workload_mib: $mib, criu: $criu, sizes_mib: $sizes,
	   peak_rss_mib_largest: ($peak / 1024 * 10 | round / 10), medians: $m,
	   ratios: {
	     ckpt_predump_wall_over_criu: (if $m["criu-4.2 dump"].wall_ms then ($m["ckpt pre-dump"].wall_ms / $m["criu-4.2 dump"].wall_ms * 100 | round / 100) else null end),
	     ckpt_dump_frozen_over_criu: (if $m["criu-4.2 dump"].frozen_ms then ($m["ckpt dump"].frozen_ms / $m["criu-4.2 dump"].frozen_ms * 100 | round / 100) else null end),
	     ckpt_predump_speed_over_write: ($m["write() write"].wall_ms / $m["ckpt pre-dump"].wall_ms * 100 | round / 100),
	     ckpt_dump_speed_over_write: ($m["write() write"].wall_ms / $m["ckpt dump"].wall_ms * 100 | round / 100)},
	   goals: {first_layer_vs_write: ">= 0.8", incr_frozen_ms: "10 + dirty pages, flat in size", final_dump_frozen_ms: 40},
	   runs: $runs}' >"$OUT"

printf '%-22s %12s %12s\n' "tool / layer" "wall ms" "frozen ms"
jq -r '.medians | to_entries[] | [.key, (.value.wall_ms // "-" | tostring), (.value.frozen_ms // "-" | tostring)] | @tsv' "$OUT" |
	while IFS=$'\t' read -r k w f; do printf '%-22s %12s %12s\n' "$k" "$w" "$f"; done
[ -n "$CRIU" ] || printf '%-22s %12s %12s\n' "criu-4.2 dump" "$CRIU_WHY" "$CRIU_WHY"
jq -r '.ratios | to_entries[] | "\(.key): \(.value // "n/a")"' "$OUT"
echo "peak RSS of ckpt at the largest size: $(jq .peak_rss_mib_largest "$OUT") MiB"
echo "figures (every run, medians, ratios) written to $OUT"
MEM="$PWD/$BUILD/bench-memory.json"
if [ -f "$MEM" ]; then
	jq --slurpfile c "$OUT" '. + {compare: $c[0]}' "$MEM" >"$MEM.tmp" && mv "$MEM.tmp" "$MEM"
	echo "and merged into $MEM (.compare)"
fi
