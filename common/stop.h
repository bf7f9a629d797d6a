/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * SIGTERM, SIGINT and SIGHUP: ckpt does not die mid-injection.  The handler
 * only records the signal; the injector refuses to start another remote call
 * (ck_stop_check), interrupts one that blocks, and the error path releases
 * every target (registers, mask, mappings, freezer) before main() exits with
 * 128 + the signal number, as a shell reports a process killed by it.
 */
#include <signal.h>

#include "common/err.h"

extern volatile sig_atomic_t ck_stop_sig;

/* Install the handlers (no SA_RESTART: blocking waits return EINTR). */
void ck_stop_install(void);

/* 0, or -1 with ECANCELED "interrupted by SIGTERM" once a signal arrived. */
int ck_stop_check(struct ck_err **err);
