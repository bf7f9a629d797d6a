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

enum fault_action { FA_FAIL, FA_KILL, FA_PAUSE, FA_STOP };

struct fault {
	char *point;
	enum fault_action action;
	long left; /* hits still to act on; -1: every hit */
};

static struct fault *faults;
static size_t nr_faults;
static char scope[32]; /* "agent", "rpc": SCOPE-POINT is looked up first */

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

static void parse_one(char *item)
{
	char *act = strchr(item, ':'), *cnt = NULL;
	struct fault f = { .action = FA_FAIL, .left = -1 };

	if (act) {
		*act++ = '\0';
		cnt = strchr(act, ':');
		if (cnt)
			*cnt++ = '\0';
		if (!strcmp(act, "kill"))
			f.action = FA_KILL;
		else if (!strcmp(act, "pause"))
			f.action = FA_PAUSE;
		else if (!strcmp(act, "stop"))
			f.action = FA_STOP;
		if (cnt && *cnt)
			f.left = strtol(cnt, NULL, 10);
	}
	if (!*item)
		return;
	f.point = xstrdup(item);
	faults = xreallocarray(faults, nr_faults + 1, sizeof(*faults));
	faults[nr_faults++] = f;
}

/* see fault.h */
void glue_fault_init(void)
{
	const char *e = getenv("CK_FAULT");
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;

	if (faults || !e || !*e)
		return;
	copy = xstrdup(e);
	for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save))
		parse_one(it);
	img_close_fault = img_fault;
	parasite_fault_hook = remote_fault;
}

/* see fault.h */
void glue_fault_scope(const char *s)
{
	snprintf(scope, sizeof(scope), "%s", s ? s : "");
}

static struct fault *find(const char *point)
{
	for (size_t i = 0; i < nr_faults; i++)
		if (!strcmp(faults[i].point, point))
			return &faults[i];
	return NULL;
}

/* The entry for @point in the current scope (SCOPE-POINT), else for POINT itself. */
static struct fault *lookup(const char *point, const char **name)
{
	struct fault *f = NULL;

	if (scope[0] && strncmp(point, scope, strlen(scope))) {
		_cleanup_free_ char *s = xasprintf("%s-%s", scope, point);

		f = find(s);
		if (f) {
			*name = f->point;
			return f;
		}
	}
	f = find(point);
	*name = point;
	return f;
}

/* see fault.h */
int glue_fault_enabled(const char *point)
{
	const char *name;
	struct fault *f = lookup(point, &name);

	return f && f->left != 0;
}

/* see fault.h */
int glue_fault(const char *point, struct ck_err **err)
{
	const char *name;
	struct fault *f = lookup(point, &name);

	if (!f || f->left == 0)
		return 0;
	if (f->left > 0)
		f->left--;
	switch (f->action) {
	case FA_KILL:
		kill(getpid(), SIGKILL);
		break;
	case FA_PAUSE:
		fprintf(stderr, "ckpt: paused at %s (pid %d)\n", name, (int)getpid());
		fflush(stderr);
		for (;;)
			pause();
	case FA_STOP:
		fprintf(stderr, "ckpt: stopped at %s (pid %d)\n", name, (int)getpid());
		fflush(stderr);
		raise(SIGSTOP);
		return 0; /* continued: go on */
	case FA_FAIL:
		break;
	}
	return ck_err_set(err, 0, "fault injected at %s", name);
}
