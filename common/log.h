/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>

/*
 * Diagnostic log (not errors: errors travel up as struct ck_err and are printed
 * once by hook/).  Lines go to stderr or to the file given with -o, prefixed
 * with a timestamp relative to ckpt's start.
 */
enum ck_log_level {
	CK_LOG_ERROR = 0,
	CK_LOG_WARN = 1,
	CK_LOG_INFO = 2,
	CK_LOG_DEBUG = 3,
};

/* Set the level (messages above it are dropped). */
void ck_log_set_level(int level);
int ck_log_get_level(void);
/* Send log lines to this fd (taken over; default stderr). */
void ck_log_set_fd(int fd);
int ck_log_get_fd(void);

void ck_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define pr_warn(fmt, ...)  ck_log(CK_LOG_WARN, "Warn: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  ck_log(CK_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) ck_log(CK_LOG_DEBUG, fmt, ##__VA_ARGS__)
