/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/*
 * Kernel feature probes for `ckpt check` and for choosing a dirty tracker.
 * Every probe tries the feature for real on scratch memory or a scratch child
 * process; none reads kernel config.
 */
enum glue_feature {
	GLUE_FEAT_SOFT_DIRTY,
	GLUE_FEAT_UFFD_WP_ASYNC,
	GLUE_FEAT_PAGEMAP_SCAN,
	GLUE_FEAT_PTRACE,
	GLUE_FEAT_PROCESS_VM_READV,
	GLUE_FEAT_PIDFD_GETFD,
	GLUE_FEAT_CGROUP_FREEZER,
	GLUE_FEAT_SECCOMP_SUSPEND,
	GLUE_FEAT_NR,
};

struct glue_feature_result {
	bool available;
	char detail[512]; /* why not, or what was found (e.g. "v1, v2") */
};

/* The name used on the command line ("soft-dirty", ...). */
const char *glue_feature_name(enum glue_feature f);
/* The feature of that name, or -1. */
int glue_feature_lookup(const char *name);

/*
 * Run one probe.  It cannot fail as such: a probe that could not be carried
 * out means the feature is not available, and detail says why.
 */
void glue_probe_feature(enum glue_feature f, struct glue_feature_result *out);

/* Dirty trackers in order of preference. */
enum glue_tracker {
	GLUE_TRACKER_UFFD_WP,
	GLUE_TRACKER_SOFT_DIRTY,
	GLUE_TRACKER_HASH,
	GLUE_TRACKER_NONE,
	GLUE_TRACKER_NR,
};

const char *glue_tracker_name(enum glue_tracker t);
/* The tracker of that name, or -1. */
int glue_tracker_lookup(const char *name);

/* Whether this build implements tracker t. */
bool glue_tracker_built(enum glue_tracker t);

/*
 * Choose the best tracker given probe results for every feature; `why` gets a
 * sentence naming the choice and why each better tracker was not used.
 */
enum glue_tracker glue_choose_tracker(const struct glue_feature_result res[GLUE_FEAT_NR], char *why,
				      unsigned long why_len);

/* Probe what tracker choice needs and choose (for pre-dump's default). */
enum glue_tracker glue_auto_tracker(char *why, unsigned long why_len);

/*
 * The same without tracker @skip (GLUE_TRACKER_NR: none skipped), which `why`
 * says is not used because of @skip_why.  none cannot be skipped.
 */
enum glue_tracker glue_auto_tracker_except(enum glue_tracker skip, const char *skip_why, char *why,
					   unsigned long why_len);
