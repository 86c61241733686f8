// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Control queues and the heartbeat.
 *
 * A control queue (DDVM_QK_CTRL) answers PING and refuses every other op
 * with DDVM_S_NOTSUPP.  It is served in process context, on its doorbell
 * and on every heartbeat tick (so a missed doorbell, or a channel without
 * MSI-X, only delays a request by one period).
 */
#include <linux/moduleparam.h>
#include <linux/sched.h>

#include "chan.h"

/*
 * Fault injection for tests of recovery: with ddvm_chan.fault_injection=1
 * on the driver VM's kernel command line, DDVM_OP_CRASH panics this kernel
 * (a driver crash, as far as the host can tell) and DDVM_OP_FAULT arms the
 * faults of chan_fault.c.  Off by default.
 */
static bool fault_injection;
module_param(fault_injection, bool, 0444);
MODULE_PARM_DESC(fault_injection, "honour DDVM_OP_CRASH and DDVM_OP_FAULT from the host, and "
		 "panic on a block-queue poison pill (tests only)");

/* For the translation modules' own fault injection (ddvm_blk's poison pill). */
bool ddvm_chan_fault_injection(void)
{
	return fault_injection;
}

#define CTRL_BATCH_MAX	1024	/* requests per work run before yielding */

int ddvm_ctrl_init(struct ddvm_chan *c)
{
	const struct ddvm_layout *l = &c->layout;
	unsigned int i;

	for (i = 0; i < l->nqueues; i++) {
		const struct ddvm_queue_info *qi = &l->q[i];
		struct ddvm_ctrlq *q = &c->ctrl[c->nctrl];

		if (qi->kind != DDVM_QK_CTRL)
			continue;
		/* The layout was validated, so binding cannot fail; check anyway. */
		if (ddvm_ring_bind(&q->req, c->region, l->region_size, qi->req_ring_off, qi->nslots) ||
		    ddvm_ring_bind(&q->resp, c->region, l->region_size, qi->resp_ring_off, qi->nslots)) {
			dev_err(&c->pdev->dev, "queue %u: cannot bind rings\n", i);
			return -EINVAL;
		}
		/* A restarted driver VM continues where the indices are. */
		ddvm_cons_resume(&q->req);
		ddvm_prod_resume(&q->resp);
		q->qidx = i;
		q->req_vector = qi->req_vector;
		q->resp_vector = qi->resp_vector;
		q->dead = false;
		c->nctrl++;
	}
	return 0;
}

/* Build the response to one request (req is our private copy). */
static void ctrl_handle(const struct ddvm_slot *req, struct ddvm_slot *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->op = req->op;
	switch (ddvm_le16_to_cpu(req->op)) {
	case DDVM_OP_PING:
		resp->arg0 = req->arg0;
		resp->status = ddvm_cpu_to_le32(DDVM_S_OK);
		break;
	case DDVM_OP_CRASH:	/* honoured in ctrl_serve, before this */
		resp->status = ddvm_cpu_to_le32(DDVM_S_NOTSUPP);
		break;
	default:
		resp->status = ddvm_cpu_to_le32(DDVM_S_NOTSUPP);
		break;
	}
}

static void ctrl_corrupt(struct ddvm_chan *c, struct ddvm_ctrlq *q, const char *ring)
{
	q->dead = true;
	dev_err_ratelimited(&c->pdev->dev,
			    "queue %u: %s ring index is impossible: no longer serving this queue\n",
			    q->qidx, ring);
}

/*
 * Serve one queue until its request ring is empty (and a doorbell has been
 * asked for), the response ring is full, or the batch is used up.
 * Returns true if it stopped with work left (caller requeues).
 */
static bool ctrl_serve(struct ddvm_chan *c, struct ddvm_ctrlq *q)
{
	struct ddvm_slot req, resp;
	unsigned int done = 0;
	int space, n, rc;
	bool wake;

	for (;;) {
		space = ddvm_prod_space(&q->resp);
		if (space == 0)
			space = ddvm_prod_want_space(&q->resp);
		if (space < 0) {
			ctrl_corrupt(c, q, "response");
			return false;
		}
		if (space == 0)
			return false;	/* retry on the next doorbell or tick */
		for (n = 0; n < space; n++) {
			rc = ddvm_cons_pop(&q->req, &req);
			if (rc == DDVM_RING_EEMPTY)
				break;
			if (rc < 0) {
				ctrl_corrupt(c, q, "request");
				return false;
			}
			if (fault_injection && ddvm_le16_to_cpu(req.op) == DDVM_OP_FAULT) {
				/*
				 * Answered and retired before it takes effect: a
				 * hang never returns, and an oops or poison pill
				 * must not find it again in a successor.
				 */
				ctrl_handle(&req, &resp);
				resp.status = ddvm_cpu_to_le32(DDVM_S_OK);
				if (ddvm_prod_push(&q->resp, &resp) < 0) {
					ctrl_corrupt(c, q, "response");
					return false;
				}
				ddvm_cons_publish(&q->req);
				ddvm_prod_publish(&q->resp);
				ddvm_chan_ring(c, q->resp_vector);
				ddvm_fault_arm(c, (u32)ddvm_le64_to_cpu(req.arg0),
					       ddvm_le64_to_cpu(req.offset));
				continue;
			}
			if (fault_injection && ddvm_le16_to_cpu(req.op) == DDVM_OP_CRASH) {
				/*
				 * Retire the request first: a restarted driver VM
				 * resumes from the shared consumer index and must not
				 * find the same crash waiting for it.
				 */
				ddvm_cons_publish(&q->req);
				ddvm_prod_publish(&q->resp);
				panic("ddvm_chan: crash injected by the host (DDVM_OP_CRASH)\n");
			}
			ctrl_handle(&req, &resp);
			if (ddvm_prod_push(&q->resp, &resp) < 0) {
				ctrl_corrupt(c, q, "response");
				return false;
			}
		}
		/* Both publishes must run; either may ask for the client's doorbell. */
		wake = ddvm_cons_publish(&q->req) > 0;
		wake |= ddvm_prod_publish(&q->resp) > 0;
		if (wake)
			ddvm_chan_ring(c, q->resp_vector);
		done += n;
		if (n == space) {
			if (done >= CTRL_BATCH_MAX)
				return true;
			continue;	/* the response ring filled: look again */
		}
		rc = ddvm_cons_want_data(&q->req);
		if (rc < 0) {
			ctrl_corrupt(c, q, "request");
			return false;
		}
		if (rc == 0)
			return false;
		if (done >= CTRL_BATCH_MAX)
			return true;
	}
}

void ddvm_ctrl_work(struct work_struct *w)
{
	struct ddvm_chan *c = container_of(w, struct ddvm_chan, ctrl_work);
	bool again = false;
	unsigned int i;

	for (i = 0; i < c->nctrl; i++) {
		if (READ_ONCE(c->stopping))
			return;
		if (!c->ctrl[i].dead)
			again |= ctrl_serve(c, &c->ctrl[i]);
	}
	if (again && !READ_ONCE(c->stopping))
		queue_work(system_wq, &c->ctrl_work);
}

void ddvm_hb_work(struct work_struct *w)
{
	struct ddvm_chan *c = container_of(to_delayed_work(w), struct ddvm_chan, hb_work);
	u64 beat;

	if (READ_ONCE(c->stopping))
		return;
	beat = le64_to_cpu(READ_ONCE(c->hdr->heartbeat)) + 1;
	WRITE_ONCE(c->hdr->heartbeat, cpu_to_le64(beat));
	ddvm_pci_table_update(c);
	queue_work(system_wq, &c->ctrl_work);
	ddvm_chan_kinds_kick(c, -1);	/* also finds disks and netdevs that appeared since */
	schedule_delayed_work(&c->hb_work, msecs_to_jiffies(c->hb_ms));
}
