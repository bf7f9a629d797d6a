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
