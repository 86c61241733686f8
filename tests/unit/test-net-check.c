// SPDX-License-Identifier: MIT
/*
 * test-net-check: the guest's NET request validation (proto/net_check.c),
 * each rule at its accept/reject edge: frame length 13/14, mtu + 18/+19, the
 * chunk size, chunk boundaries, the data area's ends, the last chunk and the
 * tail past nslots chunks, offsets near UINT64_MAX, flags, ops, chunk 0.
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
	uint32_t st = ddvm_net_req_check(&s, lim, &out_off, &out_len);

	if (st == DDVM_S_OK) {
		CHECK_EQ(out_off, buf_off);
		CHECK_EQ(out_len, len);
	} else {
		CHECK_EQ(out_off, 0xdead);	/* untouched on failure */
		CHECK_EQ(out_len, 0xbeef);
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

	for (bit = 0; bit < 16; bit++) {
		CHECK_EQ(check(l, DDVM_OP_NET_TX, 1u << bit, DATA_OFF, 60), DDVM_S_INVAL);
		CHECK_EQ(check(l, DDVM_OP_NET_RX, 1u << bit, DATA_OFF, CHUNK), DDVM_S_INVAL);
	}
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

int main(void)
{
	test_ops();
	test_flags();
	test_len();
	test_chunks();
	test_odd_limits();
	test_chunk_formula();
	return check_summary("test-net-check");
}
