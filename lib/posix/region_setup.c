// SPDX-License-Identifier: MIT
/* Host side: lay out a fresh region.  See include/ddvm/proto.h. */
#include <errno.h>
#include <string.h>

#include "ddvm/posix/region_setup.h"
#include "ddvm/ring.h"

/* Saturating: a spec too large for 64 bits yields UINT64_MAX, never a wrap. */
static uint64_t align_up(uint64_t v, uint64_t a)
{
	return v > UINT64_MAX - (a - 1) ? UINT64_MAX : (v + a - 1) / a * a;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Assign offsets: header page, PCI table, then per queue rings and data. */
static uint64_t place(const struct ddvm_region_spec *spec, struct ddvm_layout *l)
{
	uint64_t off = DDVM_HDR_SIZE;
	uint32_t i;

	l->pci_table_off = off;
	l->pci_table_max = spec->pci_table_max;
	off = align_up(off + (uint64_t)spec->pci_table_max * sizeof(struct ddvm_pci_entry), 4096);
	l->nqueues = spec->nqueues;
	for (i = 0; i < spec->nqueues && i < DDVM_MAX_QUEUES; i++) {
		const struct ddvm_queue_spec *s = &spec->q[i];
		struct ddvm_queue_info *q = &l->q[i];
		uint64_t rb = align_up(ddvm_ring_bytes(s->nslots), DDVM_ALIGN);

		q->kind = s->kind;
		q->index = s->index;
		q->nslots = s->nslots;
		q->req_vector = s->req_vector;
		q->resp_vector = s->resp_vector;
		q->req_ring_off = off;
		q->resp_ring_off = add_sat(off, rb);
		off = align_up(add_sat(off, 2 * rb), 4096);
		q->data_off = off;
		q->data_size = s->data_size;
		off = align_up(add_sat(off, s->data_size), 4096);
	}
	return off;
}

uint64_t ddvm_region_bytes_needed(const struct ddvm_region_spec *spec)
{
	struct ddvm_layout l;

	memset(&l, 0, sizeof(l));
	return place(spec, &l);
}

int ddvm_region_setup(void *base, uint64_t size, const struct ddvm_region_spec *spec,
		      struct ddvm_layout *out)
{
	struct ddvm_region_hdr *h = base;
	struct ddvm_queue_desc *qt;
	struct ddvm_layout l;
	uint32_t i, ver;

	if (!base || !spec || spec->nqueues > DDVM_MAX_QUEUES || spec->pci_table_max > 4096)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	l.region_size = size;
	l.host_peer_id = spec->host_peer_id;
	l.heartbeat_period_ms = spec->heartbeat_period_ms;
	if (place(spec, &l) > size)
		return -ENOSPC;
	if (ddvm_layout_validate(&l) != DDVM_LAYOUT_OK)
		return -EINVAL;

	memset(base, 0, size);
	ver = spec->version_override ? spec->version_override
				     : (uint32_t)DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR;
	h->magic = ddvm_cpu_to_le32(DDVM_MAGIC);
	h->version_major = ddvm_cpu_to_le16(ver >> 16);
	h->version_minor = ddvm_cpu_to_le16(ver & 0xffff);
	h->region_size = ddvm_cpu_to_le64(size);
	h->hdr_size = ddvm_cpu_to_le32(DDVM_HDR_SIZE);
	h->host_peer_id = ddvm_cpu_to_le16(l.host_peer_id);
	h->nqueues = ddvm_cpu_to_le16(l.nqueues);
	h->queue_table_off = ddvm_cpu_to_le64(DDVM_QUEUE_TABLE_OFF);
	h->pci_table_off = ddvm_cpu_to_le64(l.pci_table_off);
	h->pci_table_max = ddvm_cpu_to_le32(l.pci_table_max);
	h->heartbeat_period_ms = ddvm_cpu_to_le32(l.heartbeat_period_ms);
	qt = (struct ddvm_queue_desc *)((uint8_t *)base + DDVM_QUEUE_TABLE_OFF);
	for (i = 0; i < l.nqueues; i++) {
		const struct ddvm_queue_info *q = &l.q[i];

		qt[i].kind = ddvm_cpu_to_le16(q->kind);
		qt[i].index = ddvm_cpu_to_le16(q->index);
		qt[i].nslots = ddvm_cpu_to_le32(q->nslots);
		qt[i].req_ring_off = ddvm_cpu_to_le64(q->req_ring_off);
		qt[i].resp_ring_off = ddvm_cpu_to_le64(q->resp_ring_off);
		qt[i].data_off = ddvm_cpu_to_le64(q->data_off);
		qt[i].data_size = ddvm_cpu_to_le64(q->data_size);
		qt[i].req_vector = ddvm_cpu_to_le16(q->req_vector);
		qt[i].resp_vector = ddvm_cpu_to_le16(q->resp_vector);
	}
	for (i = 0; i < l.nqueues; i++) {
		struct ddvm_queue_target *t = (struct ddvm_queue_target *)((uint8_t *)base +
							DDVM_QUEUE_TARGET_OFF) + i;

		memcpy(t->target, spec->q[i].target, sizeof(t->target));
		t->target[sizeof(t->target) - 1] = '\0';
	}
	/* Rings start zeroed by the memset above.  Publish last. */
	__atomic_store_n(&h->host_state, ddvm_cpu_to_le32(DDVM_HOST_SERVING), __ATOMIC_RELEASE);
	*out = l;
	return 0;
}
