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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "hook/mem-opts.h"
#include "hook/verbs.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/features.h"

enum {
	OPT_CGROUP = 256,
	OPT_PREV,
	OPT_TRACK_MEM,
	OPT_TRACKER,
	OPT_LEAVE_RUNNING,
	OPT_LEAVE_STOPPED,
	OPT_JSON,
	OPT_MAX_REPORT,
	OPT_SHELL_JOB,
	OPT_MEMORY_ONLY,
};

static const char *verb_name(enum hook_mem_verb v)
{
	return v == HOOK_MEM_PRE_DUMP ? "pre-dump" : v == HOOK_MEM_DUMP ? "dump" : "verify";
}

/* see mem-opts.h */
int hook_mem_parse(enum hook_mem_verb verb, int argc, char **argv, struct hook_mem_args *a)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "prev-images-dir", required_argument, NULL, OPT_PREV },
		{ "track-mem", no_argument, NULL, OPT_TRACK_MEM },
		{ "tracker", required_argument, NULL, OPT_TRACKER },
		{ "leave-running", no_argument, NULL, OPT_LEAVE_RUNNING },
		{ "leave-stopped", no_argument, NULL, OPT_LEAVE_STOPPED },
		{ "json-progress", no_argument, NULL, OPT_JSON },
		{ "log-file", required_argument, NULL, 'o' },
		{ "max-report", required_argument, NULL, OPT_MAX_REPORT },
		{ "shell-job", no_argument, NULL, OPT_SHELL_JOB },
		{ "memory-only", no_argument, NULL, OPT_MEMORY_ONLY },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = verb_name(verb);
	const char *log_file = NULL;
	bool running = false, stopped = false, memory_only = false;
	int level = CK_LOG_WARN, c;
	char *end;

	memset(a, 0, sizeof(*a));
	a->mem.tracker = -1;
	a->mem.verb = name;
	a->mem.pre_dump = verb == HOOK_MEM_PRE_DUMP;
	a->max_report = 20;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:D:o:v::", opts, NULL)) != -1) {
		switch (c) {
		case 't': {
			long pid = strtol(optarg, &end, 10);

			if (*end || pid <= 0 || pid > 0x7fffffff)
				return hook_usage_error(name, "-t: '%s' is not a process id",
							optarg);
			a->mem.target.pid = (pid_t)pid;
			break;
		}
		case OPT_CGROUP:
			a->mem.target.cgroup = optarg;
			break;
		case 'D':
			a->mem.images_dir = optarg;
			break;
		case OPT_PREV:
			if (verb == HOOK_MEM_VERIFY)
				return hook_usage_error(
					name,
					"--prev-images-dir: verify follows the parent links of -D");
			a->mem.prev_dir = optarg;
			break;
		case OPT_TRACK_MEM:
			a->mem.track_mem = true;
			break;
		case OPT_TRACKER:
			if (!strcmp(optarg, "auto")) {
				a->mem.tracker = -1;
			} else {
				a->mem.tracker = glue_tracker_lookup(optarg);
				if (a->mem.tracker < 0)
					return hook_usage_error(
						name,
						"--tracker: unknown tracker '%s' (auto, uffd-wp, soft-dirty, hash, none)",
						optarg);
			}
			break;
		case OPT_LEAVE_RUNNING:
			running = true;
			break;
		case OPT_LEAVE_STOPPED:
			stopped = true;
			break;
		case OPT_SHELL_JOB:
			if (verb != HOOK_MEM_DUMP)
				return hook_usage_error(name, "--shell-job is a dump option");
			a->mem.shell_job = true;
			break;
		case OPT_MEMORY_ONLY:
			if (verb != HOOK_MEM_DUMP)
				return hook_usage_error(name, "--memory-only is a dump option");
			memory_only = true;
			break;
		case OPT_JSON:
			a->mem.json_progress = true;
			break;
		case 'o':
			log_file = optarg;
			break;
		case 'v':
			if (optarg) {
				level = (int)strtol(optarg, &end, 10);
				if (*end || level < 0 || level > 4)
					return hook_usage_error(name, "-v: bad level '%s' (0-4)",
								optarg);
				level = level > 0 ? level - 1 : 0;
			} else {
				level++;
			}
			break;
		case OPT_MAX_REPORT: {
			long n = strtol(optarg, &end, 10);

			if (*end || n < 0)
				return hook_usage_error(name, "--max-report: bad number '%s'",
							optarg);
			a->max_report = (unsigned)n;
			break;
		}
		case ':':
			return hook_usage_error(name, "option '%s' needs an argument",
						argv[optind - 1]);
		default:
			return hook_usage_error(name, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return hook_usage_error(name, "unexpected argument '%s'", argv[optind]);
	if ((running || stopped) && verb != HOOK_MEM_DUMP)
		return hook_usage_error(name, "--leave-running/--leave-stopped are dump options");
	if (running && stopped)
		return hook_usage_error(name,
					"--leave-running and --leave-stopped exclude each other");
	if (verb == HOOK_MEM_VERIFY && (a->mem.tracker >= 0 || a->mem.json_progress))
		return hook_usage_error(name,
					"--tracker and --json-progress are pre-dump/dump options");
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
