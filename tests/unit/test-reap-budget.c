// SPDX-License-Identifier: MIT
/*
 * A driver VM that keeps its producer index moving -- a response ring that
 * never runs dry -- cannot hold libddvm's clients in their polling loop:
 * each call takes at most DDVM_REAP_BUDGET responses per slot, publishes,
 * rings the client's own doorbell for the rest and returns, so deadlines
 * still expire (the block client fails the stalled request with EIO on
 * time).  The spinning driver VM is deterministic: the fake transport's
 * clock, which the clients read for every dropped response (rate-limited
 * logging), refills the ring each time it is read.  An alarm turns a
 * client stuck in its loop into a failure.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/blkc_harness.h"
#include "../lib/netc_harness.h"
#include "check.h"

static struct ddvm_ring *spin_cons;	/* the client's view of the ring that spins */
static uint64_t spun, self_rings, tick_ns;
static int spinning;

/*
 * The clock: every read also pushes one more garbage response, if the
 * client's own (unpublished) consumer index leaves room -- a driver VM that
 * wins every race with the client's publish-and-recheck.
 */
static uint64_t spin_now(struct ddvm_transport *t)
{
	struct fake_chan *fc = fc_of(t);
	struct ddvm_ring *d = &fc->dresp;

	if (spinning && d->idx - spin_cons->idx < d->nslots) {
		volatile struct ddvm_slot *rs = &d->slots[d->idx & (d->nslots - 1)];

		rs->id = ddvm_cpu_to_le64(0x7777000000000000ull | spun);	/* nobody's */
		rs->op = ddvm_cpu_to_le16(DDVM_OP_READ);
		rs->status = ddvm_cpu_to_le32(DDVM_S_OK);
		rs->len = 0;
		d->idx++;
		__atomic_store_n(&d->sh->prod, ddvm_cpu_to_le32(d->idx), __ATOMIC_RELEASE);
		spun++;
	}
	fc->now += tick_ns;
	return fc->now;
}

static int spin_ring(struct ddvm_transport *t, uint16_t peer, uint16_t vector)
{
	if (peer == t->self_id) {
		self_rings++;
		return 0;
	}
	return fc_ring(t, peer, vector);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "test-reap-budget: a client stayed in its loop (spinning driver VM)\n";
	(void)!write(2, m, sizeof(m) - 1);
	_exit(1);
}

static void spin_on(struct fake_chan *fc, struct ddvm_ring *client_resp)
{
	spin_cons = client_resp;
	fc->ops.now_ns = spin_now;
	fc->ops.ring = spin_ring;
	spun = self_rings = 0;
	spinning = 1;
}

/* Block: one read the driver VM takes and never answers, a flood of garbage meanwhile. */
static void test_blk(void)
{
	static struct harness h;
	struct ddvm_slot rq;
	unsigned int polls;
	int k;

	CHECK_EQ(h_init(&h, 8, 4096, 4096, 512, 1 << 20, 1, 0), 0);
	k = ddvm_blkc_claim(&h.c);
	CHECK(k >= 0);
	CHECK_EQ(ddvm_blkc_submit(&h.c, (uint32_t)k, DDVM_OP_READ, 0, 0, 4096, &h), 0);
	CHECK_EQ(h_take(&h, &rq), 0);		/* taken, never answered */
	tick_ns = 1000000;			/* 1 ms per clock read: the 1 s timeout comes */
	spin_on(&h.ch, &h.c.resp);
	alarm(10);
	for (polls = 0; polls < 10000 && !h.ndone[k]; polls++) {
		uint64_t before = spun;

		ddvm_blkc_poll(&h.c);
		CHECK(spun - before <= DDVM_REAP_BUDGET * 8 + 1);	/* one pass, bounded */
	}
	alarm(0);
	CHECK(polls > 1);			/* it did come back for more */
	CHECK(self_rings >= 1);			/* and asked to be woken for it */
	CHECK_EQ(h.ndone[k], 1);		/* the stalled read failed on time ... */
	CHECK_EQ(h.result[k], -DDVM_EIO);	/* ... with EIO */
	CHECK(h.c.n_stale >= spun - 8);		/* the garbage was dropped, not taken */
	spinning = 0;
	h_fini(&h);
}

/* Net: garbage answers keep coming; each poll returns. */
static void test_net(void)
{
	static struct nharness h;
	unsigned int i;

	CHECK_EQ(n_init(&h, 8, 2048, 0, 0), 0);
	tick_ns = 1000;
	spin_on(&h.ch, &h.c.resp);
	spin_now(&h.ch.t);			/* the first; each one read brings the next */
	alarm(10);
	for (i = 0; i < 50; i++) {
		uint64_t before = spun;

		CHECK_EQ(ddvm_netc_poll(&h.c), 0);
		CHECK(spun - before <= DDVM_REAP_BUDGET * 8 + 1);
	}
	alarm(0);
	CHECK(self_rings >= 49);
	CHECK(h.c.n.rx_bad[DDVM_NET_RESP_BAD_ID] >= spun - 8);
	spinning = 0;
	n_fini(&h);
}

int main(void)
{
	(void)n_answer_rx;	/* harness helpers this test does not need */
	(void)h_kill;
	(void)h_hdr;
	signal(SIGALRM, on_alarm);
	test_blk();
	test_net();
	return check_summary("test-reap-budget");
}
