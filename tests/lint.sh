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
mapfile -t not_parasite < <(printf '%s\n' "${files[@]}" | grep -vE '^(parasite|tests/victims)/')
mapfile -t not_oci < <(printf '%s\n' "${files[@]}" | grep -v '^oci-spec/')
mapfile -t not_proto < <(printf '%s\n' "${files[@]}" | grep -vE '^(proto|tests/unit)/')
mapfile -t leaves < <(in_dirs proto oci-spec parasite common)
mapfile -t commons < <(in_dirs common)
boundary "ptrace() outside parasite/" '\bptrace\s*\(' "${not_parasite[@]}"
boundary "yajl outside oci-spec/" '#include\s*<yajl/' "${not_oci[@]}"
boundary "protobuf packing outside proto/" 'protobuf_c_message_(pack|unpack)|__(pack|unpack)\s*\(' "${not_proto[@]}"
boundary "a leaf module includes hook/ or runtime-glue/" '#include\s*"(hook|runtime-glue)/' "${leaves[@]}"
boundary "common/ depends on a module" '#include\s*"(proto|oci-spec|parasite)/' "${commons[@]}"

# runtime-glue/ wings: a wing includes only the wings below it.  The rank of
# each wing; the top of runtime-glue/ (feature probes, exec glue, image-to-JSON,
# fault points) serves every wing and itself uses proc/ only.
declare -A wing_rank=([proc]=1 [mem]=2 [track]=3 [dump]=4 [agent]=5 [rpc]=6)
wing_of() {
	local rest=${1#runtime-glue/}
	case "$rest" in
	*/*) echo "${rest%%/*}" ;;
	*) echo top ;;
	esac
}
for f in $(in_dirs runtime-glue); do
	from=$(wing_of "$f")
	if [ "$from" != top ] && [ -z "${wing_rank[$from]:-}" ]; then
		echo "lint: $f: runtime-glue/$from/ is not a known wing (add it to wing_rank in tests/lint.sh)" >&2
		rc=1
		continue
	fi
	while IFS= read -r inc; do
		to=$(wing_of "$inc")
		[ "$to" = top ] && continue
		[ "$to" = "$from" ] && continue
		if [ "$from" = top ]; then
			[ "$to" = proc ] && continue
		elif [ -n "${wing_rank[$to]:-}" ] && [ "${wing_rank[$to]}" -lt "${wing_rank[$from]}" ]; then
			continue
		fi
		echo "lint: $f includes \"$inc\": runtime-glue/$from may only use the wings below it (dump -> track -> mem -> proc)" >&2
		rc=1
	done < <(sed -n 's|^#include "\(runtime-glue/[^"]*\)".*|\1|p' "$f")
done

# Files a reader can take in: warn (not fail) above 800 lines.
for f in $(in_dirs common proto oci-spec parasite runtime-glue hook tests/unit); do
	case "$f" in *.c) ;; *) continue ;; esac
	n=$(wc -l <"$f")
	[ "$n" -le 800 ] || echo "lint: warning: $f has $n lines (over 800: split it along its seams)" >&2
done

# Every option of every verb's table (hook/opts.h rows) is in that verb's
# section of docs/ckpt.1 (its .SS, up to the next .SS or .SH).  LINT_MAN: another
# man page, for the test of this check.
man=${LINT_MAN:-docs/ckpt.1}
man_section() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$man" |
		awk -v v="$1" '/^\.S[SH]/ { on = ($0 ~ "^\\.SS \"?" v "( |\"|$)") } on'
}
nrows=0
while read -r verb long short; do
	nrows=$((nrows + 1))
	sec=$(man_section "$verb")
	for o in "--$long" "-$short"; do
		case "$o" in --- | --) continue ;; esac
		if ! grep -qE -- "(^|[^a-z0-9-])$o([^a-z0-9-]|\$)" <<<"$sec"; then
			echo "lint: $man: the section of 'ckpt $verb' lacks its option $o (hook/ option table)" >&2
			rc=1
		fi
	done
done < <(awk -f tests/opt-table.awk hook/*.c)
if [ "$nrows" -lt 10 ]; then
	echo "lint: tests/opt-table.awk found $nrows option rows in hook/*.c (the tables moved?)" >&2
	rc=1
fi

# `retry N D test "$(cmd)" = X` expands cmd once, before retry runs: every try
# tests the same stale sample.  Wrap the sample in a function (state_is) or eval.
mapfile -t bats_files < <(git ls-files 'tests/*.bats' 'tests/*.bash')
if grep -nE 'retry [0-9]+ [0-9.]+ (test|\[) [^|]*\$\(' "${bats_files[@]}"; then
	echo "lint: retry of a command substitution expanded once (use a function or eval)" >&2
	rc=1
fi

if command -v shellcheck >/dev/null; then
	mapfile -t scripts < <(git ls-files '*.sh' '*.bash' '.ci/run'; git ls-files --others --exclude-standard '*.sh' '*.bash')
	if ! shellcheck -x -e SC1091,SC2154,SC2034 "${scripts[@]}"; then
		echo "lint: shellcheck failed" >&2
		rc=1
	fi
fi
exit $rc
