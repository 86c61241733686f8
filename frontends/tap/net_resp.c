// SPDX-License-Identifier: MIT
/* Validation of net queue responses.  See net_resp.h. */
#include <string.h>

#include "net_resp.h"

enum net_verdict net_resp_check(const struct net_req *reqs, uint32_t nchunks, uint64_t data_off,
				uint64_t chunk_size, uint32_t mtu, const struct ddvm_slot *s,
				struct net_resp *out)
{
	uint64_t id = ddvm_le64_to_cpu(s->id), buf_off = ddvm_le64_to_cpu(s->buf_off);
	uint32_t chunk = (uint32_t)(id & 0xffffffffu), seq = (uint32_t)(id >> 32);
	uint16_t op = ddvm_le16_to_cpu(s->op);
	uint32_t status = ddvm_le32_to_cpu(s->status), len = ddvm_le32_to_cpu(s->len);
	const struct net_req *r;

	out->chunk = UINT32_MAX;
	out->op = 0;
	out->status = DDVM_S_IOERR;
	out->len = 0;
	out->meta_why = DDVM_NET_META_OK;
	memset(&out->meta, 0, sizeof(out->meta));
	if (chunk >= nchunks)
		return NET_RESP_BAD_ID;
	r = &reqs[chunk];
	if (r->op == 0 || r->seq != seq)
		return NET_RESP_BAD_ID;
	out->chunk = chunk;
	out->op = r->op;
	out->len = r->op == DDVM_OP_NET_TX ? r->len : 0;
	if (op != r->op)
		return NET_RESP_BAD_OP;
	if (status != DDVM_S_OK && status != DDVM_S_IOERR && status != DDVM_S_INVAL)
		return NET_RESP_BAD_STATUS;
	out->status = status;
	/* The buffer is always the client's own record; a peer that echoes
	 * buf_off must echo it right. */
	if (buf_off != 0 && buf_off != data_off + (uint64_t)chunk * chunk_size)
		return NET_RESP_BAD_OFF;
	if (r->op == DDVM_OP_NET_RX && status == DDVM_S_OK) {
		if (len < NET_ETH_MIN || len > r->len)
			return NET_RESP_BAD_LEN;
		/* An echoed OFFLOAD (the request's flag) means nothing in a response. */
		out->meta_why = ddvm_net_meta_check(ddvm_le16_to_cpu(s->flags) & ~DDVM_F_NET_OFFLOAD,
						    ddvm_le64_to_cpu(s->arg0), len, mtu,
						    (r->flags & DDVM_F_NET_OFFLOAD) ? DDVM_NET_META_RX_ALL : 0,
						    DDVM_NET_META_RX, &out->meta);
		if (out->meta_why != DDVM_NET_META_OK)
			return NET_RESP_BAD_META;
		out->len = len;
	}
	return NET_RESP_OK;
}

const char *net_verdict_str(enum net_verdict v)
{
	switch (v) {
	case NET_RESP_OK: return "ok";
	case NET_RESP_BAD_ID: return "bad_id";
	case NET_RESP_BAD_OP: return "bad_op";
	case NET_RESP_BAD_LEN: return "bad_len";
	case NET_RESP_BAD_STATUS: return "bad_status";
	case NET_RESP_BAD_OFF: return "bad_off";
	case NET_RESP_BAD_META: return "bad_meta";
	default: return "?";
	}
}
