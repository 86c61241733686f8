// SPDX-License-Identifier: MIT
/*
 * ddvm_blk_req_check: every rule's accept/reject edge, in the documented
 * order, including offsets and buffers near UINT64_MAX.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ddvm/blk_check.h"

static const struct ddvm_blk_limits base = {
	.capacity = 1 << 20, .lbs = 512, .max_transfer = 64 << 10,
	.features = DDVM_BLK_F_FLUSH | DDVM_BLK_F_DISCARD | DDVM_BLK_F_WRITE_ZEROES,
	.nslots = 4, .data_off = 0x10000, .data_size = 4 * (64 << 10), .chunk = 64 << 10,
};

static uint32_t chk(uint16_t op, uint16_t flags, uint64_t off, uint32_t len, uint64_t buf,
		    const struct ddvm_blk_limits *lim)
{
	struct ddvm_slot s;

	memset(&s, 0, sizeof(s));
	s.op = ddvm_cpu_to_le16(op);
	s.flags = ddvm_cpu_to_le16(flags);
	s.offset = ddvm_cpu_to_le64(off);
	s.len = ddvm_cpu_to_le32(len);
	s.buf_off = ddvm_cpu_to_le64(buf);
	return ddvm_blk_req_check(&s, lim ? lim : &base);
}

int main(void)
{
	struct ddvm_blk_limits ro = base, nodisc = base;
	const uint64_t d = base.data_off, c = base.chunk;

	ro.features |= DDVM_BLK_F_RO;
	nodisc.features &= ~DDVM_BLK_F_DISCARD;

	/* ops */
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 4096, d, NULL), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_WRITE, DDVM_F_FUA, 0, 4096, d, NULL), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_PING, 0, 0, 4096, d, NULL), DDVM_S_NOTSUPP);
	CHECK_EQ(chk(DDVM_OP_NET_TX, 0, 0, 4096, d, NULL), DDVM_S_NOTSUPP);
	CHECK_EQ(chk(0xffff, 0, 0, 0, 0, NULL), DDVM_S_NOTSUPP);
	/* flags */
	CHECK_EQ(chk(DDVM_OP_WRITE, 0x2, 0, 4096, d, NULL), DDVM_S_INVAL);
	CHECK_EQ(chk(DDVM_OP_READ, 0x8000, 0, 4096, d, NULL), DDVM_S_INVAL);
	/* FLUSH ignores the rest */
	CHECK_EQ(chk(DDVM_OP_FLUSH, 0, UINT64_MAX, 7, UINT64_MAX, NULL), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_FLUSH, 0x2, 0, 0, 0, NULL), DDVM_S_INVAL);
	/* read-only, discard feature */
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d, &ro), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_WRITE, 0, 0, 512, d, &ro), DDVM_S_NOTSUPP);
	CHECK_EQ(chk(DDVM_OP_WRITE_ZEROES, 0, 0, 512, 0, &ro), DDVM_S_NOTSUPP);
	CHECK_EQ(chk(DDVM_OP_DISCARD, 0, 0, 512, 0, &nodisc), DDVM_S_NOTSUPP);
	CHECK_EQ(chk(DDVM_OP_DISCARD, 0, 0, 512, 0, NULL), DDVM_S_OK);
	/* length and alignment */
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 0, d, NULL), DDVM_S_INVAL);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 511, d, NULL), DDVM_S_INVAL);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 1, 512, d, NULL), DDVM_S_INVAL);
	CHECK_EQ(chk(DDVM_OP_WRITE_ZEROES, 0, 0, 513, 0, NULL), DDVM_S_INVAL);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 64 << 10, d, NULL), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, (64 << 10) + 512, d, NULL), DDVM_S_INVAL);
	/* DISCARD / WRITE_ZEROES are not limited by max_transfer */
	CHECK_EQ(chk(DDVM_OP_WRITE_ZEROES, 0, 0, 1 << 20, 0, NULL), DDVM_S_OK);
	/* range, overflow-safe */
	CHECK_EQ(chk(DDVM_OP_READ, 0, (1 << 20) - 512, 512, d, NULL), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_READ, 0, (1 << 20) - 512, 1024, d, NULL), DDVM_S_RANGE);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 1 << 20, 512, d, NULL), DDVM_S_RANGE);
	CHECK_EQ(chk(DDVM_OP_READ, 0, UINT64_MAX - 511, 512, d, NULL), DDVM_S_RANGE);
	CHECK_EQ(chk(DDVM_OP_DISCARD, 0, UINT64_MAX - 511, 1024, 0, NULL), DDVM_S_RANGE);
	/* the buffer: inside one chunk of the data area */
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d - 512, NULL), DDVM_S_INVAL);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d + c - 512, NULL), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 1024, d + c - 512, NULL), DDVM_S_INVAL);	/* crosses */
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d + 3 * c, NULL), DDVM_S_OK);	/* last chunk */
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d + 4 * c - 512, NULL), DDVM_S_OK);
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d + 4 * c, NULL), DDVM_S_INVAL);	/* past the area */
	CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, UINT64_MAX, NULL), DDVM_S_INVAL);
	CHECK_EQ(chk(DDVM_OP_WRITE, 0, 0, 512, UINT64_MAX - 100, NULL), DDVM_S_INVAL);
	/* a data area bigger than nslots chunks: the tail is no chunk */
	{
		struct ddvm_blk_limits tail = base;

		tail.data_size += 4096;
		CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d + 4 * c, &tail), DDVM_S_INVAL);
	}
	/* a data area too small for its slots: chunk 0, no buffer is valid */
	{
		struct ddvm_blk_limits tiny = base;

		tiny.chunk = 0;
		CHECK_EQ(chk(DDVM_OP_READ, 0, 0, 512, d, &tiny), DDVM_S_INVAL);
		CHECK_EQ(chk(DDVM_OP_FLUSH, 0, 0, 0, 0, &tiny), DDVM_S_OK);
		CHECK_EQ(chk(DDVM_OP_WRITE_ZEROES, 0, 0, 512, 0, &tiny), DDVM_S_OK);
	}
	/* client side: responses against the pending table */
	{
		struct ddvm_blk_pending p[2] = { { 7, 4096, DDVM_OP_READ, 1 }, { 9, 0, DDVM_OP_FLUSH, 0 } };
		struct ddvm_slot r;
		uint32_t slot = 99, st = 99;

		memset(&r, 0, sizeof(r));
		r.id = ddvm_cpu_to_le64(ddvm_blk_id(0xabcd, 7, 0));
		r.op = ddvm_cpu_to_le16(DDVM_OP_READ);
		r.len = ddvm_cpu_to_le32(4096);
		r.status = ddvm_cpu_to_le32(DDVM_S_IOERR);
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabcd, p, 2, &slot, &st), DDVM_BLK_RESP_MATCH);
		CHECK_EQ(slot, 0u);
		CHECK_EQ(st, DDVM_S_IOERR);
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabce, p, 2, &slot, &st), DDVM_BLK_RESP_STALE);	/* tag */
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabcd, p, 0, &slot, &st), DDVM_BLK_RESP_STALE);	/* nslots */
		r.len = ddvm_cpu_to_le32(512);
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabcd, p, 2, &slot, &st), DDVM_BLK_RESP_BAD);
		r.len = ddvm_cpu_to_le32(4096);
		r.op = ddvm_cpu_to_le16(DDVM_OP_WRITE);
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabcd, p, 2, &slot, &st), DDVM_BLK_RESP_BAD);
		r.op = ddvm_cpu_to_le16(DDVM_OP_READ);
		r.status = ddvm_cpu_to_le32(6);
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabcd, p, 2, &slot, &st), DDVM_BLK_RESP_BAD);
		r.id = ddvm_cpu_to_le64(ddvm_blk_id(0xabcd, 8, 0));	/* stale sequence */
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabcd, p, 2, &slot, &st), DDVM_BLK_RESP_STALE);
		r.id = ddvm_cpu_to_le64(ddvm_blk_id(0xabcd, 9, 1));	/* not waiting */
		r.op = ddvm_cpu_to_le16(DDVM_OP_FLUSH);
		r.len = 0;
		r.status = 0;
		CHECK_EQ(ddvm_blk_resp_check(&r, 0xabcd, p, 2, &slot, &st), DDVM_BLK_RESP_STALE);
	}
	return check_summary("test-blk-check");
}
