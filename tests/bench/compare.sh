#!/bin/bash
# tests/bench/compare.sh: ckpt against upstream CRIU 4.2 and the write ceiling,
# side by side in one run (issue 16).  Figures and ratios, never pass/fail.
#
#   first layer (ckpt pre-dump without parent, ckpt dump) vs `criu dump` of the
#   same 1 GiB dirty anonymous workload, and a plain write() of the same bytes
#   to the same directory (tests/victims/write-bench.c: from one cache-hot 2 MiB
#   buffer, and "memory": each byte once from 1 GiB filled beforehand), alternating runs,
#   medians of BENCH_RUNS (default 3), every run after the same page-cache
#   warm-up (lib.sh warm_cache); frozen time of an incremental uffd-wp layer
#   (32 MiB dirty) at 1, 2, 4, 8 GiB (BENCH_QUICK=1: 1 and 2 GiB), with 10,000
#   VMAs (1 GiB) and with 16 processes of 64 MiB (one tree); the workload's
#   write rate tracked vs untracked; peak RSS of ckpt at the largest size;
#   and the two userfaultfd write-protect modes side by side at the smallest and
#   largest size (tests/victims/uffd-modes.c: the async walk ckpt uses against
#   the sync fault handler it does not: frozen step and the writer's cost).
#   BENCH_FIRST_ONLY=1: the first-layer comparison and the write rate only.
#   BENCH_OTHER_CKPT=PATH: another build's first pre-dump in every round too
#   ("ckpt-other pre-dump", paired_predump_speed_over_other: before/after a change).
# Writes $BUILD/bench-compare.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
OUT="$PWD/$BUILD/bench-compare.json"
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-1024}
SIZES=${BENCH_SIZES:-"1024 2048 4096 8192"}
[ -n "${BENCH_QUICK:-}" ] && SIZES=${BENCH_SIZES:-"1024 2048"} && RUNS=${BENCH_RUNS:-2}
SPIN_MS=${BENCH_SPIN_MS:-300}
OTHER=${BENCH_OTHER_CKPT:-}
WORK=$(mktemp -d "$PWD/$BUILD/bench-cmp.XXXXXX")
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
[ "$(id -u)" = 0 ] || { echo "compare: needs root" >&2; exit 1; }

cleanup() {
	stop_workload
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

CRIU="" CRIU_WHY=""
rc=0
CRIU=$(tests/tools/criu.sh 2>"$WORK/criu.err") || rc=$?
[ "$rc" = 0 ] || { CRIU=""; CRIU_WHY="n/a ($(tail -n1 "$WORK/criu.err"))"; }

runs="[]"
# rec TOOL KIND RUN WALL_MS FROZEN_MS
rec() { runs=$(jq -c --arg t "$1" --arg k "$2" --argjson r "$3" --argjson w "$4" --argjson f "$5" \
	'. + [{tool: $t, kind: $k, run: $r, wall_ms: $w, frozen_ms: $f}]' <<<"$runs"); }
rates="[]"
# rate STATE RUN PAGES_PER_S
rate() { rates=$(jq -c --arg s "$1" --argjson r "$2" --argjson v "$3" '. + [{state: $s, run: $r, pages_per_s: $v}]' <<<"$rates"); }

# ckpt_layer DIR ARGS...: one ckpt run after the warm-up; prints "wall frozen"
ckpt_layer() {
	local d=$1 t0 t1 j
	shift
	warm_cache "$MIB"
	t0=$(nowms)
	j=$(ckpt_done "$@" -D "$d")
	t1=$(nowms)
	echo "$((t1 - t0)) $(ms "$(jq .frozen_us <<<"$j")")"
}
# incr DIR ARGS...: an incremental layer (no warm-up: frozen time is the figure)
incr() {
	local d=$1 t0 t1 j
	shift
	sync
	t0=$(nowms)
	j=$(ckpt_done "$@" -D "$d")
	t1=$(nowms)
	echo "$((t1 - t0)) $(ms "$(jq .frozen_us <<<"$j")")"
}
criu_layer() {
	local d=$1 t0 t1 f
	mkdir -p "$d"
	warm_cache "$MIB"
	t0=$(nowms)
	"$CRIU" dump -t "$VPID" -D "$d" --shell-job --leave-running -o dump.log >/dev/null 2>&1 ||
		{ echo "compare: criu dump failed: $(tail -n3 "$d/dump.log")" >&2; echo "null null"; return; }
	t1=$(nowms)
	f=$(crit decode -i "$d/stats-dump" 2>/dev/null | jq '.entries[0].dump | (.frozen_time / 1000 * 100 | round / 100)' || echo null)
	echo "$((t1 - t0)) $f"
}
# write_layer FILE: the ceiling, timed the way ckpt is (process start to exit)
write_layer() {
	local t0 t1
	warm_cache "$MIB"
	t0=$(nowms)
	"$WRITE_BENCH" "$1" "$MIB" >/dev/null
	t1=$(nowms)
	echo "$((t1 - t0))"
}
# write_mem_layer FILE: the same bytes written once each from MIB MiB of memory
# filled beforehand, as ckpt's come from the target (write-bench's own open to
# close: the fill and its own page-cache warm-up after it are not timed)
write_mem_layer() {
	"$WRITE_BENCH" "$1" "$MIB" mem
}

echo "compare: ${MIB} MiB dirty anon, ${RUNS} alternating runs; criu: ${CRIU:-$CRIU_WHY}" >&2
start_workload "$MIB"
"$CKPT" pre-dump -t "$VPID" -D "$WORK/warm" --tracker none >/dev/null
rm -rf "$WORK/warm"
for r in $(seq "$RUNS"); do
	read -r w f < <(ckpt_layer "$WORK/p$r" pre-dump -t "$VPID" --tracker uffd-wp)
	rec ckpt pre-dump "$r" "$w" "$f"; rm -rf "$WORK/p$r"
	if [ -n "$OTHER" ]; then
		read -r w f < <(CKPT=$OTHER ckpt_layer "$WORK/o$r" pre-dump -t "$VPID" --tracker uffd-wp)
		rec ckpt-other pre-dump "$r" "$w" "$f"; rm -rf "$WORK/o$r"
	fi
	read -r w f < <(ckpt_layer "$WORK/d$r" dump --memory-only -t "$VPID" --leave-running)
	rec ckpt dump "$r" "$w" "$f"; rm -rf "$WORK/d$r"
	if [ -n "$CRIU" ]; then
		read -r w f < <(criu_layer "$WORK/c$r")
		rec criu-4.2 dump "$r" "$w" "$f"; rm -rf "$WORK/c$r"
	fi
	w=$(write_layer "$WORK/w$r")
	rec "write()" write "$r" "$w" null; rm -f "$WORK/w$r"
	w=$(write_mem_layer "$WORK/w$r")
	rec "write()" memory "$r" "$w" null; rm -f "$WORK/w$r"
done
# the workload's own write rate: untracked, then right after a layer armed
# uffd-wp (every page write-protected), then untracked again (ckpt untrack)
"$CKPT" untrack -t "$VPID" >/dev/null 2>&1 || true
for r in $(seq "$RUNS"); do
	wcmd spin "$SPIN_MS"
	rate untracked "$r" "$(wrate)"
	"$CKPT" pre-dump -t "$VPID" -D "$WORK/t$r" --tracker uffd-wp >/dev/null
	wcmd spin "$SPIN_MS"
	rate tracked "$r" "$(wrate)"
	"$CKPT" untrack -t "$VPID" >/dev/null
	rm -rf "$WORK/t$r"
done
stop_workload

# incr_case NAME MIB NVMA NPROC: frozen time of incremental uffd-wp layers with 32 MiB rewritten
incr_case() {
	local name=$1 d r
	start_workload "$2" "$3" "$4"
	"$CKPT" pre-dump -t "$VPID" -D "$WORK/s1" --tracker uffd-wp >/dev/null
	for r in $(seq "$RUNS"); do
		wcmd rewrite 32 $((r + 10))
		read -r w f < <(incr "$WORK/s$((r + 1))" pre-dump -t "$VPID" --tracker uffd-wp --prev-images-dir "../s$r")
		rec ckpt "$name" "$r" "$w" "$f"
	done
}

# BENCH_FIRST_ONLY=1: the first-layer comparison and the write rate only
[ -n "${BENCH_FIRST_ONLY:-}" ] && SIZES=""
# scale curve: frozen time of an incremental uffd-wp layer, 32 MiB dirty
peak=0
for s in $SIZES; do
	if [ "$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)" -lt $((s * 2 + 1024)) ]; then
		echo "compare: not enough memory for ${s} MiB; skipped" >&2
		continue
	fi
	echo "compare: scale ${s} MiB" >&2
	incr_case "incr-${s}" "$s" 1 1
	wcmd rewrite 32 99
	d=$((RUNS + 2))
	/usr/bin/time -f %M -o "$WORK/rss" "$CKPT" dump --memory-only --track-mem -t "$VPID" -D "$WORK/s$d" \
		--prev-images-dir "../s$((d - 1))" --tracker uffd-wp --leave-running --json-progress >"$WORK/final.json"
	rec ckpt "final-${s}" 1 null "$(ms "$(grep '"event":"done"' "$WORK/final.json" | jq .frozen_us)")"
	peak=$(cat "$WORK/rss")
	rm -rf "$WORK"/s*
	stop_workload
done
# the tracker not used: async walk vs sync handler, same 32 MiB rewritten
modes="[]"
for s in $(tr ' ' '\n' <<<"$SIZES" | sort -n | sed -n '1p;$p' | uniq); do
	[ "$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)" -ge $((s + 1024)) ] || continue
	echo "compare: uffd-wp async vs sync, ${s} MiB" >&2
	modes=$(jq -c --slurp --argjson m "$modes" '$m + .' <("$PWD/$BUILD/tests/victims/uffd-modes" "$s" 5))
done
if [ -z "${BENCH_FIRST_ONLY:-}" ]; then
	echo "compare: 10,000 VMAs (1 GiB), 16 processes of 64 MiB" >&2
	incr_case incr-10000vmas 1024 10000 1
	stop_workload
	rm -rf "$WORK"/s*
	incr_case incr-16x64mib 64 1 16
	stop_workload
	rm -rf "$WORK"/s*
fi

jq -n --argjson runs "$runs" --argjson rates "$rates" --argjson modes "$modes" --arg kernel "$(uname -r)" --argjson mib "$MIB" \
	--arg criu "${CRIU:-$CRIU_WHY}" --argjson peak "$peak" --arg sizes "$SIZES" --argjson spin "$SPIN_MS" '
	def med: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
	def r2: if . == null then null else . * 100 | round / 100 end;
	($runs | group_by(.tool + " " + .kind) | map({key: (.[0].tool + " " + .[0].kind),
		value: {wall_ms: ([.[].wall_ms | select(. != null)] | med),
			frozen_ms: ([.[].frozen_ms | select(. != null)] | med)}}) | from_entries) as $m
	# ratios within one run index (neighbours in time share the load of the moment)
	| def paired(a; b): [$runs[] | select(.tool + " " + .kind == a) | .run as $r | .wall_ms as $x
		| ($runs[] | select(.tool + " " + .kind == b and .run == $r) | .wall_ms) as $y
		| select($x != null and $y != null) | $y / $x] | med | r2;
	($rates | group_by(.state) | map({key: .[0].state, value: ([.[].pages_per_s] | med)}) | from_entries) as $rt
	| {kernel: $kernel, workload_mib: $mib, criu: $criu, sizes_mib: $sizes,
	   peak_rss_mib_largest: ($peak / 1024 * 10 | round / 10), medians: $m,
	   workload_rate: {spin_ms: $spin, untracked_pages_per_s: $rt.untracked, tracked_pages_per_s: $rt.tracked,
		slowdown_pct: (if $rt.untracked then ((1 - $rt.tracked / $rt.untracked) * 1000 | round / 10) else null end)},
	   ratios: {
	     ckpt_predump_wall_over_criu: (if $m["criu-4.2 dump"].wall_ms then ($m["ckpt pre-dump"].wall_ms / $m["criu-4.2 dump"].wall_ms | r2) else null end),
	     ckpt_predump_speed_over_criu: (if $m["criu-4.2 dump"].wall_ms then ($m["criu-4.2 dump"].wall_ms / $m["ckpt pre-dump"].wall_ms | r2) else null end),
	     ckpt_dump_frozen_over_criu: (if $m["criu-4.2 dump"].frozen_ms then ($m["ckpt dump"].frozen_ms / $m["criu-4.2 dump"].frozen_ms | r2) else null end),
	     ckpt_predump_speed_over_write: ($m["write() write"].wall_ms / $m["ckpt pre-dump"].wall_ms | r2),
	     ckpt_dump_speed_over_write: ($m["write() write"].wall_ms / $m["ckpt dump"].wall_ms | r2),
	     paired_predump_speed_over_criu: paired("ckpt pre-dump"; "criu-4.2 dump"),
	     paired_dump_speed_over_criu: paired("ckpt dump"; "criu-4.2 dump"),
	     paired_predump_speed_over_write: paired("ckpt pre-dump"; "write() write"),
	     paired_dump_speed_over_write: paired("ckpt dump"; "write() write"),
	     paired_predump_speed_over_write_memory: paired("ckpt pre-dump"; "write() memory"),
	     paired_predump_speed_over_other: paired("ckpt pre-dump"; "ckpt-other pre-dump"),
	     paired_dump_speed_over_write_memory: paired("ckpt dump"; "write() memory")},
	   goals: {predump_speed_over_criu: ">= 1.3", first_layer_speed_over_write: ">= 0.9",
		incr_frozen_ms: "<= 3, <= 1.5x from 1 to 8 GiB", final_dump_frozen_ms: "<= 15"},
	   uffd_modes: $modes, runs: $runs, rates: $rates}' >"$OUT"

printf '%-22s %12s %12s\n' "tool / layer" "wall ms" "frozen ms"
jq -r '.medians | to_entries[] | [.key, (.value.wall_ms // "-" | tostring), (.value.frozen_ms // "-" | tostring)] | @tsv' "$OUT" |
	while IFS=$'\t' read -r k w f; do printf '%-22s %12s %12s\n' "$k" "$w" "$f"; done
[ -n "$CRIU" ] || printf '%-22s %12s %12s\n' "criu-4.2 dump" "$CRIU_WHY" "$CRIU_WHY"
jq -r '.ratios | to_entries[] | "\(.key): \(.value // "n/a")"' "$OUT"
jq -r '.workload_rate | "workload write rate (spin \(.spin_ms) ms): untracked \(.untracked_pages_per_s) pages/s, right after a uffd-wp layer \(.tracked_pages_per_s) pages/s: \(.slowdown_pct) % slower"' "$OUT"
jq -r '.uffd_modes[] | "uffd-wp \(.mode) at \(.mib) MiB (32 MiB rewritten): frozen step \(.frozen_ms) ms, before the freeze \(.early_ms) ms; writer \(.tracked_us_per_page) us per first write to a protected page (\(.untracked_us_per_page) untracked)"' "$OUT"
echo "peak RSS of ckpt at the largest size: $(jq .peak_rss_mib_largest "$OUT") MiB"
echo "figures (every run, medians, ratios) written to $OUT"
MEM="$PWD/$BUILD/bench-memory.json"
if [ -f "$MEM" ]; then
	jq --slurpfile c "$OUT" '. + {compare: $c[0]}' "$MEM" >"$MEM.tmp" && mv "$MEM.tmp" "$MEM"
	echo "and merged into $MEM (.compare)"
fi
