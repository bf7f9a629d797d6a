// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

static int log_level = CK_LOG_WARN;
static int log_fd = STDERR_FILENO;
static struct timespec log_start;

/* see log.h */
void ck_log_set_level(int level)
{
	log_level = level;
}

/* see log.h */
int ck_log_get_level(void)
{
	return log_level;
}

/* see log.h */
void ck_log_set_fd(int fd)
{
	log_fd = fd;
}

/* see log.h */
int ck_log_get_fd(void)
{
	return log_fd;
}

/* see log.h */
void ck_vlog(int level, const char *fmt, va_list ap)
{
	struct timespec now;
	char buf[4096];
	int n, m;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!log_start.tv_sec && !log_start.tv_nsec)
		log_start = now;
	n = snprintf(buf, sizeof(buf), "(%02ld.%06ld) ",
		     (long)(now.tv_sec - log_start.tv_sec) -
			     (now.tv_nsec < log_start.tv_nsec ? 1 : 0),
		     (long)((now.tv_nsec - log_start.tv_nsec + 1000000000L) % 1000000000L) / 1000);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	if (buf[n - 1] != '\n')
		buf[n++] = '\n';
	/* One write per line so concurrent writers (tracker, guardian) do not interleave. */
	if (write(log_fd, buf, (size_t)n) < 0)
		return;
}

/* see log.h */
void ck_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ck_vlog(level, fmt, ap);
	va_end(ap);
}
