// SPDX-License-Identifier: MIT
/*
 * Namespaces of a container dump: the ids of ids-<pid>.img and of the
 * inventory's root_ids, and the images of the namespaces CRIU recreates from
 * values (utsns-<id>.img, ipcns-var-<id>.img).
 *
 * Ids are numbered as CRIU 4.2 numbers them for a runc container: ckpt's own
 * namespaces first (pid 1, net 2, ipc 3, uts 4, time 5, mnt 6, user 7,
 * cgroup 8: the inventory's root_ids), then every namespace of the tree that
 * differs from ckpt's, in the order pid, net, ipc, uts, time, mnt, user,
 * cgroup of the root task (9, 10, 11, 12, 13 for runc's default spec; a
 * container CRIU restored has its own time namespace, 13, and mnt 14).  A task
 * whose namespace id differs from root_ids is what makes CRIU create that
 * namespace on restore.
 *
 * The UTS and IPC values are read in a child that joins the namespace
 * (setns): /proc/sys and uname() answer for the reader's namespaces.  The
 * child shares ckpt's memory (CLONE_VM) and only reads files into it.  A killed container
 * has its values read after the kill, through the namespace fds held since
 * glue_ns_collect(): nothing in it runs to change them, and the fds keep the
 * namespaces alive.  A container that lives on has them read while frozen
 * (glue_ns_read_vals() from glue_dump_frozen_end()): it could sethostname().
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "proto/img.h"
#include "proto/core.pb-c.h"
#include "proto/ipc-var.pb-c.h"
#include "proto/utsns.pb-c.h"
#include "proto/netdev.pb-c.h"
#include "runtime-glue/dump/dump-priv.h"

/* CRIU's order of the root ids: pid 1, net 2, ipc 3, uts 4, time 5, mnt 6, user 7, cgroup 8. */
static const char *const ns_names[GLUE_NS_NR] = {
	[GLUE_NS_PID] = "pid",   [GLUE_NS_NET] = "net",       [GLUE_NS_IPC] = "ipc",
	[GLUE_NS_UTS] = "uts",   [GLUE_NS_TIME] = "time",     [GLUE_NS_MNT] = "mnt",
	[GLUE_NS_USER] = "user", [GLUE_NS_CGROUP] = "cgroup",
};

/* The order in which the container's own namespaces get their ids (CRIU's). */
static const enum glue_ns_type ctr_order[GLUE_NS_NR] = {
	GLUE_NS_PID,  GLUE_NS_NET, GLUE_NS_IPC,  GLUE_NS_UTS,
	GLUE_NS_TIME, GLUE_NS_MNT, GLUE_NS_USER, GLUE_NS_CGROUP,
};

/* see dump-priv.h */
const char *glue_ns_name(enum glue_ns_type t)
{
	return ns_names[t];
}

/*
 * The inode of /proc/@pid/ns/@name (@pid 0: ckpt itself; pid/time use the
 * task's own, not pid_for_children).  0 when the kernel has no such namespace.
 */
uint64_t glue_ns_ino(pid_t pid, enum glue_ns_type t)
{
	char path[64];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_names[t]);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_names[t]);
	if (stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

/* see dump-priv.h */
int glue_ns_collect(struct glue_dump_ns *ns, const struct glue_pstree *tree, struct ck_err **err)
{
	const struct glue_task *root = &tree->t[0];
	uint32_t next = GLUE_NS_NR + 1;

	memset(ns, 0, sizeof(*ns));
	for (int i = 0; i < GLUE_NS_NR; i++) {
		ns->own[i] = glue_ns_ino(0, (enum glue_ns_type)i);
		ns->ctr_fd[i] = -1;
	}
	for (int k = 0; k < GLUE_NS_NR; k++) {
		enum glue_ns_type t = ctr_order[k];
		char path[64];

		ns->ctr[t] = glue_ns_ino(root->pid, t);
		if (!ns->ctr[t] || ns->ctr[t] == ns->own[t])
			continue;
		ns->ctr_id[t] = next++;
		ns->container = true;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)root->pid, ns_names[t]);
		ns->ctr_fd[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (ns->ctr_fd[t] < 0) {
			ck_err_set(err, errno, "open %s", path);
			glue_ns_release(ns);
			return -1;
		}
	}
	return 0;
}

/* see dump-priv.h */
void glue_ns_release(struct glue_dump_ns *ns)
{
	free(ns->vals);
	ns->vals = NULL;
	for (int i = 0; i < GLUE_NS_NR; i++) {
		if (ns->ctr_fd[i] >= 0)
			close(ns->ctr_fd[i]);
		ns->ctr_fd[i] = -1;
	}
}

static uint32_t ns_id_of(const struct glue_dump_ns *ns, enum glue_ns_type t, uint64_t ino)
{
	if (ino && ino == ns->ctr[t] && ns->ctr_id[t])
		return ns->ctr_id[t];
	return (uint32_t)t + 1; /* ckpt's own (the tree shares the root's: dump-check.c) */
}

/* see dump-priv.h */
int glue_ns_fill_ids(const struct glue_dump_ns *ns, pid_t pid, TaskKobjIdsEntry *ids,
		     struct ck_err **err)
{
	uint32_t v[GLUE_NS_NR];

	if (!ns->container)
		return 0; /* a plain tree: no namespace ids, as before */
	for (int i = 0; i < GLUE_NS_NR; i++) {
		uint64_t ino = pid ? glue_ns_ino(pid, (enum glue_ns_type)i) : ns->own[i];

		if (pid && ino && ino != ns->own[i] && ino != ns->ctr[i])
			return ck_err_set(
				err, 0,
				"pid %d: %s namespace is neither ckpt's nor the container's",
				(int)pid, ns_names[i]);
		v[i] = pid ? ns_id_of(ns, (enum glue_ns_type)i, ino) : (uint32_t)i + 1;
	}
	ids->has_pid_ns_id = ids->has_net_ns_id = ids->has_ipc_ns_id = true;
	ids->has_uts_ns_id = ids->has_mnt_ns_id = ids->has_user_ns_id = true;
	ids->has_cgroup_ns_id = ids->has_time_ns_id = true;
	ids->pid_ns_id = v[GLUE_NS_PID];
	ids->net_ns_id = v[GLUE_NS_NET];
	ids->ipc_ns_id = v[GLUE_NS_IPC];
	ids->uts_ns_id = v[GLUE_NS_UTS];
	ids->mnt_ns_id = v[GLUE_NS_MNT];
	ids->user_ns_id = v[GLUE_NS_USER];
	ids->cgroup_ns_id = v[GLUE_NS_CGROUP];
	ids->time_ns_id = v[GLUE_NS_TIME];
	return 0;
}

/* ---- values read inside a namespace ---- */

#define NS_VAL_LEN 128

/* What the child sends back: uname() and the raw sysctl files, or an errno. */
struct ns_vals {
	int err;
	struct utsname uts;
	char v[24][NS_VAL_LEN];
};

static const char *const ipc_files[] = {
	"/proc/sys/kernel/sem",
	"/proc/sys/kernel/msgmax",
	"/proc/sys/kernel/msgmnb",
	"/proc/sys/kernel/msgmni",
	"/proc/sys/kernel/auto_msgmni",
	"/proc/sys/kernel/shmmax",
	"/proc/sys/kernel/shmall",
	"/proc/sys/kernel/shmmni",
	"/proc/sys/kernel/shm_rmid_forced",
	"/proc/sys/fs/mqueue/queues_max",
	"/proc/sys/fs/mqueue/msg_max",
	"/proc/sys/fs/mqueue/msgsize_max",
	"/proc/sys/fs/mqueue/msg_default",
	"/proc/sys/fs/mqueue/msgsize_default",
	"/proc/sys/kernel/msg_next_id",
	"/proc/sys/kernel/sem_next_id",
	"/proc/sys/kernel/shm_next_id",
	"/proc/sysvipc/shm",
	"/proc/sysvipc/msg",
	"/proc/sysvipc/sem",
};

enum { IPC_SHM_LIST = 17, IPC_MSG_LIST, IPC_SEM_LIST };

/* What the reader child is given; it answers in @r (shared memory: CLONE_VM). */
struct ns_reader {
	int nsfd, nstype;
	struct ns_vals *r;
};

/* The child: its own nsproxy after setns, ckpt's memory (only syscalls, no allocation). */
static int child_read(void *arg)
{
	const struct ns_reader *a = arg;
	struct ns_vals *r = a->r;

	if (setns(a->nsfd, a->nstype) < 0) {
		r->err = errno;
	} else if (a->nstype == CLONE_NEWUTS) {
		if (uname(&r->uts) < 0)
			r->err = errno;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(ipc_files); i++) {
			int fd = open(ipc_files[i], O_RDONLY | O_CLOEXEC);
			ssize_t n;

			if (fd < 0)
				continue; /* absent on this kernel: left empty */
			/* the sysvipc lists: a header line, then one line per object */
			n = read(fd, r->v[i], NS_VAL_LEN - 1);
			if (n > 0)
				r->v[i][n] = '\0';
			close(fd);
		}
	}
	return 0;
}

#define READER_STACK (64u << 10)

/*
 * The values of namespace @nsfd, read by a CLONE_VM | CLONE_VFORK child that
 * joins it: nothing of ckpt's memory is copied (a fork of ckpt with its frozen
 * buffer took milliseconds), and ckpt's own namespaces stay as they are.
 */
static int ns_read(int nsfd, int nstype, struct ns_vals *r, struct ck_err **err)
{
	_cleanup_free_ char *stack = xmalloc(READER_STACK);
	struct ns_reader a = { .nsfd = nsfd, .nstype = nstype, .r = r };
	int status;
	pid_t child;

	memset(r, 0, sizeof(*r));
	child = clone(child_read, stack + READER_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	if (child < 0)
		return ck_err_set(err, errno, "clone to read a namespace");
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return ck_err_set(err, errno, "wait for the namespace reader");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return ck_err_set(err, EIO, "reading a namespace's values: child failed");
	if (r->err)
		return ck_err_set(err, r->err, "setns");
	return 0;
}

/* A sysvipc list holds objects when it has more than its header line. */
static bool ipc_list_busy(const char *s)
{
	const char *nl = strchr(s, '\n');

	return nl && nl[1] != '\0';
}

/* see dump-priv.h */
int glue_ns_check_ipc(pid_t pid, char *why, size_t why_len)
{
	char path[64];
	struct ns_vals r;
	_cleanup_err_ struct ck_err *e = NULL;
	_cleanup_close_ int fd = -1;

	why[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ns_read(fd, CLONE_NEWIPC, &r, &e) < 0) {
		snprintf(why, why_len, "its ipc namespace cannot be read (%s)",
			 fd < 0 ? strerror(errno) : e->msg);
		return -1;
	}
	if (ipc_list_busy(r.v[IPC_SHM_LIST]) || ipc_list_busy(r.v[IPC_MSG_LIST]) ||
	    ipc_list_busy(r.v[IPC_SEM_LIST])) {
		snprintf(why, why_len,
			 "SysV IPC objects (shm, msg or sem) in its ipc namespace (not supported)");
		return -1;
	}
	return 0;
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 10);
}

/* The values of the container's UTS and IPC namespaces, once read. */
struct glue_ns_vals {
	struct ns_vals uts, ipc;
};

/* see dump-priv.h */
int glue_ns_read_vals(struct glue_dump_ns *ns, struct ck_err **err)
{
	struct glue_ns_vals *v;

	if (ns->vals)
		return 0;
	v = xzalloc(sizeof(*v));
	if (ns->ctr_id[GLUE_NS_UTS] &&
	    ns_read(ns->ctr_fd[GLUE_NS_UTS], CLONE_NEWUTS, &v->uts, err) < 0) {
		free(v);
		return ck_err_wrap(err, "uts namespace");
	}
	if (ns->ctr_id[GLUE_NS_IPC] &&
	    ns_read(ns->ctr_fd[GLUE_NS_IPC], CLONE_NEWIPC, &v->ipc, err) < 0) {
		free(v);
		return ck_err_wrap(err, "ipc namespace");
	}
	ns->vals = v;
	return 0;
}

static int write_ipc_var(const struct glue_dump_ns *ns, int dirfd, struct ck_err **err)
{
	const struct ns_vals *r = &ns->vals->ipc;
	IpcVarEntry iv = IPC_VAR_ENTRY__INIT;
	uint32_t sem[4] = { 0 };
	char *p;

	p = (char *)r->v[0];
	for (int i = 0; i < 4; i++)
		sem[i] = (uint32_t)strtoul(p, &p, 10);
	iv.n_sem_ctls = 4;
	iv.sem_ctls = sem;
	iv.msg_ctlmax = (uint32_t)num(r->v[1]);
	iv.msg_ctlmnb = (uint32_t)num(r->v[2]);
	iv.msg_ctlmni = (uint32_t)num(r->v[3]);
	iv.auto_msgmni = (uint32_t)num(r->v[4]);
	iv.shm_ctlmax = num(r->v[5]);
	iv.shm_ctlall = num(r->v[6]);
	iv.shm_ctlmni = (uint32_t)num(r->v[7]);
	iv.shm_rmid_forced = (uint32_t)num(r->v[8]);
	iv.mq_queues_max = (uint32_t)num(r->v[9]);
	iv.mq_msg_max = (uint32_t)num(r->v[10]);
	iv.mq_msgsize_max = (uint32_t)num(r->v[11]);
	if (r->v[12][0]) {
		iv.has_mq_msg_default = true;
		iv.mq_msg_default = (uint32_t)num(r->v[12]);
	}
	if (r->v[13][0]) {
		iv.has_mq_msgsize_default = true;
		iv.mq_msgsize_default = (uint32_t)num(r->v[13]);
	}
	/* the *_next_id sysctls are -1 unless someone set them: CRIU leaves them out then */
	return glue_dump_write_single(dirfd, IMG_IPC_VAR, ns->ctr_id[GLUE_NS_IPC], &iv, err);
}

static int write_uts(const struct glue_dump_ns *ns, int dirfd, struct ck_err **err)
{
	UtsnsEntry ue = UTSNS_ENTRY__INIT;

	ue.nodename = (char *)ns->vals->uts.uts.nodename;
	ue.domainname = (char *)ns->vals->uts.uts.domainname;
	return glue_dump_write_single(dirfd, IMG_UTSNS, ns->ctr_id[GLUE_NS_UTS], &ue, err);
}

/* see dump-state.h */
int glue_ctr_external(struct glue_ctr_opts *c, const char *spec, struct ck_err **err)
{
	unsigned long long ino;
	char *end;

	if (strncmp(spec, "net[", 4) || !isdigit((unsigned char)spec[4]))
		return ck_err_set(err, EINVAL,
				  "external '%s': ckpt knows only net[INODE]:KEY (a network "
				  "namespace joined by path)",
				  spec);
	errno = 0;
	ino = strtoull(spec + 4, &end, 10);
	if (errno || strncmp(end, "]:", 2) || !end[2])
		return ck_err_set(err, EINVAL, "external '%s': not net[INODE]:KEY", spec);
	if (c->ext_net_key && c->ext_net_ino != ino)
		return ck_err_set(err, EINVAL,
				  "external '%s': a second network namespace (net[%" PRIu64
				  "] given before)",
				  spec, c->ext_net_ino);
	c->ext_net_ino = ino;
	c->ext_net_key = end + 2;
	return 0;
}

/*
 * netns-<id>.img of a network namespace given as external: its key only, as
 * CRIU writes it; CRIU's restore joins the namespace runc hands in under that
 * key (inherit_fd) instead of making one.
 */
static int write_ext_net(const struct glue_dump_ns *ns, const struct glue_ctr_opts *ctr, int dirfd,
			 struct ck_err **err)
{
	NetnsEntry ne = NETNS_ENTRY__INIT;

	ne.ext_key = (char *)ctr->ext_net_key;
	pr_info("net namespace %" PRIu64 " is external: netns-%u.img holds its key %s",
		ns->ctr[GLUE_NS_NET], ns->ctr_id[GLUE_NS_NET], ctr->ext_net_key);
	return glue_dump_write_single(dirfd, IMG_NETNS, ns->ctr_id[GLUE_NS_NET], &ne, err);
}

/* see dump-priv.h */
int glue_ns_write(struct glue_dump_ns *ns, const struct glue_ctr_opts *ctr, int dirfd,
		  struct ck_err **err)
{
	if (glue_ns_read_vals(ns, err) < 0)
		return -1;
	if (ns->ctr_id[GLUE_NS_NET] && ctr->ext_net_key &&
	    ns->ctr[GLUE_NS_NET] == ctr->ext_net_ino && write_ext_net(ns, ctr, dirfd, err) < 0)
		return -1;
	if (ns->ctr_id[GLUE_NS_UTS] && write_uts(ns, dirfd, err) < 0)
		return -1;
	if (ns->ctr_id[GLUE_NS_IPC] && write_ipc_var(ns, dirfd, err) < 0)
		return -1;
	pr_info("namespaces: pid %u net %u ipc %u uts %u mnt %u (ckpt's: 1..8)",
		ns->ctr_id[GLUE_NS_PID], ns->ctr_id[GLUE_NS_NET], ns->ctr_id[GLUE_NS_IPC],
		ns->ctr_id[GLUE_NS_UTS], ns->ctr_id[GLUE_NS_MNT]);
	return 0;
}
