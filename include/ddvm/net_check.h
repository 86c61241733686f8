/* SPDX-License-Identifier: MIT */
/*
 * Validation of one NET queue request (NET_TX / NET_RX descriptor), shared
 * unchanged by the driver VM's channel module (guest/net_io.c) and the host
 * tests that fuzz it.  Freestanding: proto.h and compiler builtins only.
 *
 * The caller passes a private copy of the request slot (copied once from the
 * ring) and the queue's limits, taken from its validated private layout.
 * Buffers are carved from the data area in chunks (protocol.md section 7c):
 *
 *   chunk = (data_size / nslots) rounded down to DDVM_NET_CHUNK_ALIGN
 *
 * and chunk k is [data_off + k*chunk, data_off + (k+1)*chunk), k < nslots.
 *
 * Rules, checked in this order (the first that fails decides):
 *
 *   op NET_TX:  flags == 0                              else INVAL
 *               len >= 14 (Ethernet header)             else INVAL
 *               len <= chunk                            else INVAL
 *               mtu == 0 or len <= mtu + 18             else INVAL
 *                 (header + one VLAN tag; mtu 0 = no netdev yet: no MTU rule)
 *               buffer rule                             else INVAL
 *   op NET_RX:  flags == 0                              else INVAL
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

/* What a request is checked against, CPU byte order. */
struct ddvm_net_limits {
	uint64_t data_off;	/* the queue's data area in the region */
	uint64_t data_size;
	uint64_t chunk;		/* bytes per buffer chunk (0: no buffer is valid) */
	uint32_t nslots;	/* chunks in the data area = ring slots */
	uint32_t mtu;		/* attached netdev's MTU, 0 if none */
};

/* The chunk size for a data area of data_size bytes and nslots slots. */
static inline uint64_t ddvm_net_chunk(uint64_t data_size, uint32_t nslots)
{
	if (!nslots)
		return 0;
	return data_size / nslots & ~(uint64_t)(DDVM_NET_CHUNK_ALIGN - 1);
}

/*
 * Check request *req (a private copy) against *lim.  Returns DDVM_S_OK,
 * DDVM_S_INVAL or DDVM_S_NOTSUPP (rules above).  On DDVM_S_OK, *buf_off and
 * *len receive the buffer (CPU byte order); otherwise they are untouched.
 */
uint32_t ddvm_net_req_check(const struct ddvm_slot *req, const struct ddvm_net_limits *lim,
			    uint64_t *buf_off, uint32_t *len);

#endif /* DDVM_NET_CHECK_H */
