#!/usr/bin/env bats
# tests/tools/criu.sh: the CRIU >= 4.0 that restores ckpt's images on this kernel
# (CKPT_CRIU, or CRIU 4.2 built once from ../shared/tools into a cache).

load helpers

@test "criu.sh: no tarball and no CKPT_CRIU: exit 3 with a one-line reason" {
	run -3 --separate-stderr env -u CKPT_CRIU CKPT_TOOLS_DIR="$BATS_TEST_TMPDIR/none" \
		"$REPO_ROOT/tests/tools/criu.sh"
	[ -z "$output" ]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"criu-4.2.tar.xz is absent and CKPT_CRIU is not set"* ]]
}

@test "criu.sh: CKPT_CRIU must run and be CRIU >= 4.0" {
	run -1 --separate-stderr env CKPT_CRIU="$BATS_TEST_TMPDIR/none" "$REPO_ROOT/tests/tools/criu.sh"
	[[ "$stderr" == *"is not an executable file"* ]]
	printf '#!/bin/sh\necho "Version: 3.17.1"\n' >"$BATS_TEST_TMPDIR/old-criu"
	chmod +x "$BATS_TEST_TMPDIR/old-criu"
	run -1 --separate-stderr env CKPT_CRIU="$BATS_TEST_TMPDIR/old-criu" "$REPO_ROOT/tests/tools/criu.sh"
	[[ "$stderr" == *"is CRIU 3.17.1; CRIU >= 4.0 is needed"* ]]
	printf '#!/bin/sh\necho "Version: 4.1"\n' >"$BATS_TEST_TMPDIR/new-criu"
	chmod +x "$BATS_TEST_TMPDIR/new-criu"
	run -0 --separate-stderr env CKPT_CRIU="$BATS_TEST_TMPDIR/new-criu" "$REPO_ROOT/tests/tools/criu.sh"
	[ "$output" = "$BATS_TEST_TMPDIR/new-criu" ]
}

@test "criu.sh: a tarball with another checksum is a failure, not a skip" {
	mkdir "$BATS_TEST_TMPDIR/tools"
	echo "not criu" >"$BATS_TEST_TMPDIR/tools/criu-4.2.tar.xz"
	run -1 --separate-stderr env -u CKPT_CRIU CKPT_TOOLS_DIR="$BATS_TEST_TMPDIR/tools" \
		CKPT_TOOLS_CACHE="$BATS_TEST_TMPDIR/cache" "$REPO_ROOT/tests/tools/criu.sh"
	[[ "$stderr" == *"expected 2b4a71ec"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/cache" ]
}

@test "criu.sh: CRIU 4.2 is built once; a second run reuses the cache" {
	[ -z "${CKPT_CRIU:-}" ] || skip "CKPT_CRIU is set"
	requires criu4
	run -0 "$CRIU4" --version
	assert_line "Version: 4.2"
	run -0 --separate-stderr env -u CKPT_CRIU "$REPO_ROOT/tests/tools/criu.sh"
	[ "$output" = "$CRIU4" ]
	[ -z "$stderr" ] || fail "second run was not silent: $stderr"
	[[ "$CRIU4" == */2b4a71ec83a8264d51088b54a8527160f52a56494119d16913e143f4fea84d37/criu ]]
	# never installed over the system's criu
	[ "$(command -v criu || true)" != "$CRIU4" ]
}

@test "requires criu4: skips with criu.sh's reason, fails on its errors" {
	local r="$BATS_TEST_TMPDIR/repo"
	mkdir -p "$r/tests/bats" "$r/tests/tools"
	ln -s "$REPO_ROOT/tests/bats/helpers.bash" "$r/tests/bats/helpers.bash"
	ln -s "$REPO_ROOT/tests/tools/criu.sh" "$r/tests/tools/criu.sh"
	printf 'load helpers\n@test "needs criu4" {\n\trequires criu4\n\techo "CRIU4=$CRIU4" >&3\n}\n' \
		>"$r/tests/bats/t.bats"
	run -0 env -u CKPT_CRIU CKPT_TOOLS_DIR="$BATS_TEST_TMPDIR/none" bats --tap "$r/tests/bats/t.bats"
	assert_line --partial "ok 1 needs criu4 # skip no CRIU 4: $BATS_TEST_TMPDIR/none/criu-4.2.tar.xz is absent"
	run -1 env CKPT_CRIU=/usr/bin/true bats --tap "$r/tests/bats/t.bats"
	assert_line "not ok 1 needs criu4"
	assert_output --partial "tests/tools/criu.sh failed (exit 1)"
	printf '#!/bin/sh\necho "Version: 4.0"\n' >"$BATS_TEST_TMPDIR/criu"
	chmod +x "$BATS_TEST_TMPDIR/criu"
	run -0 env CKPT_CRIU="$BATS_TEST_TMPDIR/criu" bats --tap "$r/tests/bats/t.bats"
	assert_line "CRIU4=$BATS_TEST_TMPDIR/criu"
}
