#!/usr/bin/env bats
# bats file_tags=root
#
# A runc 1.1.5 container with a terminal (`terminal: true`, --console-socket held by
# tests/victims/console-recv, whose master n goes to $W/tty.n) dumped by ckpt's own final
# dump as CRIU does with orphan_pts_master: a TTY file entry with a REG for /dev/pts/0 in the
# container's devpts, tty-info.img, no tty-data.  Judged by CRIU 4.2 through `runc restore
# --console-socket`: CRIU opens a new pty, sends its master with NOTIFY orphan-pts-master, runc
# forwards it to the receiver (master 2), and the container's output continues there from the
# dumped counter; input typed on the new master reaches the container.
# Refusals: what ckpt does not cover is listed up front, the container keeps running untouched.

load helpers
load ctr-helpers

setup() {
	requires root runc criu4 crit
	[ -x /bin/busybox ] || skip "test requires busybox (busybox-static)"
	W="$BATS_TEST_TMPDIR"
	BUNDLE="$W/bundle"
	mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/tmp" "$W/img"
	cp /bin/busybox "$BUNDLE/rootfs/bin/"
	local c
	for c in sh sleep cat md5sum head base64 tr mv stty; do ln -s busybox "$BUNDLE/rootfs/bin/$c"; done
	(cd "$BUNDLE" && runc spec)
	CTR="cttty-$$-$BATS_TEST_NUMBER"
	# a unix socket path must fit in 108 bytes
	SOCK="$W/console.sock"
	[ "${#SOCK}" -lt 100 ] || SOCK=$(mktemp -u "/tmp/cttty-$$-XXXXXX.sock")
	mkfifo "$W/in"
	start_victim console-recv "$SOCK" "$W/tty" "$W/in"
}

teardown() {
	runc delete -f "$CTR" >/dev/null 2>&1 || true
	kill_victims
	rm -f "$SOCK"
}

# The loop prints a tick per round on its tty and answers a line of input with "got LINE size
# ROWS COLS" (the tty's window size);
# with "mem" it also checks a 110 kB string in its memory each round (/tmp/status).
LOOP='i=0; while :; do i=$((i+1)); echo $i > /tmp/n; echo "tick $i"; if read -t 0.1 l; then echo "got $l size $(stty size)"; fi; done'
MEM_LOOP='s=$(head -c 110000 /dev/urandom | base64 | tr -d "\n"); h=$(echo "$s" | md5sum); i=0
	while :; do [ "$(echo "$s" | md5sum)" = "$h" ] && r=OK || r=BAD; i=$((i+1)); echo "$i $r" >/tmp/s.new; mv /tmp/s.new /tmp/status
	echo $i > /tmp/n; echo "tick $i"; if read -t 0.05 l; then echo "got $l size $(stty size)"; fi; done'

# run_tty_container [EXTRA]: the container with a terminal, detached, its console on $SOCK;
# EXTRA is prepended to the loop.  Sets CPID.
run_tty_container() {
	jq --arg c "${1:-}$LOOP" '.process.terminal = true | .root.readonly = false |
		.process.args = ["/bin/sh", "-c", $c]' "$BUNDLE/config.json" >"$BUNDLE/config.new"
	mv "$BUNDLE/config.new" "$BUNDLE/config.json"
	runc run -d --console-socket "$SOCK" --bundle "$BUNDLE" "$CTR" >/dev/null 2>&1 </dev/null 3>&-
	CPID=$(runc state "$CTR" | jq .pid)
	[ "$CPID" -gt 0 ]
	retry 100 0.1 grep -q '^tick 3' "$W/tty.1"
}

counter() {
	cat "$BUNDLE/rootfs/tmp/n" 2>/dev/null || echo 0
}

counter_above() {
	local c
	c=$(counter)
	[ -n "$c" ] && [ "$c" -gt "$1" ]
}

# counter_now: the counter, read again while the loop is caught rewriting the file
counter_now() {
	local c i
	for i in $(seq 50); do
		c=$(counter)
		[ -n "$c" ] && echo "$c" && return 0
		sleep 0.02
	done
	echo 0
}

# ticks N: the tick numbers master N's file holds, in order.
ticks() {
	tr -d '\r' <"$W/tty.$1" | awk '$1 == "tick" {print $2}'
}

# tty_has N REGEX: master N's output has a line matching REGEX (read again at each call).
tty_has() {
	grep -q "$2" "$W/tty.$1"
}

# tick_above N: master 1's last tick is above N.
tick_above() {
	[ "$(ticks 1 | tail -n1)" -gt "$1" ]
}

# restored_tty_continues ROWS COLS: the restored container's first tick on the new master (2) is the
# one after the last tick on the dumped one (1); a fresh start would print "tick 1".
restored_tty_continues() {
	retry 100 0.1 grep -q '^MASTER 2' "$W/console-recv.out"
	retry 100 0.1 grep -q '^tick' "$W/tty.2"
	local last first
	last=$(ticks 1 | tail -n1)
	first=$(ticks 2 | head -n1)
	echo "last tick on the dumped tty: $last, first on the restored one: $first" >&2
	[ "$first" = $((last + 1)) ]
	# input on the new master reaches the restored container, and its answer comes back, with
	# the window size the dumped tty had (CRIU sets the new one from tty-info.img).  busybox's
	# `read -t` may drop what it read of a line when its timeout ends mid-line: a line whose
	# answer does not come is sent again, under a new name.
	local i
	for i in 1 2 3 4 5; do
		echo "hello-$$-$i" >"$W/in"
		retry 30 0.1 tty_has 2 "^got hello-$$-$i size $1 $2"$'\r' && return 0
	done
	fail "no answer to the input on the restored tty: $(cat -A "$W/tty.2" | tail -n 20)"
}

@test "ckpt dump --cgroup --orphan-pts-master of a container with a tty: TTY entry, REG /dev/pts/0 in its devpts, tty-info.img as CRIU; runc restore --console-socket with CRIU 4.2 continues on the new pty" {
	run_tty_container 'stty rows 30 cols 100; '
	[ "$(readlink "/proc/$CPID/fd/1")" = /dev/pts/0 ]
	local devpts_mnt
	devpts_mnt=$(awk '$5 == "/dev/pts" {print $1}' "/proc/$CPID/mountinfo")
	ext_mnts
	ckpt_run -0 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --manage-cgroups \
		--orphan-pts-master --descriptors "${EXT[@]}" -D "$W/img" -o "$W/dump.log"
	[ ! -e "$W/img/tty-data.img" ]
	# tty-info.img: the pty slave 0, session and foreground group of the container's init (1)
	run -0 crit decode -i "$W/img/tty-info.img"
	echo "$output" | jq -e '.entries | length == 1 and (.[0] | .id == 0 and .type == "PTY" and .pty.index == 0 and .sid == 1 and .pgrp == 1 and .rdev == 34816 and .gid == 5 and .locked == false and .packet_mode == false)'
	# the termios as the tty had it: ECHO and ICANON on, ^C as VINTR (the first c_cc byte); the
	# words past the kernel's 19 control characters are 0 (CRIU 4.2 leaves heap garbage there)
	echo "$output" | jq -e '.entries[0].winsize | .ws_row == 30 and .ws_col == 100'
	echo "$output" | jq -e '.entries[0].termios | (.c_lflag % 16 >= 8) and ((.c_lflag / 2 | floor) % 2 == 1) and (.c_cc | length == 19) and (.c_cc[0] % 256 == 3) and (.c_cc[5:] | all(. == 0))'
	# files.img: TTY -> REG /dev/pts/0 (before it) on the container's devpts mount
	run -0 crit decode -i "$W/img/files.img"
	echo "$output" | jq -e '[.entries[] | select(.type == "TTY")] | length == 1 and .[0].tty.tty_info_id == 0'
	echo "$output" | jq -e '.entries as $e | ($e | map(.type) | index("TTY")) as $t | ($e | map(.id) | index($e[$t].tty.regf_id)) < $t'
	echo "$output" | jq -e --argjson m "$devpts_mnt" '.entries as $e | ($e[] | select(.type == "TTY") | .tty.regf_id) as $r | $e[] | select(.type == "REG" and .id == $r) | .reg.name == "/dev/pts/0" and .reg.mnt_id == $m and .reg.mode == 8592'
	run -0 crit decode -i "$W/img/mountpoints-13.img"
	echo "$output" | jq -e --argjson m "$devpts_mnt" 'any(.entries[]; .mnt_id == $m and .mountpoint == "/dev/pts")'
	# the controlling tty's session is the init's, as in pstree.img
	run -0 crit decode -i "$W/img/pstree.img"
	echo "$output" | jq -e '.entries[0] | .pid == 1 and .sid == 1 and .pgid == 1'
	run -0 crit decode -i "$W/img/fdinfo-2.img"
	echo "$output" | jq -e '[.entries[] | select(.fd <= 2) | .type] == ["TTY", "TTY", "TTY"]'
	retry 100 0.05 bash -c "! kill -0 $CPID 2>/dev/null"
	local n0
	n0=$(counter)
	runc delete "$CTR"

	run -0 runc --criu "$CRIU4" restore -d --console-socket "$SOCK" --bundle "$BUNDLE" \
		--image-path "$W/img" --work-path "$W/work" "$CTR" </dev/null 3>&-
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	restored_tty_continues 30 100
	retry 100 0.1 counter_above "$n0"
	# the restored init has the new pty (index 0 of its new devpts) as its controlling tty
	local rpid
	rpid=$(runc state "$CTR" | jq .pid)
	[ "$(awk '{sub(/.*\) /, ""); print $5}' "/proc/$rpid/stat")" = 34816 ]
	[ "$(readlink "/proc/$rpid/fd/0")" = /dev/pts/0 ]
}

@test "runc --criu build/criu with a tty: two pre-dumps, the final checkpoint by ckpt (not delegated), runc restore --console-socket by CRIU 4.2: output continues on the new pty, memory check passes" {
	front_end
	LOOP=$MEM_LOOP
	run_tty_container 'stty rows 40 cols 120; '
	retry 100 0.1 grep -q OK "$BUNDLE/rootfs/tmp/status"
	fe_checkpoint pre1 --pre-dump
	fe_checkpoint pre2 --pre-dump --parent-path ../pre1
	fe_checkpoint final --parent-path ../pre2
	grep -q "DUMP of container pid $CPID by ckpt's own final dump" "$W/work-final/dump.log"
	if grep -q "DUMP handed to" "$W/work-final/ckpt-front-end.log" 2>/dev/null; then
		fail "the DUMP was delegated: $(cat "$W/work-final/ckpt-front-end.log")"
	fi
	[ -e "$W/img/final/tty-info.img" ]
	[ ! -e "$W/img/final/tty-data.img" ]
	run -0 crit decode -i "$W/img/final/files.img"
	echo "$output" | jq -e '[.entries[] | select(.type == "TTY")] | length == 1'
	run ! runc state "$CTR"
	local n0
	n0=$(counter)
	run -0 runc --criu "$FE" restore -d --console-socket "$SOCK" --bundle "$BUNDLE" \
		--image-path "$W/img/final" --work-path "$W/workr" "$CTR" </dev/null 3>&-
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	restored_tty_continues 40 120
	retry 100 0.1 counter_above "$((n0 + 2))"
	grep -qE '^[0-9]+ OK$' "$BUNDLE/rootfs/tmp/status"
}

@test "ckpt dump of a container with a tty refuses what it does not cover, with the whole list: no --orphan-pts-master, the console opened as /dev/console, a pty master inside; the container keeps running untouched" {
	run_tty_container 'exec 3</dev/console 4<>/dev/ptmx; '
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net -D "$W/img/a"
	assert_output --partial "fd 0: terminal /dev/pts/0: its master is outside the tree; give --orphan-pts-master"
	assert_output --partial "fd 3: terminal /dev/console: its master is outside the tree"
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --orphan-pts-master -D "$W/img/b"
	assert_output --partial "fd 3: terminal /dev/console (pts 0) opened under a name other than its /dev/pts one"
	assert_output --partial "fd 4: pty master /dev/pts/ptmx (a master inside the tree)"
	refute_output --partial "fd 0:"
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	untraced "$CPID"
	[ ! -e "$W/img/a" ]
	[ ! -e "$W/img/b" ]
	# still running and still writing to its tty
	local n
	n=$(ticks 1 | tail -n1)
	retry 100 0.1 tick_above "$n"
}

@test "ckpt dump of a container whose tty hung up (its master closed) refuses it with the reason; the container keeps running untouched" {
	# the shell ignores the hangup, so the container lives on with a hung-up console
	run_tty_container 'trap "" HUP; '
	kill -KILL "$VICTIM_PID"
	wait "$VICTIM_PID" 2>/dev/null || true
	# without its tty the loop spins: /tmp/n may be caught between truncate and write
	local n
	n=$(counter_now)
	retry 100 0.1 counter_above "$n"
	ckpt_run -1 dump --cgroup "/sys/fs/cgroup/freezer/$CTR" --empty-ns net --orphan-pts-master -D "$W/img/h"
	assert_output --partial "fd 0: terminal /dev/pts/0: hung up (its master was closed)"
	[ ! -e "$W/img/h" ]
	[ "$(runc state "$CTR" | jq -r .status)" = running ]
	untraced "$CPID"
	n=$(counter_now)
	retry 100 0.1 counter_above "$n"
}
