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
