// SPDX-License-Identifier: MIT
/*
 * Region header validation, shared unchanged by the guest modules and the
 * host.  Reads shared memory once into local copies, then checks the copies.
 */
#include "ddvm/region.h"
#include "ddvm/net_check.h"

#define LOAD(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)

static uint16_t rd16(const volatile ddvm_le16 *p) { return ddvm_le16_to_cpu(LOAD(p)); }
static uint32_t rd32(const volatile ddvm_le32 *p) { return ddvm_le32_to_cpu(LOAD(p)); }
static uint64_t rd64(const volatile ddvm_le64 *p) { return ddvm_le64_to_cpu(LOAD(p)); }

/* [off, off+len) inside [0, size) without overflow, and aligned. */
static int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off % DDVM_ALIGN == 0 && off <= size && len <= size - off;
}

struct area { uint64_t off, len; };

static int overlaps(const struct area *a, const struct area *b)
{
	return a->len && b->len && a->off < b->off + b->len && b->off < a->off + a->len;
}

uint32_t ddvm_layout_validate(const struct ddvm_layout *l)
{
	struct area areas[2 + 3 * DDVM_MAX_QUEUES];
	uint32_t n = 0, i, j;

	if (l->region_size < DDVM_MIN_REGION_SIZE)
		return DDVM_LAYOUT_SIZE;
	if (l->nqueues > DDVM_MAX_QUEUES)
		return DDVM_LAYOUT_QTABLE;
	areas[n].off = 0;
	areas[n++].len = DDVM_HDR_SIZE;
	if (l->pci_table_max > 4096 ||
	    !in_bounds(l->pci_table_off, (uint64_t)l->pci_table_max * sizeof(struct ddvm_pci_entry),
		       l->region_size))
		return DDVM_LAYOUT_PCI;
	areas[n].off = l->pci_table_off;
	areas[n++].len = (uint64_t)l->pci_table_max * sizeof(struct ddvm_pci_entry);
	for (i = 0; i < l->nqueues; i++) {
		const struct ddvm_queue_info *q = &l->q[i];
		uint64_t rb = ddvm_ring_bytes(q->nslots);

		if (q->kind < DDVM_QK_CTRL || q->kind > DDVM_QK_NET)
			return DDVM_LAYOUT_KIND;
		if (q->nslots == 0 || q->nslots > DDVM_MAX_RING_SLOTS || (q->nslots & (q->nslots - 1)))
			return DDVM_LAYOUT_RING;
		if (!in_bounds(q->req_ring_off, rb, l->region_size) ||
		    !in_bounds(q->resp_ring_off, rb, l->region_size))
			return DDVM_LAYOUT_RING;
		if (!in_bounds(q->data_off, q->data_size, l->region_size))
			return DDVM_LAYOUT_DATA;
		areas[n].off = q->req_ring_off;
		areas[n++].len = rb;
		areas[n].off = q->resp_ring_off;
		areas[n++].len = rb;
		areas[n].off = q->data_off;
		areas[n++].len = q->data_size;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (overlaps(&areas[i], &areas[j]))
				return DDVM_LAYOUT_OVERLAP;
	return DDVM_LAYOUT_OK;
}

uint32_t ddvm_region_check(const volatile void *base, uint64_t mapped_size,
			   struct ddvm_layout *out, uint32_t *detail)
{
	const volatile struct ddvm_region_hdr *h = base;
	uint32_t magic, ver, why, i;
	uint64_t qt;

	*detail = 0;
	if (mapped_size < DDVM_MIN_REGION_SIZE) {
		*detail = DDVM_LAYOUT_SIZE;
		return DDVM_REFUSE_LAYOUT;
	}
	magic = rd32(&h->magic);
	if (magic != DDVM_MAGIC) {
		*detail = magic;
		return DDVM_REFUSE_MAGIC;
	}
	ver = (uint32_t)rd16(&h->version_major) << 16 | rd16(&h->version_minor);
	if (ver >> 16 != DDVM_PROTO_MAJOR) {
		*detail = ver;
		return DDVM_REFUSE_VERSION;
	}
	if (rd32(&h->host_state) != DDVM_HOST_SERVING) {
		*detail = rd32(&h->host_state);
		return DDVM_REFUSE_STATE;
	}
	out->region_size = rd64(&h->region_size);
	if (out->region_size != mapped_size || rd32(&h->hdr_size) != DDVM_HDR_SIZE) {
		*detail = DDVM_LAYOUT_SIZE;
		return DDVM_REFUSE_LAYOUT;
	}
	out->host_peer_id = rd16(&h->host_peer_id);
	out->nqueues = rd16(&h->nqueues);
	out->pci_table_off = rd64(&h->pci_table_off);
	out->pci_table_max = rd32(&h->pci_table_max);
	out->heartbeat_period_ms = rd32(&h->heartbeat_period_ms);
	qt = rd64(&h->queue_table_off);
	if (qt != DDVM_QUEUE_TABLE_OFF || out->nqueues > DDVM_MAX_QUEUES) {
		*detail = DDVM_LAYOUT_QTABLE;
		return DDVM_REFUSE_LAYOUT;
	}
	for (i = 0; i < out->nqueues; i++) {
		const volatile struct ddvm_queue_desc *d =
			(const volatile struct ddvm_queue_desc *)((const volatile uint8_t *)base + qt) + i;
		struct ddvm_queue_info *q = &out->q[i];

		q->kind = rd16(&d->kind);
		q->index = rd16(&d->index);
		q->nslots = rd32(&d->nslots);
		q->req_ring_off = rd64(&d->req_ring_off);
		q->resp_ring_off = rd64(&d->resp_ring_off);
		q->data_off = rd64(&d->data_off);
		q->data_size = rd64(&d->data_size);
		q->req_vector = rd16(&d->req_vector);
		q->resp_vector = rd16(&d->resp_vector);
	}
	why = ddvm_layout_validate(out);
	if (why != DDVM_LAYOUT_OK) {
		*detail = why;
		return DDVM_REFUSE_LAYOUT;
	}
	return DDVM_REFUSE_NONE;
}

void ddvm_copy_str(char *dst, const volatile char *src, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		char c = src[i];

		if (c == '\0')
			break;
		dst[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	dst[i] = '\0';
}

void ddvm_guest_read(const volatile void *base, struct ddvm_guest_view *out)
{
	const volatile struct ddvm_region_hdr *h = base;

	out->generation = rd32(&h->generation);
	out->state = rd32(&h->guest_state);
	if (out->state > DDVM_GUEST_STOPPING)
		out->state = DDVM_GUEST_BOGUS;
	out->refusal = rd32(&h->refusal);
	out->refusal_detail = rd32(&h->refusal_detail);
	out->guest_version = rd32(&h->guest_version);
	out->heartbeat = rd64(&h->heartbeat);
	out->peer_id = rd16(&h->guest_peer_id);
	ddvm_copy_str(out->kernel_release, h->kernel_release, sizeof(h->kernel_release));
}

void ddvm_queue_stats_read(const volatile void *base, uint32_t i,
			   struct ddvm_queue_stats_info *o)
{
	const volatile struct ddvm_region_hdr *h = base;
	uint32_t v = rd32(&h->guest_version);
	const volatile struct ddvm_queue_stats *s;

	o->rd_ops = o->rd_bytes = o->wr_ops = o->wr_bytes = o->other_ops = o->errors = 0;
	if (i >= DDVM_MAX_QUEUES || v >> 16 != DDVM_PROTO_MAJOR || (v & 0xffff) < 3)
		return;
	s = &h->qstats[i];
	o->rd_ops = rd64(&s->rd_ops);
	o->rd_bytes = rd64(&s->rd_bytes);
	o->wr_ops = rd64(&s->wr_ops);
	o->wr_bytes = rd64(&s->wr_bytes);
	o->other_ops = rd64(&s->other_ops);
	o->errors = rd64(&s->errors);
}

static void pci_entry_read(const volatile struct ddvm_pci_entry *e, struct ddvm_pci_info *o)
{
	uint8_t devfn = LOAD(&e->devfn);

	o->domain = rd16(&e->domain);
	o->bus = LOAD(&e->bus);
	o->dev = devfn >> 3;
	o->fn = devfn & 7;
	o->vendor = rd16(&e->vendor);
	o->device = rd16(&e->device);
	o->subsystem_vendor = rd16(&e->subsystem_vendor);
	o->subsystem_device = rd16(&e->subsystem_device);
	o->class_code = rd32(&e->class_code) & 0xffffff;
	o->revision = LOAD(&e->revision);
	ddvm_copy_str(o->driver, e->driver, sizeof(e->driver));
	ddvm_copy_str(o->names, e->names, sizeof(e->names));
}

int ddvm_pci_read(const volatile void *base, const struct ddvm_layout *l,
		  struct ddvm_pci_info *out, uint32_t max, uint32_t *count)
{
	const volatile struct ddvm_region_hdr *h = base;
	const volatile struct ddvm_pci_entry *t =
		(const volatile struct ddvm_pci_entry *)((const volatile uint8_t *)base + l->pci_table_off);
	int tries;

	*count = 0;
	for (tries = 0; tries < 8; tries++) {
		uint32_t seq = rd32(&h->pci_seq), n, i;

		if (seq & 1)
			continue;
		n = rd32(&h->pci_count);
		if (n > l->pci_table_max)
			return DDVM_PCI_BAD;
		if (n > max)
			n = max;
		for (i = 0; i < n; i++)
			pci_entry_read(&t[i], &out[i]);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (rd32(&h->pci_seq) == seq) {
			*count = n;
			return DDVM_PCI_OK;
		}
	}
	return DDVM_PCI_BUSY;
}

static int pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

int ddvm_queue_state_read(const volatile void *base, const struct ddvm_layout *l, uint32_t i,
			  struct ddvm_queue_state_info *o)
{
	const volatile struct ddvm_queue_state *s;
	uint32_t k;

	if (i >= l->nqueues)
		return -1;
	s = (const volatile struct ddvm_queue_state *)((const volatile uint8_t *)base +
						       DDVM_QUEUE_STATE_OFF) + i;
	o->state = rd32(&s->state);
	o->error = rd32(&s->error);
	o->capacity = rd64(&s->capacity);
	o->logical_block_size = rd32(&s->logical_block_size);
	o->physical_block_size = rd32(&s->physical_block_size);
	o->max_transfer = rd32(&s->max_transfer);
	o->features = rd32(&s->features);
	o->flags = rd32(&s->flags);
	for (k = 0; k < 6; k++)
		o->mac[k] = LOAD(&s->mac[k]);
	o->link_up = rd16(&s->link_up) ? 1 : 0;
	o->mtu = rd32(&s->mtu);
	ddvm_copy_str(o->dev_name, s->dev_name, sizeof(s->dev_name));
	if (o->state > DDVM_QS_ERROR) {
		o->state = DDVM_QS_ERROR;
		o->error = DDVM_QE_BOGUS;
	}
	/* A NIC with no usable address or MTU: no TAP could take it. */
	if (o->state == DDVM_QS_READY && l->q[i].kind == DDVM_QK_NET &&
	    ddvm_net_params_check(o->mac, o->mtu) != DDVM_NET_PARAMS_OK) {
		o->state = DDVM_QS_ERROR;
		o->error = DDVM_QE_BOGUS;
	}
	if (o->state == DDVM_QS_READY && l->q[i].kind == DDVM_QK_BLOCK) {
		uint32_t lbs = o->logical_block_size;

		if (!pow2_in(lbs, 512, 65536) ||
		    !pow2_in(o->physical_block_size, lbs, 65536) ||
		    o->capacity % lbs != 0 || o->max_transfer == 0 ||
		    o->max_transfer % lbs != 0 || o->max_transfer > l->q[i].data_size) {
			o->state = DDVM_QS_ERROR;
			o->error = DDVM_QE_BOGUS;
		}
	}
	return 0;
}

void ddvm_queue_target_read(const volatile void *base, uint32_t i, char out[65])
{
	const volatile struct ddvm_queue_target *t;

	out[0] = '\0';
	if (i >= DDVM_MAX_QUEUES)
		return;
	t = (const volatile struct ddvm_queue_target *)((const volatile uint8_t *)base +
							DDVM_QUEUE_TARGET_OFF) + i;
	ddvm_copy_str(out, t->target, sizeof(t->target));
}
