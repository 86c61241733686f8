// SPDX-License-Identifier: MIT
/*
 * Fuzz the block client's response validation (proto/blk_check.c, the code
 * the nbdkit plugin runs) with a hostile driver VM's responses against any
 * pending table: a MATCH names a waiting slot whose id, op and len agree and
 * whose status is known; a BAD names a waiting slot whose id agrees; a STALE
 * names no waiting request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/blk_check.h"

#include "must.h"
#define MAX_SLOTS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct { struct ddvm_slot r; uint16_t tag; uint8_t nslots; uint8_t pad;
		 struct ddvm_blk_pending p[MAX_SLOTS]; } in;
	uint32_t slot = 0xdeadbeef, status = 0xdeadbeef, n, k;
	uint64_t id;
	int v;

	if (size < sizeof(in))
		return 0;
	memcpy(&in, data, sizeof(in));
	n = in.nslots % (MAX_SLOTS + 1);
	v = ddvm_blk_resp_check(&in.r, in.tag, in.p, n, &slot, &status);
	id = ddvm_le64_to_cpu(in.r.id);
	switch (v) {
	case DDVM_BLK_RESP_MATCH:
		MUST(slot < n && in.p[slot].waiting);
		MUST(id == ddvm_blk_id(in.tag, in.p[slot].seq, (uint16_t)slot));
		MUST(ddvm_le16_to_cpu(in.r.op) == in.p[slot].op);
		MUST(ddvm_le32_to_cpu(in.r.len) == in.p[slot].len);
		MUST(status <= DDVM_S_NOSPC && status == ddvm_le32_to_cpu(in.r.status));
		break;
	case DDVM_BLK_RESP_BAD:
		MUST(slot < n && in.p[slot].waiting);
		MUST(id == ddvm_blk_id(in.tag, in.p[slot].seq, (uint16_t)slot));
		MUST(status == 0xdeadbeef);
		break;
	case DDVM_BLK_RESP_STALE:
		for (k = 0; k < n; k++)
			MUST(!in.p[k].waiting || id != ddvm_blk_id(in.tag, in.p[k].seq, (uint16_t)k));
		break;
	default:
		abort();
	}
	return 0;
}
