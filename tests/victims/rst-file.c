// SPDX-License-Identifier: MIT
/*
 * rst-file DIR: regular files open at an offset.
 *   fd A: DIR/data, read-only, positioned at 1234, FD_CLOEXEC
 *   fd B: DIR/out, write-only at offset 500 of a 1000-byte file
 *   fd C: DIR/log, O_APPEND
 *   fd D: dup of A (shares A's offset)
 *   fd E: /dev/null
 * On SIGTERM: offsets, flags and FD_CLOEXEC are as set; reading A continues
 * at 1234 and moves D too (shared description); a write to C lands at the
 * end of the log even after the file grew meanwhile.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "rst-common.h"

int main(int argc, char **argv)
{
	char path[4096], buf[64], want[64];
	int a, b, c, d, e, fl;
	struct stat st;

	if (argc != 2)
		rst_fail("usage: rst-file DIR");
	rst_setup();
	snprintf(path, sizeof(path), "%s/data", argv[1]);
	{
		int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		for (int i = 0; i < 4096; i++) {
			char ch = (char)('A' + i % 23);

			if (write(w, &ch, 1) != 1)
				rst_fail("write data");
		}
		close(w);
	}
	a = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/out", argv[1]);
	b = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	snprintf(path, sizeof(path), "%s/log", argv[1]);
	c = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (a < 0 || b < 0 || c < 0)
		rst_fail("open: %s", strerror(errno));
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < 1000 / 50; i++)
		if (write(b, buf, 50) != 50)
			rst_fail("write out");
	if (lseek(b, 500, SEEK_SET) != 500 || lseek(a, 1234, SEEK_SET) != 1234)
		rst_fail("lseek");
	if (write(c, "before\n", 7) != 7)
		rst_fail("write log");
	d = dup(a);
	e = open("/dev/null", O_RDWR);
	rst_say("READY fds %d %d %d %d %d", a, b, c, d, e);
	while (!rst_term) {
		pause();
		if (rst_usr1 && !rst_term)
			rst_say("CHANGED %d", (int)rst_usr1);
	}
	if (lseek(b, 0, SEEK_CUR) != 500)
		rst_fail("out offset %lld, want 500", (long long)lseek(b, 0, SEEK_CUR));
	if (lseek(a, 0, SEEK_CUR) != 1234)
		rst_fail("data offset %lld, want 1234", (long long)lseek(a, 0, SEEK_CUR));
	if (!(fcntl(a, F_GETFD) & FD_CLOEXEC) || (fcntl(b, F_GETFD) & FD_CLOEXEC))
		rst_fail("FD_CLOEXEC not kept");
	fl = fcntl(c, F_GETFL);
	if (!(fl & O_APPEND) || (fl & O_ACCMODE) != O_WRONLY)
		rst_fail("log flags %#x", fl);
	if ((fcntl(a, F_GETFL) & O_ACCMODE) != O_RDONLY ||
	    (fcntl(b, F_GETFL) & O_ACCMODE) != O_WRONLY ||
	    (fcntl(e, F_GETFL) & O_ACCMODE) != O_RDWR)
		rst_fail("access modes not kept");
	if (read(a, buf, 10) != 10)
		rst_fail("read data: %s", strerror(errno));
	for (int i = 0; i < 10; i++)
		want[i] = (char)('A' + (1234 + i) % 23);
	if (memcmp(buf, want, 10))
		rst_fail("data at 1234 differs");
	if (lseek(d, 0, SEEK_CUR) != 1244)
		rst_fail("dup'ed fd does not share the offset (%lld)",
			 (long long)lseek(d, 0, SEEK_CUR));
	if (write(c, "after\n", 6) != 6 || fstat(c, &st) < 0)
		rst_fail("append: %s", strerror(errno));
	if (lseek(c, 0, SEEK_CUR) != st.st_size)
		rst_fail("append did not write at the end");
	if (write(e, "x", 1) != 1)
		rst_fail("/dev/null: %s", strerror(errno));
	rst_pass();
}
