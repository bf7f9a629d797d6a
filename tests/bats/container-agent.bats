#!/usr/bin/env bats
# bats file_tags=root
#
# The final dump of a container with ckpt's pre-copy agent (issue 15, docs/agent.md
# "Handover"): `runc checkpoint` through build/criu is ckpt's own final dump on the AGENT's
# chain.  The agent hands over (its latest layer and tracker), exits leaving its uffd-wp holders,
# and the dump's pagemap has pages in the parent (the agent's latest layer, named relative to the
# images dir as CRIU resolves it).  `runc restore` with CRIU 4.2: the container's 256 MiB
# memory check (tests/victims/ctr-mem.c, static, as the container's init) passes and its round
# counter continues from the dumped value.

load helpers
load ctr-helpers

setup() {
	ctr_setup sh
	[ -x "$VICTIMS/static/ctr-mem" ] || fail "build/tests/victims/static/ctr-mem is built by make test-bins"
	cp "$VICTIMS/static/ctr-mem" "$BUNDLE/rootfs/bin/"
	CTR="ctagent-$$-$BATS_TEST_NUMBER"
	export CKPT_AGENT_REGISTRY="$W/agents"
	# build/criu's swrk behind `runc --criu`, the real CRIU 4.2 as criu.real for RESTORE
	ln -sf "$CKPT" "$W/bin/criu"
	ln -sf "$CRIU4" "$W/bin/criu.real"
	export CKPT_CRIU_CONF="$W/no-criu.conf"
	FE="$W/bin/criu"
}

teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || tail -n 40 "$BUNDLE/checkpoint/agent.log" >&2 2>/dev/null
	[ -v CTR ] && runc delete -f "$CTR" >/dev/null 2>&1
	return 0
}

# agent_config: ctr-mem as the init, the hook's poststart/poststop with the suite's registry.
agent_config() {
	agent_hooks "$BUNDLE" 1s '.process.terminal = false | .root.readonly = false
		| .process.args = ["/bin/ctr-mem", "256", "/tmp/status"]'
}

round() {
	cut -d' ' -f1 "$BUNDLE/rootfs/tmp/status" 2>/dev/null || echo 0
}

round_above() {
	[ "$(round)" -gt "$1" ]
}

status_ok() {
	grep -qE '^[0-9]+ OK$' "$BUNDLE/rootfs/tmp/status"
}

# layer_number_at_least N: the agent's latest layer is number N or later.
layer_number_at_least() {
	"$CKPT" agent status --bundle "$BUNDLE" --json | jq -e --argjson n "$1" '.layers[-1].n >= $n' >/dev/null
}

@test "runc checkpoint of a container with ckpt's agent (hook): ckpt's own final dump on the agent's chain (handover, pages in the parent); runc restore with CRIU 4.2: 256 MiB check passes, the counter continues" {
	agent_config
	runc run -d --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	# two layers after the memory is filled and checked once (status written)
	retry 300 0.1 status_ok
	local nl
	nl=$("$CKPT" agent status --bundle "$BUNDLE" --json | jq '.layers[-1].n')
	retry 600 0.1 layer_number_at_least $((nl + 2))
	run -0 runc --criu "$FE" checkpoint --image-path "$W/img/final" --work-path "$W/workf" "$CTR"
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/workf/dump.log"
	# the agent's latest layer when it handed over (it may have taken one more since a status)
	local latest
	latest=$(sed -n "s|.*has a pre-copy agent ($BUNDLE/checkpoint): handed over; the final dump continues its chain from \([^ ]*\) (tracker uffd-wp)|\1|p" "$W/workf/dump.log")
	[[ "$latest" == "$BUNDLE/checkpoint/"[0-9]* ]]
	grep -q "handover: the front-end's final dump continues the chain from $latest" "$BUNDLE/checkpoint/agent.log"
	# the parent is the agent's latest layer, relative to the images dir (CRIU resolves it so)
	local parent
	parent=$(readlink "$W/img/final/parent")
	[[ "$parent" != /* ]]
	[ "$(cd "$W/img/final" && readlink -f "$parent")" = "$(readlink -f "$latest")" ]
	# the memory is the last layer of the agent's chain: most pages are in the parent
	run -0 crit decode -i "$W/img/final/pagemap-1.img"
	echo "$output" | jq -e '[.entries[1:][] | select(.flags == 1) | .nr_pages] | add > 10000'
	run -0 crit decode -i "$W/workf/stats-dump"
	echo "$output" | jq -e '.entries[0].dump.frozen_time > 0'
	# the agent is gone (its registry entry too), the container was killed by the dump
	[ ! -e "$CKPT_AGENT_REGISTRY/pid-$CPID" ]
	run ! runc state "$CTR"
	local n0
	n0=$(round)
	run -0 runc --criu "$FE" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	retry 300 0.1 round_above "$n0"
	[ "$(round)" -lt $((n0 + 3000)) ]
	cat "$BUNDLE/rootfs/tmp/status" >&2
	status_ok
}
