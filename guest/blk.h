/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Block translation: serves each DDVM_QK_BLOCK queue of a channel with one
 * whole disk of this Linux, below the page cache (bios on an exclusively
 * opened block device).  ddvm_blk.ko (blk_mod.c registers it with ddvm_chan).
 *
 *   blk_target.c  target string -> the Nth whole disk under a PCI function
 *   blk_queue.c   per-queue lifecycle: bind, find + open the disk, publish
 *                 its parameters in the queue state table, stop, release
 *   blk_io.c      the request ring: validate, submit bios, complete, answer
 *
 * Wire conventions (the client side follows them):
 * - Target (ddvm_queue_target): "pci=DDDD:BB:DD.F" (hex, exactly 4:2:2.1
 *   digits, device <= 1f, function <= 7), optionally " n=N" (decimal, <= 255):
 *   the Nth whole, non-hidden disk under that PCI function, depth-first in
 *   device-add order (as the PCI table's names list them).  Malformed: ERROR/
 *   TARGET.  Not (yet) there: ABSENT, retried on every heartbeat; after 30 s
 *   ERROR/NODEV, still retried.  Cannot open: ERROR/OPEN (retried); no usable
 *   buffers: ERROR/BUFFERS.  A corrupt ring index: ERROR/BUFFERS, for good.
 * - Data: with struct pages for the region (c->region_pages), a READ/WRITE
 *   bio points straight into the client's buffer (no guest copy) when the
 *   buffer meets the disk's DMA alignment; otherwise, and on kernels where
 *   the region has no struct pages, data is copied through bounce pages.
 * - The data area is split into nslots chunks of chunk = data_size / nslots
 *   rounded down to 4096; chunk k = [data_off + k*chunk, +chunk).  A READ/
 *   WRITE buffer [buf_off, +len) lies inside one chunk.
 * - max_transfer = min(queue_max_hw_sectors * 512, chunk, 1 MiB, and without
 *   zero copy the bounce page budget / depth), rounded down to the logical
 *   block size.
 * - Checks, in this order: unknown op -> NOTSUPP; flags other than FUA ->
 *   INVAL; FLUSH -> executed (offset, len, buf_off ignored); a write-type op
 *   on a read-only disk, or DISCARD without F_DISCARD -> NOTSUPP; len 0, or
 *   offset/len not multiples of the logical block size -> INVAL; READ/WRITE
 *   len > max_transfer -> INVAL; offset + len > capacity (overflow-safe) ->
 *   RANGE; READ/WRITE buffer not inside one chunk -> INVAL.  DISCARD and
 *   WRITE_ZEROES ignore buf_off and may be up to 4 GiB - 1 block.
 * - FUA is honoured on WRITE (emulated with a post-flush by the block layer
 *   when the disk has no native FUA) and ignored on other ops.
 * - A response echoes id, op, flags, offset, buf_off and len of its request
 *   and carries status; other fields 0.  Responses come in completion order.
 *   Device errors: BLK_STS_NOTSUPP -> NOTSUPP, NOSPC -> NOSPC, else IOERR.
 * - Features: FLUSH iff a volatile write cache, FUA iff native FUA, DISCARD
 *   iff the queue has a discard limit, WRITE_ZEROES always (the block layer
 *   writes zero pages where the disk has no write-zeroes command), RO for a
 *   read-only disk (then no DISCARD / WRITE_ZEROES), ZEROES_READ never.
 * - Doorbells: the queue is served on its req_vector and on every heartbeat;
 *   the client is rung at (req ring client_peer_id, resp_vector) when its
 *   event index asks for it (new responses, or request ring space).
 * - Restart: a new instance resumes from the shared indices: it serves the
 *   requests in [shared req cons, prod); those before that were taken by the
 *   dead instance and, if unanswered, must be resubmitted by the client.
 */
#ifndef DDVM_GUEST_BLK_H
#define DDVM_GUEST_BLK_H

#include <linux/blkdev.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "chan.h"
#include "ddvm/blk_check.h"	/* DDVM_BLK_CHUNK_ALIGN, ddvm_blk_chunk */

#define DDVM_BLK_MAX_INFLIGHT	256u		/* request contexts per queue at most */
#define DDVM_BLK_PAGE_BUDGET	(8u << 20)	/* bounce pages per channel, bytes */
#define DDVM_BLK_MAX_XFER	(BIO_MAX_VECS * PAGE_SIZE)	/* one bio per request */
#define DDVM_BLK_NODEV_SECS	30		/* target not found after this: ERROR */


/* One request popped from the ring, until its response is pushed. */
struct ddvm_blk_req {
	struct ddvm_blkq *q;
	struct list_head node;		/* q->free, q->done, q->answers or q->recycled */
	struct ddvm_slot slot;		/* validated private copy of the request */
	struct page **pages;		/* bounce pages, q->req_pages of them (zero-copy
					 * queues: allocated only when a buffer needs them) */
	blk_status_t bio_status;	/* set by bi_end_io */
	u32 status;			/* DDVM_S_* for the response */
	bool retried;			/* WRITE_ZEROES: already retried after NOTSUPP */
	bool copied;			/* READ data already copied to the region */
	bool zc;			/* the bio points into the region: nothing to copy */
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
	u64 capacity;			/* of what the queue serves: the disk or its slice */
	sector_t base;			/* the slice's first sector on the disk (0: whole disk) */
	u32 lbs, pbs, max_transfer, features;
	char dev_name[16];

	/*
	 * Request contexts.  Only the work (or stop, after it) touches free and
	 * nbusy.  lock (irqsave: bi_end_io runs in any context) guards the
	 * response ring's producer side and the lists and counter below it.
	 */
	struct ddvm_blk_req *reqs;
	unsigned int nreq, req_pages;
	struct list_head free;		/* unused contexts */
	unsigned int nbusy;		/* popped and not yet back on free */
	spinlock_t lock;
	struct list_head answers;	/* responses waiting for ring space, in order */
	unsigned int nsubmitted;	/* bios not completed (or not reaped) yet */
	struct list_head done;		/* completed by bi_end_io, for the work to answer */
	struct list_head recycled;	/* answered by bi_end_io, for the work to free */
	bool starved;			/* the work left requests for want of a free context */
	struct ddvm_qcount count;	/* answered requests (q->lock), published in the header */

	u32 state, error;		/* what we published (DDVM_QS_*, DDVM_QE_*) */
	unsigned long t_start;		/* jiffies when we started looking */
	bool dead;			/* a ring is corrupt: no longer served */
	bool stopping;
	bool nodev_logged, open_logged, target_logged;
	wait_queue_head_t idle;		/* stop waits for nsubmitted == 0 */
};

/* blk_target.c */
int ddvm_blk_target_find(const struct ddvm_target *t, dev_t *devt);

/* blk_queue.c */
void ddvm_blkq_set_state(struct ddvm_blkq *q, u32 state, u32 error);
void ddvm_blkq_attach(struct ddvm_blkq *q);

/* blk_io.c */
void ddvm_blkq_work(struct work_struct *w);
void ddvm_blkq_ring_client(struct ddvm_blkq *q);

#endif /* DDVM_GUEST_BLK_H */
