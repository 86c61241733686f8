// SPDX-License-Identifier: MIT
/*
 * libddvm's own small formatter and the code-to-text tables, so that log
 * lines look the same in every environment and no libc is needed.
 * Freestanding.
 */
#include "ddvm/transport.h"

struct out {
	char *buf;
	unsigned int n, len;
};

static void put(struct out *o, char ch)
{
	if (o->len + 1 < o->n)
		o->buf[o->len] = ch;
	o->len++;
}

static void put_num(struct out *o, unsigned long long v, unsigned int base, int neg,
		    unsigned int width, char pad, int left)
{
	char tmp[24];
	unsigned int k = 0, w;

	do {
		tmp[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[k++] = '-';
	w = k;
	if (!left && pad == '0' && neg) {	/* "-0042": the sign goes first */
		put(o, '-');
		k--;
	}
	for (; !left && w < width; w++)
		put(o, pad);
	while (k)
		put(o, tmp[--k]);
	for (; left && w < width; w++)
		put(o, ' ');
}

unsigned int ddvm_vfmt(char *buf, unsigned int n, const char *fmt, va_list ap)
{
	struct out o = { buf, n, 0 };

	for (; *fmt; fmt++) {
		unsigned int width = 0, lng = 0;
		char pad = ' ';
		int left = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				pad = '0';
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned int)(*fmt++ - '0');
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			lng += *fmt == 'z' ? 2 : 1;
		switch (*fmt) {
		case 'd': {
			long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long)
									: va_arg(ap, int);
			put_num(&o, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10,
				v < 0, width, pad, left);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long)
					     : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			put_num(&o, v, *fmt == 'x' ? 16 : 10, 0, width, pad, left);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (unsigned long long)(__UINTPTR_TYPE__)va_arg(ap, void *), 16, 0,
				0, ' ', 0);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			unsigned int w = 0;

			if (!s)
				s = "(null)";
			for (const char *p = s; *p; p++)
				w++;
			for (; !left && w < width; w++)
				put(&o, ' ');
			while (*s)
				put(&o, *s++);
			for (; left && w < width; w++)
				put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:		/* unknown conversion: show it, consume nothing */
			put(&o, '%');
			if (!*fmt)
				goto end;
			put(&o, *fmt);
		}
	}
end:
	if (n)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return o.len < n ? o.len : (n ? n - 1 : 0);
}

unsigned int ddvm_fmt(char *buf, unsigned int n, const char *fmt, ...)
{
	va_list ap;
	unsigned int r;

	va_start(ap, fmt);
	r = ddvm_vfmt(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

void ddvm_logf(struct ddvm_transport *t, int level, const char *fmt, ...)
{
	char line[320];
	unsigned int k = 0;
	va_list ap;

	if (!t || !t->ops || !t->ops->log)
		return;
	if (t->name)
		k = ddvm_fmt(line, sizeof(line), "%s: ", t->name);
	va_start(ap, fmt);
	ddvm_vfmt(line + k, sizeof(line) - k, fmt, ap);
	va_end(ap);
	t->ops->log(t, level, line);
}

int ddvm_ratelimit(struct ddvm_transport *t, struct ddvm_ratelimit *rl, uint32_t *suppressed)
{
	uint64_t now = t && t->ops && t->ops->now_ns ? t->ops->now_ns(t) : 0;

	if (!rl->start_ns || now - rl->start_ns >= DDVM_RL_INTERVAL_NS) {
		rl->start_ns = now ? now : 1;
		rl->n = 0;
	}
	if (rl->n >= DDVM_RL_BURST) {
		rl->suppressed++;
		return 0;
	}
	rl->n++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}

const char *ddvm_status_str(uint32_t status)
{
	switch (status) {
	case DDVM_S_OK: return "ok";
	case DDVM_S_IOERR: return "I/O error";
	case DDVM_S_INVAL: return "invalid request";
	case DDVM_S_NOTSUPP: return "not supported";
	case DDVM_S_RANGE: return "out of range";
	case DDVM_S_NOSPC: return "no space";
	default: return "unknown status";
	}
}

const char *ddvm_op_str(uint16_t op)
{
	switch (op) {
	case DDVM_OP_PING: return "ping";
	case DDVM_OP_CRASH: return "crash";
	case DDVM_OP_READ: return "read";
	case DDVM_OP_WRITE: return "write";
	case DDVM_OP_FLUSH: return "flush";
	case DDVM_OP_DISCARD: return "discard";
	case DDVM_OP_WRITE_ZEROES: return "write-zeroes";
	case DDVM_OP_NET_TX: return "net-tx";
	case DDVM_OP_NET_RX: return "net-rx";
	default: return "?";
	}
}

const char *ddvm_err_str(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return "success";
	case DDVM_ENOENT: return "no such queue or peer";
	case DDVM_EIO: return "I/O error";
	case DDVM_EAGAIN: return "try again";
	case DDVM_ENOMEM: return "out of memory";
	case DDVM_ENODEV: return "no device";
	case DDVM_EINVAL: return "invalid argument";
	case DDVM_ENOSPC: return "no space";
	case DDVM_EPROTO: return "protocol error";
	case DDVM_EOPNOTSUPP: return "not supported";
	case DDVM_ETIMEDOUT: return "timed out";
	default: return "error";
	}
}
