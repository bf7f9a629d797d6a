#!/bin/bash
# Style and module-boundary checks (run by make check and make lint).
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
untracked=$(git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
files="$files $untracked"

if ! clang-format --dry-run --Werror $files 2>&1; then
	echo "lint: clang-format differs (run 'make format')" >&2
	rc=1
fi

# Module boundaries (see docs/design.md).
bad=$(grep -lE '\bptrace\s*\(' $files | grep -v '^parasite/' || true)
[ -z "$bad" ] || { echo "lint: ptrace() outside parasite/: $bad" >&2; rc=1; }
bad=$(grep -lE '#include\s*<yajl/' $files | grep -v '^oci-spec/' || true)
[ -z "$bad" ] || { echo "lint: yajl outside oci-spec/: $bad" >&2; rc=1; }
bad=$(grep -lE 'protobuf_c_message_(pack|unpack)|_(pack|unpack)\s*\(' $files | grep -v '^proto/' | grep -v '^tests/unit/' || true)
[ -z "$bad" ] || { echo "lint: protobuf packing outside proto/: $bad" >&2; rc=1; }
bad=$(grep -lE '#include\s*"(hook|runtime-glue)/' $(echo "$files" | tr ' ' '\n' | grep -E '^(proto|oci-spec|parasite|common)/') 2>/dev/null || true)
[ -z "$bad" ] || { echo "lint: leaf module includes hook/ or runtime-glue/: $bad" >&2; rc=1; }
bad=$(grep -lE '#include\s*"(proto|oci-spec|parasite)/' $(echo "$files" | tr ' ' '\n' | grep -E '^common/') 2>/dev/null || true)
[ -z "$bad" ] || { echo "lint: common/ depends on a module: $bad" >&2; rc=1; }

if command -v shellcheck >/dev/null; then
	if ! shellcheck -x -e SC1091,SC2154 tests/*.sh tests/bats/*.bash .ci/run 2>&1; then
		echo "lint: shellcheck failed" >&2
		rc=1
	fi
fi
exit $rc
