// SPDX-License-Identifier: MIT
/*
 * test-net-check: the guest's NET request validation (proto/net_check.c),
 * each rule at its accept/reject edge: frame length 13/14, mtu + 18/+19, the
 * chunk size, chunk boundaries, the data area's ends, the last chunk and the
 * tail past nslots chunks, offsets near UINT64_MAX, flags, ops, chunk 0;
 * and the offload metadata (ddvm_net_meta_check): every flag against the
 * published features, GSO types, csum_start/offset, gso_size, hdr_len and the
 * GSO frame limit at their edges, both directions.
 */
#include <stdint.h>
#include <string.h>

#include "ddvm/net_check.h"
#include "check.h"

#define DATA_OFF	0x10000u
#define NSLOTS		8u
#define CHUNK		2048u

static const struct ddvm_net_limits base_lim = {
	.data_off = DATA_OFF,
	.data_size = NSLOTS * CHUNK + 100,	/* a tail that belongs to no chunk */
	.chunk = CHUNK,
	.nslots = NSLOTS,
	.mtu = 1500,
};

static struct ddvm_slot req(uint16_t op, uint16_t flags, uint64_t buf_off, uint32_t len)
{
	struct ddvm_slot s;

	memset(&s, 0, sizeof(s));
	s.id = ddvm_cpu_to_le64(7);
	s.op = ddvm_cpu_to_le16(op);
	s.flags = ddvm_cpu_to_le16(flags);
	s.buf_off = ddvm_cpu_to_le64(buf_off);
	s.len = ddvm_cpu_to_le32(len);
	return s;
}

static uint32_t check(const struct ddvm_net_limits *lim, uint16_t op, uint16_t flags,
		      uint64_t buf_off, uint32_t len)
{
	struct ddvm_slot s = req(op, flags, buf_off, len);
	uint64_t out_off = 0xdead;
	uint32_t out_len = 0xbeef;
	struct ddvm_net_meta m = { .flags = 0xbeef };
	uint32_t st = ddvm_net_req_check(&s, lim, &out_off, &out_len, &m);

	if (st == DDVM_S_OK) {
		CHECK_EQ(out_off, buf_off);
		CHECK_EQ(out_len, len);
	} else {
		CHECK_EQ(out_off, 0xdead);	/* untouched on failure */
		CHECK_EQ(out_len, 0xbeef);
		CHECK_EQ(m.flags, 0xbeef);
	}
	return st;
}

static void test_ops(void)
{
	const struct ddvm_net_limits *l = &base_lim;
	static const uint16_t others[] = { 0, DDVM_OP_PING, DDVM_OP_CRASH, DDVM_OP_READ,
					   DDVM_OP_WRITE, DDVM_OP_FLUSH, DDVM_OP_DISCARD,
					   DDVM_OP_WRITE_ZEROES, 31, 34, 0xffff };
	unsigned int i;

	CHECK_EQ(check(l, DDVM_OP_NET_TX, 0, DATA_OFF, 60), DDVM_S_OK);
	CHECK_EQ(check(l, DDVM_OP_NET_RX, 0, DATA_OFF, CHUNK), DDVM_S_OK);
	/* An unknown op is NOTSUPP whatever the rest says. */
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		CHECK_EQ(check(l, others[i], 0, DATA_OFF, 60), DDVM_S_NOTSUPP);
		CHECK_EQ(check(l, others[i], 0xffff, 0, 0), DDVM_S_NOTSUPP);
	}
}

static void test_flags(void)
{
	const struct ddvm_net_limits *l = &base_lim;
	unsigned int bit;

	/* No feature published: every TX flag is refused; RX posts take OFFLOAD only. */
	for (bit = 0; bit < 16; bit++) {
		CHECK_EQ(check(l, DDVM_OP_NET_TX, 1u << bit, DATA_OFF, 60), DDVM_S_INVAL);
		CHECK_EQ(check(l, DDVM_OP_NET_RX, 1u << bit, DATA_OFF, CHUNK),
			 (1u << bit) == DDVM_F_NET_OFFLOAD ? DDVM_S_OK : DDVM_S_INVAL);
	}
}

#define ALLF	(DDVM_NET_F_CSUM | DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | DDVM_NET_F_TSO_ECN)
#define CS	DDVM_F_NET_CSUM
#define V4	DDVM_F_NET_GSO_TCPV4
#define V6	DDVM_F_NET_GSO_TCPV6
#define ECN	DDVM_F_NET_GSO_ECN

static uint32_t meta(uint16_t flags, uint16_t cs, uint16_t co, uint16_t gs, uint16_t hl,
		     uint32_t len, uint32_t feat, int dir)
{
	struct ddvm_net_meta m = { .flags = 0xbeef };
	uint32_t why = ddvm_net_meta_check(flags, ddvm_net_arg0(cs, co, gs, hl), len, 1500, feat,
					   dir, &m);

	if (why == DDVM_NET_META_OK) {
		CHECK_EQ(m.flags, flags);
		CHECK_EQ(m.gso_type, flags & DDVM_F_NET_GSO_MASK);
		CHECK_EQ(m.csum_start, (flags & CS) ? cs : 0);
		CHECK_EQ(m.csum_offset, (flags & CS) ? co : 0);
		CHECK_EQ(m.gso_size, (flags & DDVM_F_NET_GSO_MASK) ? gs : 0);
		CHECK_EQ(m.hdr_len, (flags & DDVM_F_NET_GSO_MASK) ? hl : 0);
	} else {
		CHECK_EQ(m.flags, 0xbeef);
	}
	CHECK(ddvm_net_meta_str(why)[0] != '?');
	return why;
}

static void test_meta(void)
{
	const int tx = DDVM_NET_META_TX, rx = DDVM_NET_META_RX;
	unsigned int bit;

	/* A plain frame; arg0 is ignored when no flag calls for it. */
	CHECK_EQ(meta(0, 0, 0, 0, 0, 60, 0, tx), DDVM_NET_META_OK);
	CHECK_EQ(ddvm_net_meta_check(0, ~0ull, 60, 1500, 0, tx, &(struct ddvm_net_meta){ 0 }),
		 DDVM_NET_META_OK);
	/* Flags against features. */
	CHECK_EQ(meta(CS, 34, 16, 0, 0, 60, 0, tx), DDVM_NET_META_FLAGS_BAD);
	CHECK_EQ(meta(CS, 34, 16, 0, 0, 60, DDVM_NET_F_CSUM, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(DDVM_F_NET_CSUM_VALID, 0, 0, 0, 0, 60, ALLF, tx), DDVM_NET_META_FLAGS_BAD);
	CHECK_EQ(meta(DDVM_F_NET_CSUM_VALID, 0, 0, 0, 0, 60, ALLF, rx), DDVM_NET_META_OK);
	CHECK_EQ(meta(DDVM_F_NET_CSUM_VALID, 0, 0, 0, 0, 60, 0, rx), DDVM_NET_META_FLAGS_BAD);
	CHECK_EQ(meta(DDVM_F_NET_CSUM_VALID | CS, 34, 16, 0, 0, 60, ALLF, rx),
		 DDVM_NET_META_FLAGS_BAD);
	CHECK_EQ(meta(DDVM_F_NET_OFFLOAD, 0, 0, 0, 0, 60, ALLF, rx), DDVM_NET_META_FLAGS_BAD);
	for (bit = 7; bit < 16; bit++) {
		CHECK_EQ(meta(1u << bit, 0, 0, 0, 0, 60, ~0u, tx), DDVM_NET_META_FLAGS_BAD);
		CHECK_EQ(meta(1u << bit, 0, 0, 0, 0, 60, ~0u, rx), DDVM_NET_META_FLAGS_BAD);
	}
	CHECK_EQ(meta(DDVM_F_FUA, 0, 0, 0, 0, 60, ~0u, tx), DDVM_NET_META_FLAGS_BAD);

	/* GSO types: each needs its feature and CSUM; 0x30 is reserved. */
	CHECK_EQ(meta(CS | V4, 34, 16, 1448, 66, 30000, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V6, 54, 16, 1428, 86, 30000, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V4, 34, 16, 1448, 66, 30000, ALLF & ~DDVM_NET_F_TSO4, tx),
		 DDVM_NET_META_GSO);
	CHECK_EQ(meta(CS | V6, 54, 16, 1428, 86, 30000, ALLF & ~DDVM_NET_F_TSO6, tx),
		 DDVM_NET_META_GSO);
	CHECK_EQ(meta(V4, 34, 16, 1448, 66, 30000, ALLF, tx), DDVM_NET_META_GSO);
	CHECK_EQ(meta(CS | V4 | V6, 34, 16, 1448, 66, 30000, ALLF, tx), DDVM_NET_META_GSO);
	CHECK_EQ(meta(CS | V4 | ECN, 34, 16, 1448, 66, 30000, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V4 | ECN, 34, 16, 1448, 66, 30000, ALLF & ~DDVM_NET_F_TSO_ECN, tx),
		 DDVM_NET_META_GSO);
	CHECK_EQ(meta(CS | ECN, 34, 16, 0, 0, 60, ALLF, tx), DDVM_NET_META_GSO);

	/* Lengths: GSO up to 64 KiB + 18, anything else up to mtu + 18. */
	CHECK_EQ(meta(CS | V4, 34, 16, 1448, 66, DDVM_NET_GSO_MAX_FRAME, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V4, 34, 16, 1448, 66, DDVM_NET_GSO_MAX_FRAME + 1, ALLF, tx),
		 DDVM_NET_META_LEN);
	CHECK_EQ(meta(CS, 34, 16, 0, 0, 1518, ALLF, rx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS, 34, 16, 0, 0, 1519, ALLF, rx), DDVM_NET_META_LEN);
	CHECK_EQ(meta(0, 0, 0, 0, 0, 1519, ALLF, rx), DDVM_NET_META_LEN);

	/* Checksum position: from the L3 header on, the field inside the frame. */
	CHECK_EQ(meta(CS, 14, 0, 0, 0, 16, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS, 13, 0, 0, 0, 60, ALLF, tx), DDVM_NET_META_CSUM);
	CHECK_EQ(meta(CS, 34, 16, 0, 0, 52, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS, 34, 16, 0, 0, 51, ALLF, tx), DDVM_NET_META_CSUM);
	CHECK_EQ(meta(CS, 0xffff, 0xffff, 0, 0, 1500, ALLF, tx), DDVM_NET_META_CSUM);
	CHECK_EQ(meta(CS, 34, 0xffff, 0, 0, 1500, ALLF, rx), DDVM_NET_META_CSUM);

	/* gso_size: 8 .. mtu. */
	CHECK_EQ(meta(CS | V4, 34, 16, 0, 66, 30000, ALLF, tx), DDVM_NET_META_GSO_SIZE);
	CHECK_EQ(meta(CS | V4, 34, 16, 7, 66, 30000, ALLF, tx), DDVM_NET_META_GSO_SIZE);
	CHECK_EQ(meta(CS | V4, 34, 16, 8, 66, 30000, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V4, 34, 16, 1500, 66, 30000, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V4, 34, 16, 1501, 66, 30000, ALLF, tx), DDVM_NET_META_GSO_SIZE);
	CHECK_EQ(ddvm_net_meta_check(CS | V4, ddvm_net_arg0(34, 16, 9000, 66), 30000, 0, ALLF, tx,
				     &(struct ddvm_net_meta){ 0 }), DDVM_NET_META_OK);
	/* hdr_len: a hint, but never past the frame. */
	CHECK_EQ(meta(CS | V4, 34, 16, 1448, 0, 30000, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V4, 34, 16, 1448, 30000, 30000, ALLF, tx), DDVM_NET_META_OK);
	CHECK_EQ(meta(CS | V4, 34, 16, 1448, 30001, 30000, ALLF, tx), DDVM_NET_META_HDR_LEN);
}

static void test_tx_offload(void)
{
	struct ddvm_net_limits l = base_lim;
	struct ddvm_slot s;
	struct ddvm_net_meta m;
	uint64_t off;
	uint32_t len;

	/* A GSO frame must also fit the chunk; the meta rules decide the rest. */
	l.features = ALLF;
	s = req(DDVM_OP_NET_TX, CS | V4, DATA_OFF, CHUNK);
	s.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0(34, 16, 1448, 66));
	CHECK_EQ(ddvm_net_req_check(&s, &l, &off, &len, &m), DDVM_S_OK);
	CHECK_EQ(m.gso_size, 1448);
	CHECK_EQ(m.csum_start, 34);
	s.len = ddvm_cpu_to_le32(CHUNK + 1);
	CHECK_EQ(ddvm_net_req_check(&s, &l, &off, &len, &m), DDVM_S_INVAL);
	s.len = ddvm_cpu_to_le32(100);
	s.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0(34, 16, 0, 66));
	CHECK_EQ(ddvm_net_req_check(&s, &l, &off, &len, &m), DDVM_S_INVAL);
	l.features = 0;
	s.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0(34, 16, 1448, 66));
	CHECK_EQ(ddvm_net_req_check(&s, &l, &off, &len, &m), DDVM_S_INVAL);
	/* RX posts: OFFLOAD is reported back. */
	s = req(DDVM_OP_NET_RX, DDVM_F_NET_OFFLOAD, DATA_OFF, CHUNK);
	CHECK_EQ(ddvm_net_req_check(&s, &l, &off, &len, &m), DDVM_S_OK);
	CHECK_EQ(m.flags, DDVM_F_NET_OFFLOAD);
}

static void test_len(void)
{
	struct ddvm_net_limits l = base_lim;

	/* Ethernet header minimum, both ops. */
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 13), DDVM_S_INVAL);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 14), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF, 13), DDVM_S_INVAL);
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF, 14), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 0), DDVM_S_INVAL);

	/* TX: MTU + header + one VLAN tag. */
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 1500 + 18), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 1500 + 19), DDVM_S_INVAL);
	/* RX capacity is not bounded by the MTU, only by the chunk. */
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF, 1500 + 19), DDVM_S_OK);

	/* TX: no more than a chunk, even when the MTU would allow it. */
	l.mtu = 9000;
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, CHUNK), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, CHUNK + 1), DDVM_S_INVAL);
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF, CHUNK + 1), DDVM_S_INVAL);

	/* mtu 0 (no netdev yet): only the chunk bounds TX. */
	l.mtu = 0;
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, CHUNK), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, CHUNK + 1), DDVM_S_INVAL);

	/* A huge MTU: mtu + 18 must not wrap to a small limit. */
	l.mtu = UINT32_MAX - 5;
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, CHUNK), DDVM_S_OK);
	l.mtu = 1;
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 19), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 20), DDVM_S_INVAL);

	CHECK_EQ(check(&base_lim, DDVM_OP_NET_TX, 0, DATA_OFF, UINT32_MAX), DDVM_S_INVAL);
	CHECK_EQ(check(&base_lim, DDVM_OP_NET_RX, 0, DATA_OFF, UINT32_MAX), DDVM_S_INVAL);
}

static void test_chunks(void)
{
	struct ddvm_net_limits nomtu = base_lim;
	const struct ddvm_net_limits *l = &nomtu;
	const uint64_t last = DATA_OFF + (uint64_t)(NSLOTS - 1) * CHUNK;
	const uint16_t ops[] = { DDVM_OP_NET_TX, DDVM_OP_NET_RX };
	unsigned int i;

	nomtu.mtu = 0;	/* only the buffer rules here: TX may fill a chunk */
	for (i = 0; i < 2; i++) {
		uint16_t op = ops[i];

		/* Before / at the start of the data area. */
		CHECK_EQ(check(l, op, 0, DATA_OFF - 1, 14), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, DATA_OFF - 64, 60), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, 0, 60), DDVM_S_INVAL);
		/* Inside chunk 0, ending exactly at its end or one past. */
		CHECK_EQ(check(l, op, 0, DATA_OFF + CHUNK - 14, 14), DDVM_S_OK);
		CHECK_EQ(check(l, op, 0, DATA_OFF + CHUNK - 13, 14), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, DATA_OFF + 100, CHUNK - 100), DDVM_S_OK);
		CHECK_EQ(check(l, op, 0, DATA_OFF + 100, CHUNK - 99), DDVM_S_INVAL);
		/* Chunk 1 from its first byte; unaligned starts are fine. */
		CHECK_EQ(check(l, op, 0, DATA_OFF + CHUNK, 60), DDVM_S_OK);
		CHECK_EQ(check(l, op, 0, DATA_OFF + CHUNK + 3, 60), DDVM_S_OK);
		/* The last chunk, whole. */
		CHECK_EQ(check(l, op, 0, last, CHUNK), DDVM_S_OK);
		CHECK_EQ(check(l, op, 0, last + CHUNK - 14, 14), DDVM_S_OK);
		/* The tail past nslots chunks is inside the data area but no chunk. */
		CHECK_EQ(check(l, op, 0, last + CHUNK, 14), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, last + CHUNK + 50, 14), DDVM_S_INVAL);
		/* The data area's end and beyond. */
		CHECK_EQ(check(l, op, 0, DATA_OFF + l->data_size - 1, 14), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, DATA_OFF + l->data_size, 14), DDVM_S_INVAL);
		/* Offsets near 2^64: no wrap into the data area. */
		CHECK_EQ(check(l, op, 0, UINT64_MAX, 14), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, UINT64_MAX - 13, 14), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, (uint64_t)0 - CHUNK + DATA_OFF, 60), DDVM_S_INVAL);
		CHECK_EQ(check(l, op, 0, UINT64_MAX - CHUNK + 1, 60), DDVM_S_INVAL);
	}
}

static void test_odd_limits(void)
{
	struct ddvm_net_limits l = base_lim;

	/* chunk 0 (data area smaller than 64 bytes a slot): nothing is valid. */
	l.chunk = 0;
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF, 14), DDVM_S_INVAL);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 0, DATA_OFF, 14), DDVM_S_INVAL);
	CHECK_EQ(check(&l, DDVM_OP_NET_TX, 1, DATA_OFF, 14), DDVM_S_INVAL);

	/* No data area at all. */
	l = base_lim;
	l.data_size = 0;
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF, 14), DDVM_S_INVAL);

	/* A data area at the very top of the address space, ending 64 bytes below 2^64. */
	l = base_lim;
	l.data_size = 4 * CHUNK;
	l.nslots = 4;
	l.data_off = UINT64_MAX - l.data_size + 1 - 64;
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, l.data_off + 3 * CHUNK, CHUNK), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, l.data_off + 3 * CHUNK + 1, CHUNK), DDVM_S_INVAL);
	/* One that ends at 2^64 exactly or wraps past it holds no valid buffer. */
	l.data_off = (uint64_t)0 - l.data_size;
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, l.data_off, 14), DDVM_S_INVAL);
	l.data_off = UINT64_MAX - CHUNK;
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, l.data_off, 14), DDVM_S_INVAL);

	/* Inconsistent limits (chunk * nslots > data_size): the data area still bounds. */
	l = base_lim;
	l.data_size = CHUNK + 100;
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF + CHUNK, 100), DDVM_S_OK);
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF + CHUNK, 101), DDVM_S_INVAL);

	/* nslots 0: no chunk. */
	l = base_lim;
	l.nslots = 0;
	CHECK_EQ(check(&l, DDVM_OP_NET_RX, 0, DATA_OFF, 14), DDVM_S_INVAL);
}

static void test_chunk_formula(void)
{
	CHECK_EQ(ddvm_net_chunk(NSLOTS * CHUNK, NSLOTS), CHUNK);
	CHECK_EQ(ddvm_net_chunk(NSLOTS * CHUNK + 100, NSLOTS), CHUNK);
	CHECK_EQ(ddvm_net_chunk(NSLOTS * CHUNK - 1, NSLOTS), CHUNK - 64);
	CHECK_EQ(ddvm_net_chunk(4096, 128), 0);		/* 32 bytes a slot */
	CHECK_EQ(ddvm_net_chunk(4096, 64), 64);
	CHECK_EQ(ddvm_net_chunk(4096, 0), 0);
	CHECK_EQ(ddvm_net_chunk(0, 1), 0);
}

/* A published MAC and MTU (ddvm_net_params_check): each reason at its edge. */
static void test_params(void)
{
	static const struct {
		uint8_t mac[6];
		uint32_t mtu, why;
	} cases[] = {
		{ { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 1500, DDVM_NET_PARAMS_OK },
		{ { 0x02, 0, 0, 0, 0, 0 }, 1500, DDVM_NET_PARAMS_OK },	/* locally administered */
		{ { 0, 0, 0, 0, 0, 1 }, 1500, DDVM_NET_PARAMS_OK },	/* one bit, last octet */
		{ { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff }, 1500, DDVM_NET_PARAMS_OK },
		{ { 0, 0, 0, 0, 0, 0 }, 1500, DDVM_NET_PARAMS_MAC_ZERO },
		{ { 0, 0, 0, 0, 0, 0 }, 0, DDVM_NET_PARAMS_MAC_ZERO },	/* MAC first */
		{ { 0x01, 0, 0x5e, 0, 0, 1 }, 1500, DDVM_NET_PARAMS_MAC_MULTICAST },
		{ { 0x01, 0, 0, 0, 0, 0 }, 1500, DDVM_NET_PARAMS_MAC_MULTICAST },
		{ { 0x33, 0x33, 0, 0, 0, 1 }, 1500, DDVM_NET_PARAMS_MAC_MULTICAST },	/* IPv6 */
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 1500, DDVM_NET_PARAMS_MAC_MULTICAST },
		{ { 0x02, 0, 0, 0, 0, 1 }, 67, DDVM_NET_PARAMS_MTU },
		{ { 0x02, 0, 0, 0, 0, 1 }, 68, DDVM_NET_PARAMS_OK },
		{ { 0x02, 0, 0, 0, 0, 1 }, 65535, DDVM_NET_PARAMS_OK },
		{ { 0x02, 0, 0, 0, 0, 1 }, 65536, DDVM_NET_PARAMS_MTU },
		{ { 0x02, 0, 0, 0, 0, 1 }, 0, DDVM_NET_PARAMS_MTU },
		{ { 0x02, 0, 0, 0, 0, 1 }, 0xffffffffu, DDVM_NET_PARAMS_MTU },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_EQ(ddvm_net_params_check(cases[i].mac, cases[i].mtu), cases[i].why);
	CHECK(strcmp(ddvm_net_params_str(DDVM_NET_PARAMS_MAC_ZERO), "zero MAC") == 0);
	CHECK(strcmp(ddvm_net_params_str(DDVM_NET_PARAMS_MAC_MULTICAST), "multicast MAC") == 0);
	CHECK(strcmp(ddvm_net_params_str(DDVM_NET_PARAMS_MTU), "MTU") == 0);
	CHECK(strcmp(ddvm_net_params_str(99), "?") == 0);
}

int main(void)
{
	test_ops();
	test_flags();
	test_meta();
	test_tx_offload();
	test_len();
	test_chunks();
	test_odd_limits();
	test_chunk_formula();
	test_params();
	return check_summary("test-net-check");
}
