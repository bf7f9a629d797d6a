#!/bin/bash
# make reliability: tests/bats/reliability.bats with CKPT_REL_KILLS kills of pre-dump (default
# 140), CKPT_REL_INJECT_KILLS of exec and of dump --leave-running (default 70 each),
# CKPT_REL_AGENT_KILLS of the pre-copy agent and CKPT_REL_RPC_KILLS of the RPC server during a
# PRE_DUMP (default 50 each), every fuzz harness for FUZZ_SECONDS (default 30), then one table of what was tried and survived.  Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD="${BUILD:-build}"
FUZZ_BUILD="${FUZZ_BUILD:-build-fuzz}"
export BUILD FUZZ_BUILD
stats="$BUILD/reliability.stats"
mkdir -p "$BUILD"
: >"$stats"
fail=0

echo "== reliability.bats (CKPT_REL_KILLS=${CKPT_REL_KILLS:=140} pre-dump kills, ${CKPT_REL_INJECT_KILLS:-70} a loop for exec and dump, ${CKPT_REL_AGENT_KILLS:=50} of the agent, ${CKPT_REL_RPC_KILLS:=50} of the RPC server)"
inject_kills="${CKPT_REL_INJECT_KILLS:-70}"
CKPT_REL_STATS="$PWD/$stats" CKPT_REL_KILLS="$CKPT_REL_KILLS" CKPT_REL_INJECT_KILLS="$inject_kills" \
	CKPT_REL_AGENT_KILLS="$CKPT_REL_AGENT_KILLS" CKPT_REL_RPC_KILLS="$CKPT_REL_RPC_KILLS" \
	bats --formatter tap tests/bats/reliability.bats | tee "$BUILD/reliability.tap" || fail=1

echo "== fuzz (${FUZZ_SECONDS:=30} s a harness)"
FUZZ_SECONDS="$FUZZ_SECONDS" tests/fuzz/run.sh | tee "$BUILD/fuzz.tap" || fail=1

count() { grep -c "$1" "$2" | tr -d ' '; }
f_ok=$(count '^fault ok' "$stats")
f_all=$(count '^fault ' "$stats")
k_ok=$(count '^kill ok pre-dump' "$stats")
k_all=$(count '^kill [a-z]* pre-dump' "$stats")
d_ok=$(count '^kill ok \(dump\|exec\)' "$stats")
d_all=$(count '^kill [a-z]* \(dump\|exec\)' "$stats")
a_ok=$(count '^kill ok \(agent\|rpc\)' "$stats")
a_all=$(count '^kill [a-z]* \(agent\|rpc\)' "$stats")
b_ok=$(count '^bad ok' "$stats")
b_all=$(count '^bad ' "$stats")
execs=$(awk '/^# fuzz .* execs/ {s += $4} END {print s + 0}' "$BUILD/fuzz.tap")
crashes=$(awk '/^# fuzz .* execs/ {s += $6} END {print s + 0}' "$BUILD/fuzz.tap")
harn=$(count '^# fuzz .* execs' "$BUILD/fuzz.tap")
seeds=$(find tests/fuzz/corpus tests/fuzz/regress -type f 2>/dev/null | wc -l | tr -d ' ')
[ "$f_ok" = "$f_all" ] && [ "$k_ok" = "$k_all" ] && [ "$d_ok" = "$d_all" ] && [ "$a_ok" = "$a_all" ] && [ "$b_ok" = "$b_all" ] && [ "$crashes" = 0 ] || fail=1

echo
printf '%-44s %10s %10s\n' "reliability" "tried" "survived"
printf '%-44s %10s %10s\n' "faults injected (CK_FAULT points, all verbs)" "$f_all" "$f_ok"
printf '%-44s %10s %10s\n' "SIGKILLs of ckpt pre-dump" "$k_all" "$k_ok"
printf '%-44s %10s %10s\n' "SIGKILLs of ckpt exec, dump --leave-running" "$d_all" "$d_ok"
printf '%-44s %10s %10s\n' "SIGKILLs of the agent, the RPC server" "$a_all" "$a_ok"
printf '%-44s %10s %10s\n' "fuzz executions ($harn harnesses, crashes)" "$execs" "$crashes crashes"
printf '%-44s %10s %10s\n' "bad inputs/conditions refused cleanly" "$b_all" "$b_ok"
printf '%-44s %10s %10s\n' "seed and regression inputs replayed" "$seeds" "$seeds"
exit $fail
