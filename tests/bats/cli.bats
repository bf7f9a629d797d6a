#!/usr/bin/env bats
# The ckpt binary's command line: verbs, --help, --version, errors.

load helpers

@test "--help lists every verb" {
	ckpt_run -0 --help
	assert_line --partial 'Usage: ckpt VERB'
	local v
	for v in $("$CKPT" --help | awk '/^  [a-z]/ {print $1}'); do
		[ -n "$v" ]
	done
	assert_line --regexp '^  check '
}

@test "every verb has --help that exits 0 and shows its usage" {
	local v n=0
	for v in $("$CKPT" --help | awk '/^  [a-z]/ {print $1}'); do
		run -0 "$CKPT" "$v" --help
		assert_line --partial "Usage: ckpt $v"
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
}

@test "--version prints the version" {
	ckpt_run -0 --version
	assert_output --regexp '^ckpt [0-9]+\.[0-9]+'
}

@test "no verb is a usage error" {
	ckpt_run -2 --separate-stderr
	[[ "$stderr" == *"Usage: ckpt VERB"* ]]
}

@test "an unknown verb is a usage error naming it" {
	ckpt_run -2 --separate-stderr frobnicate
	[[ "$stderr" == *"unknown verb 'frobnicate'"* ]]
}

@test "the man page documents every verb" {
	local v
	for v in $("$CKPT" --help | awk '/^  [a-z]/ {print $1}'); do
		grep -q "^\.SS \"\?$v" "$REPO_ROOT/docs/ckpt.1" || fail "docs/ckpt.1 lacks verb $v"
	done
}

# The rows of the verbs' option tables in hook/*.c: "VERB LONG SHORT" ("-": none).
opt_rows() {
	awk -f "$REPO_ROOT/tests/opt-table.awk" "$REPO_ROOT"/hook/*.c
}

@test "every verb's --help lists every option of its table, and only those" {
	local verb long short n=0 v
	while read -r verb long short; do
		run -0 "$CKPT" "$verb" --help
		if [ "$long" != - ] && [ "$short" != - ]; then
			assert_line --regexp "^  -$short, --$long([ =[]|$)"
		elif [ "$long" != - ]; then
			assert_line --regexp "^      --$long([ =[]|$)"
		else
			assert_line --regexp "^  -$short([ []|$)"
		fi
		n=$((n + 1))
	done < <(opt_rows)
	[ "$n" -ge 30 ] || fail "only $n option rows found in hook/*.c"
	# no option line in --help that the table does not have (-h, --help aside)
	for v in $("$CKPT" --help | awk '/^  [a-z]/ {print $1}'); do
		local listed rows
		listed=$("$CKPT" "$v" --help | grep -cE '^  (-[a-zA-Z]|    --)')
		rows=$(opt_rows | awk -v v="$v" '$1 == v' | wc -l)
		[ "$listed" = $((rows + 1)) ] || fail "$v --help lists $listed options, its table has $rows (+ --help)"
	done
}

@test "every verb's --help gives each option a one-line description" {
	local v
	for v in $("$CKPT" --help | awk '/^  [a-z]/ {print $1}'); do
		run -0 "$CKPT" "$v" --help
		assert_line 'Options:'
		assert_line --regexp '^  -h, --help +print this help'
		# every row has a description (a NULL one prints as "(null)")
		refute_output --partial '(null)'
		assert_line --regexp '^  (-[a-zA-Z]|    --)[^ ]* .* [a-z]+'
	done
}

@test "every verb refuses an unknown option with exit 2, naming it" {
	local v
	for v in $("$CKPT" --help | awk '/^  [a-z]/ {print $1}'); do
		run -2 --separate-stderr "$CKPT" "$v" --no-such-option
		[[ "$stderr" == *"ckpt $v: unknown option '--no-such-option'"* ]] || fail "$v: $stderr"
		[[ "$stderr" == *"Try 'ckpt $v --help'"* ]] || fail "$v: $stderr"
		run -2 --separate-stderr "$CKPT" "$v" -Q
		[[ "$stderr" == *"ckpt $v: unknown option '-Q'"* ]] || fail "$v: $stderr"
	done
}

@test "an option of a sibling verb is refused, naming the verbs that take it" {
	ckpt_run -2 --separate-stderr pre-dump -t 1 -D "$BATS_TEST_TMPDIR/x" --max-report 3
	[[ "$stderr" == *"ckpt pre-dump: --max-report is a verify option"* ]] || fail "$stderr"
	ckpt_run -2 --separate-stderr verify -t 1 -D "$BATS_TEST_TMPDIR/x" --tracker hash
	[[ "$stderr" == *"ckpt verify: --tracker is a pre-dump or dump option"* ]] || fail "$stderr"
	ckpt_run -2 --separate-stderr pre-dump -t 1 -D "$BATS_TEST_TMPDIR/x" --shell-job
	[[ "$stderr" == *"ckpt pre-dump: --shell-job is a dump option"* ]] || fail "$stderr"
	ckpt_run -2 --separate-stderr check --json-progress
	[[ "$stderr" == *"unknown option '--json-progress'"* ]] || fail "$stderr"
	[ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "a missing argument or an argument to a flag is a usage error" {
	ckpt_run -2 --separate-stderr dump -t 1 -D
	[[ "$stderr" == *"option '-D' needs an argument (DIR)"* ]] || fail "$stderr"
	ckpt_run -2 --separate-stderr pre-dump --tree
	[[ "$stderr" == *"option '--tree' needs an argument (PID)"* ]] || fail "$stderr"
	ckpt_run -2 --separate-stderr show --pretty=yes x
	[[ "$stderr" == *"option '--pretty' takes no argument"* ]] || fail "$stderr"
}

@test "item 16: -v 4 (with a space) is accepted wherever -v4 is" {
	local v d="$BATS_TEST_TMPDIR/none"
	for v in pre-dump dump verify; do
		# a command line that parses and then fails (no such process): exit 1, not 2
		ckpt_run -1 --separate-stderr "$v" -v4 -t 999999999 -D "$d"
		[[ "$stderr" != *"Try 'ckpt"* ]] || fail "$v -v4: $stderr"
		ckpt_run -1 --separate-stderr "$v" -v 4 -t 999999999 -D "$d"
		[[ "$stderr" != *"Try 'ckpt"* ]] || fail "$v -v 4: $stderr"
		ckpt_run -1 --separate-stderr "$v" --tree 999999999 -D "$d" -v 4
		[[ "$stderr" != *"Try 'ckpt"* ]] || fail "$v ... -v 4: $stderr"
		# -v takes the next word only when it is a number
		ckpt_run -1 --separate-stderr "$v" -t 999999999 -v -D "$d"
		[[ "$stderr" != *"Try 'ckpt"* ]] || fail "$v -v -D: $stderr"
		ckpt_run -2 --separate-stderr "$v" -t 999999999 -D "$d" -v junk
		[[ "$stderr" == *"unexpected argument 'junk'"* ]] || fail "$v -v junk: $stderr"
		ckpt_run -2 --separate-stderr "$v" -t 999999999 -D "$d" -v 7
		[[ "$stderr" == *"-v: bad level '7' (0-4)"* ]] || fail "$v -v 7: $stderr"
	done
	# the level takes effect: -v 4 logs at info level and above, like -v4
	ckpt_run -1 --separate-stderr pre-dump -v 4 -t 999999999 -D "$d"
	[[ "$stderr" == *"tracker: "* ]] || fail "-v 4 did not raise the log level: $stderr"
	ckpt_run -1 --separate-stderr pre-dump -t 999999999 -D "$d"
	[[ "$stderr" != *"tracker: "* ]] || fail "the default level logs info: $stderr"
	[ ! -e "$d" ]
}

@test "restore passes what follows '--' to CRIU instead of refusing it" {
	local d="$BATS_TEST_TMPDIR/none"
	# parsed, then refused for the missing directory (exit 1), not a usage error
	ckpt_run -1 --separate-stderr restore -D "$d" -- --tcp-established -v0
	[[ "$stderr" == *"image directory $d"* ]] || fail "$stderr"
	ckpt_run -2 --separate-stderr restore -D "$d" stray
	[[ "$stderr" == *"unexpected argument 'stray'"* ]] || fail "$stderr"
	ckpt_run -2 --separate-stderr restore -D "$d" --tcp-established
	[[ "$stderr" == *"unknown option '--tcp-established' (pass CRIU options after '--')"* ]] || fail "$stderr"
}

@test "lint fails when an option of a verb's table is missing from the man page, naming both" {
	local man="$BATS_TEST_TMPDIR/ckpt.1"
	# the man page as it is documents every option
	run "$REPO_ROOT/tests/lint.sh"
	refute_output --partial "lacks its option"
	# without --timeout and --max-report it does not
	sed -e 's/\\-\\-timeout/\\-\\-tmo/g' -e 's/\\-\\-max\\-report/\\-\\-mr/g' \
		"$REPO_ROOT/docs/ckpt.1" >"$man"
	LINT_MAN=$man run -1 "$REPO_ROOT/tests/lint.sh"
	assert_line "lint: $man: the section of 'ckpt exec' lacks its option --timeout (hook/ option table)"
	assert_line "lint: $man: the section of 'ckpt verify' lacks its option --max-report (hook/ option table)"
	refute_line --partial "ckpt pre-dump"
}

@test "item 17: make keeps the unit-test objects it links (no 'rm ...o' noise)" {
	command -v make >/dev/null || skip "test requires make"
	run -0 make -n -C "$REPO_ROOT" BUILD="$BATS_TEST_TMPDIR/b" test-bins
	assert_line --partial "tests/unit/test-err"
	refute_line --regexp '^rm .*tests/unit/.*\.o$'
}

@test "item 17: the demo prints each layer's stats once and names every exec call" {
	requires root ptrace crit
	run -0 env BUILD="$BUILD" "$REPO_ROOT/tests/demo.sh"
	echo "$output" >&2
	[ "$(grep -c 'layer p1:' <<<"$output")" = 1 ]
	refute_line --regexp '^pre-dump: .*/p1: '
	local n=0 i
	for i in "${!lines[@]}"; do
		[[ "${lines[$i]}" == "Syscall returned "* ]] || continue
		[[ "${lines[$((i - 1))]}" =~ ^ckpt\ exec\ -t\ [0-9]+\ (close|open)\  ]] ||
			fail "the call before '${lines[$i]}' is not named: '${lines[$((i - 1))]}'"
		n=$((n + 1))
	done
	[ "$n" = 2 ]
}

@test "item 18: README's layout table names only folders that exist and points to docs/, not to notes outside the project" {
	local d n=0
	for d in $(sed -n 's/^| `\([a-z-]*\)\/` |.*/\1/p' "$REPO_ROOT/README.md"); do
		[ -d "$REPO_ROOT/$d" ] || fail "README's layout table lists $d/, which does not exist"
		n=$((n + 1))
	done
	[ "$n" -ge 6 ]
	run -1 grep -qi 'issue notes' "$REPO_ROOT/README.md"
	grep -q 'CRIU ≥ 4.0' "$REPO_ROOT/README.md"
}

@test "item 18: the man page's verify example leaves the dumped tree stopped" {
	run -0 grep -A2 '^ckpt dump \\-\\-memory\\-only' "$REPO_ROOT/docs/ckpt.1"
	assert_line --index 0 --partial 'leave\-stopped'
	assert_line --index 1 --partial 'ckpt verify'
	assert_line --index 2 'kill \-CONT 41'
}
