/* SPDX-License-Identifier: MIT */
/*
 * ivshmem peer: the client side of the ivshmem-doorbell server protocol
 * (see ivshmem_server.h for the server side), for host programs that join a
 * channel as an ordinary peer: the nbdkit front-end, the fake driver VM.
 *
 * Everything the server sends is checked: message sizes, ids in range, an
 * fd present exactly where the protocol puts one, bounded peer and vector
 * counts.  A violation ends the connection with -EPROTO and a reason in
 * ddvm_peer.err.  The peer table is guarded by a mutex, so one thread may
 * process server messages while others ring.
 */
#ifndef DDVM_HOST_PEER_H
#define DDVM_HOST_PEER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define DDVM_PEER_MAX_VECTORS	16
#define DDVM_PEER_MAX_PEERS	64
#define DDVM_PEER_MAX_SHM	(64ull << 30)	/* refuse absurd shm sizes */

struct ddvm_peer_remote {
	int used;
	uint16_t id;
	unsigned int nvec;
	int efd[DDVM_PEER_MAX_VECTORS];
};

struct ddvm_peer {
	int sock;				/* connection to the server */
	uint16_t id;				/* our own peer id */
	unsigned int nvectors;			/* our own eventfds */
	int own_efd[DDVM_PEER_MAX_VECTORS];	/* readable when someone rings us */
	int shm_fd;
	volatile void *shm;			/* the shared region, mapped */
	uint64_t shm_size;
	pthread_mutex_t lock;			/* guards peers[] */
	struct ddvm_peer_remote peers[DDVM_PEER_MAX_PEERS];
	int stage;				/* protocol position (private) */
	char err[160];				/* why the last call failed */
};

/*
 * Connect to the server at path ("fd:N": use the connected socket N we were
 * handed instead, and own it) and complete the initial exchange (version,
 * own id, shm fd, other peers, own eventfds), waiting at most timeout_ms.
 * Maps the shm (size from fstat).  Returns 0 or -errno (p->err says why);
 * on failure nothing is left open.
 */
int ddvm_peer_connect(struct ddvm_peer *p, const char *path, int timeout_ms);

/*
 * Handle whatever the server sent since (peers joined / left); never blocks.
 * Returns 0, or -EPIPE (server gone) / -EPROTO (server broke the protocol).
 */
int ddvm_peer_process(struct ddvm_peer *p);

/* Our own eventfd for vector v (poll it for doorbells), or -1. */
int ddvm_peer_eventfd(const struct ddvm_peer *p, unsigned int v);

/* Read (and so clear) a doorbell eventfd; returns the count, 0 if none. */
uint64_t ddvm_peer_drain(int efd);

/* True if the server has announced peer id (ourselves included). */
int ddvm_peer_known(struct ddvm_peer *p, uint16_t id);

/* Ring vector v of peer id.  0, -ENOENT (no such peer / vector) or -errno. */
int ddvm_peer_ring(struct ddvm_peer *p, uint16_t id, unsigned int v);

/* Unmap, close everything. */
void ddvm_peer_close(struct ddvm_peer *p);

#endif
