// SPDX-License-Identifier: MIT
/*
 * fuzz-netc: libddvm's net client (lib/net_client.c) against a driver VM
 * that does anything to the shared memory it can write.
 *
 * The fuzzer's bytes are a program: the client sends frames (any length,
 * any virtio_net_hdr), flushes, polls, ticks, changes the offloads it takes;
 * the driver VM (tests/lib/netc_harness.h) takes requests and answers them
 * honestly (RX frames with honest metadata, TX statuses), answers with
 * arbitrary slots or mutated copies of requests it took (now or before a
 * restart), scribbles over the ring indices, resume_idx / resume_gen, the
 * queue state (state, MAC, MTU, features, link) and the header (generation,
 * guest state, version), dies and comes back.
 *
 * Invariants, after every step:
 *  - every chunk is in exactly one place: free, claimed for TX, or
 *    outstanding (RX posted or TX in flight), and the counts agree;
 *  - TX never takes the RX half; free chunks are distinct and idle;
 *  - poll / tick say -EPROTO exactly while the queue is broken;
 *  - every request the client pushes is one a driver VM accepts
 *    (ddvm_net_req_check: op, length, buffer inside its own chunk, flags and
 *    metadata as protocol.md 7c.1 allows), and its id names that chunk
 *    (checked until the driver VM's own cons is scribbled over: from then on
 *    it replays whatever the ring holds);
 *  - a frame handed to the caller lies inside one chunk of the data area,
 *    is 14 bytes at least and no longer than a posted buffer, and its
 *    virtio_net_hdr is one the RX rules accept.
 */
#include <stddef.h>
#include <stdint.h>

#include "../lib/netc_harness.h"
#include "must.h"

#define NSLOTS		16u
#define CHUNK		4096u
#define MAX_TAKEN	64u

static struct nharness H;
static struct ddvm_slot taken[MAX_TAKEN];
static unsigned int ntaken;
static int cons_scribbled;	/* the driver's own view replays whatever the ring holds */
static int held = -1;		/* a TX chunk claimed in an earlier step */

struct input {
	const uint8_t *d;
	size_t n, pos;
};

static uint8_t in8(struct input *in)
{
	return in->pos < in->n ? in->d[in->pos++] : 0;
}

static uint16_t in16(struct input *in)
{
	return (uint16_t)(in8(in) | in8(in) << 8);
}

static uint32_t in32(struct input *in)
{
	return (uint32_t)in16(in) | (uint32_t)in16(in) << 16;
}

static uint64_t data_off(void)
{
	return H.ch.lay.q[N_QUEUE].data_off;
}

static void on_rx(struct nharness *h, const volatile uint8_t *frame, uint32_t len,
		  const struct ddvm_net_hdr *hd)
{
	uint64_t rel = (uint64_t)(frame - (const volatile uint8_t *)h->ch.mem) - data_off();
	uint16_t flags;
	uint64_t arg0;

	MUST(rel % CHUNK == 0 && rel / CHUNK < NSLOTS);
	MUST(len >= DDVM_NET_ETH_MIN && len <= CHUNK);
	MUST(ddvm_net_hdr_to_slot(hd, len, 0, DDVM_NET_META_RX_ALL, DDVM_NET_META_RX, &flags,
				  &arg0) == DDVM_NET_META_OK);
}

/* A request the client pushed, as a driver VM checks it. */
static void check_request(const struct ddvm_slot *rq)
{
	const struct ddvm_net_limits lim = { .data_off = data_off(), .data_size = NSLOTS * CHUNK,
					     .chunk = CHUNK, .nslots = NSLOTS, .mtu = 0,
					     .features = DDVM_NETC_F_ALL };
	struct ddvm_net_meta m;
	uint64_t buf;
	uint32_t len;

	MUST(ddvm_net_req_check(rq, &lim, &buf, &len, &m) == DDVM_S_OK);
	MUST((buf - data_off()) / CHUNK == (uint32_t)ddvm_le64_to_cpu(rq->id));
	MUST((buf - data_off()) % CHUNK == 0);
}

static void check_chunks(void)
{
	const struct ddvm_netc *c = &H.c;
	unsigned int k, rx = 0, tx = 0, claimed = 0;
	uint8_t seen[NSLOTS] = { 0 };

	for (k = 0; k < NSLOTS; k++) {
		rx += c->pend[k].op == DDVM_OP_NET_RX;
		tx += c->pend[k].op == DDVM_OP_NET_TX;
		claimed += c->claimed[k] != 0;
		MUST(c->pend[k].op == 0 || !c->claimed[k]);
	}
	MUST(rx == c->rx_posted && tx == c->tx_out && claimed == c->tx_claimed);
	MUST(c->nfree + rx + tx + claimed == NSLOTS);
	for (k = 0; k < c->nfree; k++) {
		uint32_t f = c->free_stack[k];

		MUST(f < NSLOTS && !seen[f] && c->pend[f].op == 0 && !c->claimed[f]);
		seen[f] = 1;
	}
	MUST(c->tx_out + c->tx_claimed + c->rx_target <= NSLOTS);
	MUST(ddvm_netc_tx_room(c) <= c->nfree);
}

/* Driver: take what is waiting (checked), keep the last MAX_TAKEN. */
static void drv_take(unsigned int max)
{
	struct ddvm_slot rq;

	while (max-- && H.ch.present && fc_take(&H.ch, &rq) == 0) {
		if (!cons_scribbled)
			check_request(&rq);
		taken[ntaken++ % MAX_TAKEN] = rq;
	}
}

static struct ddvm_slot *pick(struct input *in)
{
	unsigned int n = ntaken < MAX_TAKEN ? ntaken : MAX_TAKEN;

	return n ? &taken[in8(in) % n] : NULL;
}

/* Driver: answer a taken request honestly. */
static void drv_answer(struct input *in)
{
	struct ddvm_slot *rq = pick(in);
	uint8_t frame[256];
	uint32_t cap, len;
	unsigned int i;

	if (!rq || !H.ch.present)
		return;
	if (ddvm_le16_to_cpu(rq->op) == DDVM_OP_NET_TX) {
		fc_answer(&H.ch, rq, in8(in) % 3);
		return;
	}
	cap = ddvm_le32_to_cpu(rq->len);
	len = DDVM_NET_ETH_MIN + in16(in) % (cap - DDVM_NET_ETH_MIN + 1);
	if (len > H.mtu + DDVM_NET_TX_EXTRA && H.mtu >= DDVM_NET_MTU_MIN)
		len = H.mtu + DDVM_NET_TX_EXTRA;
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i ^ len);
	if (len <= sizeof(frame)) {
		n_answer_rx(&H, rq, frame, len, 0, 0);
	} else {
		struct ddvm_slot rs = *rq;

		rs.len = ddvm_cpu_to_le32(len);
		rs.status = ddvm_cpu_to_le32(DDVM_S_OK);
		if ((ddvm_le16_to_cpu(rq->flags) & DDVM_F_NET_OFFLOAD) && (in8(in) & 1)) {
			rs.flags = ddvm_cpu_to_le16(DDVM_F_NET_CSUM);
			rs.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0(34, 16, 0, 0));
		}
		ddvm_prod_push(&H.ch.dresp, &rs);
		ddvm_prod_publish(&H.ch.dresp);
	}
}

/* Driver: an answer with anything in it. */
static void drv_hostile(struct input *in)
{
	struct ddvm_slot rs, *rq = pick(in);
	uint8_t how = in8(in);

	if (rq && !(how & 1)) {
		rs = *rq;
		if (how & 2)
			rs.len = ddvm_cpu_to_le32(in32(in));
		if (how & 4)
			rs.flags = ddvm_cpu_to_le16(in16(in));
		if (how & 8)
			rs.arg0 = ddvm_cpu_to_le64((uint64_t)in32(in) << 32 | in32(in));
		if (how & 16)
			rs.status = ddvm_cpu_to_le32(in8(in));
		if (how & 32)
			rs.op = ddvm_cpu_to_le16(in16(in));
		if (how & 64)
			rs.buf_off = ddvm_cpu_to_le64(ddvm_le64_to_cpu(rs.buf_off) + in16(in));
		if (how & 128)
			rs.id = ddvm_cpu_to_le64(ddvm_le64_to_cpu(rs.id) ^ (uint64_t)in32(in) << (in8(in) & 32));
	} else {
		uint8_t *p = (uint8_t *)&rs;
		unsigned int i;

		for (i = 0; i < sizeof(rs); i++)
			p[i] = in8(in);
	}
	ddvm_prod_push(&H.ch.dresp, &rs);
	ddvm_prod_publish(&H.ch.dresp);
}

/* Driver: write something impossible, or merely surprising, where it may write. */
static void drv_scribble(struct input *in)
{
	volatile struct ddvm_queue_state *s = fc_qstate(&H.ch);
	volatile struct ddvm_region_hdr *hd = fc_hdr(&H.ch);
	uint32_t v = in32(in);

	switch (in8(in) % 12) {
	case 0: H.ch.dresp.sh->prod = ddvm_cpu_to_le32(v); break;
	case 1: H.ch.dreq.sh->cons = ddvm_cpu_to_le32(v); cons_scribbled = 1; break;
	case 2: H.ch.dreq.sh->resume_idx = ddvm_cpu_to_le32(v); break;
	case 3: H.ch.dreq.sh->resume_gen = ddvm_cpu_to_le32(v); break;
	case 4: s->state = ddvm_cpu_to_le32(v % 4); break;
	case 5: s->mac[v % 6] = (uint8_t)(v >> 8); break;
	case 6: s->mtu = ddvm_cpu_to_le32(v % 4 == 0 ? v : 68 + v % 9000); break;
	case 7: s->features = ddvm_cpu_to_le32(v); break;
	case 8: s->link_up = ddvm_cpu_to_le16((uint16_t)v); break;
	case 9: hd->generation = ddvm_cpu_to_le32(v % 3 ? ddvm_le32_to_cpu(hd->generation) + 1 : v);
		break;
	case 10: hd->guest_state = ddvm_cpu_to_le32(v % 6); break;
	default: hd->guest_version = ddvm_cpu_to_le32(1u << 16 | (v & 3)); break;
	}
}

/*
 * Client: send a frame of any length with any header, in a chunk claimed
 * now or in an earlier step (the queue may have changed since).
 */
static void cli_send(struct input *in)
{
	uint8_t what = in8(in);
	struct ddvm_net_hdr h = { .flags = in8(in) & 3, .gso_type = in8(in),
				  .hdr_len = in16(in), .gso_size = in16(in),
				  .csum_start = in16(in), .csum_offset = in16(in) };
	uint32_t len = in16(in) % (CHUNK + 64);
	int k = held >= 0 ? held : ddvm_netc_tx_claim(&H.c), r;
	volatile uint8_t *p;
	uint32_t i;

	held = -1;
	if (k < 0) {
		MUST(k == -DDVM_EAGAIN || k == -DDVM_ENODEV);
		MUST(ddvm_netc_tx_room(&H.c) == 0);
		ddvm_netc_tx_dropped(&H.c, k);
		return;
	}
	MUST((uint32_t)k < NSLOTS);
	if (what & 1) {
		ddvm_netc_tx_abort(&H.c, (uint32_t)k);
		return;
	}
	if (what & 4) {
		held = k;		/* submitted by a later step */
		return;
	}
	p = ddvm_netc_tx_buf(&H.c, (uint32_t)k);
	for (i = 0; i < len && i < ddvm_netc_tx_max(&H.c); i++)
		p[i] = (uint8_t)i;
	r = ddvm_netc_tx_submit(&H.c, (uint32_t)k, len, (what & 2) ? &h : NULL);
	MUST(r == 0 || r == -DDVM_EINVAL || r == -DDVM_ENOSPC || r == -DDVM_EPROTO ||
	     r == -DDVM_ENODEV);
}

static void check_poll(int r)
{
	MUST(r == 0 || r == -DDVM_EPROTO);
	MUST((r == -DDVM_EPROTO) == H.c.broken);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size, 0 };
	uint8_t setup = in8(&in);
	unsigned int steps = 0;

	if (n_init(&H, NSLOTS, CHUNK, in8(&in) & DDVM_NETC_F_ALL, in8(&in) & DDVM_NETC_F_ALL) < 0)
		abort();
	H.on_rx = on_rx;
	H.rx_refuse = setup & 1;
	ntaken = 0;
	cons_scribbled = 0;
	held = -1;
	while (in.pos < in.n && steps++ < 400) {
		switch (in8(&in) % 12) {
		case 0: case 1: cli_send(&in); break;
		case 2: ddvm_netc_flush(&H.c); break;
		case 3: check_poll(ddvm_netc_poll(&H.c)); break;
		case 4: check_poll(ddvm_netc_tick(&H.c)); break;
		case 5: drv_take(in8(&in) % 8 + 1); break;
		case 6: case 7: drv_answer(&in); break;
		case 8: drv_hostile(&in); break;
		case 9: drv_scribble(&in); break;
		case 10:
			if (H.ch.present && (in8(&in) & 1))
				fc_kill(&H.ch);
			else
				n_boot(&H);
			break;
		default: ddvm_netc_use(&H.c, in8(&in)); break;
		}
		check_chunks();
	}
	n_fini(&H);
	return 0;
}
