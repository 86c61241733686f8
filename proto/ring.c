// SPDX-License-Identifier: MIT
/*
 * Ring operations: the only implementation, compiled unchanged into the
 * guest modules (kbuild), the host programs and the fuzz/unit tests.
 * See include/ddvm/proto.h for the ring protocol and memory ordering.
 */
#include "ddvm/ring.h"

#define LOAD_ACQ(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define FENCE()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

int ddvm_ring_bind(struct ddvm_ring *r, volatile void *base, uint64_t region_size,
		   uint64_t ring_off, uint32_t nslots)
{
	uint64_t bytes;

	if (!r || !base || nslots == 0 || nslots > DDVM_MAX_RING_SLOTS ||
	    (nslots & (nslots - 1)) != 0)
		return DDVM_RING_EINVAL;
	if (ring_off % DDVM_ALIGN != 0 || ring_off > region_size)
		return DDVM_RING_EINVAL;
	bytes = ddvm_ring_bytes(nslots);
	if (bytes > region_size - ring_off)
		return DDVM_RING_EINVAL;
	r->sh = (volatile struct ddvm_ring_shared *)((volatile uint8_t *)base + ring_off);
	r->slots = (volatile struct ddvm_slot *)(r->sh + 1);
	r->nslots = nslots;
	r->idx = r->old = r->peer = 0;
	return 0;
}

void ddvm_ring_reset(struct ddvm_ring *r)
{
	STORE_REL(&r->sh->prod, 0);
	STORE_REL(&r->sh->space_event, 0);
	STORE_REL(&r->sh->cons, 0);
	STORE_REL(&r->sh->data_event, 0);
	r->idx = r->old = r->peer = 0;
}

void ddvm_prod_resume(struct ddvm_ring *r)
{
	r->idx = r->old = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->prod));
	r->peer = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->cons));
}

void ddvm_cons_resume(struct ddvm_ring *r)
{
	r->idx = r->old = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->cons));
	/*
	 * Do not cache prod here: pop trusts peer != idx without re-checking,
	 * so an unvalidated prod would let it consume up to 2^32 stale slots.
	 * peer == idx makes the first pop read and validate prod.
	 */
	r->peer = r->idx;
}

/*
 * Driver side, attaching to a queue a previous instance served: resume, but
 * an impossible pair of indices (a broken instance left them; the client
 * failed what was in flight then) becomes an empty ring by setting our own
 * index to the peer's.  Returns 1 if it did.
 */
int ddvm_cons_attach(struct ddvm_ring *r, uint32_t gen)
{
	uint32_t prod = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->prod));
	uint32_t cons = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->cons));
	int reset = prod - cons > r->nslots;

	if (reset) {
		STORE_REL(&r->sh->cons, ddvm_cpu_to_le32(prod));
		cons = prod;
	}
	/* Tell the client where this instance starts: what is before was the dead one's. */
	r->sh->resume_idx = ddvm_cpu_to_le32(cons);
	STORE_REL(&r->sh->resume_gen, ddvm_cpu_to_le32(gen));
	r->idx = r->old = cons;
	r->peer = r->idx;	/* prod is read and validated on the first pop */
	return reset;
}

int ddvm_prod_attach(struct ddvm_ring *r)
{
	uint32_t prod = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->prod));
	uint32_t cons = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->cons));
	int reset = prod - cons > r->nslots;

	if (reset) {
		STORE_REL(&r->sh->prod, ddvm_cpu_to_le32(cons));
		prod = cons;
	}
	r->idx = r->old = prod;
	r->peer = cons;
	return reset;
}

void ddvm_prod_restore(struct ddvm_ring *r)
{
	STORE_REL(&r->sh->prod, ddvm_cpu_to_le32(r->old));
}

void ddvm_cons_restore(struct ddvm_ring *r)
{
	STORE_REL(&r->sh->cons, ddvm_cpu_to_le32(r->old));
}

int ddvm_prod_taken(struct ddvm_ring *r, uint32_t gen, uint32_t guest_version, uint32_t *at)
{
	uint32_t v;

	if (gen != 0 && (guest_version & 0xffff) >= 2) {
		if (ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->resume_gen)) != gen)
			return DDVM_RING_EAGAIN;
		v = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->resume_idx));
	} else {
		v = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->cons));
	}
	if (r->idx - v > r->nslots)
		return DDVM_RING_ECORRUPT;
	*at = v;
	return 0;
}

/* Read the consumer's index once and check 0 <= prod - cons <= nslots. */
int ddvm_prod_space(struct ddvm_ring *r)
{
	uint32_t cons = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->cons));
	uint32_t used = r->idx - cons;

	if (used > r->nslots)
		return DDVM_RING_ECORRUPT;
	r->peer = cons;
	return (int)(r->nslots - used);
}

/* Copy a slot word by word: shared memory is read or written exactly once. */
static void slot_copy_out(volatile struct ddvm_slot *dst, const struct ddvm_slot *src)
{
	volatile uint64_t *d = (volatile uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	unsigned int i;

	for (i = 0; i < sizeof(*src) / 8; i++)
		d[i] = s[i];
}

static void slot_copy_in(struct ddvm_slot *dst, const volatile struct ddvm_slot *src)
{
	const volatile uint64_t *s = (const volatile uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	unsigned int i;

	for (i = 0; i < sizeof(*dst) / 8; i++)
		d[i] = s[i];
}

int ddvm_prod_push(struct ddvm_ring *r, const struct ddvm_slot *s)
{
	/* Only look at the peer's index when the cached one says full. */
	if (r->idx - r->peer >= r->nslots) {
		int space = ddvm_prod_space(r);

		if (space < 0)
			return space;
		if (space == 0)
			return DDVM_RING_EFULL;
	}
	slot_copy_out(&r->slots[r->idx & (r->nslots - 1)], s);
	r->idx++;
	return 0;
}

int ddvm_prod_publish(struct ddvm_ring *r)
{
	uint32_t old = r->old, ev;

	if (r->idx == old)
		return 0;
	STORE_REL(&r->sh->prod, ddvm_cpu_to_le32(r->idx));
	FENCE();	/* publish prod before reading the consumer's event index */
	ev = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->data_event));
	r->old = r->idx;
	return ddvm_need_event(ev, r->idx, old);
}

int ddvm_prod_want_space(struct ddvm_ring *r)
{
	STORE_REL(&r->sh->space_event, ddvm_cpu_to_le32(r->peer));
	FENCE();	/* set the event before re-reading cons */
	return ddvm_prod_space(r);
}

/* Read the producer's index once and check 0 <= prod - cons <= nslots. */
int ddvm_cons_avail(struct ddvm_ring *r)
{
	uint32_t prod = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->prod));
	uint32_t avail = prod - r->idx;

	if (avail > r->nslots)
		return DDVM_RING_ECORRUPT;
	r->peer = prod;
	return (int)avail;
}

int ddvm_cons_pop(struct ddvm_ring *r, struct ddvm_slot *out)
{
	if (r->peer == r->idx) {
		int avail = ddvm_cons_avail(r);

		if (avail < 0)
			return avail;
		if (avail == 0)
			return DDVM_RING_EEMPTY;
	}
	slot_copy_in(out, &r->slots[r->idx & (r->nslots - 1)]);
	r->idx++;
	return 0;
}

int ddvm_cons_publish(struct ddvm_ring *r)
{
	uint32_t old = r->old, ev;

	if (r->idx == old)
		return 0;
	STORE_REL(&r->sh->cons, ddvm_cpu_to_le32(r->idx));
	FENCE();	/* publish cons before reading the producer's event index */
	ev = ddvm_le32_to_cpu(LOAD_ACQ(&r->sh->space_event));
	r->old = r->idx;
	return ddvm_need_event(ev, r->idx, old);
}

int ddvm_cons_want_data(struct ddvm_ring *r)
{
	STORE_REL(&r->sh->data_event, ddvm_cpu_to_le32(r->idx));
	FENCE();	/* set the event before re-reading prod */
	return ddvm_cons_avail(r);
}
