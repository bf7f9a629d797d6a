#!/usr/bin/env bats
# ckpt check: one line per feature, --feature exit codes, --json, tracker choice.

load helpers

FEATURES=(soft-dirty uffd-wp-async pagemap-scan ptrace process-vm-readv pidfd-getfd cgroup-freezer seccomp-suspend)

@test "check prints one line per feature and the tracker" {
	ckpt_run -0 check
	for f in "${FEATURES[@]}"; do
		assert_line --regexp "^$f: (yes|no)"
	done
	assert_line --regexp '^tracker: (uffd-wp|soft-dirty|hash|none) \('
}

@test "check on this kernel: soft-dirty no, uffd-wp-async yes" {
	# This machine's kernel (6.18 without CONFIG_MEM_SOFT_DIRTY); the qemu lane checks the opposite.
	[ "$(uname -r | cut -d. -f1)" -ge 6 ] && [ "$(uname -r | cut -d. -f2)" -ge 7 ] || skip "needs a >= 6.7 kernel"
	ckpt_run -0 check
	assert_line --regexp '^soft-dirty: no \(.*pagemap bit 55'
	assert_line 'uffd-wp-async: yes'
	assert_line 'pagemap-scan: yes'
}

@test "check --feature exits 0 for an available feature and 1 for a missing one" {
	ckpt_run -0 check --feature process-vm-readv
	assert_output 'process-vm-readv: yes (read a child'"'"'s memory)'
	if ! "$CKPT" check --feature soft-dirty >/dev/null; then
		ckpt_run -1 check --feature soft-dirty
		assert_output --regexp '^soft-dirty: no \('
	fi
}

@test "check --feature with an unknown name exits 2 and lists the known ones" {
	ckpt_run -2 --separate-stderr check --feature no-such-thing
	[[ "$stderr" == *"unknown feature 'no-such-thing'"* ]]
	[[ "$stderr" == *"uffd-wp-async"* ]]
}

@test "check --json is valid JSON with every feature and the tracker" {
	ckpt_run -0 check --json
	echo "$output" | jq -e . >/dev/null
	for f in "${FEATURES[@]}"; do
		echo "$output" | jq -e --arg f "$f" '.features[$f].available | type == "boolean"' >/dev/null
	done
	echo "$output" | jq -e '.tracker.name | test("^(uffd-wp|soft-dirty|hash|none)$")' >/dev/null
	# The JSON and the text say the same thing.
	local t
	t=$(echo "$output" | jq -r .tracker.name)
	ckpt_run -0 check
	assert_line --regexp "^tracker: $t "
}

@test "check --feature agrees with the full check" {
	local f full one
	for f in "${FEATURES[@]}"; do
		full=$("$CKPT" check --json | jq -r --arg f "$f" '.features[$f].available')
		one=$("$CKPT" check --json --feature "$f" | jq -r --arg f "$f" '.features[$f].available')
		[ "$full" = "$one" ] || fail "$f: full check says $full, --feature says $one"
	done
}

@test "check leaves no probe cgroups behind" {
	requires root
	ckpt_run -0 check --feature cgroup-freezer
	run -0 bash -c 'shopt -s nullglob; echo /sys/fs/cgroup/*/ckpt-probe-* /sys/fs/cgroup/ckpt-probe-*'
	assert_output ''
}

@test "check as an unprivileged user reports what root alone may do" {
	requires root nobody
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups "$CKPT" check
	assert_line 'ptrace: yes'
	assert_line --regexp '^seccomp-suspend: no \(.*Operation not permitted'
	assert_line --regexp '^cgroup-freezer: no \(.*Permission denied'
}

@test "check rejects stray arguments" {
	ckpt_run -2 --separate-stderr check extra
	[[ "$stderr" == *"unexpected argument 'extra'"* ]]
}

@test "item 14: an unknown option is one error line naming it, then the hint" {
	ckpt_run -2 check --all
	[ "${#lines[@]}" = 2 ]
	assert_line -n 0 "ckpt check: unknown option '--all'"
	assert_line -n 1 "Try 'ckpt check --help'."
	ckpt_run -2 check --feature
	assert_line -n 0 --partial "ckpt check: option '--feature' needs an argument"
}
