// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Block translation: serving a block queue's request ring.
 *
 * One work item per queue consumes the request ring: it pops requests
 * while it has a free request context (at most min(nslots, 256) in
 * flight).  Each popped slot is copied once and validated; an invalid one
 * is answered at once and never executed.  Valid ones become bios on the
 * block device, below the page cache.  Where the region has struct pages
 * (chan_main.c) a READ/WRITE bio points at the client's buffer in the
 * region and the disk DMAs to or from it (data path (b), no guest copy);
 * otherwise, or for a buffer the disk cannot DMA to (alignment), data is
 * copied between the region and the context's bounce pages (path (a)).
 *
 * bi_end_io (any context, usually the disk's interrupt) answers its request
 * itself: it copies READ data to the region and pushes the response under
 * q->lock, which serializes the response ring's producer side between it
 * and the work, and rings the client.  That saves a workqueue hop (a guest
 * context switch) per request.  The context goes to q->recycled, for the
 * work to put back on q->free when it runs out (if it found none, it marked
 * the queue starved, and bi_end_io queues it).  Block doorbells no longer
 * wake the control work either (chan_main.c).  When the response cannot go out at once
 * (ring full, responses already waiting, the queue dead, or a WRITE_ZEROES
 * to retry) it goes to q->done and the work answers it, in order.
 */
#include <linux/highmem.h>

#include "ddvm/blk_check.h"
#include "blk.h"

#define BLK_WORK_BATCH	4	/* rounds of nreq requests per run before yielding */

void ddvm_blkq_ring_client(struct ddvm_blkq *q)
{
	/* The client names itself; a wrong id only misdirects a doorbell. */
	u32 peer = le32_to_cpu(READ_ONCE(q->req.sh->client_peer_id));

	ddvm_chan_ring_peer(q->c, (u16)peer, q->resp_vector);
}

static void blkq_corrupt(struct ddvm_blkq *q, const char *ring)
{
	if (q->dead)
		return;
	WRITE_ONCE(q->dead, true);
	dev_err(&q->c->pdev->dev, "block queue %u: %s ring index is impossible: no longer serving this queue\n",
		q->qidx, ring);
	ddvm_blkq_set_state(q, DDVM_QS_ERROR, DDVM_QE_BUFFERS);
}

/* Copy between the request's buffer in the region and its bounce pages. */
static void blkq_copy(struct ddvm_blkq *q, struct ddvm_blk_req *r, bool to_region)
{
	u8 *buf = (u8 *)q->c->region + le64_to_cpu(r->slot.buf_off);
	u32 len = le32_to_cpu(r->slot.len), n;
	unsigned int i;

	for (i = 0; len; i++, buf += n, len -= n) {
		n = min_t(u32, len, PAGE_SIZE);
		if (to_region)
			memcpy(buf, page_address(r->pages[i]), n);
		else
			memcpy(page_address(r->pages[i]), buf, n);
	}
}

/*
 * Validate a request (our private copy): DDVM_S_OK or why not.  The rules
 * are the shared, fuzzed proto/blk_check.c (documented in blk_check.h).
 */
static u32 blkq_check(const struct ddvm_blkq *q, const struct ddvm_slot *s)
{
	const struct ddvm_blk_limits lim = {
		.capacity = q->capacity, .lbs = q->lbs, .max_transfer = q->max_transfer,
		.features = q->features, .nslots = q->nslots, .data_off = q->data_off,
		.data_size = q->data_size, .chunk = q->chunk,
	};

	return ddvm_blk_req_check(s, &lim);
}

static u32 blkq_status(blk_status_t st)
{
	switch (st) {
	case BLK_STS_OK:	return DDVM_S_OK;
	case BLK_STS_NOTSUPP:	return DDVM_S_NOTSUPP;
	case BLK_STS_NOSPC:	return DDVM_S_NOSPC;
	default:		return DDVM_S_IOERR;
	}
}

static u32 blkq_errno_status(int err)
{
	switch (err) {
	case 0:			return DDVM_S_OK;
	case -EOPNOTSUPP:	return DDVM_S_NOTSUPP;
	case -EINVAL:		return DDVM_S_INVAL;
	default:		return DDVM_S_IOERR;
	}
}

/* From the work. */
static void blkq_answer(struct ddvm_blkq *q, struct ddvm_blk_req *r, u32 status)
{
	r->status = status;
	spin_lock_irq(&q->lock);
	list_add_tail(&r->node, &q->answers);
	spin_unlock_irq(&q->lock);
}

/* Count an answered request in the queue's published counters.  q->lock held. */
static void blkq_count(struct ddvm_blkq *q, const struct ddvm_blk_req *r)
{
	struct ddvm_qcount *n = &q->count;
	u32 len = le32_to_cpu(r->slot.len);

	if (r->status != DDVM_S_OK)
		n->errors++;
	else if (le16_to_cpu(r->slot.op) == DDVM_OP_READ)
		n->rd_ops++, n->rd_bytes += len;
	else if (le16_to_cpu(r->slot.op) == DDVM_OP_WRITE)
		n->wr_ops++, n->wr_bytes += len;
	else
		n->other_ops++;
	ddvm_qstats_write(q->c, q->qidx, n);
}

/* Push r's response.  q->lock held.  0, DDVM_RING_EFULL or DDVM_RING_ECORRUPT. */
static int blkq_push(struct ddvm_blkq *q, const struct ddvm_blk_req *r)
{
	struct ddvm_slot s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.id = r->slot.id;
	s.op = r->slot.op;
	s.flags = r->slot.flags;
	s.offset = r->slot.offset;
	s.buf_off = r->slot.buf_off;
	s.len = r->slot.len;
	s.status = cpu_to_le32(r->status);
	rc = ddvm_prod_push(&q->resp, &s);
	if (rc == 0)
		blkq_count(q, r);
	return rc;
}

static void blkq_end_io(struct bio *bio)
{
	struct ddvm_blk_req *r = bio->bi_private;
	struct ddvm_blkq *q = r->q;
	u16 op = le16_to_cpu(r->slot.op);
	unsigned long flags;

	r->bio_status = bio->bi_status;
	r->status = blkq_status(r->bio_status);
	bio_put(bio);
	if (r->status == DDVM_S_OK && op == DDVM_OP_READ && !r->zc && !READ_ONCE(q->dead)) {
		blkq_copy(q, r, true);	/* into r's own buffer: no lock needed */
		r->copied = true;
	}
	/* Once r is on a list under this lock, we no longer touch q. */
	spin_lock_irqsave(&q->lock, flags);
	if (!READ_ONCE(q->dead) && list_empty(&q->answers) &&
	    !(r->status == DDVM_S_NOTSUPP && op == DDVM_OP_WRITE_ZEROES && !r->retried) &&
	    blkq_push(q, r) == 0) {
		list_add_tail(&r->node, &q->recycled);
		q->nsubmitted--;
		if (q->starved) {	/* requests are waiting for this context */
			q->starved = false;
			queue_work(q->c->blk_wq, &q->work);
		}
		if (ddvm_prod_publish(&q->resp) > 0)
			ddvm_blkq_ring_client(q);
		if (READ_ONCE(q->stopping) && !q->nsubmitted)
			wake_up(&q->idle);
	} else {
		list_add_tail(&r->node, &q->done);
		queue_work(q->c->blk_wq, &q->work);
	}
	spin_unlock_irqrestore(&q->lock, flags);
}

static void blkq_submit(struct ddvm_blkq *q, struct ddvm_blk_req *r, struct bio *bio)
{
	bio->bi_private = r;
	bio->bi_end_io = blkq_end_io;
	spin_lock_irq(&q->lock);
	q->nsubmitted++;
	spin_unlock_irq(&q->lock);
	submit_bio(bio);
}

/*
 * Can the disk DMA straight to/from this request's buffer in the region?
 * Needs struct pages for the region and the disk's DMA alignment (the
 * buffer offset; len is already a multiple of the logical block size).
 */
static bool blkq_zero_copy(const struct ddvm_blkq *q, const struct ddvm_blk_req *r)
{
	u64 addr = (unsigned long)q->c->region + le64_to_cpu(r->slot.buf_off);

	return q->c->region_pages && !(addr & queue_dma_alignment(bdev_get_queue(q->bdev)));
}

/* Zero-copy queues allocate bounce pages only for a request that needs them. */
static int blkq_bounce_pages(struct ddvm_blk_req *r, u32 len)
{
	unsigned int i;

	for (i = 0; i < DIV_ROUND_UP(len, PAGE_SIZE); i++) {
		if (!r->pages[i])
			r->pages[i] = alloc_page(GFP_NOIO);
		if (!r->pages[i])
			return -ENOMEM;
	}
	return 0;
}

/* Add [off, off + len) of the region to bio, page by page.  0 or -EIO. */
static int blkq_add_region(struct ddvm_blkq *q, struct bio *bio, u64 off, u32 len)
{
	u32 n;

	for (; len; off += n, len -= n) {
		n = min_t(u32, len, PAGE_SIZE - offset_in_page(off));
		if (bio_add_page(bio, ddvm_chan_page(q->c, off), n, offset_in_page(off)) != n)
			return -EIO;
	}
	return 0;
}

static int blkq_add_bounce(struct ddvm_blk_req *r, struct bio *bio, u32 len)
{
	unsigned int i;
	u32 n;

	for (i = 0; len; i++, len -= n) {
		n = min_t(u32, len, PAGE_SIZE);
		if (bio_add_page(bio, r->pages[i], n, 0) != n)
			return -EIO;
	}
	return 0;
}

/*
 * Fault injection (ddvm_chan.fault_injection=1, tests only): a WRITE whose
 * data starts with DDVM_POISON_LEN bytes of DDVM_POISON_BYTE panics the
 * driver VM as it starts, without answering, like a driver that crashes on
 * one particular request (a "poison pill"): the client must find it, fail
 * it, and not hand it to every successor (frontends/blk_client.c).
 */
#define DDVM_POISON_BYTE	0xde
#define DDVM_POISON_LEN		64

static void blkq_poison_check(struct ddvm_blkq *q, struct ddvm_blk_req *r)
{
	u8 head[DDVM_POISON_LEN];

	if (!ddvm_chan_fault_injection() || le32_to_cpu(r->slot.len) < sizeof(head))
		return;
	/* buf_off and len were checked to lie inside the region */
	memcpy(head, (u8 *)q->c->region + le64_to_cpu(r->slot.buf_off), sizeof(head));
	if (!memchr_inv(head, DDVM_POISON_BYTE, sizeof(head)))
		panic("ddvm_blk: poison pill (fault injection): write of %u bytes at %llu\n",
		      le32_to_cpu(r->slot.len), le64_to_cpu(r->slot.offset));
}

static void blkq_start_rw(struct ddvm_blkq *q, struct ddvm_blk_req *r, bool write)
{
	u32 len = le32_to_cpu(r->slot.len);
	u64 off = le64_to_cpu(r->slot.buf_off);
	blk_opf_t opf = REQ_OP_READ;
	unsigned int nvec;
	struct bio *bio;
	int rc;

	if (write)
		blkq_poison_check(q, r);
	r->zc = blkq_zero_copy(q, r);
	if (!r->zc && blkq_bounce_pages(r, len)) {
		blkq_answer(q, r, DDVM_S_IOERR);
		return;
	}
	if (write) {
		opf = REQ_OP_WRITE;
		if (le16_to_cpu(r->slot.flags) & DDVM_F_FUA)
			opf |= REQ_FUA;	/* emulated with a flush by the block layer if not native */
		if (!r->zc)
			blkq_copy(q, r, false);
	}
	nvec = DIV_ROUND_UP(offset_in_page(r->zc ? off : 0) + len, PAGE_SIZE);
	bio = bio_alloc(q->bdev, min_t(unsigned int, nvec, BIO_MAX_VECS), opf, GFP_NOIO);
	bio->bi_iter.bi_sector = q->base + (le64_to_cpu(r->slot.offset) >> SECTOR_SHIFT);
	rc = r->zc ? blkq_add_region(q, bio, off, len) : blkq_add_bounce(r, bio, len);
	if (rc) {
		bio_put(bio);
		blkq_answer(q, r, DDVM_S_IOERR);
		return;
	}
	blkq_submit(q, r, bio);
}

/* Discard / write-zeroes: chained bios, the last one completes the request. */
static void blkq_start_range(struct ddvm_blkq *q, struct ddvm_blk_req *r, bool zero)
{
	sector_t sector = q->base + (le64_to_cpu(r->slot.offset) >> SECTOR_SHIFT);
	sector_t nr = le32_to_cpu(r->slot.len) >> SECTOR_SHIFT;
	struct bio *bio = NULL;
	int rc;

	if (zero)
		rc = __blkdev_issue_zeroout(q->bdev, sector, nr, GFP_NOIO, &bio, 0);
	else
		rc = __blkdev_issue_discard(q->bdev, sector, nr, GFP_NOIO, &bio);
	if (rc) {
		/* 6.1 fails these only before building any bio; never leak one anyway. */
		if (bio) {
			bio->bi_end_io = bio_put;
			submit_bio(bio);
		}
		blkq_answer(q, r, blkq_errno_status(rc));
		return;
	}
	if (!bio) {
		blkq_answer(q, r, DDVM_S_OK);	/* nothing to do */
		return;
	}
	blkq_submit(q, r, bio);
}

static void blkq_start(struct ddvm_blkq *q, struct ddvm_blk_req *r)
{
	u32 st = blkq_check(q, &r->slot);
	struct bio *bio;

	if (st == DDVM_S_OK)
		st = ddvm_fault_blk_request(q->c->region, &r->slot);	/* fault injection */
	if (st != DDVM_S_OK) {
		blkq_answer(q, r, st);
		return;
	}
	switch (le16_to_cpu(r->slot.op)) {
	case DDVM_OP_READ:
		blkq_start_rw(q, r, false);
		break;
	case DDVM_OP_WRITE:
		blkq_start_rw(q, r, true);
		break;
	case DDVM_OP_FLUSH:
		bio = bio_alloc(q->bdev, 0, REQ_OP_WRITE | REQ_PREFLUSH, GFP_NOIO);
		blkq_submit(q, r, bio);
		break;
	case DDVM_OP_DISCARD:
		blkq_start_range(q, r, false);
		break;
	case DDVM_OP_WRITE_ZEROES:
		blkq_start_range(q, r, true);
		break;
	}
}

/*
 * Contexts answered by bi_end_io -> free.  q->lock held.  If none is free
 * then, mark the queue starved: the next bi_end_io that answers one queues
 * the work.
 */
static void blkq_recycle(struct ddvm_blkq *q)
{
	struct ddvm_blk_req *r, *tmp;

	list_for_each_entry_safe(r, tmp, &q->recycled, node) {
		list_move(&r->node, &q->free);
		q->nbusy--;
	}
	q->starved = list_empty(&q->free);
}

/* Completed bios left to us -> responses waiting for ring space (or freed if dead). */
static void blkq_reap(struct ddvm_blkq *q)
{
	struct ddvm_blk_req *r, *tmp;
	LIST_HEAD(done);
	unsigned int n = 0;

	spin_lock_irq(&q->lock);
	list_splice_init(&q->done, &done);
	list_for_each_entry(r, &done, node)
		n++;
	q->nsubmitted -= n;
	spin_unlock_irq(&q->lock);
	list_for_each_entry_safe(r, tmp, &done, node) {
		list_del(&r->node);
		if (r->status == DDVM_S_NOTSUPP && !r->retried && !q->dead &&
		    le16_to_cpu(r->slot.op) == DDVM_OP_WRITE_ZEROES) {
			/*
			 * The disk refused a write-zeroes command it advertised; its
			 * driver usually turns the limit off then, so the retry writes
			 * zero pages (as blkdev_issue_zeroout does).
			 */
			r->retried = true;
			blkq_start_range(q, r, true);
			continue;
		}
		if (q->dead) {
			list_add(&r->node, &q->free);
			q->nbusy--;
			continue;
		}
		if (r->status == DDVM_S_OK && le16_to_cpu(r->slot.op) == DDVM_OP_READ &&
		    !r->copied && !r->zc)
			blkq_copy(q, r, true);
		spin_lock_irq(&q->lock);
		list_add_tail(&r->node, &q->answers);
		spin_unlock_irq(&q->lock);
	}
}

/* Push waiting responses, in order, while there is room.  Returns "ring". */
static bool blkq_push_answers(struct ddvm_blkq *q)
{
	struct ddvm_blk_req *r, *tmp;
	bool wake;
	int rc = 0;

	spin_lock_irq(&q->lock);
	list_for_each_entry_safe(r, tmp, &q->answers, node) {
		rc = blkq_push(q, r);
		if (rc == DDVM_RING_EFULL) {
			rc = ddvm_prod_want_space(&q->resp);
			if (rc > 0)
				rc = blkq_push(q, r);
			else if (rc == 0)
				break;	/* the client's doorbell or the next tick brings us back */
		}
		if (rc < 0)
			break;
		list_move(&r->node, &q->free);
		q->nbusy--;
	}
	wake = rc >= 0 && ddvm_prod_publish(&q->resp) > 0;
	spin_unlock_irq(&q->lock);
	if (rc < 0)
		blkq_corrupt(q, "response");
	return wake;
}

/* Pop and start requests while a context is free.  Returns how many; *wake
 * is set if the client asked to hear that the ring has room. */
static unsigned int blkq_take(struct ddvm_blkq *q, bool *wake)
{
	struct ddvm_blk_req *r;
	unsigned int n = 0;
	int rc;

	for (;;) {
		if (list_empty(&q->free)) {
			spin_lock_irq(&q->lock);
			blkq_recycle(q);
			spin_unlock_irq(&q->lock);
			if (list_empty(&q->free))
				break;
		}
		r = list_first_entry(&q->free, struct ddvm_blk_req, node);
		rc = ddvm_cons_pop(&q->req, &r->slot);
		if (rc == DDVM_RING_EEMPTY) {
			rc = ddvm_cons_want_data(&q->req);
			if (rc > 0)
				continue;
			if (rc == 0)
				break;
		}
		if (rc < 0) {
			blkq_corrupt(q, "request");
			break;
		}
		list_del(&r->node);
		q->nbusy++;
		r->retried = false;
		r->copied = false;
		r->zc = false;
		/*
		 * Taken, before it starts: if starting it crashes the driver,
		 * the client sees that this instance held it (and which), so it
		 * can hand it on carefully rather than have every successor pop
		 * the same batch again (frontends/blk_client.c, suspects).
		 */
		*wake |= ddvm_cons_publish(&q->req) > 0;
		blkq_start(q, r);
		n++;
	}
	return n;
}

void ddvm_blkq_work(struct work_struct *w)
{
	struct ddvm_blkq *q = container_of(w, struct ddvm_blkq, work);
	unsigned int rounds = 0, taken;
	bool wake;

	if (!q->bdev) {
		if (!READ_ONCE(q->stopping) && !q->dead)
			ddvm_blkq_attach(q);
		if (!q->bdev)
			return;
	}
	do {
		blkq_reap(q);
		if (q->dead)
			break;
		wake = blkq_push_answers(q);
		taken = 0;
		if (!q->dead && !READ_ONCE(q->stopping)) {
			taken = blkq_take(q, &wake);	/* publishes cons as it takes */
		}
		if (wake)
			ddvm_blkq_ring_client(q);
	} while (taken && !q->dead && ++rounds < BLK_WORK_BATCH);
	if (taken && !q->dead && !READ_ONCE(q->stopping))
		queue_work(q->c->blk_wq, &q->work);	/* yield, then go on */
	if (READ_ONCE(q->stopping) && !READ_ONCE(q->nsubmitted))
		wake_up(&q->idle);
}
