// SPDX-License-Identifier: MIT
/*
 * Option tables (opts.h): getopt_long's arrays, the refusal of another verb's
 * options and the option list of `ckpt VERB --help`, all from the same rows.
 *
 * Every row of a table goes into the getopt arrays, also rows of the table's
 * other verbs, so that `pre-dump --memory-only` is told "--memory-only is a
 * dump option" rather than "unknown option".  A long option's val is
 * 256 + its row index; a short one is its letter.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook/opts.h"
#include "hook/verbs.h"

/* see opts.h */
bool hook_opt_for_verb(const struct hook_opt *o, const char *verb)
{
	size_t n = strlen(verb);

	if (!o->verbs)
		return true;
	for (const char *p = o->verbs; (p = strstr(p, verb)); p += n)
		if ((p == o->verbs || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* see opts.h */
void hook_getopt_init(struct hook_getopt *g, const char *verb, const struct hook_opt *table,
		      bool stop_at_arg, int argc, char **argv)
{
	char *s;
	int n = 0;

	memset(g, 0, sizeof(*g));
	g->verb = verb;
	g->table = table;
	g->argc = argc;
	g->argv = argv;
	s = g->shortopts;
	if (stop_at_arg)
		*s++ = '+';
	*s++ = ':'; /* a missing argument returns ':', not '?' */
	for (const struct hook_opt *o = table; o->id; o++, n++) {
		if (n >= HOOK_OPTS_MAX) {
			fprintf(stderr, "ckpt %s: option table over %d rows\n", verb,
				HOOK_OPTS_MAX);
			abort();
		}
		if (o->letter) {
			*s++ = (char)o->letter;
			if (o->arg != HOOK_ARG_NONE)
				*s++ = ':';
			if (o->arg == HOOK_ARG_LEVEL)
				*s++ = ':';
		}
		if (o->name) {
			struct option *lo = &g->longopts[n];

			lo->name = o->name;
			lo->has_arg = o->arg == HOOK_ARG_NONE  ? no_argument
				      : o->arg == HOOK_ARG_ARG ? required_argument
							       : optional_argument;
			lo->val = 256 + n;
		}
	}
	/* rows without a long name left holes: close them up */
	for (int i = 0, j = 0; i <= n; i++)
		if (g->longopts[i].name || i == n)
			g->longopts[j++] = g->longopts[i];
	*s = '\0';
	optind = 1;
	opterr = 0;
}

static const struct hook_opt *row_of(const struct hook_getopt *g, int c)
{
	if (c >= 256)
		return &g->table[c - 256];
	for (const struct hook_opt *o = g->table; o->id; o++)
		if (o->letter == c)
			return o;
	return NULL;
}

/* How the user spells the option that getopt returned as C. */
static const char *spelling(const struct hook_getopt *g, int c, char *buf, size_t len)
{
	const struct hook_opt *o = c ? row_of(g, c) : NULL;

	if (o && c >= 256)
		snprintf(buf, len, "--%s", o->name);
	else if (c && c < 256)
		snprintf(buf, len, "-%c", c);
	else
		snprintf(buf, len, "%s", g->argv[optind - 1]);
	return buf;
}

/* "a", "a or b", "a, b or c" from "a b c". */
static void verb_list(const char *verbs, char *buf, size_t len)
{
	const char *last = strrchr(verbs, ' ');
	size_t o = 0;

	for (const char *p = verbs; *p && o + 4 < len; p++) {
		if (*p != ' ') {
			buf[o++] = *p;
		} else if (p == last) {
			o += (size_t)snprintf(buf + o, len - o, " or ");
		} else {
			buf[o++] = ',';
			buf[o++] = ' ';
		}
	}
	buf[o < len ? o : len - 1] = '\0';
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* see opts.h */
int hook_getopt_next(struct hook_getopt *g)
{
	const struct hook_opt *o;
	char name[64], verbs[128];
	int c;

	g->arg = NULL;
	c = getopt_long(g->argc, g->argv, g->shortopts, g->longopts, NULL);
	if (c == -1)
		return 0;
	if (c == ':') {
		o = row_of(g, optopt);
		hook_usage_error(g->verb, "option '%s' needs an argument%s%s%s",
				 spelling(g, optopt, name, sizeof(name)), o ? " (" : "",
				 o ? o->metavar : "", o ? ")" : "");
		return -1;
	}
	if (c == '?') {
		if (optopt >= 256)
			hook_usage_error(g->verb, "option '%s' takes no argument",
					 spelling(g, optopt, name, sizeof(name)));
		else
			hook_usage_error(g->verb, "unknown option '%s'%s%s%s",
					 spelling(g, optopt, name, sizeof(name)),
					 g->unknown_hint ? " (" : "",
					 g->unknown_hint ? g->unknown_hint : "",
					 g->unknown_hint ? ")" : "");
		return -1;
	}
	o = row_of(g, c);
	if (!o)
		abort(); /* getopt returned a letter that is not in shortopts */
	if (!hook_opt_for_verb(o, g->verb)) {
		verb_list(o->verbs, verbs, sizeof(verbs));
		hook_usage_error(g->verb, "%s is a %s option", spelling(g, c, name, sizeof(name)),
				 verbs);
		return -1;
	}
	g->arg = optarg;
	/* -v 4: a level may also be the next word, when that is a number */
	if (o->arg == HOOK_ARG_LEVEL && !optarg && optind < g->argc && is_number(g->argv[optind]))
		g->arg = g->argv[optind++];
	return o->id;
}

/* The left column of a row: "-t, --tree PID", "    --cgroup PATH", "-v[N]". */
static int left_column(const struct hook_opt *o, char *buf, size_t len)
{
	const char *mv = o->metavar ? o->metavar : "N";
	int n;

	if (o->letter && o->name)
		n = snprintf(buf, len, "-%c, --%s", o->letter, o->name);
	else if (o->letter)
		n = snprintf(buf, len, "-%c", o->letter);
	else
		n = snprintf(buf, len, "    --%s", o->name);
	if (n < 0 || (size_t)n >= len)
		return n;
	if (o->arg == HOOK_ARG_ARG)
		n += snprintf(buf + n, len - (size_t)n, " %s", mv);
	else if (o->arg == HOOK_ARG_LEVEL)
		n += snprintf(buf + n, len - (size_t)n, o->name ? "[=%s]" : "[%s]", mv);
	return n;
}

static void print_row(FILE *f, const struct hook_opt *o, int width)
{
	char col[96];
	int n = left_column(o, col, sizeof(col));

	if (n > width)
		fprintf(f, "  %s\n  %-*s  %s\n", col, width, "", o->help);
	else
		fprintf(f, "  %-*s  %s\n", width, col, o->help);
}

/* see opts.h */
void hook_opts_print(FILE *f, const char *verb, const struct hook_opt *table)
{
	static const struct hook_opt help =
		HOOK_OPT(1, "help", 'h', NONE, NULL, NULL, "print this help and exit");
	enum { MAX_WIDTH = 28 };
	char col[96];
	int width = left_column(&help, col, sizeof(col));

	for (const struct hook_opt *o = table; o->id; o++) {
		int n = hook_opt_for_verb(o, verb) ? left_column(o, col, sizeof(col)) : 0;

		if (n > width && n <= MAX_WIDTH)
			width = n;
	}
	fprintf(f, "\nOptions:\n");
	for (const struct hook_opt *o = table; o->id; o++)
		if (hook_opt_for_verb(o, verb))
			print_row(f, o, width);
	print_row(f, &help, width);
}
