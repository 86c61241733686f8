// SPDX-License-Identifier: MIT
/*
 * NET descriptor validation, shared unchanged by the guest module, the
 * client library and the host tests.  Works on private copies only; rules
 * in net_check.h.
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

/* Field by field: a struct copy may become memcpy, absent in a freestanding build. */
static void meta_copy(struct ddvm_net_meta *dst, const struct ddvm_net_meta *src)
{
	dst->flags = src->flags;
	dst->gso_type = src->gso_type;
	dst->csum_start = src->csum_start;
	dst->csum_offset = src->csum_offset;
	dst->gso_size = src->gso_size;
	dst->hdr_len = src->hdr_len;
}

static void meta_zero(struct ddvm_net_meta *m)
{
	m->flags = m->gso_type = m->csum_start = m->csum_offset = m->gso_size = m->hdr_len = 0;
}

uint32_t ddvm_net_meta_check(uint16_t flags, uint64_t arg0, uint32_t len, uint32_t mtu,
			     uint32_t feat, int dir, struct ddvm_net_meta *out)
{
	uint16_t known = DDVM_F_NET_CSUM | DDVM_F_NET_GSO_MASK | DDVM_F_NET_GSO_ECN;
	uint16_t gso = flags & DDVM_F_NET_GSO_MASK;
	struct ddvm_net_meta m;

	m.flags = flags;
	m.gso_type = gso;
	m.csum_start = m.csum_offset = m.gso_size = m.hdr_len = 0;
	if (dir == DDVM_NET_META_RX)
		known |= DDVM_F_NET_CSUM_VALID;
	if (flags & ~known)
		return DDVM_NET_META_FLAGS_BAD;
	if ((flags & DDVM_F_NET_CSUM) && !(feat & DDVM_NET_F_CSUM))
		return DDVM_NET_META_FLAGS_BAD;
	if ((flags & DDVM_F_NET_CSUM_VALID) && (!feat || (flags & DDVM_F_NET_CSUM)))
		return DDVM_NET_META_FLAGS_BAD;
	if (gso) {
		if (!(flags & DDVM_F_NET_CSUM))
			return DDVM_NET_META_GSO;
		if (!(gso == DDVM_F_NET_GSO_TCPV4 && (feat & DDVM_NET_F_TSO4)) &&
		    !(gso == DDVM_F_NET_GSO_TCPV6 && (feat & DDVM_NET_F_TSO6)))
			return DDVM_NET_META_GSO;
		if ((flags & DDVM_F_NET_GSO_ECN) && !(feat & DDVM_NET_F_TSO_ECN))
			return DDVM_NET_META_GSO;
		if (len > DDVM_NET_GSO_MAX_FRAME)
			return DDVM_NET_META_LEN;
	} else {
		if (flags & DDVM_F_NET_GSO_ECN)
			return DDVM_NET_META_GSO;
		if (mtu && len > (uint64_t)mtu + DDVM_NET_TX_EXTRA)
			return DDVM_NET_META_LEN;
	}
	if (flags & DDVM_F_NET_CSUM) {
		m.csum_start = (uint16_t)arg0;
		m.csum_offset = (uint16_t)(arg0 >> 16);
		if (m.csum_start < DDVM_NET_ETH_MIN ||
		    (uint32_t)m.csum_start + m.csum_offset + 2u > len)
			return DDVM_NET_META_CSUM;
	}
	if (gso) {
		m.gso_size = (uint16_t)(arg0 >> 32);
		m.hdr_len = (uint16_t)(arg0 >> 48);
		if (m.gso_size < DDVM_NET_GSO_SIZE_MIN || (mtu && m.gso_size > mtu))
			return DDVM_NET_META_GSO_SIZE;
		if (m.hdr_len > len)
			return DDVM_NET_META_HDR_LEN;
	}
	meta_copy(out, &m);
	return DDVM_NET_META_OK;
}

const char *ddvm_net_meta_str(uint32_t why)
{
	switch (why) {
	case DDVM_NET_META_OK: return "ok";
	case DDVM_NET_META_FLAGS_BAD: return "flags";
	case DDVM_NET_META_GSO: return "gso";
	case DDVM_NET_META_LEN: return "len";
	case DDVM_NET_META_CSUM: return "csum";
	case DDVM_NET_META_GSO_SIZE: return "gso_size";
	case DDVM_NET_META_HDR_LEN: return "hdr_len";
	default: return "?";
	}
}

const char *ddvm_net_params_str(uint32_t why)
{
	switch (why) {
	case DDVM_NET_PARAMS_OK: return "ok";
	case DDVM_NET_PARAMS_MAC_ZERO: return "zero MAC";
	case DDVM_NET_PARAMS_MAC_MULTICAST: return "multicast MAC";
	case DDVM_NET_PARAMS_MTU: return "MTU";
	default: return "?";
	}
}

uint32_t ddvm_net_req_check(const struct ddvm_slot *req, const struct ddvm_net_limits *lim,
			    uint64_t *buf_off, uint32_t *len, struct ddvm_net_meta *meta)
{
	uint16_t op = ddvm_le16_to_cpu(req->op), flags = ddvm_le16_to_cpu(req->flags);
	uint32_t n = ddvm_le32_to_cpu(req->len);
	uint64_t buf = ddvm_le64_to_cpu(req->buf_off);
	struct ddvm_net_meta m;

	meta_zero(&m);
	if (op == DDVM_OP_NET_TX) {
		if (n < DDVM_NET_ETH_MIN || n > lim->chunk)
			return DDVM_S_INVAL;
		if (ddvm_net_meta_check(flags, ddvm_le64_to_cpu(req->arg0), n, lim->mtu,
					lim->features, DDVM_NET_META_TX, &m) != DDVM_NET_META_OK)
			return DDVM_S_INVAL;
	} else if (op == DDVM_OP_NET_RX) {
		if ((flags & ~DDVM_F_NET_OFFLOAD) || n < DDVM_NET_ETH_MIN)
			return DDVM_S_INVAL;
		m.flags = flags;
	} else {
		return DDVM_S_NOTSUPP;
	}
	if (!net_buf_ok(lim, buf, n))
		return DDVM_S_INVAL;
	*buf_off = buf;
	*len = n;
	meta_copy(meta, &m);
	return DDVM_S_OK;
}

uint32_t ddvm_net_resp_check(const struct ddvm_slot *s, const struct ddvm_net_pending *pend,
			     uint32_t nslots, uint64_t data_off, uint64_t chunk, uint32_t mtu,
			     struct ddvm_net_resp *out)
{
	uint64_t id = ddvm_le64_to_cpu(s->id), buf_off = ddvm_le64_to_cpu(s->buf_off);
	uint32_t k = (uint32_t)id, seq = (uint32_t)(id >> 32);
	uint32_t status = ddvm_le32_to_cpu(s->status), len = ddvm_le32_to_cpu(s->len);
	const struct ddvm_net_pending *p;

	out->chunk = 0xffffffffu;
	out->op = 0;
	out->status = DDVM_S_IOERR;
	out->len = 0;
	out->meta_why = DDVM_NET_META_OK;
	meta_zero(&out->meta);
	if (k >= nslots)
		return DDVM_NET_RESP_BAD_ID;
	p = &pend[k];
	if (p->op == 0 || p->seq != seq)
		return DDVM_NET_RESP_BAD_ID;
	out->chunk = k;
	out->op = p->op;
	out->len = p->op == DDVM_OP_NET_TX ? p->len : 0;
	if (ddvm_le16_to_cpu(s->op) != p->op)
		return DDVM_NET_RESP_BAD_OP;
	if (status != DDVM_S_OK && status != DDVM_S_IOERR && status != DDVM_S_INVAL)
		return DDVM_NET_RESP_BAD_STATUS;
	out->status = status;
	/* The buffer is always the client's own record; a peer that echoes
	 * buf_off must echo it right. */
	if (buf_off != 0 && buf_off != data_off + (uint64_t)k * chunk)
		return DDVM_NET_RESP_BAD_OFF;
	if (p->op == DDVM_OP_NET_RX && status == DDVM_S_OK) {
		if (len < DDVM_NET_ETH_MIN || len > p->len)
			return DDVM_NET_RESP_BAD_LEN;
		/* An echoed OFFLOAD (the request's flag) means nothing in a response. */
		out->meta_why = ddvm_net_meta_check(ddvm_le16_to_cpu(s->flags) & ~DDVM_F_NET_OFFLOAD,
						    ddvm_le64_to_cpu(s->arg0), len, mtu,
						    (p->flags & DDVM_F_NET_OFFLOAD) ? DDVM_NET_META_RX_ALL
										    : 0,
						    DDVM_NET_META_RX, &out->meta);
		if (out->meta_why != DDVM_NET_META_OK)
			return DDVM_NET_RESP_BAD_META;
		out->len = len;
	}
	return DDVM_NET_RESP_OK;
}

const char *ddvm_net_resp_str(uint32_t verdict)
{
	switch (verdict) {
	case DDVM_NET_RESP_OK: return "ok";
	case DDVM_NET_RESP_BAD_ID: return "bad_id";
	case DDVM_NET_RESP_BAD_OP: return "bad_op";
	case DDVM_NET_RESP_BAD_LEN: return "bad_len";
	case DDVM_NET_RESP_BAD_STATUS: return "bad_status";
	case DDVM_NET_RESP_BAD_OFF: return "bad_off";
	case DDVM_NET_RESP_BAD_META: return "bad_meta";
	default: return "?";
	}
}
