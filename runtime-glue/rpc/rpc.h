/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * ckpt as `criu swrk FD`: the RPC server runc, Podman and libcriu (crun)
 * spawn once per request.  docs/rpc.md draws the message sequences.
 *
 *   VERSION, FEATURE_CHECK, CHECK        answered by ckpt
 *   PRE_DUMP, SINGLE_PRE_DUMP            ckpt's memory engine (or the container's
 *                                        pre-copy agent), CRIU-format layers
 *   DUMP                                 the real CRIU (exec'd on the same socket);
 *                                        made full when the parent chain was written
 *                                        by a tracker CRIU cannot continue
 *   RESTORE                              the real CRIU, always, exec'd in place
 *   anything else                        an error response
 *
 * Nothing is printed on stdout or stderr (during a restore they are the
 * container's pipes): the log goes to opts.log_file in the work directory.
 */

/* The version ckpt's front-end reports (runc needs >= 3.16, Podman 3.11, crun 3.15). */
#define GLUE_RPC_VERSION_MAJOR 4
#define GLUE_RPC_VERSION_MINOR 2

/* Largest request accepted (requests seen in practice are 0.1-1.2 KB). */
#define GLUE_RPC_MAX_REQ (128u * 1024)

/*
 * Serve one session on the SOCK_SEQPACKET socket @sk (argv[2] of `criu swrk`).
 * @argv0 is the front-end's argv[0] (to find `criu.real` next to it).  Returns
 * the exit status for the process (0 success, 1 failure), or does not return
 * when the request was handed to the real CRIU.  -1 with *err set only when
 * @sk is not a usable socket (nothing could be answered).
 */
int glue_rpc_serve(int sk, const char *argv0, struct ck_err **err);

/*
 * The real CRIU to delegate to, in this order: $CKPT_CRIU, `criu = PATH` in
 * the config file ($CKPT_CRIU_CONF, default /etc/ckpt/criu.conf), `criu.real`
 * next to the front-end (the directory of @argv0, or of the `criu` found in
 * PATH when @argv0 has no slash).  0 with *path set (caller frees), 0 with
 * *path NULL when none is configured (@why says where it looked), -1 with
 * *err set when one is configured but unusable (not executable, or ckpt
 * itself).
 */
int glue_rpc_find_criu(const char *argv0, char **path, char *why, size_t why_len,
		       struct ck_err **err);

/* Whether a dirty tracker works here (FEATURE_CHECK mem_track); @why may be NULL. */
bool glue_rpc_mem_track(char *why, size_t why_len);
/* Whether pidfd_open + pidfd_getfd work (FEATURE_CHECK pidfd_store). */
bool glue_rpc_pidfd_store(void);
