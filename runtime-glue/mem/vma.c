// SPDX-License-Identifier: MIT
/*
 * /proc/PID/smaps parser and CRIU-style VMA classification.
 *
 * smaps rather than maps because VmFlags carries what VmEntry.flags/madv need
 * (gd, lo, nr, ht, dp, sh, ...), and Rss/Swap let the dumper skip VMAs that
 * hold no page at all without scanning them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "runtime-glue/mem/vma.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif

struct vmflag_map {
	char code[3];
	uint32_t map_flag; /* MAP_* bit, or 0 */
	int madv;          /* MADV_* number, or -1 */
};

/* clang-format off */
static const struct vmflag_map vmflags[] = {
	{ "gd", MAP_GROWSDOWN, -1 },
	{ "lo", MAP_LOCKED, -1 },
	{ "nr", MAP_NORESERVE, -1 },
	{ "ht", MAP_HUGETLB, -1 },
	{ "dp", MAP_DROPPABLE, -1 },
	{ "sr", 0, MADV_SEQUENTIAL },
	{ "rr", 0, MADV_RANDOM },
	{ "dc", 0, MADV_DONTFORK },
	{ "dd", 0, MADV_DONTDUMP },
	{ "mg", 0, MADV_MERGEABLE },
	{ "hg", 0, MADV_HUGEPAGE },
	{ "nh", 0, MADV_NOHUGEPAGE },
	{ "wf", 0, MADV_WIPEONFORK },
};
/* clang-format on */

/* Per-VMA parse state not stored in struct glue_vma. */
struct vma_raw {
	bool shared;
	bool io; /* VM_IO or VM_PFNMAP: not readable memory */
	bool shstk;
	uint64_t resident_kb;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void classify(struct glue_vma *v, const struct vma_raw *raw)
{
	const char *n = v->name ? v->name : "";
	uint32_t share = raw->shared ? MAP_SHARED : MAP_PRIVATE;

	v->flags |= share;
	v->dump = GLUE_DUMP_PRIVATE;

	if (!strcmp(n, "[vsyscall]")) {
		v->status = GLUE_VMA_VSYSCALL | GLUE_VMA_ANON_PRIVATE;
		v->flags |= MAP_ANONYMOUS;
		v->dump = GLUE_DUMP_SKIP;
	} else if (!strcmp(n, "[vvar]") || !strcmp(n, "[vvar_vclock]")) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_ANON_PRIVATE | GLUE_VMA_VVAR;
		v->flags |= MAP_ANONYMOUS;
		v->dump = GLUE_DUMP_SKIP;
	} else if (!strcmp(n, "[vdso]")) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_VDSO | GLUE_VMA_ANON_PRIVATE;
		v->flags |= MAP_ANONYMOUS;
		v->dump = GLUE_DUMP_WHOLE;
	} else if (!strcmp(n, "[uprobes]")) {
		v->status = 1U << 17;
		v->flags |= MAP_ANONYMOUS;
		v->dump = GLUE_DUMP_SKIP;
	} else if (starts_with(n, "/[aio]")) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_AIORING;
		v->flags |= MAP_ANONYMOUS;
		v->dump = GLUE_DUMP_WHOLE;
	} else if (starts_with(n, "socket:")) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_SOCKET;
		v->dump = GLUE_DUMP_SKIP;
	} else if (starts_with(n, "/SYSV") && ends_with(n, " (deleted)")) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_SYSVIPC | GLUE_VMA_ANON_SHARED;
		v->dump = GLUE_DUMP_SHMEM;
	} else if (starts_with(n, "/memfd:")) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_MEMFD |
			    (raw->shared ? GLUE_VMA_FILE_SHARED : GLUE_VMA_FILE_PRIVATE);
		v->dump = raw->shared ? GLUE_DUMP_SHMEM : GLUE_DUMP_PRIVATE;
	} else if (raw->shared && (starts_with(n, "/dev/zero") || starts_with(n, "[anon_shmem:"))) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_ANON_SHARED;
		v->flags |= MAP_ANONYMOUS;
		v->dump = GLUE_DUMP_SHMEM;
	} else if (v->ino == 0 && (n[0] != '/')) {
		/* plain anonymous, [heap], [stack], [anon:name] */
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_ANON_PRIVATE;
		if (!strcmp(n, "[heap]"))
			v->status |= GLUE_VMA_HEAP;
		v->flags |= MAP_ANONYMOUS;
		if (raw->shared) {
			/* a shared anonymous VMA without a shmem name: treat as a segment */
			v->status = GLUE_VMA_REGULAR | GLUE_VMA_ANON_SHARED;
			v->dump = GLUE_DUMP_SHMEM;
		}
	} else if (raw->shared) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_FILE_SHARED;
		v->dump = GLUE_DUMP_SKIP; /* the data lives in the file */
	} else {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_FILE_PRIVATE;
	}

	if (raw->shstk) {
		v->status = GLUE_VMA_REGULAR | GLUE_VMA_SHSTK;
		v->dump = GLUE_DUMP_PRIVATE;
	}
	if (v->flags & MAP_DROPPABLE)
		v->dump = GLUE_DUMP_SKIP;
	/* VM_IO / VM_PFNMAP (device memory): not ordinary pages, never read them. */
	if (raw->io && v->dump != GLUE_DUMP_SKIP && !(v->status & GLUE_VMA_VDSO))
		v->dump = GLUE_DUMP_SKIP;
	v->rss_kb = raw->resident_kb;
}

static void parse_vmflags(struct glue_vma *v, struct vma_raw *raw, char *s)
{
	char *save = NULL;

	for (char *tok = strtok_r(s, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strcmp(tok, "sh"))
			raw->shared = true;
		else if (!strcmp(tok, "io") || !strcmp(tok, "pf"))
			raw->io = true;
		else if (!strcmp(tok, "ss"))
			raw->shstk = true;
		else if (!strcmp(tok, "um") || !strcmp(tok, "uw") || !strcmp(tok, "ui"))
			v->uffd = true;
		for (size_t i = 0; i < ARRAY_SIZE(vmflags); i++) {
			if (strcmp(tok, vmflags[i].code))
				continue;
			v->flags |= vmflags[i].map_flag;
			if (vmflags[i].madv >= 0)
				v->madv |= 1ULL << vmflags[i].madv;
		}
	}
}

/*
 * One number of base 16 or 10 at *p, then the character @sep (0: any of
 * space, tab or the end); *p moves past both.  By hand, not sscanf: the frozen
 * maps read of 10,000 VMAs spent more in sscanf than in the kernel.
 */
static int num(const char **p, unsigned base, char sep, uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;

	for (;; q++) {
		unsigned d;

		if (*q >= '0' && *q <= '9')
			d = (unsigned)(*q - '0');
		else if (base == 16 && *q >= 'a' && *q <= 'f')
			d = (unsigned)(*q - 'a' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	if (q == *p)
		return -1;
	if (sep ? *q != sep : (*q != ' ' && *q != '\t' && *q != '\n' && *q))
		return -1;
	*p = *q ? q + 1 : q;
	*out = v;
	return 0;
}

/* "start-end perms offset dev inode [name]" */
static int parse_header(const char *line, struct glue_vma *v, struct vma_raw *raw)
{
	const char *q = line, *perms;
	uint64_t start, end, off, ino, maj, min;
	int pos;

	if (num(&q, 16, '-', &start) < 0 || num(&q, 16, ' ', &end) < 0)
		return -1;
	perms = q;
	if (strnlen(perms, 5) < 5 || perms[4] != ' ')
		return -1;
	q += 5;
	if (num(&q, 16, ' ', &off) < 0 || num(&q, 16, ':', &maj) < 0 ||
	    num(&q, 16, ' ', &min) < 0 || num(&q, 10, 0, &ino) < 0 || end <= start || maj > 0xfff ||
	    min > 0xfffff)
		return -1;
	pos = (int)(q - line);
	memset(v, 0, sizeof(*v));
	memset(raw, 0, sizeof(*raw));
	raw->resident_kb = UINT64_MAX; /* unknown until an Rss: line (maps has none) */
	v->start = start;
	v->end = end;
	v->pgoff = off;
	v->ino = ino;
	v->dev = ((uint64_t)maj << 20) | min; /* the kernel's MKDEV encoding */
	if (perms[0] == 'r')
		v->prot |= PROT_READ;
	if (perms[1] == 'w')
		v->prot |= PROT_WRITE;
	if (perms[2] == 'x')
		v->prot |= PROT_EXEC;
	raw->shared = perms[3] == 's';

	const char *name = line + pos;

	while (*name == ' ' || *name == '\t')
		name++;
	if (*name) {
		size_t len = strcspn(name, "\n");

		v->name = xmalloc(len + 1);
		memcpy(v->name, name, len);
		v->name[len] = '\0';
	}
	return 0;
}

static bool is_header(const char *line)
{
	const char *p = line;

	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
		p++;
	return p != line && *p == '-';
}

static void push(struct glue_vmas *out, size_t *cap, struct glue_vma *v, const struct vma_raw *raw)
{
	classify(v, raw);
	/* [vvar] and [vvar_vclock] are one VMA for CRIU's purposes */
	if (out->nr && (v->status & GLUE_VMA_VVAR)) {
		struct glue_vma *prev = &out->v[out->nr - 1];

		if ((prev->status & GLUE_VMA_VVAR) && prev->end == v->start) {
			prev->end = v->end;
			free(v->name);
			return;
		}
	}
	if (out->nr == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		out->v = xreallocarray(out->v, *cap, sizeof(*out->v));
	}
	out->v[out->nr++] = *v;
}

/* see vma.h */
int glue_vmas_parse(FILE *f, struct glue_vmas *out, struct ck_err **err)
{
	_cleanup_free_ char *line = NULL;
	struct glue_vmas res = { 0 };
	struct glue_vma cur;
	struct vma_raw raw;
	bool have = false;
	size_t cap = 0, n = 0;

	while (getline(&line, &n, f) > 0) {
		if (is_header(line)) {
			if (have)
				push(&res, &cap, &cur, &raw);
			if (parse_header(line, &cur, &raw) < 0) {
				glue_vmas_free(&res);
				return ck_err_set(err, 0, "malformed smaps line '%.80s'", line);
			}
			have = true;
		} else if (have && starts_with(line, "VmFlags:")) {
			parse_vmflags(&cur, &raw, line + 8);
		} else if (have && (starts_with(line, "Rss:") || starts_with(line, "Swap:"))) {
			unsigned long long kb = 0;

			if (raw.resident_kb == UINT64_MAX)
				raw.resident_kb = 0;
			if (sscanf(strchr(line, ':') + 1, "%llu", &kb) == 1)
				raw.resident_kb += kb;
		}
	}
	if (ferror(f)) {
		if (have)
			free(cur.name);
		glue_vmas_free(&res);
		return ck_err_set(err, errno, "read smaps");
	}
	if (have)
		push(&res, &cap, &cur, &raw);
	for (size_t i = 1; i < res.nr; i++) {
		if (res.v[i].start < res.v[i - 1].end) {
			glue_vmas_free(&res);
			return ck_err_set(err, 0, "smaps VMAs overlap or are unsorted");
		}
	}
	*out = res;
	return 0;
}

static int read_file(pid_t pid, const char *file, struct glue_vmas *out, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "re");
	if (!f)
		return ck_err_set(err, errno, "open %s", path);
	/* generated in page-sized chunks; a large buffer keeps reads few */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	if (glue_vmas_parse(f, out, err) < 0)
		return ck_err_wrap(err, "%s", path);
	return 0;
}

/* see vma.h */
int glue_vmas_read(pid_t pid, struct glue_vmas *out, struct ck_err **err)
{
	return read_file(pid, "smaps", out, err);
}

/* see vma.h */
int glue_vmas_read_fast(pid_t pid, struct glue_vmas *out, struct ck_err **err)
{
	return read_file(pid, "maps", out, err);
}

/* see vma.h */
size_t glue_vmas_merge_flags(struct glue_vmas *fast, const struct glue_vmas *full)
{
	size_t missed = 0;

	for (size_t i = 0; i < fast->nr; i++) {
		struct glue_vma *v = &fast->v[i];
		const struct glue_vma *w = glue_vma_find(full, v->start);

		if (!w || w->start != v->start || w->end != v->end || w->ino != v->ino ||
		    w->dev != v->dev || w->pgoff != v->pgoff || w->prot != v->prot) {
			missed++;
			continue;
		}
		v->flags = w->flags;
		v->madv = w->madv;
		v->status = w->status;
	}
	return missed;
}

/* see vma.h */
void glue_vmas_snap_add(struct glue_vmas_snap *s, pid_t pid, uint64_t start_time,
			struct glue_vmas *vmas)
{
	s->t = xreallocarray(s->t, s->nr + 1, sizeof(*s->t));
	s->t[s->nr].pid = pid;
	s->t[s->nr].start_time = start_time;
	s->t[s->nr++].vmas = *vmas;
	memset(vmas, 0, sizeof(*vmas));
}

/* see vma.h */
const struct glue_vmas *glue_vmas_snap_find(const struct glue_vmas_snap *s, pid_t pid,
					    uint64_t start_time)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->t[i].pid == pid && s->t[i].start_time == start_time)
			return &s->t[i].vmas;
	return NULL;
}

/* see vma.h */
void glue_vmas_snap_free(struct glue_vmas_snap *s)
{
	for (size_t i = 0; i < s->nr; i++)
		glue_vmas_free(&s->t[i].vmas);
	free(s->t);
	memset(s, 0, sizeof(*s));
}

/* see vma.h */
void glue_vmas_free(struct glue_vmas *vmas)
{
	for (size_t i = 0; i < vmas->nr; i++)
		free(vmas->v[i].name);
	free(vmas->v);
	vmas->v = NULL;
	vmas->nr = 0;
}

/* see vma.h */
const struct glue_vma *glue_vma_find(const struct glue_vmas *vmas, uint64_t addr)
{
	size_t lo = 0, hi = vmas->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct glue_vma *v = &vmas->v[mid];

		if (addr < v->start)
			hi = mid;
		else if (addr >= v->end)
			lo = mid + 1;
		else
			return v;
	}
	return NULL;
}

/* see vma.h */
const char *glue_vma_kind(const struct glue_vma *v)
{
	if (v->status & GLUE_VMA_VDSO)
		return "vdso";
	if (v->status & GLUE_VMA_VVAR)
		return "vvar";
	if (v->status & GLUE_VMA_VSYSCALL)
		return "vsyscall";
	if (v->status & GLUE_VMA_AIORING)
		return "aio-ring";
	if (v->status & GLUE_VMA_SYSVIPC)
		return "sysv-shm";
	if (v->status & GLUE_VMA_MEMFD)
		return (v->status & GLUE_VMA_FILE_SHARED) ? "memfd-shared" : "memfd-private";
	if (v->status & GLUE_VMA_ANON_SHARED)
		return "anon-shared";
	if (v->status & GLUE_VMA_FILE_SHARED)
		return "file-shared";
	if (v->status & GLUE_VMA_FILE_PRIVATE)
		return "file-private";
	if (v->status & GLUE_VMA_SHSTK)
		return "shadow-stack";
	if (v->status & GLUE_VMA_HEAP)
		return "heap";
	if (v->status & GLUE_VMA_ANON_PRIVATE)
		return "anon-private";
	return "other";
}
