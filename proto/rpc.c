// SPDX-License-Identifier: MIT
/*
 * Pack and unpack the swrk RPC messages.  See rpc.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/xalloc.h"
#include "proto/rpc.h"

/*
 * Field 1 (the type) of a request, read without protobuf-c: varint key 0x08
 * then a varint.  Only the first occurrence is looked at; anything odd gives
 * EMPTY.
 */
static int scan_type(const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	if (len < 2 || p[0] != 0x08)
		return CRIU_REQ_TYPE__EMPTY;
	for (size_t i = 1, shift = 0; i < len && shift < 64; i++, shift += 7) {
		v |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80))
			return v <= 0x7fffffff ? (int)v : CRIU_REQ_TYPE__EMPTY;
	}
	return CRIU_REQ_TYPE__EMPTY;
}

/* see rpc.h */
CriuReq *img_rpc_req_unpack(const void *buf, size_t len, int *type_hint, struct ck_err **err)
{
	CriuReq *req;

	*type_hint = scan_type(buf, len);
	if (!len) {
		ck_err_set(err, EBADMSG, "empty request datagram");
		return NULL;
	}
	req = criu_req__unpack(NULL, len, buf);
	if (!req) {
		ck_err_set(
			err, EBADMSG,
			"cannot decode the %zu-byte request as criu_req (garbage, or a required field such as opts.images_dir_fd is missing)",
			len);
		return NULL;
	}
	*type_hint = req->type;
	return req;
}

/* see rpc.h */
void img_rpc_req_free(CriuReq *req)
{
	if (req)
		criu_req__free_unpacked(req, NULL);
}

/* see rpc.h */
CriuResp *img_rpc_resp_unpack(const void *buf, size_t len, struct ck_err **err)
{
	CriuResp *resp = criu_resp__unpack(NULL, len, buf);

	if (!resp)
		ck_err_set(err, EBADMSG, "cannot decode the %zu-byte response as criu_resp", len);
	return resp;
}

/* see rpc.h */
void img_rpc_resp_free(CriuResp *resp)
{
	if (resp)
		criu_resp__free_unpacked(resp, NULL);
}

static int pack(const ProtobufCMessage *m, size_t max, uint8_t **out, size_t *len,
		struct ck_err **err)
{
	size_t n;

	if (!protobuf_c_message_check(m))
		return ck_err_set(err, EINVAL, "%s: a required field is not set",
				  m->descriptor->name);
	n = protobuf_c_message_get_packed_size(m);
	if (max && n > max)
		return ck_err_set(err, EMSGSIZE, "%s: %zu bytes, more than the %zu a client reads",
				  m->descriptor->name, n, max);
	*out = xmalloc(n ? n : 1);
	*len = protobuf_c_message_pack(m, *out);
	return 0;
}

/* see rpc.h */
int img_rpc_req_pack(const CriuReq *req, uint8_t **out, size_t *len, struct ck_err **err)
{
	return pack(&req->base, 0, out, len, err);
}

/* see rpc.h */
int img_rpc_resp_pack(const CriuResp *resp, uint8_t **out, size_t *len, struct ck_err **err)
{
	return pack(&resp->base, IMG_RPC_MAX_RESP, out, len, err);
}

/* see rpc.h */
const char *img_rpc_type_name(int type, char *buf, size_t len)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, type);

	if (v)
		return v->name;
	snprintf(buf, len, "UNKNOWN(%d)", type);
	return buf;
}
