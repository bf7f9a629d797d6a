// SPDX-License-Identifier: MIT
/*
 * img-sample DIR [PID]: write the sample image set (see img-sample.h) into DIR,
 * creating it if needed.  Used by the bats suites and the demo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "tests/unit/img-sample.h"

int main(int argc, char **argv)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_close_ int dirfd = -1;
	unsigned long pid = 4242;
	char *end;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "Usage: img-sample DIR [PID]\n");
		return 2;
	}
	if (argc == 3) {
		errno = 0;
		pid = strtoul(argv[2], &end, 10);
		if (errno || *end || !pid || pid > 4194304) {
			fprintf(stderr, "img-sample: bad pid '%s'\n", argv[2]);
			return 2;
		}
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (img_sample_write(dirfd, (unsigned)pid, &err)) {
		_cleanup_free_ char *msg = ck_err_str(err);

		fprintf(stderr, "img-sample: %s: %s\n", argv[1], msg);
		return 1;
	}
	return 0;
}
