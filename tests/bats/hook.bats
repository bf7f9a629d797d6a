#!/usr/bin/env bats
# bats file_tags=root
# `ckpt hook` in a real runc 1.1.5 container's config.json: the pre-copy agent,
# its layers, `ckpt agent`, and what is left after `runc delete -f`.

load helpers

setup_file() {
	export HOOK_RUNC_ROOT="$BATS_FILE_TMPDIR/runc"
	mkdir -p "$HOOK_RUNC_ROOT"
}

setup() {
	requires root runc
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	BUNDLE="$BATS_TEST_TMPDIR/bundle"
	mkdir -p "$BUNDLE/rootfs/bin"
	cp /bin/busybox "$BUNDLE/rootfs/bin/"
	local c
	for c in sh sleep true dd cat; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	(cd "$BUNDLE" && runc spec)
	CTR="ckpt-hook-$$-$BATS_TEST_NUMBER"
	CTRS=("$CTR")
	export CKPT_AGENT_REGISTRY="$BATS_TEST_TMPDIR/agents"
}

teardown() {
	[ -n "${BATS_TEST_COMPLETED:-}" ] || tail -n 40 "$BUNDLE"/checkpoint/agent.log >&2 2>/dev/null || true
	local c
	for c in "${CTRS[@]}"; do
		runc --root "$HOOK_RUNC_ROOT" delete -f "$c" >/dev/null 2>&1 || true
	done
	# an agent outlives nothing: kill what the test's agents left, by pid
	local p
	for p in $(cat "$BATS_TEST_TMPDIR"/agent-pids 2>/dev/null); do
		kill -9 "$p" 2>/dev/null || true
	done
}

rc() { runc --root "$HOOK_RUNC_ROOT" "$@"; }

# write_config BUNDLE CMD [ANNOTATION=VALUE...]: process, hooks and annotations.
write_config() {
	local b=$1 cmd=$2
	shift 2
	local ann='{}' kv
	for kv in "$@"; do
		ann=$(jq -c --arg k "${kv%%=*}" --arg v "${kv#*=}" '. + {($k): $v}' <<<"$ann")
	done
	jq --arg c "$cmd" --arg ck "$CKPT" --argjson ann "$ann" --arg reg "$CKPT_AGENT_REGISTRY" '
		.process.terminal = false | .process.args = ["/bin/sh", "-c", $c]
		| .annotations = $ann
		| .hooks = {
			"poststart": [{"path": $ck, "args": ["ckpt", "hook", "poststart"],
				"env": ["CKPT_AGENT_REGISTRY=" + $reg], "timeout": 10}],
			"poststop": [{"path": $ck, "args": ["ckpt", "hook", "poststop"],
				"env": ["CKPT_AGENT_REGISTRY=" + $reg], "timeout": 10}] }' \
		"$b/config.json" >"$b/config.new"
	mv "$b/config.new" "$b/config.json"
}

# start NAME BUNDLE: runc run -d; sets CPID.
start() {
	rc run -d --bundle "$2" "$1" >"$BATS_TEST_TMPDIR/run-$1.out" 2>&1 </dev/null 3>&- || {
		cat "$BATS_TEST_TMPDIR/run-$1.out" >&2
		return 1
	}
	CPID=$(rc state "$1" | jq .pid)
	[ "$CPID" -gt 0 ]
}

cgroup_frozen() {
	local cg
	cg=$(awk -F: '$1 == 0 {print $3}' "/proc/$1/cgroup")
	grep -q '^frozen 1' "/sys/fs/cgroup/unified$cg/cgroup.events" 2>/dev/null
}

thaw() {
	local cg
	cg=$(awk -F: '$1 == 0 {print $3}' "/proc/$1/cgroup")
	echo 0 >"/sys/fs/cgroup/unified$cg/cgroup.freeze" 2>/dev/null || true
	cg=$(awk -F: '$2 ~ /freezer/ {print $3}' "/proc/$1/cgroup")
	echo THAWED >"/sys/fs/cgroup/freezer$cg/freezer.state" 2>/dev/null || true
}

# layers_at_least DIR N: the agent's chain holds N layers (numbered ones come and go with rebases)
layers_at_least() {
	"$CKPT" agent status --bundle "$(dirname "$1")" --json 2>/dev/null | jq -e --argjson n "$2" '(.layers | length) >= $n' >/dev/null
}

# pids of agents for this bundle (ckpt processes with the ckpt-dir's log open)
agents_of() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = ckpt ] &&
			[ "$(readlink "$p/fd/1" 2>/dev/null)" = "$1/agent.log" ] && echo "${p#/proc/}"
	done
	return 0
}

@test "runc: poststart starts the agent, layers get parent links and latest, verify from latest with the container frozen" {
	write_config "$BUNDLE" 'i=0; while :; do i=$((i+1)); sleep 0.05; done' \
		org.ckpt.enable=true org.ckpt.interval=300ms org.ckpt.max-layers=50
	local t0 t1
	t0=$(date +%s%N)
	start "$CTR" "$BUNDLE"
	t1=$(date +%s%N)
	echo "runc run -d with the hook: $(((t1 - t0) / 1000000)) ms" >&2
	local D="$BUNDLE/checkpoint"
	[ "$(stat -c %a "$D")" = 700 ]
	[ "$(stat -c %a "$D/agent.sock")" = 600 ]
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	[ -s "$BATS_TEST_TMPDIR/agent-pids" ]
	# the agent is in its own session, not in the container's cgroup
	local ap
	ap=$(head -1 "$BATS_TEST_TMPDIR/agent-pids")
	[ "$(ps -o sid= -p "$ap" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
	[ "$(ps -o tty= -p "$ap" | tr -d ' ')" = "?" ]
	! grep -q "$CTR" "/proc/$ap/cgroup"
	[ "$(readlink "$CKPT_AGENT_REGISTRY/id-$CTR")" = "$D" ]
	[ "$(readlink "$CKPT_AGENT_REGISTRY/pid-$CPID")" = "$D" ]
	retry 100 0.1 test -e "$D/3/inventory.img"
	[ "$(readlink "$D/2/parent")" = ../1 ]
	[ "$(readlink "$D/3/parent")" = ../2 ]
	[ ! -e "$D/1/parent" ]
	# the agent is its chain's only merger: a compact of it is refused, nothing renamed
	ckpt_run -1 compact -D "$D/3"
	assert_output --partial "the layers in $D are being merged by another ckpt"
	[ -e "$D/1/inventory.img" ] && [ "$(readlink "$D/2/parent")" = ../1 ]
	ckpt_run -0 agent status --bundle "$BUNDLE" --json
	echo "$output" | jq -e '.ok and (.state == "converged" or .state == "precopy") and (.layers | length >= 3)'
	echo "$output" | jq -e --arg d "$D" '.latest | startswith($d + "/")'
	# final, left frozen: verify rebuilds the memory exactly from latest
	ckpt_run -0 agent final --bundle "$BUNDLE" --leave frozen --json
	local n
	n=$(echo "$output" | jq .layer)
	echo "$output" | jq -e '.frozen_us > 0 and .tracker != null'
	[ "$(readlink "$D/latest")" = "$n" ]
	cgroup_frozen "$CPID"
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$D/latest"
	assert_output --partial ": OK"
	# stats-dump of the final layer holds its frozen time
	run -0 crit decode -i "$D/latest/stats-dump"
	echo "$output" | jq -e '.entries[0].dump.frozen_time > 0'
	ckpt_run -0 agent status --bundle "$BUNDLE" --json
	echo "$output" | jq -e '.state == "final"'
	thaw "$CPID"
	[ "$(rc state "$CTR" | jq -r .status)" = running ]
}

@test "runc: the control socket serves root only (0600, and the peer's uid is checked)" {
	requires nobody
	write_config "$BUNDLE" 'while :; do sleep 0.1; done' org.ckpt.enable=true
	start "$CTR" "$BUNDLE"
	local D="$BUNDLE/checkpoint"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	cp "$CKPT" "$BATS_TEST_TMPDIR/ckpt-nobody"
	chmod 755 "$BATS_TEST_TMPDIR/ckpt-nobody" "$BATS_TEST_TMPDIR"
	# the mode keeps others out
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$BATS_TEST_TMPDIR/ckpt-nobody" agent status --id "$CTR"
	# with the modes opened up, the agent itself refuses the peer
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ] && [ "$d" != /tmp ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	chmod 711 "$BUNDLE" "$D"
	chmod 755 "$CKPT_AGENT_REGISTRY"
	chmod 666 "$D/agent.sock"
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$BATS_TEST_TMPDIR/ckpt-nobody" agent status --id "$CTR"
	echo "$output" >&2
	assert_output --partial "the agent refused status: peer pid"
	assert_output --partial "uid 65534 refused"
	grep -q "uid 65534 refused" "$D/agent.log"
	ckpt_run -0 agent status --bundle "$BUNDLE"
	# SIGTERM: the agent cleans up as for stop
	local ap
	ap=$(head -1 "$BATS_TEST_TMPDIR/agent-pids")
	kill -TERM "$ap"
	retry 100 0.1 test ! -e "$D/agent.sock"
	[ ! -e "$CKPT_AGENT_REGISTRY/id-$CTR" ]
	grep -q 'signal 15: stopping' "$D/agent.log"
	[ "$(rc state "$CTR" | jq -r .status)" = running ]
}

@test "runc: delete -f leaves no agent, holder, socket, registry entry or frozen cgroup" {
	write_config "$BUNDLE" 'while :; do dd if=/dev/zero of=/dev/null bs=4k count=10 2>/dev/null; sleep 0.05; done' \
		org.ckpt.enable=true org.ckpt.interval=200ms
	start "$CTR" "$BUNDLE"
	local D="$BUNDLE/checkpoint"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	retry 100 0.1 layers_at_least "$D" 2
	local ap
	ap=$(head -1 "$BATS_TEST_TMPDIR/agent-pids")
	rc delete -f "$CTR"
	# the agent exits with the container: bounded wait
	retry 100 0.1 bash -c "! kill -0 $ap 2>/dev/null || grep -q '^State:.*Z' /proc/$ap/status"
	[ ! -e "$D/agent.sock" ]
	[ ! -e "$CKPT_AGENT_REGISTRY/id-$CTR" ]
	[ ! -e "$CKPT_AGENT_REGISTRY/pid-$CPID" ]
	# no uffd holder of the container's tasks, no ckpt process keeping a file of the bundle
	retry 50 0.1 bash -c "! grep -q ' /run/ckpt/uffd/$CPID-' /proc/net/unix"
	local p
	for p in /proc/[0-9]*; do
		! ls -l "$p/fd" 2>/dev/null | grep -q "$BUNDLE/" || {
			echo "process ${p#/proc/} still holds a file of the bundle" >&2
			false
		}
	done
	grep -q 'exits' "$D/agent.log"
	# the layers stay
	[ -e "$D/latest/inventory.img" ]
}

@test "runc: converge rule, then max-layers merges the oldest layers; the next layer stays incremental; verify after merges" {
	# writes ~100 pages per round: never below converge-pages 8, stable => converges on the shrink rule
	write_config "$BUNDLE" 'while :; do sleep 0.05; done' \
		org.ckpt.enable=true org.ckpt.interval=200ms org.ckpt.max-layers=3 org.ckpt.converge-pages=8
	start "$CTR" "$BUNDLE"
	local D="$BUNDLE/checkpoint"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	# over many rounds (every sample, merges under way included) at most max-layers numbered dirs
	local i n merges=0
	for i in $(seq 600); do
		n=$(find "$D" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9]+' | wc -l)
		[ "$n" -le 3 ] || {
			ls -la "$D" >&2
			false
		}
		merges=$(grep -c 'merged layers' "$D/agent.log" || true)
		[ "$merges" -lt 6 ] || break
		sleep 0.05
	done
	[ "$merges" -ge 6 ]
	run -0 grep -m1 'converged after layer' "$D/agent.log"
	echo "$output" | grep -E 'converged after layer [0-9]+: [0-9]+ pages \(previous [0-9]+'
	run -0 grep -m1 'merged layers' "$D/agent.log"
	echo "$output" | grep -E 'merged layers [0-9]+ and [0-9]+ into [0-9]+: [0-9]+ pages \([0-9]+ from [0-9]+\)'
	# merges, never the full-layer fallback
	! grep -q 'chain rebased' "$D/agent.log"
	ckpt_run -0 agent status --bundle "$BUNDLE" --json
	echo "$output" | jq -e '(.layers | length) == 3 and .state == "converged"'
	# the oldest is a merge (no parent), the newest is incremental (pages from its parent)
	echo "$output" | jq -e '.layers[0].pages_parent == 0 and .layers[-1].pages_parent > 0'
	local oldest
	oldest=$(echo "$output" | jq -r '.layers[0].dir')
	[ ! -e "$oldest/parent" ]
	ckpt_run -0 agent final --bundle "$BUNDLE" --leave frozen
	# no periodic layer after final: nothing of the merges is left behind
	[ -z "$(find "$D" -mindepth 1 -maxdepth 1 -name '.*ckpt-tmp-*')" ]
	local l=latest hops=0
	while [ -L "$D/$l/parent" ]; do
		l=$(basename "$(readlink "$D/$l/parent")")
		hops=$((hops + 1))
	done
	# three layers and the final one, down to a merged base
	[ "$hops" -eq 3 ]
	[ -e "$D/$l/inventory.img" ] && [ ! -e "$D/$l/parent" ]
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$D/latest"
	assert_output --partial ": OK"
	thaw "$CPID"
}

# agent_died DIR: the agent of DIR took its second layer and is gone
agent_died() {
	grep -q 'layer 2:' "$1/agent.log" && [ -z "$(agents_of "$1")" ]
}

# agent_fault_run POINT: a sleeping container whose agent has CK_FAULT=POINT:kill (max-layers 2,
# so the third round merges); waits for the agent to die there.
agent_fault_run() {
	write_config "$BUNDLE" 'exec sleep 100000' org.ckpt.enable=true org.ckpt.interval=100ms \
		org.ckpt.max-layers=2 org.ckpt.converge-pages=8
	jq --arg f "CK_FAULT=$1:kill" '.hooks.poststart[0].env += [$f]' "$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	start "$CTR" "$BUNDLE"
	D="$BUNDLE/checkpoint"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	retry 200 0.1 agent_died "$D"
	! grep -q 'merged layers' "$D/agent.log"
	[ -n "$(find "$D" -mindepth 1 -maxdepth 1 -name '.*ckpt-tmp-*')" ]
	# the container runs on, not frozen
	! cgroup_frozen "$CPID"
	[ "$(rc state "$CTR" | jq -r .status)" = running ]
}

# dump_on_latest: a memory-only dump on top of what the dead agent left (the
# tree left frozen, the parent's tracking goes on: pages from the parent), then
# verify rebuilds the frozen memory exactly through the whole chain
dump_on_latest() {
	ckpt_run -0 dump --memory-only -t "$CPID" --cgroup auto -D "$D/9" --prev-images-dir ../2
	echo "$output" | grep -E ' [1-9][0-9]* from parent'
	[ -z "$(find "$D" -mindepth 1 -maxdepth 1 -name '.*ckpt-tmp-*')" ] || {
		ls -la "$D" >&2
		ps -o pid,stat,comm -p "$(find "$D" -maxdepth 1 -name '.*ckpt-tmp-*' | sed 's/.*-//' | head -1)" >&2
		false
	}
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$D/9"
	assert_output --partial ": OK"
	thaw "$CPID"
}

@test "runc: the agent killed inside a merge, before its exchange: the old chain stays; the next run cleans up; verify through it" {
	local D
	agent_fault_run merge-built
	[ "$(readlink "$D/latest")" = 2 ] && [ "$(readlink "$D/2/parent")" = ../1 ]
	dump_on_latest
	[ -e "$D/1/inventory.img" ] && [ "$(readlink "$D/2/parent")" = ../1 ]
}

@test "runc: the agent killed inside a merge, after its exchange: the merged chain; the next run removes the old base; verify through it" {
	local D
	agent_fault_run merge-switched
	[ "$(readlink "$D/latest")" = 2 ] && [ ! -L "$D/2/parent" ]
	dump_on_latest
	[ ! -e "$D/1" ]
}

@test "runc: max-layers 1: each layer is merged into its parent right after it; the chain verifies" {
	write_config "$BUNDLE" 'while :; do sleep 0.05; done' \
		org.ckpt.enable=true org.ckpt.interval=150ms org.ckpt.max-layers=1
	start "$CTR" "$BUNDLE"
	local D="$BUNDLE/checkpoint"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	retry 150 0.1 bash -c "[ \$(grep -c 'merged layers' '$D/agent.log') -ge 3 ]"
	! grep -q 'chain rebased' "$D/agent.log"
	ckpt_run -0 agent status --bundle "$BUNDLE" --json
	echo "$output" | jq -e '(.layers | length) == 1 and .layers[0].pages_parent == 0'
	# the layers after a merge are still incremental: their parent is the merge
	run -0 grep -E '^\([0-9.]+\) layer [0-9]+: .*: [0-9]+ pages written, [1-9][0-9]* from parent' "$D/agent.log"
	[ "${#lines[@]}" -ge 3 ]
	ckpt_run -0 agent final --bundle "$BUNDLE" --leave frozen
	[ -L "$D/latest/parent" ] && [ ! -e "$D/latest/parent/parent" ]
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$D/latest"
	assert_output --partial ": OK"
	thaw "$CPID"
}

@test "runc: a round that fails leaves no number behind: the next layer is 1, and 2 links to it" {
	write_config "$BUNDLE" 'exec sleep 100000' org.ckpt.enable=true org.ckpt.interval=100ms \
		org.ckpt.max-layers=50
	jq '.hooks.poststart[0].env += ["CK_FAULT=thawed:fail:1"]' "$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	start "$CTR" "$BUNDLE"
	local D="$BUNDLE/checkpoint"
	retry 100 0.1 test -e "$D/2/inventory.img"
	cat "$D/agent.log" >&2
	grep -q "Warn: layer 1 ($D/1): .*thawed" "$D/agent.log"
	grep -q "^(.*) layer 1: $D/1: " "$D/agent.log"
	[ ! -e "$D/1/parent" ]
	[ "$(readlink "$D/2/parent")" = ../1 ]
	[ -z "$(find "$D" -mindepth 1 -maxdepth 1 -name '.*ckpt-tmp-*')" ]
}

@test "runc: the hook at createRuntime (status creating, init not yet exec'd) starts the agent; it waits for the workload" {
	write_config "$BUNDLE" 'while :; do sleep 0.05; done' org.ckpt.enable=true org.ckpt.interval=200ms
	jq '.hooks.createRuntime = [.hooks.poststart[0] | .args = ["ckpt", "hook", "createRuntime"]] | del(.hooks.poststart)' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	start "$CTR" "$BUNDLE"
	local D="$BUNDLE/checkpoint"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	[ -s "$BATS_TEST_TMPDIR/agent-pids" ]
	retry 100 0.1 layers_at_least "$D" 2
	# the first layer came after the exec: the workload's memory, not runc init's
	run -0 grep -m1 'workload started' "$D/agent.log"
	assert_output --partial '/bin/busybox'
	ckpt_run -0 agent final --bundle "$BUNDLE" --leave frozen
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$D/latest"
	assert_output --partial ": OK"
	thaw "$CPID"
	local ap
	ap=$(head -1 "$BATS_TEST_TMPDIR/agent-pids")
	rc delete -f "$CTR"
	retry 100 0.1 bash -c "! kill -0 $ap 2>/dev/null || grep -q '^State:.*Z' /proc/$ap/status"
	[ ! -e "$D/agent.sock" ]
}

@test "runc: a container forking children while layers are taken; layer --dir and final --leave running" {
	write_config "$BUNDLE" 'while :; do (sleep 0.01; true) & sleep 0.02; wait; done' \
		org.ckpt.enable=true org.ckpt.interval=150ms
	start "$CTR" "$BUNDLE"
	local D="$BUNDLE/checkpoint"
	agents_of "$D" >"$BATS_TEST_TMPDIR/agent-pids"
	retry 150 0.1 bash -c "grep -q 'merged layers' '$D/agent.log'"
	ckpt_run -0 agent layer --bundle "$BUNDLE" --dir "$BATS_TEST_TMPDIR/ext" --json
	echo "$output" | jq -e --arg d "$BATS_TEST_TMPDIR/ext" '.dir == $d'
	[ -e "$BATS_TEST_TMPDIR/ext/inventory.img" ]
	[ -L "$BATS_TEST_TMPDIR/ext/parent" ]
	ckpt_run -0 agent final --bundle "$BUNDLE" --leave running --json
	echo "$output" | jq -e '.layer > 0'
	! cgroup_frozen "$CPID"
	[ "$(rc state "$CTR" | jq -r .status)" = running ]
	# a layer is never overwritten: the agent refuses, the container runs on
	ckpt_run -1 agent layer --bundle "$BUNDLE" --dir "$BATS_TEST_TMPDIR/ext"
	assert_output --partial "the agent refused layer"
	assert_output --partial "already holds files"
	ckpt_run -2 agent layer --bundle "$BUNDLE" --dir relative/x
	[ "$(rc state "$CTR" | jq -r .status)" = running ]
}

@test "runc: two containers at once, each with its own agent and layers" {
	local B2="$BATS_TEST_TMPDIR/bundle2" C2="$CTR-b"
	CTRS+=("$C2")
	cp -a "$BUNDLE" "$B2"
	write_config "$BUNDLE" 'while :; do sleep 0.05; done' org.ckpt.enable=true org.ckpt.interval=200ms
	write_config "$B2" 'while :; do sleep 0.05; done' org.ckpt.enable=true org.ckpt.interval=200ms
	start "$CTR" "$BUNDLE"
	local P1=$CPID
	start "$C2" "$B2"
	local P2=$CPID
	agents_of "$BUNDLE/checkpoint" >"$BATS_TEST_TMPDIR/agent-pids"
	agents_of "$B2/checkpoint" >>"$BATS_TEST_TMPDIR/agent-pids"
	[ "$(sort -u "$BATS_TEST_TMPDIR/agent-pids" | wc -l)" = 2 ]
	retry 100 0.1 layers_at_least "$BUNDLE/checkpoint" 3
	retry 100 0.1 layers_at_least "$B2/checkpoint" 3
	ckpt_run -0 agent status --id "$CTR" --json
	echo "$output" | jq -e --arg d "$BUNDLE/checkpoint" '.latest | startswith($d)'
	ckpt_run -0 agent status --id "$C2" --json
	echo "$output" | jq -e --arg d "$B2/checkpoint" '.latest | startswith($d)'
	[ "$P1" != "$P2" ]
	rc delete -f "$C2"
	retry 100 0.1 test ! -e "$B2/checkpoint/agent.sock"
	ckpt_run -0 agent status --bundle "$BUNDLE"
	grep -q " /run/ckpt/uffd/$P1-" /proc/net/unix
	ckpt_run -0 agent stop --bundle "$BUNDLE"
	retry 100 0.1 test ! -e "$BUNDLE/checkpoint/agent.sock"
	# stop releases the trackers of the running container
	retry 50 0.1 bash -c "! grep -q ' /run/ckpt/uffd/$P1-' /proc/net/unix"
	[ ! -e "$CKPT_AGENT_REGISTRY/id-$CTR" ]
	[ "$(rc state "$CTR" | jq -r .status)" = running ]
}

@test "runc: no annotation, bad annotation values, escaping org.ckpt.dir: nothing happens, the container starts" {
	write_config "$BUNDLE" 'while :; do sleep 1; done'
	start "$CTR" "$BUNDLE"
	[ ! -e "$BUNDLE/checkpoint" ]
	[ -z "$(agents_of "$BUNDLE/checkpoint")" ]
	rc delete -f "$CTR"
	local bad
	for bad in org.ckpt.interval=soon org.ckpt.interval=5ms org.ckpt.interval=25h org.ckpt.interval=2d org.ckpt.max-layers=0 \
		org.ckpt.converge-pages=-1 org.ckpt.tracker=magic org.ckpt.dir=../out \
		org.ckpt.dir=/tmp/abs org.ckpt.dir=link/x org.ckpt.dir=rootfs/ckpt org.ckpt.dir=inroot/ckpt; do
		rm -f "$BUNDLE/ckpt-hook.log"
		ln -sfn / "$BUNDLE/link"
		mkdir -p "$BUNDLE/rootfs/tmp"
		ln -sfn rootfs/tmp "$BUNDLE/inroot"
		write_config "$BUNDLE" 'while :; do sleep 1; done' org.ckpt.enable=true "$bad"
		start "$CTR" "$BUNDLE"
		[ "$(rc state "$CTR" | jq -r .status)" = running ]
		run -0 cat "$BUNDLE/ckpt-hook.log"
		echo "$bad: $output" >&2
		assert_output --partial "no agent: annotation ${bad%%=*}"
		[ ! -e /out ] && [ ! -e /tmp/abs ] && [ ! -e /x ]
		[ ! -e "$BUNDLE/rootfs/ckpt" ] && [ ! -e "$BUNDLE/rootfs/tmp/ckpt" ]
		[ ! -e "$BUNDLE/checkpoint/agent.sock" ]
		rc delete -f "$CTR"
	done
	# the documented upper bound (24h, also as 1440m) is accepted: the agent starts
	local good
	for good in org.ckpt.interval=24h org.ckpt.interval=1440m; do
		rm -rf "$BUNDLE/ckpt-hook.log" "$BUNDLE/checkpoint"
		write_config "$BUNDLE" 'while :; do sleep 1; done' org.ckpt.enable=true "$good"
		start "$CTR" "$BUNDLE"
		retry 100 0.1 test -S "$BUNDLE/checkpoint/agent.sock"
		! grep -q "no agent" "$BUNDLE/ckpt-hook.log"
		rc delete -f "$CTR"
	done
}

@test "ckpt hook: malformed, oversized or incomplete state, missing bundle, gone container" {
	mkdir -p "$BATS_TEST_TMPDIR/b"
	jq '.annotations = {"org.ckpt.enable": "true"}' "$BUNDLE/config.json" >"$BATS_TEST_TMPDIR/b/config.json"
	local B="$BATS_TEST_TMPDIR/b"
	run -1 "$CKPT" hook poststart <<<'{"ociVersion": "1.0.2", "id": '
	assert_output --partial "state (stdin): malformed JSON"
	run -1 "$CKPT" hook poststart < <(head -c 300000 /dev/zero | tr '\0' ' ')
	assert_output --partial "state (stdin): larger than"
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"created","bundle":"'"$B"'"}'
	assert_output --partial 'field "pid" is missing'
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"weird","pid":1,"bundle":"'"$B"'"}'
	assert_output --partial 'field "status"'
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"created","pid":"1","bundle":"'"$B"'"}'
	assert_output --partial 'field "pid": expected'
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"../x","status":"created","pid":1,"bundle":"'"$B"'"}'
	assert_output --partial 'field "id"'
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"created","pid":1,"bundle":"rel"}'
	assert_output --partial 'field "bundle"'
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"created","pid":1,"bundle":"/nonexistent-ckpt-hook"}'
	assert_output --partial "/nonexistent-ckpt-hook/config.json"
	mkdir -p "$BATS_TEST_TMPDIR/dirconf/config.json"
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"created","pid":1,"bundle":"'"$BATS_TEST_TMPDIR/dirconf"'"}'
	assert_output --partial "dirconf/config.json: read: Is a directory"
	echo '{"ociVersion": 3}' >"$BATS_TEST_TMPDIR/bad/config.json" 2>/dev/null || {
		mkdir -p "$BATS_TEST_TMPDIR/bad"
		echo '{"ociVersion": 3}' >"$BATS_TEST_TMPDIR/bad/config.json"
	}
	run -1 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"created","pid":1,"bundle":"'"$BATS_TEST_TMPDIR/bad"'"}'
	assert_output --partial "$BATS_TEST_TMPDIR/bad/config.json: field \"ociVersion\": expected a string"
	run -2 "$CKPT" hook prestartish </dev/null
	# no annotation: exit 0, one line
	run -0 "$CKPT" hook <<<'{"ociVersion":"1.0.2","id":"x","status":"created","pid":1,"bundle":"'"$BUNDLE"'"}'
	assert_output --partial "is not \"true\"; nothing to do"
	[ "${#lines[@]}" = 1 ]
	# a container gone before the agent starts: a dead pid
	sleep 0.01 &
	local dead=$!
	wait "$dead"
	run -0 "$CKPT" hook poststart <<<'{"ociVersion":"1.0.2","id":"gone","status":"created","pid":'"$dead"',"bundle":"'"$B"'"}'
	assert_output --partial "no agent:"
	assert_output --partial "$dead"
	# poststop without an agent
	run -0 "$CKPT" hook poststop <<<'{"ociVersion":"1.0.2","id":"gone","status":"stopped","bundle":"'"$B"'"}'
	assert_output --partial "no agent running"
	# ckpt agent without an agent
	ckpt_run -1 agent status --bundle "$B"
	ckpt_run -1 agent status --id "no-such-ckpt-hook-ctr"
	assert_output --partial "no agent"
	ckpt_run -2 agent status
	ckpt_run -2 agent frobnicate --bundle "$B"
}
