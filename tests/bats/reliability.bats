#!/usr/bin/env bats
# Reliability (issue 17): every CK_FAULT point fails cleanly, SIGKILL of ckpt at random moments
# never hurts the target, a full disk or read-only image directory fails cleanly, two runs on one
# target are refused, parent loops are refused, image modes are private, nobody cannot reach
# root's tasks.  CKPT_REL_KILLS (the pre-dump loop) and CKPT_REL_INJECT_KILLS (the exec and
# dump loops) set the kill counts (default 10 each: 30 in make check); make reliability
# raises them.  With CKPT_REL_STATS=FILE each check appends "KIND ok|bad" lines.

load helpers
load mem-helpers

setup() {
	requires root ptrace
	mem_setup
	KILLS=${CKPT_REL_KILLS:-10}
}

teardown() {
	[ -n "${RO_MNT:-}" ] && { umount "$RO_MNT" 2>/dev/null || umount -l "$RO_MNT" 2>/dev/null; }
	mem_teardown
	return 0
}

stat_line() {
	[ -n "${CKPT_REL_STATS:-}" ] && echo "$*" >>"$CKPT_REL_STATS"
	return 0
}

# The fds of $1 as "fd -> target" lines (no ckpt leftovers: userfaultfd, pipes of ours...).
fds_of() {
	local f
	for f in /proc/"$1"/fd/*; do echo "${f##*/} $(readlink "$f")"; done | sort
}

# target_clean PID FDS_BEFORE: running, untraced, no extra fd, no userfaultfd, no parasite mapping.
target_clean() {
	local pid=$1 before=$2 st
	retry 100 0.02 untraced "$pid" || { echo "pid $pid still traced" >&2; return 1; }
	st=$(proc_state "$pid")
	[ "$st" != t ] && [ "$st" != T ] && [ "$st" != D ] || { echo "pid $pid state $st" >&2; return 1; }
	[ "$(fds_of "$pid")" = "$before" ] || { echo "fds changed:" >&2; diff <(echo "$before") <(fds_of "$pid") >&2; return 1; }
	! grep -q userfaultfd <(fds_of "$pid") || { echo "userfaultfd left" >&2; return 1; }
	! grep -qE 'rwxp|parasite' "/proc/$pid/maps" || { echo "parasite mapping left:" >&2; grep -E 'rwxp|parasite' "/proc/$pid/maps" >&2; return 1; }
	if [ -e "/sys/fs/cgroup/$(awk -F:: '/^0::/ {print $2}' "/proc/$pid/cgroup")/cgroup.events" ]; then
		! grep -q '^frozen 1' "/sys/fs/cgroup/$(awk -F:: '/^0::/ {print $2}' "/proc/$pid/cgroup")/cgroup.events"
	fi
}

# Start ckpt in the background with CK_FAULT=POINT:pause and wait until it is paused.
ckpt_paused() {
	local log="$BATS_TEST_TMPDIR/ckpt.err"
	CK_FAULT="$1:pause" "$CKPT" "${@:2}" >/dev/null 2>"$log" 3>&- &
	CKPT_PID=$!
	retry 200 0.02 grep -q "paused at $1" "$log" || fail "ckpt did not pause at $1: $(cat "$log")"
}

layer_sum() { (cd "$1" && sha256sum ./* | sha256sum); }

no_half_layer() {
	[ ! -e "$IMG/$1" ] || { echo "layer $1 exists" >&2; return 1; }
}

# fault_case POINT CMD...: inject POINT (fail) into `ckpt CMD`; everything must stay clean.
fault_case() {
	local point=$1 before
	shift
	before=$(fds_of "$VPID")
	CK_FAULT="$point" ckpt_run "$@"
	if [ "$status" -ne 1 ] || [[ "$output" != *"fault injected at $point"* ]]; then
		stat_line "fault bad $point"
		fail "fault $point: status $status, output: $output"
	fi
	target_clean "$VPID" "$before" || { stat_line "fault bad $point"; fail "fault $point left the target unclean"; }
	vcmd verify a 0 64 1
	stat_line "fault ok $point"
}

@test "every fault point of pre-dump and memory dump: exit 1 naming it, target clean, no half layer, earlier layer intact" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	local before p
	before=$(layer_sum "$IMG/1")
	for p in seize frozen collected thawed pages commit rename image image-PAGEMAP image-PAGES image-INVENTORY; do
		fault_case "$p" pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
		no_half_layer 2
	done
	for p in seize frozen collected pages commit rename image-MM image-PAGEMAP; do
		fault_case "$p" dump --memory-only --leave-running -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
		no_half_layer 2
	done
	[ "$(layer_sum "$IMG/1")" = "$before" ]
	run -1 bash -c "ls -A '$IMG' | grep -q ckpt-tmp"
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
}

@test "fault points of exec: exit 1 naming it, target clean and unchanged" {
	vcmd alloc a 64
	vcmd fill a 0 64 1
	local p
	for p in seize exec-call; do
		fault_case "$p" exec -t "$VPID" getpid
		fault_case "$p" exec -t "$VPID" write 1 '&x' 1
	done
	! grep -q '^x' "$OUT"
}

@test "fault points of the uffd tracker: create, register, handoff" {
	"$CKPT" check --feature uffd-wp-async >/dev/null 2>&1 || skip "kernel lacks uffd-wp-async"
	vcmd alloc a 64
	vcmd fill a 0 64 1
	local p
	# a tracker that cannot be armed is not an error: the layer is written and the next is full
	for p in uffd-create uffd-register uffd-handoff; do
		before=$(fds_of "$VPID")
		CK_FAULT="$p" ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/u$p" --tracker uffd-wp
		assert_output --partial "cannot arm the tracker (fault injected at $p); the next layer is full"
		target_clean "$VPID" "$before" || { stat_line "fault bad $p"; fail "fault $p left the target unclean"; }
		[ -e "$IMG/u$p/inventory.img" ]
		vcmd verify a 0 64 1
		stat_line "fault ok $p"
	done
}

@test "fault points of the full dump: infect, parasite command, cure, image writes, the final kill" {
	local before p pid
	start_victim rst-mem
	pid=$VICTIM_PID
	retry 200 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/rst-mem.out"
	before=$(fds_of "$pid")
	for p in seize frozen infect parasite-sigactions cure image-CORE image-MM image-PSTREE image-INVENTORY rename; do
		CK_FAULT="$p" ckpt_run -1 dump --leave-running -t "$pid" -D "$IMG/f"
		[[ "$output" == *"fault injected at $p"* ]] || { stat_line "fault bad $p"; fail "no message for $p"; }
		target_clean "$pid" "$before" || { stat_line "fault bad $p"; fail "dump fault $p left the target unclean"; }
		no_half_layer f
		stat_line "fault ok $p"
	done
	CK_FAULT=kill ckpt_run -1 dump -t "$pid" -D "$IMG/k"
	assert_output --partial "fault injected at kill"
	target_clean "$pid" "$before"
	stat_line "fault ok kill"
	kill -TERM "$pid"
	retry 100 0.05 grep -q '^PASS$' "$BATS_TEST_TMPDIR/rst-mem.out"
}

# kill_loop N CMD...: start `ckpt CMD` N times, SIGKILL it after a random 0..60 ms; after each the
# target must be clean; a last run must succeed.
kill_loop() {
	local n=$1 i before pid
	shift
	before=$(fds_of "$KPID")
	for ((i = 0; i < n; i++)); do
		"$CKPT" "$@" >/dev/null 2>&1 3>&- &
		pid=$!
		sleep "0.0$((RANDOM % 60 / 10))$((RANDOM % 10))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		if target_clean "$KPID" "$before"; then stat_line "kill ok $1"; else stat_line "kill bad $1"; fail "kill $i of ckpt $* left the target unclean"; fi
		rm -rf "${KDIR:?}" "$IMG"/.*ckpt-tmp* 2>/dev/null
	done
	ckpt_run -0 "$@"
}

@test "SIGKILL of pre-dump at random moments: victim runs, its memory checks, next pre-dump works" {
	vcmd alloc a 256
	vcmd fill a 0 256 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	KPID=$VPID KDIR="$IMG/2"
	kill_loop "$KILLS" pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
	vcmd verify a 0 256 1
	[ -e "$IMG/1/inventory.img" ]
}

@test "SIGKILL of exec at random moments: victim runs and checks its memory, next exec works" {
	KILLS=${CKPT_REL_INJECT_KILLS:-10}
	vcmd alloc a 64
	vcmd fill a 0 64 1
	KPID=$VPID KDIR="$IMG/none"
	kill_loop "$KILLS" exec -t "$VPID" getppid
	vcmd verify a 0 64 1
}

@test "SIGKILL of dump --leave-running at random moments: the victim's own check passes" {
	KILLS=${CKPT_REL_INJECT_KILLS:-10}
	start_victim rst-mem
	KPID=$VICTIM_PID KDIR="$IMG/d"
	retry 200 0.05 grep -q '^READY' "$BATS_TEST_TMPDIR/rst-mem.out"
	kill_loop "$KILLS" dump --leave-running -t "$KPID" -D "$IMG/d"
	kill -USR1 "$KPID"
	kill -TERM "$KPID"
	retry 100 0.05 grep -q '^PASS$' "$BATS_TEST_TMPDIR/rst-mem.out"
}

@test "a full disk: clean failure, no half layer, earlier layer intact, tree running" {
	vcmd alloc a 512
	vcmd fill a 0 512 1
	RO_MNT="$BATS_TEST_TMPDIR/small"
	mkdir -p "$RO_MNT"
	mount -t tmpfs -o size=3m "ckpt-rel-$$" "$RO_MNT"
	ckpt_run -0 pre-dump -t "$VPID" -D "$RO_MNT/1" --tracker hash
	local before
	before=$(layer_sum "$RO_MNT/1")
	vcmd fill a 0 512 2
	local fds
	fds=$(fds_of "$VPID")
	ckpt_run -1 pre-dump -t "$VPID" -D "$RO_MNT/2" --prev-images-dir ../1 --tracker hash
	assert_output --partial "No space left on device"
	target_clean "$VPID" "$fds"
	[ ! -e "$RO_MNT/2" ]
	run -1 bash -c "ls -A '$RO_MNT' | grep -q ckpt-tmp"
	[ "$(layer_sum "$RO_MNT/1")" = "$before" ]
	vcmd verify a 0 512 2
	stat_line "bad ok disk-full"
}

@test "a read-only image directory: clean failure, tree running" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	RO_MNT="$BATS_TEST_TMPDIR/ro"
	mkdir -p "$RO_MNT"
	mount -t tmpfs -o size=1m "ckpt-rel-$$" "$RO_MNT"
	ckpt_run -0 pre-dump -t "$VPID" -D "$RO_MNT/1" --tracker hash
	mount -o remount,ro "$RO_MNT"
	local fds
	fds=$(fds_of "$VPID")
	ckpt_run -1 pre-dump -t "$VPID" -D "$RO_MNT/2" --prev-images-dir ../1 --tracker hash
	assert_output --partial "Read-only file system"
	target_clean "$VPID" "$fds"
	[ -e "$RO_MNT/1/inventory.img" ] && [ ! -e "$RO_MNT/2" ]
	stat_line "bad ok read-only"
}

@test "two runs on one target: the second is refused naming the holder (pre-dump+pre-dump, pre-dump+exec)" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_paused frozen pre-dump -t "$VPID" -D "$IMG/a" --tracker hash
	ckpt_run -1 pre-dump -t "$VPID" -D "$IMG/b" --tracker hash
	assert_output --partial "process $VPID is being checkpointed by ckpt pid $CKPT_PID"
	[ ! -e "$IMG/b" ]
	ckpt_run -1 exec -t "$VPID" getpid
	assert_output --partial "being checkpointed by ckpt pid $CKPT_PID"
	kill -KILL "$CKPT_PID"
	wait "$CKPT_PID" || true
	retry 100 0.02 untraced "$VPID"
	# the kernel dropped the lock with the holder
	ckpt_run -0 exec -t "$VPID" getpid
	stat_line "bad ok concurrent-pre-dump"
	stat_line "bad ok concurrent-exec"
}

@test "a parent loop in the layer chain is refused with a clear message" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/2" --prev-images-dir ../1 --tracker hash
	ln -s ../2 "$IMG/1/parent"
	ckpt_run -1 verify -t "$VPID" -D "$IMG/2"
	assert_output --partial "img/1/parent leads back to $IMG/2"
	untraced "$VPID"
	stat_line "bad ok parent-loop"
}

@test "image directories are 0700 and image files 0600" {
	vcmd alloc a 16
	vcmd fill a 0 16 1
	ckpt_run -0 pre-dump -t "$VPID" -D "$IMG/1" --tracker hash
	[ "$(stat -c %a "$IMG/1")" = 700 ]
	run -0 find "$IMG/1" -type f ! -perm 0600
	[ -z "$output" ]
}

@test "nobody cannot pre-dump or exec into root's process" {
	requires nobody
	chmod 0755 "$BATS_TEST_TMPDIR"
	local fds
	fds=$(fds_of "$VPID")
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" exec -t "$VPID" getpid
	echo "$output" >&2
	[[ "$output" == *"ermission"* || "$output" == *"not permitted"* ]]
	run -1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" pre-dump -t "$VPID" -D "/tmp/ckpt-rel-nobody-$$" --tracker hash
	echo "$output" >&2
	[ ! -e "/tmp/ckpt-rel-nobody-$$/inventory.img" ]
	rm -rf "/tmp/ckpt-rel-nobody-$$"
	target_clean "$VPID" "$fds"
	stat_line "bad ok nobody-exec"
	stat_line "bad ok nobody-pre-dump"
}
