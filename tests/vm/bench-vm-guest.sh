#!/bin/bash
# The guest half of `make bench-vm` (started by tests/vm/bench-vm.sh through
# run-in-vm.sh): ckpt with the soft-dirty tracker and CRIU 3.17, side by side
# in one boot, on the same workload and the same sequence:
#
#   layer 1  pre-dump                    (the whole workload)
#            rewrite every 7th page      (vm-roundtrip's SIGUSR2)
#   layer 2  pre-dump onto layer 1
#            rewrite every 7th page
#   layer 3  final dump onto layer 2     (restorable; the process is killed)
#
# For each layer: frozen time (stats-dump frozen_time, the same field for
# both), pages written / taken from the parent, bytes of the layer's pages
# images and of the whole layer, wall time of the command.  Prints a table
# with ckpt/CRIU ratios and writes JSON to $BENCH_VM_JSON (default: the
# results export).  TCG makes absolute times meaningless: only the ratios of
# one run count.  Figures, never pass/fail; exits non-zero only when a
# command failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
CKPT="$BUILD/ckpt"
VICTIM="$BUILD/tests/victims/vm-roundtrip"
MIB=${BENCH_VM_MIB:-256}
REPEAT=${BENCH_VM_RUNS:-3}
JSON=${BENCH_VM_JSON:-/run/ckpt-vm/bench-vm.json}
THP=/sys/kernel/mm/transparent_hugepage/enabled
WORK=$(mktemp -d /tmp/bench-vm.XXXXXX)

[ "${CKPT_IN_VM:-0}" = 1 ] || {
	echo "bench-vm: runs inside the VM lane's guest (make bench-vm)" >&2
	exit 2
}
if [ "$MIB" -lt 4 ] || [ "$MIB" -gt 256 ]; then
	echo "bench-vm: BENCH_VM_MIB must be 4..256 (vm-roundtrip maps at most 65536 pages)" >&2
	exit 2
fi
if [ -n "${BENCH_VM_THP:-}" ]; then
	echo "$BENCH_VM_THP" >"$THP"
fi
thp_mode=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$THP" 2>/dev/null || echo unknown)
pages=$((MIB * 256))

VPID=""
cleanup() {
	[ -n "$VPID" ] && kill -KILL "$VPID" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() {
	local t
	read -r t _ </proc/uptime
	echo "${t/./}0"
}

start_victim() {
	local out="$WORK/$1.out"
	setsid "$VICTIM" "$pages" >"$out" 2>&1 </dev/null &
	for _ in $(seq 600); do
		grep -q '^READY' "$out" && break
		sleep 0.1
	done
	VPID=$(awk '/^READY/ {print $2; exit}' "$out")
	[ -n "$VPID" ] || {
		echo "bench-vm: the workload did not start" >&2
		exit 1
	}
}

# redirty TOOL N: SIGUSR2, then wait for the Nth REDIRTIED line
redirty() {
	kill -USR2 "$VPID"
	for _ in $(seq 600); do
		[ "$(grep -c REDIRTIED "$WORK/$1.out")" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "bench-vm: the workload did not rewrite its pages" >&2
	exit 1
}

# record TOOL LAYER WALL_MS: one JSON object per layer, from its stats-dump
record() {
	local d="$WORK/$1/$2" pbytes lbytes
	pbytes=$(find "$d" -maxdepth 1 -name 'pages-*.img' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
	lbytes=$(find "$d" -maxdepth 1 -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
	"$CKPT" show "$d/stats-dump" | jq -c --arg tool "$1" --arg layer "$2" --argjson wall "$3" --argjson run "$RUN" \
		--argjson pb "$pbytes" --argjson lb "$lbytes" '.entries[0].dump |
		{tool: $tool, layer: $layer, run: $run, frozen_us: .frozen_time, pages_written,
		 pages_parent: .pages_skipped_parent, pages_bytes: $pb, layer_bytes: $lb, wall_ms: $wall}' \
		>>"$WORK/records.jsonl"
}

# timed TOOL LAYER CMD...: run CMD, record the layer
timed() {
	local tool=$1 layer=$2 t0 t1
	shift 2
	t0=$(now_ms)
	if ! "$@" >"$WORK/$tool-$layer.log" 2>&1; then
		echo "bench-vm: $tool $layer failed: $*" >&2
		tail -n 20 "$WORK/$tool-$layer.log" >&2
		find "$WORK/$tool/$layer" -name '*.log' -exec tail -n 20 {} + >&2 2>/dev/null || true
		exit 1
	fi
	t1=$(now_ms)
	record "$tool" "$layer" $((t1 - t0))
}

run_ckpt() {
	local d="$WORK/ckpt"
	mkdir -p "$d"
	start_victim ckpt
	timed ckpt 1 "$CKPT" pre-dump -t "$VPID" -D "$d/1" --tracker soft-dirty
	redirty ckpt 1
	timed ckpt 2 "$CKPT" pre-dump -t "$VPID" -D "$d/2" --prev-images-dir ../1 --tracker soft-dirty
	redirty ckpt 2
	# --leave-running: a plain `ckpt dump` kills the tree after writing
	# stats-dump, whose frozen_time then reads 0; the frozen window is the same
	timed ckpt 3 "$CKPT" dump -t "$VPID" -D "$d/3" --prev-images-dir ../2 --tracker soft-dirty \
		--leave-running
	kill -KILL "$VPID"
	VPID=""
}

run_criu() {
	local d="$WORK/criu"
	mkdir -p "$d/1" "$d/2" "$d/3"
	start_victim criu
	timed criu 1 criu pre-dump -t "$VPID" -D "$d/1" -o pre-dump.log -v2
	redirty criu 1
	timed criu 2 criu pre-dump -t "$VPID" -D "$d/2" --prev-images-dir ../1 -o pre-dump.log -v2
	redirty criu 2
	timed criu 3 criu dump -t "$VPID" -D "$d/3" --prev-images-dir ../2 --track-mem -o dump.log -v2
	VPID=""
}

echo "bench-vm: kernel $(uname -r), workload ${MIB} MiB ($pages pages), THP $thp_mode, every 7th page rewritten between layers, $REPEAT runs"
# one tool's images at a time on the guest's tmpfs (THP=always makes every
# layer full); the tools take turns, and each figure is the median of the runs
for ((RUN = 1; RUN <= REPEAT; RUN++)); do
	run_ckpt
	rm -rf "$WORK/ckpt"
	run_criu
	rm -rf "$WORK/criu"
done

jq -s --arg kernel "$(uname -r)" --argjson mib "$MIB" --arg thp "$thp_mode" --argjson runs "$REPEAT" '
	def ratio(a; b): if b > 0 then (a / b * 1000 | round / 1000) else null end;
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def medians: . as $r | reduce ($r[0] | del(.tool, .layer, .run) | keys[]) as $k
		({}; .[$k] = ($r | map(.[$k]) | median));
	{ kernel: $kernel, workload_mib: $mib, thp: $thp, runs: $runs,
	  note: "ckpt --tracker soft-dirty vs criu pre-dump/dump --track-mem, same workload, one guest boot, medians of the runs; TCG: compare ratios only",
	  records: .,
	  layers: [ group_by(.layer)[] | { layer: .[0].layer,
		kind: (if .[0].layer == "3" then "final dump" else "pre-dump" end),
		ckpt: (map(select(.tool == "ckpt")) | medians),
		criu: (map(select(.tool == "criu")) | medians) } |
		. + { ratio: { frozen: ratio(.ckpt.frozen_us; .criu.frozen_us),
			pages_bytes: ratio(.ckpt.pages_bytes; .criu.pages_bytes),
			layer_bytes: ratio(.ckpt.layer_bytes; .criu.layer_bytes),
			wall: ratio(.ckpt.wall_ms; .criu.wall_ms) } } ] }' \
	"$WORK/records.jsonl" >"$WORK/bench.json"
cp "$WORK/bench.json" "$JSON"

printf '\n%-18s %12s %12s %7s  %10s %10s %7s  %9s %9s %7s\n' layer "ckpt frozen" "criu frozen" ratio \
	"ckpt MiB" "criu MiB" ratio "ckpt wall" "criu wall" ratio
jq -r '.layers[] | [(.kind + " " + .layer), (.ckpt.frozen_us / 1000), (.criu.frozen_us / 1000), .ratio.frozen,
	(.ckpt.pages_bytes / 1048576), (.criu.pages_bytes / 1048576), .ratio.pages_bytes,
	(.ckpt.wall_ms / 1000), (.criu.wall_ms / 1000), .ratio.wall] | @tsv' "$WORK/bench.json" |
	awk -F'\t' '{ printf "%-18s %9.1f ms %9.1f ms %7.3f  %10.2f %10.2f %7.3f  %7.2f s %7.2f s %7.3f\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
jq -r '.layers[] | "layer \(.layer): pages written ckpt \(.ckpt.pages_written) / criu \(.criu.pages_written), from parent ckpt \(.ckpt.pages_parent) / criu \(.criu.pages_parent)"' "$WORK/bench.json"
echo "(medians of $REPEAT runs; ratio = ckpt / CRIU; frozen = stats-dump frozen_time; MiB = pages-*.img; wall = whole command)"
