// SPDX-License-Identifier: MIT
/* Block request validation; see include/ddvm/blk_check.h for the rules. */
#include "ddvm/blk_check.h"

uint32_t ddvm_blk_req_check(const struct ddvm_slot *s, const struct ddvm_blk_limits *lim)
{
	uint16_t op = ddvm_le16_to_cpu(s->op), flags = ddvm_le16_to_cpu(s->flags);
	uint64_t off = ddvm_le64_to_cpu(s->offset), buf = ddvm_le64_to_cpu(s->buf_off), rel, k;
	uint32_t len = ddvm_le32_to_cpu(s->len), mask = lim->lbs - 1;
	int rw = op == DDVM_OP_READ || op == DDVM_OP_WRITE;

	if (!rw && op != DDVM_OP_FLUSH && op != DDVM_OP_DISCARD && op != DDVM_OP_WRITE_ZEROES)
		return DDVM_S_NOTSUPP;
	if (flags & ~DDVM_F_FUA)
		return DDVM_S_INVAL;
	if (op == DDVM_OP_FLUSH)
		return DDVM_S_OK;	/* offset, len and buf_off are ignored */
	if (op != DDVM_OP_READ && (lim->features & DDVM_BLK_F_RO))
		return DDVM_S_NOTSUPP;
	if (op == DDVM_OP_DISCARD && !(lim->features & DDVM_BLK_F_DISCARD))
		return DDVM_S_NOTSUPP;
	if (!len || (len & mask) || (off & mask))
		return DDVM_S_INVAL;
	if (rw && len > lim->max_transfer)
		return DDVM_S_INVAL;
	if (off > lim->capacity || len > lim->capacity - off)
		return DDVM_S_RANGE;
	if (!rw)
		return DDVM_S_OK;	/* buf_off is ignored */
	/* The buffer lies inside one chunk of the data area (none if chunk is 0). */
	if (!lim->chunk || buf < lim->data_off || buf - lim->data_off >= lim->data_size)
		return DDVM_S_INVAL;
	rel = buf - lim->data_off;
	k = rel / lim->chunk;
	if (k >= lim->nslots || len > (k + 1) * lim->chunk - rel)
		return DDVM_S_INVAL;
	return DDVM_S_OK;
}

int ddvm_blk_resp_check(const struct ddvm_slot *r, uint16_t tag,
			const struct ddvm_blk_pending *pend, uint32_t nslots,
			uint32_t *slot, uint32_t *status)
{
	uint64_t id = ddvm_le64_to_cpu(r->id);
	uint32_t k = (uint32_t)(id & 0xffff), seq = (uint32_t)(id >> 16);
	uint32_t st = ddvm_le32_to_cpu(r->status);
	const struct ddvm_blk_pending *p;

	if ((uint16_t)(id >> 48) != tag || k >= nslots)
		return DDVM_BLK_RESP_STALE;
	p = &pend[k];
	if (!p->waiting || p->seq != seq)
		return DDVM_BLK_RESP_STALE;
	*slot = k;
	if (ddvm_le16_to_cpu(r->op) != p->op || ddvm_le32_to_cpu(r->len) != p->len ||
	    st > DDVM_S_NOSPC)
		return DDVM_BLK_RESP_BAD;
	*status = st;
	return DDVM_BLK_RESP_MATCH;
}
