#!/usr/bin/env bats
# bats file_tags=root
# Podman 4.3.1 with ckpt's criu front-end first in PATH: --pre-checkpoint by
# ckpt, --with-previous delegated to CRIU 4.2 (--tcp-established, an option ckpt's
# own dump does not implement, sends the DUMP there; container-podman.bats has
# ckpt's own final dumps), --print-stats, --export, and
# restore --import-previous/--import through CRIU 4.2.  Podman gets a store of
# its own (shared/docs/podman.md, "a store of its own"); packages:
# CKPT_PODMAN_DEPS=1 tests/install-deps.sh.

load helpers
load podman-helpers

P=ckpt-rpc-

setup_file() {
	command -v podman >/dev/null || return 0
	podman_fe_setup "$BATS_FILE_TMPDIR" "$P"
}

teardown_file() {
	command -v podman >/dev/null || return 0
	podman_store_teardown "$P"
}

setup() {
	requires root
	command -v podman >/dev/null || skip "test requires podman (CKPT_PODMAN_DEPS=1 tests/install-deps.sh)"
	T=$BATS_FILE_TMPDIR
	podman_fe_env "$T"
	C="${P}${BATS_TEST_NUMBER}"
}

teardown() {
	[ -v C ] || return 0
	podman rm -f -t0 "$C" "$C-r" >/dev/null 2>&1 || true
	rm -f "$T/bin/criu.real"
}

start_counter() {
	podman run -d --name "$C" "localhost/${P}busybox" \
		sh -c 'trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null 3>&-
	BUNDLE=$(podman inspect -f '{{.StaticDir}}' "$C")
}

@test "podman --pre-checkpoint twice by ckpt (container keeps running), --print-stats shows ckpt's figures" {
	start_counter
	run -0 pm container checkpoint --pre-checkpoint "$C"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = running ]
	[ -f "$BUNDLE/pre-checkpoint/ckpt-layer" ]
	run -0 pm container checkpoint --pre-checkpoint --print-stats "$C"
	local json=$output
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = running ]
	# the figures podman prints are those of ckpt's layer
	local written
	written=$(sed -n 's/.*pre-dump: \([0-9]*\) pages written.*/\1/p' "$BUNDLE/dump.log")
	[ -n "$written" ]
	echo "$json" | jq -e --argjson w "$written" '.container_statistics[0].criu_statistics.pages_written == $w'
	grep -q "request PRE_DUMP" "$BUNDLE/dump.log"
	# written into the same directory twice: one whole layer, no leftovers
	[ ! -e "$BUNDLE/pre-checkpoint/parent" ]
	run -0 crit decode -i "$BUNDLE/pre-checkpoint/inventory.img"
}

@test "podman --with-previous --tcp-established (a DUMP for CRIU) without a real CRIU: podman fails with the RPC error, the container keeps running" {
	start_counter
	run -0 pm container checkpoint --pre-checkpoint "$C"
	run -125 pm container checkpoint --with-previous --tcp-established --keep "$C"
	assert_output --partial "criu failed: type DUMP"
	grep -q "DUMP needs a real CRIU, and no real CRIU is configured" "$BUNDLE/dump.log"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = running ]
}

@test "podman: pre-checkpoint by ckpt, --with-previous --tcp-established --export delegated to CRIU 4.2, restore --import-previous/--import; the counter goes on" {
	requires criu4
	ln -sf "$CRIU4" "$T/bin/criu.real"
	start_counter
	run -0 pm container checkpoint --pre-checkpoint "$C"
	run -0 pm container checkpoint --pre-checkpoint --export "$BATS_TEST_TMPDIR/pre.tar" "$C"
	run -0 tar -tf "$BATS_TEST_TMPDIR/pre.tar"
	assert_line "pre-checkpoint/inventory.img"
	run -0 pm container checkpoint --with-previous --tcp-established --keep --print-stats --export "$BATS_TEST_TMPDIR/final.tar" "$C"
	echo "$output" | jq -e '.container_statistics[0].criu_statistics.pages_written > 0'
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = exited ]
	grep -q "ckpt's criu front-end: DUMP handed to .*criu.real: the parent ../pre-checkpoint was written by ckpt's uffd-wp tracker" "$BUNDLE/dump.log"
	# tcp_established is CRIU's (container-podman.bats has ckpt's own dumps), and it says why
	grep -q "a container ckpt does not dump itself: the request asks for options ckpt does not implement (tcp_established" "$BUNDLE/ckpt-front-end.log"
	[ "$(readlink "$BUNDLE/checkpoint/parent")" = ../pre-checkpoint ]
	local last
	last=$(tail -n1 "$BUNDLE/ctr.log" | awk '{print $NF}')
	[ "$last" -gt 0 ]
	run -0 pm container restore --import-previous "$BATS_TEST_TMPDIR/pre.tar" --import "$BATS_TEST_TMPDIR/final.tar" -n "$C-r" --print-stats
	echo "$output" | jq -e '.container_statistics[0].criu_statistics.pages_restored > 0'
	[ "$(podman inspect -f '{{.State.Status}}' "$C-r")" = running ]
	retry 100 0.1 bash -c "[ \$(podman logs '$C-r' | tail -n1) -gt $((last + 2)) ]"
	# the restore printed nothing into the container's stdout/stderr (the counter only)
	run -0 podman logs "$C-r"
	refute_output --regexp '[^0-9[:space:]]'
}

@test "podman --runtime-flag criu=FRONT-END: runc's calls reach ckpt (podman's own checks still use the criu in PATH)" {
	requires criu4
	# podman's own VERSION and mem_track checks run `criu` from PATH: here CRIU 4.2
	local real="$BATS_TEST_TMPDIR/real"
	mkdir -p "$real"
	ln -s "$CRIU4" "$real/criu"
	start_counter
	PATH="$real:$PATH" run -0 podman --runtime-flag "criu=$T/bin/criu" container checkpoint --pre-checkpoint "$C"
	grep -q "ckpt's criu front-end, pid .*: request PRE_DUMP" "$BUNDLE/dump.log"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = running ]
}

@test "podman checkpoint --tcp-established and restore (no pre-checkpoint): both handed to CRIU 4.2 in place" {
	requires criu4
	ln -sf "$CRIU4" "$T/bin/criu.real"
	start_counter
	run -0 pm container checkpoint --tcp-established --keep "$C"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = exited ]
	# CRIU itself wrote the log (exec'd in place: no relay, no note of ckpt's)
	grep -q "Dumping finished successfully" "$BUNDLE/dump.log"
	run ! grep -q "ckpt's criu front-end" "$BUNDLE/dump.log"
	local last
	last=$(tail -n1 "$BUNDLE/ctr.log" | awk '{print $NF}')
	run -0 pm container restore --tcp-established --keep "$C"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = running ]
	grep -q "Restore finished successfully" "$BUNDLE/restore.log"
	retry 100 0.1 bash -c "[ \$(podman logs '$C' | tail -n1) -gt $((last + 2)) ]"
}
