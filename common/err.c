// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"

/* see err.h */
int ck_err_set(struct ck_err **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	struct ck_err *e;

	if (!err)
		return -1;
	e = xzalloc(sizeof(*e));
	va_start(ap, fmt);
	if (vasprintf(&e->msg, fmt, ap) < 0)
		xoom();
	va_end(ap);
	e->errnum = errnum;
	/* A second error must not leak the first: keep the first, it is the cause. */
	if (*err) {
		ck_err_free(&e);
		return -1;
	}
	*err = e;
	return -1;
}

/* see err.h */
int ck_err_wrap(struct ck_err **err, const char *fmt, ...)
{
	va_list ap;
	char *ctx = NULL, *msg = NULL;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		xoom();
	va_end(ap);
	if (asprintf(&msg, "%s: %s", ctx, (*err)->msg) < 0)
		xoom();
	free(ctx);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

/* see err.h */
char *ck_err_str(const struct ck_err *err)
{
	char *s = NULL;

	if (!err)
		return xstrdup("unknown error");
	if (err->errnum) {
		if (asprintf(&s, "%s: %s", err->msg, strerror(err->errnum)) < 0)
			xoom();
		return s;
	}
	return xstrdup(err->msg);
}

/* see err.h */
void ck_err_free(struct ck_err **err)
{
	if (!err || !*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}
