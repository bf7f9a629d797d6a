#!/usr/bin/env bats
# ckpt exec -t PID SYSCALL [ARG...]: one system call inside a live process.
# Every test checks that the victim survives untraced (and, where it is idle,
# with the same mappings as before: no leftover scratch memory).

load helpers

setup() {
	requires ptrace
}

teardown() {
	kill_victims
}

# The victim is alive, not a zombie, and no thread of it is traced.
victim_ok() {
	local pid=$1
	[ -d "/proc/$pid" ] || fail "victim $pid is gone"
	[ "$(proc_state "$pid")" != Z ] || fail "victim $pid is a zombie"
	untraced "$pid" || fail "victim $pid is still traced"
}

maps_of() {
	cat "/proc/$1/maps"
}

# Start a victim as user nobody (same contract as start_victim).
start_victim_nobody() {
	local name=$1
	shift
	local out="$BATS_TEST_TMPDIR/$name.out"
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$VICTIMS/$name" "$@" >"$out" 2>&1 3>&- </dev/null &
	VICTIM_PID=$!
	VICTIM_PIDS+=("$VICTIM_PID")
	retry 100 0.05 grep -q '^READY' "$out" || {
		cat "$out" >&2
		return 1
	}
}

ckpt_nobody() {
	local flags=()
	while [[ $# -gt 0 && ("$1" =~ ^-[0-9]+$ || "$1" == "!" || "$1" == --separate-stderr) ]]; do
		flags+=("$1")
		shift
	done
	run "${flags[@]}" setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" "$@"
	echo "(as nobody) ckpt $* (status=$status)" >&2
	echo "$output" >&2
}

# The bytes of the first @ buffer printed by ckpt exec, as text (NULs dropped).
buffer_text() {
	grep -E '^[0-9a-f]{8}  ' <<<"$output" | cut -c11-58 | tr -d ' \n' | xxd -r -p | tr -d '\0'
}

# First field of /proc/PID/task/TID/syscall: the syscall a thread is blocked in.
blocked_in() {
	cut -d' ' -f1 "/proc/$1/task/$2/syscall"
}

# blocked_is PID TID NR: thread TID of PID is blocked in syscall NR (read anew
# at each call, so that `retry` samples it each time).
blocked_is() {
	[ "$(blocked_in "$1" "$2")" = "$3" ]
}

victim_out() {
	cat "$BATS_TEST_TMPDIR/$1.out"
}

@test "exec getpid returns the target's pid, by name and by number" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID before
	before=$(maps_of "$pid")
	ckpt_run -0 exec -t "$pid" getpid
	assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	ckpt_run -0 exec -t "$pid" 39
	assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	victim_ok "$pid"
	[ "$before" = "$(maps_of "$pid")" ] || fail "mappings changed"
}

@test "exec getcwd with an @ buffer prints the target's cwd; scratch memory is unmapped" {
	local dir="$BATS_TEST_TMPDIR/victim-cwd"
	mkdir -p "$dir"
	cd "$dir"
	start_victim exec-sleeper 60
	cd /
	local pid=$VICTIM_PID before
	before=$(maps_of "$pid")
	ckpt_run -0 exec -t "$pid" getcwd @256 256
	assert_line --index 0 "Syscall returned $((${#dir} + 1)) ($(printf '0x%x' $((${#dir} + 1))))"
	assert_line --index 1 --regexp '^Argument 1 \(@256 at 0x[0-9a-f]+\):$'
	assert_line --index 2 --regexp '^00000000  [0-9a-f]{2} '
	assert_line '00000100'
	[ "$(buffer_text)" = "$dir" ] || fail "buffer holds '$(buffer_text)', expected '$dir'"
	victim_ok "$pid"
	[ "$before" = "$(maps_of "$pid")" ] || fail "mappings changed: scratch area left behind?"
}

@test "exec uname with an @ buffer prints the target's utsname" {
	start_victim exec-sleeper 60
	ckpt_run -0 exec -t "$VICTIM_PID" uname @390
	assert_line --index 0 "Syscall returned 0 (0x0)"
	assert_line --index 2 --regexp '\|Linux\.'
	[[ "$(buffer_text)" == Linux"$(uname -n)"* ]] || fail "unexpected utsname '$(buffer_text)'"
	victim_ok "$VICTIM_PID"
}

@test "exec close 1 + open &file redirects a running process's stdout into a file" {
	start_victim exec-writer
	local pid=$VICTIM_PID file="$BATS_TEST_TMPDIR/redirected.txt"
	ckpt_run -0 exec -t "$pid" close 1
	assert_output "Syscall returned 0 (0x0)"
	# O_WRONLY|O_CREAT|O_TRUNC = 0x241, mode 0644 = 0x1a4 (numbers are decimal or 0x hex)
	ckpt_run -0 exec -t "$pid" open "&$file" 0x241 0x1a4
	assert_output "Syscall returned 1 (0x1)"
	retry 50 0.1 grep -q '^line [0-9]' "$file"
	[ "$(stat -c %a "$file")" = 644 ] || fail "mode $(stat -c %a "$file")"
	# The old stdout gets nothing more.
	local n
	n=$(wc -l <"$BATS_TEST_TMPDIR/exec-writer.out")
	sleep 0.3
	[ "$n" = "$(wc -l <"$BATS_TEST_TMPDIR/exec-writer.out")" ] || fail "old stdout still written"
	victim_ok "$pid"
}

@test "exec madvise ADDR LEN MADV_DONTNEED zeroes a mapping of the victim" {
	start_victim exec-mmap
	local pid=$VICTIM_PID addr len
	addr=$(sed -n 's/^READY addr=\(0x[0-9a-f]*\) .*/\1/p' "$BATS_TEST_TMPDIR/exec-mmap.out")
	len=$(sed -n 's/^READY .* len=\([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/exec-mmap.out")
	run ! grep -q ZEROED "$BATS_TEST_TMPDIR/exec-mmap.out"
	ckpt_run -0 exec -t "$pid" madvise "$addr" "$len" 4
	assert_output "Syscall returned 0 (0x0)"
	retry 50 0.05 grep -q '^ZEROED' "$BATS_TEST_TMPDIR/exec-mmap.out"
	victim_ok "$pid"
}

@test "exec prints errno name and message for a failing call" {
	start_victim exec-sleeper 60
	ckpt_run -0 exec -t "$VICTIM_PID" close 12345
	assert_output "Syscall returned -9 (EBADF: Bad file descriptor)"
	ckpt_run -0 exec -t "$VICTIM_PID" open "&/nonexistent/x" 0
	assert_output "Syscall returned -2 (ENOENT: No such file or directory)"
	victim_ok "$VICTIM_PID"
}

@test "a victim blocked in read() on a pipe gets the bytes written after exec" {
	start_victim exec-reader
	local pid=$VICTIM_PID wfd
	wfd=$(sed -n 's/^READY wfd=//p' "$BATS_TEST_TMPDIR/exec-reader.out")
	retry 50 0.05 blocked_is "$pid" "$pid" 0
	for _ in 1 2 3; do
		ckpt_run -0 exec -t "$pid" getpid
	done
	victim_ok "$pid"
	[ "$(blocked_in "$pid" "$pid")" = 0 ] || fail "not back in read()"
	echo hello >"/proc/$pid/fd/$wfd"
	wait "$pid"
	run victim_out exec-reader
	assert_line "READ n=6 data=hello"
}

@test "a victim in nanosleep() completes its full sleep" {
	start_victim exec-sleeper 2
	local pid=$VICTIM_PID
	for _ in 1 2 3 4 5; do
		ckpt_run -0 exec -t "$pid" getppid
		sleep 0.1
	done
	victim_ok "$pid"
	wait "$pid"
	run victim_out exec-sleeper
	assert_line --regexp '^SLEPT ms=(199[5-9]|2[0-9]{3}) rc=0 err=0$'
}

@test "a multi-threaded victim keeps every thread running (futex, epoll_wait, sigwaitinfo)" {
	start_victim exec-threads
	local pid=$VICTIM_PID
	# wait until the waiters are blocked: sigwaitinfo (128), futex (202), epoll_wait (232)
	wait_blocked() {
		local t s=""
		for t in /proc/"$pid"/task/*; do s+=" $(blocked_in "$pid" "${t##*/}")"; done
		[[ "$s" == *" 128"* && "$s" == *" 202"* && "$s" == *" 232"* ]]
	}
	retry 100 0.05 wait_blocked
	for _ in 1 2 3; do
		ckpt_run -0 exec -t "$pid" getpid
		assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	done
	victim_ok "$pid"
	local tasks=(/proc/"$pid"/task/*)
	[ "${#tasks[@]}" = 5 ] || fail "threads lost"
	kill -USR2 "$pid"
	wait "$pid"
	run victim_out exec-threads
	assert_line "MAIN sig=SIGUSR2"
	assert_line "PROGRESS ok"
	assert_line "COND rc=0"
	assert_line "EPOLL rc=1"
	assert_line "DONE"
	refute_line "MAIN EINTR"
}

@test "a victim with a SIGUSR1 handler (waiting in sigsuspend) still handles SIGUSR1" {
	start_victim exec-sigusr1
	local pid=$VICTIM_PID cgt
	cgt=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status")
	retry 50 0.05 blocked_is "$pid" "$pid" 130
	ckpt_run -0 exec -t "$pid" getpid
	ckpt_run -0 exec -t "$pid" getpid
	victim_ok "$pid"
	[ "$cgt" = "$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status")" ] || fail "handlers changed"
	kill -USR1 "$pid"
	retry 50 0.05 grep -q '^USR1 count=1' "$BATS_TEST_TMPDIR/exec-sigusr1.out"
	ckpt_run -0 exec -t "$pid" getpid
	kill -USR1 "$pid"
	retry 50 0.05 grep -q '^USR1 count=2' "$BATS_TEST_TMPDIR/exec-sigusr1.out"
	run victim_out exec-sigusr1
	assert_line "USR1 count=1 mask=ok"
	assert_line "USR1 count=2 mask=ok"
	refute_line --partial SPURIOUS
}

@test "a victim waiting in ppoll() with a temporary mask keeps its real signal mask" {
	start_victim exec-sigusr1 ppoll
	local pid=$VICTIM_PID
	retry 50 0.05 blocked_is "$pid" "$pid" 271
	ckpt_run -0 exec -t "$pid" getpid
	victim_ok "$pid"
	[ "$(blocked_in "$pid" "$pid")" = 271 ] || fail "not back in ppoll"
	kill -USR1 "$pid"
	retry 50 0.05 grep -q '^USR1 count=1' "$BATS_TEST_TMPDIR/exec-sigusr1.out"
	run victim_out exec-sigusr1
	assert_line "USR1 count=1 mask=ok"
}

@test "a stopped victim stays stopped" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID
	kill -STOP "$pid"
	retry 100 0.1 state_is "$pid" T
	ckpt_run -0 exec -t "$pid" getpid
	assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	sleep 0.1
	[ "$(proc_state "$pid")" = T ] || fail "state $(proc_state "$pid") after exec"
	victim_ok "$pid"
	kill -CONT "$pid"
	retry 50 0.05 state_is "$pid" S
}

@test "a pending blocked signal stays pending" {
	start_victim exec-sleeper 60 block
	local pid=$VICTIM_PID
	kill -USR2 "$pid"
	retry 50 0.05 grep -q '^ShdPnd:.*800$' "/proc/$pid/status"
	ckpt_run -0 exec -t "$pid" getpid
	grep -q '^ShdPnd:.*800$' "/proc/$pid/status" || fail "SIGUSR2 no longer pending"
	grep -q '^SigBlk:.*800$' "/proc/$pid/status" || fail "SIGUSR2 no longer blocked"
	victim_ok "$pid"
}

@test "a call that does not finish in time is interrupted and the victim goes on" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID before
	before=$(maps_of "$pid")
	ckpt_run -1 exec --timeout 0.3 -t "$pid" pause
	assert_output --partial "did not finish within 300 ms"
	victim_ok "$pid"
	[[ "$(blocked_in "$pid" "$pid")" =~ ^(35|230|219)$ ]] || fail "victim no longer sleeping"
	[ "$before" = "$(maps_of "$pid")" ] || fail "mappings changed"
}

@test "seccomp: as root the target's filter is suspended for the call" {
	requires root
	start_victim exec-seccomp
	run victim_out exec-seccomp
	assert_output "READY getcwd=EPERM"
	ckpt_run -0 --separate-stderr exec -t "$VICTIM_PID" getcwd @64 64
	assert_line --index 0 --regexp '^Syscall returned [0-9]+ '
	[ "$(buffer_text)" = "$(readlink "/proc/$VICTIM_PID/cwd")" ]
	victim_ok "$VICTIM_PID"
}

@test "unprivileged: exec into the user's own process works" {
	requires root nobody
	start_victim_nobody exec-sleeper 60
	local pid=$VICTIM_PID before
	before=$(maps_of "$pid")
	ckpt_nobody -0 exec -t "$pid" getpid
	assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	ckpt_nobody -0 exec -t "$pid" getuid
	assert_output "Syscall returned $(id -u nobody) ($(printf '0x%x' "$(id -u nobody)"))"
	ckpt_nobody -0 exec -t "$pid" uname @390
	assert_line --index 0 "Syscall returned 0 (0x0)"
	victim_ok "$pid"
	[ "$before" = "$(maps_of "$pid")" ] || fail "mappings changed"
}

@test "item 2: unprivileged exec on a target with a seccomp filter is refused, target untouched" {
	requires root nobody
	start_victim_nobody exec-seccomp
	local maps
	maps=$(maps_of "$VICTIM_PID")
	ckpt_nobody -1 exec -t "$VICTIM_PID" getcwd @64 64
	assert_output --partial "has a seccomp filter (Seccomp: 2) that ckpt can suspend only as root"
	victim_ok "$VICTIM_PID"
	[ "$(maps_of "$VICTIM_PID")" = "$maps" ] || fail "mappings changed"
}

@test "unprivileged: exec into a root process fails with a clear message" {
	requires root nobody
	start_victim exec-sleeper 60
	ckpt_nobody -1 exec -t "$VICTIM_PID" getpid
	assert_output --partial "cannot attach to process $VICTIM_PID"
	assert_output --partial "Operation not permitted"
	victim_ok "$VICTIM_PID"
}

@test "error: unknown syscall name (target untouched)" {
	start_victim exec-sleeper 60
	local before
	before=$(maps_of "$VICTIM_PID")
	ckpt_run -2 exec -t "$VICTIM_PID" nosuchcall 1 2
	assert_output --partial "ckpt exec: unknown system call 'nosuchcall'"
	ckpt_run -2 exec -t "$VICTIM_PID" 99999
	assert_output --partial "invalid system call number '99999'"
	ckpt_run -2 exec -t "$VICTIM_PID" ""
	assert_output --partial "empty system call name"
	victim_ok "$VICTIM_PID"
	[ "$before" = "$(maps_of "$VICTIM_PID")" ] || fail "mappings changed"
}

@test "error: malformed arguments and usage" {
	start_victim exec-sleeper 60
	ckpt_run -2 exec -t "$VICTIM_PID" close 12abc
	assert_output --partial "argument 1: invalid argument '12abc'"
	ckpt_run -2 exec -t "$VICTIM_PID" read 0 @0 10
	assert_output --partial "argument 2: invalid buffer size in '@0'"
	ckpt_run -2 exec -t "$VICTIM_PID" read 0 @lots 10
	assert_output --partial "invalid buffer size in '@lots'"
	ckpt_run -2 exec -t "$VICTIM_PID" read 0 @999999999 10
	assert_output --partial "is too large"
	ckpt_run -2 exec -t "$VICTIM_PID" getpid 1 2 3 4 5 6 7
	assert_output --partial "too many arguments: 7 (a system call takes at most 6)"
	ckpt_run -2 exec getpid
	assert_output --partial "missing -t PID"
	ckpt_run -2 exec -t abc getpid
	assert_output --partial "invalid process id 'abc'"
	ckpt_run -2 exec -t "$VICTIM_PID"
	assert_output --partial "missing SYSCALL"
	ckpt_run -2 exec --timeout x -t "$VICTIM_PID" getpid
	assert_output --partial "invalid timeout 'x'"
	ckpt_run -2 exec -x -t "$VICTIM_PID" getpid
	assert_output --partial "unknown option '-x'"
	victim_ok "$VICTIM_PID"
}

@test "error: a pid that does not exist" {
	local pid
	true &
	pid=$!
	wait "$pid"
	[ ! -d "/proc/$pid" ] || skip "pid $pid reused"
	ckpt_run -1 exec -t "$pid" getpid
	assert_output "ckpt exec: no such process: $pid: No such process"
}

@test "error: a zombie" {
	start_victim exec-zombie
	local child
	child=$(sed -n 's/^READY child=//p' "$BATS_TEST_TMPDIR/exec-zombie.out")
	[ "$(proc_state "$child")" = Z ]
	ckpt_run -1 exec -t "$child" getpid
	assert_output --partial "process $child is a zombie"
	[ "$(proc_state "$child")" = Z ]
	victim_ok "$VICTIM_PID"
}

@test "error: a thread id instead of a process id" {
	start_victim exec-threads
	local pid=$VICTIM_PID tid t
	for t in /proc/"$pid"/task/*; do
		[ "${t##*/}" = "$pid" ] || tid=${t##*/}
	done
	ckpt_run -1 exec -t "$tid" getpid
	assert_output --partial "$tid is a thread of process $pid, not a process (use -t $pid)"
	victim_ok "$pid"
}

@test "error: the target exits during the call" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID rc=0
	ckpt_run -1 exec -t "$pid" exit_group 7
	assert_output --partial "process $pid exited with status 7"
	wait "$pid" || rc=$?
	[ "$rc" = 7 ] || fail "victim exit status $rc"
	VICTIM_PIDS=()
}

@test "error: refused calls that cannot be run remotely" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID
	ckpt_run -1 exec -t "$pid" fork
	assert_output --partial "cannot be run remotely"
	ckpt_run -1 exec -t "$pid" execve "&/bin/true" 0 0
	assert_output --partial "cannot be run remotely"
	victim_ok "$pid"
	start_victim exec-threads
	ckpt_run -1 exec -t "$VICTIM_PID" exit 0
	assert_output --partial "cannot be run remotely"
	victim_ok "$VICTIM_PID"
}

@test "item 16: exec reads numbers as decimal or 0x hex, never octal (0100 is a hundred)" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID
	[ ! -e "/proc/$pid/fd/100" ] || fail "victim has fd 100 open"
	[ ! -e "/proc/$pid/fd/64" ] || fail "victim has fd 64 open"
	# dup2(0, 0100): the new fd is 100, not 64 (octal)
	ckpt_run -0 exec -t "$pid" dup2 0 0100
	assert_output "Syscall returned 100 (0x64)"
	[ -e "/proc/$pid/fd/100" ] || fail "fd 100 not opened"
	[ ! -e "/proc/$pid/fd/64" ] || fail "fd 64 opened: 0100 read as octal"
	ckpt_run -0 exec -t "$pid" close 0x64
	assert_output "Syscall returned 0 (0x0)"
	[ ! -e "/proc/$pid/fd/100" ] || fail "fd 100 still open"
	# a buffer size and a system call number the same way (039 is not octal)
	ckpt_run -0 exec -t "$pid" getcwd @010 4096
	assert_line --regexp '^Argument 1 \(@10 at 0x[0-9a-f]+\):$'
	if [ "$(uname -m)" = x86_64 ]; then
		ckpt_run -0 exec -t "$pid" 039
		assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
		ckpt_run -0 exec -t "$pid" 0x27
		assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	fi
	ckpt_run -2 exec -t "$pid" close 09z
	assert_output --partial "invalid argument '09z'"
	victim_ok "$pid"
}

@test "item 16: exec takes -t/--tree like the other verbs, --pid stays an alias" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID opt
	for opt in -t --tree --pid; do
		ckpt_run -0 exec "$opt" "$pid" getpid
		assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	done
	ckpt_run -0 exec --tree="$pid" getpid
	assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	ckpt_run -2 exec --tree
	assert_output --partial "option '--tree' needs an argument (PID)"
	victim_ok "$pid"
}

@test "item 16: exec --timeout and --pid are in exec --help and in the man page" {
	ckpt_run -0 exec --help
	assert_line --regexp '^  -t, --tree PID +[a-z]'
	assert_line --regexp '^      --pid PID +[a-z]'
	assert_line --regexp '^      --timeout SEC +[a-z]'
	local sec
	# the exec section of the man page, as plain text
	sec=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' "$REPO_ROOT/docs/ckpt.1" |
		awk '/^\.S[SH]/ { on = /^\.SS exec / } on')
	[ -n "$sec" ] || fail "no exec section in docs/ckpt.1"
	grep -qE -- '--timeout +SEC' <<<"$sec" || fail "--timeout not in the man page's exec section"
	grep -qE -- '--pid +PID' <<<"$sec" || fail "--pid not in the man page's exec section"
	grep -qE -- '-t +, +--tree +PID' <<<"$sec" || fail "-t, --tree not in the man page's exec section"
}

@test "item 16: exec --timeout SEC lets a call that finishes in time through" {
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID
	ckpt_run -0 exec --timeout 30 -t "$pid" getpid
	assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	ckpt_run -0 exec --timeout 0 -t "$pid" getpid
	assert_output "Syscall returned $pid ($(printf '0x%x' "$pid"))"
	ckpt_run -2 exec --timeout nan -t "$pid" getpid
	assert_output --partial "invalid timeout 'nan'"
	victim_ok "$pid"
}

@test "item 14: a kernel thread is named as such, each error once; refusals say why" {
	ckpt_run -1 exec -t 2 getpid
	assert_output "ckpt exec: process 2 is a kernel thread: it cannot be traced or dumped"
	ckpt_run -1 dump -t 2 -D "$BATS_TEST_TMPDIR/k"
	assert_output "ckpt dump: cannot dump: process 2 is a kernel thread"
	[ ! -e "$BATS_TEST_TMPDIR/k" ]
	start_victim exec-sleeper 60
	local pid=$VICTIM_PID
	ckpt_run -1 exec -t "$pid" fork
	assert_output "ckpt exec: system call 57 cannot be run remotely: it would start a new process or thread at ckpt's injection point, with nobody to put it back"
	ckpt_run -1 exec -t "$pid" execve "&/bin/true" 0 0
	assert_output --partial "it would replace the task's program"
	ckpt_run -1 exec -t "$pid" rt_sigreturn
	assert_output --partial "it would load the task's registers from its stack"
	refute_output --partial "restore"
	refute_output --partial "Invalid argument"
	victim_ok "$pid"
	start_victim exec-threads
	ckpt_run -1 exec -t "$VICTIM_PID" exit 0
	assert_output --partial "it would end the main thread while ckpt holds the other threads stopped"
	victim_ok "$VICTIM_PID"
}

# The main thread of exec-smallstack blocks on a stack carved out of a larger
# mapping, with 32 KiB of pattern right below it (a Go goroutine's stack sits
# so in the heap, another goroutine's below it).  Its stdin is a pipe from a
# subshell that writes one byte once $ctl is written.
@test "a stack pointer in a stack carved out of a larger mapping (a goroutine's): exec, a uffd-wp pre-dump and a full dump write nothing below it" {
	local ctl="$BATS_TEST_TMPDIR/ctl" out="$BATS_TEST_TMPDIR/exec-smallstack.out" pid
	mkfifo "$ctl"
	{ read -r _ <"$ctl"; echo x; } 3>&- | "$VICTIMS/exec-smallstack" >"$out" 2>&1 3>&- &
	retry 100 0.05 grep -q '^READY' "$out"
	pid=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$out")
	VICTIM_PIDS+=("$pid")
	ckpt_run -0 exec -v -t "$pid" getpid
	assert_output --partial "no safety frame (its stack pointer is not in a stack known to have room below it"
	if "$CKPT" check --feature uffd-wp-async >/dev/null 2>&1; then
		ckpt_run -0 pre-dump -t "$pid" -D "$BATS_TEST_TMPDIR/p" --tracker uffd-wp
	fi
	ckpt_run -0 dump -t "$pid" -D "$BATS_TEST_TMPDIR/d" --leave-running --shell-job
	victim_ok "$pid"
	echo go >"$ctl"
	retry 100 0.05 grep -qE '^(PASS|FAIL)' "$out"
	grep -q '^PASS' "$out" || fail "$(cat "$out")"
}
