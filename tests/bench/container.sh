#!/bin/bash
# tests/bench/container.sh (make bench): the frozen time of a runc container's final dump
# (issue 15), ckpt vs CRIU 4.2, side by side.  A busybox container (variant B of
# container-dump.md: a counter loop writing /tmp/n, a `sleep 1000 &` child, stdio on /dev/null,
# plus a string of BENCH_CTR_MIB (default 16) MiB of random data, base64, kept in the shell) is
#   ckpt:  pre-dumped twice through ckpt's criu front-end, then `runc checkpoint --parent-path`
#          through it (ckpt's own final dump on that chain);
#   CRIU:  checkpointed by `runc --criu CRIU4 checkpoint` (a full dump).
# frozen_time and freezing_time come from each dump's stats-dump (work dir); ckpt's frozen
# window is broken down from its dump.log (the "final dump, frozen:" line and timestamps).
# The two alternate which goes first.  Medians of BENCH_RUNS (default 3).  Figures, never
# pass/fail; writes $BUILD/bench-container.json.
# Skips (exit 0) without runc, busybox or CRIU 4.2 (tests/tools/criu.sh).
# BENCH_KEEP=1 keeps the work dir (the dump logs of every run) and says where.
# BENCH_LOAD=N runs N busy loops on the host meanwhile (2 on this 2-core machine:
# both cores taken; the dumps then compete for CPU with them, as on a loaded host).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
CKPT="$PWD/$BUILD/ckpt"
OUT="$PWD/$BUILD/bench-container.json"
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_CTR_MIB:-16}
LOAD=${BENCH_LOAD:-0}
LOAD_PIDS=()
[ "$(id -u)" = 0 ] || { echo "bench-container: needs root" >&2; exit 1; }
if ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "bench-container: skipped (runc or busybox missing)"
	exit 0
fi
CRIU4=$(tests/tools/criu.sh 2>/dev/null) || { echo "bench-container: skipped (no CRIU 4.2)"; exit 0; }
WORK=$(mktemp -d "$PWD/$BUILD/bench-container.XXXXXX")
CTR="bench-ctdump-$$"
cleanup() {
	[ ${#LOAD_PIDS[@]} = 0 ] || kill "${LOAD_PIDS[@]}" 2>/dev/null || true
	runc delete -f "$CTR" >/dev/null 2>&1 || true
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench-container: kept $WORK (BENCH_KEEP=1)" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

B="$WORK/bundle"
mkdir -p "$B/rootfs/bin" "$B/rootfs/tmp" "$WORK/bin"
cp /bin/busybox "$B/rootfs/bin/"
for c in sh sleep head base64; do ln -s busybox "$B/rootfs/bin/$c"; done
(cd "$B" && runc spec)
LOOP="sleep 1000 & m=\$(head -c $((MIB * 1024 * 1024)) /dev/urandom | base64); i=0; while :; do i=\$((i+1)); echo \$i > /tmp/n; sleep 0.1; done"
jq --arg c "$LOOP" '.process.terminal = false | .root.readonly = false | .process.args = ["/bin/sh", "-c", $c]' \
	"$B/config.json" >"$B/c.new" && mv "$B/c.new" "$B/config.json"
ln -s "$CKPT" "$WORK/bin/criu"
ln -s "$CRIU4" "$WORK/bin/criu.real"
export CKPT_CRIU_CONF="$WORK/no-criu.conf"

start() {
	# the counter of the run before would say "started" while the string is still being made
	# (its pages then missed by the pre-dumps and copied by the final dump, while frozen)
	rm -f "$B/rootfs/tmp/n"
	runc run -d --bundle "$B" "$CTR" >/dev/null 2>&1 </dev/null
	for _ in $(seq 300); do
		# read while the loop truncates it: empty counts as 0
		n=$(cat "$B/rootfs/tmp/n" 2>/dev/null || true)
		[ "${n:-0}" -ge 5 ] && return 0
		sleep 0.1
	done
	echo "bench-container: the container did not start" >&2
	exit 1
}

# stat DIR FIELD: a field of stats-dump's dump entry (microseconds)
stat_of() {
	crit decode -i "$1/stats-dump" | jq -r ".entries[0].dump.$2"
}

# log_us LOG PATTERN: the (ss.uuuuuu) timestamp of the last line with PATTERN, in µs (a
# dump that met a zombie stopped the tree again: the last freeze counts)
log_us() {
	awk -v p="$2" 'index($0, p) {gsub(/[()]/, "", $1); t = $1 * 1000000} END {printf "%d\n", t}' "$1"
}

# breakdown WORKDIR: where ckpt's frozen time went (dump.log at -v 4, runc's level), one
# line "seize memory parasite task_rest end notify" in µs; frozen_time is their sum within
# a few hundred µs (the gaps between the steps)
breakdown() {
	local log=$1/dump.log fz k t n
	fz=$(log_us "$log" "froze ")
	k=$(log_us "$log" "tree killed after")
	n=$(log_us "$log" "notify post-dump")
	t=$(grep -m1 "final dump, frozen:" "$log" | tr -d ',()' | awk '{
		for (i = 1; i < NF; i++) v[$i] = $(i + 1)
		print v["state"], v["parasite"], v["cores"] + v["ids+fs"] + v["fds"] + v["mm"], v["end"]
	}')
	# shellcheck disable=SC2086 # four numbers
	set -- $t
	# memory: from the end of the freeze to the first task's state (the state step excluded)
	awk -v seize="$(stat_of "$(dirname "$log")" freezing_time)" -v fz="$fz" -v k="$k" -v n="$n" \
		-v state="$1" -v par="$2" -v rest="$3" -v end="$4" 'BEGIN {
		other = k - fz - state - par - rest - end - (k - n)
		printf "%d %d %d %d %d %d %d\n", seize, other, state, par, rest, end, k - n
	}'
}

# checkpoint CRIU DIR ARGS...: runc checkpoint, retried (3x) on ckpt's zombie race (the
# loop's `sleep 0.1` exiting as the tree is checked or stopped: a zombie)
checkpoint() {
	local criu=$1 d=$2 i
	shift 2
	for i in 1 2 3; do
		rm -rf "$d" "$d.w"
		runc --criu "$criu" checkpoint --image-path "$d" --work-path "$d.w" "$@" "$CTR" >/dev/null 2>&1 && return 0
		grep -q "a zombie now" "$d.w/dump.log" 2>/dev/null || break
	done
	echo "bench-container: checkpoint into $d failed" >&2
	cat "$d.w/dump.log" >&2 || true
	exit 1
}

median() {
	sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

run_ckpt() {
	start
	checkpoint "$WORK/bin/criu" "$WORK/r$1/pre1" --pre-dump
	checkpoint "$WORK/bin/criu" "$WORK/r$1/pre2" --pre-dump --parent-path ../pre1
	checkpoint "$WORK/bin/criu" "$WORK/r$1/final" --parent-path ../pre2
	stat_of "$WORK/r$1/final.w" frozen_time >>"$WORK/ckpt.frozen"
	stat_of "$WORK/r$1/final.w" pages_scanned >>"$WORK/ckpt.pages"
	breakdown "$WORK/r$1/final.w" >>"$WORK/ckpt.parts"
	runc delete -f "$CTR" >/dev/null 2>&1 || true
}

run_criu() {
	start
	checkpoint "$CRIU4" "$WORK/r$1/criu"
	stat_of "$WORK/r$1/criu.w" frozen_time >>"$WORK/criu.frozen"
	stat_of "$WORK/r$1/criu.w" pages_written >>"$WORK/criu.pages"
	echo "$(stat_of "$WORK/r$1/criu.w" freezing_time) $(stat_of "$WORK/r$1/criu.w" memdump_time) $(stat_of "$WORK/r$1/criu.w" memwrite_time)" >>"$WORK/criu.parts"
	runc delete -f "$CTR" >/dev/null 2>&1 || true
}

: >"$WORK/ckpt.frozen"
: >"$WORK/criu.frozen"
for _ in $(seq "$LOAD"); do
	sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
	LOAD_PIDS+=("$!")
done
# side by side, alternating which one goes first
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then
		run_ckpt "$r"
		run_criu "$r"
	else
		run_criu "$r"
		run_ckpt "$r"
	fi
done
ck=$(median <"$WORK/ckpt.frozen")
cr=$(median <"$WORK/criu.frozen")
ratio=$(awk -v a="$ck" -v b="$cr" 'BEGIN {printf "%.2f", b ? a / b : 0}')
pages=$(median <"$WORK/criu.pages")
# col FILE N: the median of column N
col() {
	awk -v n="$2" '{print $n}' "$1" | median
}
names=(seize memory state parasite task_rest end_cgroups post_dump_notify)
parts=""
for i in 1 2 3 4 5 6 7; do
	parts="$parts${parts:+, }\"${names[$((i - 1))]}_us\": $(col "$WORK/ckpt.parts" "$i")"
done
printf '{"container_mib": %d, "load_busy_loops": '"$LOAD"', "criu_pages_written": %s, "runs": %d, "ckpt_final_frozen_us": %s, "criu_frozen_us": %s, "ratio": %s, "ckpt_all": [%s], "criu_all": [%s], "ckpt_frozen_parts": {%s}, "criu_freezing_us": %s, "criu_memdump_us": %s, "criu_memwrite_us": %s}\n' \
	"$MIB" "$pages" "$RUNS" "$ck" "$cr" "$ratio" "$(paste -sd, "$WORK/ckpt.frozen")" "$(paste -sd, "$WORK/criu.frozen")" \
	"$parts" "$(col "$WORK/criu.parts" 1)" "$(col "$WORK/criu.parts" 2)" "$(col "$WORK/criu.parts" 3)" >"$OUT"
printf 'container final dump (runc busybox + %d MiB string, CRIU wrote %s pages; median of %d, alternating; %d busy loops)\n' "$MIB" "$pages" "$RUNS" "$LOAD"
printf '  %-46s %10s us\n' "ckpt: final after 2 pre-dumps (front-end)" "$ck" "CRIU 4.2: runc checkpoint" "$cr"
printf '  ckpt / CRIU frozen: %s (goal < 0.10)\n' "$ratio"
printf '  ckpt frozen, medians (us): seize %s, memory+gaps %s, state %s, parasite %s, cores/ids/fs/fds/mm %s, end (cgroups) %s, post-dump notify %s\n' \
	"$(col "$WORK/ckpt.parts" 1)" "$(col "$WORK/ckpt.parts" 2)" "$(col "$WORK/ckpt.parts" 3)" "$(col "$WORK/ckpt.parts" 4)" \
	"$(col "$WORK/ckpt.parts" 5)" "$(col "$WORK/ckpt.parts" 6)" "$(col "$WORK/ckpt.parts" 7)"
printf '  CRIU 4.2, medians (us): freezing %s, memdump %s, memwrite %s (all inside its frozen time)\n' \
	"$(col "$WORK/criu.parts" 1)" "$(col "$WORK/criu.parts" 2)" "$(col "$WORK/criu.parts" 3)"
