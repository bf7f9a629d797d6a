#!/usr/bin/env bats
# bats file_tags=root
# `ckpt hook` under real Podman 4.3.1 (runc 1.1.5, conmon): the hooks.d file of
# contrib/, a store and config of the suite's own (docs: podman.md, "a store of
# its own"), containers named ckpt-hook-*.

load helpers
load podman-helpers

P=ckpt-hook-

setup_file() {
	command -v podman >/dev/null || return 0
	[ -x /bin/busybox ] || return 0
	local T="$BATS_FILE_TMPDIR"
	mkdir -p "$T/hooks.d" "$T/agents"
	# contrib's hooks.d file, pointed at this build and the suite's registry
	jq --arg ck "$CKPT" --arg reg "$T/agents" \
		'.hook.path = $ck | .hook.env = ["CKPT_AGENT_REGISTRY=" + $reg]' \
		"$REPO_ROOT/contrib/oci-hooks.d-ckpt.json" >"$T/hooks.d/50-ckpt.json"
	export CKPT_AGENT_REGISTRY="$T/agents"
	podman_store_setup "$T" "$P" "$T/hooks.d"
}

teardown_file() {
	command -v podman >/dev/null || return 0
	# vfs layers are plain directories; nothing stays mounted
	podman_store_teardown "$P"
}

setup() {
	requires root runc
	command -v podman >/dev/null || skip "test requires podman (tests/install-deps.sh)"
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	CTR="${P}$$-$BATS_TEST_NUMBER"
	CTRS=("$CTR")
}

teardown() {
	local c
	for c in "${CTRS[@]}"; do
		podman rm -f -t0 "$c" >/dev/null 2>&1 || true
	done
	local p
	for p in $(cat "$BATS_TEST_TMPDIR"/agent-pids 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = ckpt ] && kill -9 "$p" 2>/dev/null
	done
	return 0
}

prun() {
	podman run -d --name "$1" "${@:2}" "localhost/${P}busybox" \
		sh -c 'trap "exit 0" TERM; while :; do i=0; while [ $i -lt 50 ]; do i=$((i+1)); done; sleep 0.05; done'
}

# `podman restart`, and when Podman gives up on the old init ("given PIDs did not
# die within timeout", seen once in CI under load), the state that explains it:
# whether the init was a zombie, traced (TracerPid) or frozen, and the agent log.
restart_or_explain() {
	podman restart -t0 "$1" && return 0
	echo "# podman restart failed; old init $2:" >&3
	grep -E '^(State|TracerPid)' "/proc/$2/status" 2>/dev/null | sed 's/^/#   /' >&3
	cat "/proc/$2/cgroup" 2>/dev/null | grep freezer | sed 's/^/#   /' >&3
	tail -n 20 "$3" 2>/dev/null | sed 's/^/#   agent: /' >&3
	return 1
}

agents_of() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = ckpt ] &&
			[ "$(readlink "$p/fd/1" 2>/dev/null)" = "$1/agent.log" ] && echo "${p#/proc/}"
	done
	return 0
}

layers_at_least() {
	"$CKPT" agent status --bundle "$1" --json 2>/dev/null | jq -e --argjson n "$2" '(.layers | length) >= $n' >/dev/null
}

gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status"; }

@test "podman: hooks.d + annotation start the agent under conmon; layers, final frozen, verify; rm -f leaves nothing and conmon exits" {
	prun "$CTR" --annotation org.ckpt.enable=true --annotation org.ckpt.interval=300ms \
		--annotation org.ckpt.max-layers=50
	local B CPID CONMON D
	B=$(podman inspect -f '{{.StaticDir}}' "$CTR")
	CPID=$(podman inspect -f '{{.State.Pid}}' "$CTR")
	CONMON=$(podman inspect -f '{{.State.ConmonPid}}' "$CTR")
	D="$B/checkpoint"
	retry 100 0.1 test -S "$D/agent.sock"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	local ap
	ap=$(head -1 "$BATS_TEST_TMPDIR/agent-pids")
	[ -n "$ap" ]
	# a detached child of a hook under podman ends up below conmon, outside the container's cgroup
	[ "$(awk '/^PPid/ {print $2}' "/proc/$ap/status")" = "$CONMON" ]
	! grep -q "libpod-$(podman inspect -f '{{.Id}}' "$CTR")" "/proc/$ap/cgroup"
	retry 100 0.1 test -e "$D/3/inventory.img"
	[ "$(readlink "$D/3/parent")" = ../2 ]
	ckpt_run -0 agent status --bundle "$B" --json
	echo "$output" | jq -e '.ok and (.layers | length) >= 3'
	ckpt_run -0 agent final --bundle "$B" --leave frozen --json
	echo "$output" | jq -e '.frozen_us > 0'
	run -0 crit decode -i "$D/latest/stats-dump"
	echo "$output" | jq -e '.entries[0].dump.frozen_time > 0'
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$D/latest"
	assert_output --partial ": OK"
	podman rm -f -t0 "$CTR"
	retry 100 0.1 gone "$ap"
	retry 100 0.1 gone "$CONMON"
	[ ! -e "$D/agent.sock" ] || [ ! -e "$B" ]
	[ ! -e "$CKPT_AGENT_REGISTRY/id-$(basename "$(dirname "$B")")" ]
	[ ! -e "$CKPT_AGENT_REGISTRY/pid-$CPID" ]
	retry 50 0.1 bash -c "! grep -q ' /run/ckpt/uffd/$CPID-' /proc/net/unix"
	# the frozen cgroup went with the container
	[ ! -d "/sys/fs/cgroup/freezer/libpod_parent/libpod-$(basename "$(dirname "$B")")" ]
}

@test "podman: without the annotation no hook runs and no agent starts" {
	prun "$CTR"
	local B
	B=$(podman inspect -f '{{.StaticDir}}' "$CTR")
	[ ! -e "$B/checkpoint" ]
	prun "$CTR-f" --annotation org.ckpt.enable=false
	CTRS+=("$CTR-f")
	B=$(podman inspect -f '{{.StaticDir}}' "$CTR-f")
	[ ! -e "$B/checkpoint" ]
	# a bad value: the container still starts, the reason is in the bundle's ckpt-hook.log
	prun "$CTR-b" --annotation org.ckpt.enable=true --annotation org.ckpt.dir=../../escape
	CTRS+=("$CTR-b")
	B=$(podman inspect -f '{{.StaticDir}}' "$CTR-b")
	[ "$(podman inspect -f '{{.State.Status}}' "$CTR-b")" = running ]
	run -0 cat "$B/ckpt-hook.log"
	assert_output --partial "org.ckpt.dir"
	assert_output --partial "'..'"
}

@test "podman: two containers at once, then restart of one: a new agent for the new init" {
	local C2="$CTR-2"
	CTRS+=("$C2")
	prun "$CTR" --annotation org.ckpt.enable=true --annotation org.ckpt.interval=300ms
	prun "$C2" --annotation org.ckpt.enable=true --annotation org.ckpt.interval=300ms
	local B1 B2 ID1
	B1=$(podman inspect -f '{{.StaticDir}}' "$CTR")
	B2=$(podman inspect -f '{{.StaticDir}}' "$C2")
	ID1=$(podman inspect -f '{{.Id}}' "$CTR")
	retry 100 0.1 layers_at_least "$B1" 2
	retry 100 0.1 layers_at_least "$B2" 2
	agents_of "$B1/checkpoint" >"$BATS_TEST_TMPDIR/agent-pids"
	agents_of "$B2/checkpoint" >>"$BATS_TEST_TMPDIR/agent-pids"
	[ "$(sort -u "$BATS_TEST_TMPDIR/agent-pids" | wc -l)" = 2 ]
	local a1 p1
	a1=$(agents_of "$B1/checkpoint")
	p1=$(podman inspect -f '{{.State.Pid}}' "$CTR")
	ckpt_run -0 agent status --id "$ID1" --json
	restart_or_explain "$CTR" "$p1" "$B1/checkpoint/agent.log"
	retry 100 0.1 gone "$a1"
	local p2
	p2=$(podman inspect -f '{{.State.Pid}}' "$CTR")
	[ "$p2" != "$p1" ]
	retry 100 0.1 test -e "$CKPT_AGENT_REGISTRY/pid-$p2"
	agents_of "$B1/checkpoint" >>"$BATS_TEST_TMPDIR/agent-pids"
	ckpt_run -0 agent status --bundle "$B1" --json
	retry 100 0.2 bash -c "'$CKPT' agent status --bundle '$B1' --json | jq -e '(.layers | length) >= 2'"
	# the other container's agent was not disturbed
	ckpt_run -0 agent status --bundle "$B2" --json
	echo "$output" | jq -e '(.layers | length) >= 2'
}

@test "podman container checkpoint of a container with the agent: ckpt's own final dump on the agent's chain (handover); podman container restore works, the counter goes on" {
	requires criu4
	local bin="$BATS_TEST_TMPDIR/bin" B last
	# the front-end first in PATH as `criu` for podman, runc and conmon, CRIU 4.2 behind it;
	# Podman does not pass the suite's CKPT_AGENT_REGISTRY on to runc's criu: a wrapper does
	mkdir -p "$bin"
	printf '#!/bin/bash\nCKPT_AGENT_REGISTRY=%s exec -a criu %s "$@"\n' "$CKPT_AGENT_REGISTRY" "$CKPT" >"$bin/criu"
	chmod +x "$bin/criu"
	ln -s "$CRIU4" "$bin/criu.real"
	export CKPT_CRIU_CONF="$BATS_TEST_TMPDIR/no-criu.conf"
	# Podman's checkpoint dir is <bundle>/checkpoint, the agent's default: the agent gets
	# another; no seccomp profile (a container ckpt's check refuses goes to CRIU instead)
	podman run -d --name "$CTR" --security-opt seccomp=unconfined \
		--annotation org.ckpt.enable=true --annotation org.ckpt.interval=500ms \
		--annotation org.ckpt.dir=ckpt-agent "localhost/${P}busybox" \
		sh -c 'trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null 3>&-
	B=$(podman inspect -f '{{.StaticDir}}' "$CTR")
	retry 300 0.1 layers_at_least "$B" 2
	agents_of "$B/ckpt-agent" >"$BATS_TEST_TMPDIR/agent-pids"
	PATH="$bin:$PATH" run podman container checkpoint --keep "$CTR"
	[ "$status" = 0 ] || {
		cat "$B/dump.log" "$B/ckpt-front-end.log" >&2 || true
		fail "podman container checkpoint: $output"
	}
	grep -q "DUMP of container pid .* by ckpt's own final dump" "$B/dump.log"
	grep -q "has a pre-copy agent ($B/ckpt-agent): handed over; the final dump continues its chain from $B/ckpt-agent/" "$B/dump.log"
	[[ "$(readlink "$B/checkpoint/parent")" == ../ckpt-agent/[0-9]* ]]
	run -0 crit decode -i "$B/checkpoint/pagemap-1.img"
	echo "$output" | jq -e '[.entries[1:][] | select(.flags == 1)] | length > 0'
	[ "$(podman inspect -f '{{.State.Status}}' "$CTR")" = exited ]
	last=$(tail -n1 "$B/ctr.log" | awk '{print $NF}')
	[ "$last" -gt 0 ]
	PATH="$bin:$PATH" run -0 podman container restore "$CTR"
	[ "$(podman inspect -f '{{.State.Status}}' "$CTR")" = running ]
	retry 100 0.1 bash -c "[ \$(podman logs '$CTR' | tail -n1) -gt $((last + 2)) ]"
}
