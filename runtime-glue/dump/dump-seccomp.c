// SPDX-License-Identifier: MIT
/*
 * seccomp.img and the seccomp fields of every thread_core, in the layout CRIU
 * 4.2 writes and restores (facts from its seccomp.c and restorer):
 *
 *   SeccompEntry{seccomp_filters[]}        one table for the whole dump
 *     [i] SeccompFilter{filter: sock_filter[], flags, prev}
 *
 *   thread_core{seccomp_mode: filter,      core-TID.img
 *               seccomp_filter: i}         the thread's FIRST installed filter
 *
 *   restore: install [i], then [i.prev], then [i.prev.prev] ... until an entry
 *   has no prev: so `prev` names the filter installed right AFTER this one,
 *   and the newest filter of a chain is the one without prev.
 *
 *     thread A: f1 -> f2 -> f3          [0] f3            (no prev)
 *     thread B: g1 -> f2 -> f3          [1] f2  prev 0
 *                                       [2] f1  prev 1    <- A's seccomp_filter
 *                                       [3] g1  prev 1    <- B's seccomp_filter
 *
 * An entry is (bytes, flags, prev), and a thread whose chain ends with the
 * same filters as an earlier one's reuses those entries: a container's tasks,
 * which inherit one profile, share its entries.  The restored tasks get the
 * same filters either way (the kernel installs a copy per task).
 *
 * Threads: when every thread of a process has the same chain, CRIU assumes it
 * was installed with SECCOMP_FILTER_FLAG_TSYNC: only the leader's chain is
 * written, every filter with TSYNC, and the other threads say `disabled`
 * (the leader's TSYNC gives them the chain back at restore).  Otherwise each
 * thread restores its own chain, and a later TSYNC call of the restored
 * process would fail; CRIU does the same, for the same reason (the kernel
 * cannot tell whether two chains are one).  ckpt follows it.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "proto/img.h"
#include "proto/seccomp.pb-c.h"
#include "runtime-glue/dump/dump-priv.h"

struct glue_sc_entry {
	void *data;
	size_t len;
	uint32_t flags;
	bool has_prev;
	uint32_t prev;
};

struct glue_seccomp {
	size_t nr;
	struct glue_sc_entry *e;
};

/* `Seccomp:` of /proc/PID/task/TID/status: 0, 1 (strict) or 2 (filter). */
static int thread_mode(pid_t pid, pid_t tid, struct ck_err **err)
{
	char path[96], buf[8192]; /* status is read whole in one read() */
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (glue_read_small(path, buf, sizeof(buf)) < 0)
		return ck_err_set(err, errno, "read %s", path);
	p = strstr(buf, "\nSeccomp:");
	return p ? atoi(p + 9) : 0;
}

/* The entry (@f, @has_prev, @prev): an equal one already in the table, else a new one. */
static uint32_t entry_id(struct glue_seccomp *sc, const struct parasite_seccomp_filter *f,
			 uint32_t flags, bool has_prev, uint32_t prev)
{
	struct glue_sc_entry *e;

	for (size_t i = 0; i < sc->nr; i++) {
		e = &sc->e[i];
		if (e->len == f->len && e->flags == flags && e->has_prev == has_prev &&
		    (!has_prev || e->prev == prev) && !memcmp(e->data, f->insns, f->len))
			return (uint32_t)i;
	}
	sc->e = xreallocarray(sc->e, sc->nr + 1, sizeof(*sc->e));
	e = &sc->e[sc->nr];
	e->data = xmalloc(f->len);
	memcpy(e->data, f->insns, f->len);
	e->len = f->len;
	e->flags = flags;
	e->has_prev = has_prev;
	e->prev = prev;
	return (uint32_t)sc->nr++;
}

/* Add a chain (first installed at [0]) newest first; the entry of its first filter. */
static uint32_t add_chain(struct glue_seccomp *sc, const struct parasite_seccomp_filter *ch,
			  size_t n, uint32_t extra_flags)
{
	uint32_t id = 0;
	bool has_prev = false;

	for (size_t k = n; k-- > 0;) {
		id = entry_id(sc, &ch[k], ch[k].flags | extra_flags, has_prev, id);
		has_prev = true;
	}
	return id;
}

static bool same_chain(const struct parasite_seccomp_filter *a, size_t na,
		       const struct parasite_seccomp_filter *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t k = 0; k < na; k++)
		if (a[k].len != b[k].len || memcmp(a[k].insns, b[k].insns, a[k].len))
			return false;
	return true;
}

/* see dump-priv.h */
int glue_seccomp_collect(struct glue_dump_state *st, const struct glue_task *task,
			 struct parasite_ctl *ctl, struct glue_seccomp_thread *out,
			 struct ck_err **err)
{
	size_t nr = parasite_nr_threads(ctl), nf = 0;
	_cleanup_free_ struct parasite_seccomp_filter **ch = xcalloc(nr, sizeof(*ch));
	_cleanup_free_ size_t *n = xcalloc(nr, sizeof(*n));
	bool tsync;
	int rc = -1;

	for (size_t j = 0; j < nr; j++) {
		pid_t tid = parasite_thread_tid(ctl, j);

		out[j] = (struct glue_seccomp_thread){ 0 };
		out[j].mode = thread_mode(task->pid, tid, err);
		if (out[j].mode < 0)
			goto out;
		if (out[j].mode == SECCOMP_MODE_FILTER &&
		    parasite_seccomp_filters(ctl, j, &ch[j], &n[j], err) < 0)
			goto out;
		if (out[j].mode == SECCOMP_MODE_FILTER && !n[j]) {
			ck_err_set(err, EIO, "thread %d says Seccomp: 2 but has no filter",
				   (int)tid);
			goto out;
		}
	}
	tsync = out[0].mode == SECCOMP_MODE_FILTER;
	for (size_t j = 1; j < nr && tsync; j++)
		tsync = out[j].mode == SECCOMP_MODE_FILTER && same_chain(ch[0], n[0], ch[j], n[j]);
	for (size_t j = 0; j < nr; j++) {
		if (out[j].mode != SECCOMP_MODE_FILTER)
			continue;
		if (tsync && j) {
			out[j].mode =
				SECCOMP_MODE_DISABLED; /* the leader's TSYNC restores its chain */
			continue;
		}
		if (!st->sc)
			st->sc = xzalloc(sizeof(*st->sc));
		out[j].has_filter = true;
		out[j].filter =
			add_chain(st->sc, ch[j], n[j], tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0);
		nf += n[j];
	}
	if (nf)
		pr_debug(
			"seccomp: pid %d: %zu filter(s) in %zu thread(s)%s, %zu entries in the table",
			(int)task->pid, nf, nr, tsync ? " (one chain, TSYNC)" : "", st->sc->nr);
	rc = 0;
out:
	for (size_t j = 0; j < nr; j++)
		parasite_seccomp_filters_free(ch[j], n[j]);
	if (rc < 0)
		return ck_err_wrap(err, "seccomp filters of pid %d", (int)task->pid);
	return 0;
}

/* see dump-priv.h */
int glue_seccomp_write(struct glue_dump_state *st, int dirfd, struct ck_err **err)
{
	SeccompEntry se = SECCOMP_ENTRY__INIT;
	size_t nr = st->sc ? st->sc->nr : 0;
	_cleanup_free_ SeccompFilter *f = xcalloc(nr + 1, sizeof(*f));
	_cleanup_free_ SeccompFilter **fp = xcalloc(nr + 1, sizeof(*fp));

	/* CRIU writes seccomp.img for every container, empty when no task has a filter */
	if (!nr && !st->seccomp_strict && !st->ns.container)
		return 0;
	for (size_t i = 0; i < nr; i++) {
		const struct glue_sc_entry *e = &st->sc->e[i];

		seccomp_filter__init(&f[i]);
		f[i].filter.data = e->data;
		f[i].filter.len = e->len;
		f[i].has_flags = true;
		f[i].flags = e->flags;
		f[i].has_prev = e->has_prev;
		f[i].prev = e->prev;
		fp[i] = &f[i];
	}
	se.n_seccomp_filters = nr;
	se.seccomp_filters = fp;
	if (glue_dump_write_single(dirfd, IMG_SECCOMP, 0, &se, err) < 0)
		return -1;
	if (nr)
		pr_info("seccomp.img: %zu filter entries", nr);
	return 0;
}

/* see dump-priv.h */
void glue_seccomp_free(struct glue_dump_state *st)
{
	if (!st->sc)
		return;
	for (size_t i = 0; i < st->sc->nr; i++)
		free(st->sc->e[i].data);
	free(st->sc->e);
	free(st->sc);
	st->sc = NULL;
}
