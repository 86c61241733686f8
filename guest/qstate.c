// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Publishing a queue's entry in the queue state table (struct
 * ddvm_queue_state), shared by block and net translation.  A reader never
 * sees READY next to parameters being rewritten: the entry says ABSENT
 * while the kind-specific fields change, and the new state comes last.
 * And a queue's counters in the header (struct ddvm_queue_stats).
 */
#include "chan.h"

struct ddvm_queue_state *ddvm_qstate_begin(struct ddvm_chan *c, u32 qidx)
{
	struct ddvm_queue_state *s =
		(struct ddvm_queue_state *)((u8 *)c->region + DDVM_QUEUE_STATE_OFF) + qidx;

	WRITE_ONCE(s->state, cpu_to_le32(DDVM_QS_ABSENT));
	smp_wmb();
	return s;
}

void ddvm_qstate_end(struct ddvm_chan *c, struct ddvm_queue_state *s, u32 state, u32 error,
		     const char *dev_name)
{
	bool ready = state == DDVM_QS_READY;
	unsigned int i;

	for (i = 0; i < sizeof(s->dev_name); i++)
		WRITE_ONCE(s->dev_name[i], ready ? dev_name[i] : 0);
	WRITE_ONCE(s->error, cpu_to_le32(error));
	smp_wmb();
	WRITE_ONCE(s->state, cpu_to_le32(state));
	ddvm_chan_ring(c, DDVM_HOST_VEC_STATE);
}

void ddvm_qstats_write(struct ddvm_chan *c, u32 qidx, const struct ddvm_qcount *n)
{
	struct ddvm_queue_stats *s;

	if (qidx >= DDVM_MAX_QUEUES)
		return;
	s = &c->hdr->qstats[qidx];
	WRITE_ONCE(s->rd_ops, cpu_to_le64(n->rd_ops));
	WRITE_ONCE(s->rd_bytes, cpu_to_le64(n->rd_bytes));
	WRITE_ONCE(s->wr_ops, cpu_to_le64(n->wr_ops));
	WRITE_ONCE(s->wr_bytes, cpu_to_le64(n->wr_bytes));
	WRITE_ONCE(s->other_ops, cpu_to_le64(n->other_ops));
	WRITE_ONCE(s->errors, cpu_to_le64(n->errors));
}
