// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Publishing a queue's entry in the queue state table (struct
 * ddvm_queue_state), shared by block and net translation.  A reader never
 * sees READY next to parameters being rewritten: the entry says ABSENT
 * while the kind-specific fields change, and the new state comes last.
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
