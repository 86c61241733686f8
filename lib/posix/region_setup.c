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

/* Compute and check the layout spec gives in size bytes.  0 or -errno. */
static int plan(uint64_t size, const struct ddvm_region_spec *spec, struct ddvm_layout *l)
{
	if (!spec || spec->nqueues > DDVM_MAX_QUEUES || spec->pci_table_max > 4096)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->region_size = size;
	l->host_peer_id = spec->host_peer_id;
	l->heartbeat_period_ms = spec->heartbeat_period_ms;
	if (place(spec, l) > size)
		return -ENOSPC;
	if (ddvm_layout_validate(l) != DDVM_LAYOUT_OK)
		return -EINVAL;
	return 0;
}

/*
 * Write every host-owned field: the header's (H), the queue table and the
 * queue targets.  host_state goes SERVING last (release), so a driver VM
 * never sees a half-written layout.  Driver-VM fields, rings and buffers
 * are not touched.
 */
static void write_host_fields(volatile void *base, const struct ddvm_region_spec *spec,
			      const struct ddvm_layout *l)
{
	volatile struct ddvm_region_hdr *h = base;
	volatile struct ddvm_queue_desc *qt;
	uint32_t i, k, ver;

	ver = spec->version_override ? spec->version_override
				     : (uint32_t)DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR;
	__atomic_store_n(&h->host_state, ddvm_cpu_to_le32(DDVM_HOST_INIT), __ATOMIC_RELEASE);
	h->magic = ddvm_cpu_to_le32(DDVM_MAGIC);
	h->version_major = ddvm_cpu_to_le16(ver >> 16);
	h->version_minor = ddvm_cpu_to_le16(ver & 0xffff);
	h->region_size = ddvm_cpu_to_le64(l->region_size);
	h->hdr_size = ddvm_cpu_to_le32(DDVM_HDR_SIZE);
	h->host_peer_id = ddvm_cpu_to_le16(l->host_peer_id);
	h->nqueues = ddvm_cpu_to_le16(l->nqueues);
	h->queue_table_off = ddvm_cpu_to_le64(DDVM_QUEUE_TABLE_OFF);
	h->pci_table_off = ddvm_cpu_to_le64(l->pci_table_off);
	h->pci_table_max = ddvm_cpu_to_le32(l->pci_table_max);
	h->heartbeat_period_ms = ddvm_cpu_to_le32(l->heartbeat_period_ms);
	h->host_flags = 0;
	h->host_reserved0 = 0;
	qt = (volatile struct ddvm_queue_desc *)((volatile uint8_t *)base + DDVM_QUEUE_TABLE_OFF);
	for (i = 0; i < DDVM_MAX_QUEUES; i++) {
		struct ddvm_queue_desc d;
		const struct ddvm_queue_info *q = &l->q[i];

		memset(&d, 0, sizeof(d));
		if (i < l->nqueues) {
			d.kind = ddvm_cpu_to_le16(q->kind);
			d.index = ddvm_cpu_to_le16(q->index);
			d.nslots = ddvm_cpu_to_le32(q->nslots);
			d.req_ring_off = ddvm_cpu_to_le64(q->req_ring_off);
			d.resp_ring_off = ddvm_cpu_to_le64(q->resp_ring_off);
			d.data_off = ddvm_cpu_to_le64(q->data_off);
			d.data_size = ddvm_cpu_to_le64(q->data_size);
			d.req_vector = ddvm_cpu_to_le16(q->req_vector);
			d.resp_vector = ddvm_cpu_to_le16(q->resp_vector);
		}
		qt[i] = d;
	}
	for (i = 0; i < DDVM_MAX_QUEUES; i++) {
		volatile struct ddvm_queue_target *t = (volatile struct ddvm_queue_target *)
			((volatile uint8_t *)base + DDVM_QUEUE_TARGET_OFF) + i;

		for (k = 0; k < sizeof(t->target); k++)
			t->target[k] = i < l->nqueues && k + 1 < sizeof(t->target) ?
				       spec->q[i].target[k] : '\0';
	}
	__atomic_store_n(&h->host_state, ddvm_cpu_to_le32(DDVM_HOST_SERVING), __ATOMIC_RELEASE);
}

/* Lay out base as spec says; zero: a fresh region (rings and buffers zeroed too). */
static int lay_out(void *base, uint64_t size, const struct ddvm_region_spec *spec,
		   struct ddvm_layout *out, int zero)
{
	struct ddvm_layout l;
	int r;

	if (!base)
		return -EINVAL;
	r = plan(size, spec, &l);
	if (r < 0)
		return r;
	if (zero)
		memset(base, 0, size);
	write_host_fields(base, spec, &l);
	*out = l;
	return 0;
}

int ddvm_region_setup(void *base, uint64_t size, const struct ddvm_region_spec *spec,
		      struct ddvm_layout *out)
{
	return lay_out(base, size, spec, out, 1);
}

int ddvm_region_restore(void *base, uint64_t size, const struct ddvm_region_spec *spec,
			struct ddvm_layout *out)
{
	return lay_out(base, size, spec, out, 0);
}
