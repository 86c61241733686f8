// SPDX-License-Identifier: MIT
/*
 * libddvm's net client (lib/net_client.c) through a fake transport and a
 * scripted driver VM (tests/lib/netc_harness.h): opening and waiting for a
 * usable NIC (bad MACs logged once per generation), RX frames with their
 * offload metadata, every kind of bad response dropped and counted, TX with
 * and without metadata and every refusal counted by reason, completions,
 * a driver-VM restart (what the dead instance took forgotten, the rest
 * served by its successor, late answers stale), corrupt ring indices healed
 * by a restart, link / readiness / MTU / feature changes, and an older
 * driver VM that does not say where it resumed.
 */
#include "../lib/netc_harness.h"
#include "check.h"

#define BIG_CHUNK	65600u		/* a GSO frame fits */
#define MAXQ		64u

static struct ddvm_slot posts[MAXQ], txs[MAXQ];
static unsigned int np, nt;

static void take(struct nharness *h)
{
	n_take_all(h, posts, &np, txs, &nt, MAXQ);
}

static struct ddvm_netc_stats stats(struct nharness *h)
{
	struct ddvm_netc_stats s;

	ddvm_netc_stats(&h->c, &s);
	return s;
}

/* Claim a chunk, write a len-byte frame of pattern b, submit it with hdr h (NULL: none). */
static int send(struct nharness *h, uint32_t len, uint8_t b, const struct ddvm_net_hdr *hd)
{
	int k = ddvm_netc_tx_claim(&h->c);
	volatile uint8_t *p;
	uint32_t i;

	if (k < 0)
		return k;
	p = ddvm_netc_tx_buf(&h->c, (uint32_t)k);
	for (i = 0; i < len && i < ddvm_netc_tx_max(&h->c); i++)
		p[i] = (uint8_t)(b + i);
	return ddvm_netc_tx_submit(&h->c, (uint32_t)k, len, hd);
}

static struct ddvm_net_hdr vhdr(uint8_t flags, uint8_t gso, uint16_t hl, uint16_t gs, uint16_t cs,
				uint16_t co)
{
	struct ddvm_net_hdr x = { .flags = flags, .gso_type = gso, .hdr_len = ddvm_cpu_to_le16(hl),
				  .gso_size = ddvm_cpu_to_le16(gs),
				  .csum_start = ddvm_cpu_to_le16(cs),
				  .csum_offset = ddvm_cpu_to_le16(co) };
	return x;
}

static void test_open(void)
{
	struct nharness h;
	struct ddvm_netc c;
	struct ddvm_layout lay;
	uint8_t small[8];

	CHECK_EQ(n_init(&h, 8, 2048, 0, 0), 0);
	CHECK_EQ(ddvm_netc_open(&c, &h.ch.t, 0, 0), -DDVM_ENOENT);
	CHECK(strstr(h.ch.last_log, "queue 0 is not a network queue") != NULL);
	CHECK_EQ(ddvm_netc_open(&c, &h.ch.t, -1, 1), -DDVM_ENOENT);
	CHECK(strstr(h.ch.last_log, "no network queue") != NULL);
	CHECK_EQ(ddvm_netc_open(&c, &h.ch.t, -1, 0), 0);
	CHECK_EQ(c.qi, 1);
	/* the supervisor's layout is taken as given, after checks, never read back */
	lay = h.ch.lay;
	h.ch.mem[DDVM_QUEUE_TABLE_OFF + 64 + 4] ^= 0xff;	/* scribbled over: nslots */
	CHECK_EQ(ddvm_netc_open(&c, &h.ch.t, 1, 0), -DDVM_EPROTO);
	CHECK_EQ(ddvm_netc_open_layout(&c, &h.ch.t, &lay, 1, 0), 0);
	CHECK_EQ(c.nslots, 8);
	h.ch.mem[DDVM_QUEUE_TABLE_OFF + 64 + 4] ^= 0xff;
	lay.region_size = h.ch.size * 2;
	CHECK_EQ(ddvm_netc_open_layout(&c, &h.ch.t, &lay, 1, 0), -DDVM_EINVAL);
	CHECK(strstr(h.ch.last_log, "larger than the mapping") != NULL);
	lay = h.ch.lay;
	lay.q[1].nslots = 3;
	CHECK_EQ(ddvm_netc_open_layout(&c, &h.ch.t, &lay, 1, 0), -DDVM_EINVAL);
	CHECK_EQ(ddvm_netc_open(&c, &h.ch.t, -1, 0), 0);
	CHECK_EQ(c.chunk, 2048);
	CHECK(ddvm_netc_mem_bytes(&c) >= 8 * 25);
	CHECK_EQ(ddvm_netc_ready(&c, small, sizeof(small), 1, n_rx, &h), -DDVM_ENOMEM);
	CHECK_EQ(ddvm_netc_tx_claim(&c), -DDVM_ENODEV);		/* not ready */
	CHECK_EQ(ddvm_netc_poll(&c), 0);
	n_fini(&h);

	/* A data area with chunks smaller than a cache line is refused. */
	CHECK_EQ(n_setup(&h, 8, 32, 0), 0);
	CHECK_EQ(ddvm_netc_open(&c, &h.ch.t, 1, 0), -DDVM_EPROTO);
	CHECK(strstr(h.ch.last_log, "too small") != NULL);
	n_fini(&h);
}

/* READY waits for a usable NIC; a bad MAC is logged once per generation. */
static void test_ready_waits(void)
{
	struct nharness h;
	unsigned int n;
	void *mem;

	CHECK_EQ(n_setup(&h, 8, 2048, DDVM_NET_F_RX_OFFLOAD), 0);
	fc_qstate(&h.ch)->state = ddvm_cpu_to_le32(DDVM_QS_ABSENT);
	CHECK_EQ(ddvm_netc_open(&h.c, &h.ch.t, 1, 0), 0);
	ddvm_netc_use(&h.c, DDVM_NETC_F_ALL);
	mem = h.cmem = aligned_alloc(8, ddvm_netc_mem_bytes(&h.c));
	CHECK_EQ(ddvm_netc_ready(&h.c, mem, ddvm_netc_mem_bytes(&h.c), 7, n_rx, &h), -DDVM_EAGAIN);
	take(&h);
	CHECK_EQ(np, 0);
	/* a multicast MAC: logged once in this generation, again in the next */
	h.mac[0] = 0x01, h.mac[1] = 0x00, h.mac[2] = 0x5e, h.mac[5] = 0x01;
	n_publish(&h);
	n = h.ch.nlog;
	CHECK_EQ(ddvm_netc_ready(&h.c, mem, ddvm_netc_mem_bytes(&h.c), 7, n_rx, &h), -DDVM_EAGAIN);
	CHECK_EQ(h.ch.nlog, n + 1);
	CHECK(strstr(h.ch.last_log, "generation 1 published a multicast MAC 01:00:5e:00:00:01") !=
	      NULL);
	CHECK_EQ(h.c.st.state, DDVM_QS_ERROR);
	CHECK_EQ(h.c.st.error, DDVM_QE_BOGUS);
	CHECK_EQ(ddvm_netc_ready(&h.c, mem, ddvm_netc_mem_bytes(&h.c), 7, n_rx, &h), -DDVM_EAGAIN);
	CHECK_EQ(h.ch.nlog, n + 1);
	n_boot(&h);
	CHECK_EQ(ddvm_netc_ready(&h.c, mem, ddvm_netc_mem_bytes(&h.c), 7, n_rx, &h), -DDVM_EAGAIN);
	CHECK_EQ(h.ch.nlog, n + 2);
	/* an impossible MTU */
	h.mac[0] = 0x02;
	h.mtu = 40;
	n_boot(&h);
	CHECK_EQ(ddvm_netc_ready(&h.c, mem, ddvm_netc_mem_bytes(&h.c), 7, n_rx, &h), -DDVM_EAGAIN);
	CHECK(strstr(h.ch.last_log, "an MTU of 40") != NULL);
	/* a healthy instance */
	h.mtu = 1500;
	n_boot(&h);
	CHECK_EQ(ddvm_netc_ready(&h.c, mem, ddvm_netc_mem_bytes(&h.c), 7, n_rx, &h), 0);
	CHECK(strstr(h.ch.last_log, "queue 1 ready (driver VM peer 14, generation 4, mtu 1500)") !=
	      NULL);
	CHECK_EQ(h.c.st.mac[0], 0x02);
	CHECK_EQ(stats(&h).generation, 4);
	CHECK_EQ(stats(&h).serving, 1);
	CHECK_EQ(h.ch.rings, 1);			/* the posts were announced */
	CHECK_EQ(ddvm_le32_to_cpu(h.c.req.sh->client_peer_id), FC_SELF);
	take(&h);
	CHECK_EQ(np, 4);				/* half the chunks */
	CHECK_EQ(ddvm_le32_to_cpu(posts[0].len), 2048);	/* OFFLOAD: the whole chunk */
	CHECK_EQ(ddvm_le16_to_cpu(posts[0].flags), DDVM_F_NET_OFFLOAD);
	n_fini(&h);
}

/* Frames arrive with their metadata as a virtio_net_hdr; buffers go out again. */
static void test_rx(void)
{
	struct nharness h;
	uint8_t frame[3000];
	unsigned int i;

	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	CHECK_EQ(n_init(&h, 8, BIG_CHUNK, DDVM_NET_F_RX_OFFLOAD | DDVM_NET_F_CSUM | DDVM_NET_F_TSO4,
			DDVM_NETC_F_ALL), 0);
	take(&h);
	CHECK_EQ(np, 4);
	CHECK_EQ(ddvm_le32_to_cpu(posts[0].len), DDVM_NET_GSO_MAX_FRAME);
	/* checksum partial */
	n_answer_rx(&h, &posts[0], frame, 100, DDVM_F_NET_CSUM, ddvm_net_arg0(34, 16, 0, 0));
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(h.nrx, 1);
	CHECK_EQ(h.rx_len, 100);
	CHECK(memcmp(h.rx_frame, frame, 100) == 0);
	CHECK_EQ(h.rx_hdr.flags, DDVM_VNET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(ddvm_le16_to_cpu(h.rx_hdr.csum_start), 34);
	CHECK_EQ(ddvm_le16_to_cpu(h.rx_hdr.csum_offset), 16);
	CHECK_EQ(h.rx_hdr.gso_type, 0);
	take(&h);
	CHECK_EQ(np, 1);				/* posted again at once */
	posts[3] = posts[0];
	/* a GSO frame (the echoed OFFLOAD flag means nothing) */
	n_answer_rx(&h, &posts[1], frame, 3000,
		    DDVM_F_NET_CSUM | DDVM_F_NET_GSO_TCPV4 | DDVM_F_NET_GSO_ECN | DDVM_F_NET_OFFLOAD,
		    ddvm_net_arg0(34, 16, 1448, 66));
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(h.nrx, 2);
	CHECK_EQ(h.rx_len, 3000);
	CHECK(memcmp(h.rx_frame, frame, 3000) == 0);
	CHECK_EQ(h.rx_hdr.gso_type, DDVM_VNET_HDR_GSO_TCPV4 | DDVM_VNET_HDR_GSO_ECN);
	CHECK_EQ(ddvm_le16_to_cpu(h.rx_hdr.gso_size), 1448);
	CHECK_EQ(ddvm_le16_to_cpu(h.rx_hdr.hdr_len), 66);
	/* checksums verified */
	n_answer_rx(&h, &posts[2], frame, 60, DDVM_F_NET_CSUM_VALID, 0);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(h.rx_hdr.flags, DDVM_VNET_HDR_F_DATA_VALID);
	/* the caller cannot take it: counted, the buffer goes out again */
	h.rx_refuse = 1;
	n_answer_rx(&h, &posts[3], frame, 60, 0, 0);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(h.nrx, 3);
	CHECK_EQ(stats(&h).rx_deliver_error, 1);
	CHECK_EQ(stats(&h).rx_frames, 3);
	CHECK_EQ(stats(&h).rx_bytes, 3160);
	CHECK_EQ(stats(&h).rx_gso, 1);
	CHECK_EQ(stats(&h).rx_csum, 2);
	CHECK_EQ(stats(&h).rx_csum_valid, 1);
	CHECK_EQ(stats(&h).rx_posted, 4);
	n_fini(&h);
}

/* Every kind of bad response is dropped, counted by reason and never delivered. */
static void test_rx_bad(void)
{
	struct nharness h;
	struct ddvm_slot bad, keep;
	static uint8_t frame[2048];
	struct ddvm_netc_stats s;

	CHECK_EQ(n_init(&h, 16, 2048, DDVM_NET_F_RX_OFFLOAD, 0), 0);	/* no RX offload in use */
	take(&h);
	CHECK_EQ(np, 8);
	CHECK_EQ(ddvm_le32_to_cpu(posts[0].len), 1518);	/* MTU + 18 */
	CHECK_EQ(ddvm_le16_to_cpu(posts[0].flags), 0);
	keep = posts[0];
	/* an id nobody asked for: the buffer stays posted */
	bad = posts[0];
	bad.id = ddvm_cpu_to_le64(ddvm_le64_to_cpu(bad.id) ^ (1ull << 40));
	n_answer_rx(&h, &bad, frame, 60, 0, 0);
	/* the others end their request: parked until the next tick */
	bad = posts[1];
	bad.op = ddvm_cpu_to_le16(DDVM_OP_NET_TX);
	n_answer_rx(&h, &bad, frame, 60, 0, 0);
	n_answer_rx(&h, &posts[2], frame, 13, 0, 0);			/* runt */
	n_answer_rx(&h, &posts[3], frame, 1519, 0, 0);		/* past the buffer */
	bad = posts[4];
	bad.buf_off = ddvm_cpu_to_le64(ddvm_le64_to_cpu(bad.buf_off) + 64);
	n_answer_rx(&h, &bad, frame, 60, 0, 0);
	n_answer_rx(&h, &posts[5], frame, 60, DDVM_F_NET_CSUM, ddvm_net_arg0(34, 16, 0, 0));
	fc_answer(&h.ch, &posts[6], 9);					/* unknown status */
	fc_answer(&h.ch, &posts[7], DDVM_S_IOERR);			/* no frame */
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	s = stats(&h);
	CHECK_EQ(h.nrx, 0);
	CHECK_EQ(s.rx_bad[DDVM_NET_RESP_BAD_ID], 1);
	CHECK_EQ(s.rx_bad[DDVM_NET_RESP_BAD_OP], 1);
	CHECK_EQ(s.rx_bad[DDVM_NET_RESP_BAD_LEN], 2);
	CHECK_EQ(s.rx_bad[DDVM_NET_RESP_BAD_OFF], 1);
	CHECK_EQ(s.rx_bad[DDVM_NET_RESP_BAD_META], 1);
	CHECK_EQ(s.rx_bad_meta[DDVM_NET_META_FLAGS_BAD], 1);
	CHECK_EQ(s.rx_bad[DDVM_NET_RESP_BAD_STATUS], 1);
	CHECK_EQ(s.rx_guest_error, 1);
	CHECK(strstr(h.ch.last_log, "dropped a bad response (bad_status") != NULL);
	CHECK_EQ(s.rx_posted, 1);			/* posts[0] */
	take(&h);
	CHECK_EQ(np, 0);				/* no busy repost */
	CHECK_EQ(ddvm_netc_tick(&h.c), 0);
	take(&h);
	CHECK_EQ(np, 7);
	/* the buffer the bad id left posted still works */
	n_answer_rx(&h, &keep, frame, 60, 0, 0);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(h.nrx, 1);
	n_fini(&h);
}

static void test_tx(void)
{
	struct nharness h;
	struct ddvm_net_hdr csum = vhdr(1, 0, 0, 0, 34, 16);
	struct ddvm_net_hdr tso = vhdr(1, 1, 66, 1448, 34, 16);
	struct ddvm_netc_stats s;
	int k[5], i;

	CHECK_EQ(n_init(&h, 8, BIG_CHUNK, DDVM_NET_F_CSUM | DDVM_NET_F_TSO4, DDVM_NETC_F_ALL), 0);
	take(&h);
	CHECK_EQ(ddvm_netc_tx_max(&h.c), DDVM_NET_GSO_MAX_FRAME);
	CHECK_EQ(ddvm_netc_tx_room(&h.c), 4);
	for (i = 0; i < 4; i++)
		CHECK((k[i] = ddvm_netc_tx_claim(&h.c)) >= 0);
	CHECK_EQ(ddvm_netc_tx_claim(&h.c), -DDVM_EAGAIN);	/* RX keeps its half */
	CHECK_EQ(ddvm_netc_tx_room(&h.c), 0);
	for (i = 0; i < 4; i++)
		ddvm_netc_tx_abort(&h.c, (uint32_t)k[i]);
	ddvm_netc_tx_abort(&h.c, (uint32_t)k[0]);		/* twice: ignored */
	CHECK_EQ(ddvm_netc_tx_room(&h.c), 4);

	/* plain, checksum partial, TSO; the driver VM, idle, asks for a doorbell */
	CHECK_EQ(ddvm_cons_want_data(&h.ch.dreq), 0);
	CHECK_EQ(send(&h, 60, 1, NULL), 0);
	CHECK_EQ(send(&h, 100, 2, &csum), 0);
	CHECK_EQ(send(&h, 30000, 3, &tso), 0);
	CHECK_EQ(h.ch.rings, 1);				/* only ready() published so far */
	ddvm_netc_flush(&h.c);
	CHECK_EQ(h.ch.rings, 2);				/* the driver VM asked (below) */
	take(&h);
	CHECK_EQ(nt, 3);
	CHECK_EQ(ddvm_le32_to_cpu(txs[0].len), 60);
	CHECK_EQ(ddvm_le16_to_cpu(txs[0].flags), 0);
	CHECK_EQ(ddvm_le64_to_cpu(txs[0].arg0), 0);
	CHECK_EQ(h.ch.mem[ddvm_le64_to_cpu(txs[0].buf_off) + 5], 6);
	CHECK_EQ(ddvm_le16_to_cpu(txs[1].flags), DDVM_F_NET_CSUM);
	CHECK_EQ(ddvm_le64_to_cpu(txs[1].arg0), ddvm_net_arg0(34, 16, 0, 0));
	CHECK_EQ(ddvm_le16_to_cpu(txs[2].flags), DDVM_F_NET_CSUM | DDVM_F_NET_GSO_TCPV4);
	CHECK_EQ(ddvm_le64_to_cpu(txs[2].arg0), ddvm_net_arg0(34, 16, 1448, 66));
	CHECK_EQ(ddvm_netc_tx_room(&h.c), 1);
	fc_answer(&h.ch, &txs[0], DDVM_S_OK);
	fc_answer(&h.ch, &txs[1], DDVM_S_INVAL);
	fc_answer(&h.ch, &txs[2], DDVM_S_IOERR);
	ddvm_netc_poll(&h.c);
	s = stats(&h);
	CHECK_EQ(s.tx_frames, 1);
	CHECK_EQ(s.tx_bytes, 60);
	CHECK_EQ(s.tx_guest_inval, 1);
	CHECK_EQ(s.tx_guest_ioerr, 1);
	CHECK_EQ(s.tx_gso, 1);
	CHECK_EQ(s.tx_csum, 2);
	CHECK_EQ(ddvm_netc_tx_room(&h.c), 4);

	/* refusals: the chunk comes back every time */
	CHECK_EQ(send(&h, 13, 0, NULL), -DDVM_EINVAL);
	CHECK_EQ(send(&h, 1519, 0, NULL), -DDVM_EINVAL);		/* plain over MTU + 18 */
	CHECK_EQ(send(&h, 1519, 0, &csum), -DDVM_EINVAL);
	CHECK_EQ(send(&h, DDVM_NET_GSO_MAX_FRAME + 1, 0, &tso), -DDVM_EINVAL);
	CHECK_EQ(send(&h, 3000, 0, &(struct ddvm_net_hdr){ .flags = 1, .gso_type = 3,
			.gso_size = ddvm_cpu_to_le16(1000), .csum_start = ddvm_cpu_to_le16(34),
			.csum_offset = ddvm_cpu_to_le16(6) }), -DDVM_EINVAL);	/* UFO */
	tso.gso_type = DDVM_VNET_HDR_GSO_TCPV6;				/* not offered */
	CHECK_EQ(send(&h, 3000, 0, &tso), -DDVM_EINVAL);
	s = stats(&h);
	CHECK_EQ(s.tx_runt, 1);
	CHECK_EQ(s.tx_oversize, 3);
	CHECK_EQ(s.tx_bad_meta, 2);
	CHECK_EQ(ddvm_netc_tx_room(&h.c), 4);
	CHECK_EQ(ddvm_netc_tx_submit(&h.c, 3, 60, NULL), -DDVM_EINVAL);	/* not claimed */
	CHECK_EQ(ddvm_netc_tx_submit(&h.c, 99, 60, NULL), -DDVM_EINVAL);
	ddvm_netc_tx_dropped(&h.c, -DDVM_EAGAIN);
	ddvm_netc_tx_dropped(&h.c, -DDVM_ENODEV);
	CHECK_EQ(stats(&h).tx_ring_full, 1);
	CHECK_EQ(stats(&h).tx_not_ready, 1);
	take(&h);
	CHECK_EQ(nt, 0);

	/* the caller takes no TX offload: no TSO frame size, metadata refused */
	ddvm_netc_use(&h.c, DDVM_NET_F_RX_OFFLOAD);
	CHECK_EQ(ddvm_netc_tx_max(&h.c), 1518);
	CHECK_EQ(send(&h, 100, 2, &csum), -DDVM_EINVAL);
	CHECK_EQ(stats(&h).tx_bad_meta, 3);
	CHECK_EQ(send(&h, 100, 2, &(struct ddvm_net_hdr){ .flags = 2 }), 0);	/* DATA_VALID: no-op */
	n_fini(&h);

	/* TSO published but a 64 KiB frame does not fit a chunk: not offered */
	CHECK_EQ(n_init(&h, 8, 2048, DDVM_NET_F_CSUM | DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6,
			DDVM_NETC_F_ALL), 0);
	CHECK_EQ(ddvm_netc_offered(&h.c), DDVM_NET_F_CSUM);
	CHECK_EQ(ddvm_netc_tx_max(&h.c), 1518);
	CHECK_EQ(stats(&h).features, DDVM_NET_F_CSUM);
	n_fini(&h);
}

/*
 * The driver VM dies holding requests: what it answered counts, what it took
 * is forgotten (TX counted as dropped), what it had not taken goes to its
 * successor; a late answer to a forgotten request is stale.
 */
static void test_restart(void)
{
	struct nharness h;
	struct ddvm_slot old_posts[4], tx_b;
	uint8_t frame[64];
	struct ddvm_netc_stats s;
	int k;

	memset(frame, 0xab, sizeof(frame));
	CHECK_EQ(n_init(&h, 8, 2048, 0, 0), 0);
	take(&h);					/* instance 1 takes the 4 posts */
	CHECK_EQ(np, 4);
	memcpy(old_posts, posts, sizeof(old_posts));
	CHECK_EQ(send(&h, 60, 1, NULL), 0);		/* TX a: taken */
	ddvm_netc_flush(&h.c);
	take(&h);
	CHECK_EQ(nt, 1);
	n_answer_rx(&h, &old_posts[0], frame, 64, 0, 0);	/* answered, not yet seen */
	CHECK_EQ(send(&h, 61, 2, NULL), 0);		/* TX b: never taken */
	k = ddvm_netc_tx_claim(&h.c);			/* claimed across the restart */
	CHECK(k >= 0);
	ddvm_netc_flush(&h.c);
	fc_kill(&h.ch);
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(stats(&h).serving, 0);
	CHECK(strstr(h.ch.last_log, "queue 1 not ready") != NULL);
	CHECK_EQ(send(&h, 60, 0, NULL), -DDVM_ENODEV);
	n_boot(&h);					/* generation 2 resumes after TX a */
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	s = stats(&h);
	CHECK_EQ(s.serving, 1);
	CHECK_EQ(s.generation, 2);
	CHECK_EQ(s.restarts, 1);
	CHECK_EQ(h.nrx, 1);				/* the dead one's answer counts */
	CHECK_EQ(s.tx_restart_dropped, 1);
	CHECK_EQ(s.tx_in_flight, 1);			/* TX b */
	CHECK_EQ(s.rx_posted, 4);
	CHECK(strstr(h.ch.last_log, "queue 1 ready (driver VM peer 12, generation 2") != NULL);
	take(&h);
	CHECK_EQ(nt, 1);
	CHECK_EQ(ddvm_le32_to_cpu(txs[0].len), 61);
	CHECK_EQ(np, 4);
	tx_b = txs[0];
	fc_answer(&h.ch, &tx_b, DDVM_S_OK);
	CHECK_EQ(ddvm_netc_tx_submit(&h.c, (uint32_t)k, 62, NULL), 0);	/* the claim survived */
	ddvm_netc_flush(&h.c);
	take(&h);
	CHECK_EQ(nt, 1);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(stats(&h).tx_frames, 1);
	/* the dead instance answers late: stale once, then bad */
	n_answer_rx(&h, &old_posts[1], frame, 64, 0, 0);
	n_answer_rx(&h, &old_posts[1], frame, 64, 0, 0);
	ddvm_netc_poll(&h.c);
	s = stats(&h);
	CHECK_EQ(s.rx_stale, 1);
	CHECK_EQ(s.rx_bad[DDVM_NET_RESP_BAD_ID], 1);
	CHECK_EQ(h.nrx, 1);
	n_fini(&h);
}

/* A successor that has not said where it resumed is waited for; an old one has the live cons. */
static void test_restart_boundary(void)
{
	struct nharness h;

	CHECK_EQ(n_init(&h, 8, 2048, 0, 0), 0);
	take(&h);
	CHECK_EQ(send(&h, 60, 1, NULL), 0);		/* not taken */
	ddvm_netc_flush(&h.c);
	n_boot(&h);
	h.ch.dreq.sh->resume_gen = 0;
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(stats(&h).serving, 0);
	h.ch.dreq.sh->resume_gen = ddvm_cpu_to_le32(2);
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(stats(&h).serving, 1);
	CHECK_EQ(stats(&h).tx_in_flight, 1);
	CHECK_EQ(stats(&h).tx_restart_dropped, 0);
	/* a minor-1 driver VM: the live cons says what the dead one took */
	n_boot(&h);
	fc_hdr(&h.ch)->guest_version = ddvm_cpu_to_le32(1u << 16 | 1);
	h.ch.dreq.sh->resume_gen = 0;
	take(&h);					/* TX and the posts */
	CHECK_EQ(nt, 1);
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(stats(&h).serving, 1);
	CHECK_EQ(stats(&h).tx_restart_dropped, 1);
	CHECK_EQ(stats(&h).tx_in_flight, 0);
	/* a successor saying it resumed from an impossible index: broken until the next */
	n_boot(&h);
	h.ch.dreq.sh->resume_idx = ddvm_cpu_to_le32(h.ch.dreq.idx + 1000);
	CHECK_EQ(ddvm_netc_poll(&h.c), -DDVM_EPROTO);
	CHECK_EQ(stats(&h).rx_posted, 0);
	n_boot(&h);
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(stats(&h).rx_posted, 4);
	n_fini(&h);
}

/* An impossible index stops the queue until a restart; logged once. */
static void test_corrupt(void)
{
	struct nharness h;
	unsigned int n;

	CHECK_EQ(n_init(&h, 8, 2048, 0, 0), 0);
	take(&h);
	n = h.ch.nlog;
	h.ch.dresp.sh->prod = ddvm_cpu_to_le32(h.ch.dresp.idx + 1000);	/* hostile */
	CHECK_EQ(ddvm_netc_poll(&h.c), -DDVM_EPROTO);
	CHECK_EQ(h.ch.nlog, n + 1);
	CHECK(strstr(h.ch.last_log, "response ring index is impossible (ring corrupt)") != NULL);
	CHECK_EQ(stats(&h).broken, 1);
	CHECK_EQ(ddvm_netc_tx_claim(&h.c), -DDVM_ENODEV);
	CHECK_EQ(ddvm_netc_tx_room(&h.c), 0);
	CHECK_EQ(ddvm_netc_tick(&h.c), -DDVM_EPROTO);
	CHECK_EQ(h.ch.nlog, n + 1);
	/* whoever broke the ring scribbled over our indices too: written back */
	h.c.req.sh->prod = ddvm_cpu_to_le32(77777);
	h.c.resp.sh->cons = ddvm_cpu_to_le32(88888);
	CHECK_EQ(ddvm_netc_poll(&h.c), -DDVM_EPROTO);
	CHECK_EQ(ddvm_le32_to_cpu(h.c.req.sh->prod), h.c.req.idx);
	CHECK_EQ(ddvm_le32_to_cpu(h.c.resp.sh->cons), h.c.resp.old);
	/* the successor resets the index when it attaches: served again */
	n_boot(&h);
	CHECK_EQ(ddvm_netc_poll(&h.c), 0);
	CHECK_EQ(stats(&h).broken, 0);
	CHECK_EQ(stats(&h).serving, 1);
	CHECK_EQ(send(&h, 60, 1, NULL), 0);
	ddvm_netc_flush(&h.c);
	take(&h);
	CHECK_EQ(nt, 1);
	CHECK_EQ(np, 4);
	/* a successor whose indices are still impossible: broken again, everything forgotten */
	n_boot(&h);
	h.ch.dreq.sh->cons = ddvm_cpu_to_le32(h.ch.dreq.idx + 0x10000u);
	n = h.ch.nlog;
	CHECK_EQ(ddvm_netc_poll(&h.c), -DDVM_EPROTO);
	CHECK_EQ(stats(&h).broken, 1);
	CHECK(h.ch.nlog > n);
	CHECK_EQ(stats(&h).rx_posted, 0);
	CHECK_EQ(stats(&h).tx_in_flight, 0);
	n_fini(&h);
}

/* Link, readiness, bad parameters while serving, MTU and feature changes. */
static void test_state_changes(void)
{
	struct nharness h;
	struct ddvm_net_hdr csum = vhdr(1, 0, 0, 0, 34, 16);
	unsigned int n, i;

	CHECK_EQ(n_init(&h, 8, 16384, DDVM_NET_F_CSUM, DDVM_NETC_F_ALL), 0);
	CHECK_EQ(stats(&h).link_up, 1);
	h.link = 0;
	n_publish(&h);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(stats(&h).link_up, 0);
	CHECK_EQ(stats(&h).serving, 1);
	h.link = 1;
	n_publish(&h);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(stats(&h).link_up, 1);
	/* the queue goes away and comes back */
	fc_qstate(&h.ch)->state = ddvm_cpu_to_le32(DDVM_QS_ABSENT);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(stats(&h).serving, 0);
	CHECK_EQ(stats(&h).link_up, 0);
	CHECK(strstr(h.ch.last_log, "queue 1 not ready: driver VM ready, queue state 0") != NULL);
	CHECK_EQ(ddvm_netc_tx_claim(&h.c), -DDVM_ENODEV);
	n_publish(&h);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(stats(&h).serving, 1);
	/* bad parameters while serving: once per generation, again after serving in between */
	for (i = 0; i < 2; i++) {
		h.mac[0] = 0x01;
		n_publish(&h);
		n = h.ch.nlog;
		ddvm_netc_poll(&h.c);
		CHECK_EQ(stats(&h).serving, 0);
		CHECK_EQ(h.ch.nlog, n + 1);
		CHECK(strstr(h.ch.last_log, "multicast MAC 01:dd:00:00:00:01") != NULL);
		ddvm_netc_poll(&h.c);
		CHECK_EQ(h.ch.nlog, n + 1);
		h.mac[0] = 0x02;
		n_publish(&h);
		ddvm_netc_poll(&h.c);
		CHECK_EQ(stats(&h).serving, 1);
	}
	/* a new MTU and a withdrawn offload are followed */
	take(&h);
	CHECK_EQ(np, 4);
	CHECK_EQ(ddvm_le32_to_cpu(posts[0].len), 1518);
	h.mtu = 9000;
	h.features = 0;
	n_publish(&h);
	ddvm_netc_poll(&h.c);
	CHECK_EQ(stats(&h).mtu, 9000);
	CHECK_EQ(ddvm_netc_tx_max(&h.c), 9018);
	CHECK_EQ(send(&h, 9000, 0, NULL), 0);
	CHECK_EQ(send(&h, 100, 0, &csum), -DDVM_EINVAL);
	CHECK_EQ(stats(&h).tx_bad_meta, 1);
	n_answer_rx(&h, &posts[0], "frame of sixty bytes.......................................",
		    60, 0, 0);
	ddvm_netc_poll(&h.c);
	take(&h);
	CHECK_EQ(nt, 1);
	CHECK_EQ(np, 1);
	CHECK_EQ(ddvm_le32_to_cpu(posts[0].len), 9018);		/* new posts take the new MTU */
	n_fini(&h);
}

int main(void)
{
	test_open();
	test_ready_waits();
	test_rx();
	test_rx_bad();
	test_tx();
	test_restart();
	test_restart_boundary();
	test_corrupt();
	test_state_changes();
	return check_summary("test-netc");
}
