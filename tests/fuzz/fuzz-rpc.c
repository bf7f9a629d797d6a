// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the RPC decoder (proto/rpc.c): the input is one
 * datagram, unpacked as a request (and, when that works, packed again) and as
 * a response.  Refusals must carry a message; nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "proto/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_err *err = NULL;
	CriuReq *req;
	CriuResp *resp;
	int hint = 0;

	req = img_rpc_req_unpack(data, size, &hint, &err);
	if (!req && (!err || !err->msg || !*err->msg))
		abort();
	ck_err_free(&err);
	if (req) {
		uint8_t *out = NULL;
		size_t len = 0;

		if (img_rpc_req_pack(req, &out, &len, &err) < 0)
			ck_err_free(&err);
		free(out);
		img_rpc_req_free(req);
	}
	resp = img_rpc_resp_unpack(data, size, &err);
	if (!resp && (!err || !err->msg || !*err->msg))
		abort();
	ck_err_free(&err);
	img_rpc_resp_free(resp);
	return 0;
}
