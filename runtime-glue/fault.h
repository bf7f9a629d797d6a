/* SPDX-License-Identifier: MIT */
#pragma once

#include "common/err.h"

/*
 * Fault injection for tests (CRIU's CRIU_FAULT idea).  CK_FAULT is read once,
 * by glue_fault_init(), as a comma-separated list of POINT[:ACTION]:
 *
 *   fail   (default) the point returns an error "fault injected at POINT"
 *   kill   ckpt SIGKILLs itself there
 *   pause  ckpt prints "ckpt: paused at POINT (pid N)" on stderr and waits
 *          forever (for tests that kill it from outside)
 *   stop   ckpt prints "ckpt: stopped at POINT (pid N)" on stderr, stops
 *          itself (SIGSTOP) and goes on when continued (SIGCONT)
 *
 * A third field counts: POINT:ACTION:N acts on the first N hits only (then
 * the point passes), e.g. agent-frozen:fail:1 fails one round of the agent.
 *
 * Points used by the memory engine: prefreeze (the parent layer's pages and
 * the tracker's early scan read, the tree not frozen yet; fail is ignored),
 * frozen (tree frozen, nothing read yet),
 * collected (page lists taken, still frozen), thawed (pre-dump copying after
 * thaw), late-presence (a first uffd-wp pre-dump layer: presence scanned after
 * the thaw, the tracker not armed yet), pages (half of the pages written), copy-write (the page writer
 * thread, before its second buffer), commit (layer complete, before the
 * rename).  The layer merge (mem/merge.h): merge-pages, merge-built,
 * merge-switched.  Also: no-pagemap-scan (use pagemap reads instead of the ioctl);
 * remote-call-armed and remote-call-armed-NR (parasite/: every remote call,
 * or those of syscall NR, registers set, not run yet; kill, pause and stop
 * only).
 * docs/reliability.md lists every point.
 */
void glue_fault_init(void);

/*
 * Name the process's scope ("agent", "rpc"): from then on a point P is looked
 * up as SCOPE-P first (agent-frozen fires in the agent's rounds only), then as
 * P.  NULL or "": no scope.
 */
void glue_fault_scope(const char *scope);

/* Run the action configured for @point; returns -1 with *err for "fail", else 0. */
int glue_fault(const char *point, struct ck_err **err);

/* Whether @point is configured at all (for switches such as no-pagemap-scan). */
int glue_fault_enabled(const char *point);
