// SPDX-License-Identifier: MIT
/*
 * libddvm's control client (lib/ctrl_client.c) against a scripted driver
 * VM on a malloc'd region: a ping answered, answered wrongly, answered late
 * (stale after a timeout), a crash request, a corrupt response ring.
 */
#include <stdlib.h>
#include <string.h>

#include "ddvm/ctrl_client.h"
#include "ddvm/posix/region_setup.h"
#include "check.h"

static uint64_t clock_ns = 1000;
static unsigned int rings;

static int t_ring(struct ddvm_transport *t, uint16_t peer, uint16_t vector)
{
	(void)t;
	(void)vector;
	if (peer != 7)
		return -DDVM_ENOENT;
	rings++;
	return 0;
}

static uint64_t t_now(struct ddvm_transport *t)
{
	(void)t;
	return clock_ns;
}

/* The driver VM takes a request (and says so: cons published). */
static int take(struct ddvm_ring *r, struct ddvm_slot *rq)
{
	int n = ddvm_cons_pop(r, rq);

	ddvm_cons_publish(r);
	return n;
}

static const struct ddvm_transport_ops ops = { .ring = t_ring, .now_ns = t_now };

int main(void)
{
	struct ddvm_region_spec spec = { .host_peer_id = 0, .heartbeat_period_ms = 100,
					 .pci_table_max = 4, .nqueues = 1 };
	struct ddvm_layout lay;
	struct ddvm_transport t = { .ops = &ops, .self_id = 0 };
	struct ddvm_ctrlc c;
	struct ddvm_ring dreq, dresp;
	struct ddvm_slot rq;
	uint64_t rtt = 0;
	uint8_t *mem;

	spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_CTRL, .nslots = 4, .data_size = 4096 };
	mem = aligned_alloc(4096, DDVM_MIN_REGION_SIZE);
	CHECK_EQ(ddvm_region_setup(mem, DDVM_MIN_REGION_SIZE, &spec, &lay), 0);
	((struct ddvm_region_hdr *)mem)->guest_peer_id = ddvm_cpu_to_le16(7);
	t.base = mem;
	t.size = DDVM_MIN_REGION_SIZE;
	CHECK_EQ(ddvm_ctrlc_open(&c, &t, &lay, 0), 0);
	ddvm_ring_bind(&dreq, mem, lay.region_size, lay.q[0].req_ring_off, 4);
	ddvm_ring_bind(&dresp, mem, lay.region_size, lay.q[0].resp_ring_off, 4);
	ddvm_cons_resume(&dreq);
	ddvm_prod_resume(&dresp);
	/* the client wants a doorbell for the first response: arm it */
	CHECK_EQ(ddvm_ctrlc_poll(&c, &rtt), 0);

	/* an honest round trip */
	CHECK_EQ(ddvm_ctrlc_ping_send(&c, 0x1234, 1000), 0);
	CHECK_EQ(ddvm_ctrlc_ping_send(&c, 0x1234, 1000), -DDVM_EAGAIN);
	CHECK_EQ(take(&dreq, &rq), 0);
	CHECK_EQ(ddvm_le16_to_cpu(rq.op), DDVM_OP_PING);
	CHECK(ddvm_le64_to_cpu(rq.arg0) == 0x1234);
	clock_ns += 500;
	ddvm_prod_push(&dresp, &rq);
	CHECK_EQ(ddvm_prod_publish(&dresp), 1);		/* it asked for a doorbell */
	CHECK_EQ(ddvm_ctrlc_poll(&c, &rtt), 1);
	CHECK_EQ(rtt, 500);

	/* a wrong cookie */
	CHECK_EQ(ddvm_ctrlc_ping_send(&c, 0x55, 1000), 0);
	CHECK_EQ(take(&dreq, &rq), 0);
	rq.arg0 = ddvm_cpu_to_le64(0x56);
	ddvm_prod_push(&dresp, &rq);
	ddvm_prod_publish(&dresp);
	CHECK_EQ(ddvm_ctrlc_poll(&c, &rtt), -DDVM_EIO);

	/* no answer in time; the late answer is stale, the next ping works */
	CHECK_EQ(ddvm_ctrlc_ping_send(&c, 0x66, 1), 0);
	CHECK_EQ(take(&dreq, &rq), 0);
	clock_ns += 2000000;
	CHECK_EQ(ddvm_ctrlc_poll(&c, &rtt), -DDVM_ETIMEDOUT);
	ddvm_prod_push(&dresp, &rq);
	ddvm_prod_publish(&dresp);
	CHECK_EQ(ddvm_ctrlc_ping_send(&c, 0x77, 1000), 0);
	CHECK_EQ(ddvm_ctrlc_poll(&c, &rtt), 0);
	CHECK_EQ(c.stale, 1);
	CHECK_EQ(take(&dreq, &rq), 0);
	ddvm_prod_push(&dresp, &rq);
	ddvm_prod_publish(&dresp);
	CHECK_EQ(ddvm_ctrlc_poll(&c, &rtt), 1);

	/* crash: one request, never a ping's id */
	CHECK_EQ(ddvm_ctrlc_crash(&c), 0);
	CHECK_EQ(take(&dreq, &rq), 0);
	CHECK_EQ(ddvm_le16_to_cpu(rq.op), DDVM_OP_CRASH);

	/* a driver VM not on the channel cannot be rung */
	((struct ddvm_region_hdr *)mem)->guest_peer_id = ddvm_cpu_to_le16(9);
	((struct ddvm_ring_shared *)(mem + lay.q[0].req_ring_off))->data_event =
		ddvm_cpu_to_le32(dreq.idx);		/* it wants a doorbell */
	CHECK_EQ(ddvm_ctrlc_ping_send(&c, 1, 1000), -DDVM_ENOENT);
	CHECK_EQ(take(&dreq, &rq), 0);

	/* an impossible response index */
	CHECK_EQ(ddvm_ctrlc_ping_send(&c, 2, 1000), 0);
	((struct ddvm_ring_shared *)(mem + lay.q[0].resp_ring_off))->prod = ddvm_cpu_to_le32(999);
	CHECK_EQ(ddvm_ctrlc_poll(&c, &rtt), -DDVM_EPROTO);
	free(mem);
	return check_summary("test-ctrlc");
}
