#!/usr/bin/env bats
# bats file_tags=root
# Podman 4.3.1 through ckpt's own final dump (issue 15): ckpt's criu front-end first in PATH
# (CRIU 4.2 as criu.real for RESTORE), a busybox container under Podman's default seccomp
# profile.  --pre-checkpoint twice, then --with-previous --export: the final dump is ckpt's,
# on ckpt's chain (ckpt-front-end.log says so); restore --import goes to CRIU 4.2, the counter
# continues and the memory check passes (the pre-checkpoint imported with --import-previous, as
# Podman wants for a --with-previous export); --print-stats shows ckpt's frozen time.  A plain
# checkpoint (no pre-checkpoint) and restore go the same way.  Podman gets a store of its own
# (shared/docs/podman.md); packages: CKPT_PODMAN_DEPS=1 tests/install-deps.sh.

load helpers
load podman-helpers

P=ckpt-ctp-

setup_file() { podman_ctr_setup_file; }
teardown_file() { podman_ctr_teardown_file; }
setup() { podman_ctr_setup; }

teardown() {
	[ -v C ] || return 0
	podman rm -f -t0 "$C" "$C-r" >/dev/null 2>&1 || true
}

# The counter (stdout, read with podman logs) and a memory check: 110 KB of random text
# whose md5 is compared on every round, its verdict in /tmp/status.
LOOP='trap "exit 0" TERM; s=$(head -c 110000 /dev/urandom | base64 | tr -d "\n"); h=$(echo "$s" | md5sum); i=0
	while :; do [ "$(echo "$s" | md5sum)" = "$h" ] && r=OK || r=BAD; i=$((i+1)); echo "$i $r" >/tmp/s.new; mv /tmp/s.new /tmp/status; echo $i; sleep 0.1; done'

# seccomp_of PID: "MODE FILTERS" of /proc/PID/status.
seccomp_of() {
	awk '/^Seccomp:/ {m = $2} /^Seccomp_filters:/ {n = $2} END {print m, n}' "/proc/$1/status"
}

# start_counter [PODMAN-RUN-ARGS...]
start_counter() {
	podman run -d --name "$C" "$@" "localhost/${P}busybox" sh -c "$LOOP" >/dev/null 3>&-
	CPID=$(podman inspect -f '{{.State.Pid}}' "$C")
	BUNDLE=$(podman inspect -f '{{.StaticDir}}' "$C")
	retry 100 0.1 bash -c "podman exec '$C' cat /tmp/status | grep -q OK"
	SECCOMP0=$(seccomp_of "$CPID")
	[[ "$SECCOMP0" == "2 "[1-9]* ]] || fail "not under Podman's seccomp profile: $SECCOMP0"
}

# last NAME: the last counter value in NAME's log.
last() {
	podman logs "$1" | tail -n1 | awk '{print $1}'
}

# status NAME: the memory check's last line ("N OK").
status() {
	podman exec "$1" cat /tmp/status
}

# restored_ok NAME N0: NAME runs, counts on past N0 from there (not from 1), memory check OK.
restored_ok() {
	[ "$(podman inspect -f '{{.State.Status}}' "$1")" = running ]
	retry 100 0.1 bash -c "[ \$(podman logs '$1' | tail -n1) -gt $(($2 + 2)) ]"
	local n r
	read -r n r < <(status "$1")
	[ "$n" -gt "$2" ] && [ "$r" = OK ]
	# still under Podman's profile: the same Seccomp: 2 and number of filters as at the start
	[ "$(seccomp_of "$(podman inspect -f '{{.State.Pid}}' "$1")")" = "$SECCOMP0" ]
}

# ckpt_dumped PARENT: ckpt-front-end.log says the DUMP of $CPID was ckpt's own, on PARENT.
ckpt_dumped() {
	grep -qxF "ckpt's criu front-end: DUMP of container pid $CPID by ckpt's own final dump, parent $1" "$BUNDLE/ckpt-front-end.log" ||
		fail "the DUMP was not ckpt's: $(cat "$BUNDLE/ckpt-front-end.log" 2>&1)"
}

# stats_are_ckpts JSON LOG: --print-stats shows the figures of ckpt's dump in LOG.
stats_are_ckpts() {
	local froze frozen written
	froze=$(sed -n 's/.*froze [0-9]* tasks .* in \([0-9]*\) us$/\1/p' "$2" | tail -n1)
	frozen=$(sed -n 's/.*dump: [0-9]* pages written, [0-9]* in parent, frozen \([0-9]*\) us$/\1/p' "$2")
	written=$(sed -n 's/.*dump: \([0-9]*\) pages written, .*/\1/p' "$2")
	[ -n "$froze" ] && [ -n "$frozen" ] && [ -n "$written" ]
	echo "$1" | jq -e --argjson a "$froze" --argjson f "$frozen" --argjson w "$written" \
		'.container_statistics[0].criu_statistics | .freezing_time == $a and .frozen_time == $f and .pages_written == $w and .pages_scanned >= $w and .memdump_time <= .frozen_time'
	echo "# ckpt's final dump: frozen $frozen us, $written pages written" >&3
}


@test "podman under its default seccomp profile: --pre-checkpoint twice, --with-previous --export by ckpt's own dump on that chain, restore --import-previous/--import by CRIU 4.2" {
	start_counter
	run -0 pm container checkpoint --pre-checkpoint "$C"
	# Podman's export of a --with-previous checkpoint holds checkpoint/ only (its parent link
	# names ../pre-checkpoint): the pre-checkpoint travels in a tar of its own
	run -0 pm container checkpoint --pre-checkpoint --export "$BATS_TEST_TMPDIR/pre.tar" "$C"
	run -0 pm container checkpoint --with-previous --keep --print-stats --export "$BATS_TEST_TMPDIR/final.tar" "$C"
	local json=$output n0
	[ "$(podman inspect -f '{{.State.Status}}' "$C")" = exited ]
	# ckpt wrote it, on its own chain: no delegation, the memory's parent is the pre-checkpoint
	ckpt_dumped ../pre-checkpoint
	run ! grep -q "DUMP handed to" "$BUNDLE/ckpt-front-end.log"
	grep -q "seccomp.img: 1 filter entries" "$BUNDLE/dump.log"
	[ "$(readlink "$BUNDLE/checkpoint/parent")" = ../pre-checkpoint ]
	run -0 crit decode -i "$BUNDLE/checkpoint/pagemap-1.img"
	echo "$output" | jq -e '[.entries[1:][] | select(.flags == 1)] | length > 0'
	stats_are_ckpts "$json" "$BUNDLE/dump.log"
	n0=$(last "$C")
	run -0 pm container restore --keep --import-previous "$BATS_TEST_TMPDIR/pre.tar" --import "$BATS_TEST_TMPDIR/final.tar" -n "$C-r"
	grep -q "Restore finished successfully" "$(podman inspect -f '{{.StaticDir}}' "$C-r")/restore.log"
	restored_ok "$C-r" "$n0"
}

@test "podman checkpoint and restore without a pre-checkpoint: ckpt's own dump, CRIU 4.2's restore in place" {
	start_counter
	run -0 pm container checkpoint --keep --print-stats "$C"
	local json=$output n0
	ckpt_dumped "(none)"
	stats_are_ckpts "$json" "$BUNDLE/dump.log"
	n0=$(last "$C")
	run -0 pm container restore --keep "$C"
	grep -q "Restore finished successfully" "$BUNDLE/restore.log"
	restored_ok "$C" "$n0"
}

@test "podman run --cgroupns=private (its default on cgroup v2): checkpoint by ckpt's own dump, restored by CRIU 4.2 into a cgroup namespace of its own again" {
	start_counter --cgroupns=private
	[ "$(readlink "/proc/$CPID/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ]
	run -0 podman exec "$C" cat /proc/self/cgroup
	echo "$output" | awk -F: '$3 != "/" { exit 1 }'
	run -0 pm container checkpoint --keep "$C"
	ckpt_dumped "(none)"
	local n0 rpid
	n0=$(last "$C")
	run -0 pm container restore --keep "$C"
	restored_ok "$C" "$n0"
	rpid=$(podman inspect -f '{{.State.Pid}}' "$C")
	[ "$(readlink "/proc/$rpid/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ]
	run -0 podman exec "$C" cat /proc/self/cgroup
	echo "$output" | awk -F: '$3 != "/" { exit 1 }'
}
