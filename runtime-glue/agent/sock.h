/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "oci-spec/agent-msg.h"

/*
 * The control socket's transport (agent-internal; client.h is the public side).
 * Paths go through an O_PATH descriptor of the ckpt-dir
 * (/proc/self/fd/N/agent.sock), so a long bundle path (Podman's are ~140
 * bytes) still fits sockaddr_un.
 */

/* Create <dir>/agent.sock, 0600, listening; returns the fd or -1. */
int glue_agent_sock_listen(const char *dir, struct ck_err **err);

/* Connect to <dir>/agent.sock; returns the fd or -1 (errno kept in *err). */
int glue_agent_sock_connect(const char *dir, struct ck_err **err);

/*
 * Accept one connection on @lfd; refuse a peer that is neither root nor
 * @own_uid.  Returns the connected fd, or -1 (*err set) — the listener stays.
 */
int glue_agent_sock_accept(int lfd, uid_t own_uid, struct ck_err **err);

/* One datagram: send, or receive (with a timeout in ms, <= 0: none). */
int glue_agent_sock_send(int fd, const char *buf, size_t len, struct ck_err **err);
int glue_agent_sock_recv(int fd, int timeout_ms, char **buf, size_t *len, struct ck_err **err);
