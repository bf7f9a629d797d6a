# shellcheck shell=bash
# Loaded after ../bats/mem-helpers by the soft-dirty suites of the VM lane
# (softdirty-predump.bats, softdirty-criu.bats): the same helpers, rewritten
# for TCG.  Under bats every shell command runs a DEBUG trap, and every exec
# costs ~60 ms in the guest (jq's start-up most of a second), so these use
# one awk where mem-helpers loops in the shell or pipes through several tools.  Images are read with
# `ckpt show` (crit-shaped JSON) instead of crit, whose Python start-up costs
# seconds; crit itself reads every image in softdirty-criu.bats.

# region_pages NAME FIRST COUNT: decimal addresses of those pages of region NAME.
region_pages() {
	awk -v b="$(region_addr "$1")" -v f="$2" -v n="$3" \
		'BEGIN { for (i = f; i < f + n; i++) printf "%.0f\n", b + i * 4096 }'
}

# pm_pages BIT [LO HI] < `ckpt show PAGEMAP`: decimal addresses of the pages of
# the entries whose flags have BIT (1 = PE_PARENT, 4 = PE_PRESENT; CRIU writes
# PE_PRESENT|PE_LAZY), optionally only those in [LO, HI).  awk, not jq: jq's
# start-up alone costs most of a second under TCG.  CRIU 3.17 writes the page
# count in field 2 (compat_nr_pages) only; an entry without flags is PE_PRESENT.
pm_pages() {
	awk -v bit="$1" -v lo="${2:-0}" -v hi="${3:-0}" '
		function num(s, k, i) {
			i = index(s, "\"" k "\":")
			return i ? substr(s, i + length(k) + 3) + 0 : -1
		}
		{
			n = split($0, e, "{")
			for (j = 2; j <= n; j++) {
				v = num(e[j], "vaddr")
				if (v < 0)
					continue
				c = num(e[j], "nr_pages")
				if (c < 0)
					c = num(e[j], "compat_nr_pages")
				f = num(e[j], "flags")
				if (f < 0)
					f = 4
				if (int(f / bit) % 2 != 1)
					continue
				for (a = v; a < v + c * 4096; a += 4096)
					if (hi == 0 || (a >= lo && a < hi))
						printf "%.0f\n", a
			}
		}'
}

# layer_pages DIR PID BIT: decimal addresses of the pages of pagemap-PID.img
# whose entry flags have BIT.
layer_pages() {
	"$CKPT" show "$1/pagemap-$2.img" | pm_pages "$3"
}

# expect_layer DIR PID NAME PAGES EXPECTED_FILE: the PE_PRESENT pages of region
# NAME in layer DIR are exactly those listed in EXPECTED_FILE (as in
# mem-helpers: false negatives and false positives both fail).
expect_layer() {
	local base r fn fp n
	base=$(region_addr "$3")
	r=$("$CKPT" show "$1/pagemap-$2.img" | pm_pages 4 "$base" "$((base + $4 * 4096))" |
		awk 'NR == FNR { want[$1] = 1; next }
			{ got++; if ($1 in want) seen[$1] = 1; else fp++ }
			END { for (w in want) if (!(w in seen)) fn++; printf "%d %d %d\n", got, fn, fp }' "$5" -)
	read -r n fn fp <<<"$r"
	echo "# layer ${1##*/} region $3: $n pages, $fn false negatives, $fp false positives" >&3
	[ "$fn" -eq 0 ] || fail "layer $1 lacks $fn pages written since its parent"
	[ "$fp" -eq 0 ] || fail "layer $1 holds $fp pages of $3 not written since its parent"
}

# vcmd CMD...: mem-helpers' vcmd (send one command to the victim, wait for its
# ACK, then for the victim to be back in read(2)) with bash builtins only: the
# waits poll with `read -t` on a private fifo instead of sleep, grep and cat.
vcmd() {
	local s i sc
	if [ -z "${SD_TICK:-}" ]; then
		SD_TICK="$BATS_TEST_TMPDIR/tick"
		mkfifo "$SD_TICK"
	fi
	NCMD=$((NCMD + 1))
	echo "$*" >"$FIFO"
	for ((i = 0; ; i++)); do
		s=$'\n'$(<"$OUT")$'\n'
		case $s in
		*$'\n'"ACK $NCMD"[$' \n']*) break ;;
		*$'\n'"ERROR $NCMD "*) fail "victim: ${s##*$'\n'"ERROR $NCMD "}" ;;
		esac
		[ "$i" -lt 1000 ] || fail "victim did not answer '$*'"
		read -rt 0.01 <>"$SD_TICK" || :
	done
	# back in read(2) on the fifo: its memory no longer changes
	for ((i = 0; ; i++)); do
		read -r sc _ <"/proc/$VPID/syscall" || sc=""
		[ "$sc" != 0 ] || return 0
		[ "$i" -lt 1000 ] || fail "victim did not go back to reading commands"
		read -rt 0.01 <>"$SD_TICK" || :
	done
}
