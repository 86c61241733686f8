// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A ddvm block queue as a blk-mq disk, /dev/ddvmN, on libddvm's block
 * client (include/ddvm/blk_client.h).
 *
 * Each blk-mq request takes one libddvm slot, which owns one data chunk in
 * the region: write data is copied from the bio pages into the chunk before
 * submitting, read data out of it on completion.  The queue limits keep
 * every request within one chunk (max_hw_sectors = max_transfer), and the
 * tag set's depth is the queue's nslots.
 *
 * libddvm takes no locks: every call into it holds b->lock.  Its completion
 * callback (fb_done) runs inside ddvm_blkc_poll, under that lock, so it only
 * queues the request on b->done; fb_poll hands them to blk-mq after
 * unlocking, and fb_complete_rq copies the data and gives the slot back.
 * Doorbells to the driver VM are rung outside the lock too (defer_ring).
 *
 * ddvm_blkc_poll runs on the response doorbell's interrupt and, while
 * requests are out, on a timer: that is how deadlines expire and how a
 * driver-VM restart is noticed without a doorbell (by the generation in the
 * header).  libddvm then resubmits what the dead instance held to its
 * successor, so a restart reaches the file system as latency, not as an
 * I/O error.  Its counters are in /sys/block/ddvmN/ddvm/ (restarts,
 * resubmitted, timeouts, ...).
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "ddvm/blk_client.h"
#include "front.h"

#define FB_MINORS		16	/* partitions per disk */
#define FB_READY_POLL_MS	100	/* look for a READY queue this often */
#define FB_WAIT_LOG_S		30	/* while waiting, say so this often */
#define FB_NODEV_POLL_MS	1000	/* after ENODEV: look for a new driver VM */

/* Per blk-mq request. */
struct fb_cmd {
	struct list_head node;	/* on b->done, between libddvm and blk-mq */
	u32 slot;
	int result;		/* 0 or a negated errno (libddvm's codes are Linux's) */
};

struct front_blk {
	struct front_chan *ch;
	u32 qi;

	spinlock_t lock;		/* every call into libddvm; done; inflight */
	struct ddvm_blkc c;
	void *mem;			/* libddvm's slot table (ddvm_blkc_mem_bytes) */
	struct list_head done;		/* completed by libddvm, not yet by blk-mq */
	u32 inflight;			/* submitted, not completed */

	struct delayed_work ready_work;
	unsigned long wait_start, wait_logged;	/* jiffies; wait_logged 0: not yet */
	struct front_seen seen;		/* the driver VM as last logged */
	u32 nodev_gen;			/* +1: generation that answered ENODEV */

	struct timer_list timer;
	bool stopping;

	struct blk_mq_tag_set set;
	struct gendisk *disk;		/* once the queue was READY */
};

static int fb_major;

static unsigned long fb_poll_jiffies(void)
{
	return msecs_to_jiffies(ddvm_front_poll_ms);
}

static struct device *fb_dev(const struct front_blk *b)
{
	return &b->ch->pdev->dev;
}

/* Slot k's data chunk: ordinary write-back memory (memremap). */
static void *fb_buf(struct front_blk *b, u32 k)
{
	return (void *)(uintptr_t)ddvm_blkc_buf(&b->c, k);
}

/* --- completions ------------------------------------------------------------- */

/* libddvm's completion callback: under b->lock, from ddvm_blkc_poll. */
static void fb_done(void *arg, u32 slot, void *cookie, int result)
{
	struct front_blk *b = arg;
	struct fb_cmd *cmd = blk_mq_rq_to_pdu(cookie);

	cmd->slot = slot;
	cmd->result = result;
	list_add_tail(&cmd->node, &b->done);
	b->inflight--;
}

/*
 * Let libddvm do what is due (responses, restarts, deadlines), ring the
 * driver VM if it owes a doorbell, and hand what completed to blk-mq.
 * Any context.  True while the queue still needs watching: requests out,
 * or slots held (quarantined until the driver VM answers or dies).
 */
static bool fb_poll(struct front_blk *b)
{
	struct fb_cmd *cmd, *next;
	unsigned long flags;
	LIST_HEAD(done);
	bool kick, busy;

	spin_lock_irqsave(&b->lock, flags);
	ddvm_blkc_poll(&b->c);
	kick = ddvm_blkc_take_kick(&b->c);
	list_splice_init(&b->done, &done);
	busy = b->inflight || b->c.nfree != b->c.nslots;
	spin_unlock_irqrestore(&b->lock, flags);
	if (kick)
		ddvm_blkc_ring(&b->c);
	list_for_each_entry_safe(cmd, next, &done, node)
		blk_mq_complete_request(blk_mq_rq_from_pdu(cmd));
	return busy;
}

void front_blk_doorbell(struct front_blk *b)
{
	fb_poll(b);
}

static void fb_timer(struct timer_list *t)
{
	struct front_blk *b = from_timer(b, t, timer);

	if (fb_poll(b) && !READ_ONCE(b->stopping))
		timer_reduce(&b->timer, jiffies + fb_poll_jiffies());
}

/* blk-mq's completion: copy read data out of the chunk, give the slot back. */
static void fb_complete_rq(struct request *rq)
{
	struct front_blk *b = rq->q->queuedata;
	struct fb_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;

	if (cmd->result == 0 && req_op(rq) == REQ_OP_READ) {
		const char *src = fb_buf(b, cmd->slot);
		struct req_iterator it;
		struct bio_vec bv;

		rq_for_each_segment(bv, rq, it) {
			memcpy_to_bvec(&bv, src);
			src += bv.bv_len;
		}
	}
	spin_lock_irqsave(&b->lock, flags);
	ddvm_blkc_release(&b->c, cmd->slot);
	spin_unlock_irqrestore(&b->lock, flags);
	blk_mq_end_request(rq, errno_to_blk_status(cmd->result));
}

/* --- submission ---------------------------------------------------------------- */

static int fb_op(struct request *rq, u16 *op, u16 *flags)
{
	*flags = 0;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		*op = DDVM_OP_READ;
		return 0;
	case REQ_OP_WRITE:
		*op = DDVM_OP_WRITE;
		if (rq->cmd_flags & REQ_FUA)
			*flags = DDVM_F_FUA;
		return 0;
	case REQ_OP_FLUSH:
		*op = DDVM_OP_FLUSH;
		return 0;
	case REQ_OP_DISCARD:
		*op = DDVM_OP_DISCARD;
		return 0;
	case REQ_OP_WRITE_ZEROES:
		*op = DDVM_OP_WRITE_ZEROES;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static void fb_ring_if(struct front_blk *b, bool kick)
{
	if (kick)
		ddvm_blkc_ring(&b->c);
}

static blk_status_t fb_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	struct front_blk *b = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct fb_cmd *cmd = blk_mq_rq_to_pdu(rq);
	u64 off = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	u32 len = blk_rq_bytes(rq);
	unsigned long flags;
	u16 op, f;
	bool kick;
	int k, r;

	if (fb_op(rq, &op, &f) < 0)
		return BLK_STS_NOTSUPP;
	if ((op == DDVM_OP_READ || op == DDVM_OP_WRITE) && len > b->c.st.max_transfer) {
		/* Only if the block layer raised max_hw_sectors to a page (front_blk_limits). */
		dev_err_ratelimited(fb_dev(b), "%s: %u-byte request exceeds the driver VM's max transfer of %u bytes\n",
				    b->ch->name, len, b->c.st.max_transfer);
		return BLK_STS_IOERR;
	}
	spin_lock_irqsave(&b->lock, flags);
	k = ddvm_blkc_claim(&b->c);
	spin_unlock_irqrestore(&b->lock, flags);
	if (k < 0) {
		/*
		 * Every slot is out or quarantined: blk-mq retries when a
		 * request completes; the timer frees quarantined slots.
		 */
		timer_reduce(&b->timer, jiffies + fb_poll_jiffies());
		return BLK_STS_RESOURCE;
	}
	blk_mq_start_request(rq);
	cmd->slot = k;
	if (op == DDVM_OP_WRITE) {
		char *dst = fb_buf(b, k);
		struct req_iterator it;
		struct bio_vec bv;

		/* The slot's chunk is ours alone until its release: no lock needed. */
		rq_for_each_segment(bv, rq, it) {
			memcpy_from_bvec(dst, &bv);
			dst += bv.bv_len;
		}
	}
	spin_lock_irqsave(&b->lock, flags);
	r = ddvm_blkc_submit(&b->c, k, op, f, off, len, rq);
	if (r < 0)
		ddvm_blkc_release(&b->c, k);
	else
		b->inflight++;
	/* One doorbell per batch: blk-mq says which request is its last. */
	kick = bd->last && ddvm_blkc_take_kick(&b->c);
	spin_unlock_irqrestore(&b->lock, flags);
	fb_ring_if(b, kick);
	if (r < 0) {
		dev_err_ratelimited(fb_dev(b), "%s: cannot submit %s of %u bytes at %llu: %s\n",
				    b->ch->name, ddvm_op_str(op), len, off, ddvm_err_str(r));
		return BLK_STS_IOERR;
	}
	/* Deadlines and driver-VM restarts are seen even without a doorbell. */
	timer_reduce(&b->timer, jiffies + fb_poll_jiffies());
	return BLK_STS_OK;
}

/* blk-mq ended a batch without a last request: ring for what it queued. */
static void fb_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct front_blk *b = hctx->queue->queuedata;
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&b->lock, flags);
	kick = ddvm_blkc_take_kick(&b->c);
	spin_unlock_irqrestore(&b->lock, flags);
	fb_ring_if(b, kick);
}

/*
 * libddvm owns the deadlines (io_timeout; a request held across a driver-VM
 * restart is resubmitted, not failed): blk-mq's own timer only waits.
 */
static enum blk_eh_timer_return fb_timeout(struct request *rq)
{
	return BLK_EH_RESET_TIMER;
}

static const struct blk_mq_ops fb_mq_ops = {
	.queue_rq = fb_queue_rq,
	.commit_rqs = fb_commit_rqs,
	.complete = fb_complete_rq,
	.timeout = fb_timeout,
};

static const struct block_device_operations fb_fops = {
	.owner = THIS_MODULE,
};

/* --- counters: /sys/block/ddvmN/ddvm/ -------------------------------------------- */

static void fb_stats(struct device *dev, struct ddvm_blkc_stats *s)
{
	struct front_blk *b = dev_to_disk(dev)->private_data;
	unsigned long flags;

	spin_lock_irqsave(&b->lock, flags);
	ddvm_blkc_stats(&b->c, s);
	spin_unlock_irqrestore(&b->lock, flags);
}

#define FB_STAT(field)								\
static ssize_t fb_show_##field(struct device *dev, struct device_attribute *attr,	\
			       char *buf)					\
{										\
	struct ddvm_blkc_stats s;						\
										\
	fb_stats(dev, &s);							\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)s.field);		\
}										\
static struct device_attribute fb_attr_##field = __ATTR(field, 0444, fb_show_##field, NULL)

FB_STAT(generation);	/* the driver VM's, as last seen */
FB_STAT(in_flight);
FB_STAT(restarts);	/* driver-VM restarts noticed */
FB_STAT(resubmitted);	/* requests handed to a successor */
FB_STAT(poisoned);	/* requests that crashed two driver VMs: failed */
FB_STAT(timeouts);
FB_STAT(stale);		/* responses dropped: unknown id */
FB_STAT(bad);		/* responses that failed their request */
FB_STAT(broken);	/* 1: the rings are impossible until a new driver VM */

static struct attribute *fb_attrs[] = {
	&fb_attr_generation.attr, &fb_attr_in_flight.attr, &fb_attr_restarts.attr,
	&fb_attr_resubmitted.attr, &fb_attr_poisoned.attr, &fb_attr_timeouts.attr,
	&fb_attr_stale.attr, &fb_attr_bad.attr, &fb_attr_broken.attr, NULL,
};

static const struct attribute_group fb_attr_group = {
	.name = "ddvm",
	.attrs = fb_attrs,
};

static const struct attribute_group *fb_attr_groups[] = { &fb_attr_group, NULL };

/* --- the disk ------------------------------------------------------------------ */

/* The disk's limits, from the queue state the driver VM published (validated by libddvm). */
static void fb_limits(struct front_blk *b, struct request_queue *q)
{
	const struct ddvm_queue_state_info *st = &b->c.st;
	/* The slot's len is 32 bits: the largest discard / zeroing, whole blocks. */
	u64 big = min_t(u64, st->capacity, round_down(U32_MAX, st->logical_block_size));
	bool wc = st->features & DDVM_BLK_F_FLUSH;

	blk_queue_logical_block_size(q, st->logical_block_size);
	blk_queue_physical_block_size(q, st->physical_block_size);
	blk_queue_io_min(q, st->physical_block_size);
	/* A request fits one slot's chunk (libddvm checked chunk >= max_transfer). */
	blk_queue_max_hw_sectors(q, st->max_transfer >> SECTOR_SHIFT);
	/* Segments are copied into the chunk: their number must never split a request. */
	blk_queue_max_segments(q, clamp_t(u32, st->max_transfer >> SECTOR_SHIFT, 1, USHRT_MAX));
	blk_queue_write_cache(q, wc, wc && (st->features & DDVM_BLK_F_FUA));
	if (st->features & DDVM_BLK_F_DISCARD) {
		q->limits.discard_granularity = st->physical_block_size;
		blk_queue_max_discard_sectors(q, big >> SECTOR_SHIFT);
	}
	if (st->features & DDVM_BLK_F_WRITE_ZEROES)
		blk_queue_max_write_zeroes_sectors(q, big >> SECTOR_SHIFT);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_rq_timeout(q, (ddvm_front_io_timeout_s + 30) * HZ);
}

static int fb_add_disk(struct front_blk *b)
{
	const struct ddvm_queue_state_info *st = &b->c.st;
	struct gendisk *disk;
	int rc;

	b->set.ops = &fb_mq_ops;
	b->set.nr_hw_queues = 1;
	b->set.queue_depth = b->c.nslots;
	b->set.numa_node = NUMA_NO_NODE;
	b->set.cmd_size = sizeof(struct fb_cmd);
	b->set.flags = BLK_MQ_F_SHOULD_MERGE;
	b->set.driver_data = b;
	rc = blk_mq_alloc_tag_set(&b->set);
	if (rc)
		return rc;
	disk = blk_mq_alloc_disk(&b->set, b);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(&b->set);
		return PTR_ERR(disk);
	}
	fb_limits(b, disk->queue);
	disk->major = fb_major;
	disk->first_minor = b->ch->index * FB_MINORS;
	disk->minors = FB_MINORS;
	disk->fops = &fb_fops;
	disk->private_data = b;
	strscpy(disk->disk_name, b->ch->name, DISK_NAME_LEN);
	set_capacity(disk, st->capacity >> SECTOR_SHIFT);
	set_disk_ro(disk, st->features & DDVM_BLK_F_RO);
	rc = device_add_disk(fb_dev(b), disk, fb_attr_groups);
	if (rc) {
		put_disk(disk);		/* never added: this also exits the queue */
		blk_mq_free_tag_set(&b->set);
		return rc;
	}
	b->disk = disk;
	dev_info(fb_dev(b), "%s: %llu bytes, %u/%u, max transfer %u, %u slots%s%s%s%s%s (driver VM disk %s)\n",
		 b->ch->name, st->capacity, st->logical_block_size, st->physical_block_size,
		 st->max_transfer, b->c.nslots,
		 st->features & DDVM_BLK_F_RO ? ", read-only" : "",
		 st->features & DDVM_BLK_F_FLUSH ? ", flush" : "",
		 st->features & DDVM_BLK_F_FUA ? ", fua" : "",
		 st->features & DDVM_BLK_F_DISCARD ? ", discard" : "",
		 st->features & DDVM_BLK_F_WRITE_ZEROES ? ", write zeroes" : "",
		 st->dev_name[0] ? st->dev_name : "?");
	return 0;
}

/* --- waiting for the driver VM -------------------------------------------------- */

/* Still waiting: say so at first and every FB_WAIT_LOG_S seconds. */
static void fb_log_wait(struct front_blk *b, const struct ddvm_guest_view *g)
{
	if (b->wait_logged && !time_after(jiffies, b->wait_logged + FB_WAIT_LOG_S * HZ))
		return;
	dev_info(fb_dev(b), "%s: waiting for the driver VM to serve the disk (driver VM %s, generation %u, %u s so far)\n",
		 b->ch->name, ddvm_guest_state_str(g->state), g->generation,
		 jiffies_to_msecs(jiffies - b->wait_start) / 1000);
	b->wait_logged = jiffies ? jiffies : 1;
}

static void fb_ready_work(struct work_struct *w)
{
	struct front_blk *b = container_of(to_delayed_work(w), struct front_blk, ready_work);
	unsigned long next = msecs_to_jiffies(FB_READY_POLL_MS), flags;
	struct ddvm_guest_view g;
	int r = -DDVM_EAGAIN;

	if (READ_ONCE(b->stopping))
		return;
	if (front_guest_usable(b->ch, &b->seen, &g) && b->nodev_gen != b->seen.gen) {
		spin_lock_irqsave(&b->lock, flags);
		r = ddvm_blkc_ready(&b->c, b->mem, ddvm_blkc_mem_bytes(&b->c),
				    ddvm_front_io_timeout_s * 1000, get_random_u16(), fb_done, b);
		spin_unlock_irqrestore(&b->lock, flags);
	}
	if (r == -DDVM_EAGAIN) {
		fb_log_wait(b, &g);
	} else if (r == -DDVM_ENODEV) {
		/* Logged by libddvm; a restarted driver VM may find its disk. */
		b->nodev_gen = b->seen.gen;
		next = msecs_to_jiffies(FB_NODEV_POLL_MS);
	} else if (r == 0) {
		r = fb_add_disk(b);
		if (r)
			dev_err(fb_dev(b), "%s: cannot add the disk: %d\n", b->ch->name, r);
		return;
	} else {
		dev_err(fb_dev(b), "%s: cannot use the queue: %s; giving up\n", b->ch->name,
			ddvm_err_str(r));
		return;
	}
	queue_delayed_work(system_wq, &b->ready_work, next);
}

/* --- life cycle ------------------------------------------------------------------ */

struct front_blk *front_blk_create(struct front_chan *ch, u32 qi)
{
	struct front_blk *b;
	int r;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return ERR_PTR(-ENOMEM);
	b->ch = ch;
	b->qi = qi;
	spin_lock_init(&b->lock);
	INIT_LIST_HEAD(&b->done);
	INIT_DELAYED_WORK(&b->ready_work, fb_ready_work);
	timer_setup(&b->timer, fb_timer, 0);
	/* The layout validated at probe: never read back from shared memory. */
	r = ddvm_blkc_open_layout(&b->c, &ch->kt.t, &ch->lay, (int)qi, 0);
	if (r < 0) {
		kfree(b);
		return ERR_PTR(r);
	}
	b->c.defer_ring = 1;	/* doorbells after unlocking: fb_poll, fb_queue_rq */
	b->mem = kvzalloc(ddvm_blkc_mem_bytes(&b->c), GFP_KERNEL);
	if (!b->mem) {
		kfree(b);
		return ERR_PTR(-ENOMEM);
	}
	b->wait_start = jiffies;
	queue_delayed_work(system_wq, &b->ready_work, 0);
	return b;
}

void front_blk_stop(struct front_blk *b)
{
	WRITE_ONCE(b->stopping, true);
	cancel_delayed_work_sync(&b->ready_work);
	if (b->disk)
		del_gendisk(b->disk);	/* waits for requests out: doorbells and timer still on */
	del_timer_sync(&b->timer);
}

void front_blk_free(struct front_blk *b)
{
	if (b->disk) {
		blk_mq_free_tag_set(&b->set);
		put_disk(b->disk);
	}
	kvfree(b->mem);
	kfree(b);
}

int front_blk_register(void)
{
	fb_major = register_blkdev(0, "ddvm");
	return fb_major < 0 ? fb_major : 0;
}

void front_blk_unregister(void)
{
	unregister_blkdev(fb_major, "ddvm");
}
