#!/bin/bash
# make demo: ckpt on a built-in workload.  Each step prints what it does.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD="${BUILD:-build}"
CKPT="$BUILD/ckpt"
work=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "ckpt check: what this kernel offers and which dirty tracker pre-dump uses"
"$CKPT" check || true

if [ -x "$BUILD/tests/unit/img-sample" ]; then
	step "image round trip: write a CRIU-format image set, decode it with ckpt show and crit"
	"$BUILD/tests/unit/img-sample" "$work/images"
	ls -l "$work/images"
	"$CKPT" show --pretty "$work/images/pagemap-"*.img
	if command -v crit >/dev/null; then
		for f in "$work"/images/*.img; do
			case "$f" in */pages-*) continue ;; esac
			crit decode -i "$f" >/dev/null && echo "crit decode $(basename "$f"): ok"
		done
	fi
fi

if [ -x "$BUILD/tests/victims/exec-writer" ] && "$CKPT" exec --help >/dev/null 2>&1; then
	step "ckpt exec: redirect a running process's stdout into a file"
	"$BUILD/tests/victims/exec-writer" >"$work/before.log" 3>&- &
	pid=$!
	sleep 0.3
	"$CKPT" exec -t "$pid" close 1 || true
	"$CKPT" exec -t "$pid" open "&$work/after.log" 0x441 0644 || true
	sleep 0.5
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "lines before: $(wc -l <"$work/before.log"), lines after the redirect: $(wc -l <"$work/after.log" 2>/dev/null || echo 0)"
fi
