// SPDX-License-Identifier: MIT
/*
 * NET request validation, shared unchanged by the guest module and the host
 * tests.  Works on a private copy of the slot only; rules in net_check.h.
 */
#include "ddvm/net_check.h"

/* [buf, buf+len) inside one chunk of the data area (header: buffer rule). */
static int net_buf_ok(const struct ddvm_net_limits *lim, uint64_t buf, uint32_t len)
{
	uint64_t rel, k, in_chunk;

	if (!lim->chunk || lim->data_off > ~(uint64_t)0 - lim->data_size)
		return 0;
	if (buf < lim->data_off || buf - lim->data_off >= lim->data_size)
		return 0;
	rel = buf - lim->data_off;
	k = rel / lim->chunk;
	in_chunk = rel - k * lim->chunk;	/* k * chunk <= rel: no overflow */
	return k < lim->nslots && len <= lim->chunk - in_chunk && len <= lim->data_size - rel;
}

uint32_t ddvm_net_req_check(const struct ddvm_slot *req, const struct ddvm_net_limits *lim,
			    uint64_t *buf_off, uint32_t *len)
{
	uint16_t op = ddvm_le16_to_cpu(req->op);
	uint32_t n = ddvm_le32_to_cpu(req->len);
	uint64_t buf = ddvm_le64_to_cpu(req->buf_off);

	if (op == DDVM_OP_NET_TX) {
		if (req->flags || n < DDVM_NET_ETH_MIN || n > lim->chunk)
			return DDVM_S_INVAL;
		if (lim->mtu && n > (uint64_t)lim->mtu + DDVM_NET_TX_EXTRA)
			return DDVM_S_INVAL;
	} else if (op == DDVM_OP_NET_RX) {
		if (req->flags || n < DDVM_NET_ETH_MIN)
			return DDVM_S_INVAL;
	} else {
		return DDVM_S_NOTSUPP;
	}
	if (!net_buf_ok(lim, buf, n))
		return DDVM_S_INVAL;
	*buf_off = buf;
	*len = n;
	return DDVM_S_OK;
}
