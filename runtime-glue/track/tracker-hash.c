// SPDX-License-Identifier: MIT
/*
 * The "hash" tracker: no kernel help.  Every present page is read and hashed;
 * a page whose hash equals the one recorded for the same address in the
 * parent layer becomes a PE_PARENT entry.  The hashes of every page a layer
 * holds (written or inherited) are stored in the layer as
 * ckpt-hash-<obj>.bin, so the next layer compares against its parent only.
 *
 *   ckpt-hash-<obj>.bin := "CKPTHSH1" u64 key[2] { u64 addr, u64 lo, u64 hi }...
 *
 * Records are sorted by address; both the parent's file and the new one are
 * streamed (the engine hands chunks in address order), so ckpt's memory does
 * not grow with the target's.  The hash is keyed with a random key chosen at
 * the first layer of an object and inherited down the chain, so a workload
 * cannot construct colliding pages without reading the image directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/track/tracker.h"

#define HASH_MAGIC "CKPTHSH1"

struct hash_rec {
	uint64_t addr, lo, hi;
};

struct hash_obj {
	FILE *parent; /* parent's records, or NULL */
	struct hash_rec cur;
	bool cur_valid;
	FILE *out; /* new records, written straight into the new layer */
	uint64_t key[2];
	struct glue_hash128 *scratch; /* per-chunk hashes */
	size_t scratch_len;
	uint64_t nr_out;
};

struct hash_state {
	int parent_dirfd;
	int layer_dirfd;
};

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* see tracker.h */
struct glue_hash128 glue_page_hash(const void *page, const uint64_t key[2])
{
	static const uint64_t k[4] = { 0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL,
				       0x165667b19e3779f9ULL, 0xd6e8feb86659fd93ULL };
	const uint64_t *w = page;
	uint64_t a = key[0] ^ k[0], b = key[1] ^ k[1];
	uint64_t c = key[0] ^ k[2], d = key[1] ^ k[3];
	struct glue_hash128 h;

	/*
	 * Two independent 64-bit accumulators, each fed 16 bytes per step by a
	 * 64x64->128 multiply of key-whitened words; the rotate makes the
	 * result depend on word positions.
	 */
	for (size_t i = 0; i < GLUE_PAGE_SIZE / 8; i += 4) {
		a = rotl(a, 29) + mix(w[i] ^ key[0] ^ k[0], w[i + 1] ^ key[1] ^ k[1]);
		c = rotl(c, 31) + mix(w[i + 2] ^ key[1] ^ k[2], w[i + 3] ^ key[0] ^ k[3]);
		b += w[i] ^ rotl(w[i + 2], 17);
		d += w[i + 1] ^ rotl(w[i + 3], 13);
	}
	h.lo = mix(a ^ k[0], c ^ d ^ k[1]) ^ b;
	h.hi = mix(c ^ k[2], a ^ b ^ k[3]) ^ d;
	h.lo = mix(h.lo ^ key[1], h.hi ^ k[2]) + h.hi;
	h.hi = mix(h.hi ^ key[0], h.lo ^ k[3]) + h.lo;
	return h;
}

static char *obj_file(const struct glue_mobj *obj)
{
	return xasprintf("ckpt-hash-%s-%llu.bin", obj->shmem ? "shmem" : "pid",
			 (unsigned long long)obj->id);
}

static int hash_open(struct glue_tracker_ctx *t, int parent_dirfd, int layer_dirfd, bool rearm,
		     struct ck_err **err)
{
	struct hash_state *s = xzalloc(sizeof(*s));

	s->parent_dirfd = parent_dirfd;
	s->layer_dirfd = layer_dirfd;
	t->priv = s;
	return 0;
}

static bool next_parent(struct hash_obj *ho)
{
	ho->cur_valid = ho->parent && fread(&ho->cur, sizeof(ho->cur), 1, ho->parent) == 1;
	return ho->cur_valid;
}

/* Open the parent's hash file of @obj; missing or unreadable means "no history". */
static void open_parent(struct hash_state *s, struct glue_mobj *obj, struct hash_obj *ho)
{
	_cleanup_free_ char *name = obj_file(obj);
	_cleanup_err_ struct ck_err *e = NULL;
	char magic[8];
	int fd;

	if (s->parent_dirfd < 0 || !obj->has_parent)
		return;
	fd = ck_open_regular(s->parent_dirfd, name, true, &e);
	if (fd < 0) {
		if (e->errnum == ENOENT)
			pr_info("hash: parent has no %s, every page of %llu is written", name,
				(unsigned long long)obj->id);
		else
			pr_warn("hash: parent layer: %s; every page of %llu is written", e->msg,
				(unsigned long long)obj->id);
		return;
	}
	ho->parent = fdopen(fd, "r");
	if (!ho->parent) {
		close(fd);
		return;
	}
	if (fread(magic, 8, 1, ho->parent) != 1 || memcmp(magic, HASH_MAGIC, 8) ||
	    fread(ho->key, sizeof(ho->key), 1, ho->parent) != 1) {
		pr_warn("hash: %s in the parent layer is damaged; writing a full layer", name);
		fclose(ho->parent);
		ho->parent = NULL;
		return;
	}
	next_parent(ho);
}

static int hash_collect(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct ck_err **err)
{
	struct hash_state *s = t->priv;
	struct hash_obj *ho = xzalloc(sizeof(*ho));

	obj->tracker_priv = ho;
	open_parent(s, obj, ho);
	if (!ho->parent && getrandom(ho->key, sizeof(ho->key), 0) != sizeof(ho->key))
		return ck_err_set(err, errno, "getrandom");
	_cleanup_free_ char *name = obj_file(obj);
	int fd = openat(s->layer_dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return ck_err_set(err, errno, "create %s", name);
	ho->out = fdopen(fd, "w");
	if (!ho->out) {
		close(fd);
		return ck_err_set(err, errno, "fdopen %s", name);
	}
	setvbuf(ho->out, NULL, _IOFBF, 1 << 16);
	if (fwrite(HASH_MAGIC, 8, 1, ho->out) != 1 ||
	    fwrite(ho->key, sizeof(ho->key), 1, ho->out) != 1)
		return ck_err_set(err, errno, "write %s", name);
	return 0;
}

static int hash_classify(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct glue_chunk *c,
			 struct ck_err **err)
{
	/* Nothing is known without the content: compare() decides. */
	memset(c->dirty, 1, c->npages);
	return 0;
}

/* The parent's hash of @addr, advancing the cursor (addresses only increase). */
static const struct hash_rec *parent_lookup(struct hash_obj *ho, uint64_t addr)
{
	while (ho->cur_valid && ho->cur.addr < addr)
		next_parent(ho);
	if (ho->cur_valid && ho->cur.addr == addr)
		return &ho->cur;
	return NULL;
}

static int hash_compare(struct glue_tracker_ctx *t, struct glue_mobj *obj, struct glue_chunk *c,
			struct ck_err **err)
{
	struct hash_obj *ho = obj->tracker_priv;

	if (ho->scratch_len < c->npages) {
		ho->scratch = xreallocarray(ho->scratch, c->npages, sizeof(*ho->scratch));
		ho->scratch_len = c->npages;
	}
	for (size_t i = 0; i < c->npages; i++) {
		uint64_t addr = c->addr + i * GLUE_PAGE_SIZE;
		const struct hash_rec *p;

		if (!c->read[i])
			return ck_err_set(err, 0, "BUG: hash tracker given an unread page at %#llx",
					  (unsigned long long)addr);
		ho->scratch[i] = glue_page_hash(c->buf + i * GLUE_PAGE_SIZE, ho->key);
		t->pages_compared++;
		if (!c->held[i])
			continue;
		p = parent_lookup(ho, addr);
		if (p && p->lo == ho->scratch[i].lo && p->hi == ho->scratch[i].hi) {
			c->dirty[i] = 0;
			t->pages_unchanged++;
		}
	}
	return 0;
}

static int hash_record(struct glue_tracker_ctx *t, struct glue_mobj *obj,
		       const struct glue_chunk *c, struct ck_err **err)
{
	struct hash_obj *ho = obj->tracker_priv;

	for (size_t i = 0; i < c->npages; i++) {
		struct hash_rec r = { .addr = c->addr + i * GLUE_PAGE_SIZE };

		r.lo = ho->scratch[i].lo;
		r.hi = ho->scratch[i].hi;
		if (fwrite(&r, sizeof(r), 1, ho->out) != 1)
			return ck_err_set(err, errno, "hash: write");
		ho->nr_out++;
	}
	return 0;
}

static int hash_finish_obj(struct glue_tracker_ctx *t, struct glue_mobj *obj, int layer_dirfd,
			   struct ck_err **err)
{
	struct hash_obj *ho = obj->tracker_priv;
	FILE *f;

	if (!ho || !ho->out)
		return 0;
	f = steal_ptr(&ho->out);
	if (fclose(f) != 0) {
		_cleanup_free_ char *name = obj_file(obj);

		return ck_err_set(err, errno, "write %s", name);
	}
	return 0;
}

static void hash_release_obj(struct glue_tracker_ctx *t, struct glue_mobj *obj)
{
	struct hash_obj *ho = obj->tracker_priv;

	if (!ho)
		return;
	if (ho->parent)
		fclose(ho->parent);
	if (ho->out)
		fclose(ho->out);
	free(ho->scratch);
	free(ho);
	obj->tracker_priv = NULL;
}

static void hash_close(struct glue_tracker_ctx *t)
{
	free(t->priv);
	t->priv = NULL;
}

const struct glue_tracker_ops glue_tracker_hash_ops = {
	.id = GLUE_TRACKER_HASH,
	.needs_content = true,
	.open = hash_open,
	.collect = hash_collect,
	.classify = hash_classify,
	.compare = hash_compare,
	.record = hash_record,
	.finish_obj = hash_finish_obj,
	.release_obj = hash_release_obj,
	.close = hash_close,
};
