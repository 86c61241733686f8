/* SPDX-License-Identifier: MIT */
/*
 * ivshmem server: hands the shared-memory fd and the doorbell eventfds to
 * every peer that connects to a unix socket (QEMU's ivshmem-doorbell, or a
 * host front-end).  The server itself is peer 0 and owns its own eventfds.
 *
 * Protocol (each message one little-endian int64, fds by SCM_RIGHTS), on
 * connect: 0 (version); the peer's id; -1 with the shm fd; for every other
 * peer (peer 0 included) one message per vector: its id with an eventfd;
 * the peer's own id once per vector with its own eventfds.  The others are
 * then told about the newcomer (its id + each eventfd), and when a peer
 * leaves they get its id with no fd.
 *
 * The server never trusts a peer: one that sends anything, or that cannot
 * take its messages, is disconnected; nothing a peer does stops the server.
 * It serves at most a channel's capacity of peers (ivs_server_set_max_peers)
 * and refuses the rest at once, and it survives running out of fds
 * (ddvm_accept): refused connections are logged at a bounded rate.
 * The socket is private (0600, see private_sock.h) and a connection is
 * admitted only from our own euid or a uid given to ivs_server_allow; any
 * other is closed at once, before it gets an id or an fd.
 */
#ifndef DDVM_HOST_IVSHMEM_SERVER_H
#define DDVM_HOST_IVSHMEM_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#include "ddvm/posix/log.h"
#include "ddvm/posix/private_sock.h"

#define IVS_MAX_VECTORS	16
#define IVS_MAX_PEERS	64
#define IVS_SELF_ID	0
#define IVS_PATH_MAX	108		/* sizeof(sockaddr_un.sun_path) */

struct ivs_peer {
	int sock;			/* -1 for peer 0 (the server itself) */
	uint16_t id;
	pid_t pid;			/* SO_PEERCRED of the connection */
	int efd[IVS_MAX_VECTORS];	/* one eventfd per vector: ring it to interrupt this peer */
	int dead;			/* misbehaved: being disconnected */
};

/* Called after a peer joined (connected = 1) or left (0). */
typedef void (*ivs_peer_cb)(void *opaque, const struct ivs_peer *p, int connected);

struct ivs_server {
	int listen_fd;
	int epfd;			/* listen socket + peer sockets; poll it */
	int shm_fd;
	unsigned int nvectors;
	uint16_t next_id;
	struct ivs_peer self;		/* peer 0 */
	struct ivs_peer *peers[IVS_MAX_PEERS];
	unsigned int npeers;
	unsigned int max_peers;		/* the channel's capacity (default IVS_MAX_PEERS) */
	ivs_peer_cb cb;
	void *opaque;
	char path[IVS_PATH_MAX];	/* for log lines */
	struct log_rl rl_full, rl_peer;	/* refused connections, misbehaving peers */
	uid_t allow[DDVM_ALLOW_MAX];	/* admitted besides our own euid */
	unsigned int nallow;
};

/*
 * Listen on path (replacing a stale socket of ours, never anything else)
 * and create peer 0's eventfds.
 * shm_fd stays owned by the caller.  Returns 0 or -errno.
 */
int ivs_server_init(struct ivs_server *s, const char *path, int shm_fd, unsigned int nvectors,
		    ivs_peer_cb cb, void *opaque);

/*
 * Also admit connections from these n uids (replaces the previous list;
 * our own euid is always admitted).  0, or -EINVAL if n > DDVM_ALLOW_MAX.
 */
int ivs_server_allow(struct ivs_server *s, const uid_t *uids, unsigned int n);

/*
 * Serve at most n peers at a time (1..IVS_MAX_PEERS; peer 0 not counted):
 * a connection beyond that is closed before it gets an id or an fd.
 * 0, or -EINVAL.
 */
int ivs_server_set_max_peers(struct ivs_server *s, unsigned int n);

/*
 * A peer without a listening socket: a connected pair, our end a peer (of
 * process pid, 0 if not known yet) at once, the other end returned
 * (close-on-exec) for a child to inherit -- so a QEMU or front-end reaches
 * the channel through an fd it is handed, never a path.  The peer's id in
 * *id.  The fd, or -errno (-EBUSY: the channel is full).
 */
int ivs_server_pair(struct ivs_server *s, pid_t pid, uint16_t *id);
/* Name the process behind a peer of ivs_server_pair once it is forked.  0 or -ENOENT. */
int ivs_server_set_pid(struct ivs_server *s, uint16_t id, pid_t pid);

/* An fd that becomes readable when ivs_server_dispatch has work. */
static inline int ivs_server_pollfd(const struct ivs_server *s) { return s->epfd; }

/* Accept new peers and handle disconnects; never blocks. */
void ivs_server_dispatch(struct ivs_server *s);

/* Peer 0's eventfd for vector v: readable when a peer rings us. */
int ivs_server_self_eventfd(const struct ivs_server *s, unsigned int v);

/* The connected peer with this id / whose process is pid, or NULL. */
const struct ivs_peer *ivs_server_peer(const struct ivs_server *s, uint16_t id);
const struct ivs_peer *ivs_server_peer_by_pid(const struct ivs_server *s, pid_t pid);

/* Ring vector v of peer id.  0, -ENOENT (no such peer/vector) or -errno. */
int ivs_server_ring(const struct ivs_server *s, uint16_t id, unsigned int v);

/* Disconnect a peer (as if it had hung up). */
void ivs_server_drop(struct ivs_server *s, uint16_t id);

/* Disconnect everyone, close and unlink nothing but our own fds. */
void ivs_server_close(struct ivs_server *s);

#endif
