// SPDX-License-Identifier: MIT
/*
 * fuzz-ring: a valid region from ddvm_region_setup with one queue; the
 * fuzzer's bytes are a program of ring operations by an honest producer and
 * an honest consumer (both proto/ring.c) on either ring, interleaved with
 * writes of arbitrary values into the shared indices, event indices and
 * slots (a hostile peer).
 *
 * Always: no access outside the ring being operated on (everything else in
 * the region is ASan-poisoned meanwhile), results in range, and no side
 * ever holds more than nslots entries it did not validate.
 * While no hostile write has happened since the last clean (re)start, a
 * model predicts every result exactly: FIFO order and slot contents, full
 * and empty, counts, and the doorbells (no lost wakeup, no doorbell the
 * waiting side did not ask for).
 */
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/ring.h"
#include "ddvm/posix/region_setup.h"

#include "must.h"

#define MAX_SLOTS	128u
#define MAX_OPS		4096

struct side {
	struct ddvm_ring p, c;		/* producer and consumer views */
	uint64_t off, bytes;		/* ring area in the region */
	uint32_t n;
	/* Model, exact while !bad_index (contents while !bad_slot, doorbells while !bad_event). */
	int bad_index, bad_slot, bad_event;
	uint32_t p_idx, p_pub, c_idx, c_pub;
	int cons_sleeping, prod_sleeping, data_armed, space_armed;
	struct ddvm_slot exp[MAX_SLOTS];
	uint64_t next_id;
};

struct input {
	const uint8_t *d;
	size_t n, pos;
};

static uint8_t in8(struct input *in)
{
	return in->pos < in->n ? in->d[in->pos++] : 0;
}

static uint32_t in32(struct input *in)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v |= (uint32_t)in8(in) << (8 * i);
	return v;
}

static uint64_t in64(struct input *in)
{
	return in32(in) | (uint64_t)in32(in) << 32;
}

/* A clean (re)start at index base: all indices and events = base. */
static void side_rebase(struct side *s, uint32_t base)
{
	s->p.sh->prod = base;
	s->p.sh->cons = base;
	s->p.sh->data_event = base;
	s->p.sh->space_event = base;
	ddvm_prod_resume(&s->p);
	ddvm_cons_resume(&s->c);
	s->p_idx = s->p_pub = s->c_idx = s->c_pub = base;
	s->bad_index = s->bad_slot = s->bad_event = 0;
	s->cons_sleeping = s->prod_sleeping = 0;
	s->data_armed = s->space_armed = 1;	/* event == index: first move rings */
}

static void slot_make(struct ddvm_slot *sl, uint64_t id)
{
	memset(sl, 0, sizeof(*sl));
	sl->id = id;
	sl->op = (uint16_t)id;
	sl->offset = ~id;
	sl->arg0 = id * 0x9e3779b97f4a7c15ull;
}

static int in_range(int rc, uint32_t n)
{
	return rc == DDVM_RING_ECORRUPT || (rc >= 0 && (uint32_t)rc <= n);
}

static void op_push(struct side *s)
{
	struct ddvm_slot sl;
	int rc, room = (uint32_t)(s->p_idx - s->c_pub) < s->n;

	slot_make(&sl, s->next_id++);
	rc = ddvm_prod_push(&s->p, &sl);
	MUST(rc == 0 || rc == DDVM_RING_EFULL || rc == DDVM_RING_ECORRUPT);
	if (rc == 0)	/* what we may overwrite was validated as consumed */
		MUST((uint32_t)(s->p.idx - s->p.peer) <= s->n);
	if (s->bad_index)
		return;
	MUST(rc == (room ? 0 : DDVM_RING_EFULL));
	if (rc == 0)
		s->exp[s->p_idx++ & (s->n - 1)] = sl;
}

static void op_prod_publish(struct side *s)
{
	int rc = ddvm_prod_publish(&s->p), moved = s->p_idx != s->p_pub;

	MUST(rc == 0 || rc == 1);
	if (s->bad_index)
		return;
	s->p_pub = s->p_idx;
	if (!moved)
		MUST(rc == 0);
	if (s->bad_event)
		return;
	if (moved && s->cons_sleeping)
		MUST(rc == 1);		/* no lost wakeup */
	if (rc == 1) {
		MUST(s->data_armed);	/* no doorbell nobody asked for */
		s->data_armed = s->cons_sleeping = 0;
	}
}

static void op_pop(struct side *s)
{
	struct ddvm_slot sl;
	int rc = ddvm_cons_pop(&s->c, &sl);

	MUST(rc == 0 || rc == DDVM_RING_EEMPTY || rc == DDVM_RING_ECORRUPT);
	/* We only consume what a validated prod covered. */
	MUST((uint32_t)(s->c.peer - s->c.idx) <= s->n);
	if (s->bad_index)
		return;
	MUST(rc == (s->c_idx != s->p_pub ? 0 : DDVM_RING_EEMPTY));
	if (rc)
		return;
	if (!s->bad_slot)
		MUST(memcmp(&sl, &s->exp[s->c_idx & (s->n - 1)], sizeof(sl)) == 0);
	s->c_idx++;
	s->cons_sleeping = 0;
}

static void op_cons_publish(struct side *s)
{
	int rc = ddvm_cons_publish(&s->c), moved = s->c_idx != s->c_pub;

	MUST(rc == 0 || rc == 1);
	if (s->bad_index)
		return;
	s->c_pub = s->c_idx;
	if (!moved)
		MUST(rc == 0);
	if (s->bad_event)
		return;
	if (moved && s->prod_sleeping)
		MUST(rc == 1);
	if (rc == 1) {
		MUST(s->space_armed);
		s->space_armed = s->prod_sleeping = 0;
	}
}

static void op_want_data(struct side *s)
{
	int rc = ddvm_cons_want_data(&s->c);

	MUST(in_range(rc, s->n));
	if (s->bad_index)
		return;
	MUST(rc == (int)(s->p_pub - s->c_idx));
	s->data_armed = 1;
	if (rc == 0)
		s->cons_sleeping = 1;
}

static void op_want_space(struct side *s)
{
	int rc = ddvm_prod_want_space(&s->p);

	MUST(in_range(rc, s->n));
	if (s->bad_index)
		return;
	MUST(rc == (int)(s->n - (s->p_idx - s->c_pub)));
	s->space_armed = 1;
	if (rc == 0)
		s->prod_sleeping = 1;
}

static void op_query(struct side *s)
{
	int a = ddvm_cons_avail(&s->c), sp = ddvm_prod_space(&s->p);

	MUST(in_range(a, s->n) && in_range(sp, s->n));
	if (s->bad_index)
		return;
	MUST(a == (int)(s->p_pub - s->c_idx));
	MUST(sp == (int)(s->n - (s->p_idx - s->c_pub)));
}

/* The hostile peer: an arbitrary value into a shared index or event. */
static void op_hostile_index(struct side *s, struct input *in)
{
	uint8_t which = in8(in);
	uint32_t v = in32(in);

	/* Small offsets from the honest value are the interesting ones. */
	if (which & 0x80)
		v = (which & 0x40 ? s->p.sh->prod : s->c.sh->cons) + (int8_t)v;
	switch (which & 7) {
	case 0: s->p.sh->prod = v; s->bad_index = 1; break;
	case 1: s->c.sh->cons = v; s->bad_index = 1; break;
	case 2: s->c.sh->data_event = v; s->bad_event = 1; break;
	case 3: s->p.sh->space_event = v; s->bad_event = 1; break;
	case 4: s->c.sh->client_peer_id = v; break;
	default: {	/* anywhere in the ring header */
		volatile uint32_t *w = (volatile uint32_t *)s->p.sh;

		w[v % (sizeof(struct ddvm_ring_shared) / 4)] = in32(in);
		s->bad_index = s->bad_event = 1;
	}
	}
}

static void op_hostile_slot(struct side *s, struct input *in)
{
	uint32_t k = in8(in) & (s->n - 1), w = in8(in) % 8;
	volatile uint64_t *p = (volatile uint64_t *)&s->p.slots[k];

	p[w] = in64(in);
	s->bad_slot = 1;
}

static void side_run(struct side *s, uint8_t op, struct input *in)
{
	switch (op % 14) {
	case 0: case 1: op_push(s); break;
	case 2: op_prod_publish(s); break;
	case 3: case 4: op_pop(s); break;
	case 5: op_cons_publish(s); break;
	case 6: op_want_data(s); break;
	case 7: op_want_space(s); break;
	case 8: op_query(s); break;
	case 9: op_hostile_index(s, in); break;
	case 10: op_hostile_slot(s, in); break;
	case 11: side_rebase(s, in32(in)); break;
	case 12:	/* producer restarts: unpublished pushes are gone */
		ddvm_prod_resume(&s->p);
		s->p_idx = s->p_pub;
		s->prod_sleeping = 0;
		break;
	case 13:	/* consumer restarts: popped-but-unreleased come again */
		ddvm_cons_resume(&s->c);
		s->c_idx = s->c_pub;
		s->cons_sleeping = 0;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size, 0 };
	struct ddvm_region_spec spec;
	struct ddvm_layout l;
	struct side sides[2], *s;
	uint64_t rsize;
	uint8_t *mem;
	int i, ops;

	memset(&spec, 0, sizeof(spec));
	spec.pci_table_max = 1;
	spec.nqueues = 1;
	spec.q[0].kind = DDVM_QK_CTRL;
	spec.q[0].nslots = 1u << (in8(&in) % 8);	/* 1 .. MAX_SLOTS */
	spec.q[0].data_size = 4096;
	rsize = ddvm_region_bytes_needed(&spec);
	if (rsize < DDVM_MIN_REGION_SIZE)
		rsize = DDVM_MIN_REGION_SIZE;
	mem = aligned_alloc(4096, rsize);
	if (!mem)
		return 0;
	MUST(ddvm_region_setup(mem, rsize, &spec, &l) == 0);

	memset(sides, 0, sizeof(sides));
	for (i = 0; i < 2; i++) {
		s = &sides[i];
		s->off = i ? l.q[0].resp_ring_off : l.q[0].req_ring_off;
		s->n = l.q[0].nslots;
		s->bytes = ddvm_ring_bytes(s->n);
		MUST(ddvm_ring_bind(&s->p, mem, rsize, s->off, s->n) == 0);
		MUST(ddvm_ring_bind(&s->c, mem, rsize, s->off, s->n) == 0);
		side_rebase(s, 0);
	}
	ASAN_POISON_MEMORY_REGION(mem, rsize);

	for (ops = 0; ops < MAX_OPS && in.pos < in.n; ops++) {
		uint8_t op = in8(&in);

		s = &sides[op >> 7];
		ASAN_UNPOISON_MEMORY_REGION(mem + s->off, s->bytes);
		side_run(s, op & 0x7f, &in);
		ASAN_POISON_MEMORY_REGION(mem + s->off, s->bytes);
	}

	ASAN_UNPOISON_MEMORY_REGION(mem, rsize);
	free(mem);
	return 0;
}
