/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "proto/rpc.h"

/*
 * One request being served.  The request datagram is only peeked at first:
 * a request handed to the real CRIU in place stays queued on the socket and
 * CRIU reads it itself.  Everything else consumes it (rpc_consume()).
 */
struct rpc_session {
	int sk;
	pid_t peer; /* SO_PEERCRED of the socket */
	const char *argv0;
	uint8_t *raw; /* the request datagram */
	size_t raw_len;
	bool consumed;
	CriuReq *req;
	/* set by rpc_setup_dirs() */
	int imgfd, workfd; /* ours, O_CLOEXEC */
	char *images_dir, *work_dir;
	const char *log_name; /* in the work dir */
	pid_t pid;            /* opts.pid, or the peer */
	/* a container's DUMP that ckpt does not write itself: why (rpc_dump_is_ours), else NULL */
	char *not_ours;
};

/* Drop the request datagram from the socket (once). */
void rpc_consume(struct rpc_session *s);

/*
 * Open the peer's images and work directories through /proc/<peer>/fd/N
 * (work dir: the images dir when work_dir_fd is absent) and the log file
 * opts.log_file in the work dir (ck_log goes there).  0 or -1.
 */
int rpc_setup_dirs(struct rpc_session *s, struct ck_err **err);

/* Open /proc/<peer>/fd/@fd with @flags; *path (may be NULL) gets its target. */
int rpc_peer_fd(pid_t peer, int fd, int flags, char **path, struct ck_err **err);

/* Send @resp as one datagram; 0 or -1. */
int rpc_send(int sk, const CriuResp *resp, struct ck_err **err);

/* Send {type, success:false, cr_errno, cr_errmsg = @e} (plus what clients dereference). */
int rpc_send_error(int sk, int type, const struct ck_err *e);

/* PRE_DUMP / SINGLE_PRE_DUMP: the exit status. */
int rpc_pre_dump(struct rpc_session *s);

/* DUMP and RESTORE through the real CRIU: exit status, or does not return. */
int rpc_delegate(struct rpc_session *s);

/*
 * A layer is never written over another: a non-empty images dir @dir is
 * renamed aside (*aside, NULL when it was empty).  0 or -1.
 */
int rpc_move_aside(const char *dir, char **aside, struct ck_err **err);

/* Copy the layer's stats-dump into the work dir (where Podman's --print-stats reads it). */
void rpc_copy_stats(struct rpc_session *s);

/*
 * Whether ckpt writes this DUMP itself: a container (the pid has namespaces of
 * its own) whose request asks only for what ckpt implements and which passes
 * ckpt's up-front check.  Otherwise *why says why and the DUMP goes to the
 * real CRIU.  The request is only peeked at.
 */
bool rpc_dump_is_ours(struct rpc_session *s, char *why, size_t why_len);

/* DUMP by ckpt's own final dump, with the NOTIFY sequence runc expects: the exit status. */
int rpc_dump(struct rpc_session *s);
