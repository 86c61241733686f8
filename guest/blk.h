/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Block translation: serves each DDVM_QK_BLOCK queue of a channel with one
 * whole disk of this Linux, below the page cache (bios on an exclusively
 * opened block device).  Part of ddvm_chan.ko.
 *
 *   blk_target.c  target string -> the Nth whole disk under a PCI function
 *   blk_queue.c   per-queue lifecycle: bind, find + open the disk, publish
 *                 its parameters in the queue state table, stop, release
 *   blk_io.c      the request ring: validate, submit bios, complete, answer
 *
 * Wire conventions (see docs/protocol.md, "Block queues"):
 * - The data area is split into nslots chunks of chunk = data_size / nslots
 *   rounded down to 4096 bytes; a READ/WRITE buffer lies inside one chunk.
 * - max_transfer <= chunk, a multiple of the logical block size.
 */
#ifndef DDVM_GUEST_BLK_H
#define DDVM_GUEST_BLK_H

#include <linux/blkdev.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "chan.h"

#define DDVM_BLK_CHUNK_ALIGN	4096u
#define DDVM_BLK_MAX_INFLIGHT	256u		/* request contexts per queue at most */
#define DDVM_BLK_PAGE_BUDGET	(8u << 20)	/* bounce pages per queue, bytes */
#define DDVM_BLK_MAX_XFER	(BIO_MAX_VECS * PAGE_SIZE)	/* one bio per request */
#define DDVM_BLK_NODEV_SECS	30		/* target not found after this: ERROR */

/* A parsed queue target: "pci=DDDD:BB:DD.F[ n=N]". */
struct ddvm_blk_target {
	u16 domain;
	u8 bus, devfn;
	u32 n;
};

/* One request popped from the ring, until its response is pushed. */
struct ddvm_blk_req {
	struct ddvm_blkq *q;
	struct list_head node;		/* q->free, q->done or q->answers */
	struct ddvm_slot slot;		/* validated private copy of the request */
	struct page **pages;		/* bounce pages, q->req_pages of them */
	blk_status_t bio_status;	/* set by bi_end_io */
	u32 status;			/* DDVM_S_* for the response */
};

struct ddvm_blkq {
	struct ddvm_chan *c;
	struct ddvm_ring req, resp;
	u16 qidx;			/* index in the queue table */
	u16 req_vector, resp_vector;
	u32 nslots;
	u64 data_off, data_size, chunk;
	struct work_struct work;

	/* Device, once found and opened (only the work and stop touch these). */
	struct block_device *bdev;
	fmode_t mode;
	u64 capacity;
	u32 lbs, pbs, max_transfer, features;
	char dev_name[16];

	/* Request contexts; only the work (or stop, after it) touches the lists. */
	struct ddvm_blk_req *reqs;
	unsigned int nreq, req_pages;
	struct list_head free;		/* unused contexts */
	struct list_head answers;	/* responses waiting for ring space, in order */
	unsigned int nbusy;		/* popped and not yet answered */
	unsigned int nsubmitted;	/* bios whose completion was not reaped yet */
	spinlock_t done_lock;		/* bi_end_io (any context) vs the work */
	struct list_head done;		/* completed by bi_end_io, not yet reaped */

	u32 state, error;		/* what we published (DDVM_QS_*, DDVM_QE_*) */
	unsigned long t_start;		/* jiffies when we started looking */
	bool dead;			/* a ring is corrupt: no longer served */
	bool stopping;
	bool nodev_logged, open_logged, target_logged;
	wait_queue_head_t idle;		/* stop waits for nsubmitted == 0 */
};

/* blk_target.c */
int ddvm_blk_target_parse(const char *s, struct ddvm_blk_target *t);
int ddvm_blk_target_find(const struct ddvm_blk_target *t, dev_t *devt);

/* blk_queue.c */
void ddvm_blkq_set_state(struct ddvm_blkq *q, u32 state, u32 error);
void ddvm_blkq_attach(struct ddvm_blkq *q);

/* blk_io.c */
void ddvm_blkq_work(struct work_struct *w);
void ddvm_blkq_ring_client(struct ddvm_blkq *q);

#endif /* DDVM_GUEST_BLK_H */
