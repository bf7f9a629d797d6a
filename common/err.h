/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Error objects for host-side code.
 *
 * A function that can fail takes `struct ck_err **err` as its last argument and
 * returns -1 (int functions) or NULL (pointer functions) on failure, with *err
 * holding an allocated error.  On success *err is not touched.  Failure is never
 * signalled by a positive value or by errno arithmetic.
 *
 * Capture errno where the failure happens:
 *
 *	return ck_err_set(err, errno, "open %s", path);
 *
 * and only add context on the way up:
 *
 *	return ck_err_wrap(err, "pre-dump of pid %d", pid);
 *
 * The printed message then reads outermost first:
 *	"pre-dump of pid 41: open /x: No such file or directory".
 * Nothing below main() prints an error; hook/ prints it once.
 */

struct ck_err {
	int errnum; /* errno value, or 0 when no system error is involved */
	char *msg;  /* context chain, without the strerror() part */
};

/* Set *err (which must be NULL) to a new error; always returns -1. */
int ck_err_set(struct ck_err **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix "<context>: " to an existing error; always returns -1. */
int ck_err_wrap(struct ck_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Full message: "msg: strerror(errnum)" (or just msg). Caller frees. */
char *ck_err_str(const struct ck_err *err);

/* Free and reset *err; safe on NULL. */
void ck_err_free(struct ck_err **err);

/* Convenience for cleanup attributes. */
static inline void ck_err_freep(struct ck_err **err)
{
	ck_err_free(err);
}
