/* SPDX-License-Identifier: MIT */
/*
 * Validation of NET queue descriptors, shared unchanged by the driver VM's
 * channel module (guest/net_io.c: requests), the TAP front-end (responses'
 * offload metadata) and the host tests that fuzz them.  Freestanding:
 * proto.h and compiler builtins only.
 *
 * The caller passes a private copy of the slot (copied once from the ring)
 * and the queue's limits, taken from its validated private layout.  Buffers
 * are carved from the data area in chunks (protocol.md section 7c):
 *
 *   chunk = (data_size / nslots) rounded down to DDVM_NET_CHUNK_ALIGN
 *
 * and chunk k is [data_off + k*chunk, data_off + (k+1)*chunk), k < nslots.
 *
 * Request rules (ddvm_net_req_check), in this order (the first that fails
 * decides):
 *
 *   op NET_TX:  len >= 14 (Ethernet header)             else INVAL
 *               len <= chunk                            else INVAL
 *               offload metadata (below, TX, features)  else INVAL
 *               buffer rule                             else INVAL
 *   op NET_RX:  flags only DDVM_F_NET_OFFLOAD           else INVAL
 *               len (the capacity) >= 14                else INVAL
 *               buffer rule                             else INVAL
 *   other op:                                                NOTSUPP
 *
 *   buffer rule: [buf_off, buf_off + len) lies inside one chunk of the data
 *   area: chunk != 0, data_off <= buf_off, rel = buf_off - data_off <
 *   data_size, k = rel / chunk < nslots, len <= chunk - rel % chunk, and
 *   len <= data_size - rel.  All without overflow.  A data area whose end
 *   (data_off + data_size) does not fit in 64 bits holds no valid buffer, so
 *   buf_off + len never wraps.
 *
 * Offload metadata rules (ddvm_net_meta_check), for a frame of len bytes in
 * direction TX (a NET_TX request; feat = the features the driver VM
 * published) or RX (a NET_RX response; feat = DDVM_NET_META_RX_ALL if the
 * buffer was posted with DDVM_F_NET_OFFLOAD, else 0), in this order:
 *
 *   FLAGS     flags only CSUM | GSO_MASK | GSO_ECN (TX) or also CSUM_VALID
 *             (RX); CSUM needs feat CSUM; CSUM_VALID needs feat != 0 and
 *             excludes CSUM
 *   GSO       a GSO type is TCPV4 (feat TSO4) or TCPV6 (feat TSO6), comes
 *             with CSUM; ECN only with a GSO type and feat TSO_ECN
 *   LEN       a GSO frame: len <= DDVM_NET_GSO_MAX_FRAME; any other frame:
 *             mtu == 0 (no netdev yet) or len <= mtu + 18
 *   CSUM      with CSUM: csum_start >= 14 and csum_start + csum_offset + 2
 *             <= len (the checksum field lies inside the frame)
 *   GSO_SIZE  with a GSO type: DDVM_NET_GSO_SIZE_MIN <= gso_size and
 *             (mtu == 0 or gso_size <= mtu)
 *   HDR_LEN   with a GSO type: hdr_len <= len
 *
 * The parts of arg0 that the flags do not call for are ignored (reserved).
 *
 * With limits the guest derives from a layout ddvm_region_check accepted
 * (data area inside the region, chunk from the formula above, so
 * chunk * nslots <= data_size), the last two buffer conditions and the wrap
 * check never decide anything; they make the function safe for any limits.
 */
#ifndef DDVM_NET_CHECK_H
#define DDVM_NET_CHECK_H

#include "proto.h"

#define DDVM_NET_ETH_MIN	14u	/* Ethernet header: smallest frame / RX buffer */
#define DDVM_NET_TX_EXTRA	18u	/* header + one 802.1Q tag on top of the MTU */
#define DDVM_NET_CHUNK_ALIGN	64u	/* chunks are multiples of a cache line */
#define DDVM_NET_GSO_MAX_FRAME	(65536u + DDVM_NET_TX_EXTRA)	/* largest GSO frame */
#define DDVM_NET_GSO_SIZE_MIN	8u	/* smallest gso_size (Linux's TCP_MIN_GSO_SIZE) */

/* The NET flags that carry offload metadata (everything but OFFLOAD). */
#define DDVM_NET_META_FLAGS	(DDVM_F_NET_CSUM | DDVM_F_NET_CSUM_VALID | \
				 DDVM_F_NET_GSO_MASK | DDVM_F_NET_GSO_ECN)
/* feat for an RX response into a buffer posted with DDVM_F_NET_OFFLOAD. */
#define DDVM_NET_META_RX_ALL	(DDVM_NET_F_CSUM | DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | \
				 DDVM_NET_F_TSO_ECN)

/* Why offload metadata was refused (0 = fine). */
#define DDVM_NET_META_OK	0u
#define DDVM_NET_META_FLAGS_BAD	1u	/* flag unknown, not offered, or contradictory */
#define DDVM_NET_META_GSO	2u	/* GSO type unknown / not offered / without CSUM */
#define DDVM_NET_META_LEN	3u	/* frame too long for its kind */
#define DDVM_NET_META_CSUM	4u	/* checksum position outside the frame */
#define DDVM_NET_META_GSO_SIZE	5u	/* gso_size out of range */
#define DDVM_NET_META_HDR_LEN	6u	/* hdr_len past the frame */
#define DDVM_NET_META_NREASONS	7u

#define DDVM_NET_META_TX	0
#define DDVM_NET_META_RX	1

/*
 * A NIC's parameters as a driver VM publishes them in its queue state: a
 * usable MAC is unicast and not all zero (what Linux's is_valid_ether_addr
 * takes, so a TAP accepts it), a usable MTU is in [DDVM_NET_MTU_MIN,
 * DDVM_NET_MTU_MAX].  A READY queue publishing anything else is nonsense
 * (ddvm_queue_state_read: ERROR / BOGUS); its client waits for a healthy
 * driver VM instance.
 */
#define DDVM_NET_MTU_MIN	68u	/* IPv4's minimum (Linux's ETH_MIN_MTU) */
#define DDVM_NET_MTU_MAX	65535u	/* the largest a Linux TAP takes */

#define DDVM_NET_PARAMS_OK		0u
#define DDVM_NET_PARAMS_MAC_ZERO	1u	/* 00:00:00:00:00:00 */
#define DDVM_NET_PARAMS_MAC_MULTICAST	2u	/* group bit set (broadcast too) */
#define DDVM_NET_PARAMS_MTU		3u	/* outside [MTU_MIN, MTU_MAX] */

/*
 * Check a published MAC and MTU (a private copy).  DDVM_NET_PARAMS_OK, or
 * the first reason (MAC before MTU).  Inline: region.c uses it and every
 * proto object must link alone in a freestanding build.
 */
static inline uint32_t ddvm_net_params_check(const uint8_t mac[6], uint32_t mtu)
{
	uint8_t any = 0;
	int i;

	for (i = 0; i < 6; i++)
		any |= mac[i];
	if (!any)
		return DDVM_NET_PARAMS_MAC_ZERO;
	if (mac[0] & 1)
		return DDVM_NET_PARAMS_MAC_MULTICAST;
	if (mtu < DDVM_NET_MTU_MIN || mtu > DDVM_NET_MTU_MAX)
		return DDVM_NET_PARAMS_MTU;
	return DDVM_NET_PARAMS_OK;
}

/* What a DDVM_NET_PARAMS_* reason names ("multicast MAC", ...), for logs. */
const char *ddvm_net_params_str(uint32_t why);

/* What a request is checked against, CPU byte order. */
struct ddvm_net_limits {
	uint64_t data_off;	/* the queue's data area in the region */
	uint64_t data_size;
	uint64_t chunk;		/* bytes per buffer chunk (0: no buffer is valid) */
	uint32_t nslots;	/* chunks in the data area = ring slots */
	uint32_t mtu;		/* attached netdev's MTU, 0 if none */
	uint32_t features;	/* DDVM_NET_F_* the driver VM published */
};

/* Offload metadata of one frame, validated, CPU byte order. */
struct ddvm_net_meta {
	uint16_t flags;		/* DDVM_F_NET_* (RX posts: OFFLOAD; else DDVM_NET_META_FLAGS) */
	uint16_t gso_type;	/* flags & DDVM_F_NET_GSO_MASK */
	uint16_t csum_start;	/* with CSUM, else 0 */
	uint16_t csum_offset;
	uint16_t gso_size;	/* with a GSO type, else 0 */
	uint16_t hdr_len;
};

/* The chunk size for a data area of data_size bytes and nslots slots. */
static inline uint64_t ddvm_net_chunk(uint64_t data_size, uint32_t nslots)
{
	if (!nslots)
		return 0;
	return data_size / nslots & ~(uint64_t)(DDVM_NET_CHUNK_ALIGN - 1);
}

/*
 * Check the offload metadata (flags, arg0 in CPU byte order) of a frame of
 * len bytes (rules above).  Returns DDVM_NET_META_OK and fills *out, or a
 * DDVM_NET_META_* reason and leaves *out untouched.
 */
uint32_t ddvm_net_meta_check(uint16_t flags, uint64_t arg0, uint32_t len, uint32_t mtu,
			     uint32_t feat, int dir, struct ddvm_net_meta *out);

/* Short name of a reason for logs and stats keys ("csum", ...). */
const char *ddvm_net_meta_str(uint32_t why);

/*
 * Check request *req (a private copy) against *lim.  Returns DDVM_S_OK,
 * DDVM_S_INVAL or DDVM_S_NOTSUPP (rules above).  On DDVM_S_OK, *buf_off,
 * *len and *meta receive the buffer and its metadata (CPU byte order);
 * otherwise they are untouched.
 */
uint32_t ddvm_net_req_check(const struct ddvm_slot *req, const struct ddvm_net_limits *lim,
			    uint64_t *buf_off, uint32_t *len, struct ddvm_net_meta *meta);

/*
 * Client side.  Each data chunk carries at most one outstanding request; a
 * request's id is ddvm_net_id(seq, chunk), seq from a counter the client
 * advances on every request (from a random start, so ids of an earlier
 * client of the queue do not match), so an answer to a request that was
 * forgotten (driver-VM restart) or never made matches nothing.  The client
 * keeps a ddvm_net_pending per chunk.
 */
struct ddvm_net_pending {
	uint16_t op;		/* 0: nothing outstanding; DDVM_OP_NET_TX or _NET_RX */
	uint16_t flags;		/* as posted (RX: DDVM_F_NET_OFFLOAD or 0) */
	uint32_t seq;		/* in the request's id */
	uint32_t len;		/* TX: frame length; RX: the buffer's capacity */
};

static inline uint64_t ddvm_net_id(uint32_t seq, uint32_t chunk)
{
	return (uint64_t)seq << 32 | chunk;
}

/* Verdicts of ddvm_net_resp_check. */
#define DDVM_NET_RESP_OK		0u	/* use it */
#define DDVM_NET_RESP_BAD_ID		1u	/* matches no outstanding request: nothing to reclaim */
#define DDVM_NET_RESP_BAD_OP		2u	/* op differs from the request's */
#define DDVM_NET_RESP_BAD_LEN		3u	/* RX length outside [14, posted capacity] */
#define DDVM_NET_RESP_BAD_STATUS	4u	/* not a status the net protocol defines */
#define DDVM_NET_RESP_BAD_OFF		5u	/* buf_off neither 0 nor the request's buffer */
#define DDVM_NET_RESP_BAD_META		6u	/* RX offload metadata refused: see meta_why */
#define DDVM_NET_RESP_NVERDICTS		7u

/* A checked response, CPU byte order. */
struct ddvm_net_resp {
	uint32_t chunk;		/* the request it ends (every verdict but BAD_ID) */
	uint16_t op;		/* the request's op (from the client's record) */
	uint32_t status;	/* DDVM_S_OK, _IOERR or _INVAL */
	uint32_t len;		/* RX OK: the frame's length; TX: the request's */
	struct ddvm_net_meta meta;	/* RX OK: the frame's offload metadata */
	uint32_t meta_why;	/* BAD_META: DDVM_NET_META_* */
};

/*
 * Check response *s (a private copy) against the outstanding requests
 * pend[0..nslots).  Chunk k's buffer is at data_off + k * chunk; mtu is the
 * NIC's (0: unknown).  An RX frame's offload metadata must pass
 * ddvm_net_meta_check with every RX offload allowed if the buffer was
 * posted with DDVM_F_NET_OFFLOAD and none otherwise (an echoed OFFLOAD flag
 * is ignored).  Returns a DDVM_NET_RESP_* verdict and fills *out; for every
 * verdict but BAD_ID, out->chunk names the outstanding request this
 * response ends (the client reclaims the chunk whatever the verdict).
 */
uint32_t ddvm_net_resp_check(const struct ddvm_slot *s, const struct ddvm_net_pending *pend,
			     uint32_t nslots, uint64_t data_off, uint64_t chunk, uint32_t mtu,
			     struct ddvm_net_resp *out);

/* Short name of a verdict for logs and stats keys ("bad_id", ...). */
const char *ddvm_net_resp_str(uint32_t verdict);

#endif /* DDVM_NET_CHECK_H */
