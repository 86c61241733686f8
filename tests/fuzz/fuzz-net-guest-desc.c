// SPDX-License-Identifier: MIT
/*
 * fuzz-net-guest-desc: the driver VM's validation of NET requests
 * (proto/net_check.c, called by guest/net_io.c) against a hostile client.
 *
 * Input: a 33-byte limits record, then the request slot's 64 bytes (short
 * inputs are zero-padded):
 *
 *   [0]      mode: bit 0 raw limits (else sanitised as the guest derives
 *            them), bit 1 buf_off relative to data_off, bit 2 len reduced
 *            modulo chunk + 64, bit 3 op forced to NET_TX (bit 4 clear) or
 *            NET_RX (bit 4 set), bit 5 every offload feature published,
 *            bit 6 features from byte [33] (bit 5 wins), bit 7 the slot's
 *            flags restricted to the NET bits (0x7f)
 *   [1..4]   nslots   [5..8] mtu   [9..16] data_off   [17..24] data_size
 *   [25..32] chunk (raw mode only)                     (all little-endian)
 *
 * Guest-derived limits are exactly what the guest guarantees: nslots a power
 * of two in 1..4096, data_off 64-aligned, the data area inside a region
 * (its end fits in 64 bits), chunk = ddvm_net_chunk() (possibly 0: a data
 * area too small for the slots), mtu a netdev MTU (<= INT_MAX) or 0.
 *
 * Always: the status is OK, INVAL or NOTSUPP, NOTSUPP exactly for ops other
 * than NET_TX/NET_RX; the outputs are written only on OK; the verdict equals
 * an independent 128-bit model of the rules in net_check.h (offload metadata
 * included).  On OK: len >= 14, TX len <= chunk; a TX frame is <= mtu + 18
 * unless it is a GSO frame (then <= 64 KiB + 18, with CSUM, a published GSO
 * type and 8 <= gso_size <= mtu, hdr_len <= len); a CSUM frame's checksum
 * field lies inside it; only published offloads pass; RX posts carry no flag
 * but OFFLOAD; and [buf_off, buf_off + len) lies inside one chunk k < nslots
 * and inside the data area, without overflow.  With guest-derived limits,
 * chunk != 0, no features and flags 0 the verdict also equals the checks
 * guest/net_io.c made before they moved to net_check.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/net_check.h"

#include "must.h"

#define LIMITS_BYTES	34u

typedef unsigned __int128 u128;

static uint64_t le_bytes(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The TX offload rules of net_check.h, straight from the text: 1 = fine. */
static int model_meta(const struct ddvm_net_limits *l, uint16_t flags, uint64_t arg0, uint32_t len)
{
	unsigned int cs = arg0 & 0xffff, co = arg0 >> 16 & 0xffff, gs = arg0 >> 32 & 0xffff;
	unsigned int hl = arg0 >> 48, gso = flags & 0x30, f = l->features;
	int csum = flags & 0x2, ecn = flags & 0x40;

	if (flags & ~0x72)
		return 0;
	if (csum && !(f & 1))
		return 0;
	if (gso && (!csum || !((gso == 0x10 && (f & 2)) || (gso == 0x20 && (f & 4)))))
		return 0;
	if (ecn && (!gso || !(f & 8)))
		return 0;
	if (gso ? len > 65536 + 18 : (l->mtu && (u128)len > (u128)l->mtu + 18))
		return 0;
	if (csum && (cs < 14 || (u128)cs + co + 2 > len))
		return 0;
	if (gso && (gs < 8 || (l->mtu && gs > l->mtu) || hl > len))
		return 0;
	return 1;
}

/* The rules of net_check.h, straight from the text, in 128-bit arithmetic. */
static uint32_t model_check(const struct ddvm_net_limits *l, uint16_t op, uint16_t flags,
			    uint64_t arg0, uint64_t buf, uint32_t len)
{
	u128 end, rel, k;

	if (op != DDVM_OP_NET_TX && op != DDVM_OP_NET_RX)
		return DDVM_S_NOTSUPP;
	if (len < 14)
		return DDVM_S_INVAL;
	if (op == DDVM_OP_NET_RX && (flags & ~DDVM_F_NET_OFFLOAD))
		return DDVM_S_INVAL;
	if (op == DDVM_OP_NET_TX && (len > l->chunk || !model_meta(l, flags, arg0, len)))
		return DDVM_S_INVAL;
	end = (u128)l->data_off + l->data_size;
	if (!l->chunk || end > UINT64_MAX || buf < l->data_off || buf >= end)
		return DDVM_S_INVAL;
	rel = buf - l->data_off;
	k = rel / l->chunk;
	if (k >= l->nslots || rel + len > (k + 1) * l->chunk || rel + len > l->data_size)
		return DDVM_S_INVAL;
	return DDVM_S_OK;
}

/* guest/net_io.c before the move (netq_buf_ok, netq_rx_post_ok, netq_tx_ok); chunk != 0. */
static int legacy_ok(const struct ddvm_net_limits *q, uint16_t op, uint16_t flags, uint64_t buf,
		     uint32_t len)
{
	uint64_t rel, k;

	if (op == DDVM_OP_NET_TX) {
		if (flags || len < 14 || len > q->chunk)
			return 0;
		if (q->mtu && len > q->mtu + 14 + 4)
			return 0;
	} else if (op == DDVM_OP_NET_RX) {
		if (flags || len < 14)
			return 0;
	} else {
		return 0;
	}
	if (buf < q->data_off || buf - q->data_off >= q->data_size)
		return 0;
	rel = buf - q->data_off;
	k = rel / q->chunk;
	return k < q->nslots && len <= (k + 1) * q->chunk - rel;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[LIMITS_BYTES + sizeof(struct ddvm_slot)];
	struct ddvm_net_limits lim;
	struct ddvm_net_meta meta = { .flags = 0x5a5a };
	struct ddvm_slot s;
	uint8_t mode;
	uint64_t buf, out_off = 0x5a5a5a5a5a5a5a5aull;
	uint32_t len, st, out_len = 0xa5a5a5a5u;
	uint16_t op, flags;
	uint64_t arg0;
	int guest;

	memset(in, 0, sizeof(in));
	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	mode = in[0];
	guest = !(mode & 1);
	memset(&lim, 0, sizeof(lim));
	lim.nslots = (uint32_t)le_bytes(in + 1, 4);
	lim.mtu = (uint32_t)le_bytes(in + 5, 4);
	lim.data_off = le_bytes(in + 9, 8);
	lim.data_size = le_bytes(in + 17, 8);
	lim.chunk = le_bytes(in + 25, 8);
	lim.features = (mode & 32) ? 0x1f : (mode & 64) ? in[33] : 0;
	if (guest) {
		lim.nslots = 1u << (lim.nslots % 13);
		lim.mtu &= 0x7fffffffu;
		lim.data_off &= ~(uint64_t)(DDVM_ALIGN - 1);
		if (lim.data_size > UINT64_MAX - lim.data_off)
			lim.data_size = UINT64_MAX - lim.data_off;
		lim.chunk = ddvm_net_chunk(lim.data_size, lim.nslots);
	}

	memcpy(&s, in + LIMITS_BYTES, sizeof(s));
	if (mode & 2)
		s.buf_off = ddvm_cpu_to_le64(lim.data_off + ddvm_le64_to_cpu(s.buf_off));
	if ((mode & 4) && lim.chunk + 64)
		s.len = ddvm_cpu_to_le32((uint32_t)(ddvm_le32_to_cpu(s.len) % (lim.chunk + 64)));
	if (mode & 8)
		s.op = ddvm_cpu_to_le16((mode & 16) ? DDVM_OP_NET_RX : DDVM_OP_NET_TX);
	if (mode & 128)
		s.flags = ddvm_cpu_to_le16(ddvm_le16_to_cpu(s.flags) & 0x7f);
	op = ddvm_le16_to_cpu(s.op);
	flags = ddvm_le16_to_cpu(s.flags);
	arg0 = ddvm_le64_to_cpu(s.arg0);
	buf = ddvm_le64_to_cpu(s.buf_off);
	len = ddvm_le32_to_cpu(s.len);

	st = ddvm_net_req_check(&s, &lim, &out_off, &out_len, &meta);
	MUST(st == DDVM_S_OK || st == DDVM_S_INVAL || st == DDVM_S_NOTSUPP);
	MUST((st == DDVM_S_NOTSUPP) == (op != DDVM_OP_NET_TX && op != DDVM_OP_NET_RX));
	MUST(st == model_check(&lim, op, flags, arg0, buf, len));
	if (guest && lim.chunk && !lim.features && !flags)
		MUST((st == DDVM_S_OK) == legacy_ok(&lim, op, flags, buf, len));
	if (st != DDVM_S_OK) {
		MUST(out_off == 0x5a5a5a5a5a5a5a5aull && out_len == 0xa5a5a5a5u);
		MUST(meta.flags == 0x5a5a);
		return 0;
	}

	MUST(out_off == buf && out_len == len);
	MUST(len >= DDVM_NET_ETH_MIN);
	MUST(meta.flags == flags);
	if (op == DDVM_OP_NET_RX)
		MUST((flags & ~DDVM_F_NET_OFFLOAD) == 0);
	if (op == DDVM_OP_NET_TX) {
		MUST(len <= lim.chunk);
		MUST((flags & ~(DDVM_F_NET_CSUM | DDVM_F_NET_GSO_MASK | DDVM_F_NET_GSO_ECN)) == 0);
		if (flags & DDVM_F_NET_CSUM) {
			MUST(lim.features & DDVM_NET_F_CSUM);
			MUST(meta.csum_start >= 14);
			MUST((uint32_t)meta.csum_start + meta.csum_offset + 2 <= len);
		}
		if (meta.gso_type) {
			MUST(meta.gso_type == DDVM_F_NET_GSO_TCPV4 || meta.gso_type == DDVM_F_NET_GSO_TCPV6);
			MUST(lim.features & (meta.gso_type == DDVM_F_NET_GSO_TCPV4 ? DDVM_NET_F_TSO4
										  : DDVM_NET_F_TSO6));
			MUST(flags & DDVM_F_NET_CSUM);
			MUST(len <= DDVM_NET_GSO_MAX_FRAME);
			MUST(meta.gso_size >= DDVM_NET_GSO_SIZE_MIN);
			MUST(!lim.mtu || meta.gso_size <= lim.mtu);
			MUST(meta.hdr_len <= len);
		} else {
			MUST(!lim.mtu || (uint64_t)len <= (uint64_t)lim.mtu + DDVM_NET_TX_EXTRA);
		}
	}
	/* Inside the data area, without overflow. */
	MUST(lim.chunk != 0);
	MUST(buf >= lim.data_off);
	MUST(buf <= UINT64_MAX - len);
	MUST(buf - lim.data_off <= lim.data_size && len <= lim.data_size - (buf - lim.data_off));
	/* Inside one chunk k < nslots. */
	{
		uint64_t rel = buf - lim.data_off, k = rel / lim.chunk;

		MUST(k < lim.nslots);
		MUST((u128)rel + len <= (u128)(k + 1) * lim.chunk);
		if (guest)	/* the chunk itself lies inside the data area */
			MUST((u128)(k + 1) * lim.chunk <= lim.data_size);
	}
	return 0;
}
