/* SPDX-License-Identifier: MIT */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Cleanup attributes.  Always initialise at the declaration (= NULL, = -1).
 * Ownership leaves a scope explicitly with steal_ptr() / steal_fd().
 */

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
	*f = NULL;
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
	*d = NULL;
}

#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_err_      _cleanup_(ck_err_freep)

static inline void *steal_ptr_impl(void *pp)
{
	void **p = pp;
	void *v = *p;

	*p = NULL;
	return v;
}

/* Type-checked: the conditional makes the compiler check *(pp)'s type. */
#define steal_ptr(pp) (0 ? *(pp) : steal_ptr_impl(pp))

static inline int steal_fd(int *fd)
{
	int v = *fd;

	*fd = -1;
	return v;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Retry a call interrupted by a signal. */
#define TEMP_FAILURE_RETRY_INT(expr)                  \
	({                                            \
		long __r;                             \
		do                                    \
			__r = (long)(expr);           \
		while (__r == -1L && errno == EINTR); \
		__r;                                  \
	})
