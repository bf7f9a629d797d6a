// SPDX-License-Identifier: MIT
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "parasite/parasite.h"
#include "proto/img.h"
#include "runtime-glue/fault.h"

static char *faults; /* ",point:action,point:action," */

/* Each written image: "image" (any) and "image-TYPE" (e.g. image-PAGEMAP). */
static int img_fault(const char *type_name, struct ck_err **err)
{
	_cleanup_free_ char *p = xasprintf("image-%s", type_name);

	if (glue_fault_enabled(p))
		return glue_fault(p, err);
	return glue_fault("image", err);
}

/* parasite/: a remote call's steps (kill, pause, stop; "fail" is not offered there) */
static void remote_fault(const char *point)
{
	_cleanup_err_ struct ck_err *e = NULL;

	if (glue_fault(point, &e) < 0)
		pr_debug("fault point %s: only kill, pause and stop act there", point);
}

/* see fault.h */
void glue_fault_init(void)
{
	const char *e = getenv("CK_FAULT");

	if (faults || !e || !*e)
		return;
	faults = xasprintf(",%s,", e);
	img_close_fault = img_fault;
	parasite_fault_hook = remote_fault;
}

static const char *lookup(const char *point)
{
	size_t n = strlen(point);

	if (!faults)
		return NULL;
	for (const char *p = strchr(faults, ','); p && p[1]; p = strchr(p + 1, ',')) {
		if (strncmp(p + 1, point, n))
			continue;
		if (p[1 + n] == ',')
			return "fail";
		if (p[1 + n] == ':')
			return p + 2 + n;
	}
	return NULL;
}

/* see fault.h */
int glue_fault_enabled(const char *point)
{
	return lookup(point) != NULL;
}

/* see fault.h */
int glue_fault(const char *point, struct ck_err **err)
{
	const char *a = lookup(point);

	if (!a)
		return 0;
	if (!strncmp(a, "kill", 4) && (a[4] == ',' || !a[4])) {
		kill(getpid(), SIGKILL);
	} else if (!strncmp(a, "pause", 5) && (a[5] == ',' || !a[5])) {
		fprintf(stderr, "ckpt: paused at %s (pid %d)\n", point, (int)getpid());
		fflush(stderr);
		for (;;)
			pause();
	} else if (!strncmp(a, "stop", 4) && (a[4] == ',' || !a[4])) {
		fprintf(stderr, "ckpt: stopped at %s (pid %d)\n", point, (int)getpid());
		fflush(stderr);
		raise(SIGSTOP);
		return 0; /* continued: go on */
	}
	return ck_err_set(err, 0, "fault injected at %s", point);
}
