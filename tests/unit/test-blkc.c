// SPDX-License-Identifier: MIT
/*
 * libddvm's block client (lib/blk_client.c) through a fake transport and a
 * scripted driver VM (tests/lib/blkc_harness.h): data both ways, splitting,
 * validation of what the client submits and of every response, deadlines,
 * a driver VM's death with resubmission, a poison pill, broken rings healed
 * by a restart, a transport that cannot see peers leave, impossible
 * parameters waited out.
 */
#include "../lib/blkc_harness.h"
#include "check.h"

#define MiB (1ull << 20)

static int claim_submit(struct harness *h, uint16_t op, uint64_t off, uint32_t len, void *cookie)
{
	int k = ddvm_blkc_claim(&h->c);

	if (k < 0)
		return k;
	if (ddvm_blkc_submit(&h->c, (uint32_t)k, op, 0, off, len, cookie) < 0) {
		ddvm_blkc_release(&h->c, (uint32_t)k);
		return -1;
	}
	return k;
}

/* Split I/O with ddvm_blkc_io: 1 MiB written in 64 KiB pieces, read back. */
static void test_sync_io(void)
{
	struct harness h;
	uint8_t *w = malloc(MiB), *r = malloc(MiB);
	uint64_t i;

	CHECK_EQ(h_init(&h, 8, 65536, 65536, 512, 4 * MiB, 0, 1), 0);
	h.ch.serve_in_wait = 1;
	for (i = 0; i < MiB; i++)
		w[i] = (uint8_t)(i * 7 + i / 4096);
	CHECK_EQ(ddvm_blkc_io(&h.c, DDVM_OP_WRITE, 0, 512 * 3, MiB, w), 0);
	CHECK(memcmp(h.disk + 512 * 3, w, MiB) == 0);
	memset(r, 0, MiB);
	CHECK_EQ(ddvm_blkc_io(&h.c, DDVM_OP_READ, 0, 512 * 3, MiB, r), 0);
	CHECK(memcmp(r, w, MiB) == 0);
	CHECK_EQ(ddvm_blkc_io(&h.c, DDVM_OP_FLUSH, 0, 0, 0, NULL), 0);
	CHECK_EQ(ddvm_blkc_io(&h.c, DDVM_OP_WRITE_ZEROES, 0, 512 * 3, 4096, NULL), 0);
	CHECK_EQ(h.disk[512 * 3], 0);
	/* unaligned, past the end */
	CHECK_EQ(ddvm_blkc_io(&h.c, DDVM_OP_READ, 0, 100, 512, r), -DDVM_EINVAL);
	CHECK_EQ(ddvm_blkc_io(&h.c, DDVM_OP_READ, 0, 4 * MiB - 512, 1024, r), -DDVM_EINVAL);
	CHECK_EQ(h.c.nfree, 8);
	free(w);
	free(r);
	h_fini(&h);
}

/* Submit validation: the slot stays claimed on refusal. */
static void test_submit_checks(void)
{
	struct harness h;
	int k;

	CHECK_EQ(h_init(&h, 4, 8192, 8192, 4096, MiB, 1, 1), 0);
	k = ddvm_blkc_claim(&h.c);
	CHECK(k >= 0);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k, DDVM_OP_READ, 0, 512, 4096, NULL), -DDVM_EINVAL);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k, DDVM_OP_READ, 0, 0, 12288, NULL), -DDVM_EINVAL);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k, DDVM_OP_READ, 0, MiB, 4096, NULL), -DDVM_EINVAL);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k, DDVM_OP_WRITE, 0x80, 0, 4096, NULL), -DDVM_EINVAL);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k, 99, 0, 0, 4096, NULL), -DDVM_EINVAL);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k + 1, DDVM_OP_READ, 0, 0, 4096, NULL), -DDVM_EINVAL);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k, DDVM_OP_DISCARD, 0, 0, MiB, NULL), 0);
	CHECK_EQ(ddvm_blkc_state(&h.c, (uint32_t)k), 1);
	CHECK_EQ(h_serve_all(&h), 1);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[k], 1);
	CHECK_EQ(h.result[k], 0);
	ddvm_blkc_release(&h.c, (uint32_t)k);
	CHECK_EQ(h.c.nfree, 4);
	h_fini(&h);
}

/* Responses: a stale id is dropped, a wrong len or status fails only its request. */
static void test_bad_responses(void)
{
	struct harness h;
	struct ddvm_slot rq[4], bad;
	int k[4], i;

	CHECK_EQ(h_init(&h, 4, 4096, 4096, 512, MiB, 1, 1), 0);
	h.ch.quiet = 1;
	memset(h.disk, 0x5a, 4096);
	for (i = 0; i < 4; i++) {
		k[i] = claim_submit(&h, DDVM_OP_READ, 0, 4096, (void *)(long)(i + 1));
		CHECK(k[i] >= 0);
		CHECK_EQ(h_take(&h, &rq[i]), 0);
	}
	CHECK(h.ch.rings > 0);
	bad = rq[0];
	bad.id ^= ddvm_cpu_to_le64(1ull << 20);	/* another sequence: stale */
	h_answer(&h, &bad, DDVM_S_OK);
	bad = rq[1];
	bad.len = ddvm_cpu_to_le32(8192);
	h_answer(&h, &bad, DDVM_S_OK);
	h_answer(&h, &rq[2], 77);			/* unknown status */
	h_answer(&h, &rq[3], h_exec(&h, &rq[3]));
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[k[0]], 0);
	CHECK_EQ(h.c.n_stale, 1);
	CHECK_EQ(h.result[k[1]], -DDVM_EIO);
	CHECK_EQ(h.result[k[2]], -DDVM_EIO);
	CHECK_EQ(h.ndone[k[3]], 1);
	CHECK_EQ(h.result[k[3]], 0);
	CHECK(h.cookie[k[3]] == (void *)4L);
	CHECK_EQ(((volatile uint8_t *)ddvm_blkc_buf(&h.c, (uint32_t)k[3]))[100], 0x5a);
	/* The real answer for k[0] still counts; a second copy of it is stale. */
	h_answer(&h, &rq[0], DDVM_S_RANGE);
	h_answer(&h, &rq[0], DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[k[0]], 1);
	CHECK_EQ(h.result[k[0]], -DDVM_EINVAL);
	CHECK_EQ(h.c.n_stale, 2);
	h_fini(&h);
}

/* A request not answered in time fails; its slot is quarantined until answered. */
static void test_deadline(void)
{
	struct harness h;
	struct ddvm_slot rq;
	int k;

	CHECK_EQ(h_init(&h, 2, 4096, 4096, 512, MiB, 1, 1), 0);
	h.ch.quiet = 1;
	k = claim_submit(&h, DDVM_OP_WRITE, 4096, 4096, NULL);
	CHECK_EQ(h_take(&h, &rq), 0);
	CHECK_EQ(ddvm_blkc_next_deadline(&h.c), h.ch.now + 1000000000ull);
	h.ch.now += 999999999ull;
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[k], 0);
	h.ch.now += 1;
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[k], 1);
	CHECK_EQ(h.result[k], -DDVM_EIO);
	CHECK_EQ(h.c.n_timeouts, 1);
	ddvm_blkc_release(&h.c, (uint32_t)k);
	CHECK_EQ(h.c.nfree, 1);				/* quarantined */
	h_answer(&h, &rq, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.c.nfree, 2);				/* the late answer frees it */
	CHECK_EQ(h.ndone[k], 1);			/* and completes nothing */
	h_fini(&h);
}

/*
 * The driver VM dies holding two requests; a third it never took.  The
 * successor gets the third at once, then the two again, one at a time, and
 * new requests wait until they are answered.
 */
static void run_death(int peer_present)
{
	struct harness h;
	struct ddvm_slot rq, a, b;
	int k[4], i;

	CHECK_EQ(h_init(&h, 8, 4096, 4096, 512, MiB, 1, peer_present), 0);
	h.ch.quiet = 1;
	for (i = 0; i < 3; i++)
		k[i] = claim_submit(&h, DDVM_OP_READ, (uint64_t)i * 4096, 4096, NULL);
	CHECK_EQ(h_take(&h, &a), 0);
	CHECK_EQ(h_take(&h, &b), 0);
	h_kill(&h);
	ddvm_blkc_poll(&h.c);
	if (peer_present)
		CHECK_EQ(h.c.serial, 2);
	h_boot(&h);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.c.serial, 2);
	k[3] = claim_submit(&h, DDVM_OP_READ, 3 * 4096, 4096, NULL);	/* waits */
	CHECK_EQ(h_take(&h, &rq), 0);				/* never taken: served first */
	CHECK_EQ(ddvm_le64_to_cpu(rq.offset), 2 * 4096);
	CHECK(h_take(&h, &rq) == DDVM_RING_EEMPTY);		/* suspects wait for it */
	h_answer(&h, &rq, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h_take(&h, &rq), 0);				/* suspect 1, alone */
	CHECK(rq.id == a.id);
	CHECK(h_take(&h, &rq) == DDVM_RING_EEMPTY);
	h_answer(&h, &rq, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h_take(&h, &rq), 0);				/* suspect 2 */
	CHECK(rq.id == b.id);
	h_answer(&h, &rq, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h_take(&h, &rq), 0);				/* then the new one */
	CHECK_EQ(ddvm_le64_to_cpu(rq.offset), 3 * 4096);
	h_answer(&h, &rq, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(h.ndone[k[i]], 1);
		CHECK_EQ(h.result[k[i]], 0);
	}
	CHECK_EQ(h.c.n_resubmitted, 2);
	h_fini(&h);
}

/*
 * The client notices a restart late (a transport that cannot see peers
 * leave): the successor has already taken a request the dead instance never
 * took.  Its resume_idx says where it started, so that request is not taken
 * for one the dead instance held (it would be pushed twice).
 */
static void test_successor_first(void)
{
	struct harness h;
	struct ddvm_slot a, rq;
	int k1, k2;

	CHECK_EQ(h_init(&h, 8, 4096, 4096, 512, MiB, 1, 0), 0);
	h.ch.quiet = 1;
	k1 = claim_submit(&h, DDVM_OP_READ, 0, 4096, NULL);
	k2 = claim_submit(&h, DDVM_OP_READ, 4096, 4096, NULL);
	CHECK_EQ(h_take(&h, &a), 0);			/* the first instance takes k1 */
	h_kill(&h);
	h_boot(&h);
	CHECK_EQ(h_take(&h, &rq), 0);			/* the successor takes k2 at once */
	CHECK_EQ(ddvm_le64_to_cpu(rq.offset), 4096);
	ddvm_blkc_poll(&h.c);				/* only now the client looks */
	CHECK_EQ(h.c.n_resubmitted, 1);			/* k1 alone */
	h_answer(&h, &rq, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h_take(&h, &rq), 0);
	CHECK(rq.id == a.id);
	CHECK(h_take(&h, &rq) == DDVM_RING_EEMPTY);	/* k2 was not pushed again */
	h_answer(&h, &a, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[k1], 1);
	CHECK_EQ(h.ndone[k2], 1);
	CHECK_EQ(h.result[k1], 0);
	CHECK_EQ(h.result[k2], 0);
	h_fini(&h);
}

/* A write that kills two driver VMs in a row, the second holding it alone, fails. */
static void test_poison_pill(void)
{
	struct harness h;
	struct ddvm_slot pill, other, rq;
	int kp, ko;

	CHECK_EQ(h_init(&h, 8, 4096, 4096, 512, MiB, 1, 1), 0);
	h.ch.quiet = 1;
	kp = claim_submit(&h, DDVM_OP_WRITE, 0, 4096, NULL);
	ko = claim_submit(&h, DDVM_OP_WRITE, 4096, 4096, NULL);
	CHECK_EQ(h_take(&h, &pill), 0);
	CHECK_EQ(h_take(&h, &other), 0);
	h_kill(&h);					/* dies holding both */
	ddvm_blkc_poll(&h.c);
	h_boot(&h);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h_take(&h, &rq), 0);			/* the pill first, alone */
	CHECK(rq.id == pill.id);
	h_kill(&h);					/* and it kills this one too */
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[kp], 1);
	CHECK_EQ(h.result[kp], -DDVM_EIO);
	CHECK_EQ(h.c.n_poisoned, 1);
	h_boot(&h);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h_take(&h, &rq), 0);			/* the other one completes */
	CHECK(rq.id == other.id);
	h_answer(&h, &rq, DDVM_S_OK);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[ko], 1);
	CHECK_EQ(h.result[ko], 0);
	h_fini(&h);
}

/* An impossible response index breaks the rings; a restarted driver VM heals them. */
static void test_broken_rings_heal(void)
{
	struct harness h;
	struct ddvm_slot rq;
	int k1, k2;

	CHECK_EQ(h_init(&h, 4, 4096, 4096, 512, MiB, 1, 1), 0);
	h.ch.quiet = 1;
	k1 = claim_submit(&h, DDVM_OP_READ, 0, 4096, NULL);
	CHECK_EQ(h_take(&h, &rq), 0);
	h.ch.dresp.sh->prod = ddvm_cpu_to_le32(h.ch.dresp.idx + 1000);	/* hostile */
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.c.broken, 1);
	CHECK_EQ(h.result[k1], -DDVM_EIO);
	CHECK(strstr(h.ch.last_log, "waiting for a restarted driver VM") != NULL);
	ddvm_blkc_release(&h.c, (uint32_t)k1);
	k2 = claim_submit(&h, DDVM_OP_READ, 4096, 4096, NULL);		/* held, not failed */
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(ddvm_blkc_state(&h.c, (uint32_t)k2), 1);
	CHECK(h_take(&h, &rq) == DDVM_RING_EEMPTY);
	h_kill(&h);
	ddvm_blkc_poll(&h.c);
	h_boot(&h);					/* resets the impossible prod */
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.c.broken, 0);
	CHECK_EQ(h_serve_all(&h), 1);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.ndone[k2], 1);
	CHECK_EQ(h.result[k2], 0);
	ddvm_blkc_release(&h.c, (uint32_t)k2);
	CHECK_EQ(h.c.nfree, 4);				/* the quarantined slot came back too */
	h_fini(&h);
}

/* Without a restart, held requests fail at their deadline, with a clear reason. */
static void test_broken_rings_deadline(void)
{
	struct harness h;
	int k;

	CHECK_EQ(h_init(&h, 4, 4096, 4096, 512, MiB, 1, 1), 0);
	h.ch.quiet = 1;
	h.ch.dresp.sh->prod = ddvm_cpu_to_le32(77777);			/* hostile */
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.c.broken, 1);
	k = claim_submit(&h, DDVM_OP_READ, 0, 4096, NULL);
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(ddvm_blkc_state(&h.c, (uint32_t)k), 1);
	h.ch.now += 2000000000ull;
	ddvm_blkc_poll(&h.c);
	CHECK_EQ(h.result[k], -DDVM_EIO);
	CHECK(strstr(h.ch.last_log, "no healthy driver VM") != NULL);
	h_fini(&h);
}

/* Impossible parameters: ready says EAGAIN (logged once per generation) until a good instance. */
static void test_bogus_parameters(void)
{
	struct harness h;
	struct ddvm_blkc c;
	void *mem;
	unsigned int n;

	CHECK_EQ(h_init(&h, 4, 4096, 4096, 512, MiB, 1, 1), 0);
	h.ch.quiet = 1;
	h_publish(&h, 1000);				/* not a multiple of 512 */
	CHECK_EQ(ddvm_blkc_open(&c, &h.ch.t, -1, 0), 0);
	mem = aligned_alloc(8, (ddvm_blkc_mem_bytes(&c) + 7) / 8 * 8);
	CHECK_EQ(ddvm_blkc_ready(&c, mem, ddvm_blkc_mem_bytes(&c), 1000, 1, NULL, NULL), -DDVM_EAGAIN);
	n = h.ch.nlog;
	CHECK(strstr(h.ch.last_log, "impossible parameters") != NULL);
	CHECK_EQ(ddvm_blkc_ready(&c, mem, ddvm_blkc_mem_bytes(&c), 1000, 1, NULL, NULL), -DDVM_EAGAIN);
	CHECK_EQ(h.ch.nlog, n);				/* once per generation */
	h_kill(&h);
	h_boot(&h);					/* publishes good ones */
	CHECK_EQ(ddvm_blkc_ready(&c, mem, ddvm_blkc_mem_bytes(&c), 1000, 1, NULL, NULL), 0);
	CHECK_EQ(c.st.max_transfer, 4096);
	/* the region is not a ddvm region at all */
	h_hdr(&h)->magic = 0;
	CHECK_EQ(ddvm_blkc_open(&c, &h.ch.t, -1, 0), -DDVM_EPROTO);
	h_hdr(&h)->magic = ddvm_cpu_to_le32(DDVM_MAGIC);
	CHECK_EQ(ddvm_blkc_open(&c, &h.ch.t, -1, 1), -DDVM_ENOENT);
	free(mem);
	h_fini(&h);
}

static void test_fmt(void)
{
	char b[64];

	CHECK_EQ(ddvm_fmt(b, sizeof(b), "%s=%u %d %016llx %5s|%-3d|%c%%", "x", 42u, -7,
			  0xabcull, "ab", 5, 'z'), 37);
	CHECK(strcmp(b, "x=42 -7 0000000000000abc    ab|5  |z%") == 0);
	CHECK_EQ(ddvm_fmt(b, 6, "%s", "truncated"), 5);
	CHECK(strcmp(b, "trunc") == 0);
	ddvm_fmt(b, sizeof(b), "%zu %lu %05d", (size_t)9, 10ul, -42);
	CHECK(strcmp(b, "9 10 -0042") == 0);
}

int main(void)
{
	test_fmt();
	test_sync_io();
	test_submit_checks();
	test_bad_responses();
	test_deadline();
	run_death(1);
	run_death(0);	/* a transport that cannot see peers leave: the generation tells */
	test_successor_first();
	test_poison_pill();
	test_broken_rings_heal();
	test_broken_rings_deadline();
	test_bogus_parameters();
	return check_summary("test-blkc");
}
