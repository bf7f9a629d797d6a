#!/usr/bin/env bats
# bats file_tags=root
# ckpt as `criu` (build/criu, the swrk RPC server): real runc 1.1.5 driving
# it, a libcriu-style client (tests/tools/rpc-client.c) and protocol errors.
# CRIU 4.2 (tests/tools/criu.sh) is the real CRIU for delegated DUMP/RESTORE.

load helpers
load mem-helpers

FRONT="$BUILD/criu"
CLIENT="$BUILD/tests/tools/rpc-client"

setup() {
	requires root
	[ -x "$FRONT" ] && [ -x "$CLIENT" ] || fail "build/criu and the rpc client are built by make and make test-bins"
	W="$BATS_TEST_TMPDIR"
	# nothing of the caller's may configure a real CRIU behind the test's back
	export CKPT_CRIU_CONF="$W/no-criu.conf"
	unset CKPT_CRIU
	SERVERS=()
}

teardown() {
	local p
	for p in "${SERVERS[@]+"${SERVERS[@]}"}"; do kill -KILL "$p" 2>/dev/null || true; done
	mem_teardown
	[ -v CTR ] || return 0
	thaw_ctr
	runc delete -f "$CTR" >/dev/null 2>&1 || true
}

# A busybox bundle without a network namespace (CRIU would lock the network
# with iptables) and with a writable root (CRIU's restore needs a temp dir).
make_bundle() {
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	requires runc
	BUNDLE="$W/bundle"
	mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/tmp"
	cp /bin/busybox "$BUNDLE/rootfs/bin/"
	local c
	for c in sh sleep true md5sum head base64 tr cat echo mv; do ln -sf busybox "$BUNDLE/rootfs/bin/$c"; done
	(cd "$BUNDLE" && runc spec)
	CTR="ckpt-rpc-$$-$BATS_TEST_NUMBER"
}

# run_ctr CMD: start the container detached with sh -c CMD; sets CPID.
run_ctr() {
	jq --arg c "$1" '.process.terminal = false | .process.args = ["/bin/sh", "-c", $c]
		| .root.readonly = false
		| .linux.namespaces |= map(select(.type != "network"))' \
		"$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	runc run -d --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	[ "$CPID" -gt 0 ]
}

ctr_status() {
	runc state "$CTR" 2>/dev/null | jq -r .status
}

# The container's cgroup v2 freeze file, or its v1 freezer.state.
ctr_freezer() {
	local pid cg v2
	pid=$(runc state "$CTR" 2>/dev/null | jq .pid) || return 1
	[ "$pid" -gt 0 ] 2>/dev/null || return 1
	cg=$(awk -F: '$1 == 0 {print $3}' "/proc/$pid/cgroup" 2>/dev/null)
	v2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	if [ -n "$v2" ] && [ -e "$v2$cg/cgroup.freeze" ]; then
		echo "$v2$cg/cgroup.freeze"
	else
		echo "$(findmnt -n -t cgroup -O freezer -o TARGET | head -1)$(awk -F: '$2 ~ /freezer/ {print $3}' "/proc/$pid/cgroup")/freezer.state"
	fi
}

thaw_ctr() {
	local f
	f=$(ctr_freezer) || return 0
	case "$f" in
	*cgroup.freeze) echo 0 >"$f" 2>/dev/null || true ;;
	*) echo THAWED >"$f" 2>/dev/null || true ;;
	esac
}

# Not frozen: the container's cgroup is thawed.
ctr_thawed() {
	local f
	f=$(ctr_freezer)
	case "$f" in
	*cgroup.freeze) grep -q '^frozen 0' "${f%cgroup.freeze}cgroup.events" ;;
	*) [ "$(cat "$f")" = THAWED ] ;;
	esac
}

# pre_dump N: runc checkpoint --pre-dump into $W/img/preN (parent preN-1 when N > 1).
pre_dump() {
	local n=$1 parent=()
	[ "$n" -gt 1 ] && parent=(--parent-path "../pre$((n - 1))")
	run runc --criu "$FRONT" checkpoint --pre-dump --image-path "$W/img/pre$n" \
		--work-path "$W/work$n" "${parent[@]}" "$CTR"
	[ "$status" = 0 ] || { echo "$output"; cat "$W/work$n"/*.log; false; }
}

@test "criu CLI: --version, check, check --feature, unsupported commands" {
	run -0 "$FRONT" --version
	assert_line "Version: 4.2"
	run -0 "$FRONT" check
	assert_output --partial "Looks good."
	run -0 "$FRONT" check --feature mem_dirty_track
	assert_output --partial "mem_dirty_track is supported"
	run -1 --separate-stderr "$FRONT" check --feature lazy_pages
	[[ "$stderr" == *"not supported by ckpt's criu front-end"* ]]
	local c
	for c in dump restore pre-dump page-server lazy-pages cpuinfo; do
		run -1 --separate-stderr "$FRONT" "$c" -t 1 -D "$W"
		[[ "$stderr" == *"'$c' is not supported by ckpt's criu front-end"* ]]
	done
	# the same through the verb
	run -0 "$CKPT" criu --version
	assert_line "Version: 4.2"
}

@test "runc --criu build/criu: ten pre-dumps of a forking container, PE_PARENT layers, it keeps running; verify while frozen" {
	make_bundle
	run_ctr 'while true; do sleep 0.02; done'
	local i
	for i in $(seq 1 10); do
		pre_dump "$i"
		[ "$(ctr_status)" = running ]
		ctr_thawed
		[ -f "$W/img/pre$i/inventory.img" ]
		grep -q "pre-dump: .* pages written" "$W/work$i/dump.log"
		# CRIU writes stats-dump into the work dir (Podman reads it there)
		[ -f "$W/work$i/stats-dump" ]
	done
	[ "$(readlink "$W/img/pre10/parent")" = ../pre9 ]
	[ ! -e "$W/img/pre1/parent" ]
	# later layers point into their parents
	run -0 crit decode -i "$W/img/pre10/pagemap-1.img"
	echo "$output" | jq -e '[.entries[1:][] | select(.flags == 1)] | length > 0'
	run -0 crit decode -i "$W/img/pre10/stats-dump"
	echo "$output" | jq -e '.entries[0].dump.pages_skipped_parent > 0'
	# the final memory layer onto the chain, left frozen, and verify it
	ckpt_run -0 dump --memory-only -t "$CPID" --cgroup auto -D "$W/img/final" --prev-images-dir ../pre10 --leave-stopped
	run ctr_thawed
	[ "$status" -ne 0 ]
	ckpt_run -0 verify -t "$CPID" --cgroup auto -D "$W/img/final"
	assert_output --partial ": OK"
	thaw_ctr
	retry 50 0.1 ctr_thawed
	[ "$(ctr_status)" = running ]
}

@test "runc: pre-dump errors come back as runc errors and leave the container running" {
	make_bundle
	run_ctr 'while true; do sleep 1; done'
	# a parent that holds no layer: runc accepts the directory, ckpt refuses it
	mkdir -p "$W/img/empty" "$W/img/p"
	run -1 runc --criu "$FRONT" checkpoint --pre-dump --image-path "$W/img/p" --work-path "$W/w" --parent-path ../empty "$CTR"
	assert_output --partial "criu failed: type PRE_DUMP"
	grep -q "Error: PRE_DUMP: .*inventory" "$W/w/dump.log"
	[ "$(ctr_status)" = running ]
	ctr_thawed
}

@test "libcriu-style client: VERSION, FEATURE_CHECK, SINGLE_PRE_DUMP twice with a parent" {
	mem_setup
	vcmd alloc a 64
	vcmd fill a 0 64 1
	mkdir -p "$W/img/1" "$W/img/2" "$W/work"
	run -0 "$CLIENT" "$FRONT" version
	assert_line --partial "type=10 success=1 major=4 minor=2"
	assert_line "server exit=0"
	run -0 "$CLIENT" "$FRONT" features -D "$W/img/1" -W "$W/work"
	assert_line --regexp "type=9 success=1 mem_track=1 lazy_pages=0 pidfd_store=[01]"
	assert_line "server exit=0"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/img/1" -W "$W/work"
	assert_line --partial "type=13 success=1"
	assert_line "server exit=0"
	vcmd fill a 0 4 2
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/img/2" -W "$W/work" -P ../1
	assert_line --partial "type=13 success=1"
	assert_line "server exit=0"
	[ "$(readlink "$W/img/2/parent")" = ../1 ]
	run -0 crit decode -i "$W/img/2/stats-dump"
	echo "$output" | jq -e '.entries[0].dump | .pages_skipped_parent > .pages_written'
	grep -q "request SINGLE_PRE_DUMP" "$W/work/dump.log"
	# again into the same, now full, directory and without a work dir (CRIU then logs
	# into the images dir): the old layer is replaced, the log kept in the new one
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/img/2" -P ../1
	assert_line --partial "type=13 success=1"
	grep -q "pre-dump: .* pages written" "$W/img/2/dump.log"
	[ "$(readlink "$W/img/2/parent")" = ../1 ]
	run -0 ls -a "$W/img"
	refute_output --partial ckpt-old
	kill -0 "$VPID"
	[ "$(proc_state "$VPID")" != T ]
	untraced "$VPID"
}

@test "protocol errors: garbage, unknown type, oversized, no images_dir_fd, missing opts: error responses, exit 1" {
	# garbage
	run -0 "$CLIENT" "$FRONT" garbage 32
	assert_line --regexp "type=0 success=0 errno=[0-9]+ errmsg=cannot decode the 32-byte request"
	assert_line "server exit=1"
	# an unknown request type: answered as EMPTY (as CRIU does)
	run -0 "$CLIENT" "$FRONT" raw 0863
	assert_line --partial "type=0 success=0"
	assert_line --partial "UNKNOWN(99) is not supported by ckpt's criu front-end"
	assert_line "server exit=1"
	# a known type ckpt does not serve
	run -0 "$CLIENT" "$FRONT" raw 0805
	assert_line --partial "type=5 success=0"
	assert_line --partial "PAGE_SERVER is not supported by ckpt's criu front-end"
	# over the request limit (150 KB in one datagram)
	run -0 "$CLIENT" "$FRONT" garbage 150000
	assert_line --partial "a request of 150000 bytes is over the"
	assert_line "server exit=1"
	# opts without images_dir_fd (opts{pid:1}): its default -1, and no images_dir
	run -0 "$CLIENT" "$FRONT" raw 080d12021001
	assert_line --partial "images_dir_fd is -1"
	assert_line "server exit=1"
	# PRE_DUMP without opts at all
	run -0 "$CLIENT" "$FRONT" raw 0804
	assert_line --partial "type=4 success=0"
	assert_line --partial "the request has no opts"
	# a client fd that is not open in the client
	run -0 "$CLIENT" "$FRONT" raw 080d12020863
	assert_line --partial "images_dir_fd: open the client's fd 99"
	assert_line "server exit=1"
	# an empty datagram is EOF to the server: clean exit, no answer
	run -0 "$CLIENT" "$FRONT" raw ""
	assert_line "eof"
	assert_line "server exit=0"
}

@test "protocol errors: a second request, a peer that exits mid-request" {
	mem_setup
	vcmd alloc a 64
	vcmd fill a 0 64 1
	mkdir -p "$W/img/1" "$W/img/2" "$W/work"
	# VERSION is one request per process: the second gets no answer, the server exits 0
	run -0 "$CLIENT" "$FRONT" version --second
	assert_line --partial "type=10 success=1"
	assert_line "server exit=0"
	# after a PRE_DUMP the server waits for EOF: a second request gets an error
	run -0 "$CLIENT" "$FRONT" pre-dump --type 4 -t "$VPID" -D "$W/img/1" -W "$W/work" --second
	assert_line --partial "type=4 success=1"
	assert_line --partial "one request per process"
	assert_line "server exit=1"
	# the client exits as soon as its request is out: the server finishes or fails, and exits
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/img/2" -W "$W/work" -P ../1 --exit-after-send
	local srv
	srv=$(sed -n 's/.*server pid=\([0-9]*\).*/\1/p' <<<"$output")
	SERVERS+=("$srv")
	retry 100 0.1 bash -c "! kill -0 $srv 2>/dev/null || grep -q '^State:.*Z' /proc/$srv/status"
	kill -0 "$VPID"
	[ "$(proc_state "$VPID")" != T ]
	untraced "$VPID"
}

@test "DUMP and RESTORE without a real CRIU: a clear RPC error" {
	mkdir -p "$W/img"
	run -0 env -u CKPT_CRIU "$CLIENT" "$FRONT" raw 0801
	assert_line --partial "type=1 success=0 restored=0"
	assert_line --partial "DUMP needs a real CRIU, and no real CRIU is configured"
	assert_line "server exit=1"
	run -0 env -u CKPT_CRIU "$CLIENT" "$FRONT" raw 0802
	assert_line --partial "RESTORE needs a real CRIU"
	# a CKPT_CRIU that is ckpt itself is refused, not exec'd in a loop
	run -0 env CKPT_CRIU="$CKPT" "$CLIENT" "$FRONT" raw 0801
	assert_line --partial "is ckpt itself"
}

@test "runc: pre-dumps by ckpt, the final checkpoint by ckpt's own dump on that chain, restore delegated to CRIU 4.2; the container resumes with its memory" {
	requires criu4
	make_bundle
	# a 150 KB string kept in the shell's memory, checked every round; the count goes to a file
	run_ctr 's=$(head -c 110000 /dev/urandom | base64 | tr -d "\n"); h=$(echo "$s" | md5sum); i=0
		while true; do [ "$(echo "$s" | md5sum)" = "$h" ] && r=OK || r=BAD; i=$((i+1)); echo "$i $r" >/tmp/s.new; mv /tmp/s.new /tmp/status; sleep 0.05; done'
	retry 100 0.1 grep -q OK "$BUNDLE/rootfs/tmp/status"
	pre_dump 1
	pre_dump 2
	# the front-end finds the real CRIU as criu.real next to it
	mkdir -p "$W/bin"
	ln -s "$CKPT" "$W/bin/criu"
	ln -s "$CRIU4" "$W/bin/criu.real"
	run -0 runc --criu "$W/bin/criu" checkpoint --image-path "$W/img/final" --work-path "$W/workf" --parent-path ../pre2 "$CTR"
	refute_output --partial "still running"
	# dumped and killed: runc has removed the container
	run ! runc state "$CTR"
	# a container's DUMP is ckpt's own final dump: the memory continues ckpt's chain (a busy
	# shell's running state is refused now and then by the check before the freeze, which
	# then hands the DUMP to CRIU: the reason is printed)
	grep -q "DUMP of container pid .* by ckpt's own final dump" "$W/workf/dump.log" ||
		fail "the DUMP was not ckpt's own: $(grep -iE 'hand|refus|cannot' "$W/workf/dump.log" | head -n 5)"
	grep -q "notify post-dump" "$W/workf/dump.log"
	run -0 crit decode -i "$W/img/final/pagemap-1.img"
	echo "$output" | jq -e '[.entries[1:][] | select(.flags == 1)] | length > 0'
	local before
	before=$(cut -d' ' -f1 "$BUNDLE/rootfs/tmp/status")
	run -0 runc --criu "$W/bin/criu" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	[ "$(ctr_status)" = running ]
	retry 100 0.1 bash -c "[ \$(cut -d' ' -f1 '$BUNDLE/rootfs/tmp/status') -gt $((before + 2)) ]"
	run -0 cat "$BUNDLE/rootfs/tmp/status"
	assert_output --regexp '^[0-9]+ OK$'
}

@test "agent registry: an entry whose agent does not answer is no agent: ckpt's engine writes the layer" {
	mem_setup
	vcmd alloc a 16
	vcmd fill a 0 16 1
	mkdir -p "$W/img/1" "$W/work" "$W/ckpt-dir" "$W/agents"
	export CKPT_AGENT_REGISTRY="$W/agents"
	ln -s "$W/ckpt-dir" "$W/agents/pid-$VPID"
	run -0 "$CLIENT" "$FRONT" pre-dump -t "$VPID" -D "$W/img/1" -W "$W/work"
	assert_line --partial "type=13 success=1"
	grep -q "pre-dump: .* pages written" "$W/work/dump.log"
	run ! grep -q "pre-copy agent" "$W/work/dump.log"
}

@test "a container with ckpt's pre-copy agent (ckpt hook): runc pre-dumps are the agent's layers; the final checkpoint is ckpt's own dump on that chain (the agent hands over); restore by CRIU 4.2 resumes" {
	requires criu4
	make_bundle
	export CKPT_AGENT_REGISTRY="$W/agents"
	agent_hooks "$BUNDLE" 30m
	run_ctr 's=$(head -c 60000 /dev/urandom | base64 | tr -d "\n"); h=$(echo "$s" | md5sum); i=0
		while true; do [ "$(echo "$s" | md5sum)" = "$h" ] && r=OK || r=BAD; i=$((i+1)); echo "$i $r" >/tmp/s.new; mv /tmp/s.new /tmp/status; sleep 0.05; done'
	retry 100 0.1 grep -q OK "$BUNDLE/rootfs/tmp/status"
	retry 200 0.1 bash -o pipefail -c "'$CKPT' agent status --bundle '$BUNDLE' --json | jq -e '.state == \"converged\" or .state == \"precopy\"'"
	pre_dump 1
	grep -q "has a pre-copy agent ($BUNDLE/checkpoint)" "$W/work1/dump.log"
	[ -f "$W/img/pre1/inventory.img" ]
	pre_dump 2
	grep -q "parent_img ../pre1 is not used" "$W/work2/dump.log"
	# the agent's chain continues from the layer it wrote into pre1
	[ "$(readlink "$W/img/pre2/parent")" = ../pre1 ]
	run -0 "$CKPT" agent status --bundle "$BUNDLE" --json
	echo "$output" | jq -e --arg d "$W/img/pre2" '.latest == $d'
	[ "$(ctr_status)" = running ]
	mkdir -p "$W/bin"
	ln -s "$CKPT" "$W/bin/criu"
	ln -s "$CRIU4" "$W/bin/criu.real"
	run -0 runc --criu "$W/bin/criu" checkpoint --image-path "$W/img/final" --work-path "$W/workf" --parent-path ../pre2 "$CTR"
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/workf/dump.log"
	grep -q "handed over; the final dump continues its chain from $W/img/pre2" "$W/workf/dump.log"
	[ "$(readlink "$W/img/final/parent")" = ../pre2 ]
	[ ! -e "$CKPT_AGENT_REGISTRY/pid-$CPID" ]
	local before
	before=$(cut -d' ' -f1 "$BUNDLE/rootfs/tmp/status")
	run runc --criu "$W/bin/criu" restore -d --bundle "$BUNDLE" --image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	[ "$status" = 0 ] || {
		grep -iE 'error' "$W/workr/restore.log" >&2
		fail "runc restore: $output"
	}
	[ "$(ctr_status)" = running ]
	retry 100 0.1 bash -c "[ \$(cut -d' ' -f1 '$BUNDLE/rootfs/tmp/status') -gt $((before + 2)) ]"
	run -0 cat "$BUNDLE/rootfs/tmp/status"
	assert_output --regexp '^[0-9]+ OK$'
}
