// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime-glue/proc/proc.h"

/* see proc.h */
int glue_proc_stat(pid_t pid, uint64_t f[GLUE_STAT_FIELDS], struct ck_err **err)
{
	char path[64], buf[2048], *p, *end;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int i;

	memset(f, 0, GLUE_STAT_FIELDS * sizeof(f[0]));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return ck_err_set(err, n < 0 ? errno : EIO, "read %s", path);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return ck_err_set(err, EINVAL, "malformed %s", path);
	f[3] = (unsigned char)p[2];
	p += 3;
	for (i = 4; i < GLUE_STAT_FIELDS; i++) {
		f[i] = strtoull(p, &end, 10);
		if (end == p)
			break;
		p = end;
	}
	return i - 1;
}

/* see proc.h */
bool glue_proc_exited(pid_t pid)
{
	_cleanup_err_ struct ck_err *e = NULL;
	uint64_t f[GLUE_STAT_FIELDS];
	int last = glue_proc_stat(pid, f, &e);

	/* field 23: vsize */
	return last < 3 || f[3] == 'Z' || f[3] == 'X' || (last >= 23 && f[23] == 0);
}

/* see proc.h */
int glue_proc_stat_need(pid_t pid, uint64_t f[GLUE_STAT_FIELDS], int need, struct ck_err **err)
{
	int last = glue_proc_stat(pid, f, err);

	if (last < 0)
		return -1;
	if (last < need)
		return ck_err_set(err, EINVAL, "/proc/%d/stat has %d fields, need %d", (int)pid,
				  last, need);
	return last;
}

/* see proc.h */
int glue_proc_same_vm(pid_t a, pid_t b)
{
	long rc = syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0);

	return rc < 0 ? -1 : rc == 0;
}

/* see proc.h */
int glue_proc_starttime(pid_t pid, uint64_t *starttime, struct ck_err **err)
{
	uint64_t f[GLUE_STAT_FIELDS];

	if (glue_proc_stat_need(pid, f, 22, err) < 0)
		return -1;
	*starttime = f[22];
	return 0;
}

/* see proc.h */
int glue_proc_auxv(pid_t pid, uint64_t auxv[GLUE_AUXV_WORDS], size_t *n, struct ck_err **err)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	ssize_t got;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	got = read(fd, auxv, GLUE_AUXV_WORDS * sizeof(auxv[0]));
	if (got < 0)
		return ck_err_set(err, errno, "read %s", path);
	*n = (size_t)got / sizeof(auxv[0]);
	return 0;
}
