// SPDX-License-Identifier: MIT
/* oci-spec: state JSON, config.json and the agent messages, good and bad. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/xalloc.h"
#include "oci-spec/agent-msg.h"
#include "oci-spec/spec.h"
#include "tests/unit/tap.h"

/* Parse @json as a state; expect failure with @want in the message (NULL: success). */
static void state_case(const char *json, const char *want, const char *name)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct oci_state *st = NULL;
	int r = oci_state_parse(json, strlen(json), "state (test)", &st, &err);

	if (!want) {
		tap_ok(r == 0 && st, "state %s: parsed", name);
	} else {
		_cleanup_free_ char *m = err ? ck_err_str(err) : xstrdup("");

		tap_ok(r == -1 && !st && strstr(m, want) && strstr(m, "state (test)"),
		       "state %s: refused (%s)", name, m);
	}
	oci_state_free(st);
}

static void config_case(const char *json, const char *want, const char *name)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct oci_config *c = NULL;
	int r = oci_config_parse(json, strlen(json), "/b/config.json", &c, &err);
	_cleanup_free_ char *m = err ? ck_err_str(err) : xstrdup("");

	tap_ok(r == -1 && !c && strstr(m, want) && strstr(m, "/b/config.json"),
	       "config %s: refused (%s)", name, m);
	oci_config_free(c);
}

int main(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	struct oci_state *st = NULL;
	struct oci_config *c = NULL;
	const char *good = "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"web\",\"status\":\"created\","
			   "\"pid\":4242,\"bundle\":\"/b\",\"annotations\":"
			   "{\"org.ckpt.enable\":\"true\",\"x\":\"y\"},\"future\":[1,2]}";

	tap_ok(oci_state_parse(good, strlen(good), "s", &st, &err) == 0, "a runc state parses");
	tap_ok(st && st->pid == 4242 && st->status == OCI_STATUS_CREATED &&
		       !strcmp(st->id, "web") && !strcmp(st->bundle, "/b"),
	       "its fields");
	tap_ok(st &&
		       !strcmp(oci_annotation(st->annotations, st->nr_annotations,
					      "org.ckpt.enable"),
			       "true") &&
		       !oci_annotation(st->annotations, st->nr_annotations, "nope"),
	       "annotations looked up");
	oci_state_free(st);
	state_case("{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"stopped\",\"bundle\":\"/b\"}",
		   NULL, "stopped without pid");
	state_case("{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"created\",\"bundle\":\"/b\"}",
		   "field \"pid\" is missing", "created without pid");
	state_case(
		"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"created\",\"pid\":-1,\"bundle\":\"/b\"}",
		"field \"pid\": expected an integer", "negative pid");
	state_case(
		"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"created\",\"pid\":1.5,\"bundle\":\"/b\"}",
		"field \"pid\"", "fractional pid");
	state_case(
		"{\"ociVersion\":\"1\",\"id\":\"a\",\"id\":\"b\",\"status\":\"created\",\"pid\":1,\"bundle\":\"/b\"}",
		"appears twice", "duplicate key");
	state_case(
		"{\"ociVersion\":\"1\",\"id\":\"a/b\",\"status\":\"created\",\"pid\":1,\"bundle\":\"/b\"}",
		"field \"id\"", "id with a slash");
	state_case(
		"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"paused\",\"pid\":1,\"bundle\":\"/b\"}",
		"field \"status\"", "unknown status");
	state_case(
		"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"created\",\"pid\":1,\"bundle\":\"b\"}",
		"not an absolute path", "relative bundle");
	state_case(
		"{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"created\",\"pid\":1,\"bundle\":\"/b\","
		"\"annotations\":{\"k\":1}}",
		"field \"annotations.k\": expected a string", "non-string annotation");
	state_case("{\"ociVersion\":\"1\",\"id\":", "malformed JSON", "truncated");
	state_case("[1]", "expected a JSON object", "an array");
	state_case("{\"id\":\"a\",\"status\":\"created\",\"pid\":1,\"bundle\":\"/b\"}",
		   "field \"ociVersion\" is missing", "no ociVersion");
	{
		size_t n = OCI_STATE_MAX + 10;
		_cleanup_free_ char *big = xmalloc(n + 1);

		memset(big, ' ', n);
		big[n] = '\0';
		state_case(big, "larger than", "oversized");
	}

	{
		const char *cfg =
			"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],\"cwd\":\"/\","
			"\"user\":{\"uid\":0,\"gid\":0},\"terminal\":false},\"root\":{\"path\":\"rootfs\"},"
			"\"linux\":{\"cgroupsPath\":\"/x\",\"namespaces\":[{\"type\":\"pid\"},{\"type\":"
			"\"network\",\"path\":\"/proc/1/ns/net\"}]},\"annotations\":{\"a\":\"b\"},"
			"\"hooks\":{\"poststart\":[{\"path\":\"/usr/bin/ckpt\",\"args\":[\"ckpt\",\"hook\"],"
			"\"env\":[\"A=1\"],\"timeout\":10}]}}";

		tap_ok(oci_config_parse(cfg, strlen(cfg), "c", &c, &err) == 0,
		       "a config.json parses");
		tap_ok(c && c->nr_args == 3 && !strcmp(c->root_path, "rootfs") &&
			       !strcmp(c->cgroups_path, "/x") && c->nr_namespaces == 2 &&
			       !strcmp(c->namespaces[1].path, "/proc/1/ns/net"),
		       "process, root, cgroupsPath, namespaces");
		tap_ok(c && c->nr_hooks[OCI_HOOK_POSTSTART] == 1 &&
			       c->hooks[OCI_HOOK_POSTSTART][0].timeout == 10 &&
			       c->hooks[OCI_HOOK_POSTSTART][0].nr_env == 1 &&
			       !strcmp(oci_hook_stage_name(OCI_HOOK_POSTSTART), "poststart") &&
			       oci_hook_stage_lookup("createRuntime") == OCI_HOOK_CREATE_RUNTIME,
		       "hooks and stage names");
		oci_config_free(c);
	}
	config_case("{\"ociVersion\":3}", "field \"ociVersion\": expected a string",
		    "numeric version");
	config_case("{\"ociVersion\":\"1\",\"hooks\":{\"poststart\":[{\"path\":\"rel\"}]}}",
		    "hooks.poststart[0].path", "relative hook path");
	config_case(
		"{\"ociVersion\":\"1\",\"hooks\":{\"poststart\":[{\"path\":\"/x\",\"timeout\":0}]}}",
		"hooks.poststart[0].timeout", "zero timeout");
	config_case(
		"{\"ociVersion\":\"1\",\"process\":{\"cwd\":\"/\",\"user\":{\"uid\":\"0\",\"gid\":0}}}",
		"process.user.uid", "string uid");
	config_case("{\"ociVersion\":\"1\",\"linux\":{\"namespaces\":[{\"path\":\"/x\"}]}}",
		    "linux.namespaces[0].type", "namespace without type");

	/* agent messages round trip */
	{
		struct oci_agent_req q = { .cmd = OCI_AGENT_FINAL,
					   .dir = "/d",
					   .leave_frozen = true };
		struct oci_agent_req q2;
		size_t len;
		_cleanup_free_ char *j = oci_agent_req_encode(&q, &len);

		tap_ok(!strcmp(j, "{\"cmd\":\"final\",\"leave\":\"frozen\",\"dir\":\"/d\"}"),
		       "final request encodes: %s", j);
		tap_ok(oci_agent_req_decode(j, len, &q2, &err) == 0 && q2.cmd == OCI_AGENT_FINAL &&
			       q2.leave_frozen && !strcmp(q2.dir, "/d"),
		       "and decodes");
		oci_agent_req_clear(&q2);
	}
	{
		const char *bad[][2] = {
			{ "{\"cmd\":\"reboot\"}", "unknown command" },
			{ "{\"cmd\":\"layer\",\"dir\":\"rel\"}", "not an absolute path" },
			{ "{\"cmd\":\"status\",\"leave\":\"frozen\"}", "belongs to \"final\"" },
			{ "{\"cmd\":\"final\",\"leave\":\"melted\"}", "\"leave\"" },
			{ "{\"cmd\":\"stop\",\"dir\":\"/x\"}", "belongs to" },
			{ "{}", "field \"cmd\" is missing" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct oci_agent_req q;
			_cleanup_err_ struct ck_err *e = NULL;
			_cleanup_free_ char *m = NULL;
			int r = oci_agent_req_decode(bad[i][0], strlen(bad[i][0]), &q, &e);

			m = e ? ck_err_str(e) : xstrdup("");
			tap_ok(r == -1 && strstr(m, bad[i][1]), "request %s refused: %s", bad[i][0],
			       m);
		}
	}
	{
		struct oci_agent_layer ls[2] = { { 1, "/c/1", 10, 0, 300 },
						 { 2, "/c/2", 3, 7, 250 } };
		struct oci_agent_reply r = { .ok = true,
					     .state = "converged",
					     .tracker = "uffd-wp",
					     .cgroup = "/sys/fs/cgroup/x",
					     .latest = "/c/2",
					     .layers = ls,
					     .nr_layers = 2 };
		struct oci_agent_reply r2;
		size_t len;
		_cleanup_free_ char *j = oci_agent_reply_encode(&r, &len);

		tap_ok(oci_agent_reply_decode(j, len, &r2, &err) == 0 && r2.ok &&
			       r2.nr_layers == 2 && r2.layers[1].pages_parent == 7 &&
			       r2.layers[0].frozen_us == 300 && !strcmp(r2.latest, "/c/2") &&
			       !strcmp(r2.state, "converged"),
		       "status reply round trip: %s", j);
		oci_agent_reply_clear(&r2);
	}
	{
		struct oci_agent_reply r = { .ok = false, .error = "no" }, r2;
		size_t len;
		_cleanup_free_ char *j = oci_agent_reply_encode(&r, &len);

		tap_ok(oci_agent_reply_decode(j, len, &r2, &err) == 0 && !r2.ok &&
			       !strcmp(r2.error, "no"),
		       "error reply round trip: %s", j);
		oci_agent_reply_clear(&r2);
	}
	tap_ok(err == NULL, "no stray error");
	return tap_done();
}
