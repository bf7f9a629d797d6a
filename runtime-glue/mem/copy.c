// SPDX-License-Identifier: MIT
/*
 * The layer's page writer: a ring of buffers between the engine (reading the
 * target into a buffer) and one writer thread (writing buffers to the pages
 * images), so that reading and writing overlap.  See copy.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "proto/img.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/mem/copy.h"

struct run {
	struct img *img;
	const char *p;
	size_t len;
};

struct slot {
	char *buf;
	struct run *runs;
	size_t nruns;
};

struct glue_copier {
	size_t slot_bytes, max_runs;
	unsigned nslots;
	struct slot *slots;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* prod, cons, stop or err changed */
	uint64_t prod;       /* buffers submitted */
	uint64_t cons;       /* buffers written (or dropped after an error) */
	bool have_cur;       /* slots[prod % nslots] is being filled */
	bool started, stop;
	pthread_t thread;
	struct ck_err *err; /* the writer's first error */
	bool failed;
};

/* see copy.h */
struct glue_copier *glue_copier_new(size_t slot_bytes, unsigned nslots)
{
	struct glue_copier *c = xzalloc(sizeof(*c));

	c->slot_bytes = slot_bytes;
	c->nslots = nslots < 2 ? 2 : nslots;
	/* a run is at least one page; two runs are never adjacent pages of one image */
	c->max_runs = slot_bytes / 4096 + 1;
	c->slots = xcalloc(c->nslots, sizeof(*c->slots));
	for (unsigned i = 0; i < c->nslots; i++) {
		c->slots[i].buf = xmalloc_pages(slot_bytes);
		c->slots[i].runs = xcalloc(c->max_runs, sizeof(*c->slots[i].runs));
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	return c;
}

static int write_slot(struct slot *s, struct ck_err **err)
{
	for (size_t i = 0; i < s->nruns; i++)
		if (img_write_raw(s->runs[i].img, s->runs[i].p, s->runs[i].len, err) < 0)
			return -1;
	s->nruns = 0;
	return 0;
}

static void *writer(void *arg)
{
	struct glue_copier *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct ck_err *e = NULL;
		struct slot *s;
		bool drop;

		while (c->cons == c->prod && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->cons == c->prod)
			break; /* stopped, nothing left */
		s = &c->slots[c->cons % c->nslots];
		drop = c->err || c->failed || c->stop;
		pthread_mutex_unlock(&c->lock);
		if (drop) {
			s->nruns = 0;
		} else if ((c->cons == 1 && glue_fault("copy-write", &e) < 0) ||
			   write_slot(s, &e) < 0) {
			s->nruns = 0;
		}
		pthread_mutex_lock(&c->lock);
		if (e && !c->err && !c->failed)
			c->err = e;
		else
			ck_err_free(&e);
		c->cons++;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Report the writer's error (locked). */
static int take_err(struct glue_copier *c, struct ck_err **err)
{
	if (c->err) {
		*err = c->err;
		c->err = NULL;
		c->failed = true;
		return ck_err_wrap(err, "writing pages");
	}
	if (c->failed)
		return ck_err_set(err, EIO, "writing pages failed earlier");
	return 0;
}

static int start(struct glue_copier *c, struct ck_err **err)
{
	sigset_t all, old;
	int rc;

	if (c->started)
		return 0;
	/* signals stay with the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&c->thread, NULL, writer, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return ck_err_set(err, rc, "start the page writer thread");
	c->started = true;
	return 0;
}

/* see copy.h */
void *glue_copier_buf(struct glue_copier *c, struct ck_err **err)
{
	struct slot *s;

	pthread_mutex_lock(&c->lock);
	while (c->prod - c->cons >= c->nslots && !c->err && !c->failed)
		pthread_cond_wait(&c->cond, &c->lock);
	if (take_err(c, err) < 0) {
		pthread_mutex_unlock(&c->lock);
		return NULL;
	}
	s = &c->slots[c->prod % c->nslots];
	if (!c->have_cur)
		s->nruns = 0;
	c->have_cur = true;
	pthread_mutex_unlock(&c->lock);
	return s->buf;
}

/* Whether [p, p + len) continues @s's last run to @pages: then that run grows. */
static bool merge_run(struct slot *s, const struct img *pages, const void *p, size_t len)
{
	struct run *last = s->nruns ? &s->runs[s->nruns - 1] : NULL;

	if (!last || last->img != pages || last->p + last->len != (const char *)p)
		return false;
	last->len += len;
	return true;
}

/* see copy.h */
int glue_copier_queue(struct glue_copier *c, struct img *pages, const void *p, size_t len,
		      struct ck_err **err)
{
	struct slot *s = &c->slots[c->prod % c->nslots];
	const char *q = p;

	if (!c->have_cur || q < s->buf || q + len > s->buf + c->slot_bytes) {
		/*
		 * Data from elsewhere: written here, in order, after everything
		 * queued before it.
		 */
		if (glue_copier_drain(c, err) < 0)
			return -1;
		if (c->have_cur && write_slot(s, err) < 0)
			return -1;
		return img_write_raw(pages, p, len, err);
	}
	if (merge_run(s, pages, q, len))
		return 0;
	if (s->nruns == c->max_runs)
		return ck_err_set(err, EINVAL, "page writer: too many runs in one buffer");
	s->runs[s->nruns++] = (struct run){ pages, q, len };
	return 0;
}

/* see copy.h */
int glue_copier_submit(struct glue_copier *c, struct ck_err **err)
{
	int rc;

	if (!c->have_cur)
		return 0;
	if (!c->slots[c->prod % c->nslots].nruns) {
		c->have_cur = false; /* nothing to write: the buffer stays free */
		return 0;
	}
	if (start(c, err) < 0)
		return -1;
	pthread_mutex_lock(&c->lock);
	rc = take_err(c, err);
	if (rc == 0) {
		c->prod++;
		c->have_cur = false;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* see copy.h */
int glue_copier_queue_ext(struct glue_copier *c, struct img *pages, const void *p, size_t len,
			  struct ck_err **err)
{
	struct slot *s;

	if (!c->have_cur && !glue_copier_buf(c, err))
		return -1;
	s = &c->slots[c->prod % c->nslots];
	if (merge_run(s, pages, p, len))
		return 0;
	if (s->nruns == c->max_runs) {
		if (glue_copier_submit(c, err) < 0 || !glue_copier_buf(c, err))
			return -1;
		s = &c->slots[c->prod % c->nslots];
	}
	s->runs[s->nruns++] = (struct run){ pages, p, len };
	return 0;
}

/* see copy.h */
int glue_copier_submit_ticket(struct glue_copier *c, uint64_t *ticket, struct ck_err **err)
{
	if (glue_copier_submit(c, err) < 0)
		return -1;
	*ticket = c->prod; /* only this thread moves prod */
	return 0;
}

/* see copy.h */
int glue_copier_wait(struct glue_copier *c, uint64_t ticket, struct ck_err **err)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	while (c->cons < ticket && !c->err && !c->failed)
		pthread_cond_wait(&c->cond, &c->lock);
	rc = take_err(c, err);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* see copy.h */
int glue_copier_drain(struct glue_copier *c, struct ck_err **err)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	while (c->cons != c->prod)
		pthread_cond_wait(&c->cond, &c->lock);
	rc = take_err(c, err);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* see copy.h */
void glue_copier_free(struct glue_copier *c)
{
	if (!c)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	}
	ck_err_free(&c->err);
	for (unsigned i = 0; i < c->nslots; i++) {
		free(c->slots[i].buf);
		free(c->slots[i].runs);
	}
	free(c->slots);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
