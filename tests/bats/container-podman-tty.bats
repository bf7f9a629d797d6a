#!/usr/bin/env bats
# bats file_tags=root
# Podman 4.3.1 with a terminal (`podman run -dt`: conmon holds the pty master) through ckpt's
# own final dump (issue 15): ckpt's criu front-end first in PATH (CRIU 4.2 as criu.real for
# RESTORE), as in container-podman.bats.  runc sends --orphan-pts-master; the dump is ckpt's
# (ckpt-front-end.log), `podman container restore` goes to CRIU 4.2, the counter continues in
# podman logs from the dumped value, and the restored shell still has /dev/pts/0 as its
# controlling tty.  With -dit, input typed through conmon's attach socket reaches the shell
# across --pre-checkpoint, --export and restore --import.  Packages: CKPT_PODMAN_DEPS=1 tests/install-deps.sh.

load helpers
load podman-helpers

P=ckpt-cpt-

setup_file() { podman_ctr_setup_file; }
teardown_file() { podman_ctr_teardown_file; }
setup() { podman_ctr_setup; }

teardown() {
	[ -v C ] || return 0
	podman rm -f -t0 "$C" >/dev/null 2>&1 || true
}

# The counter on the tty, each line with the loop's tty as `tty` names it and its size.
LOOP='trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo "$i $(tty) $(stty size)"; sleep 0.1; done'

# last NAME: the last counter value in NAME's log (the tty gives CRLF line ends).
last() {
	podman logs "$1" | tr -d '\r' | tail -n1 | awk '{print $1}'
}

@test "podman run -dt: ckpt's own final dump of the tty container, restore by CRIU 4.2, the counter goes on on its tty" {
	pm run -dt --name "$C" "localhost/${P}busybox" sh -c "$LOOP" >/dev/null 3>&-
	CPID=$(podman inspect -f '{{.State.Pid}}' "$C")
	BUNDLE=$(podman inspect -f '{{.StaticDir}}' "$C")
	retry 100 0.1 bash -c "[ \"\$(podman logs '$C' | tr -d '\r' | tail -n1 | awk '{print \$1}')\" -gt 2 ]"
	# a window size of its own, to be carried by tty-info.img
	podman exec "$C" stty -F /dev/pts/0 rows 33 cols 77
	retry 50 0.1 bash -c "podman logs '$C' | tr -d '\r' | tail -n1 | grep -q ' /dev/pts/0 33 77\$'"
	run -0 pm container checkpoint --keep "$C"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = exited ]
	grep -qxF "ckpt's criu front-end: DUMP of container pid $CPID by ckpt's own final dump, parent (none)" "$BUNDLE/ckpt-front-end.log" ||
		fail "the DUMP was not ckpt's: $(cat "$BUNDLE/ckpt-front-end.log" 2>&1)"
	run ! grep -q "DUMP handed to" "$BUNDLE/ckpt-front-end.log"
	run -0 crit decode -i "$BUNDLE/checkpoint/tty-info.img"
	echo "$output" | jq -e '.entries[0].type == "PTY" and .entries[0].pty.index == 0 and .entries[0].winsize.ws_row == 33'
	local n0
	n0=$(last "$C")
	run -0 pm container restore --keep "$C"
	grep -q "Restore finished successfully" "$BUNDLE/restore.log"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = running ]
	retry 100 0.1 bash -c "[ \"\$(podman logs '$C' | tr -d '\r' | tail -n1 | awk '{print \$1}')\" -gt $((n0 + 2)) ]"
	# counted on from the dumped value (not from 1), still on its tty
	run -0 bash -c "podman logs '$C' | tr -d '\r' | awk -v n=$n0 '\$1 == n + 1' | head -n1"
	[ -n "$output" ]
	podman logs "$C" | tr -d '\r' | tail -n1 | grep -q ' /dev/pts/0 33 77$'
	run -0 podman exec "$C" sh -c 'cat /proc/1/stat'
	# tty_nr (field 7) is a pts (major 136), the session's foreground group is set
	echo "$output" | awk '{exit !(int($7 / 256) == 136 && $8 > 0)}'
}

# send NAME TEXT: TEXT typed on NAME's terminal, through conmon's attach socket as `podman
# attach` does (a SOCK_SEQPACKET socket in its static dir; relative: the path is too long)
send() {
	python3 - "$(podman inspect -f '{{.StaticDir}}' "$1")" "$2" <<'EOF'
import os, socket, sys
os.chdir(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("attach")
s.sendall(sys.argv[2].encode())
s.close()
EOF
}

# typed NAME N WORD: NAME's log shows the shell's answer to the N-th line typed, WORD, on its tty.
typed() {
	retry 100 0.1 bash -c "podman logs '$1' | tr -d '\r' | grep -qx 'got $2 $3 /dev/pts/0'"
}

@test "podman run -dit: typed input reaches the shell, --pre-checkpoint twice (one exported), --with-previous --export by ckpt's own dump, restore --import-previous/--import by CRIU 4.2: input typed on the new terminal reaches the restored shell" {
	pm run -dit --name "$C" "localhost/${P}busybox" \
		sh -c 'i=0; while read l; do i=$((i+1)); echo "got $i $l $(tty)"; done' >/dev/null 3>&-
	CPID=$(podman inspect -f '{{.State.Pid}}' "$C")
	BUNDLE=$(podman inspect -f '{{.StaticDir}}' "$C")
	send "$C" $'one\n'
	typed "$C" 1 one
	run -0 pm container checkpoint --pre-checkpoint "$C"
	run -0 pm container checkpoint --pre-checkpoint --export "$BATS_TEST_TMPDIR/pre.tar" "$C"
	send "$C" $'two\n'
	typed "$C" 2 two
	run -0 pm container checkpoint --with-previous --keep --export "$BATS_TEST_TMPDIR/final.tar" "$C"
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = exited ]
	grep -qxF "ckpt's criu front-end: DUMP of container pid $CPID by ckpt's own final dump, parent ../pre-checkpoint" "$BUNDLE/ckpt-front-end.log" ||
		fail "the DUMP was not ckpt's: $(cat "$BUNDLE/ckpt-front-end.log" 2>&1)"
	run -0 crit decode -i "$BUNDLE/checkpoint/tty-info.img"
	echo "$output" | jq -e '.entries[0].type == "PTY" and .entries[0].pty.index == 0'
	run -0 pm container restore --keep --import-previous "$BATS_TEST_TMPDIR/pre.tar" \
		--import "$BATS_TEST_TMPDIR/final.tar" -n "$C-r"
	grep -q "Restore finished successfully" "$(podman inspect -f '{{.StaticDir}}' "$C-r")/restore.log"
	[ "$(podman inspect -f '{{.State.Status}}' "$C-r")" = running ]
	# the shell's count goes on from 2: the same process, reading the new terminal
	send "$C-r" $'three\n'
	typed "$C-r" 3 three
	podman rm -f -t0 "$C-r" >/dev/null
}
