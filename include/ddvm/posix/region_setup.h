/* SPDX-License-Identifier: MIT */
/* Host side: lay out a fresh region (header, queue table, rings, buffers). */
#ifndef DDVM_HOST_REGION_SETUP_H
#define DDVM_HOST_REGION_SETUP_H

#include <stddef.h>
#include "ddvm/region.h"
#include "ddvm/transport.h"	/* ddvm_refusal_str and the other code-to-text tables */

struct ddvm_queue_spec {
	uint16_t kind;		/* DDVM_QK_* */
	uint16_t index;		/* which disk / NIC of that kind */
	uint32_t nslots;	/* power of two */
	uint64_t data_size;	/* bytes of buffers for this queue */
	uint16_t req_vector, resp_vector;
	char target[64];	/* struct ddvm_queue_target, "" if none */
};

struct ddvm_region_spec {
	uint16_t host_peer_id;
	uint32_t heartbeat_period_ms;
	uint32_t pci_table_max;
	uint32_t nqueues;
	struct ddvm_queue_spec q[DDVM_MAX_QUEUES];
	/* Test hook: publish this protocol version instead of ours (0 = ours). */
	uint32_t version_override;
};

/*
 * Zero the region and write a layout for spec.  The host state becomes
 * SERVING last, so a driver VM never sees a half-written header.
 * Returns 0, or -EINVAL / -ENOSPC (queues do not fit) with *out untouched.
 */
int ddvm_region_setup(void *base, uint64_t size, const struct ddvm_region_spec *spec,
		      struct ddvm_layout *out);

/*
 * Before each driver-VM start: write every host-owned field again (header,
 * queue table, targets) exactly as ddvm_region_setup did, leaving the
 * driver VM's fields, the rings and the buffers alone, so that whatever a
 * peer scribbled over the host's part cannot outlive the next start.
 * Returns 0 or -EINVAL / -ENOSPC.
 */
int ddvm_region_restore(void *base, uint64_t size, const struct ddvm_region_spec *spec,
			struct ddvm_layout *out);

/* Bytes needed by spec (round a region size up to this). */
uint64_t ddvm_region_bytes_needed(const struct ddvm_region_spec *spec);


#endif
