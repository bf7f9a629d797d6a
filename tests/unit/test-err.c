// SPDX-License-Identifier: MIT
/* Error objects: set, wrap, print, first error wins. */
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "tests/unit/tap.h"

static int fails_at_bottom(struct ck_err **err)
{
	return ck_err_set(err, ENOSPC, "write pagemap");
}

static int fails_in_middle(struct ck_err **err)
{
	if (fails_at_bottom(err))
		return ck_err_wrap(err, "pre-dump iteration %d of pid %d", 2, 41);
	return 0;
}

int main(void)
{
	struct ck_err *err = NULL;
	char *s;

	tap_ok(fails_in_middle(&err) == -1, "failure returns -1");
	tap_ok(err && err->errnum == ENOSPC, "errno captured at the failure site");
	s = ck_err_str(err);
	tap_ok(!strcmp(s, "pre-dump iteration 2 of pid 41: write pagemap: No space left on device"),
	       "message reads outermost first: %s", s);
	free(s);
	tap_ok(ck_err_set(&err, EIO, "second") == -1, "a second set returns -1");
	tap_ok(err->errnum == ENOSPC, "the first error (the cause) is kept");
	ck_err_free(&err);
	tap_ok(err == NULL, "free resets the pointer");
	ck_err_free(&err);
	tap_ok(true, "free of NULL is harmless");

	tap_ok(ck_err_set(&err, 0, "plain %s", "message") == -1, "errnum 0");
	s = ck_err_str(err);
	tap_ok(!strcmp(s, "plain message"), "no strerror part without errnum: %s", s);
	free(s);
	ck_err_free(&err);
	tap_ok(ck_err_wrap(&err, "ctx") == -1 && err == NULL, "wrap without an error is a no-op");
	return tap_done();
}
