/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/rpc.pb-c.h"

/*
 * The `criu swrk` RPC messages (proto/rpc.proto): one protobuf message per
 * SOCK_SEQPACKET datagram, no length prefix.  The transport is the caller's
 * (runtime-glue/rpc/); this is the only place that packs and unpacks them.
 */

/* Largest response ckpt sends: runc reads into 40960 bytes and fails on a full buffer. */
#define IMG_RPC_MAX_RESP 40000u

/*
 * Unpack one request datagram.  A message protobuf-c refuses (garbage, a
 * missing required field such as opts.images_dir_fd) is an error naming the
 * problem; *type_hint then holds field 1 when it could be read on its own
 * (else CRIU_REQ_TYPE__EMPTY), so the error response can name the request.
 * Free the result with img_rpc_req_free().
 */
CriuReq *img_rpc_req_unpack(const void *buf, size_t len, int *type_hint, struct ck_err **err);
void img_rpc_req_free(CriuReq *req);

/* Unpack a response (tests and the relay's log); free with img_rpc_resp_free(). */
CriuResp *img_rpc_resp_unpack(const void *buf, size_t len, struct ck_err **err);
void img_rpc_resp_free(CriuResp *resp);

/*
 * Pack a request or response into a new buffer (*out, *len; caller frees).
 * Every required field must be set (checked); a response over
 * IMG_RPC_MAX_RESP is an error.
 */
int img_rpc_req_pack(const CriuReq *req, uint8_t **out, size_t *len, struct ck_err **err);
int img_rpc_resp_pack(const CriuResp *resp, uint8_t **out, size_t *len, struct ck_err **err);

/* CRIU's name of a request type ("PRE_DUMP"); "UNKNOWN(N)" style names use @buf. */
const char *img_rpc_type_name(int type, char *buf, size_t len);
