// SPDX-License-Identifier: MIT
/*
 * ckpt compact -D DIR [--max-layers N] [-v]
 *
 * Shortens the layer chain that ends in DIR: merges its two oldest layers
 * (runtime-glue/mem/merge.h) until the chain holds at most N layers (default
 * 1: DIR alone, parentless).  Each merge takes the newer layer's name, so DIR
 * and the `parent` links above stay valid; a kill at any point leaves a chain
 * that rebuilds the same memory.  One line per merge and a summary:
 *
 *   compact: merged /img/1 and /img/2 into /img/2: 300 pages (256 from /img/1)
 *   compact: /img/4: 4 layers, now 2
 *
 * Every directory that holds a layer of the chain is locked first
 * (glue_chain_lock): a second compact, or a pre-copy agent keeping the chain,
 * makes this one fail with EBUSY before anything is touched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "hook/verbs.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/chain.h"
#include "runtime-glue/mem/merge.h"

enum { OPT_DIR = 1, OPT_MAX, OPT_VERBOSE };

/* clang-format off */
const struct hook_opt hook_opts_compact[] = {
	HOOK_OPT(OPT_DIR, "images-dir", 'D', ARG, "DIR", NULL, "the newest layer of the chain"),
	HOOK_OPT(OPT_MAX, "max-layers", 0, ARG, "N", NULL, "layers the chain keeps (default 1, up to 1000)"),
	HOOK_OPT(OPT_VERBOSE, NULL, 'v', LEVEL, "N", NULL, "more log; repeatable, or a level 0-4 (-v4, -v 4)"),
	HOOK_OPT_END,
};
/* clang-format on */

#define MAX_LOCKED 16

struct locks {
	int fd[MAX_LOCKED];
	dev_t dev[MAX_LOCKED];
	ino_t ino[MAX_LOCKED];
	size_t nr;
};

static void unlock_all(struct locks *k)
{
	while (k->nr)
		close(k->fd[--k->nr]);
}

/* Lock the directory holding @layer unless one of @k is that directory. */
static int lock_dir_of(struct locks *k, const char *layer, struct ck_err **err)
{
	_cleanup_free_ char *dir = xstrdup(layer);
	char *slash = strrchr(dir, '/');
	struct stat st;
	int fd;

	if (!slash) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	if (stat(dir, &st) < 0)
		return ck_err_set(err, errno, "layer directory %s", dir);
	for (size_t i = 0; i < k->nr; i++)
		if (k->dev[i] == st.st_dev && k->ino[i] == st.st_ino)
			return 0;
	if (k->nr == MAX_LOCKED)
		return ck_err_set(err, E2BIG, "the chain spans more than %d directories",
				  MAX_LOCKED);
	fd = glue_chain_lock(dir, err);
	if (fd < 0)
		return -1;
	k->fd[k->nr] = fd;
	k->dev[k->nr] = st.st_dev;
	k->ino[k->nr++] = st.st_ino;
	return 0;
}

static int lock_chain(struct locks *k, const char *dir, struct ck_err **err)
{
	struct glue_chain ch;
	int rc = 0;

	if (glue_chain_open(dir, &ch, err) < 0)
		return -1;
	for (size_t i = 0; i < ch.nr && rc == 0; i++)
		rc = lock_dir_of(k, ch.l[i].path, err);
	glue_chain_close(&ch);
	return rc;
}

/* see verbs.h */
int hook_cmd_compact(int argc, char **argv, struct ck_err **err)
{
	const char *dir = NULL;
	unsigned long max = 1;
	int level = CK_LOG_WARN, c;
	size_t before = 0, nr;
	struct hook_getopt g;
	_cleanup_(unlock_all) struct locks locks = { .nr = 0 };
	char *end;

	hook_getopt_init(&g, "compact", hook_opts_compact, false, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_DIR:
			dir = g.arg;
			break;
		case OPT_MAX:
			errno = 0;
			max = strtoul(g.arg, &end, 10);
			if (*end || errno || max < 1 || max > 1000 || g.arg[0] == '-')
				return hook_usage_error(
					"compact", "--max-layers: '%s' is not 1 to 1000", g.arg);
			break;
		case OPT_VERBOSE:
			if (hook_opt_level("compact", g.arg, &level))
				return HOOK_EXIT_USAGE;
			break;
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (optind < argc)
		return hook_usage_error("compact", "unexpected argument '%s'", argv[optind]);
	if (!dir)
		return hook_usage_error("compact", "no images directory: give -D DIR");
	ck_log_set_level(level);
	glue_fault_init();
	if (lock_chain(&locks, dir, err) < 0)
		return HOOK_EXIT_ERR;
	for (;;) {
		struct glue_chain ch;
		struct glue_merge_stats st;
		const char *base, *child;
		int rc;

		if (glue_chain_open(dir, &ch, err) < 0)
			return HOOK_EXIT_ERR;
		nr = ch.nr;
		if (!before)
			before = nr;
		if (nr <= max) {
			glue_chain_close(&ch);
			break;
		}
		base = ch.l[nr - 1].path;
		child = ch.l[nr - 2].path;
		rc = glue_layer_merge(base, child, &st, err);
		if (rc == 0)
			printf("compact: merged %s and %s into %s: %" PRIu64 " pages (%" PRIu64
			       " from %s)\n",
			       base, child, child, st.pages + st.shpages, st.pages_from_base, base);
		glue_chain_close(&ch);
		if (rc < 0)
			return HOOK_EXIT_ERR;
	}
	printf("compact: %s: %zu layer%s, now %zu\n", dir, before, before == 1 ? "" : "s", nr);
	return HOOK_EXIT_OK;
}
