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

/*
 * Rate limiting by time, for lines a misbehaving peer can trigger at will
 * (stale responses, bad frames, refused connections): at most
 * LOG_RL_BURST lines per LOG_RL_INTERVAL_MS per limiter; the first line
 * after a quiet spell says how many were suppressed.  Zero-initialise one
 * per kind of line.
 */
#define LOG_RL_BURST		5
#define LOG_RL_INTERVAL_MS	10000
struct log_rl {
	unsigned long long start_ms;
	unsigned int n, suppressed;
};
void log_msg_rl(struct log_rl *rl, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define pr_warn_rl(rl, ...)	log_msg_rl(rl, "warn", __VA_ARGS__)
#define pr_err_rl(rl, ...)	log_msg_rl(rl, "error", __VA_ARGS__)

/* One-line user-facing error for CLI commands: "ddvm: ...". */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf for messages where truncation is acceptable (no -Wformat-truncation noise). */
int strfmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
