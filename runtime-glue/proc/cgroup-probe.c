// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "runtime-glue/proc/cgroup-probe.h"

static char *probe_dirs[2];

/* see cgroup-probe.h */
char *glue_cgroup_mount(int version, struct ck_err **err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return ck_err_set(err, errno, "open /proc/self/mountinfo"), NULL;
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096], fstype[64], super[1024];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		if (version == 2 && !strcmp(fstype, "cgroup2"))
			return xstrdup(mnt);
		if (version == 1 && !strcmp(fstype, "cgroup")) {
			for (char *tok = strtok(super, ","); tok; tok = strtok(NULL, ","))
				if (!strcmp(tok, "freezer"))
					return xstrdup(mnt);
		}
	}
	return ck_err_set(err, ENOENT, "no %s hierarchy mounted",
			  version == 1 ? "cgroup v1 freezer" : "cgroup2"),
	       NULL;
}

static int write_str(const char *dir, const char *file, const char *val, struct ck_err **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	if (write(fd, val, strlen(val)) < 0)
		return ck_err_set(err, errno, "write '%s' to %s", val, path);
	return 0;
}

static int read_str(const char *dir, const char *file, char *buf, size_t len, struct ck_err **err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return ck_err_set(err, errno, "open %s", path);
	n = read(fd, buf, len - 1);
	if (n < 0)
		return ck_err_set(err, errno, "read %s", path);
	buf[n] = '\0';
	return 0;
}

/* Poll until the cgroup reports frozen (v1 "FROZEN", v2 "frozen 1"), 2 s at most. */
static int wait_frozen(int version, const char *dir, struct ck_err **err)
{
	struct timespec ts = { 0, 1000000 };
	char buf[512];

	for (int i = 0; i < 2000; i++) {
		if (read_str(dir, version == 1 ? "freezer.state" : "cgroup.events", buf,
			     sizeof(buf), err))
			return -1;
		if (version == 1 ? !strncmp(buf, "FROZEN", 6) : !!strstr(buf, "frozen 1"))
			return 0;
		nanosleep(&ts, NULL);
	}
	return ck_err_set(err, ETIMEDOUT, "cgroup %s did not reach the frozen state", dir);
}

/* see cgroup-probe.h */
int glue_cgroup_probe_freeze(int version, pid_t pid, struct ck_err **err)
{
	_cleanup_free_ char *mnt = glue_cgroup_mount(version, err);
	_cleanup_err_ struct ck_err *undo_err = NULL;
	const char *freeze_file = version == 1 ? "freezer.state" : "cgroup.freeze";
	char pidstr[32];
	char *dir;
	int r;

	if (!mnt)
		return -1;
	dir = xasprintf("%s/ckpt-probe-%d", mnt, (int)getpid());
	if (mkdir(dir, 0755) && errno != EEXIST) {
		ck_err_set(err, errno, "mkdir %s", dir);
		free(dir);
		return -1;
	}
	free(probe_dirs[version - 1]);
	probe_dirs[version - 1] = dir;
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	if (write_str(dir, "cgroup.procs", pidstr, err))
		return -1;
	if (write_str(dir, freeze_file, version == 1 ? "FROZEN" : "1", err))
		goto out_thaw;
	r = wait_frozen(version, dir, err);
	/* Thaw whatever happened: the probe must never leave anything frozen. */
	if (write_str(dir, freeze_file, version == 1 ? "THAWED" : "0", &undo_err) && !r)
		return ck_err_set(err, undo_err->errnum, "%s", undo_err->msg);
	return r;
out_thaw:
	write_str(dir, freeze_file, version == 1 ? "THAWED" : "0", &undo_err);
	return -1;
}

/* see cgroup-probe.h */
void glue_cgroup_probe_cleanup(void)
{
	struct timespec ts = { 0, 2000000 };

	for (size_t i = 0; i < ARRAY_SIZE(probe_dirs); i++) {
		if (!probe_dirs[i])
			continue;
		/* The killed child may take a moment to leave the cgroup. */
		for (int tries = 0; tries < 500; tries++) {
			if (!rmdir(probe_dirs[i]) || errno == ENOENT)
				break;
			nanosleep(&ts, NULL);
		}
		free(probe_dirs[i]);
		probe_dirs[i] = NULL;
	}
}
