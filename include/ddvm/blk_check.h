/* SPDX-License-Identifier: MIT */
/*
 * Block request validation, shared unchanged by the driver VM's block
 * translation (guest/blk_io.c) and the host's fuzz and unit tests.
 * Freestanding: proto.h only.
 */
#ifndef DDVM_BLK_CHECK_H
#define DDVM_BLK_CHECK_H

#include "proto.h"

/*
 * What the driver VM serving one block queue knows, in CPU byte order.
 * Preconditions (the guest establishes them before serving; callers must):
 * lbs is a power of two >= 512, nslots * chunk <= data_size, and
 * data_off + data_size does not overflow.  A chunk of 0 (a data area too
 * small for its slots) is tolerated: no READ/WRITE buffer is then valid.
 */
struct ddvm_blk_limits {
	uint64_t capacity;	/* device bytes, a multiple of lbs */
	uint32_t lbs;		/* logical block size */
	uint32_t max_transfer;	/* largest READ/WRITE len */
	uint32_t features;	/* DDVM_BLK_F_* */
	uint32_t nslots;	/* chunks in the data area */
	uint64_t data_off;	/* the queue's data area in the region */
	uint64_t data_size;
	uint64_t chunk;		/* bytes per chunk */
};

/*
 * Check one request (a private copy of a ring slot).  Returns DDVM_S_OK
 * or the status to answer with, checking in this order:
 *   unknown op -> NOTSUPP;  flags other than FUA -> INVAL;
 *   FLUSH -> OK (offset, len, buf_off ignored);
 *   a write-type op on a read-only device, or DISCARD without the
 *   feature -> NOTSUPP;  len 0, or offset/len not multiples of lbs -> INVAL;
 *   READ/WRITE with len > max_transfer -> INVAL;
 *   offset + len past capacity (overflow-safe) -> RANGE;
 *   DISCARD / WRITE_ZEROES -> OK (buf_off ignored);
 *   READ/WRITE whose [buf_off, buf_off + len) is not inside one chunk -> INVAL.
 * On OK for READ/WRITE the buffer lies inside the data area.
 */
uint32_t ddvm_blk_req_check(const struct ddvm_slot *req, const struct ddvm_blk_limits *lim);

/*
 * A block queue's data area is cut into one chunk per slot, each
 * DDVM_BLK_CHUNK_ALIGN-aligned: chunk = data_size / nslots rounded down to
 * that (0 if the area is too small).  Every side computes it this way.
 */
#define DDVM_BLK_CHUNK_ALIGN	4096u

static inline uint64_t ddvm_blk_chunk(uint64_t data_size, uint32_t nslots)
{
	return nslots ? data_size / nslots / DDVM_BLK_CHUNK_ALIGN * DDVM_BLK_CHUNK_ALIGN : 0;
}

/*
 * Client side.  A block client gives each outstanding request its own chunk
 * (slot) and an id of ddvm_blk_id(tag, seq, slot): a per-client random tag,
 * a per-slot sequence number bumped on every reuse, the slot.  It keeps a
 * ddvm_blk_pending per slot.
 */
struct ddvm_blk_pending {
	uint32_t seq;		/* sequence in the id of the request on this slot */
	uint32_t len;		/* its len */
	uint16_t op;		/* its op */
	uint16_t waiting;	/* nonzero while its response is expected */
};

static inline uint64_t ddvm_blk_id(uint16_t tag, uint32_t seq, uint16_t slot)
{
	return (uint64_t)tag << 48 | (uint64_t)seq << 16 | slot;
}

#define DDVM_BLK_RESP_MATCH	0	/* answers *slot's request; *status is a known DDVM_S_* */
#define DDVM_BLK_RESP_STALE	1	/* no request waits for this id (unknown, stale, duplicate) */
#define DDVM_BLK_RESP_BAD	2	/* names *slot's request, but op, len or status is wrong */

/*
 * Check one response (a private copy of a ring slot) against the client's
 * pending table of nslots entries.  *slot is set for MATCH and BAD, *status
 * for MATCH.  A client drops STALE responses, fails the request with an I/O
 * error on BAD, and only on MATCH with DDVM_S_OK copies READ data out of the
 * slot's chunk.
 */
int ddvm_blk_resp_check(const struct ddvm_slot *resp, uint16_t tag,
			const struct ddvm_blk_pending *pend, uint32_t nslots,
			uint32_t *slot, uint32_t *status);

#endif /* DDVM_BLK_CHECK_H */
