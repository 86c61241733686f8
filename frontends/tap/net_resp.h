/* SPDX-License-Identifier: MIT */
/*
 * Net queue client: request bookkeeping and validation of the driver VM's
 * responses.  Pure (no I/O, no shared memory): the caller passes a private
 * copy of the response slot, so the fuzzer can drive it directly.
 *
 * Each data chunk carries at most one outstanding request; a request's id is
 * (seq << 32) | chunk, seq taken from a counter that advances on every
 * submission, so a response for a request that was forgotten (generation
 * change) or never made does not match.
 */
#ifndef DDVM_TAP_NET_RESP_H
#define DDVM_TAP_NET_RESP_H

#include <stdint.h>

#include "ddvm/net_check.h"

#define NET_ETH_MIN	14u	/* Ethernet header */
#define NET_ETH_EXTRA	18u	/* header + one VLAN tag on top of the MTU */

/* What the client remembers of one outstanding request (chunk). */
struct net_req {
	uint16_t op;		/* 0 = chunk free, DDVM_OP_NET_TX or DDVM_OP_NET_RX */
	uint32_t seq;		/* id = seq << 32 | chunk */
	uint32_t len;		/* TX: frame length; RX: posted capacity */
	uint16_t flags;		/* as posted (RX: DDVM_F_NET_OFFLOAD or 0) */
};

enum net_verdict {
	NET_RESP_OK,		/* use it */
	NET_RESP_BAD_ID,	/* matches no outstanding request: nothing to reclaim */
	NET_RESP_BAD_OP,	/* op differs from the request's */
	NET_RESP_BAD_LEN,	/* RX length outside [14, posted capacity] */
	NET_RESP_BAD_STATUS,	/* status not one the net protocol defines */
	NET_RESP_BAD_OFF,	/* buf_off neither 0 nor the request's buffer */
	NET_RESP_BAD_META,	/* RX offload metadata refused: out->meta_why says why */
	NET_RESP_NVERDICTS
};

/* A validated response, CPU byte order. */
struct net_resp {
	uint32_t chunk;		/* valid unless the verdict is NET_RESP_BAD_ID */
	uint16_t op;		/* the request's op (from the client's record) */
	uint32_t status;	/* DDVM_S_OK, _IOERR or _INVAL */
	uint32_t len;		/* RX OK: frame length; TX: the request's length */
	struct ddvm_net_meta meta;	/* RX OK: the frame's offload metadata */
	uint32_t meta_why;	/* NET_RESP_BAD_META: DDVM_NET_META_* */
};

static inline uint64_t net_id_make(uint32_t chunk, uint32_t seq)
{
	return (uint64_t)seq << 32 | chunk;
}

/*
 * Check response s (a private copy) against the outstanding requests
 * reqs[0..nchunks).  Chunk k's buffer is at data_off + k * chunk_size; mtu
 * is the NIC's (0: unknown).  An RX frame's offload metadata (flags, arg0)
 * must pass ddvm_net_meta_check, with every RX offload allowed if the
 * buffer was posted with DDVM_F_NET_OFFLOAD and none otherwise (an echoed
 * OFFLOAD flag is ignored).
 * Returns a net_verdict and fills *out; for every verdict but BAD_ID,
 * out->chunk names an outstanding request that this response ends (the
 * caller reclaims the chunk whatever the verdict).
 */
enum net_verdict net_resp_check(const struct net_req *reqs, uint32_t nchunks, uint64_t data_off,
				uint64_t chunk_size, uint32_t mtu, const struct ddvm_slot *s,
				struct net_resp *out);

/* Short name of a verdict for logs and stats keys ("bad_id", ...). */
const char *net_verdict_str(enum net_verdict v);

#endif
