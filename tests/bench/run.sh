#!/bin/bash
# make bench: memory-layer figures on a 1 GiB anonymous workload, per tracker,
# side by side, plus ckpt's peak RSS on a 4 GiB target.  Figures, never
# pass/fail.  Prints a table and writes $BUILD/bench-memory.json.
#
# Needs root (ptrace, /proc/PID/pagemap PFNs).  CRIU does not run on this
# kernel (see docs/memory.md), so its columns stay empty here; the soft-dirty
# qemu lane is where CRIU figures can be taken.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
OUT="$PWD/$BUILD/bench-memory.json"
MIB=${BENCH_MIB:-1024}
BIG_MIB=${BENCH_BIG_MIB:-4096}
ROUND_MIB=32
DEFAULT_TRACKERS="hash none"
if "$CKPT" check --feature uffd-wp-async >/dev/null 2>&1; then
	DEFAULT_TRACKERS="uffd-wp hash none"
fi
# BENCH_QUICK=1: the default tracker only, a 1 GiB big target (about a minute)
if [ -n "${BENCH_QUICK:-}" ]; then
	DEFAULT_TRACKERS=${DEFAULT_TRACKERS%% *}
	BIG_MIB=${BENCH_BIG_MIB:-1024}
fi
read -r -a TRACKERS <<<"${BENCH_TRACKERS:-$DEFAULT_TRACKERS}"
THP_MIB=${BENCH_THP_MIB:-256}
WORK=$(mktemp -d "$PWD/$BUILD/bench.XXXXXX")

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root" >&2
	exit 1
fi

cleanup() {
	stop_workload
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# ckpt_json ARGS...: run ckpt with --json-progress, print the "done" event.
# Dirty page cache from earlier layers is flushed first, so that every figure
# starts from the same state (this VM's writeback throttles otherwise).
ckpt_json() {
	sync
	ckpt_done "$@"
}

jget() { jq -r "$2" <<<"$1"; }

results="[]"
add() { results=$(jq -c --arg t "$1" --arg k "$2" --argjson v "$3" '. + [{tracker: $t, figure: $k, value: $v}]' <<<"$results"); }

echo "bench: ${MIB} MiB workload, trackers: ${TRACKERS[*]}, ${ROUND_MIB} MiB rewritten per round" >&2
start_workload "$MIB"
# warm-up: the first remote read of freshly written memory is slower for
# whichever tracker would come first
"$CKPT" pre-dump -t "$VPID" -D "$WORK/warm" --tracker none >/dev/null
rm -rf "$WORK/warm"
for t in "${TRACKERS[@]}"; do
	d="$WORK/$t"
	mkdir -p "$d"
	# first layer: everything, into the page cache (warmed as in compare.sh)
	warm_cache "$MIB"
	j=$(ckpt_json pre-dump -t "$VPID" -D "$d/1" --tracker "$t")
	ms=$(jget "$j" .elapsed_ms)
	add "$t" first_layer_gbps "$(jq -n --argjson b "$((MIB * 1048576))" --argjson ms "$ms" '($b / ($ms / 1000) / 1e9 * 100 | round) / 100')"
	add "$t" first_layer_frozen_ms "$(jq -n --argjson us "$(jget "$j" .frozen_us)" '$us / 10 | round / 100')"
	# incremental pre-dumps, ROUND_MIB rewritten each
	prev=1
	for n in 2 3; do
		wcmd rewrite "$ROUND_MIB" "$n"
		j=$(ckpt_json pre-dump -t "$VPID" -D "$d/$n" --prev-images-dir "../$prev" --tracker "$t")
		prev=$n
		[ "$t" = none ] && rm -f "$d/$((n - 1))"/pages-*.img # full layers: the parent's data is never read
	done
	add "$t" incr_predump_frozen_ms "$(jq -n --argjson us "$(jget "$j" .frozen_us)" '$us / 10 | round / 100')"
	add "$t" incr_predump_pages_written "$(jget "$j" .pages_written)"
	wcmd rewrite "$ROUND_MIB" 4
	j=$(ckpt_json dump --memory-only --track-mem -t "$VPID" -D "$d/4" --prev-images-dir ../3 --tracker "$t" --leave-running)
	add "$t" final_dump_frozen_ms "$(jq -n --argjson us "$(jget "$j" .frozen_us)" '$us / 10 | round / 100')"
	add "$t" final_dump_pages_written "$(jget "$j" .pages_written)"
	# dirty-page discovery at 1 %
	wcmd rewrite $((MIB / 100)) 5
	j=$(ckpt_json pre-dump -t "$VPID" -D "$d/5" --prev-images-dir ../4 --tracker "$t")
	add "$t" discovery_1pct_ms "$(jq -n --argjson us "$(jget "$j" .discover_us)" '$us / 10 | round / 100')"
	# the same layer's frozen time (issue 16's figure: discovery while frozen)
	add "$t" discovery_1pct_frozen_ms "$(ms "$(jget "$j" .frozen_us)")"
	add "$t" discovery_1pct_pages_written "$(jget "$j" .pages_written)"
	rm -rf "$d"
	# workload slowdown while pre-dumps run back to back
	wcmd spin 1500
	base=$(wrate)
	mkdir -p "$d"
	(
		i=1
		"$CKPT" pre-dump -t "$VPID" -D "$d/1" --tracker "$t" >/dev/null
		while [ ! -e "$WORK/stop" ]; do
			"$CKPT" pre-dump -t "$VPID" -D "$d/$((i + 1))" --prev-images-dir "../$i" --tracker "$t" >/dev/null
			rm -rf "${d:?}/$((i - 1))" 2>/dev/null || true
			i=$((i + 1))
		done
	) &
	loop=$!
	sleep 0.2
	wcmd spin 1500
	touch "$WORK/stop"
	wait "$loop"
	rm -f "$WORK/stop"
	rm -rf "$d"
	busy=$(wrate)
	wcmd spin 1500
	base2=$(wrate)
	add "$t" workload_slowdown_pct "$(jq -n --argjson a "$base" --argjson a2 "$base2" --argjson b "$busy" '((1 - $b / (($a + $a2) / 2)) * 1000 | round) / 10')"
done

# copy method: process_vm_readv (default) against /proc/PID/mem
for m in vm-readv procmem; do
	warm_cache "$MIB"
	j=$(CK_COPY=$m ckpt_json pre-dump -t "$VPID" -D "$WORK/copy-$m" --tracker none)
	ms=$(jget "$j" .elapsed_ms)
	add "copy:$m" first_layer_gbps "$(jq -n --argjson b "$((MIB * 1048576))" --argjson ms "$ms" '($b / ($ms / 1000) / 1e9 * 100 | round) / 100')"
	rm -rf "$WORK/copy-$m"
done
stop_workload

# Second layer of a THP-backed workload: 64 random 4 KiB pages rewritten every
# 20 ms between two pre-dumps (soft-dirty would mark whole 2 MiB pages).
thp_second_layer() {
	local t=$1 pid n i j thp
	local d="$WORK/thp-$t" fifo="$WORK/thp-fifo-$t" out="$WORK/thp-out-$t"
	mkdir -p "$d"
	mkfifo "$fifo"
	"$PWD/$BUILD/tests/victims/mem-victim" "$fifo" >"$out" 2>&1 &
	pid=$!
	exec 7>"$fifo"
	echo "thp h $((THP_MIB * 256))" >&7
	n=1
	for _ in $(seq 600); do grep -q "^ACK $n" "$out" && break; sleep 0.05; done
	thp=$(awk '/^AnonHugePages:/ {s += $2} END {print int(s / 1024)}' "/proc/$pid/smaps")
	ckpt_json pre-dump -t "$pid" -D "$d/1" --tracker "$t" >/dev/null
	for i in $(seq 50); do
		echo "scatter h 64 $((i + 100))" >&7
		sleep 0.02
	done
	n=$((n + 50))
	for _ in $(seq 600); do grep -q "^ACK $n" "$out" && break; sleep 0.05; done
	j=$(ckpt_json pre-dump -t "$pid" -D "$d/2" --prev-images-dir ../1 --tracker "$t")
	exec 7>&-
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$d" "$fifo" "$out"
	add "$t" thp_huge_mib_before "$thp"
	add "$t" thp_second_layer_pages "$(jget "$j" .pages_written)"
	add "$t" thp_second_layer_pct "$(jq -n --argjson w "$(jget "$j" .pages_written)" --argjson s "$(jget "$j" .pages_scanned)" '($w / $s * 1000 | round) / 10')"
}
echo "bench: ${THP_MIB} MiB THP workload, 64 random pages per 20 ms between two pre-dumps" >&2
for t in "${TRACKERS[@]}"; do
	thp_second_layer "$t"
done

# peak RSS of ckpt on a big target
if [ "$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)" -gt $((BIG_MIB * 3)) ]; then
	echo "bench: ${BIG_MIB} MiB target for peak RSS" >&2
	start_workload "$BIG_MIB"
	for t in "${TRACKERS[@]}"; do
		j=$(ckpt_json pre-dump -t "$VPID" -D "$WORK/big-$t-1" --tracker "$t")
		wcmd rewrite "$ROUND_MIB" 9
		j2=$(ckpt_json dump --memory-only -t "$VPID" -D "$WORK/big-$t-2" --prev-images-dir "../big-$t-1" --tracker "$t" --leave-running)
		rss=$(jq -n --argjson a "$(jget "$j" .peak_rss_kb)" --argjson b "$(jget "$j2" .peak_rss_kb)" '[$a, $b] | max / 1024 * 10 | round / 10')
		add "$t" peak_rss_mib_big_target "$rss"
		rm -rf "$WORK/big-$t-1" "$WORK/big-$t-2"
	done
	stop_workload
else
	echo "bench: not enough memory for the ${BIG_MIB} MiB target; peak RSS skipped" >&2
fi

jq -n --argjson r "$results" --arg kernel "$(uname -r)" --argjson mib "$MIB" --argjson big "$BIG_MIB" --argjson thp "$THP_MIB" \
	--argjson round "$ROUND_MIB" '{
	kernel: $kernel, workload_mib: $mib, big_target_mib: $big, round_mib: $round,
	criu: "criu-3.17 does not run on this kernel; CRIU 4.2 full dump is compared in .compare (tests/bench/compare.sh); its pre-dump hits BUG at mem.c:46",
	goals: {first_layer_gbps: 2.3, incr_predump_frozen_ms: 3, final_dump_frozen_ms: 15,
		discovery_1pct_frozen_ms: 2, peak_rss_mib_big_target: 64},
	thp_workload: {mib: $thp, note: "64 random 4 KiB pages rewritten every 20 ms for 1 s between two pre-dumps"},
	results: $r}' >"$OUT"

# table
figs=(first_layer_gbps first_layer_frozen_ms incr_predump_frozen_ms incr_predump_pages_written
	final_dump_frozen_ms final_dump_pages_written discovery_1pct_ms discovery_1pct_frozen_ms
	discovery_1pct_pages_written
	workload_slowdown_pct thp_huge_mib_before thp_second_layer_pages thp_second_layer_pct
	peak_rss_mib_big_target)
printf '%-30s' figure
for t in "${TRACKERS[@]}"; do printf '%14s' "$t"; done
printf '%10s\n' goal
for f in "${figs[@]}"; do
	printf '%-30s' "$f"
	for t in "${TRACKERS[@]}"; do
		printf '%14s' "$(jq -r --arg t "$t" --arg f "$f" '[.results[] | select(.tracker == $t and .figure == $f) | .value][0] // "-"' "$OUT")"
	done
	printf '%10s\n' "$(jq -r --arg f "$f" '.goals[$f] // "" | tostring' "$OUT")"
done
for m in vm-readv procmem; do
	printf 'first layer, copy with %-10s %10s GB/s\n' "$m" "$(jq -r --arg t "copy:$m" '[.results[] | select(.tracker == $t) | .value][0]' "$OUT")"
done
echo "CRIU: $(jq -r .criu "$OUT")"
echo "figures written to $OUT"
