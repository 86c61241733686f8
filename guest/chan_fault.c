// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Fault injection for tests of recovery (`ddvm inject`), honoured only
 * with ddvm_chan.fault_injection=1 on the driver VM's kernel command line
 * (a VM's `fault_injection = true`).  The host arms a fault with the CTRL
 * op DDVM_OP_FAULT (chan_ctrl.c retires the request, answers it, then calls
 * ddvm_fault_arm); the block translation asks ddvm_fault_blk_request about
 * each request it is about to start (blk_io.c):
 *
 *   HANG    the kernel stops dead: interrupts off on its only CPU, spinning
 *           -- no heartbeat, no queue served, no panic (the host's
 *           heartbeat watchdog has to notice)
 *   OOPS    the next block request dereferences NULL in the I/O path, with
 *           whatever else is in flight (the driver VM boots with oops=panic:
 *           an oops ends it, as it would a driver VM in production)
 *   POISON  the next WRITE becomes a poison pill: its data starts with 64
 *           bytes of 0xde, which panics this driver VM and each successor
 *           that starts it (blk_io.c) until the client fails it with EIO
 *   IOERR   every block request fails with IOERR, as a failing disk's do,
 *           for `arg` milliseconds
 *
 * A panic is DDVM_OP_CRASH (chan_ctrl.c).  Everything here is in this
 * instance's memory only: a successor starts clean.
 */
#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/processor.h>

#include "chan.h"

#define POISON_BYTE	0xde	/* blk_io.c's DDVM_POISON_BYTE / _LEN */
#define POISON_LEN	64
#define IOERR_MAX_MS	600000

static atomic_t oops_armed = ATOMIC_INIT(0), poison_armed = ATOMIC_INIT(0);
static atomic_t ioerr_on = ATOMIC_INIT(0);
static unsigned long ioerr_until;
static u32 *volatile fault_null;	/* the oops: a store through it */

void ddvm_fault_arm(struct ddvm_chan *c, u32 fault, u64 arg)
{
	struct device *dev = &c->pdev->dev;
	u64 ms;

	switch (fault) {
	case DDVM_FAULT_HANG:
		dev_emerg(dev, "fault injection: hanging (interrupts off, spinning)\n");
		local_irq_disable();
		for (;;)
			cpu_relax();
	case DDVM_FAULT_OOPS:
		dev_warn(dev, "fault injection: the next block request oopses\n");
		atomic_set(&oops_armed, 1);
		break;
	case DDVM_FAULT_POISON:
		dev_warn(dev, "fault injection: the next block write is a poison pill\n");
		atomic_set(&poison_armed, 1);
		break;
	case DDVM_FAULT_IOERR:
		ms = clamp_t(u64, arg, 1, IOERR_MAX_MS);
		dev_warn(dev, "fault injection: block requests fail with IOERR for %llu ms\n", ms);
		WRITE_ONCE(ioerr_until, jiffies + msecs_to_jiffies((unsigned int)ms));
		atomic_set(&ioerr_on, 1);
		break;
	default:
		dev_warn(dev, "fault injection: unknown fault %u ignored\n", fault);
		break;
	}
}

u32 ddvm_fault_blk_request(void *region, const struct ddvm_slot *s)
{
	u16 op = le16_to_cpu(s->op);

	if (!ddvm_chan_fault_injection())
		return DDVM_S_OK;
	if (atomic_read(&oops_armed) && atomic_xchg(&oops_armed, 0)) {
		pr_emerg("ddvm_blk: fault injection: oops in the I/O path (op %u)\n", op);
		*fault_null = op;	/* BUG: kernel NULL pointer dereference */
	}
	/* buf_off and len were checked against the region (blkq_check) */
	if (op == DDVM_OP_WRITE && le32_to_cpu(s->len) >= POISON_LEN &&
	    atomic_read(&poison_armed) && atomic_xchg(&poison_armed, 0)) {
		pr_warn("ddvm_blk: fault injection: write of %u bytes at %llu made a poison pill\n",
			le32_to_cpu(s->len), le64_to_cpu(s->offset));
		memset((u8 *)region + le64_to_cpu(s->buf_off), POISON_BYTE, POISON_LEN);
	}
	if (atomic_read(&ioerr_on)) {
		if (time_before(jiffies, READ_ONCE(ioerr_until)))
			return DDVM_S_IOERR;
		atomic_set(&ioerr_on, 0);
		pr_warn("ddvm_blk: fault injection: I/O errors over\n");
	}
	return DDVM_S_OK;
}
EXPORT_SYMBOL_GPL(ddvm_fault_blk_request);
