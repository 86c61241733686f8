/* SPDX-License-Identifier: MIT */
/*
 * What every libddvm client does first when it opens: take the channel's
 * layout and find the queue it serves.  Freestanding.
 */
#ifndef DDVM_CHANNEL_H
#define DDVM_CHANNEL_H

#include "region.h"
#include "transport.h"

/*
 * The layout, into *out: the one given (the supervisor's, which wrote the
 * region: never read back from shared memory a driver VM can write;
 * validated and checked against the mapping), else the region's own,
 * checked as a driver VM checks it (ddvm_region_check).  Then the queue:
 * queue >= 0 that index, else the nth queue of that kind.  Returns its
 * index, or a negated DDVM_E* code (logged, e.g. "queue 0 is not a network
 * queue (2 queues)").
 */
int ddvm_channel_queue(struct ddvm_transport *t, const struct ddvm_layout *given, uint16_t kind,
		       int queue, int nth, struct ddvm_layout *out);

#endif /* DDVM_CHANNEL_H */
