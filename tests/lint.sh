#!/bin/bash
# Style and module-boundary checks (run by make check and make lint).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
rc=0
mapfile -t files < <({
	git ls-files '*.c' '*.h'
	git ls-files --others --exclude-standard '*.c' '*.h'
} | sort -u)

if ! clang-format --dry-run --Werror "${files[@]}" 2>&1; then
	echo "lint: clang-format differs (run 'make format')" >&2
	rc=1
fi

# in_dirs DIR...: the files under those folders.
in_dirs() {
	local f d
	for f in "${files[@]}"; do
		for d in "$@"; do
			[[ "$f" == "$d"/* ]] && echo "$f"
		done
	done
}
# boundary MESSAGE REGEX FILE...: fail when REGEX occurs in any FILE.
boundary() {
	local msg=$1 re=$2 bad
	shift 2
	[ $# -gt 0 ] || return 0
	bad=$(grep -lE "$re" "$@" || true)
	if [ -n "$bad" ]; then
		echo "lint: $msg:" "$bad" >&2
		rc=1
	fi
}
mapfile -t not_parasite < <(printf '%s\n' "${files[@]}" | grep -v '^parasite/')
mapfile -t not_oci < <(printf '%s\n' "${files[@]}" | grep -v '^oci-spec/')
mapfile -t not_proto < <(printf '%s\n' "${files[@]}" | grep -vE '^(proto|tests/unit)/')
mapfile -t leaves < <(in_dirs proto oci-spec parasite common)
mapfile -t commons < <(in_dirs common)
boundary "ptrace() outside parasite/" '\bptrace\s*\(' "${not_parasite[@]}"
boundary "yajl outside oci-spec/" '#include\s*<yajl/' "${not_oci[@]}"
boundary "protobuf packing outside proto/" 'protobuf_c_message_(pack|unpack)|__(pack|unpack)\s*\(' "${not_proto[@]}"
boundary "a leaf module includes hook/ or runtime-glue/" '#include\s*"(hook|runtime-glue)/' "${leaves[@]}"
boundary "common/ depends on a module" '#include\s*"(proto|oci-spec|parasite)/' "${commons[@]}"

if command -v shellcheck >/dev/null; then
	mapfile -t scripts < <(git ls-files '*.sh' '*.bash' '.ci/run'; git ls-files --others --exclude-standard '*.sh' '*.bash')
	if ! shellcheck -x -e SC1091,SC2154,SC2034 "${scripts[@]}"; then
		echo "lint: shellcheck failed" >&2
		rc=1
	fi
fi
exit $rc
