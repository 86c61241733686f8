// SPDX-License-Identifier: MIT
/*
 * The virtio_net_hdr <-> slot metadata mapping, shared unchanged by the
 * driver VM's net translation and the client library.  See net_offload.h.
 */
#include "ddvm/net_offload.h"

uint32_t ddvm_net_hdr_to_slot(const struct ddvm_net_hdr *h, uint32_t len, uint32_t mtu,
			      uint32_t feat, int dir, uint16_t *flags, uint64_t *arg0)
{
	uint16_t f = 0, cs = 0, co = 0, gs = 0, hl = 0;
	uint64_t a;
	uint32_t why;
	struct ddvm_net_meta m;

	if (h->flags & ~(DDVM_VNET_HDR_F_NEEDS_CSUM | DDVM_VNET_HDR_F_DATA_VALID))
		return DDVM_NET_META_FLAGS_BAD;
	if (h->flags & DDVM_VNET_HDR_F_NEEDS_CSUM) {
		f |= DDVM_F_NET_CSUM;
		cs = ddvm_le16_to_cpu(h->csum_start);
		co = ddvm_le16_to_cpu(h->csum_offset);
	}
	/* A sender's "already verified" is no instruction to the driver VM. */
	if ((h->flags & DDVM_VNET_HDR_F_DATA_VALID) && dir == DDVM_NET_META_RX)
		f |= DDVM_F_NET_CSUM_VALID;
	switch (h->gso_type & ~DDVM_VNET_HDR_GSO_ECN) {
	case DDVM_VNET_HDR_GSO_NONE: break;
	case DDVM_VNET_HDR_GSO_TCPV4: f |= DDVM_F_NET_GSO_TCPV4; break;
	case DDVM_VNET_HDR_GSO_TCPV6: f |= DDVM_F_NET_GSO_TCPV6; break;
	default: return DDVM_NET_META_GSO;	/* UDP, USO, ...: no slot equivalent */
	}
	if (h->gso_type & DDVM_VNET_HDR_GSO_ECN)
		f |= DDVM_F_NET_GSO_ECN;
	if (f & DDVM_F_NET_GSO_MASK) {
		gs = ddvm_le16_to_cpu(h->gso_size);
		hl = ddvm_le16_to_cpu(h->hdr_len);
	}
	a = ddvm_net_arg0(cs, co, gs, hl);
	why = ddvm_net_meta_check(f, a, len, mtu, feat, dir, &m);
	if (why != DDVM_NET_META_OK)
		return why;
	*flags = f;
	*arg0 = a;
	return DDVM_NET_META_OK;
}

void ddvm_net_slot_to_hdr(const struct ddvm_net_meta *m, struct ddvm_net_hdr *h)
{
	h->flags = h->gso_type = 0;
	h->hdr_len = h->gso_size = h->csum_start = h->csum_offset = 0;
	if (m->flags & DDVM_F_NET_CSUM) {
		h->flags = DDVM_VNET_HDR_F_NEEDS_CSUM;
		h->csum_start = ddvm_cpu_to_le16(m->csum_start);
		h->csum_offset = ddvm_cpu_to_le16(m->csum_offset);
	} else if (m->flags & DDVM_F_NET_CSUM_VALID) {
		h->flags = DDVM_VNET_HDR_F_DATA_VALID;
	}
	if (m->gso_type) {
		h->gso_type = m->gso_type == DDVM_F_NET_GSO_TCPV4 ? DDVM_VNET_HDR_GSO_TCPV4
								  : DDVM_VNET_HDR_GSO_TCPV6;
		if (m->flags & DDVM_F_NET_GSO_ECN)
			h->gso_type |= DDVM_VNET_HDR_GSO_ECN;
		h->gso_size = ddvm_cpu_to_le16(m->gso_size);
		h->hdr_len = ddvm_cpu_to_le16(m->hdr_len);
	}
}
