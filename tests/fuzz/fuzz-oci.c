// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for oci-spec/'s parsers: the OCI state and config.json
 * parsers and the agent's control messages.  The first byte picks the parser
 * (mod 4: state, config, agent request, agent reply), the rest is the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "oci-spec/agent-msg.h"
#include "oci-spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_err *err = NULL;
	const char *buf;
	int rc = 0;

	if (size < 1)
		return 0;
	buf = (const char *)data + 1;
	size--;
	switch (data[0] % 4) {
	case 0: {
		struct oci_state *s = NULL;

		rc = oci_state_parse(buf, size, "fuzz state", &s, &err);
		oci_state_free(s);
		break;
	}
	case 1: {
		struct oci_config *c = NULL;

		rc = oci_config_parse(buf, size, "fuzz config", &c, &err);
		oci_config_free(c);
		break;
	}
	case 2: {
		struct oci_agent_req r;

		memset(&r, 0, sizeof(r));
		rc = oci_agent_req_decode(buf, size, &r, &err);
		oci_agent_req_clear(&r);
		break;
	}
	default: {
		struct oci_agent_reply r;

		memset(&r, 0, sizeof(r));
		rc = oci_agent_reply_decode(buf, size, &r, &err);
		oci_agent_reply_clear(&r);
		break;
	}
	}
	if (rc < 0 && (!err || !err->msg || !*err->msg))
		abort(); /* a refusal always carries a message */
	ck_err_free(&err);
	return 0;
}
