// SPDX-License-Identifier: MIT
/*
 * Sample image builders (see img-sample.h).  Values imitate a small x86_64
 * program as CRIU would dump it: 62 sigactions, 16 rlimits, full fxsave area,
 * VMAs with the status bits CRIU uses, pagemap entries inside private VMAs.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "proto/core.pb-c.h"
#include "proto/creds.pb-c.h"
#include "proto/fdinfo.pb-c.h"
#include "proto/fs.pb-c.h"
#include "proto/inventory.pb-c.h"
#include "proto/memfd.pb-c.h"
#include "proto/mm.pb-c.h"
#include "proto/mnt.pb-c.h"
#include "proto/utsns.pb-c.h"
#include "proto/netdev.pb-c.h"
#include "proto/ipc-var.pb-c.h"
#include "proto/cgroup.pb-c.h"
#include "proto/pagemap.pb-c.h"
#include "proto/pipe-data.pb-c.h"
#include "proto/pipe.pb-c.h"
#include "proto/pstree.pb-c.h"
#include "proto/regfile.pb-c.h"
#include "proto/seccomp.pb-c.h"
#include "proto/stats.pb-c.h"
#include "proto/timens.pb-c.h"
#include "proto/tty.pb-c.h"
#include "tests/unit/img-sample.h"

struct sample_arena {
	void **ptrs;
	size_t n, cap;
};

/* see img-sample.h */
struct sample_arena *sample_arena_new(void)
{
	return xzalloc(sizeof(struct sample_arena));
}

/* see img-sample.h */
void sample_arena_free(struct sample_arena *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	free(a);
}

static void *alloc(struct sample_arena *a, size_t size)
{
	void *p = xzalloc(size ? size : 1);

	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->ptrs = xreallocarray(a->ptrs, a->cap, sizeof(*a->ptrs));
	}
	a->ptrs[a->n++] = p;
	return p;
}

static char *str(struct sample_arena *a, const char *s)
{
	char *p = alloc(a, strlen(s) + 1);

	strcpy(p, s);
	return p;
}

#define NEW(a, T, INIT)                       \
	({                                    \
		T *__p = alloc(a, sizeof(T)); \
		T __i = INIT;                 \
		*__p = __i;                   \
		__p;                          \
	})

/* Address-space layout of the sample task. */
#define TEXT  0x555555554000ull
#define DATA  0x555555556000ull
#define HEAP  0x555555559000ull
#define ANON  0x7f1234560000ull
#define STACK 0x7ffc12340000ull
#define VDSO  0x7ffc123fe000ull
#define VSYSC 0xffffffffff600000ull
#define PAGE  4096ull

/* Status/flag bits as CRIU writes them. */
#define VMA_REGULAR      (1u << 0)
#define VMA_VSYSCALL     (1u << 2)
#define VMA_VDSO         (1u << 3)
#define VMA_HEAP         (1u << 5)
#define VMA_FILE_PRIVATE (1u << 6)
#define VMA_ANON_PRIVATE (1u << 9)

/* clang-format off */
static const struct {
	uint64_t start, end, pgoff, shmid;
	uint32_t prot, flags, status;
} vmas[] = {
	{ TEXT, TEXT + 2 * PAGE, 0, 1, 5, 0x2, VMA_REGULAR | VMA_FILE_PRIVATE },
	{ DATA, DATA + 2 * PAGE, 2 * PAGE, 1, 3, 0x2, VMA_REGULAR | VMA_FILE_PRIVATE },
	{ HEAP, HEAP + 33 * PAGE, 0, 0, 3, 0x22, VMA_REGULAR | VMA_HEAP | VMA_ANON_PRIVATE },
	{ ANON, ANON + 16 * PAGE, 0, 0, 3, 0x22, VMA_REGULAR | VMA_ANON_PRIVATE },
	{ STACK, STACK + 33 * PAGE, 0, 0, 3, 0x122, VMA_REGULAR | VMA_ANON_PRIVATE },
	{ VDSO, VDSO + 2 * PAGE, 0, 0, 5, 0x22, VMA_REGULAR | VMA_VDSO | VMA_ANON_PRIVATE },
	{ VSYSC, VSYSC + PAGE, 0, 0, 4, 0x22, VMA_VSYSCALL | VMA_ANON_PRIVATE },
};

/* Pagemap of the sample: sorted, inside private VMAs. */
static const struct {
	uint64_t vaddr, nr_pages;
	uint32_t flags;
} pmes[] = {
	{ DATA, 1, IMG_PE_PRESENT },
	{ HEAP, 3, IMG_PE_PRESENT | IMG_PE_LAZY },
	{ ANON, 4, IMG_PE_PARENT },
	{ ANON + 8 * PAGE, 2, IMG_PE_PRESENT },
	{ STACK + 31 * PAGE, 2, IMG_PE_PRESENT },
	{ VDSO, 2, IMG_PE_PRESENT },
};
/* clang-format on */

static const char *const pipe_payload[] = { "hello", "", "pipe data\n" };

static uint32_t *u32s(struct sample_arena *a, size_t n, uint32_t seed)
{
	uint32_t *v = alloc(a, n * sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = seed ? seed * (uint32_t)(i + 1) : 0;
	return v;
}

static uint64_t *u64s(struct sample_arena *a, size_t n, uint64_t seed)
{
	uint64_t *v = alloc(a, n * sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = seed * (i + 1);
	return v;
}

static FownEntry *fown(struct sample_arena *a)
{
	return NEW(a, FownEntry, FOWN_ENTRY__INIT);
}

static CredsEntry *creds(struct sample_arena *a)
{
	CredsEntry *c = NEW(a, CredsEntry, CREDS_ENTRY__INIT);
	uint32_t **caps[] = { &c->cap_inh, &c->cap_prm, &c->cap_eff, &c->cap_bnd };
	size_t *ncaps[] = { &c->n_cap_inh, &c->n_cap_prm, &c->n_cap_eff, &c->n_cap_bnd };

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		*ncaps[i] = 2;
		*caps[i] = u32s(a, 2, 0);
		if (i) { /* full capability set, as for root */
			(*caps[i])[0] = 0xffffffffu;
			(*caps[i])[1] = 0x1ffu;
		}
	}
	c->n_groups = 1;
	c->groups = u32s(a, 1, 0);
	return c;
}

static ProtobufCMessage *core(struct sample_arena *a, unsigned pid, size_t idx)
{
	CoreEntry *c = NEW(a, CoreEntry, CORE_ENTRY__INIT);
	ThreadInfoX86 *ti = NEW(a, ThreadInfoX86, THREAD_INFO_X86__INIT);
	UserX86RegsEntry *r = NEW(a, UserX86RegsEntry, USER_X86_REGS_ENTRY__INIT);
	UserX86FpregsEntry *fp = NEW(a, UserX86FpregsEntry, USER_X86_FPREGS_ENTRY__INIT);
	UserX86XsaveEntry *xs = NEW(a, UserX86XsaveEntry, USER_X86_XSAVE_ENTRY__INIT);
	TaskCoreEntry *tc = NEW(a, TaskCoreEntry, TASK_CORE_ENTRY__INIT);
	TaskTimersEntry *tm = NEW(a, TaskTimersEntry, TASK_TIMERS_ENTRY__INIT);
	TaskRlimitsEntry *rl = NEW(a, TaskRlimitsEntry, TASK_RLIMITS_ENTRY__INIT);
	ThreadCoreEntry *th = NEW(a, ThreadCoreEntry, THREAD_CORE_ENTRY__INIT);
	ThreadSasEntry *sas = NEW(a, ThreadSasEntry, THREAD_SAS_ENTRY__INIT);

	c->mtype = CORE_ENTRY__MARCH__X86_64;
	c->thread_info = ti;
	ti->clear_tid_addr = ANON + 0xa10 + idx;
	ti->gpregs = r;
	r->ip = TEXT + 0x1139;
	r->sp = STACK + 32 * PAGE + 0x9a0;
	r->bp = r->sp + 0x10;
	r->ax = (uint64_t)-4; /* -EINTR from clock_nanosleep */
	r->orig_ax = 0xe6;
	r->cs = 0x33;
	r->ss = 0x2b;
	r->flags = 0x246;
	r->fs_base = ANON + 0x740;
	r->di = pid;
	r->has_mode = true;
	r->mode = USER_X86_REGS_MODE__NATIVE;
	ti->fpregs = fp;
	fp->cwd = 0x37f;
	fp->mxcsr = 0x1f80;
	fp->mxcsr_mask = 0xffff;
	fp->n_st_space = 32;
	fp->st_space = u32s(a, 32, 0);
	fp->n_xmm_space = 64;
	fp->xmm_space = u32s(a, 64, 0x01010101u);
	fp->xsave = xs;
	xs->xstate_bv = 7;
	xs->n_ymmh_space = 64;
	xs->ymmh_space = u32s(a, 64, 0);
	ti->n_tls = 3;
	ti->tls = alloc(a, 3 * sizeof(*ti->tls));
	for (size_t i = 0; i < 3; i++) {
		UserDescT *d = NEW(a, UserDescT, USER_DESC_T__INIT);

		d->entry_number = 12 + (uint32_t)i;
		d->read_exec_only = true;
		d->seg_not_present = true;
		ti->tls[i] = d;
	}

	c->tc = tc;
	tc->task_state = 1; /* alive */
	tc->flags = 0x400000;
	tc->comm = str(a, "sample");
	tc->timers = tm;
	tm->real = NEW(a, ItimerEntry, ITIMER_ENTRY__INIT);
	tm->virt = NEW(a, ItimerEntry, ITIMER_ENTRY__INIT);
	tm->prof = NEW(a, ItimerEntry, ITIMER_ENTRY__INIT);
	tm->real->isec = 1;
	tm->real->vsec = 1;
	tc->rlimits = rl;
	rl->n_rlimits = 16;
	rl->rlimits = alloc(a, 16 * sizeof(*rl->rlimits));
	for (size_t i = 0; i < 16; i++) {
		RlimitEntry *e = NEW(a, RlimitEntry, RLIMIT_ENTRY__INIT);

		e->cur = e->max = UINT64_MAX;
		if (i == 3) { /* RLIMIT_STACK */
			e->cur = 8u << 20;
		} else if (i == 7) { /* RLIMIT_NOFILE */
			e->cur = 1024;
			e->max = 1u << 20;
		}
		rl->rlimits[i] = e;
	}
	tc->n_sigactions = 62;
	tc->sigactions = alloc(a, 62 * sizeof(*tc->sigactions));
	for (size_t i = 0; i < 62; i++) {
		SaEntry *s = NEW(a, SaEntry, SA_ENTRY__INIT);

		if (i == 9) { /* SIGUSR1: a handler */
			s->sigaction = TEXT + 0x1189;
			s->flags = 0x04000000; /* SA_RESTORER */
			s->restorer = ANON + 0x42520;
		}
		s->has_compat_sigaction = true;
		tc->sigactions[i] = s;
	}
	tc->has_loginuid = true;
	tc->loginuid = UINT32_MAX;
	tc->has_oom_score_adj = true;
	tc->has_child_subreaper = true;

	c->thread_core = th;
	th->futex_rla = ANON + 0x1a20;
	th->futex_rla_len = 24;
	th->has_sched_nice = true;
	th->has_sched_policy = true;
	th->sas = sas;
	sas->ss_flags = 2; /* SS_DISABLE */
	th->creds = creds(a);
	th->comm = str(a, "sample");
	return &c->base;
}

static ProtobufCMessage *mm(struct sample_arena *a)
{
	MmEntry *m = NEW(a, MmEntry, MM_ENTRY__INIT);

	m->mm_start_code = TEXT;
	m->mm_end_code = TEXT + 0x12e9;
	m->mm_start_data = DATA + 0xdd0;
	m->mm_end_data = DATA + 0x1040;
	m->mm_start_stack = STACK + 32 * PAGE + 0xa90;
	m->mm_start_brk = HEAP;
	m->mm_brk = HEAP + 33 * PAGE;
	m->mm_arg_start = STACK + 32 * PAGE + 0xc85;
	m->mm_arg_end = m->mm_arg_start + 8;
	m->mm_env_start = m->mm_arg_end;
	m->mm_env_end = STACK + 33 * PAGE - 0x10;
	m->exe_file_id = 1;
	m->n_mm_saved_auxv = 8;
	m->mm_saved_auxv = u64s(a, 8, 0x21);
	m->n_vmas = ARRAY_SIZE(vmas);
	m->vmas = alloc(a, ARRAY_SIZE(vmas) * sizeof(*m->vmas));
	for (size_t i = 0; i < ARRAY_SIZE(vmas); i++) {
		VmaEntry *v = NEW(a, VmaEntry, VMA_ENTRY__INIT);

		v->start = vmas[i].start;
		v->end = vmas[i].end;
		v->pgoff = vmas[i].pgoff;
		v->shmid = vmas[i].shmid;
		v->prot = vmas[i].prot;
		v->flags = vmas[i].flags;
		v->status = vmas[i].status;
		v->fd = -1;
		if (vmas[i].shmid) {
			v->has_fdflags = true;
			v->fdflags = O_RDONLY;
		}
		m->vmas[i] = v;
	}
	m->has_dumpable = true;
	m->dumpable = 1;
	return &m->base;
}

static ProtobufCMessage *reg_file(struct sample_arena *a, uint32_t id, const char *name,
				  uint32_t flags, uint64_t pos)
{
	RegFileEntry *r = NEW(a, RegFileEntry, REG_FILE_ENTRY__INIT);

	r->id = id;
	r->flags = flags;
	r->pos = pos;
	r->fown = fown(a);
	r->name = str(a, name);
	return &r->base;
}

static ProtobufCMessage *pipe_entry(struct sample_arena *a, uint32_t id, uint32_t flags)
{
	PipeEntry *p = NEW(a, PipeEntry, PIPE_ENTRY__INIT);

	p->id = id;
	p->pipe_id = 123456;
	p->flags = flags;
	p->fown = fown(a);
	return &p->base;
}

static ProtobufCMessage *file(struct sample_arena *a, size_t idx)
{
	FileEntry *f = NEW(a, FileEntry, FILE_ENTRY__INIT);
	static const char *const names[] = { "/usr/bin/sample", "/dev/null", "/tmp", "/" };

	f->id = (uint32_t)idx + 1;
	if (idx == 4 || idx >= 6) {
		f->type = FD_TYPES__PIPE;
		f->pipe = (PipeEntry *)pipe_entry(a, f->id, O_WRONLY);
	} else if (idx == 5) {
		MemfdFileEntry *m = NEW(a, MemfdFileEntry, MEMFD_FILE_ENTRY__INIT);

		f->type = FD_TYPES__MEMFD;
		f->memfd = m;
		m->id = f->id;
		m->flags = O_RDWR | O_LARGEFILE;
		m->fown = fown(a);
		m->inode_id = 1;
	} else {
		f->type = FD_TYPES__REG;
		f->reg = (RegFileEntry *)reg_file(a, f->id, names[idx],
						  idx == 1 ? O_RDWR | O_LARGEFILE : O_RDONLY, 0);
	}
	return &f->base;
}

/* see img-sample.h */
ProtobufCMessage *img_sample_entry(struct sample_arena *a, enum img_type type, unsigned pid,
				   size_t idx)
{
	switch (type) {
	case IMG_INVENTORY: {
		InventoryEntry *e = NEW(a, InventoryEntry, INVENTORY_ENTRY__INIT);
		TaskKobjIdsEntry *ids = NEW(a, TaskKobjIdsEntry, TASK_KOBJ_IDS_ENTRY__INIT);

		e->img_version = IMG_VERSION;
		e->has_fdinfo_per_id = true;
		e->fdinfo_per_id = true;
		ids->vm_id = ids->files_id = ids->fs_id = ids->sighand_id = 1;
		e->root_ids = ids;
		e->has_lsmtype = true;
		e->lsmtype = LSMTYPE__NO_LSM;
		e->has_dump_uptime = true;
		e->dump_uptime = 262530804ull;
		return &e->base;
	}
	case IMG_PSTREE: {
		PstreeEntry *e = NEW(a, PstreeEntry, PSTREE_ENTRY__INIT);

		e->pid = pid + (unsigned)idx;
		e->ppid = idx ? pid : 0;
		e->pgid = e->sid = pid;
		e->n_threads = 1 + idx;
		e->threads = u32s(a, 1 + idx, 0);
		for (size_t i = 0; i <= idx; i++)
			e->threads[i] = e->pid + (uint32_t)i;
		return &e->base;
	}
	case IMG_CORE:
		return core(a, pid, idx);
	case IMG_MM:
		return mm(a);
	case IMG_PAGEMAP: {
		PagemapHead *h;
		PagemapEntry *e;
		size_t i;

		if (idx == 0) {
			h = NEW(a, PagemapHead, PAGEMAP_HEAD__INIT);
			h->pages_id = 1;
			return &h->base;
		}
		e = NEW(a, PagemapEntry, PAGEMAP_ENTRY__INIT);
		i = (idx - 1) % ARRAY_SIZE(pmes);
		e->vaddr = pmes[i].vaddr + (idx - 1) / ARRAY_SIZE(pmes) * (1ull << 40);
		e->compat_nr_pages = (uint32_t)pmes[i].nr_pages;
		e->has_flags = true;
		e->flags = pmes[i].flags;
		e->has_nr_pages = true;
		e->nr_pages = pmes[i].nr_pages;
		return &e->base;
	}
	case IMG_STATS: {
		StatsEntry *e = NEW(a, StatsEntry, STATS_ENTRY__INIT);
		DumpStatsEntry *d = NEW(a, DumpStatsEntry, DUMP_STATS_ENTRY__INIT);

		d->freezing_time = 1200;
		d->frozen_time = 5400;
		d->memdump_time = 800;
		d->memwrite_time = 300;
		d->pages_scanned = 93;
		d->pages_skipped_parent = 4;
		d->pages_written = 10;
		d->has_page_pipes = true;
		d->page_pipes = 1;
		e->dump = d;
		return &e->base;
	}
	case IMG_IDS: {
		TaskKobjIdsEntry *e = NEW(a, TaskKobjIdsEntry, TASK_KOBJ_IDS_ENTRY__INIT);

		e->vm_id = e->files_id = e->fs_id = e->sighand_id = 2;
		return &e->base;
	}
	case IMG_FS: {
		FsEntry *e = NEW(a, FsEntry, FS_ENTRY__INIT);

		e->cwd_id = 3;
		e->root_id = 4;
		e->has_umask = true;
		e->umask = 022;
		return &e->base;
	}
	case IMG_FILES:
		return file(a, idx);
	case IMG_FDINFO: {
		FdinfoEntry *e = NEW(a, FdinfoEntry, FDINFO_ENTRY__INIT);
		static const uint32_t ids[] = { 2, 5, 2, 6 };

		e->fd = (uint32_t)idx;
		e->id = ids[idx % ARRAY_SIZE(ids)];
		e->type = e->id == 5   ? FD_TYPES__PIPE
			  : e->id == 6 ? FD_TYPES__MEMFD
				       : FD_TYPES__REG;
		e->flags = idx == 2 ? 1 /* FD_CLOEXEC */ : 0;
		return &e->base;
	}
	case IMG_CREDS:
		return &creds(a)->base;
	case IMG_REG_FILES:
		return reg_file(a, 100 + (uint32_t)idx, "/var/log/sample.log",
				O_WRONLY | O_APPEND | O_LARGEFILE, 18 * (idx + 1));
	case IMG_SECCOMP: {
		SeccompEntry *e = NEW(a, SeccompEntry, SECCOMP_ENTRY__INIT);
		SeccompFilter *f = NEW(a, SeccompFilter, SECCOMP_FILTER__INIT);
		/* BPF_RET | BPF_K, SECCOMP_RET_ALLOW */
		static const uint8_t allow[8] = { 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f };

		f->filter.len = sizeof(allow);
		f->filter.data = alloc(a, sizeof(allow));
		memcpy(f->filter.data, allow, sizeof(allow));
		e->n_seccomp_filters = 1;
		e->seccomp_filters = alloc(a, sizeof(*e->seccomp_filters));
		e->seccomp_filters[0] = f;
		return &e->base;
	}
	case IMG_TIMENS: {
		TimensEntry *e = NEW(a, TimensEntry, TIMENS_ENTRY__INIT);

		e->monotonic = NEW(a, Timespec, TIMESPEC__INIT);
		e->boottime = NEW(a, Timespec, TIMESPEC__INIT);
		e->monotonic->tv_sec = 262;
		e->monotonic->tv_nsec = 530804651;
		e->boottime->tv_sec = 263;
		e->boottime->tv_nsec = 1234;
		return &e->base;
	}
	case IMG_PIPES:
		return pipe_entry(a, 50 + (uint32_t)idx, idx % 2 ? O_WRONLY : O_RDONLY);
	case IMG_PIPES_DATA: {
		PipeDataEntry *e = NEW(a, PipeDataEntry, PIPE_DATA_ENTRY__INIT);
		size_t len;

		img_sample_pipe_data(idx, &len);
		e->pipe_id = 123456 + (uint32_t)idx;
		e->bytes = (uint32_t)len;
		e->has_size = true;
		e->size = 65536;
		return &e->base;
	}
	case IMG_MEMFD_INODE: {
		MemfdInodeEntry *e = NEW(a, MemfdInodeEntry, MEMFD_INODE_ENTRY__INIT);

		e->name = str(a, "memfd:sample");
		e->size = 8192;
		e->shmid = 1058 + (uint32_t)idx;
		e->seals = 1; /* F_SEAL_SEAL */
		e->inode_id = 1 + idx;
		return &e->base;
	}
	case IMG_MNTS: {
		MntEntry *e = NEW(a, MntEntry, MNT_ENTRY__INIT);

		e->fstype = idx ? FSTYPE__TMPFS : FSTYPE__UNSUPPORTED;
		e->mnt_id = 100 + (uint32_t)idx;
		e->root_dev = idx ? 62 : (8u << 20 | 1);
		e->parent_mnt_id = idx ? 100 : 1;
		e->flags = idx ? 0x1000002 : 0x200000;
		e->root = str(a, idx ? "/" : "/srv/bundle/rootfs");
		e->mountpoint = str(a, idx ? "/dev" : "/");
		e->source = str(a, idx ? "tmpfs" : "/dev/sda1");
		e->options = str(a, idx ? "size=65536k,mode=755" : "errors=remount-ro");
		e->has_shared_id = e->has_master_id = e->has_sb_flags = true;
		return &e->base;
	}
	case IMG_UTSNS: {
		UtsnsEntry *e = NEW(a, UtsnsEntry, UTSNS_ENTRY__INIT);

		e->nodename = str(a, "runc");
		e->domainname = str(a, "(none)");
		return &e->base;
	}
	case IMG_IPC_VAR: {
		IpcVarEntry *e = NEW(a, IpcVarEntry, IPC_VAR_ENTRY__INIT);

		e->msg_ctlmax = 8192;
		e->msg_ctlmnb = 16384;
		e->msg_ctlmni = 32000;
		e->shm_ctlmax = 18446744073692774399ull;
		e->shm_ctlall = 18446744073692774399ull;
		e->shm_ctlmni = 4096;
		e->mq_queues_max = 256;
		e->mq_msg_max = 10;
		e->mq_msgsize_max = 8192;
		return &e->base;
	}
	case IMG_CGROUP: {
		CgroupEntry *e = NEW(a, CgroupEntry, CGROUP_ENTRY__INIT);

		return &e->base;
	}
	case IMG_NETNS: {
		/* an external netns, as runc's `external net[INO]:extRootNetNS` gives */
		NetnsEntry *e = NEW(a, NetnsEntry, NETNS_ENTRY__INIT);

		e->ext_key = "extRootNetNS";
		return &e->base;
	}
	case IMG_TTY_INFO: {
		/* the pty slave of a runc console: /dev/pts/0, session and group 1 */
		TtyInfoEntry *e = NEW(a, TtyInfoEntry, TTY_INFO_ENTRY__INIT);
		TtyPtyEntry *pty = NEW(a, TtyPtyEntry, TTY_PTY_ENTRY__INIT);
		WinsizeEntry *ws = NEW(a, WinsizeEntry, WINSIZE_ENTRY__INIT);

		e->type = TTY_TYPE__PTY;
		e->sid = e->pgrp = 1;
		e->rdev = 0x8800;
		ws->ws_row = 24;
		ws->ws_col = 80;
		e->winsize = ws;
		e->pty = pty;
		e->has_dev = e->has_uid = e->has_gid = true;
		e->dev = 43;
		e->gid = 5;
		return &e->base;
	}
	case IMG_PAGES:
	case IMG_NR:
		break;
	}
	return NULL;
}

/* see img-sample.h */
size_t img_sample_count(enum img_type type)
{
	switch (type) {
	case IMG_PAGEMAP:
		return 1 + ARRAY_SIZE(pmes);
	case IMG_FILES:
		return 6;
	case IMG_FDINFO:
		return 4;
	case IMG_REG_FILES:
	case IMG_PIPES:
	case IMG_MEMFD_INODE:
	case IMG_MNTS:
		return 2;
	case IMG_PIPES_DATA:
		return ARRAY_SIZE(pipe_payload);
	case IMG_PAGES:
	case IMG_NR:
		return 0;
	case IMG_INVENTORY:
	case IMG_PSTREE:
	case IMG_CORE:
	case IMG_MM:
	case IMG_STATS:
	case IMG_IDS:
	case IMG_FS:
	case IMG_CREDS:
	case IMG_SECCOMP:
	case IMG_TIMENS:
	case IMG_UTSNS:
	case IMG_IPC_VAR:
	case IMG_CGROUP:
	case IMG_TTY_INFO:
	case IMG_NETNS:
		break;
	}
	return 1;
}

/* see img-sample.h */
const char *img_sample_pipe_data(size_t idx, size_t *len)
{
	const char *s = pipe_payload[idx % ARRAY_SIZE(pipe_payload)];

	*len = strlen(s);
	return s;
}

/* see img-sample.h */
unsigned char img_sample_page_byte(size_t page, size_t off)
{
	return (unsigned char)(page * 31 + off * 7 + (off >> 8));
}

static int write_pages(int dirfd, struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = NULL;
	unsigned char buf[PAGE];
	size_t page = 0;

	img = img_create(dirfd, "pages-1.img", IMG_PAGES, err);
	if (!img)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(pmes); i++) {
		if (!(pmes[i].flags & IMG_PE_PRESENT))
			continue;
		for (uint64_t p = 0; p < pmes[i].nr_pages; p++, page++) {
			for (size_t o = 0; o < PAGE; o++)
				buf[o] = img_sample_page_byte(page, o);
			if (img_write_raw(img, buf, sizeof(buf), err))
				return -1;
		}
	}
	return img_close(steal_ptr(&img), err);
}

static int write_one(int dirfd, enum img_type type, unsigned pid, unsigned long id,
		     struct ck_err **err)
{
	_cleanup_(img_abortp) struct img *img = NULL;
	_cleanup_free_ char *name = img_filename(type, id);
	struct sample_arena *a = sample_arena_new();
	int rc = -1;

	img = img_create(dirfd, name, type, err);
	if (!img)
		goto out;
	for (size_t i = 0; i < img_sample_count(type); i++) {
		if (type == IMG_PAGEMAP && i > 0) {
			PagemapEntry *e = (PagemapEntry *)img_sample_entry(a, type, pid, i);

			if (img_write_pagemap_entry(img, e->vaddr, e->nr_pages, e->flags, err))
				goto out;
			continue;
		}
		if (img_write(img, img_sample_entry(a, type, pid, i), err))
			goto out;
		if (type == IMG_PIPES_DATA) {
			size_t len;
			const char *d = img_sample_pipe_data(i, &len);

			if (img_write_extra(img, d, len, err))
				goto out;
		}
	}
	rc = img_close(steal_ptr(&img), err);
out:
	sample_arena_free(a);
	return rc;
}

/* see img-sample.h */
int img_sample_write(int dirfd, unsigned pid, struct ck_err **err)
{
	static const struct {
		enum img_type type;
		int id; /* -1: the pid */
	} set[] = {
		{ IMG_INVENTORY, 0 },  { IMG_PSTREE, 0 },      { IMG_CORE, -1 },
		{ IMG_MM, -1 },        { IMG_PAGEMAP, -1 },    { IMG_STATS, 0 },
		{ IMG_IDS, -1 },       { IMG_FS, -1 },         { IMG_FILES, 0 },
		{ IMG_FDINFO, 2 },     { IMG_TIMENS, 0 },      { IMG_SECCOMP, 0 },
		{ IMG_CREDS, -1 },     { IMG_REG_FILES, 0 },   { IMG_PIPES, 0 },
		{ IMG_PIPES_DATA, 0 }, { IMG_MEMFD_INODE, 0 }, { IMG_MNTS, -1 },
		{ IMG_UTSNS, -1 },     { IMG_IPC_VAR, -1 },    { IMG_CGROUP, 0 },
		{ IMG_TTY_INFO, 0 },   { IMG_NETNS, -1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(set); i++) {
		unsigned long id = set[i].id < 0 ? pid : (unsigned long)set[i].id;

		if (write_one(dirfd, set[i].type, pid, id, err))
			return ck_err_wrap(err, "sample %s image", img_type_name(set[i].type));
	}
	if (write_pages(dirfd, err))
		return ck_err_wrap(err, "sample pages");
	return 0;
}
