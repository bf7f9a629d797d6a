// SPDX-License-Identifier: MIT
/*
 * The final dump's frozen buffer: page data copied while frozen, written
 * after the kill or the thaw (see frozen-buf.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/mem/copy.h"
#include "runtime-glue/dump/frozen-buf.h"
#include "runtime-glue/fault.h"

/* One piece of page data to write: in the buffer, or in the early copy. */
struct fb_rec {
	struct glue_pmw *w;
	const uint8_t *p;
	size_t len;
};

struct glue_fbuf;
static void buf_release(struct glue_fbuf *fb);
static int settle(struct glue_fbuf *fb, struct ck_err **err);
static void rec_room(struct glue_fbuf *fb);

struct glue_fbuf {
	uint64_t cap;
	size_t used;        /* offset of the next byte to fill */
	size_t lo, hi;      /* the part of data being filled: [lo, hi) */
	bool ring;          /* spilled through the copier: data is two halves */
	uint64_t in_flight; /* the other half's copier ticket */
	struct glue_copier *cp;
	uint8_t *data;      /* allocated at the first page: untouched memory costs nothing */
	const uint8_t *ext; /* glue_fbuf_external(): taken by pointer, never copied */
	size_t ext_len;
	struct fb_rec *rec;
	size_t nr, rcap;
	struct glue_fbuf_stats st;
};

/* see frozen-buf.h */
struct glue_fbuf *glue_fbuf_new(uint64_t cap)
{
	struct glue_fbuf *fb = xzalloc(sizeof(*fb));

	fb->cap = cap;
	fb->hi = cap;
	fb->st.cap = cap;
	return fb;
}

/* see frozen-buf.h */
void glue_fbuf_free(struct glue_fbuf *fb)
{
	struct ck_err *e = NULL;

	if (!fb)
		return;
	/* after a failure: the writer may still read the buffer (or the early copy) */
	settle(fb, &e);
	ck_err_free(&e);
	buf_release(fb);
	free(fb->rec);
	free(fb);
}

/*
 * The buffer, mapped at its first use (untouched pages cost nothing).  No
 * MADV_HUGEPAGE: a huge page fault may compact memory first, which took tens
 * of milliseconds inside the freeze here; 4 KiB faults cost a few.
 */
static uint8_t *buf_alloc(struct glue_fbuf *fb)
{
	void *p;

	if (fb->data)
		return fb->data;
	p = mmap(NULL, fb->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	fb->data = p;
	return fb->data;
}

static void buf_release(struct glue_fbuf *fb)
{
	if (fb->data)
		munmap(fb->data, fb->cap);
	fb->data = NULL;
}

/* Everything handed to the copier is written (before any write of this thread). */
static int settle(struct glue_fbuf *fb, struct ck_err **err)
{
	return fb->cp ? glue_copier_drain(fb->cp, err) : 0;
}

static int write_all(struct glue_fbuf *fb, struct ck_err **err)
{
	if (fb->nr && glue_fault("frozen-write", err) < 0)
		return -1;
	if (settle(fb, err) < 0)
		return -1;
	for (size_t i = 0; i < fb->nr; i++)
		if (glue_pmw_write_data(fb->rec[i].w, fb->rec[i].p, fb->rec[i].len, err) < 0)
			return -1;
	fb->nr = 0;
	fb->used = fb->lo = 0;
	fb->hi = fb->cap;
	fb->ring = false;
	return 0;
}

/* Hand records [from, to) to the copier and submit them; *ticket names them. */
static int queue_recs(struct glue_fbuf *fb, size_t from, size_t to, uint64_t *ticket,
		      struct ck_err **err)
{
	for (size_t i = from; i < to; i++)
		if (glue_pmw_queue_data(fb->rec[i].w, fb->rec[i].p, fb->rec[i].len, err) < 0)
			return -1;
	return glue_copier_submit_ticket(fb->cp, ticket, err);
}

/*
 * The buffer is full: its data goes to the images while the tree stays
 * frozen.  Without a copier, at once (write_all).  With one, the writer
 * thread writes it while the engine goes on reading, and the buffer becomes
 * two halves taking turns:
 *
 *   first spill   [ A: written first    | B: written next      ]  fill A again once A is written
 *   then          [ A: being filled     | B: in flight         ]  A full: queue A, wait for B,
 *                 [ A: in flight        | B: being filled      ]  fill B; and so on
 *
 * The records are in buffer order (early-copy records, outside the buffer,
 * between them), so "A" is a prefix of them: the record that crosses the
 * middle is cut in two.  The bound stays cap bytes.
 */
static int spill(struct glue_fbuf *fb, size_t need, struct ck_err **err)
{
	size_t half = fb->cap / 2 / 4096 * 4096, cut = 0;
	uint64_t ta, tb;

	if (!fb->st.spills++)
		pr_info("frozen buffer full (%" PRIu64
			" KiB): spilling page data to the image while frozen",
			fb->st.cap >> 10);
	fb->st.spilled += fb->used - fb->lo;
	if (!fb->cp && fb->nr)
		fb->cp = glue_pmw_copier(fb->rec[0].w);
	if (!fb->cp || !fb->data || !half || need > half)
		return write_all(fb, err);
	if (fb->nr && glue_fault("frozen-write", err) < 0)
		return -1;
	if (fb->ring) {
		/* the half just filled goes; the other one must be written before reuse */
		if (queue_recs(fb, 0, fb->nr, &ta, err) < 0 ||
		    glue_copier_wait(fb->cp, fb->in_flight, err) < 0)
			return -1;
		fb->nr = 0;
		fb->in_flight = ta;
		fb->lo = fb->lo ? 0 : half;
		fb->hi = fb->lo ? fb->cap : half;
		fb->used = fb->lo;
		return 0;
	}
	/* first spill: A is the records up to the middle (the crossing one cut) */
	while (cut < fb->nr) {
		struct fb_rec *r = &fb->rec[cut];
		bool inside = r->p >= fb->data && r->p < fb->data + fb->cap;

		if (inside && r->p >= fb->data + half)
			break;
		if (inside && r->p + r->len > fb->data + half) {
			size_t head = (size_t)(fb->data + half - r->p);

			rec_room(fb);
			r = &fb->rec[cut];
			memmove(&fb->rec[cut + 2], &fb->rec[cut + 1],
				(fb->nr - cut - 1) * sizeof(*fb->rec));
			fb->rec[cut + 1] = (struct fb_rec){ r->w, r->p + head, r->len - head };
			r->len = head;
			fb->nr++;
			cut++;
			break;
		}
		cut++;
	}
	if (queue_recs(fb, 0, cut, &ta, err) < 0 || queue_recs(fb, cut, fb->nr, &tb, err) < 0 ||
	    glue_copier_wait(fb->cp, ta, err) < 0)
		return -1;
	fb->nr = 0;
	fb->ring = true;
	fb->in_flight = tb;
	fb->lo = fb->used = 0;
	fb->hi = half;
	return 0;
}

/* Room for one more record. */
static void rec_room(struct glue_fbuf *fb)
{
	if (fb->nr == fb->rcap) {
		fb->rcap = fb->rcap ? fb->rcap * 2 : 256;
		fb->rec = xreallocarray(fb->rec, fb->rcap, sizeof(*fb->rec));
	}
}

/* Record @len bytes at @p for @w, after the last record (merged when contiguous). */
static int add_rec(struct glue_fbuf *fb, struct glue_pmw *w, const uint8_t *p, size_t len)
{
	struct fb_rec *last = fb->nr ? &fb->rec[fb->nr - 1] : NULL;

	if (last && last->w == w && last->p + last->len == p) {
		last->len += len;
		return 0;
	}
	rec_room(fb);
	fb->rec[fb->nr++] = (struct fb_rec){ .w = w, .p = p, .len = len };
	return 0;
}

/* see frozen-buf.h */
void glue_fbuf_external(struct glue_fbuf *fb, const void *p, size_t len)
{
	fb->ext = p;
	fb->ext_len = len;
	fb->cap = len < fb->cap ? fb->cap - len : 0;
	fb->hi = fb->cap;
}

/* see frozen-buf.h */
int glue_fbuf_put(void *ctx, struct glue_pmw *w, const void *data, size_t len, struct ck_err **err)
{
	struct glue_fbuf *fb = ctx;

	fb->st.total += len;
	if (fb->ext && (const uint8_t *)data >= fb->ext &&
	    (const uint8_t *)data + len <= fb->ext + fb->ext_len) {
		/* copied before the freeze: recorded, not copied (nor counted in the bound) */
		fb->st.early += len;
		return add_rec(fb, w, data, len);
	}
	if (fb->data && data == fb->data + fb->used && fb->used + len <= fb->hi)
		goto take; /* read there by glue_fbuf_tail()'s caller: no copy */
	if (fb->used + len > fb->hi) {
		if (spill(fb, len, err) < 0)
			return -1;
		if (fb->used + len > fb->hi) {
			fb->st.spilled += len;
			return write_all(fb, err) < 0 ? -1 : glue_pmw_write_data(w, data, len, err);
		}
	}
	if (!buf_alloc(fb)) {
		/* no memory for the buffer: this data goes to the file now */
		fb->st.spilled += len;
		return write_all(fb, err) < 0 ? -1 : glue_pmw_write_data(w, data, len, err);
	}
	memcpy(fb->data + fb->used, data, len);
take:
	add_rec(fb, w, fb->data + fb->used, len);
	fb->used += len;
	fb->st.buffered += len;
	if (fb->used > fb->st.peak)
		fb->st.peak = fb->used;
	return 0;
}

/* see frozen-buf.h */
void *glue_fbuf_tail(struct glue_fbuf *fb, size_t len, struct ck_err **err, bool *failed)
{
	*failed = false;
	if (!len || len > fb->cap)
		return NULL;
	if (fb->used + len > fb->hi && spill(fb, len, err) < 0) {
		*failed = true;
		return NULL;
	}
	if (fb->used + len > fb->hi || !buf_alloc(fb))
		return NULL;
	return fb->data + fb->used;
}

/* see frozen-buf.h */
int glue_fbuf_reserve(struct glue_fbuf *fb, struct ck_err **err)
{
	/* one reservation per writer: the sum of its records (after what is in flight) */
	if (settle(fb, err) < 0)
		return -1;
	for (size_t i = 0; i < fb->nr; i++) {
		uint64_t len = 0;
		bool seen = false, reserved;

		for (size_t k = 0; k < i && !seen; k++)
			seen = fb->rec[k].w == fb->rec[i].w;
		if (seen)
			continue;
		for (size_t k = i; k < fb->nr; k++)
			if (fb->rec[k].w == fb->rec[i].w)
				len += fb->rec[k].len;
		if (glue_pmw_reserve(fb->rec[i].w, len, &reserved, err) < 0)
			return -1;
		if (!reserved)
			pr_debug("frozen buffer: the filesystem cannot reserve space");
	}
	return 0;
}

/* see frozen-buf.h */
int glue_fbuf_flush(struct glue_fbuf *fb, struct ck_err **err)
{
	if (write_all(fb, err) < 0)
		return -1;
	buf_release(fb);
	return 0;
}

/* see frozen-buf.h */
void glue_fbuf_stats(const struct glue_fbuf *fb, struct glue_fbuf_stats *st)
{
	*st = fb->st;
}

/* see frozen-buf.h */
int glue_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (shift && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}
