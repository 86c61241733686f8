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

#endif /* DDVM_BLK_CHECK_H */
