# shellcheck shell=bash
# Loaded after ../bats/mem-helpers by the soft-dirty suites of the VM lane
# (softdirty-predump.bats, softdirty-criu.bats): the same helpers, rewritten
# for TCG.  Under bats every shell command runs a DEBUG trap, and every exec
# costs ~60 ms in the guest, so these use one awk or jq where mem-helpers
# loops in the shell or pipes through several tools.  Images are read with
# `ckpt show` (crit-shaped JSON) instead of crit, whose Python start-up costs
# seconds; crit itself reads every image in softdirty-criu.bats.

# region_pages NAME FIRST COUNT: decimal addresses of those pages of region NAME.
region_pages() {
	awk -v b="$(region_addr "$1")" -v f="$2" -v n="$3" \
		'BEGIN { for (i = f; i < f + n; i++) printf "%.0f\n", b + i * 4096 }'
}

# layer_pages DIR PID BIT: decimal addresses of the pages of pagemap-PID.img
# whose entry flags have BIT (1 = PE_PARENT, 4 = PE_PRESENT; CRIU writes
# PE_PRESENT|PE_LAZY).  CRIU 3.17 writes the page count in field 2 only.
layer_pages() {
	"$CKPT" show "$1/pagemap-$2.img" |
		jq -r --argjson f "$3" '.entries[1:][] | select(.flags / $f | floor % 2 == 1) |
			range(.vaddr; .vaddr + (.nr_pages // .compat_nr_pages) * 4096; 4096)'
}

# expect_layer DIR PID NAME PAGES EXPECTED_FILE: the PE_PRESENT pages of region
# NAME in layer DIR are exactly those listed in EXPECTED_FILE (as in
# mem-helpers: false negatives and false positives both fail).
expect_layer() {
	local base r fn fp n
	base=$(region_addr "$3")
	r=$("$CKPT" show "$1/pagemap-$2.img" |
		jq -r --argjson lo "$base" --argjson hi "$((base + $4 * 4096))" \
			'.entries[1:][] | select(.flags / 4 | floor % 2 == 1) |
			range(.vaddr; .vaddr + (.nr_pages // .compat_nr_pages) * 4096; 4096) |
			select(. >= $lo and . < $hi)' |
		awk 'NR == FNR { want[$1] = 1; next }
			{ got++; if ($1 in want) seen[$1] = 1; else fp++ }
			END { for (w in want) if (!(w in seen)) fn++; printf "%d %d %d\n", got, fn, fp }' "$5" -)
	read -r n fn fp <<<"$r"
	echo "# layer $(basename "$1") region $3: $n pages, $fn false negatives, $fp false positives" >&3
	[ "$fn" -eq 0 ] || fail "layer $1 lacks $fn pages written since its parent"
	[ "$fp" -eq 0 ] || fail "layer $1 holds $fp pages of $3 not written since its parent"
}
