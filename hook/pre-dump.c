// SPDX-License-Identifier: MIT
/*
 * ckpt pre-dump -t PID|--cgroup PATH -D DIR [--prev-images-dir REL] [--tracker NAME] ...
 *
 * Writes one memory layer while the tree keeps running: the tree is frozen
 * only to list its memory, the pages are copied after thawing.  Also holds the
 * option parser shared with dump and verify (mem-opts.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "hook/mem-opts.h"
#include "hook/verbs.h"
#include "runtime-glue/dump/frozen-buf.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/features.h"

enum {
	OPT_TREE = 1,
	OPT_CGROUP,
	OPT_DIR,
	OPT_PREV,
	OPT_TRACK_MEM,
	OPT_TRACKER,
	OPT_LEAVE_RUNNING,
	OPT_LEAVE_STOPPED,
	OPT_SHELL_JOB,
	OPT_MEMORY_ONLY,
	OPT_JSON,
	OPT_LOG,
	OPT_VERBOSE,
	OPT_MAX_REPORT,
	OPT_ROOT,
	OPT_EXT_MNT,
	OPT_MANAGE_CGROUPS,
	OPT_EMPTY_NS,
	OPT_EXTERNAL,
	OPT_FREEZE_CGROUP,
	OPT_ORPHAN_PTS,
	OPT_DESCRIPTORS,
	OPT_FROZEN_BUFFER,
};

/* clang-format off */
const struct hook_opt hook_opts_mem[] = {
	HOOK_OPT(OPT_TREE, "tree", 't', ARG, "PID", "pre-dump dump verify", "the task PID, its threads and all its descendants"),
	HOOK_OPT(OPT_CGROUP, "cgroup", 0, ARG, "PATH|auto", "pre-dump dump verify", "every task of a cgroup (auto: the cgroup of -t PID)"),
	HOOK_OPT(OPT_DIR, "images-dir", 'D', ARG, "DIR", "pre-dump dump verify", "the layer to write (verify: to compare with)"),
	HOOK_OPT(OPT_PREV, "prev-images-dir", 0, ARG, "REL", "pre-dump dump", "the parent layer, relative to DIR"),
	HOOK_OPT(OPT_TRACK_MEM, "track-mem", 0, NONE, NULL, "pre-dump dump", "keep tracking changes for a later layer (pre-dump: always)"),
	HOOK_OPT(OPT_TRACKER, "tracker", 0, ARG, "NAME", "pre-dump dump", "auto, uffd-wp, soft-dirty, hash or none"),
	HOOK_OPT(OPT_LEAVE_RUNNING, "leave-running", 0, NONE, NULL, "dump", "let the tree continue after the dump"),
	HOOK_OPT(OPT_LEAVE_STOPPED, "leave-stopped", 0, NONE, NULL, "dump", "leave the tree stopped after the dump"),
	HOOK_OPT(OPT_SHELL_JOB, "shell-job", 0, NONE, NULL, "dump", "accept a session or group leader outside the tree"),
	HOOK_OPT(OPT_MEMORY_ONLY, "memory-only", 0, NONE, NULL, "dump", "write the frozen memory layer only (not restorable)"),
	HOOK_OPT(OPT_JSON, "json-progress", 0, NONE, NULL, "pre-dump dump", "print JSON lines instead of the summary line"),
	HOOK_OPT(OPT_LOG, "log-file", 'o', ARG, "FILE", "pre-dump dump verify", "append the log to FILE (at least at info level)"),
	HOOK_OPT(OPT_VERBOSE, NULL, 'v', LEVEL, "N", "pre-dump dump verify", "more log; repeatable, or a level 0-4 (-v4, -v 4)"),
	HOOK_OPT(OPT_FROZEN_BUFFER, "frozen-buffer", 0, ARG, "SIZE", "dump", "page data held in memory while frozen, written after the kill or thaw (default 40M)"),
	HOOK_OPT(OPT_MAX_REPORT, "max-report", 0, ARG, "N", "verify", "print at most N problems per task (default 20)"),
	HOOK_OPT(OPT_ROOT, "root", 0, ARG, "DIR", "dump", "container: its root directory on the host"),
	HOOK_OPT(OPT_EXT_MNT, "ext-mnt", 0, ARG, "KEY:VAL", "dump", "container: mount point KEY is external (VAL outside); repeatable"),
	HOOK_OPT(OPT_MANAGE_CGROUPS, "manage-cgroups", 0, NONE, NULL, "dump", "container: write cgroup.img (sets, dirs, properties)"),
	HOOK_OPT(OPT_EMPTY_NS, "empty-ns", 0, ARG, "net", "dump", "container: its net namespace is restored empty (not dumped)"),
	HOOK_OPT(OPT_EXTERNAL, "external", 0, ARG, "net[INO]:KEY", "dump", "container: its net namespace INO is external, joined at restore through inherit_fd KEY"),
	HOOK_OPT(OPT_FREEZE_CGROUP, "freeze-cgroup", 0, ARG, "PATH", "dump", "container: the cgroup to freeze (default: --cgroup)"),
	HOOK_OPT(OPT_ORPHAN_PTS, "orphan-pts-master", 0, NONE, NULL, "dump", "container: a tty whose master is outside"),
	HOOK_OPT(OPT_DESCRIPTORS, "descriptors", 0, NONE, NULL, "dump", "container: also write runc's descriptors.json"),
	HOOK_OPT_END,
};
/* clang-format on */

static const char *verb_name(enum hook_mem_verb v)
{
	return v == HOOK_MEM_PRE_DUMP ? "pre-dump" : v == HOOK_MEM_DUMP ? "dump" : "verify";
}

/* see mem-opts.h */
int hook_mem_parse(enum hook_mem_verb verb, int argc, char **argv, struct hook_mem_args *a)
{
	const char *name = verb_name(verb);
	const char *log_file = NULL;
	bool running = false, stopped = false, memory_only = false;
	int level = CK_LOG_WARN, c;
	struct hook_getopt g;
	char *end;

	memset(a, 0, sizeof(*a));
	a->mem.tracker = -1;
	a->mem.verb = name;
	a->mem.pre_dump = verb == HOOK_MEM_PRE_DUMP;
	a->max_report = 20;
	hook_getopt_init(&g, name, hook_opts_mem, false, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_TREE: {
			long pid = strtol(g.arg, &end, 10);

			if (*end || pid <= 0 || pid > 0x7fffffff)
				return hook_usage_error(name, "-t: '%s' is not a process id",
							g.arg);
			a->mem.target.pid = (pid_t)pid;
			break;
		}
		case OPT_CGROUP:
			a->mem.target.cgroup = g.arg;
			break;
		case OPT_DIR:
			a->mem.images_dir = g.arg;
			break;
		case OPT_PREV:
			a->mem.prev_dir = g.arg;
			break;
		case OPT_TRACK_MEM:
			a->mem.track_mem = true;
			break;
		case OPT_TRACKER:
			if (!strcmp(g.arg, "auto")) {
				a->mem.tracker = -1;
			} else {
				a->mem.tracker = glue_tracker_lookup(g.arg);
				if (a->mem.tracker < 0)
					return hook_usage_error(
						name,
						"--tracker: unknown tracker '%s' (auto, uffd-wp, soft-dirty, hash, none)",
						g.arg);
			}
			break;
		case OPT_LEAVE_RUNNING:
			running = true;
			break;
		case OPT_LEAVE_STOPPED:
			stopped = true;
			break;
		case OPT_SHELL_JOB:
			a->mem.shell_job = true;
			break;
		case OPT_MEMORY_ONLY:
			memory_only = true;
			break;
		case OPT_JSON:
			a->mem.json_progress = true;
			break;
		case OPT_LOG:
			log_file = g.arg;
			break;
		case OPT_VERBOSE:
			if (hook_opt_level(name, g.arg, &level))
				return HOOK_EXIT_USAGE;
			break;
		case OPT_ROOT:
			a->mem.ctr.root = g.arg;
			break;
		case OPT_EXT_MNT: {
			const char *colon = strchr(g.arg, ':');
			struct glue_ext_mnt *m;

			if (!colon || colon == g.arg)
				return hook_usage_error(name, "--ext-mnt: '%s' is not KEY:VAL",
							g.arg);
			a->mem.ctr.ext_mnt =
				xreallocarray(a->mem.ctr.ext_mnt, a->mem.ctr.nr_ext_mnt + 1,
					      sizeof(*a->mem.ctr.ext_mnt));
			m = &a->mem.ctr.ext_mnt[a->mem.ctr.nr_ext_mnt++];
			m->key = xasprintf("%.*s", (int)(colon - g.arg), g.arg);
			m->val = colon + 1;
			break;
		}
		case OPT_MANAGE_CGROUPS:
			a->mem.ctr.manage_cgroups = true;
			break;
		case OPT_EMPTY_NS:
			if (strcmp(g.arg, "net"))
				return hook_usage_error(
					name, "--empty-ns: only 'net' is supported, not '%s'",
					g.arg);
			a->mem.ctr.empty_net = true;
			break;
		case OPT_EXTERNAL: {
			_cleanup_err_ struct ck_err *e = NULL;

			if (glue_ctr_external(&a->mem.ctr, g.arg, &e) < 0)
				return hook_usage_error(name, "--external: %s", e->msg);
			break;
		}
		case OPT_FREEZE_CGROUP:
			a->mem.ctr.freeze_cgroup = g.arg;
			break;
		case OPT_ORPHAN_PTS:
			a->mem.ctr.orphan_pts_master = true;
			break;
		case OPT_DESCRIPTORS:
			a->mem.ctr.descriptors = true;
			break;
		case OPT_FROZEN_BUFFER:
			if (glue_parse_size(g.arg, &a->mem.frozen_buffer) < 0)
				return hook_usage_error(
					name,
					"--frozen-buffer: bad size '%s' (bytes, or with K, M, G)",
					g.arg);
			a->mem.frozen_buffer_set = true;
			break;
		case OPT_MAX_REPORT: {
			long n = strtol(g.arg, &end, 10);

			if (*end || n < 0)
				return hook_usage_error(name, "--max-report: bad number '%s'",
							g.arg);
			a->max_report = (unsigned)n;
			break;
		}
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (optind < argc)
		return hook_usage_error(name, "unexpected argument '%s'", argv[optind]);
	if (running && stopped)
		return hook_usage_error(name,
					"--leave-running and --leave-stopped exclude each other");
	if (a->mem.ctr.freeze_cgroup && !a->mem.target.cgroup)
		a->mem.target.cgroup = a->mem.ctr.freeze_cgroup;
	if (!a->mem.target.pid && !a->mem.target.cgroup)
		return hook_usage_error(name, "no target: give -t PID or --cgroup PATH");
	if (a->mem.target.cgroup && !strcmp(a->mem.target.cgroup, "auto") && !a->mem.target.pid)
		return hook_usage_error(name, "--cgroup auto needs -t PID");
	if (!a->mem.images_dir)
		return hook_usage_error(name, "no images directory: give -D DIR");
	if (memory_only && a->mem.shell_job)
		return hook_usage_error(
			name, "--shell-job belongs to the restorable dump, not to --memory-only");
	/*
	 * dump writes a restorable image set and, like CRIU, then kills the tree
	 * by default; --memory-only writes the memory layer alone, which cannot
	 * be restored, so the tree is left stopped unless --leave-running.
	 */
	a->mem.restorable = verb == HOOK_MEM_DUMP && !memory_only;
	a->mem.leave_stopped = memory_only ? !running : stopped;
	a->mem.kill_after = a->mem.restorable && !running && !stopped;
	ck_log_set_level(level);
	if (log_file) {
		int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd < 0) {
			fprintf(stderr, "ckpt %s: log file %s: %s\n", name, log_file,
				strerror(errno));
			return HOOK_EXIT_USAGE;
		}
		ck_log_set_fd(fd);
		if (level < CK_LOG_INFO)
			ck_log_set_level(CK_LOG_INFO); /* a log file wants the details */
	}
	glue_fault_init();
	return HOOK_EXIT_OK;
}

/* see mem-opts.h */
int hook_mem_run_dump(enum hook_mem_verb verb, int argc, char **argv, struct ck_err **err)
{
	struct hook_mem_args a;
	struct glue_mem_result res;
	int rc = hook_mem_parse(verb, argc, argv, &a);

	if (rc != HOOK_EXIT_OK)
		return rc;
	if (glue_mem_dump(&a.mem, &res, err) < 0)
		return HOOK_EXIT_ERR;
	if (!a.mem.json_progress)
		printf("%s: %s: %llu pages written, %llu from parent, %llu scanned; frozen %.3f ms (tracker %s)\n",
		       verb_name(verb), a.mem.images_dir, (unsigned long long)res.st.pages_written,
		       (unsigned long long)res.st.pages_skipped_parent,
		       (unsigned long long)res.st.pages_scanned, (double)res.st.frozen_us / 1000.0,
		       glue_tracker_name(res.tracker));
	return HOOK_EXIT_OK;
}

int hook_cmd_pre_dump(int argc, char **argv, struct ck_err **err)
{
	return hook_mem_run_dump(HOOK_MEM_PRE_DUMP, argc, argv, err);
}
