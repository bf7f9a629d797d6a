# The rows of the verbs' option tables (hook/opts.h), read from the C source:
#   awk -f tests/opt-table.awk hook/*.c
# prints one line per option and verb: VERB LONG SHORT ("-" for none).
# A table is `... hook_opts_NAME[] = {` up to `};`, one HOOK_OPT() row a line;
# a row's verbs are its VERBS string, or NAME (underscores as dashes).

# field(): the next comma-separated field of rest, a "string" or a token.
function field(    f) {
	sub(/^[ \t]*/, "", rest)
	if (substr(rest, 1, 1) == "\"") {
		match(substr(rest, 2), /^([^"\\]|\\.)*"/)
		f = substr(rest, 2, RLENGTH - 1)
		rest = substr(rest, RLENGTH + 2)
	} else {
		match(rest, /^[^,)]*/)
		f = substr(rest, 1, RLENGTH)
		sub(/[ \t]+$/, "", f)
		rest = substr(rest, RLENGTH + 1)
	}
	sub(/^[ \t]*[,)]/, "", rest)
	return f
}

/hook_opts_[a-z0-9_]+\[\][ \t]*=[ \t]*\{/ {
	table = $0
	sub(/.*hook_opts_/, "", table)
	sub(/\[.*/, "", table)
	gsub(/_/, "-", table)
	next
}
/^};/ { table = "" }
table != "" && /HOOK_OPT\(/ {
	rest = $0
	sub(/.*HOOK_OPT\(/, "", rest)
	field()                 # id
	long = field()
	letter = field()
	field()                 # kind
	field()                 # metavar
	verbs = field()
	if (long == "NULL") long = "-"
	if (letter == "0") letter = "-"
	else gsub(/'/, "", letter)
	if (verbs == "NULL") verbs = table
	n = split(verbs, v, " ")
	for (i = 1; i <= n; i++)
		print v[i], long, letter
}
