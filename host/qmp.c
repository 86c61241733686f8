// SPDX-License-Identifier: MIT
/* Minimal QMP client: see qmp.h. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "ddvm/posix/private_sock.h"
#include "qmp.h"

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int qmp_listen(const char *path)
{
	/* QEMU accepts on it; only we connect, so 0600 is all it needs. */
	return ddvm_listen_private(path, SOCK_STREAM | SOCK_CLOEXEC, 4);
}

static void send_cmd(struct qmp *q, const char *cmd)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "{\"execute\":\"%s\"}\n", cmd);

	if (send(q->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		pr_debug("qmp: cannot send %s: %m", cmd);
}

/* One line, NUL-terminated (a line holding a NUL byte never gets here). */
static void handle_line(struct qmp *q, const char *line)
{
	json_object *o = json_tokener_parse(line), *v;

	if (!o)
		return;
	if (json_object_object_get_ex(o, "QMP", &v)) {
		send_cmd(q, "qmp_capabilities");
	} else if (json_object_object_get_ex(o, "return", &v) && !q->ready) {
		q->ready = 1;
		if (q->want_quit)
			send_cmd(q, "quit");
	} else if (json_object_object_get_ex(o, "event", &v) && json_object_is_type(v, json_type_string) &&
		   q->on_event) {
		q->on_event(q, json_object_get_string(v));
	}
	json_object_put(o);
}

/*
 * The stream is lines (QMP ends each with CRLF or LF).  Each complete line
 * is handled; one too long for the buffer is dropped whole, through its
 * newline (never resynchronised in the middle); one holding a NUL byte is
 * dropped (QEMU escapes every control character).
 */
static void on_readable(struct watch *w, uint32_t events)
{
	struct qmp *q = container_of(w, struct qmp, w);
	char *nl, *start;
	ssize_t n;

	(void)events;
	n = recv(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		qmp_close(q);	/* QEMU went away; its exit is seen on the pidfd */
		return;
	}
	q->len += (size_t)n;
	start = q->buf;
	while ((nl = memchr(start, '\n', q->len - (size_t)(start - q->buf)))) {
		*nl = '\0';
		if (q->skip)
			q->skip = 0;	/* the end of an overlong line */
		else if (!memchr(start, '\0', (size_t)(nl - start)))
			handle_line(q, start);
		if (q->fd < 0)		/* the event handler closed us */
			return;
		start = nl + 1;
	}
	q->len -= (size_t)(start - q->buf);
	memmove(q->buf, start, q->len);
	if (q->len == sizeof(q->buf) - 1) {	/* one absurdly long line: drop it all */
		q->len = 0;
		q->skip = 1;
	}
}

int qmp_open(struct qmp *q, const char *path, qmp_event_fn on_event)
{
	struct sockaddr_un sa;
	int ret = unix_addr(path, &sa);

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->w.fd = -1;
	q->on_event = on_event;
	if (ret < 0)
		return ret;
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -errno;
	/* The listening socket exists (we made it): this completes at once. */
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    loop_add(&q->w, q->fd, EPOLLIN, on_readable) < 0) {
		ret = -errno;
		close(q->fd);
		q->fd = -1;
		return ret;
	}
	return 0;
}

int qmp_set_link(struct qmp *q, const char *name, int up)
{
	json_object *o = json_object_new_object(), *args = json_object_new_object();
	const char *s;
	size_t n;
	int ret = 0;

	if (q->fd < 0 || !q->ready) {
		json_object_put(o);
		json_object_put(args);
		return -ENOTCONN;
	}
	json_object_object_add(args, "name", json_object_new_string(name));
	json_object_object_add(args, "up", json_object_new_boolean(up));
	json_object_object_add(o, "execute", json_object_new_string("set_link"));
	json_object_object_add(o, "arguments", args);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	n = strlen(s);
	/* One short line on a local socket: it fits the socket buffer. */
	if (send(q->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n ||
	    send(q->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
		ret = -EIO;
	json_object_put(o);
	return ret;
}

void qmp_quit(struct qmp *q)
{
	q->want_quit = 1;
	if (q->fd >= 0 && q->ready)
		send_cmd(q, "quit");
}

void qmp_close(struct qmp *q)
{
	if (q->fd < 0)
		return;
	loop_del(&q->w);
	close(q->fd);
	q->fd = -1;
	q->ready = 0;
}
