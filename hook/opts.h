/* SPDX-License-Identifier: MIT */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * One option table per verb.  getopt_long's long options and short-option
 * string, the refusal of options a verb does not take, and `ckpt VERB --help`
 * all come from the same rows, so they cannot drift apart.
 *
 * A table is an array named hook_opts_VERB (or hook_opts_GROUP for verbs that
 * share one), one HOOK_OPT() row per line, ended by HOOK_OPT_END:
 *
 *   HOOK_OPT(ID, "long-name", 'x', KIND, "METAVAR", VERBS, "one-line description"),
 *
 * ID        what hook_getopt_next() returns for it (> 0; rows may share one:
 *           an alias)
 * long-name without "--", or NULL for a short-only option
 * 'x'       the short letter, or 0
 * KIND      NONE (a flag), ARG (needs METAVAR), or LEVEL (an optional number:
 *           -v, -v4, -v 4, --name=4)
 * VERBS     the verbs that take the row, space-separated ("pre-dump dump"),
 *           or NULL for every verb the table serves (a table of one verb)
 *
 * tests/lint.sh reads these rows from the source to check that docs/ckpt.1
 * documents every option of every verb: keep each row on one line.
 */
enum hook_arg {
	HOOK_ARG_NONE,
	HOOK_ARG_ARG,
	HOOK_ARG_LEVEL,
};

struct hook_opt {
	int id;
	const char *name;
	int letter;
	enum hook_arg arg;
	const char *metavar;
	const char *verbs;
	const char *help;
};

#define HOOK_OPT(id, name, letter, kind, metavar, verbs, help)                      \
	{                                                                           \
		(id), (name), (letter), HOOK_ARG_##kind, (metavar), (verbs), (help) \
	}
#define HOOK_OPT_END \
	{            \
		0    \
	}

/* Rows per table at most (getopt arrays are built on the stack). */
#define HOOK_OPTS_MAX 32

struct hook_getopt {
	const char *verb;
	const struct hook_opt *table;
	int argc;
	char **argv;
	const char *arg;          /* the current option's argument, or NULL */
	const char *unknown_hint; /* added to "unknown option", or NULL */
	char shortopts[3 * HOOK_OPTS_MAX + 3];
	struct option longopts[HOOK_OPTS_MAX + 1];
};

/*
 * Start parsing argv (argv[0] is the verb) for VERB with TABLE.  With
 * stop_at_arg, parsing stops at the first non-option (exec's SYSCALL); without
 * it, options and operands may be mixed (show FILE --pretty).  The operands
 * start at optind after the last hook_getopt_next().
 */
void hook_getopt_init(struct hook_getopt *g, const char *verb, const struct hook_opt *table,
		      bool stop_at_arg, int argc, char **argv);

/*
 * The next option's ID (its argument in g->arg), 0 at the end of the options,
 * or -1 after printing a usage error (unknown option, missing argument, an
 * option of another verb): the caller returns HOOK_EXIT_USAGE.
 */
int hook_getopt_next(struct hook_getopt *g);

/* Print the option list of VERB (every row it takes, then -h, --help). */
void hook_opts_print(FILE *f, const char *verb, const struct hook_opt *table);

/* Whether a row of TABLE is one of VERB's options. */
bool hook_opt_for_verb(const struct hook_opt *o, const char *verb);
