// SPDX-License-Identifier: MIT
/*
 * The swrk session: read one request datagram, answer it (or hand it to the
 * real CRIU), wait for the client to close.  See rpc.h.
 *
 *   client (runc, go-criu, libcriu)          ckpt criu swrk FD
 *   socketpair(SEQPACKET) ── fork/exec ───►  SO_PEERCRED -> peer pid
 *   send(request)  ──────────────────────►   recv(MSG_PEEK|MSG_TRUNC): size
 *                                            recv(MSG_PEEK): decode
 *                  ◄──────────────────────   send(response)        (one datagram)
 *   shutdown(SHUT_WR) ───────────────────►   recv() == 0: exit 0/1
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "runtime-glue/fault.h"
#include "runtime-glue/features.h"
#include "runtime-glue/rpc/rpc-priv.h"
#include "runtime-glue/rpc/rpc.h"

/* cr_errmsg is cut here so that every response stays far below runc's 40960 bytes. */
#define ERRMSG_MAX 4000
/* After a PRE_DUMP answer: how long a client may keep the socket open. */
#define EOF_WAIT_MS 30000

/* see rpc-priv.h */
int rpc_send(int sk, const CriuResp *resp, struct ck_err **err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	ssize_t n;

	if (img_rpc_resp_pack(resp, &buf, &len, err) < 0)
		return -1;
	if (glue_fault("rpc-response", err) < 0)
		return -1; /* not sent: the client sees the socket closed */
	n = send(sk, buf, len, MSG_NOSIGNAL);
	if (n < 0)
		return ck_err_set(err, errno, "send the %zu-byte response", len);
	if ((size_t)n != len)
		return ck_err_set(err, EMSGSIZE, "response cut at %zd of %zu bytes", n, len);
	return 0;
}

/* see rpc-priv.h */
int rpc_send_error(int sk, int type, const struct ck_err *e)
{
	_cleanup_free_ char *msg = e ? ck_err_str(e) : xstrdup("failed");
	_cleanup_err_ struct ck_err *err = NULL;
	CriuResp resp = CRIU_RESP__INIT;
	CriuDumpResp dump = CRIU_DUMP_RESP__INIT;
	char tn[32];

	if (strlen(msg) > ERRMSG_MAX)
		msg[ERRMSG_MAX] = '\0';
	ck_log(CK_LOG_ERROR, "Error: %s: %s", img_rpc_type_name(type, tn, sizeof(tn)), msg);
	resp.type = type;
	resp.success = false;
	resp.cr_errmsg = msg;
	if (e && e->errnum) {
		resp.has_cr_errno = true;
		resp.cr_errno = e->errnum;
	}
	if (type == CRIU_REQ_TYPE__DUMP) {
		/* libcriu reads resp->dump->restored whatever the outcome */
		dump.has_restored = true;
		resp.dump = &dump;
	}
	if (rpc_send(sk, &resp, &err) < 0) {
		_cleanup_free_ char *m = ck_err_str(err);

		ck_log(CK_LOG_ERROR, "Error: cannot send the error response: %s", m);
		return -1;
	}
	return 0;
}

/* see rpc-priv.h */
void rpc_consume(struct rpc_session *s)
{
	char c;

	if (s->consumed)
		return;
	s->consumed = true;
	/* MSG_TRUNC: the datagram is dropped whole whatever its size */
	if (recv(s->sk, &c, 1, MSG_TRUNC | MSG_DONTWAIT) < 0)
		pr_debug("drop request: %s", strerror(errno));
}

/* see rpc-priv.h */
int rpc_peer_fd(pid_t peer, int fd, int flags, char **path, struct ck_err **err)
{
	char p[64];
	int r;

	snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)peer, fd);
	r = open(p, flags | O_CLOEXEC);
	if (r < 0)
		return ck_err_set(err, errno, "open the client's fd %d (%s)", fd, p);
	if (path) {
		char buf[PATH_MAX];
		ssize_t n = readlink(p, buf, sizeof(buf) - 1);

		if (n < 0) {
			ck_err_set(err, errno, "readlink %s", p);
			close(r);
			return -1;
		}
		buf[n] = '\0';
		if (buf[0] != '/') {
			ck_err_set(err, ENOTDIR, "the client's fd %d is %s, not a directory", fd,
				   buf);
			close(r);
			return -1;
		}
		*path = xstrdup(buf);
	}
	return r;
}

/* CRIU's log levels (0-4, default 2 = warnings) to ck_log's; a log file always gets info. */
static int log_level(const CriuOpts *o)
{
	int l = o->has_log_level ? o->log_level : 2;

	l = l - 1 < CK_LOG_INFO ? CK_LOG_INFO : l - 1;
	return l > CK_LOG_DEBUG ? CK_LOG_DEBUG : l;
}

/* see rpc-priv.h */
int rpc_setup_dirs(struct rpc_session *s, struct ck_err **err)
{
	const CriuOpts *o = s->req->opts;
	const char *log_file;
	char tn[32];
	int fd;

	if (!o)
		return ck_err_set(err, EINVAL, "the request has no opts (images_dir_fd is needed)");
	s->pid = o->has_pid && o->pid > 0 ? o->pid : s->peer;
	if (o->images_dir_fd >= 0) {
		s->imgfd = rpc_peer_fd(s->peer, o->images_dir_fd, O_RDONLY | O_DIRECTORY,
				       &s->images_dir, err);
		if (s->imgfd < 0)
			return ck_err_wrap(err, "images_dir_fd");
	} else if (o->images_dir && o->images_dir[0] == '/') {
		s->imgfd = open(o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->imgfd < 0)
			return ck_err_set(err, errno, "images_dir %s", o->images_dir);
		s->images_dir = xstrdup(o->images_dir);
	} else {
		return ck_err_set(
			err, EINVAL,
			"no images directory: images_dir_fd is -1 and images_dir is not an absolute path");
	}
	if (o->has_work_dir_fd && o->work_dir_fd >= 0) {
		s->workfd = rpc_peer_fd(s->peer, o->work_dir_fd, O_RDONLY | O_DIRECTORY,
					&s->work_dir, err);
		if (s->workfd < 0)
			return ck_err_wrap(err, "work_dir_fd");
	} else {
		s->workfd = fcntl(s->imgfd, F_DUPFD_CLOEXEC, 3);
		if (s->workfd < 0)
			return ck_err_set(err, errno, "dup the images dir fd");
		s->work_dir = xstrdup(s->images_dir);
	}
	log_file = o->log_file ? o->log_file : "criu.log";
	if (!*log_file || strchr(log_file, '/'))
		return ck_err_set(err, EINVAL,
				  "log_file '%s': a file name in the work dir is expected",
				  log_file);
	s->log_name = log_file;
	fd = openat(s->workfd, log_file,
		    O_CREAT | O_TRUNC | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ck_err_set(err, errno, "log file %s/%s", s->work_dir, log_file);
	ck_log_set_fd(fd);
	ck_log_set_level(log_level(o));
	pr_info("ckpt's criu front-end, pid %d: request %s for pid %d from client %d",
		(int)getpid(), img_rpc_type_name(s->req->type, tn, sizeof(tn)), (int)s->pid,
		(int)s->peer);
	pr_info("images dir %s, work dir %s", s->images_dir, s->work_dir);
	return 0;
}

static int answer_version(struct rpc_session *s, struct ck_err **err)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuVersion v = CRIU_VERSION__INIT;

	v.major_number = GLUE_RPC_VERSION_MAJOR;
	v.minor_number = GLUE_RPC_VERSION_MINOR;
	v.name = (char *)"ckpt";
	resp.type = CRIU_REQ_TYPE__VERSION;
	resp.success = true;
	resp.version = &v;
	return rpc_send(s->sk, &resp, err);
}

/* see rpc.h */
bool glue_rpc_mem_track(char *why, size_t why_len)
{
	char tmp[1024];
	enum glue_tracker t = glue_auto_tracker(tmp, sizeof(tmp));

	if (why)
		snprintf(why, why_len, "%s", tmp);
	return t != GLUE_TRACKER_NONE;
}

/* see rpc.h */
bool glue_rpc_pidfd_store(void)
{
	struct glue_feature_result r;

	glue_probe_feature(GLUE_FEAT_PIDFD_GETFD, &r);
	return r.available;
}

static int answer_features(struct rpc_session *s, struct ck_err **err)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuFeatures f = CRIU_FEATURES__INIT;
	char why[1024];

	/* all three always present: runc and libcriu dereference resp.features */
	f.has_mem_track = f.has_lazy_pages = f.has_pidfd_store = true;
	f.mem_track = glue_rpc_mem_track(why, sizeof(why));
	f.lazy_pages = false;
	f.pidfd_store = glue_rpc_pidfd_store();
	pr_info("FEATURE_CHECK: mem_track %d (%s), lazy_pages 0, pidfd_store %d", f.mem_track, why,
		f.pidfd_store);
	resp.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	resp.success = true;
	resp.features = &f;
	return rpc_send(s->sk, &resp, err);
}

/* CHECK: what ckpt itself needs to pre-dump (ptrace, a tracker). */
static int answer_check(struct rpc_session *s, struct ck_err **err)
{
	CriuResp resp = CRIU_RESP__INIT;
	struct glue_feature_result r;

	glue_probe_feature(GLUE_FEAT_PTRACE, &r);
	if (!r.available) {
		_cleanup_err_ struct ck_err *e = NULL;

		ck_err_set(&e, 0, "ptrace is not available: %s", r.detail);
		return rpc_send_error(s->sk, CRIU_REQ_TYPE__CHECK, e);
	}
	resp.type = CRIU_REQ_TYPE__CHECK;
	resp.success = true;
	return rpc_send(s->sk, &resp, err);
}

/*
 * Read (peek) the next request datagram.  1 with s->raw set, 0 at EOF, -1 on
 * a socket error, 2 when the datagram was refused (already answered).
 */
static int next_request(struct rpc_session *s, struct ck_err **err)
{
	ssize_t n;
	int hint;

	free(s->raw);
	s->raw = NULL;
	s->consumed = false;
	n = TEMP_FAILURE_RETRY_INT(recv(s->sk, NULL, 0, MSG_PEEK | MSG_TRUNC));
	if (n < 0)
		return ck_err_set(err, errno, "receive a request");
	if (n == 0) {
		/* a 0-byte datagram and EOF look alike; consume either */
		rpc_consume(s);
		return 0;
	}
	if ((size_t)n > GLUE_RPC_MAX_REQ) {
		_cleanup_err_ struct ck_err *e = NULL;

		rpc_consume(s);
		ck_err_set(&e, EMSGSIZE, "a request of %zd bytes is over the %u-byte limit", n,
			   GLUE_RPC_MAX_REQ);
		rpc_send_error(s->sk, CRIU_REQ_TYPE__EMPTY, e);
		return 2;
	}
	s->raw = xmalloc((size_t)n);
	s->raw_len = (size_t)n;
	n = TEMP_FAILURE_RETRY_INT(recv(s->sk, s->raw, s->raw_len, MSG_PEEK));
	if (n < 0)
		return ck_err_set(err, errno, "receive a request");
	s->raw_len = (size_t)n;
	img_rpc_req_free(s->req);
	s->req = img_rpc_req_unpack(s->raw, s->raw_len, &hint, err);
	if (!s->req) {
		rpc_consume(s);
		rpc_send_error(s->sk, CRIU_REQ_TYPE__EMPTY, *err);
		ck_err_free(err);
		return 2;
	}
	return 1;
}

/* Serve one decoded request; the exit status. */
static int dispatch(struct rpc_session *s, bool *again)
{
	_cleanup_err_ struct ck_err *err = NULL;
	char tn[32];
	int type = s->req->type, rc = 0;

	*again = false;
	pr_info("request %s (%zu bytes) from pid %d", img_rpc_type_name(type, tn, sizeof(tn)),
		s->raw_len, (int)s->peer);
	if (glue_fault("rpc-request", &err) < 0) {
		rpc_consume(s);
		rpc_send_error(s->sk, type, err);
		return 1;
	}
	switch (type) {
	case CRIU_REQ_TYPE__VERSION:
		rpc_consume(s);
		rc = answer_version(s, &err);
		*again = s->req->has_keep_open && s->req->keep_open;
		break;
	case CRIU_REQ_TYPE__FEATURE_CHECK:
		rpc_consume(s);
		rc = answer_features(s, &err);
		*again = s->req->has_keep_open && s->req->keep_open;
		break;
	case CRIU_REQ_TYPE__CHECK:
		rpc_consume(s);
		rc = answer_check(s, &err);
		break;
	case CRIU_REQ_TYPE__PRE_DUMP:
	case CRIU_REQ_TYPE__SINGLE_PRE_DUMP:
		rpc_consume(s);
		return rpc_pre_dump(s);
	case CRIU_REQ_TYPE__DUMP: {
		char why[1024];

		if (rpc_dump_is_ours(s, why, sizeof(why)))
			return rpc_dump(s);
		pr_info("DUMP goes to the real CRIU: %s", why);
		return rpc_delegate(s);
	}
	case CRIU_REQ_TYPE__RESTORE:
		return rpc_delegate(s);
	case CRIU_REQ_TYPE__EMPTY:
	case CRIU_REQ_TYPE__PAGE_SERVER:
	case CRIU_REQ_TYPE__NOTIFY:
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
	case CRIU_REQ_TYPE__WAIT_PID:
	case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
	case _CRIU_REQ_TYPE_IS_INT_SIZE:
	default:
		rpc_consume(s);
		ck_err_set(&err, EOPNOTSUPP, "request %s is not supported by ckpt's criu front-end",
			   img_rpc_type_name(type, tn, sizeof(tn)));
		/* an unknown number is answered as EMPTY, as CRIU does */
		rpc_send_error(
			s->sk,
			protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, type)
				? type
				: CRIU_REQ_TYPE__EMPTY,
			err);
		return 1;
	}
	if (rc < 0) {
		_cleanup_free_ char *m = ck_err_str(err);

		ck_log(CK_LOG_ERROR, "Error: %s", m);
		return 1;
	}
	return 0;
}

/* see rpc.h */
int glue_rpc_serve(int sk, const char *argv0, struct ck_err **err)
{
	struct rpc_session s = { .sk = sk, .argv0 = argv0, .imgfd = -1, .workfd = -1 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int type, rc = 0, r;
	bool again = true;

	len = sizeof(type);
	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return ck_err_set(err, errno, "swrk fd %d is not a socket", sk);
	if (type != SOCK_SEQPACKET)
		return ck_err_set(err, EPROTOTYPE, "swrk fd %d is not a SOCK_SEQPACKET socket", sk);
	len = sizeof(cred);
	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return ck_err_set(err, errno, "SO_PEERCRED on swrk fd %d", sk);
	s.peer = cred.pid;
	glue_fault_init();
	glue_fault_scope("rpc");
	while (again) {
		r = next_request(&s, err);
		if (r < 0) {
			_cleanup_free_ char *m = ck_err_str(*err);

			ck_log(CK_LOG_ERROR, "Error: %s", m);
			ck_err_free(err);
			rc = 1;
			break;
		}
		if (r == 0)
			break;
		if (r == 2) {
			rc = 1;
			break;
		}
		rc = dispatch(&s, &again);
		if (rc)
			break;
		if (!again && (s.req->type == CRIU_REQ_TYPE__PRE_DUMP)) {
			/*
			 * CRIU waits for a further PRE_DUMP or DUMP here; runc
			 * closes instead.  ckpt serves one request per process,
			 * and a client that neither closes nor sends is left after
			 * EOF_WAIT_MS: the layer is complete anyway.
			 */
			struct pollfd p = { .fd = sk, .events = POLLIN };

			if (poll(&p, 1, EOF_WAIT_MS) == 0) {
				pr_info("the client did not close the socket in %d s: exiting",
					EOF_WAIT_MS / 1000);
				break;
			}
			r = next_request(&s, err);
			if (r == 1) {
				_cleanup_err_ struct ck_err *e = NULL;

				rpc_consume(&s);
				ck_err_set(
					&e, EPROTO,
					"one request per process: ckpt's criu front-end does not take a second request on the same socket");
				rpc_send_error(sk, s.req->type, e);
				rc = 1;
			} else if (r < 0) {
				ck_err_free(err);
			}
		}
	}
	free(s.raw);
	img_rpc_req_free(s.req);
	free(s.not_ours);
	free(s.images_dir);
	free(s.work_dir);
	if (s.imgfd >= 0)
		close(s.imgfd);
	if (s.workfd >= 0)
		close(s.workfd);
	return rc;
}
