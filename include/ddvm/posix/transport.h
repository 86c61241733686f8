/* SPDX-License-Identifier: MIT */
/*
 * libddvm's POSIX transport: a client joins a channel's ivshmem server as
 * an ordinary peer (ddvm/posix/peer.h), maps the region it is handed, rings
 * peers through their eventfds and sleeps in poll(2).
 */
#ifndef DDVM_POSIX_TRANSPORT_H
#define DDVM_POSIX_TRANSPORT_H

#include "ddvm/transport.h"
#include "ddvm/posix/peer.h"

/* Where log lines go: level DDVM_LOG_*, line without a newline. */
typedef void ddvm_posix_log_fn(int level, const char *line);

struct ddvm_posix_transport {
	struct ddvm_transport t;	/* hand &t to libddvm */
	struct ddvm_peer peer;
	ddvm_posix_log_fn *log;
	int sock_ok;			/* the server connection still works */
};

/*
 * Connect to the channel's ivshmem server at path (waiting at most
 * timeout_ms for its greeting) and fill in the transport.  name prefixes
 * log lines; log may be NULL (stderr, debug lines only with DDVM_DEBUG=1).
 * 0 or -errno (logged).
 */
int ddvm_posix_open(struct ddvm_posix_transport *pt, const char *path, int timeout_ms,
		    const char *name, ddvm_posix_log_fn *log);
void ddvm_posix_close(struct ddvm_posix_transport *pt);

/* Handle messages from the server (peers joining and leaving).  0 or -errno (logged once). */
int ddvm_posix_process(struct ddvm_posix_transport *pt);

/* fds to poll: the eventfd of our doorbell vector v (-1 if none), the server socket. */
int ddvm_posix_vector_fd(const struct ddvm_posix_transport *pt, unsigned int v);
int ddvm_posix_server_fd(const struct ddvm_posix_transport *pt);

#endif
