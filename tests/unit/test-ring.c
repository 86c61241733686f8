// SPDX-License-Identifier: MIT
/*
 * test-ring: the shared ring (proto/ring.c) keeps FIFO order and exact slot
 * contents, refuses to overfill or underflow, wraps its free-running indices
 * across 2^32, suppresses doorbells as specified, rejects impossible peer
 * indices without reading outside the ring, validates ddvm_ring_bind, and
 * loses no item and no wakeup between two threads.
 *
 * Every ring lives at the very end of its own allocation, so ASan reports
 * any access past the last slot.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ddvm/ring.h"
#include "check.h"

/* A region holding one ring at its very end, bound twice (producer, consumer). */
struct tring {
	uint8_t *mem;
	uint64_t size;
	struct ddvm_ring p, c;
};

static int tring_open(struct tring *t, uint32_t nslots, uint64_t pre)
{
	t->size = pre + ddvm_ring_bytes(nslots);
	t->mem = aligned_alloc(64, t->size);
	if (!t->mem)
		return -ENOMEM;
	memset(t->mem, 0x5a, t->size);
	if (ddvm_ring_bind(&t->p, t->mem, t->size, pre, nslots) ||
	    ddvm_ring_bind(&t->c, t->mem, t->size, pre, nslots)) {
		free(t->mem);
		return -EINVAL;
	}
	ddvm_ring_reset(&t->p);
	ddvm_cons_resume(&t->c);
	return 0;
}

static void tring_close(struct tring *t)
{
	free(t->mem);
	t->mem = NULL;
}

/* Start both sides at index base, as after a reattach. */
static void tring_rebase(struct tring *t, uint32_t base)
{
	t->p.sh->prod = ddvm_cpu_to_le32(base);
	t->p.sh->cons = ddvm_cpu_to_le32(base);
	t->p.sh->data_event = ddvm_cpu_to_le32(base);
	t->p.sh->space_event = ddvm_cpu_to_le32(base);
	ddvm_prod_resume(&t->p);
	ddvm_cons_resume(&t->c);
}

static void slot_make(struct ddvm_slot *s, uint64_t n)
{
	memset(s, 0, sizeof(*s));
	s->id = n;
	s->op = (uint16_t)(n * 7);
	s->flags = (uint16_t)(n >> 3);
	s->status = (uint32_t)(n ^ 0xa5a5a5a5u);
	s->offset = n * 4096;
	s->buf_off = n * 64;
	s->len = (uint32_t)n + 1;
	s->reserved0 = 0;
	s->arg0 = ~n;
	s->reserved[0] = n << 32;
	s->reserved[1] = n * 0x9e3779b97f4a7c15ull;
}

static int slot_equal(const struct ddvm_slot *a, const struct ddvm_slot *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void test_empty(void)
{
	struct tring t;
	struct ddvm_slot s;

	CHECK_EQ(tring_open(&t, 8, 0), 0);
	CHECK_EQ(ddvm_cons_avail(&t.c), 0);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_EEMPTY);
	CHECK_EQ(ddvm_cons_publish(&t.c), 0);
	CHECK_EQ(ddvm_prod_publish(&t.p), 0);
	CHECK_EQ(ddvm_prod_space(&t.p), 8);

	/* Pushed but not published: invisible to the consumer. */
	slot_make(&s, 1);
	CHECK_EQ(ddvm_prod_push(&t.p, &s), 0);
	CHECK_EQ(ddvm_cons_avail(&t.c), 0);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_EEMPTY);
	ddvm_prod_publish(&t.p);
	CHECK_EQ(ddvm_cons_avail(&t.c), 1);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), 0);
	CHECK_EQ(s.id, 1);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_EEMPTY);
	tring_close(&t);
}

static void test_full_fifo(uint32_t n)
{
	struct ddvm_slot s, want, before[64];
	struct tring t;
	uint32_t i;
	int ok = 1;

	CHECK_EQ(tring_open(&t, n, 64 * 3), 0);
	for (i = 0; i < n; i++) {
		slot_make(&s, 100 + i);
		if (ddvm_prod_push(&t.p, &s) != 0)
			ok = 0;
	}
	CHECK(ok);
	CHECK_EQ(ddvm_prod_space(&t.p), 0);
	for (i = 0; i < n && i < 64; i++)
		memcpy(&before[i], (const void *)&t.p.slots[i], sizeof(before[i]));
	slot_make(&s, 999);
	CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_EFULL);
	CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_EFULL);
	for (i = 0; i < n && i < 64; i++)
		if (memcmp(&before[i], (const void *)&t.p.slots[i], sizeof(before[i])))
			ok = 0;
	CHECK(ok);	/* nothing overwritten by the refused pushes */
	ddvm_prod_publish(&t.p);
	CHECK_EQ(t.p.sh->prod, n);
	CHECK_EQ(ddvm_cons_avail(&t.c), n);
	for (i = 0; i < n; i++) {
		slot_make(&want, 100 + i);
		if (ddvm_cons_pop(&t.c, &s) != 0 || !slot_equal(&s, &want))
			ok = 0;
	}
	CHECK(ok);	/* FIFO order, every byte of every slot */
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_EEMPTY);
	/* Space frees only once the consumer publishes. */
	CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_EFULL);
	ddvm_cons_publish(&t.c);
	CHECK_EQ(t.c.sh->cons, n);
	CHECK_EQ(ddvm_prod_space(&t.p), n);
	CHECK_EQ(ddvm_prod_push(&t.p, &s), 0);
	tring_close(&t);
}

/* Many laps of a small ring with uneven batches. */
static void test_laps(void)
{
	struct ddvm_slot s, want;
	struct tring t;
	uint64_t next_push = 0, next_pop = 0;
	int ok = 1, round;

	CHECK_EQ(tring_open(&t, 4, 0), 0);
	for (round = 0; round < 2000; round++) {
		int k, pushes = round % 5, pops = (round * 3) % 5;

		for (k = 0; k < pushes; k++) {
			slot_make(&s, next_push);
			if (ddvm_prod_push(&t.p, &s) == 0)
				next_push++;
		}
		ddvm_prod_publish(&t.p);
		for (k = 0; k < pops; k++) {
			if (ddvm_cons_pop(&t.c, &s) != 0)
				break;
			slot_make(&want, next_pop++);
			if (!slot_equal(&s, &want))
				ok = 0;
		}
		ddvm_cons_publish(&t.c);
		if (next_push - next_pop > 4)
			ok = 0;
	}
	CHECK(ok);
	CHECK(next_pop > 1000);
	tring_close(&t);
}

/* Free-running indices crossing 2^32 keep order, slot placement and limits. */
static void test_wrap(void)
{
	const uint32_t base = 0xfffffff0u, n = 8;
	struct ddvm_slot s, want;
	struct tring t;
	uint32_t i;
	int ok = 1;

	CHECK_EQ(tring_open(&t, n, 64), 0);
	tring_rebase(&t, base);
	CHECK_EQ(ddvm_cons_avail(&t.c), 0);
	CHECK_EQ(ddvm_prod_space(&t.p), n);
	for (i = 0; i < 64; i++) {
		uint32_t idx = base + i;

		slot_make(&s, idx);
		if (ddvm_prod_push(&t.p, &s) != 0)
			ok = 0;
		/* The slot lands at idx & (n-1) even across the wrap. */
		if (t.p.slots[idx & (n - 1)].id != idx)
			ok = 0;
		ddvm_prod_publish(&t.p);
		if (ddvm_le32_to_cpu(t.p.sh->prod) != (uint32_t)(idx + 1))
			ok = 0;
		if (ddvm_cons_avail(&t.c) != 1 || ddvm_cons_pop(&t.c, &s) != 0)
			ok = 0;
		slot_make(&want, idx);
		if (!slot_equal(&s, &want))
			ok = 0;
		ddvm_cons_publish(&t.c);
	}
	CHECK(ok);
	CHECK_EQ(t.c.sh->cons, (uint32_t)(base + 64));

	/* Full and empty exactly at the wrap point. */
	tring_rebase(&t, 0xfffffffcu);
	for (i = 0; i < n; i++) {
		slot_make(&s, i);
		if (ddvm_prod_push(&t.p, &s) != 0)
			ok = 0;
	}
	CHECK(ok);
	slot_make(&s, 77);
	CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_EFULL);
	ddvm_prod_publish(&t.p);
	CHECK_EQ(t.p.sh->prod, 4);
	CHECK_EQ(ddvm_cons_avail(&t.c), n);
	for (i = 0; i < n; i++) {
		slot_make(&want, i);
		if (ddvm_cons_pop(&t.c, &s) != 0 || !slot_equal(&s, &want))
			ok = 0;
	}
	CHECK(ok);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_EEMPTY);
	ddvm_cons_publish(&t.c);
	CHECK_EQ(ddvm_prod_space(&t.p), n);
	tring_close(&t);
}

static void test_need_event(void)
{
	/* ev in [old, new) rings; anything else does not. */
	CHECK_EQ(ddvm_need_event(5, 6, 5), 1);
	CHECK_EQ(ddvm_need_event(5, 9, 5), 1);
	CHECK_EQ(ddvm_need_event(8, 9, 5), 1);
	CHECK_EQ(ddvm_need_event(9, 9, 5), 0);
	CHECK_EQ(ddvm_need_event(4, 9, 5), 0);
	CHECK_EQ(ddvm_need_event(100, 9, 5), 0);
	CHECK_EQ(ddvm_need_event(5, 5, 5), 0);	/* nothing moved */
	CHECK_EQ(ddvm_need_event(0, 1, 0), 1);	/* fresh ring: first entry rings */
	CHECK_EQ(ddvm_need_event(0, 7, 6), 0);
	/* Across 2^32: old 0xfffffffe, new 2 covers ..fe ..ff 0 1. */
	CHECK_EQ(ddvm_need_event(0xfffffffeu, 2, 0xfffffffeu), 1);
	CHECK_EQ(ddvm_need_event(0xffffffffu, 2, 0xfffffffeu), 1);
	CHECK_EQ(ddvm_need_event(0, 2, 0xfffffffeu), 1);
	CHECK_EQ(ddvm_need_event(1, 2, 0xfffffffeu), 1);
	CHECK_EQ(ddvm_need_event(2, 2, 0xfffffffeu), 0);
	CHECK_EQ(ddvm_need_event(0xfffffffdu, 2, 0xfffffffeu), 0);
	CHECK_EQ(ddvm_need_event(0x80000000u, 2, 0xfffffffeu), 0);
}

static void push_n(struct tring *t, uint32_t k)
{
	struct ddvm_slot s;

	while (k--) {
		slot_make(&s, k);
		CHECK_EQ(ddvm_prod_push(&t->p, &s), 0);
	}
}

static uint32_t pop_all(struct tring *t)
{
	struct ddvm_slot s;
	uint32_t k = 0;

	while (ddvm_cons_pop(&t->c, &s) == 0)
		k++;
	return k;
}

static void test_events_data(uint32_t base)
{
	struct tring t;

	CHECK_EQ(tring_open(&t, 16, 128), 0);
	tring_rebase(&t, base);		/* data_event = base: like a fresh ring */

	/* A fresh ring asks for its first entry. */
	push_n(&t, 1);
	CHECK_EQ(ddvm_prod_publish(&t.p), 1);
	/* Busy-polling consumer: never arms, never gets a doorbell. */
	push_n(&t, 2);
	CHECK_EQ(ddvm_prod_publish(&t.p), 0);
	CHECK_EQ(pop_all(&t), 3);
	ddvm_cons_publish(&t.c);
	push_n(&t, 1);
	CHECK_EQ(ddvm_prod_publish(&t.p), 0);
	CHECK_EQ(pop_all(&t), 1);

	/* Consumer arms on an empty ring: told to sleep, next publish rings once. */
	CHECK_EQ(ddvm_cons_want_data(&t.c), 0);
	CHECK_EQ(ddvm_le32_to_cpu(t.c.sh->data_event), (uint32_t)(base + 4));
	CHECK_EQ(ddvm_prod_publish(&t.p), 0);	/* nothing new: no ring */
	push_n(&t, 3);
	CHECK_EQ(ddvm_prod_publish(&t.p), 1);
	push_n(&t, 1);
	CHECK_EQ(ddvm_prod_publish(&t.p), 0);	/* not re-armed */

	/* Arming with work waiting: re-check says go on, and no doorbell follows. */
	CHECK_EQ(ddvm_cons_want_data(&t.c), 4);
	push_n(&t, 1);
	CHECK_EQ(ddvm_prod_publish(&t.p), 0);
	CHECK_EQ(pop_all(&t), 5);

	/* Armed, then the consumer keeps polling and drains: the event stays put. */
	CHECK_EQ(ddvm_cons_want_data(&t.c), 0);
	push_n(&t, 2);
	CHECK_EQ(ddvm_prod_publish(&t.p), 1);
	CHECK_EQ(pop_all(&t), 2);
	push_n(&t, 2);
	CHECK_EQ(ddvm_prod_publish(&t.p), 0);
	tring_close(&t);
}

static void test_events_space(uint32_t base)
{
	struct ddvm_slot s;
	struct tring t;

	CHECK_EQ(tring_open(&t, 4, 0), 0);
	tring_rebase(&t, base);		/* space_event = base */
	push_n(&t, 4);
	ddvm_prod_publish(&t.p);
	slot_make(&s, 9);
	CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_EFULL);

	/* Fresh event index: the first consumed entry rings. */
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), 0);
	CHECK_EQ(ddvm_cons_publish(&t.c), 1);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), 0);
	CHECK_EQ(ddvm_cons_publish(&t.c), 0);	/* producer did not ask */
	CHECK_EQ(ddvm_cons_publish(&t.c), 0);	/* nothing moved */

	/* Producer fills up, arms, is told to wait; next release rings once. */
	push_n(&t, 2);
	ddvm_prod_publish(&t.p);
	CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_EFULL);
	CHECK_EQ(ddvm_prod_want_space(&t.p), 0);
	CHECK_EQ(ddvm_le32_to_cpu(t.p.sh->space_event), (uint32_t)(base + 2));
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), 0);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), 0);
	CHECK_EQ(ddvm_cons_publish(&t.c), 1);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), 0);
	CHECK_EQ(ddvm_cons_publish(&t.c), 0);

	/* Arming while space is free: re-check says go on. */
	CHECK_EQ(ddvm_prod_want_space(&t.p), 3);
	tring_close(&t);
}

/* A hostile peer index is refused on every path, with no access past the ring. */
static void test_corrupt(uint32_t base)
{
	const uint32_t n = 8;
	struct ddvm_slot s;
	struct tring t;
	uint32_t bad[] = { n + 1, n + 2, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0xfffffff8u };
	unsigned int i;

	CHECK_EQ(tring_open(&t, n, 64), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Consumer: prod - cons > nslots (ahead or behind). */
		tring_rebase(&t, base);
		t.p.sh->prod = ddvm_cpu_to_le32(base + bad[i]);
		CHECK_EQ(ddvm_cons_avail(&t.c), DDVM_RING_ECORRUPT);
		CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_ECORRUPT);
		CHECK_EQ(ddvm_cons_want_data(&t.c), DDVM_RING_ECORRUPT);

		/* Producer: cons ahead of prod, or more than nslots behind. */
		tring_rebase(&t, base);
		t.c.sh->cons = ddvm_cpu_to_le32(base - bad[i]);
		CHECK_EQ(ddvm_prod_space(&t.p), DDVM_RING_ECORRUPT);
		CHECK_EQ(ddvm_prod_want_space(&t.p), DDVM_RING_ECORRUPT);

		/* Producer with a full ring: the re-read on push catches it. */
		tring_rebase(&t, base);
		push_n(&t, n);
		ddvm_prod_publish(&t.p);
		t.c.sh->cons = ddvm_cpu_to_le32(base + n - bad[i]);
		CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_ECORRUPT);

		/* Reattach while the peer's index is impossible: caught on first use. */
		tring_rebase(&t, base);
		t.p.sh->prod = ddvm_cpu_to_le32(base + bad[i]);
		ddvm_cons_resume(&t.c);
		CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_ECORRUPT);
		tring_rebase(&t, base);
		t.c.sh->cons = ddvm_cpu_to_le32(base - bad[i]);
		ddvm_prod_resume(&t.p);
		CHECK_EQ(ddvm_prod_push(&t.p, &s), DDVM_RING_ECORRUPT);

		/* Our own index tampered with while we were away: caught too. */
		tring_rebase(&t, base);
		t.c.sh->cons = ddvm_cpu_to_le32(base - bad[i]);
		ddvm_cons_resume(&t.c);
		CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_ECORRUPT);
	}

	/* Exactly nslots in flight is legal; one more is not. */
	tring_rebase(&t, base);
	t.p.sh->prod = ddvm_cpu_to_le32(base + n);
	CHECK_EQ(ddvm_cons_avail(&t.c), n);
	CHECK_EQ(pop_all(&t), n);	/* stale slots, but only the n allowed */
	tring_rebase(&t, base);
	t.p.sh->prod = ddvm_cpu_to_le32(base + n + 1);
	CHECK_EQ(pop_all(&t), 0);

	/*
	 * A consumer that validated n entries pops exactly n even if the peer
	 * rewrites prod meanwhile; then the new value is checked.
	 */
	tring_rebase(&t, base);
	push_n(&t, 3);
	ddvm_prod_publish(&t.p);
	CHECK_EQ(ddvm_cons_avail(&t.c), 3);
	t.p.sh->prod = ddvm_cpu_to_le32(base + 0x1000);
	CHECK_EQ(pop_all(&t), 3);
	CHECK_EQ(ddvm_cons_pop(&t.c, &s), DDVM_RING_ECORRUPT);
	tring_close(&t);
}

static void test_bind(void)
{
	struct ddvm_ring r;
	static uint8_t mem[0x4000] __attribute__((aligned(64)));
	const uint64_t big = 0xffffffffffffffc0ull;

	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 0, 8), 0);
	CHECK_EQ(r.nslots, 8);
	CHECK(r.sh == (volatile void *)mem);
	CHECK(r.slots == (volatile void *)(mem + 128));
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 0, 1), 0);
	CHECK_EQ(ddvm_ring_bind(NULL, mem, sizeof(mem), 0, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, NULL, sizeof(mem), 0, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 0, 0), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 0, 3), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 0, 96), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 0, 0xffffffffu), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 0, 0x80000000u), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, 1ull << 40, 0, DDVM_MAX_RING_SLOTS), 0);
	CHECK_EQ(ddvm_ring_bind(&r, mem, 1ull << 40, 0, DDVM_MAX_RING_SLOTS * 2), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 32, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 1, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), 64, 8), 0);
	/* Exactly at the end fits; one alignment step further does not. */
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), sizeof(mem) - ddvm_ring_bytes(8), 8), 0);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), sizeof(mem) - ddvm_ring_bytes(8) + 64, 8),
		 DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), sizeof(mem), 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), sizeof(mem) + 64, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, 100, 0, 1), DDVM_RING_EINVAL);
	/* Offsets near UINT64_MAX must not wrap around into the region. */
	CHECK_EQ(ddvm_ring_bind(&r, mem, sizeof(mem), big, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, UINT64_MAX, big, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, UINT64_MAX, big - 64 * 8, 8), DDVM_RING_EINVAL);
	CHECK_EQ(ddvm_ring_bind(&r, mem, big, big, 1), DDVM_RING_EINVAL);
}

/*
 * Two threads move up to 1M items through a small ring, each sleeping on an
 * eventfd whenever the event protocol lets it.  A lost wakeup shows up as a
 * thread that waits past the deadline.
 */
#define STRESS_WAIT_MS	5000

struct stress {
	struct tring t;
	int data_fd, space_fd;		/* doorbells: to the consumer, to the producer */
	uint64_t doorbells_data, doorbells_space, sleeps_c, sleeps_p;
	const char *err_p, *err_c;	/* first failure seen by each thread */
	uint64_t err_at;
	uint64_t items;
};

/* Wait for a doorbell; -1 on timeout (a lost wakeup) or error. */
static int doorbell_wait(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, STRESS_WAIT_MS) != 1)
		return -1;
	return read(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static void doorbell_ring(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void *stress_producer(void *arg)
{
	struct stress *st = arg;
	struct ddvm_slot s;
	uint64_t next = 0;

	while (next < st->items) {
		int rc, batch = 0;

		while (next < st->items && batch < 64) {
			slot_make(&s, next);
			rc = ddvm_prod_push(&st->t.p, &s);
			if (rc == DDVM_RING_EFULL)
				break;
			if (rc != 0) {
				st->err_p = "push failed";
				return NULL;
			}
			next++;
			batch++;
		}
		if (ddvm_prod_publish(&st->t.p)) {
			st->doorbells_data++;
			doorbell_ring(st->data_fd);
		}
		if (batch == 0) {
			rc = ddvm_prod_want_space(&st->t.p);
			if (rc < 0) {
				st->err_p = "want_space failed";
				return NULL;
			}
			if (rc == 0) {
				st->sleeps_p++;
				if (doorbell_wait(st->space_fd)) {
					st->err_p = "producer: lost wakeup (no space doorbell)";
					st->err_at = next;
					return NULL;
				}
			}
		}
	}
	return NULL;
}

static void *stress_consumer(void *arg)
{
	struct stress *st = arg;
	struct ddvm_slot s, want;
	uint64_t next = 0;

	while (next < st->items) {
		int rc, batch = 0;

		while ((rc = ddvm_cons_pop(&st->t.c, &s)) == 0) {
			slot_make(&want, next);
			if (!slot_equal(&s, &want)) {
				st->err_c = "item out of order or corrupted";
				st->err_at = next;
				return NULL;
			}
			next++;
			if (++batch == 48)
				break;
		}
		if (rc != 0 && rc != DDVM_RING_EEMPTY) {
			st->err_c = "pop failed";
			return NULL;
		}
		if (ddvm_cons_publish(&st->t.c)) {
			st->doorbells_space++;
			doorbell_ring(st->space_fd);
		}
		if (batch == 0 && next < st->items) {
			rc = ddvm_cons_want_data(&st->t.c);
			if (rc < 0) {
				st->err_c = "want_data failed";
				return NULL;
			}
			if (rc == 0) {
				st->sleeps_c++;
				if (doorbell_wait(st->data_fd)) {
					st->err_c = "consumer: lost wakeup (no data doorbell)";
					st->err_at = next;
					return NULL;
				}
			}
		}
	}
	return NULL;
}

static void test_stress(uint32_t nslots, uint32_t base, uint32_t items)
{
	struct stress st;
	pthread_t tp, tc;
	struct timespec t0, t1;
	double secs;

	memset(&st, 0, sizeof(st));
	st.items = items;
	CHECK_EQ(tring_open(&st.t, nslots, 0), 0);
	tring_rebase(&st.t, base);
	st.data_fd = eventfd(0, EFD_CLOEXEC);
	st.space_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(st.data_fd >= 0 && st.space_fd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(pthread_create(&tc, NULL, stress_consumer, &st), 0);
	CHECK_EQ(pthread_create(&tp, NULL, stress_producer, &st), 0);
	pthread_join(tp, NULL);
	if (st.err_p)	/* let a consumer blocked on the dead producer finish */
		doorbell_ring(st.data_fd);
	pthread_join(tc, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (st.err_p)
		fprintf(stderr, "stress: %s at item %llu\n", st.err_p, (unsigned long long)st.err_at);
	if (st.err_c)
		fprintf(stderr, "stress: %s at item %llu\n", st.err_c, (unsigned long long)st.err_at);
	CHECK(st.err_p == NULL);
	CHECK(st.err_c == NULL);
	CHECK_EQ(ddvm_le32_to_cpu(st.t.c.sh->cons), (uint32_t)(base + items));
	printf("  stress nslots=%u: %u items in %.2fs, doorbells data=%llu space=%llu, "
	       "sleeps consumer=%llu producer=%llu\n", nslots, items, secs,
	       (unsigned long long)st.doorbells_data, (unsigned long long)st.doorbells_space,
	       (unsigned long long)st.sleeps_c, (unsigned long long)st.sleeps_p);
	close(st.data_fd);
	close(st.space_fd);
	tring_close(&st.t);
}

int main(void)
{
	static const uint32_t bases[] = { 0, 0x7ffffffeu, 0xfffffff0u, 0xffffffffu };
	unsigned int i;

	test_empty();
	test_full_fifo(1);
	test_full_fifo(8);
	test_full_fifo(64);
	test_full_fifo(DDVM_MAX_RING_SLOTS);
	test_laps();
	test_wrap();
	test_need_event();
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		test_events_data(bases[i]);
		test_events_space(bases[i]);
		test_corrupt(bases[i]);
	}
	test_bind();
	test_stress(8, 0xfff00000u, 200000);
	test_stress(64, 0, 1000000);
	return check_summary("test-ring");
}
