// SPDX-License-Identifier: MIT
/*
 * ckpt check [--feature NAME] [--json] [-v]
 *
 * Exit codes: plain check: 0 when ckpt can dump on this kernel (ptrace and
 * process_vm_readv work), 1 otherwise.  --feature NAME: 0 available, 1 not,
 * 2 unknown name.
 */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "hook/verbs.h"
#include "oci-spec/oci-spec.h"
#include "runtime-glue/features.h"

enum { OPT_FEATURE = 1, OPT_JSON, OPT_VERBOSE };

/* clang-format off */
const struct hook_opt hook_opts_check[] = {
	HOOK_OPT(OPT_FEATURE, "feature", 0, ARG, "NAME", NULL, "probe only NAME: exit 0 when available, 1 when not"),
	HOOK_OPT(OPT_JSON, "json", 0, NONE, NULL, NULL, "print one JSON object instead of lines"),
	HOOK_OPT(OPT_VERBOSE, "verbose", 'v', NONE, NULL, NULL, "give the detail of available features too"),
	HOOK_OPT_END,
};
/* clang-format on */

static int print_json(const struct glue_feature_result *res, int nfeat, const int *feats,
		      int tracker, const char *why, struct ck_err **err)
{
	struct oci_json *j = oci_json_new(true);
	const char *doc;
	size_t len;

	oci_json_map_open(j);
	oci_json_key(j, "features");
	oci_json_map_open(j);
	for (int i = 0; i < nfeat; i++) {
		oci_json_key(j, glue_feature_name(feats[i]));
		oci_json_map_open(j);
		oci_json_key(j, "available");
		oci_json_bool(j, res[feats[i]].available);
		oci_json_key(j, "detail");
		oci_json_string(j, res[feats[i]].detail);
		oci_json_map_close(j);
	}
	oci_json_map_close(j);
	if (tracker >= 0) {
		oci_json_key(j, "tracker");
		oci_json_map_open(j);
		oci_json_key(j, "name");
		oci_json_string(j, glue_tracker_name(tracker));
		oci_json_key(j, "why");
		oci_json_string(j, why);
		oci_json_map_close(j);
	}
	oci_json_map_close(j);
	doc = oci_json_finish(j, &len, err);
	if (!doc) {
		oci_json_free(j);
		return -1;
	}
	fwrite(doc, 1, len, stdout);
	if (len && doc[len - 1] != '\n')
		putchar('\n');
	oci_json_free(j);
	return 0;
}

static void print_line(const struct glue_feature_result *r, int f, bool verbose)
{
	if (r->available && !verbose)
		printf("%s: yes\n", glue_feature_name(f));
	else
		printf("%s: %s (%s)\n", glue_feature_name(f), r->available ? "yes" : "no",
		       r->detail);
}

/* see verbs.h */
int hook_cmd_check(int argc, char **argv, struct ck_err **err)
{
	struct hook_getopt g;
	struct glue_feature_result res[GLUE_FEAT_NR] = { 0 };
	int feats[GLUE_FEAT_NR], nfeat = 0, tracker = -1, c;
	const char *feature = NULL;
	bool json = false, verbose = false;
	char why[1024] = "";

	hook_getopt_init(&g, "check", hook_opts_check, true, argc, argv);
	while ((c = hook_getopt_next(&g)) > 0) {
		switch (c) {
		case OPT_FEATURE:
			feature = g.arg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_VERBOSE:
			verbose = true;
			break;
		}
	}
	if (c < 0)
		return HOOK_EXIT_USAGE;
	if (optind < argc)
		return hook_usage_error("check", "unexpected argument '%s'", argv[optind]);

	if (feature) {
		int f = glue_feature_lookup(feature);

		if (f < 0) {
			fprintf(stderr, "ckpt check: unknown feature '%s'; known:", feature);
			for (int i = 0; i < GLUE_FEAT_NR; i++)
				fprintf(stderr, " %s", glue_feature_name(i));
			fprintf(stderr, "\n");
			return HOOK_EXIT_USAGE;
		}
		feats[nfeat++] = f;
		glue_probe_feature(f, &res[f]);
		if (json) {
			if (print_json(res, nfeat, feats, -1, why, err))
				return HOOK_EXIT_ERR;
		} else {
			print_line(&res[f], f, true);
		}
		return res[f].available ? HOOK_EXIT_OK : HOOK_EXIT_ERR;
	}

	for (int f = 0; f < GLUE_FEAT_NR; f++) {
		feats[nfeat++] = f;
		glue_probe_feature(f, &res[f]);
	}
	tracker = glue_choose_tracker(res, why, sizeof(why));
	if (json) {
		if (print_json(res, nfeat, feats, tracker, why, err))
			return HOOK_EXIT_ERR;
	} else {
		for (int f = 0; f < GLUE_FEAT_NR; f++)
			print_line(&res[f], f, verbose);
		printf("tracker: %s (%s)\n", glue_tracker_name(tracker), why);
	}
	if (!res[GLUE_FEAT_PTRACE].available || !res[GLUE_FEAT_PROCESS_VM_READV].available)
		return HOOK_EXIT_ERR;
	return HOOK_EXIT_OK;
}
