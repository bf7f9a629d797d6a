#!/usr/bin/env bats
# bats file_tags=root
# Podman 4.3.1 with a terminal (`podman run -dt`: conmon holds the pty master) through ckpt's
# own final dump (issue 15): ckpt's criu front-end first in PATH (CRIU 4.2 as criu.real for
# RESTORE), as in container-podman.bats.  runc sends --orphan-pts-master; the dump is ckpt's
# (ckpt-front-end.log), `podman container restore` goes to CRIU 4.2, the counter continues in
# podman logs from the dumped value, and the restored shell still has /dev/pts/0 as its
# controlling tty.  Packages: CKPT_PODMAN_DEPS=1 tests/install-deps.sh.

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
