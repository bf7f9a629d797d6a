#!/bin/bash
# tests/bench/ab.sh OTHER_CKPT: this build's ckpt against another build's
# (before/after a change), on one workload and one layer chain, alternating
# layer by layer so that both see the same load.  Figures, never pass/fail.
#
#   mem-bench of BENCH_MIB (default 1024) MiB, a first uffd-wp pre-dump, then
#   BENCH_RUNS (default 5) rounds of: 32 MiB rewritten, an incremental
#   pre-dump by OTHER, the same by this build; then as many rounds of final
#   dumps (`dump --memory-only --track-mem --leave-running`, 32 MiB rewritten
#   before each).  BENCH_NVMA: the workload in that many VMAs (as compare.sh's
#   10,000-VMA case).  Both builds write the same layer format, so each layer's
#   parent may come from either.  Prints every frozen time and the medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
OTHER=${1:?usage: tests/bench/ab.sh OTHER_CKPT}
RUNS=${BENCH_RUNS:-5}
MIB=${BENCH_MIB:-1024}
WORK=$(mktemp -d "$PWD/$BUILD/bench-ab.XXXXXX")
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
[ -x "$OTHER" ] || bench_die "$OTHER is not an executable"
[ "$(id -u)" = 0 ] || bench_die "needs root"
trap 'stop_workload; rm -rf "$WORK"' EXIT

start_workload "$MIB" "${BENCH_NVMA:-1}"
"$CKPT" pre-dump -t "$VPID" -D "$WORK/1" --tracker uffd-wp >/dev/null
prev=1
n=1
declare -A FIG

# layer KIND BIN NAME: one layer, its frozen µs appended to FIG[KIND NAME]
layer() {
	local j
	n=$((n + 1))
	wcmd rewrite 32 "$n"
	if [ "$1" = incremental ]; then
		j=$(ckpt_with "$2" pre-dump -t "$VPID" -D "$WORK/$n" --prev-images-dir "../$prev" --tracker uffd-wp)
	else
		j=$(ckpt_with "$2" dump --memory-only --track-mem --leave-running -t "$VPID" -D "$WORK/$n" --prev-images-dir "../$prev" --tracker uffd-wp)
	fi
	# the next layer reads only this one's pagemap: the page data can go
	rm -f "$WORK/$prev"/pages-*.img
	prev=$n
	FIG["$1 $3"]+=" $(jq -r .frozen_us <<<"$j")"
}

ckpt_with() {
	local bin=$1
	shift
	"$bin" "$@" --json-progress | grep '"event":"done"'
}

for kind in incremental final; do
	for _ in $(seq "$RUNS"); do
		layer "$kind" "$OTHER" other
		layer "$kind" "$CKPT" this
	done
done
echo "ab: $MIB MiB in ${BENCH_NVMA:-1} VMAs, 32 MiB rewritten per layer, $RUNS layers each, alternating; frozen µs"
for k in "incremental other" "incremental this" "final other" "final this"; do
	# shellcheck disable=SC2086
	printf '%-18s median %8s  runs%s\n' "$k" \
		"$(printf '%s\n' ${FIG[$k]} | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')" \
		"${FIG[$k]}"
done
