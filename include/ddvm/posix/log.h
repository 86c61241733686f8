/* SPDX-License-Identifier: MIT */
/* Supervisor logging: timestamped lines to stderr or a log file. */
#ifndef DDVM_HOST_LOG_H
#define DDVM_HOST_LOG_H

#include <stdio.h>

/* Send log lines to f (default stderr).  The stream stays open. */
void log_set_stream(FILE *f);
/* Print debug lines too (env DDVM_DEBUG=1). */
void log_set_debug(int on);

void log_msg(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_info(...)	log_msg("info", __VA_ARGS__)
#define pr_warn(...)	log_msg("warn", __VA_ARGS__)
#define pr_err(...)	log_msg("error", __VA_ARGS__)
#define pr_debug(...)	log_msg(NULL, __VA_ARGS__)

/* One-line user-facing error for CLI commands: "ddvm: ...". */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf for messages where truncation is acceptable (no -Wformat-truncation noise). */
int strfmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
