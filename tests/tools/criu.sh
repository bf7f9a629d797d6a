#!/bin/bash
# Prints the path of a CRIU >= 4.0 for the tests that restore ckpt's images on
# this kernel (Debian's CRIU 3.17 cannot run on 6.x kernels newer than ~6.3).
#
#   CKPT_CRIU=PATH       use that binary (it must run and say version >= 4.0)
#   otherwise            build the unmodified CRIU 4.2 from ../shared/tools/criu-4.2.tar.xz
#                        (next to the clone; CKPT_TOOLS_DIR overrides the folder) once into
#                        CKPT_TOOLS_CACHE (default /var/cache/ckpt-tests/criu-4.2), keyed by the
#                        tarball's sha256; later runs reuse the cached binary.
#
# CRIU is a test tool here: it is never installed over a system criu, never on PATH.
# Its build dependencies come from tests/install-deps.sh (CKPT_CRIU_DEPS=1).
#
# Exit status: 0 and the path on stdout; 3 when no CRIU 4 is available (no tarball and no
# CKPT_CRIU), with a one-line reason on stderr, for the tests to skip; 1 for any failure
# (bad CKPT_CRIU, tarball with a wrong checksum, failed build), with the reason on stderr.
set -uo pipefail

SHA256=2b4a71ec83a8264d51088b54a8527160f52a56494119d16913e143f4fea84d37
TARBALL=criu-4.2.tar.xz
EXIT_ABSENT=3

repo="$(cd "$(dirname "$0")/../.." && pwd)" || exit 1

die() {
	echo "criu.sh: $*" >&2
	exit 1
}

# check_version BIN: BIN runs and reports version 4.0 or later.
check_version() {
	local bin=$1 out ver major
	out=$("$bin" --version 2>&1) || die "$bin does not run: $(head -n1 <<<"$out")"
	ver=$(sed -n 's/^Version: *\([0-9][0-9.]*\).*/\1/p' <<<"$out" | head -n1)
	[ -n "$ver" ] || die "$bin --version does not print a CRIU version: $(head -n1 <<<"$out")"
	major=${ver%%.*}
	[ "$major" -ge 4 ] || die "$bin is CRIU $ver; CRIU >= 4.0 is needed"
}

if [ -n "${CKPT_CRIU:-}" ]; then
	[ -x "$CKPT_CRIU" ] || die "CKPT_CRIU=$CKPT_CRIU is not an executable file"
	check_version "$CKPT_CRIU"
	echo "$CKPT_CRIU"
	exit 0
fi

# The shared folder sits next to the clone.  In a git worktree it sits next to the
# main clone, found through the common git directory.
find_tarball() {
	local d common
	if [ -n "${CKPT_TOOLS_DIR:-}" ]; then
		echo "$CKPT_TOOLS_DIR/$TARBALL"
		return
	fi
	d="$repo/../shared/tools"
	if [ -f "$d/$TARBALL" ]; then
		echo "$d/$TARBALL"
		return
	fi
	common=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) || common=
	if [ -n "$common" ] && [ -f "$common/../../shared/tools/$TARBALL" ]; then
		echo "$common/../../shared/tools/$TARBALL"
		return
	fi
	echo "$repo/../shared/tools/$TARBALL"
}
tarball=$(find_tarball)
if [ ! -f "$tarball" ]; then
	echo "no CRIU 4: $tarball is absent and CKPT_CRIU is not set" >&2
	exit $EXIT_ABSENT
fi

sum=$(sha256sum "$tarball" | cut -d' ' -f1) || die "cannot read $tarball"
[ "$sum" = "$SHA256" ] || die "$tarball has sha256 $sum, expected $SHA256"

cache="${CKPT_TOOLS_CACHE:-/var/cache/ckpt-tests/criu-4.2}"
dest="$cache/$sum"
bin="$dest/criu"
if [ -x "$bin" ] && [ -f "$dest/.ok" ]; then
	check_version "$bin"
	echo "$bin"
	exit 0
fi

{ mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ]; } ||
	die "cannot write the cache $cache (set CKPT_TOOLS_CACHE to a writable folder)"

# One build at a time per cache (several suites or worktrees may ask at once).
exec 9>"$cache/.lock" || die "cannot open $cache/.lock"
flock 9 || die "cannot lock $cache/.lock"
if [ -x "$bin" ] && [ -f "$dest/.ok" ]; then
	check_version "$bin"
	echo "$bin"
	exit 0
fi

CKPT_CRIU_DEPS=1 "$repo/tests/install-deps.sh" >&2 ||
	die "the packages CRIU's build needs could not be installed (CKPT_CRIU_DEPS=1 tests/install-deps.sh)"

log="$cache/build-$sum.log"
work="$cache/build-$sum.tmp"
rm -rf "$work" "$dest"
mkdir -p "$work" || die "cannot create $work"
echo "criu.sh: building CRIU 4.2 into $dest (log: $log)" >&2
start=$(date +%s)
if ! { tar -xJf "$tarball" -C "$work" &&
	make -C "$work/criu-4.2" -j"${CKPT_CRIU_JOBS:-2}" criu; } >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	die "building CRIU 4.2 failed (full log: $log)"
fi
{ mkdir -p "$dest" && cp "$work/criu-4.2/criu/criu" "$bin"; } || die "cannot copy the built criu to $dest"
check_version "$bin"
touch "$dest/.ok"
rm -rf "$work"
echo "criu.sh: built CRIU 4.2 in $(($(date +%s) - start)) s" >&2
echo "$bin"
