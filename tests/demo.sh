#!/bin/bash
# make demo: ckpt on built-in workloads.  Each step says what it does.
#   1. ckpt check
#   2. an image round trip (write a CRIU image set, decode it with ckpt show and crit)
#   3. iterative pre-dumps of a sample process, with per-layer stats, and verify
#   4. iterative pre-dumps of a runc container (busybox), with per-layer stats
#   5. a runc container started with `ckpt hook`: the pre-copy agent's layers, then
#      `ckpt agent final` and its frozen time
#   6. ckpt exec: redirect a running process's stdout into a file
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD="${BUILD:-build}"
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
CKPT="$BUILD/ckpt"
VICTIMS="$BUILD/tests/victims"
work=$(mktemp -d /tmp/ckpt-demo.XXXXXX)
pids=()
ctr=""
hctr=""
cleanup() {
	[ -n "$hctr" ] && runc delete -f "$hctr" >/dev/null 2>&1
	local p
	for p in "${pids[@]+"${pids[@]}"}"; do kill -KILL "$p" 2>/dev/null || true; done
	[ -n "$ctr" ] && runc delete -f "$ctr" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
# layer_stats DIR: one line from the layer's stats-dump.
layer_stats() {
	crit decode -i "$1/stats-dump" | jq -r --arg d "$(basename "$1")" \
		'.entries[0].dump | "  layer \($d): \(.pages_written) pages written, \(.pages_skipped_parent) from parent, frozen \(.frozen_time / 1000) ms"'
}

if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root (ptrace of the sample processes, cgroups, runc)" >&2
	exit 1
fi

step "ckpt check: what this kernel offers and which dirty tracker pre-dump uses"
"$CKPT" check || true

step "image round trip: write a CRIU-format image set, decode it with ckpt show and crit"
"$BUILD/tests/unit/img-sample" "$work/images"
ls "$work/images"
"$CKPT" show --pretty "$work/images/pagemap-"*.img | head -20
for f in "$work"/images/*.img "$work/images/stats-dump"; do
	case "$f" in */pages-*) continue ;; esac
	crit decode -i "$f" >/dev/null && echo "crit decode $(basename "$f"): ok"
done

step "iterative pre-dumps of a sample process (64 MiB, a few pages rewritten per round)"
mkfifo "$work/cmd"
GLIBC_TUNABLES=glibc.pthread.rseq=0 "$VICTIMS/mem-victim" "$work/cmd" >"$work/victim.out" 2>&1 3>&- &
pids+=($!)
disown
vpid=$!
exec 7>"$work/cmd"
n=0
vcmd() {
	n=$((n + 1))
	echo "$*" >&7
	for _ in $(seq 500); do grep -q "^ACK $n" "$work/victim.out" && return 0; sleep 0.01; done
	echo "demo: the sample process did not answer" >&2
	return 1
}
vcmd alloc a 16384
vcmd fill a 0 16384 1
"$CKPT" pre-dump -t "$vpid" -D "$work/p1" >/dev/null
layer_stats "$work/p1"
prev=p1
for r in 2 3; do
	vcmd scatter a 256 "$r"
	"$CKPT" pre-dump -t "$vpid" -D "$work/p$r" --prev-images-dir "../$prev" >/dev/null
	layer_stats "$work/p$r"
	prev=p$r
done
vcmd scatter a 16 4
"$CKPT" dump --memory-only -t "$vpid" -D "$work/final" --prev-images-dir "../$prev" --leave-running >/dev/null
layer_stats "$work/final"
"$CKPT" verify -t "$vpid" -D "$work/final"
exec 7>&-

if command -v runc >/dev/null && [ -x /bin/busybox ]; then
	step "iterative pre-dumps of a runc container (busybox shell loop)"
	b="$work/bundle"
	mkdir -p "$b/rootfs/bin"
	cp /bin/busybox "$b/rootfs/bin/"
	for c in sh sleep; do ln -s busybox "$b/rootfs/bin/$c"; done
	(cd "$b" && runc spec)
	jq '.process.terminal = false | .process.args = ["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); sleep 0.05; done"]' \
		"$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json"
	ctr="ckpt-demo-$$"
	runc run -d --bundle "$b" "$ctr" >/dev/null 2>&1 </dev/null 3>&-
	cpid=$(runc state "$ctr" | jq .pid)
	echo "container $ctr, init pid $cpid"
	"$CKPT" pre-dump -t "$cpid" --cgroup auto -D "$work/c1" >/dev/null
	layer_stats "$work/c1"
	for r in 2 3; do
		sleep 0.3
		"$CKPT" pre-dump -t "$cpid" --cgroup auto -D "$work/c$r" --prev-images-dir "../c$((r - 1))" >/dev/null
		layer_stats "$work/c$r"
	done
	runc state "$ctr" | jq -r '"container status after the pre-dumps: \(.status)"'
fi

if command -v runc >/dev/null && [ -x /bin/busybox ]; then
	step "a runc container with ckpt hook in config.json: the pre-copy agent"
	hb="$work/hbundle"
	mkdir -p "$hb/rootfs/bin"
	cp /bin/busybox "$hb/rootfs/bin/"
	for c in sh sleep dd od head; do ln -s busybox "$hb/rootfs/bin/$c"; done
	(cd "$hb" && runc spec)
	# the workload rewrites ~200 KB of its heap every 0.2 s
	jq --arg ck "$CKPT" '.process.terminal = false
		| .process.args = ["/bin/sh", "-c", "while :; do v=$(dd if=/dev/urandom bs=64k count=1 2>/dev/null | od -An -tx1 | head -c 200000); sleep 0.2; done"]
		| .annotations = {"org.ckpt.enable": "true", "org.ckpt.interval": "500ms", "org.ckpt.max-layers": "20"}
		| .hooks = {"poststart": [{"path": $ck, "args": ["ckpt", "hook", "poststart"], "timeout": 10}],
			"poststop": [{"path": $ck, "args": ["ckpt", "hook", "poststop"], "timeout": 10}]}' \
		"$hb/config.json" >"$hb/config.new" && mv "$hb/config.new" "$hb/config.json"
	hctr="ckpt-demo-hook-$$"
	runc run -d --bundle "$hb" "$hctr" >/dev/null 2>&1 </dev/null 3>&-
	echo "container $hctr started; its agent writes layers to $hb/checkpoint"
	seen=0
	for _ in $(seq 40); do
		sleep 0.1
		for l in "$hb"/checkpoint/[0-9]*; do
			[ -e "$l/stats-dump" ] || continue
			n=$(basename "$l")
			[ "$n" -gt "$seen" ] || continue
			layer_stats "$l"
			seen=$n
		done
	done
	"$CKPT" agent status --bundle "$hb" | head -1
	"$CKPT" agent final --bundle "$hb" --leave running
	layer_stats "$hb/checkpoint/latest" | sed 's/layer latest/final layer (stats-dump)/'
	runc delete -f "$hctr"
	hctr=""
fi

step "ckpt exec: redirect a running process's stdout into a file"
"$VICTIMS/exec-writer" >"$work/before.log" 3>&- &
pids+=($!)
disown
wpid=$!
sleep 0.3
xc() { echo "ckpt exec -t $wpid $*:" && "$CKPT" exec -t "$wpid" "$@"; }
xc close 1
xc open "&$work/after.log" 0x441 0x1a4
sleep 0.5
echo "lines before the redirect: $(wc -l <"$work/before.log"), lines in the new file: $(wc -l <"$work/after.log")"
