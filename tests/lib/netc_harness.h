/* SPDX-License-Identifier: MIT */
/*
 * A scriptable driver VM serving a NIC to libddvm's net client
 * (lib/net_client.c) over the fake transport of fake_chan.h, shared by
 * tests/unit/test-netc.c and tests/fuzz/fuzz-netc.c.  The channel has a
 * CTRL queue 0 and the NET queue 1 (as a supervisor lays it out); h->ch is
 * the channel, h->c the client; frames the client delivers land in h->rx*.
 */
#ifndef DDVM_TESTS_NETC_HARNESS_H
#define DDVM_TESTS_NETC_HARNESS_H

#include "ddvm/net_client.h"
#include "fake_chan.h"

#define N_QUEUE		1u
#define N_FRAME_MAX	(65536u + 64u)

struct nharness {
	struct fake_chan ch;
	struct ddvm_netc c;
	void *cmem;
	/* what the driver VM publishes */
	uint8_t mac[6];
	uint32_t mtu, features;
	int link;
	/* frames delivered to the client's rx function */
	unsigned int nrx;
	uint32_t rx_len;
	struct ddvm_net_hdr rx_hdr;
	uint8_t rx_frame[N_FRAME_MAX];
	int rx_refuse;			/* make the rx function refuse frames */
	void (*on_rx)(struct nharness *h, const volatile uint8_t *frame, uint32_t len,
		      const struct ddvm_net_hdr *hd);	/* also called, if set */
};

/* The driver VM publishes its queue state: READY with the harness's NIC. */
static void n_publish(struct nharness *h)
{
	volatile struct ddvm_queue_state *s = fc_qstate(&h->ch);
	unsigned int i;

	s->state = ddvm_cpu_to_le32(DDVM_QS_ABSENT);
	for (i = 0; i < 6; i++)
		s->mac[i] = h->mac[i];
	s->mtu = ddvm_cpu_to_le32(h->mtu);
	s->link_up = ddvm_cpu_to_le16(h->link ? 1 : 0);
	s->features = ddvm_cpu_to_le32(h->features);
	for (i = 0; i < 5; i++)
		s->dev_name[i] = "eth0"[i];
	s->state = ddvm_cpu_to_le32(DDVM_QS_READY);
}

/* A driver VM instance attaches (fc_boot) and serves the NIC. */
static void n_boot(struct nharness *h)
{
	fc_boot(&h->ch);
	n_publish(h);
}

static int n_rx(void *arg, const volatile void *frame, uint32_t len, const struct ddvm_net_hdr *hd)
{
	struct nharness *h = arg;
	const volatile uint8_t *f = frame;
	uint32_t i;

	if (h->on_rx)
		h->on_rx(h, f, len, hd);
	if (h->rx_refuse)
		return -1;
	h->nrx++;
	h->rx_len = len;
	h->rx_hdr = *hd;
	for (i = 0; i < len && i < N_FRAME_MAX; i++)
		h->rx_frame[i] = f[i];
	return 0;
}

/* Driver: answer request rq (a post) with a frame of len bytes, flags and arg0. */
static void n_answer_rx(struct nharness *h, const struct ddvm_slot *rq, const void *frame,
			uint32_t len, uint16_t flags, uint64_t arg0)
{
	struct ddvm_slot rs = *rq;

	memcpy(h->ch.mem + ddvm_le64_to_cpu(rq->buf_off), frame, len);
	rs.len = ddvm_cpu_to_le32(len);
	rs.flags = ddvm_cpu_to_le16(flags);
	rs.arg0 = ddvm_cpu_to_le64(arg0);
	rs.status = ddvm_cpu_to_le32(DDVM_S_OK);
	ddvm_prod_push(&h->ch.dresp, &rs);
	ddvm_prod_publish(&h->ch.dresp);
}

/*
 * Driver: take every waiting request; RX posts into post[] (up to max),
 * TX requests into tx[] (up to max).  Returns the number taken.
 */
static inline unsigned int n_take_all(struct nharness *h, struct ddvm_slot *post,
				      unsigned int *npost, struct ddvm_slot *tx, unsigned int *ntx,
				      unsigned int max)
{
	struct ddvm_slot rq;
	unsigned int n = 0;

	*npost = *ntx = 0;
	while (fc_take(&h->ch, &rq) == 0) {
		n++;
		if (ddvm_le16_to_cpu(rq.op) == DDVM_OP_NET_RX && *npost < max)
			post[(*npost)++] = rq;
		else if (ddvm_le16_to_cpu(rq.op) == DDVM_OP_NET_TX && *ntx < max)
			tx[(*ntx)++] = rq;
	}
	return n;
}

/*
 * A region with a CTRL queue and a NET queue of nslots chunks of chunk
 * bytes, and a driver VM publishing MTU 1500, link up and features.  The
 * client is not opened.  0 or -1.
 */
static int n_setup(struct nharness *h, uint32_t nslots, uint64_t chunk, uint32_t features)
{
	struct ddvm_region_spec spec = { .host_peer_id = 0, .heartbeat_period_ms = 100,
					 .pci_table_max = 4, .nqueues = 2 };
	static const uint8_t mac[6] = { 0x02, 0xdd, 0, 0, 0, 1 };

	memset(h, 0, sizeof(*h));
	spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_CTRL, .nslots = 4, .data_size = 4096 };
	spec.q[1] = (struct ddvm_queue_spec){ .kind = DDVM_QK_NET, .nslots = nslots,
					      .data_size = nslots * chunk, .req_vector = 1 };
	if (fc_init(&h->ch, &spec, N_QUEUE, 0, h) < 0)
		return -1;
	h->ch.quiet = 1;		/* the tests look at the log lines themselves */
	memcpy(h->mac, mac, 6);
	h->mtu = 1500;
	h->link = 1;
	h->features = features;
	n_boot(h);
	return 0;
}

/* n_setup, then the client opened, taking the offloads in use, and ready.  0 or -1. */
static int n_init(struct nharness *h, uint32_t nslots, uint64_t chunk, uint32_t features,
		  uint32_t use)
{
	if (n_setup(h, nslots, chunk, features) < 0 ||
	    ddvm_netc_open(&h->c, &h->ch.t, N_QUEUE, 0) < 0)
		return -1;
	ddvm_netc_use(&h->c, use);
	h->cmem = aligned_alloc(8, ddvm_netc_mem_bytes(&h->c));
	return ddvm_netc_ready(&h->c, h->cmem, ddvm_netc_mem_bytes(&h->c), 0x1000, n_rx, h) < 0
	       ? -1 : 0;
}

static void n_fini(struct nharness *h)
{
	fc_fini(&h->ch);
	free(h->cmem);
}

#endif
