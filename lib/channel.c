// SPDX-License-Identifier: MIT
/* Opening a client: the layout and the queue.  See include/ddvm/channel.h.  Freestanding. */
#include "ddvm/channel.h"

static const char *kind_str(uint16_t kind)
{
	switch (kind) {
	case DDVM_QK_CTRL: return "control";
	case DDVM_QK_BLOCK: return "block";
	case DDVM_QK_NET: return "network";
	default: return "unknown";
	}
}

int ddvm_channel_queue(struct ddvm_transport *t, const struct ddvm_layout *given, uint16_t kind,
		       int queue, int nth, struct ddvm_layout *out)
{
	uint32_t refusal, detail, i;
	int n = 0;

	if (given) {
		detail = ddvm_layout_validate(given);
		if (detail != DDVM_LAYOUT_OK || given->region_size > t->size) {
			ddvm_logf(t, DDVM_LOG_ERR, "the layout given does not fit the region: %s",
				  detail != DDVM_LAYOUT_OK ? ddvm_layout_str(detail)
							   : "larger than the mapping");
			return -DDVM_EINVAL;
		}
		*out = *given;
	} else {
		refusal = ddvm_region_check(t->base, t->size, out, &detail);
		if (refusal != DDVM_REFUSE_NONE) {
			ddvm_logf(t, DDVM_LOG_ERR, "the region is not usable: %s (%s)",
				  ddvm_refusal_str(refusal),
				  refusal == DDVM_REFUSE_LAYOUT ? ddvm_layout_str(detail)
								: "see detail");
			return -DDVM_EPROTO;
		}
	}
	if (queue >= 0) {
		if ((uint32_t)queue < out->nqueues && out->q[queue].kind == kind)
			return queue;
		ddvm_logf(t, DDVM_LOG_ERR, "queue %d is not a %s queue (%u queues)", queue,
			  kind_str(kind), out->nqueues);
		return -DDVM_ENOENT;
	}
	for (i = 0; i < out->nqueues; i++)
		if (out->q[i].kind == kind && n++ == nth)
			return (int)i;
	ddvm_logf(t, DDVM_LOG_ERR, "the channel has no %s queue number %d (%u queues)",
		  kind_str(kind), nth, out->nqueues);
	return -DDVM_ENOENT;
}
