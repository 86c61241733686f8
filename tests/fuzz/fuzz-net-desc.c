// SPDX-License-Identifier: MIT
/*
 * fuzz-net-desc: the net client's validation of responses
 * (ddvm_net_resp_check, proto/net_check.c, used by lib/net_client.c) against
 * a hostile driver VM.  The fuzzer's bytes are a program: the client submits
 * TX frames and posts RX buffers into free chunks (as lib/net_client.c
 * does), and the "driver VM" answers with responses that are either
 * arbitrary bytes or a real outstanding request's id with fields mutated.
 * The client reclaims what ddvm_net_resp_check says a response ends.
 * (fuzz-netc drives the whole client, shared memory and all.)
 *
 * RX buffers are posted with or without DDVM_F_NET_OFFLOAD; responses may
 * carry offload metadata (flags, arg0), honest or mutated.
 *
 * Always: the verdict is in range; a response is accepted only for a request
 * outstanding right now, with its op, a status the net protocol defines and,
 * for an RX frame, 14 <= len <= the posted capacity, metadata only if the
 * buffer was posted for it, and then metadata that ddvm_net_meta_check
 * accepts (a plain frame <= mtu + 18, a GSO frame TCP with CSUM and a sane
 * gso_size, checksum field inside the frame); no request is ended twice; a
 * correct answer to an outstanding request is always accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/net_check.h"

#include "must.h"

#define NCHUNKS		16u
#define CHUNK		2048u
#define DATA_OFF	0x10000u
#define MTU		1500u

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t take8(struct input *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint32_t take32(struct input *in)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 8 | take8(in);
	return v;
}

static void take_bytes(struct input *in, void *dst, size_t len)
{
	size_t k = len < in->n ? len : in->n;

	memset(dst, 0, len);
	memcpy(dst, in->p, k);
	in->p += k;
	in->n -= k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddvm_net_pending reqs[NCHUNKS];
	struct input in = { data, size };
	uint32_t seq = take32(&in);
	unsigned int steps = 0;

	memset(reqs, 0, sizeof(reqs));
	while (in.n && steps++ < 512) {
		uint8_t what = take8(&in);
		uint32_t k = take8(&in) % NCHUNKS;
		struct ddvm_slot s;
		struct ddvm_net_pending before;
		struct ddvm_net_resp r;
		uint32_t v;
		int honest = 0;

		switch (what % 4) {
		case 0:		/* client: submit into chunk k if free */
			if (reqs[k].op == 0) {
				reqs[k].op = (what & 4) ? DDVM_OP_NET_RX : DDVM_OP_NET_TX;
				reqs[k].seq = ++seq;
				reqs[k].len = 14 + take32(&in) % (CHUNK - 13);
				reqs[k].flags = reqs[k].op == DDVM_OP_NET_RX && (what & 8)
						? DDVM_F_NET_OFFLOAD : 0;
			}
			continue;
		case 1:		/* driver VM: arbitrary bytes */
			take_bytes(&in, &s, sizeof(s));
			break;
		default: {	/* driver VM: answer chunk k, maybe mutated */
			uint8_t mut = take8(&in), meta = take8(&in);
			uint32_t cap = reqs[k].len < MTU + 18 ? reqs[k].len : MTU + 18;
			uint32_t len = reqs[k].op == DDVM_OP_NET_RX ? 14 + take32(&in) % (cap - 13)
								    : reqs[k].len;

			memset(&s, 0, sizeof(s));
			s.id = ddvm_cpu_to_le64(ddvm_net_id(reqs[k].seq, k));
			s.op = ddvm_cpu_to_le16(reqs[k].op);
			s.status = ddvm_cpu_to_le32(take8(&in) % 3);
			s.len = ddvm_cpu_to_le32(len);
			s.buf_off = ddvm_cpu_to_le64((mut & 0x80) ? DATA_OFF + (uint64_t)k * CHUNK : 0);
			honest = reqs[k].op != 0 && (mut & 0x0f) == 0;
			/* Honest metadata for an offload buffer: checksum valid or partial. */
			if ((reqs[k].flags & DDVM_F_NET_OFFLOAD) && (meta & 1))
				s.flags = ddvm_cpu_to_le16(DDVM_F_NET_CSUM_VALID);
			else if ((reqs[k].flags & DDVM_F_NET_OFFLOAD) && (meta & 2) && len >= 14 + 18)
				s.flags = ddvm_cpu_to_le16(DDVM_F_NET_CSUM),
				s.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0(14, 16, 0, 0));
			if (meta & 4)	/* an echoed OFFLOAD means nothing */
				s.flags |= ddvm_cpu_to_le16(reqs[k].flags);
			if (meta & 0x80) {	/* hostile metadata */
				honest = 0;
				s.flags = ddvm_cpu_to_le16((uint16_t)take32(&in));
				s.arg0 = ddvm_cpu_to_le64((uint64_t)take32(&in) << 32 | take32(&in));
			}
			if (!honest && (mut & 0x01))
				s.id = ddvm_cpu_to_le64(ddvm_le64_to_cpu(s.id) ^ ((uint64_t)take32(&in) << (mut & 0x20 ? 32 : 0)));
			if (!honest && (mut & 0x02))
				s.op = ddvm_cpu_to_le16((uint16_t)take32(&in));
			if (!honest && (mut & 0x04))
				s.status = ddvm_cpu_to_le32(take32(&in));
			if (!honest && (mut & 0x08))
				s.len = ddvm_cpu_to_le32(take32(&in));
			if (!honest && (mut & 0x40))
				s.buf_off = ddvm_cpu_to_le64((uint64_t)take32(&in) << 8 | take8(&in));
			break;
		}
		}
		v = ddvm_net_resp_check(&s, reqs, NCHUNKS, DATA_OFF, CHUNK, MTU, &r);
		MUST(v < DDVM_NET_RESP_NVERDICTS);
		MUST(v != DDVM_NET_RESP_BAD_META || (r.meta_why > 0 && r.meta_why < DDVM_NET_META_NREASONS));
		MUST(ddvm_net_resp_str(v)[0] != '?');
		if (honest)
			MUST(v == DDVM_NET_RESP_OK);
		if (v == DDVM_NET_RESP_BAD_ID)
			continue;
		/* It names a request outstanding right now: id, seq and all. */
		MUST(r.chunk < NCHUNKS);
		before = reqs[r.chunk];
		MUST(before.op != 0);
		MUST(ddvm_le64_to_cpu(s.id) == ddvm_net_id(before.seq, r.chunk));
		MUST(r.op == before.op);
		if (v == DDVM_NET_RESP_OK) {
			uint64_t off = ddvm_le64_to_cpu(s.buf_off);

			MUST(ddvm_le16_to_cpu(s.op) == before.op);
			MUST(r.status == DDVM_S_OK || r.status == DDVM_S_IOERR ||
			     r.status == DDVM_S_INVAL);
			MUST(r.status == ddvm_le32_to_cpu(s.status));
			MUST(off == 0 || off == DATA_OFF + (uint64_t)r.chunk * CHUNK);
			if (before.op == DDVM_OP_NET_RX && r.status == DDVM_S_OK) {
				uint16_t fl = ddvm_le16_to_cpu(s.flags) & ~DDVM_F_NET_OFFLOAD;
				struct ddvm_net_meta m2;

				MUST(r.len >= DDVM_NET_ETH_MIN && r.len <= before.len && r.len <= CHUNK);
				MUST(r.meta.flags == fl);
				if (!(before.flags & DDVM_F_NET_OFFLOAD))
					MUST(fl == 0);
				MUST(ddvm_net_meta_check(fl, ddvm_le64_to_cpu(s.arg0), r.len, MTU,
							 DDVM_NET_META_RX_ALL, DDVM_NET_META_RX,
							 &m2) == DDVM_NET_META_OK);
				if (!r.meta.gso_type)
					MUST(r.len <= MTU + 18);
				else
					MUST((fl & DDVM_F_NET_CSUM) && r.meta.gso_size >= 8 &&
					     r.meta.gso_size <= MTU && r.meta.hdr_len <= r.len);
				if (fl & DDVM_F_NET_CSUM)
					MUST(r.meta.csum_start >= 14 &&
					     r.meta.csum_start + r.meta.csum_offset + 2u <= r.len);
			}
			if (before.op == DDVM_OP_NET_TX)
				MUST(r.len == before.len);
		}
		reqs[r.chunk].op = 0;		/* ended: a second answer must be BAD_ID */
		v = ddvm_net_resp_check(&s, reqs, NCHUNKS, DATA_OFF, CHUNK, MTU, &r);
		MUST(v == DDVM_NET_RESP_BAD_ID);
	}
	return 0;
}
