// SPDX-License-Identifier: MIT
/*
 * fuzz-qmp: the supervisor's QMP reader (host/qmp.c) on whatever QEMU's
 * monitor socket delivers, cut into arbitrary pieces, with the
 * supervisor's own calls (quit, set_link) in between.
 *
 * Input, repeated: an op byte, low 2 bits
 *   0  bytes: a 2-byte little-endian length n, then n bytes QEMU sends
 *   1  run:   a byte c and a 2-byte length n: n % 12288 copies of c (long lines)
 *   2  qmp_quit()      3  qmp_set_link("net0", bit 2 of the op)
 * then QEMU hangs up.
 *
 * Always: no crash, leak or overflow; the reader does exactly what an
 * independent model of the stream says: the stream is a sequence of lines
 * (ended by '\n'); a line longer than the reader's buffer (8190 bytes) is
 * dropped whole, a line holding a NUL byte is dropped, any other line is
 * parsed as JSON: a greeting ("QMP") is answered by qmp_capabilities, the
 * first "return" makes it ready (and sends a pending quit), an "event"
 * with a string value is reported by name (only those).  What the reader
 * sends back is exactly the model's commands, one well-formed line each.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "../../host/qmp.c"
#include "must.h"

#define LINE_MAX_LEN	(sizeof(((struct qmp *)0)->buf) - 2)

struct model {
	char *line;
	size_t len;
	int too_long, ready, want_quit;
	char sent[1 << 20];	/* commands the reader must have sent, in order */
	size_t nsent;
	char events[1 << 20];	/* event names, NUL-separated */
	size_t nevents;
};

static struct model m;
static char got_events[1 << 20];
static size_t ngot_events;

static void on_event(struct qmp *q, const char *event)
{
	size_t n;

	(void)q;
	MUST(event != NULL);
	n = strlen(event) + 1;	/* as the supervisor's callback does: strcmp on it */
	if (ngot_events + n <= sizeof(got_events)) {
		memcpy(got_events + ngot_events, event, n);
	}
	ngot_events += n;
}

static void m_send(const char *cmd)
{
	int n = snprintf(m.sent + m.nsent, sizeof(m.sent) - m.nsent, "{\"execute\":\"%s\"}\n", cmd);

	m.nsent += (size_t)n;
	MUST(m.nsent < sizeof(m.sent));
}

static void m_line(void)
{
	json_object *o, *v;

	if (m.too_long || memchr(m.line, '\0', m.len))
		return;
	m.line[m.len] = '\0';
	o = json_tokener_parse(m.line);
	if (!o)
		return;
	if (json_object_object_get_ex(o, "QMP", &v)) {
		m_send("qmp_capabilities");
	} else if (json_object_object_get_ex(o, "return", &v) && !m.ready) {
		m.ready = 1;
		if (m.want_quit)
			m_send("quit");
	} else if (json_object_object_get_ex(o, "event", &v) && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		size_t n = strlen(s) + 1;

		if (m.nevents + n <= sizeof(m.events))
			memcpy(m.events + m.nevents, s, n);
		m.nevents += n;
	}
	json_object_put(o);
}

static void m_bytes(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			m_line();
			m.len = 0;
			m.too_long = 0;
		} else if (m.len == LINE_MAX_LEN) {
			m.too_long = 1;
		} else {
			m.line[m.len++] = (char)p[i];
		}
	}
}

/* Everything the reader sent so far, appended to out. */
static void drain_sent(int fd, char *out, size_t *nout, size_t cap)
{
	ssize_t r;

	while ((r = recv(fd, out + *nout, cap - *nout, MSG_DONTWAIT)) > 0) {
		*nout += (size_t)r;
		MUST(*nout < cap);
	}
}

static void pump(struct qmp *q)
{
	int pending;

	while (q->fd >= 0 && ioctl(q->fd, FIONREAD, &pending) == 0 && pending > 0)
		on_readable(&q->w, EPOLLIN);
}

static void feed(struct qmp *q, int peer, const uint8_t *p, size_t n)
{
	while (n && q->fd >= 0) {
		ssize_t w = send(peer, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0) {
			m_bytes(p, (size_t)w);
			p += w;
			n -= (size_t)w;
		}
		pump(q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	static uint8_t run[12288];
	static char sent[1 << 20];
	size_t nsent = 0, i = 0;
	struct qmp q;
	int sv[2];

	if (!inited) {
		MUST(loop_init() == 0);
		log_set_stream(fopen("/dev/null", "w"));
		inited = 1;
	}
	m.len = m.nsent = m.nevents = 0;
	m.too_long = m.ready = m.want_quit = 0;
	m.line = malloc(LINE_MAX_LEN + 1);
	ngot_events = 0;
	MUST(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	memset(&q, 0, sizeof(q));
	q.fd = sv[0];
	q.on_event = on_event;
	MUST(loop_add(&q.w, q.fd, EPOLLIN, on_readable) == 0);

	while (i < size && q.fd >= 0) {
		uint8_t op = data[i++];
		size_t n;

		switch (op & 3) {
		case 0:
			if (size - i < 2)
				goto done;
			n = (size_t)(data[i] | data[i + 1] << 8);
			i += 2;
			if (n > size - i)
				n = size - i;
			feed(&q, sv[1], data + i, n);
			i += n;
			break;
		case 1:
			if (size - i < 3)
				goto done;
			n = (size_t)(data[i + 1] | data[i + 2] << 8) % 12288;
			memset(run, data[i], n);
			i += 3;
			feed(&q, sv[1], run, n);
			break;
		case 2:
			qmp_quit(&q);
			m.want_quit = 1;
			if (m.ready)
				m_send("quit");
			break;
		case 3: {
			int up = op >> 2 & 1, r = qmp_set_link(&q, "net0", up);

			MUST(r == (m.ready ? 0 : -ENOTCONN));
			if (r == 0) {
				int k = snprintf(m.sent + m.nsent, sizeof(m.sent) - m.nsent,
						 "{\"execute\":\"set_link\",\"arguments\":{\"name\":\"net0\",\"up\":%s}}\n",
						 up ? "true" : "false");

				m.nsent += (size_t)k;
				MUST(m.nsent < sizeof(m.sent));
			}
			break;
		}
		}
		drain_sent(sv[1], sent, &nsent, sizeof(sent));
	}
done:
	drain_sent(sv[1], sent, &nsent, sizeof(sent));
	/* What it sent and what it reported: exactly the model's. */
	MUST(nsent == m.nsent && !memcmp(sent, m.sent, nsent));
	MUST(ngot_events == m.nevents);
	MUST(!memcmp(got_events, m.events, ngot_events < sizeof(got_events) ? ngot_events : sizeof(got_events)));
	MUST(q.ready == m.ready);
	/* QEMU hangs up: the reader closes its end and stops watching. */
	close(sv[1]);
	if (q.fd >= 0) {
		on_readable(&q.w, EPOLLIN);
		MUST(q.fd < 0 && q.w.fd < 0);
	}
	free(m.line);
	return 0;
}
