/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The pre-copy agent's control messages (docs/agent.md): one JSON object per
 * datagram each way, at most OCI_AGENT_MSG_MAX bytes.  Encoding and decoding
 * only; the transport is runtime-glue/agent/.
 */
#define OCI_AGENT_MSG_MAX (64 * 1024)

enum oci_agent_cmd {
	OCI_AGENT_STATUS,
	OCI_AGENT_LAYER,
	OCI_AGENT_FINAL,
	OCI_AGENT_STOP,
	OCI_AGENT_HANDOVER, /* the front-end's final dump takes over the chain (docs/agent.md) */
};

struct oci_agent_req {
	enum oci_agent_cmd cmd;
	char *dir;         /* layer/final: absolute directory, or NULL */
	bool leave_frozen; /* final: "leave":"frozen" (default "running") */
};

struct oci_agent_layer {
	unsigned n;
	char *dir;
	uint64_t pages_written, pages_parent, frozen_us;
};

struct oci_agent_reply {
	bool ok;
	char *error; /* !ok */
	/* layer/final */
	bool has_layer;
	struct oci_agent_layer layer;
	/* status (tracker also for layer/final) */
	char *state; /* waiting|precopy|converged|final|stopping */
	char *tracker;
	char *cgroup;
	char *latest;
	struct oci_agent_layer *layers;
	size_t nr_layers;
};

const char *oci_agent_cmd_name(enum oci_agent_cmd c);

/* Encode: returns a malloc'd JSON text (caller frees) and its length. */
char *oci_agent_req_encode(const struct oci_agent_req *r, size_t *len);
char *oci_agent_reply_encode(const struct oci_agent_reply *r, size_t *len);

/* Decode one message; strict (types, known commands, absolute dirs).  0 or -1. */
int oci_agent_req_decode(const char *buf, size_t len, struct oci_agent_req *out,
			 struct ck_err **err);
int oci_agent_reply_decode(const char *buf, size_t len, struct oci_agent_reply *out,
			   struct ck_err **err);

void oci_agent_req_clear(struct oci_agent_req *r);
void oci_agent_reply_clear(struct oci_agent_reply *r);
