// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for `ckpt exec`'s argument parser: the input is
 * NUL-separated words, the first the SYSCALL (name or number, as
 * glue_syscall_nr() reads it), the rest arguments for glue_exec_parse_arg()
 * ("&text", "@N" or a number).  Every word must parse or fail with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "runtime-glue/exec.h"
#include "runtime-glue/proc/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct glue_exec_arg a;
	size_t off = 0, word = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	while (off <= size && word <= GLUE_EXEC_MAX_ARGS) {
		struct ck_err *err = NULL;
		const char *w = buf + off;
		int rc;

		if (word == 0) {
			long nr;

			rc = glue_syscall_nr(w, 0, &nr, &err);
		} else {
			rc = glue_exec_parse_arg(w, &a, &err);
			if (rc == 0 && a.kind == GLUE_EXEC_ARG_BUFFER &&
			    (a.size == 0 || a.size > GLUE_EXEC_MAX_BUFFER))
				abort(); /* the parser promised 1..GLUE_EXEC_MAX_BUFFER */
			if (rc == 0 && a.kind == GLUE_EXEC_ARG_STRING &&
			    a.size != strlen(a.str) + 1)
				abort();
		}
		if (rc < 0 && (!err || !err->msg || !*err->msg))
			abort(); /* a refusal always carries a message */
		ck_err_free(&err);
		off += strlen(w) + 1;
		word++;
	}
	free(buf);
	return 0;
}
