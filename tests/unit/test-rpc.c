// SPDX-License-Identifier: MIT
/*
 * proto/rpc: the swrk RPC messages against the hex vectors observed with
 * runc 1.1.5, libcriu 3.17.1 and CRIU 4.2 (shared/docs/criu-rpc.md, section 15).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "proto/rpc.h"
#include "tests/unit/tap.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	for (; h[0] && h[1]; h += 2) {
		unsigned v;

		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static bool same_hex(const uint8_t *b, size_t len, const char *hex)
{
	uint8_t want[256];
	size_t n = unhex(hex, want);

	return n == len && !memcmp(b, want, n);
}

static void check_resp(const CriuResp *r, const char *hex, const char *what)
{
	_cleanup_err_ struct ck_err *err = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;

	tap_ok(img_rpc_resp_pack(r, &buf, &len, &err) == 0 && same_hex(buf, len, hex),
	       "%s encodes as %s", what, hex);
}

static CriuReq *req_of(const char *hex, int *hint, struct ck_err **err)
{
	uint8_t b[256];
	size_t n = unhex(hex, b);

	return img_rpc_req_unpack(b, n, hint, err);
}

int main(void)
{
	_cleanup_err_ struct ck_err *err = NULL;
	CriuResp r = CRIU_RESP__INIT;
	CriuVersion v = CRIU_VERSION__INIT;
	CriuFeatures f = CRIU_FEATURES__INIT;
	CriuDumpResp d = CRIU_DUMP_RESP__INIT;
	CriuRestoreResp rs = CRIU_RESTORE_RESP__INIT;
	CriuReq *q;
	char tn[32];
	int hint;

	/* responses, byte for byte as CRIU 4.2 sends them */
	r.type = CRIU_REQ_TYPE__VERSION;
	r.success = true;
	v.major_number = 4;
	v.minor_number = 2;
	r.version = &v;
	check_resp(&r, "080a1001520408041002", "VERSION 4.2");
	r = (CriuResp)CRIU_RESP__INIT;
	r.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	r.success = true;
	f.has_mem_track = f.has_lazy_pages = f.has_pidfd_store = true;
	f.mem_track = true;
	r.features = &f;
	check_resp(&r, "080910014206080110001800", "FEATURE_CHECK mem_track");
	r.features = NULL;
	r.success = false;
	check_resp(&r, "08091000", "FEATURE_CHECK failure");
	r = (CriuResp)CRIU_RESP__INIT;
	r.type = CRIU_REQ_TYPE__PRE_DUMP;
	r.success = true;
	check_resp(&r, "08041001", "PRE_DUMP");
	r.type = CRIU_REQ_TYPE__SINGLE_PRE_DUMP;
	check_resp(&r, "080d1001", "SINGLE_PRE_DUMP");
	r.type = CRIU_REQ_TYPE__DUMP;
	d.has_restored = true;
	r.dump = &d;
	check_resp(&r, "080110011a020800", "DUMP ok");
	r = (CriuResp)CRIU_RESP__INIT;
	r.type = CRIU_REQ_TYPE__RESTORE;
	r.success = true;
	rs.pid = 20664;
	r.restore = &rs;
	check_resp(&r, "08021001220408b8a101", "RESTORE pid 20664");

	/* requests as clients send them */
	q = req_of("080a", &hint, &err);
	tap_ok(q && q->type == CRIU_REQ_TYPE__VERSION && !q->opts, "go-criu VERSION decodes");
	img_rpc_req_free(q);
	q = req_of("080a12020800", &hint, &err);
	tap_ok(q && q->type == CRIU_REQ_TYPE__VERSION && q->opts && q->opts->images_dir_fd == 0,
	       "libcriu VERSION with opts{images_dir_fd:0} decodes");
	img_rpc_req_free(q);
	q = req_of("0809121408031082384804520864756d702e6c6f678801042a020801", &hint, &err);
	tap_ok(q && q->type == CRIU_REQ_TYPE__FEATURE_CHECK && q->opts->images_dir_fd == 3 &&
		       q->opts->pid == 7170 && q->opts->log_level == 4 &&
		       !strcmp(q->opts->log_file, "dump.log") && q->opts->work_dir_fd == 4 &&
		       q->features && q->features->has_mem_track && q->features->mem_track,
	       "libcriu FEATURE_CHECK decodes (fds, pid, log, mem_track)");
	img_rpc_req_free(q);
	q = req_of("080d121608031082384804520864756d702e6c6f677801880104", &hint, &err);
	tap_ok(q && q->type == CRIU_REQ_TYPE__SINGLE_PRE_DUMP && q->opts->has_track_mem &&
		       q->opts->track_mem && !q->opts->parent_img,
	       "libcriu SINGLE_PRE_DUMP decodes with track_mem");
	img_rpc_req_free(q);
	q = req_of("08061801", &hint, &err);
	tap_ok(q && q->type == CRIU_REQ_TYPE__NOTIFY && q->notify_success, "NOTIFY ack decodes");
	img_rpc_req_free(q);
	/* runc's explicit false values: has_x true, x false */
	q = req_of("0804120e0807101518002000480452024142", &hint, &err);
	tap_ok(q && q->opts->has_leave_running && !q->opts->leave_running &&
		       q->opts->has_ext_unix_sk && q->opts->log_level == 4,
	       "explicit false values are kept as set");
	img_rpc_req_free(q);
	/* unknown fields (newer clients) are skipped */
	q = req_of("080aa00601", &hint, &err);
	tap_ok(q && q->type == CRIU_REQ_TYPE__VERSION, "an unknown field is skipped");
	img_rpc_req_free(q);
	/* garbage: an error, and the type could not be read */
	q = req_of("ffffffff", &hint, &err);
	tap_ok(!q && err && hint == CRIU_REQ_TYPE__EMPTY, "garbage is an error (hint EMPTY)");
	ck_err_free(&err);
	/* a broken body after a readable type: the hint names it */
	q = req_of("0804120a", &hint, &err);
	tap_ok(!q && err && hint == CRIU_REQ_TYPE__PRE_DUMP, "a truncated PRE_DUMP: hint PRE_DUMP");
	ck_err_free(&err);
	/* a negative images_dir_fd (-1) is a 10-byte varint */
	q = req_of("0804120b08ffffffffffffffffff01", &hint, &err);
	tap_ok(q && q->opts->images_dir_fd == -1, "images_dir_fd -1 (10-byte varint) decodes");
	img_rpc_req_free(q);
	tap_ok(!strcmp(img_rpc_type_name(13, tn, sizeof(tn)), "SINGLE_PRE_DUMP") &&
		       !strcmp(img_rpc_type_name(99, tn, sizeof(tn)), "UNKNOWN(99)"),
	       "type names");
	return tap_done();
}
