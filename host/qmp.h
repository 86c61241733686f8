/* SPDX-License-Identifier: MIT */
/*
 * Minimal QMP client (json-c): capability negotiation, events, quit.
 * The supervisor creates the listening QMP socket and hands it to QEMU, so
 * it can connect at once; QEMU answers when its monitor is up.
 */
#ifndef DDVM_HOST_QMP_H
#define DDVM_HOST_QMP_H

#include <stddef.h>

#include "loop.h"

struct qmp;
/* Called for every QMP event (e.g. "GUEST_PANICKED", "SHUTDOWN"). */
typedef void (*qmp_event_fn)(struct qmp *q, const char *event);

struct qmp {
	int fd;
	int ready;			/* capabilities negotiated */
	int want_quit;			/* send quit once ready */
	struct watch w;
	char buf[8192];
	size_t len;
	int skip;			/* dropping the rest of an overlong line */
	qmp_event_fn on_event;
};

/*
 * Create, bind and listen on path, mode 0600 (replacing a stale socket of
 * ours, never anything else).  Returns the listening fd (close-on-exec) for
 * QEMU, or -errno.
 */
int qmp_listen(const char *path);

/* Connect to path and start watching.  0 or -errno. */
int qmp_open(struct qmp *q, const char *path, qmp_event_fn on_event);

/* Ask QEMU to quit (now if negotiated, else once it is). */
void qmp_quit(struct qmp *q);

/*
 * Set the link of QEMU network client `name` (a netdev id: its NIC follows)
 * up or down, as a cable pull would.  -ENOTCONN if QMP is not ready yet.
 */
int qmp_set_link(struct qmp *q, const char *name, int up);

void qmp_close(struct qmp *q);

#endif
