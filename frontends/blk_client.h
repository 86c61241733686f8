/* SPDX-License-Identifier: MIT */
/*
 * Block queue client: one DDVM_QK_BLOCK queue of a channel, used by many
 * threads at once.  Joins the channel's ivshmem server as a peer, checks
 * the region, waits for the driver VM to publish the queue READY, then
 * turns byte-range operations into ring requests (split at max_transfer,
 * several in flight), one data chunk per request slot.
 *
 * Nothing the driver VM writes is trusted: every response is copied once
 * and must match an outstanding request (id = tag | per-slot sequence |
 * slot, same op and len, a known status) before its data is used.  A bad
 * response fails its request with -EIO; a corrupt ring fails every request
 * from then on; a request not answered in time fails with -EIO and its slot
 * is quarantined until the driver VM answers it (or forever).  When the
 * driver VM's peer leaves the channel (a crash), the requests it had taken
 * and not answered are pushed again for its successor, one at a time; one
 * that a second driver VM dies holding alone is failed (a poison pill).
 */
#ifndef DDVM_FRONTENDS_BLK_CLIENT_H
#define DDVM_FRONTENDS_BLK_CLIENT_H

#include <pthread.h>
#include <stdint.h>

#include "ddvm/blk_check.h"
#include "ddvm/region.h"
#include "ddvm/ring.h"
#include "ddvm/posix/peer.h"

struct blkc_slot;

struct blkc_params {
	const char *socket;		/* the channel's ivshmem server socket */
	int queue;			/* index in the queue table, or -1 */
	int disk;			/* Nth DDVM_QK_BLOCK queue, or -1 */
	unsigned int timeout_s;		/* per request */
	unsigned int ready_timeout_s;	/* for the queue to become READY */
};

struct blkc {
	struct ddvm_peer peer;
	struct ddvm_layout lay;		/* private, validated copy */
	uint32_t qi;			/* queue index */
	struct ddvm_queue_info q;
	struct ddvm_queue_state_info st;	/* as published when we started */
	struct ddvm_ring req, resp;
	volatile uint8_t *base;
	uint32_t nslots;
	uint64_t chunk;
	uint64_t tag;			/* random bits 48..63 of every id */
	unsigned int timeout_s;

	pthread_mutex_t lock;		/* rings, slots, free list, suspects, dead */
	pthread_cond_t free_cv, space_cv, serial_cv;
	struct blkc_slot *slots;
	struct ddvm_blk_pending *pend;	/* scratch view of slots for ddvm_blk_resp_check */
	uint32_t *free_stack, nfree;
	unsigned int space_waiters;
	int dead;
	uint64_t stale, bad;		/* responses dropped / failed */

	/* requests a dead driver VM held, resubmitted one at a time (suspect_next) */
	uint64_t sus_seq;		/* turns handed out */
	unsigned int serial;		/* suspects not answered yet: new requests wait */
	int kick;			/* a suspect was published: ring the driver VM */

	uint16_t gpeer;			/* the driver VM's peer id, while it is there */
	int gpeer_valid;
	uint16_t gone;			/* the last driver VM seen leaving */

	pthread_t thread;
	int thread_started, stop_efd, sock_ok;
	unsigned int ring_misses;
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
