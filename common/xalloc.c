// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"

/* see xalloc.h */
void xoom(void)
{
	static const char msg[] = "ckpt: out of memory\n";

	/* write(2) rather than stdio: stdio may need memory itself. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		abort();
	abort();
}

/* see xalloc.h */
void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		xoom();
	return p;
}

/* see xalloc.h */
void *xmalloc_pages(size_t size)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, size ? size : 1))
		xoom();
	return p;
}

/* see xalloc.h */
void *xzalloc(size_t size)
{
	return xcalloc(1, size);
}

/* see xalloc.h */
void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		xoom();
	return p;
}

/* see xalloc.h */
void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		xoom();
	return p;
}

/* see xalloc.h */
void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p = reallocarray(ptr, nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		xoom();
	return p;
}

/* see xalloc.h */
char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		xoom();
	return p;
}

/* see xalloc.h */
char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		xoom();
	return s;
}
