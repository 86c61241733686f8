// SPDX-License-Identifier: MIT
/* Supervisor logging. */
#include <stdarg.h>
#include <time.h>

#include "ddvm/posix/log.h"

static FILE *log_stream;
static int log_debug;

void log_set_stream(FILE *f)
{
	log_stream = f;
}

void log_set_debug(int on)
{
	log_debug = on;
}

void log_msg(const char *level, const char *fmt, ...)
{
	FILE *f = log_stream ? log_stream : stderr;
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	va_list ap;

	if (!level) {
		if (!log_debug)
			return;
		level = "debug";
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(f, "%s.%03ld ddvm %s: ", stamp, ts.tv_nsec / 1000000, level);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

void log_msg_rl(struct log_rl *rl, const char *level, const char *fmt, ...)
{
	struct timespec ts;
	unsigned long long now;
	char line[1024];
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
	if (!rl->start_ms || now - rl->start_ms >= LOG_RL_INTERVAL_MS) {
		rl->start_ms = now ? now : 1;
		rl->n = 0;
	}
	if (rl->n >= LOG_RL_BURST) {
		rl->suppressed++;
		return;
	}
	rl->n++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rl->suppressed)
		log_msg(level, "%s (%u similar lines suppressed)", line, rl->suppressed);
	else
		log_msg(level, "%s", line);
	rl->suppressed = 0;
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("ddvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int strfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
