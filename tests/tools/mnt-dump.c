// SPDX-License-Identifier: MIT
/*
 * Test driver for runtime-glue/dump/dump-mnt.c (tests/bats/container-mnt.bats):
 *
 *   mnt-dump PID DIR NS_ID [--root PATH] [--ext KEY=VAL]... [--no-tmpfs]
 *
 * collects PID's mount tree, writes DIR/mountpoints-NS_ID.img and the
 * tmpfs-dev-*.tar.gz.img files.  Refusals: the whole list on stderr, exit 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "runtime-glue/dump/dump-mnt.h"

static int fail(struct ck_err *err)
{
	char *s = ck_err_str(err);

	fprintf(stderr, "mnt-dump: %s\n", s);
	free(s);
	ck_err_free(&err);
	return 1;
}

int main(int argc, char **argv)
{
	_cleanup_(glue_mnt_set_freep) struct glue_mnt_set *s = NULL;
	_cleanup_free_ struct glue_mnt_ext *ext = NULL;
	struct glue_mnt_opts o = { 0 };
	struct ck_err *err = NULL;
	bool tmpfs = true;
	int dirfd, pid;

	if (argc < 4) {
		fprintf(stderr,
			"usage: mnt-dump PID DIR NS_ID [--root P] [--ext K=V]... [--no-tmpfs]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			o.root = argv[++i];
		} else if (!strcmp(argv[i], "--ext") && i + 1 < argc) {
			char *kv = argv[++i], *eq = strchr(kv, '=');

			if (!eq) {
				fprintf(stderr, "mnt-dump: --ext %s: no '='\n", kv);
				return 2;
			}
			*eq = '\0';
			ext = xreallocarray(ext, o.nr_ext + 1, sizeof(*ext));
			ext[o.nr_ext++] = (struct glue_mnt_ext){ kv, eq + 1 };
		} else if (!strcmp(argv[i], "--no-tmpfs")) {
			tmpfs = false;
		} else {
			fprintf(stderr, "mnt-dump: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	o.ext = ext;
	dirfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (glue_mnt_collect(pid, &o, &s, &err) || glue_mnt_check(s, &err) ||
	    glue_mnt_write(s, dirfd, (uint32_t)atoi(argv[3]), &err) ||
	    (tmpfs && glue_mnt_dump_tmpfs(s, pid, dirfd, &err)))
		return fail(err);
	close(dirfd);
	return 0;
}
