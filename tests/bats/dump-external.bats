#!/usr/bin/env bats
# bats file_tags=root
#
# Plain trees with fds leading outside (issue 15): a pipe end whose peer the tree does not hold is
# dumped as CRIU does, and the log names the key a restore must be given
# (--inherit-fd fd[N]:pipe:[INODE]).

load helpers
load restore-helpers

setup() {
	requires root ptrace crit
	IMG="$BATS_TEST_TMPDIR/img"
	OUT="$BATS_TEST_TMPDIR/victim.out"
	mkdir -p "$IMG"
}

teardown() {
	kill_victims
	return 0
}

@test "stdout on a pipe to the test: dumped, the log names pipe:[INODE]" {
	# the victim's stdout and stderr are a pipe whose read end is cat's, outside the tree
	"$VICTIMS/rst-mem" 2>&1 3>&- </dev/null | cat >"$OUT" &
	retry 200 0.05 grep -q '^READY' "$OUT"
	VICTIM_PID=$(pgrep -n -f "$VICTIMS/rst-mem")
	VICTIM_PIDS+=("$VICTIM_PID")
	local link ino
	link=$(readlink "/proc/$VICTIM_PID/fd/1")
	[[ "$link" == pipe:* ]] || fail "fd 1 is $link"
	ino=${link#pipe:[}
	ino=${ino%]}
	ckpt_run -0 --separate-stderr dump -t "$VICTIM_PID" -D "$IMG/1" --leave-running
	stderr_has "pipe:[$ino] leads outside the tree"
	stderr_has "--inherit-fd fd[N]:pipe:[$ino]"
	check_images "$IMG/1" "$VICTIM_PID"
	kill -TERM "$VICTIM_PID"
	retry 100 0.05 grep -q '^PASS$' "$OUT"
}
