// SPDX-License-Identifier: MIT
/*
 * Fuzz the driver VM's block request validation (proto/blk_check.c, the code
 * guest/blk_io.c runs) with hostile slots and any limits the guest could
 * have derived: an accepted READ/WRITE must name a buffer inside one chunk
 * of the data area, within max_transfer and the device, block-aligned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/blk_check.h"

#include "must.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct { struct ddvm_slot s; uint64_t cap, doff, dsize; uint32_t lbs_shift, mt, feat, nslots; } in;
	struct ddvm_blk_limits lim;
	uint64_t off, buf, rel, k;
	uint32_t st, len;
	uint16_t op;

	if (size < sizeof(in))
		return 0;
	memcpy(&in, data, sizeof(in));
	/* Limits as the guest establishes them (blk_check.h preconditions). */
	lim.lbs = 512u << (in.lbs_shift % 8);
	lim.capacity = in.cap & ~(uint64_t)(lim.lbs - 1);
	lim.max_transfer = in.mt & ~(lim.lbs - 1);
	lim.features = in.feat;
	lim.nslots = 1 + in.nslots % 4096;
	lim.data_off = in.doff >> 2;			/* no overflow with data_size */
	lim.data_size = in.dsize >> 2;
	lim.chunk = lim.data_size / lim.nslots & ~(uint64_t)4095;	/* may be 0 */

	st = ddvm_blk_req_check(&in.s, &lim);
	MUST(st == DDVM_S_OK || st == DDVM_S_INVAL || st == DDVM_S_NOTSUPP || st == DDVM_S_RANGE);
	if (st != DDVM_S_OK)
		return 0;
	op = ddvm_le16_to_cpu(in.s.op);
	MUST((ddvm_le16_to_cpu(in.s.flags) & ~DDVM_F_FUA) == 0);
	if (op == DDVM_OP_FLUSH)
		return 0;
	MUST(op == DDVM_OP_READ || op == DDVM_OP_WRITE || op == DDVM_OP_DISCARD ||
	     op == DDVM_OP_WRITE_ZEROES);
	off = ddvm_le64_to_cpu(in.s.offset);
	len = ddvm_le32_to_cpu(in.s.len);
	MUST(len > 0 && len % lim.lbs == 0 && off % lim.lbs == 0);
	MUST(off <= lim.capacity && len <= lim.capacity - off);
	if (op != DDVM_OP_READ)
		MUST(!(lim.features & DDVM_BLK_F_RO));
	if (op != DDVM_OP_READ && op != DDVM_OP_WRITE)
		return 0;
	MUST(len <= lim.max_transfer);
	buf = ddvm_le64_to_cpu(in.s.buf_off);
	MUST(buf >= lim.data_off);
	MUST(lim.chunk != 0);
	rel = buf - lim.data_off;
	MUST(rel <= lim.data_size && len <= lim.data_size - rel);	/* inside the area */
	k = rel / lim.chunk;
	MUST(k < lim.nslots && rel + len <= (k + 1) * lim.chunk);	/* inside one chunk */
	return 0;
}
