/* SPDX-License-Identifier: MIT */
/*
 * The nbdkit front-end's block client: libddvm's block client
 * (ddvm/blk_client.h) over its POSIX transport, shared by nbdkit's threads.
 * This file only adds what libddvm leaves to its caller: a mutex around
 * every libddvm call, a thread that sleeps on the response doorbell and the
 * server socket and calls ddvm_blkc_poll, a condition variable per slot for
 * the thread waiting on it, and splitting one NBD request into pieces with
 * several in flight.
 */
#ifndef DDVM_FRONTENDS_BLK_MT_H
#define DDVM_FRONTENDS_BLK_MT_H

#include <pthread.h>
#include <stdint.h>

#include "ddvm/blk_client.h"
#include "ddvm/posix/transport.h"

struct blkc_params {
	const char *socket;		/* the channel's ivshmem server socket */
	int queue;			/* index in the queue table, or -1 */
	int disk;			/* Nth DDVM_QK_BLOCK queue, or -1 */
	unsigned int timeout_s;		/* per request */
	unsigned int ready_timeout_s;	/* for the queue to become READY */
	const struct ddvm_layout *layout; /* from the supervisor (layout=), or NULL: read it */
};

struct blkc {
	struct ddvm_posix_transport pt;
	struct ddvm_blkc core;
	struct ddvm_queue_state_info st;	/* the disk's parameters */
	void *mem;			/* libddvm's slot tables */
	pthread_mutex_t lock;		/* every call into core */
	pthread_cond_t free_cv;		/* a slot may have become free */
	pthread_cond_t *cv;		/* per slot: its request completed */
	uint8_t *done;			/* per slot: done was called */
	unsigned int free_waiters, timeout_s;
	pthread_t thread;
	int thread_started, stop_efd;
};

/* Connect, validate, wait for READY.  0 or -errno (logged with nbdkit_error). */
int blkc_open(struct blkc *c, const struct blkc_params *prm);

/* Start the completion thread (after nbdkit has forked). */
int blkc_start(struct blkc *c);

/*
 * One operation: DDVM_OP_READ into rbuf, DDVM_OP_WRITE from wbuf, FLUSH,
 * DISCARD or WRITE_ZEROES, [off, off + len) aligned to the logical block
 * size.  Split into pieces of at most max_transfer.  0 or -errno.
 */
int blkc_io(struct blkc *c, uint16_t op, uint16_t flags, uint64_t off, uint64_t len,
	    void *rbuf, const void *wbuf);

void blkc_close(struct blkc *c);

#endif
