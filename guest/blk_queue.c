// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Block translation: the life of a block queue.
 *
 * On probe each DDVM_QK_BLOCK queue gets its rings bound (resuming from the
 * shared indices, so a restarted driver VM continues where the dead one
 * stopped) and its state entry reset to ABSENT.  Its work then looks for
 * the target disk on every run (doorbell or heartbeat tick) until it is
 * found and opened: disks appear asynchronously (nvme namespace scan, SCSI
 * scan).  Then the queue state says READY with the disk's parameters, and
 * blk_io.c serves the ring.  On remove/shutdown no new request is taken,
 * in-flight bios are waited for and answered, and the disk is released.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "blk.h"

/*
 * Publish the queue's state.  A reader never sees READY next to parameters
 * being rewritten: the state goes to ABSENT first and READY last.
 */
void ddvm_blkq_set_state(struct ddvm_blkq *q, u32 state, u32 error)
{
	bool ready = state == DDVM_QS_READY;
	struct ddvm_queue_state *s;

	if (q->state == state && q->error == error)
		return;
	s = ddvm_qstate_begin(q->c, q->qidx);
	WRITE_ONCE(s->capacity, cpu_to_le64(ready ? q->capacity : 0));
	WRITE_ONCE(s->logical_block_size, cpu_to_le32(ready ? q->lbs : 0));
	WRITE_ONCE(s->physical_block_size, cpu_to_le32(ready ? q->pbs : 0));
	WRITE_ONCE(s->max_transfer, cpu_to_le32(ready ? q->max_transfer : 0));
	WRITE_ONCE(s->features, cpu_to_le32(ready ? q->features : 0));
	WRITE_ONCE(s->flags, cpu_to_le32(ready && q->c->region_pages ? DDVM_QF_ZERO_COPY : 0));
	ddvm_qstate_end(q->c, s, state, error, q->dev_name);
	q->state = state;
	q->error = error;
}

static void blkq_free_reqs(struct ddvm_blkq *q)
{
	unsigned int i, j;

	if (!q->reqs)
		return;
	for (i = 0; i < q->nreq; i++) {
		for (j = 0; q->reqs[i].pages && j < q->req_pages; j++)
			if (q->reqs[i].pages[j])
				__free_page(q->reqs[i].pages[j]);
		kvfree(q->reqs[i].pages);
	}
	kvfree(q->reqs);
	q->reqs = NULL;
	q->nreq = 0;
	INIT_LIST_HEAD(&q->free);
	INIT_LIST_HEAD(&q->recycled);
}

/*
 * Request contexts, each with the bounce pages for one max_transfer (with
 * zero copy only the array: blk_io.c allocates pages if a request needs them).
 */
static int blkq_alloc_reqs(struct ddvm_blkq *q, unsigned int nreq)
{
	unsigned int i, j;

	q->reqs = kvcalloc(nreq, sizeof(*q->reqs), GFP_KERNEL);
	if (!q->reqs)
		return -ENOMEM;
	q->nreq = nreq;
	q->req_pages = DIV_ROUND_UP(q->max_transfer, PAGE_SIZE);
	for (i = 0; i < nreq; i++) {
		struct ddvm_blk_req *r = &q->reqs[i];

		r->q = q;
		r->pages = kvcalloc(q->req_pages, sizeof(*r->pages), GFP_KERNEL);
		if (!r->pages)
			goto err;
		for (j = 0; !q->c->region_pages && j < q->req_pages; j++) {
			r->pages[j] = alloc_page(GFP_KERNEL);
			if (!r->pages[j])
				goto err;
		}
		list_add_tail(&r->node, &q->free);
	}
	return 0;
err:
	blkq_free_reqs(q);
	return -ENOMEM;
}

static void blkq_release(struct ddvm_blkq *q)
{
	blkq_free_reqs(q);
	INIT_LIST_HEAD(&q->answers);
	if (q->bdev)
		blkdev_put(q->bdev, q->mode);
	q->bdev = NULL;
}

/*
 * Every queue opens its disk exclusively with this one holder: so no one
 * else in the driver VM writes it, while the slices of one disk (each a
 * queue of its own, for another client) can all be open.  The supervisor
 * checks that no two writers' slices overlap.
 */
static char ddvm_blk_holder;

/* Open devt exclusively and size everything from its limits; t's slice, if any. */
static int blkq_open(struct ddvm_blkq *q, dev_t devt, const struct ddvm_target *t)
{
	struct block_device *bdev;
	char name[BDEVNAME_SIZE];
	unsigned int nreq;
	u64 mt;
	int rc;

	q->mode = FMODE_READ | FMODE_WRITE | FMODE_EXCL;
	bdev = blkdev_get_by_dev(devt, q->mode, &ddvm_blk_holder);
	if (IS_ERR(bdev) && (PTR_ERR(bdev) == -EROFS || PTR_ERR(bdev) == -EACCES)) {
		q->mode = FMODE_READ | FMODE_EXCL;
		bdev = blkdev_get_by_dev(devt, q->mode, &ddvm_blk_holder);
	}
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	q->bdev = bdev;
	q->lbs = bdev_logical_block_size(bdev);
	q->pbs = max(bdev_physical_block_size(bdev), q->lbs);
	q->capacity = (u64)bdev_nr_bytes(bdev) & ~(u64)(q->lbs - 1);
	q->base = 0;
	if (t->len) {		/* a slice: block-aligned and inside the disk */
		if (t->off % q->lbs || t->len % q->lbs || t->off > q->capacity ||
		    t->len > q->capacity - t->off) {
			rc = -ERANGE;
			goto err;
		}
		q->base = (sector_t)(t->off >> SECTOR_SHIFT);
		q->capacity = t->len;
	}

	nreq = min(q->nslots, DDVM_BLK_MAX_INFLIGHT);
	mt = (u64)queue_max_hw_sectors(bdev_get_queue(bdev)) << SECTOR_SHIFT;
	mt = min_t(u64, mt, q->chunk);
	mt = min_t(u64, mt, DDVM_BLK_MAX_XFER);
	/* Bounce pages: DDVM_BLK_PAGE_BUDGET per channel, shared by its block queues. */
	if (!q->c->region_pages)
		mt = min_t(u64, mt, (DDVM_BLK_PAGE_BUDGET / max(q->c->nblk, 1u) / nreq) & PAGE_MASK);
	mt &= ~(u64)(q->lbs - 1);
	if (mt < q->lbs) {
		rc = -ENOBUFS;
		goto err;
	}
	q->max_transfer = (u32)mt;

	q->features = DDVM_BLK_F_WRITE_ZEROES;	/* the block layer falls back to writing zeroes */
	if (!(q->mode & FMODE_WRITE) || bdev_read_only(bdev))
		q->features = DDVM_BLK_F_RO;
	if (bdev_write_cache(bdev))
		q->features |= DDVM_BLK_F_FLUSH;
	if (bdev_fua(bdev))
		q->features |= DDVM_BLK_F_FUA;
	if (bdev_max_discard_sectors(bdev) && !(q->features & DDVM_BLK_F_RO))
		q->features |= DDVM_BLK_F_DISCARD;
	/* ZEROES_READ never: Linux 6.1 cannot tell whether discarded blocks read back as 0. */

	snprintf(name, sizeof(name), "%pg", bdev);
	memset(q->dev_name, 0, sizeof(q->dev_name));
	memcpy(q->dev_name, name, strnlen(name, sizeof(q->dev_name)));

	rc = blkq_alloc_reqs(q, nreq);
	if (rc)
		goto err;
	return 0;
err:
	blkq_release(q);
	return rc;
}

/*
 * One attempt to find and open the queue's disk (from the queue's work).
 * Leaves q->bdev set and the state READY on success.
 */
void ddvm_blkq_attach(struct ddvm_blkq *q)
{
	struct device *dev = &q->c->pdev->dev;
	struct ddvm_target t;
	char target[65];
	dev_t devt;
	int rc;

	if (!q->chunk) {
		if (q->state != DDVM_QS_ERROR)
			dev_err(dev, "block queue %u: data area of %llu bytes is too small for %u slots\n",
				q->qidx, q->data_size, q->nslots);
		ddvm_blkq_set_state(q, DDVM_QS_ERROR, DDVM_QE_BUFFERS);
		return;
	}
	ddvm_queue_target_read(q->c->region, q->qidx, target);
	if (ddvm_target_parse(target, &t)) {
		if (!q->target_logged)
			dev_err(dev, "block queue %u: malformed target '%s' (want \"pci=DDDD:BB:DD.F[ n=N][ off=B len=B]\")\n",
				q->qidx, target);
		q->target_logged = true;
		ddvm_blkq_set_state(q, DDVM_QS_ERROR, DDVM_QE_TARGET);
		return;
	}
	q->target_logged = false;
	if (ddvm_blk_target_find(&t, &devt)) {
		if (!time_after(jiffies, q->t_start + DDVM_BLK_NODEV_SECS * HZ)) {
			ddvm_blkq_set_state(q, DDVM_QS_ABSENT, DDVM_QE_NONE);
			return;
		}
		if (!q->nodev_logged)
			dev_err(dev, "block queue %u: no disk for target '%s' after %u s (still looking)\n",
				q->qidx, target, DDVM_BLK_NODEV_SECS);
		q->nodev_logged = true;
		ddvm_blkq_set_state(q, DDVM_QS_ERROR, DDVM_QE_NODEV);
		return;
	}
	rc = blkq_open(q, devt, &t);
	if (rc) {
		if (!q->open_logged)
			dev_err(dev, "block queue %u: cannot open disk %u:%u for target '%s': %d (will retry)\n",
				q->qidx, MAJOR(devt), MINOR(devt), target, rc);
		q->open_logged = true;
		ddvm_blkq_set_state(q, DDVM_QS_ERROR,
				    rc == -ENOBUFS || rc == -ENOMEM ? DDVM_QE_BUFFERS :
				    rc == -ERANGE ? DDVM_QE_TARGET : DDVM_QE_OPEN);
		return;
	}
	ddvm_blkq_set_state(q, DDVM_QS_READY, DDVM_QE_NONE);
	dev_info(dev, "block queue %u: serving %s (%llu bytes from byte %llu, block %u/%u, max transfer %u, features %#x, depth %u)\n",
		 q->qidx, q->dev_name, q->capacity, (u64)q->base << SECTOR_SHIFT, q->lbs, q->pbs,
		 q->max_transfer, q->features, q->nreq);
}

static int blkq_init(struct ddvm_chan *c, unsigned int i, struct ddvm_blkq **out)
{
	const struct ddvm_queue_info *qi = &c->layout.q[i];
	struct ddvm_blkq *q;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	if (ddvm_ring_bind(&q->req, c->region, c->layout.region_size, qi->req_ring_off, qi->nslots) ||
	    ddvm_ring_bind(&q->resp, c->region, c->layout.region_size, qi->resp_ring_off, qi->nslots)) {
		dev_err(&c->pdev->dev, "block queue %u: cannot bind rings\n", i);
		kfree(q);
		return -EINVAL;
	}
	/*
	 * A restarted driver VM continues where the indices are; indices a
	 * broken instance left impossible become an empty ring (the client
	 * failed what was in flight then), so the client is served again.
	 */
	if (ddvm_cons_attach(&q->req, le32_to_cpu(READ_ONCE(c->hdr->generation))) |
	    ddvm_prod_attach(&q->resp))
		dev_warn(&c->pdev->dev, "block queue %u: a previous instance left impossible ring indices; starting from an empty ring\n",
			 i);
	ddvm_qstats_write(c, i, &q->count);	/* 0: this instance's counters */
	q->c = c;
	q->qidx = i;
	q->req_vector = qi->req_vector;
	q->resp_vector = qi->resp_vector;
	q->nslots = qi->nslots;
	q->data_off = qi->data_off;
	q->data_size = qi->data_size;
	q->chunk = ddvm_blk_chunk(qi->data_size, qi->nslots);
	INIT_WORK(&q->work, ddvm_blkq_work);
	INIT_LIST_HEAD(&q->free);
	INIT_LIST_HEAD(&q->answers);
	INIT_LIST_HEAD(&q->done);
	INIT_LIST_HEAD(&q->recycled);
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->idle);
	q->t_start = jiffies;
	/* Whatever a previous instance published is stale. */
	q->state = U32_MAX;
	ddvm_blkq_set_state(q, DDVM_QS_ABSENT, DDVM_QE_NONE);
	*out = q;
	return 0;
}

int ddvm_blk_init(struct ddvm_chan *c)
{
	unsigned int i;
	int rc;

	for (i = 0; i < c->layout.nqueues; i++) {
		if (c->layout.q[i].kind != DDVM_QK_BLOCK)
			continue;
		if (!c->blk_wq) {
			c->blk_wq = alloc_workqueue("ddvm_blk", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
			if (!c->blk_wq)
				return -ENOMEM;
		}
		rc = blkq_init(c, i, &c->blk[c->nblk]);
		if (rc)
			return rc;
		c->nblk++;
	}
	return 0;
}

void ddvm_blk_kick(struct ddvm_chan *c, int vector)
{
	unsigned int i;

	for (i = 0; i < c->nblk; i++) {
		struct ddvm_blkq *q = c->blk[i];

		if ((vector < 0 || vector == q->req_vector) && !READ_ONCE(q->stopping))
			queue_work(c->blk_wq, &q->work);
	}
}

/*
 * Stop serving: take no new request, wait for every submitted bio and
 * answer it, then release the disks.  Doorbells and the heartbeat are
 * already off.  Idempotent (shutdown, then maybe remove).
 */
void ddvm_blk_stop(struct ddvm_chan *c)
{
	unsigned int i;

	if (!c->blk_wq)
		return;
	for (i = 0; i < c->nblk; i++)
		WRITE_ONCE(c->blk[i]->stopping, true);
	flush_workqueue(c->blk_wq);	/* no run after this one pops a request */
	for (i = 0; i < c->nblk; i++) {
		struct ddvm_blkq *q = c->blk[i];

		/* The last completion (bi_end_io or the work reaping it) wakes us at zero. */
		while (!wait_event_timeout(q->idle, READ_ONCE(q->nsubmitted) == 0, 30 * HZ))
			dev_warn(&c->pdev->dev, "block queue %u: still waiting for %u request(s) on %s\n",
				 q->qidx, READ_ONCE(q->nsubmitted), q->dev_name);
		/* bi_end_io touches q only under the lock: wait until it is out. */
		spin_lock_irq(&q->lock);
		spin_unlock_irq(&q->lock);
	}
	flush_workqueue(c->blk_wq);
	destroy_workqueue(c->blk_wq);
	c->blk_wq = NULL;
	for (i = 0; i < c->nblk; i++) {
		ddvm_blkq_set_state(c->blk[i], DDVM_QS_ABSENT, DDVM_QE_NONE);
		blkq_release(c->blk[i]);
	}
}

void ddvm_blk_free(struct ddvm_chan *c)
{
	unsigned int i;

	ddvm_blk_stop(c);
	for (i = 0; i < c->nblk; i++) {
		kfree(c->blk[i]);
		c->blk[i] = NULL;
	}
	c->nblk = 0;
}
