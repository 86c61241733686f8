/* SPDX-License-Identifier: MIT */
/*
 * Offload metadata: the one mapping between Linux's struct virtio_net_hdr
 * (what a TAP with IFF_VNET_HDR, tun and virtio-net carry in front of a
 * frame) and a NET slot's flags and arg0 (protocol.md 7c.1).  Used by both
 * ends: the client library (lib/net_client.c, so ddvm-tap) and the driver
 * VM's net translation (guest/net_io.c).  Freestanding: proto.h only, no
 * Linux header; tests/unit/test-net-offload.c checks that struct
 * ddvm_net_hdr and the DDVM_VNET_* values are Linux's, byte for byte.
 *
 * The mapping:
 *
 *   virtio_net_hdr                    slot
 *   flags NEEDS_CSUM                  DDVM_F_NET_CSUM, arg0 csum_start/offset
 *   flags DATA_VALID                  DDVM_F_NET_CSUM_VALID (RX only; on TX
 *                                     it means nothing and is ignored)
 *   gso_type TCPV4 / TCPV6            DDVM_F_NET_GSO_TCPV4 / _TCPV6, arg0
 *                                     gso_size / hdr_len
 *   gso_type | ECN                    DDVM_F_NET_GSO_ECN
 *
 * Anything else (UDP GSO, USO, RSC_INFO or unknown flags) has no slot
 * equivalent and is refused, as is metadata the rules of
 * ddvm_net_meta_check refuse.  arg0 carries only the parts its flags call
 * for; the rest is 0.
 */
#ifndef DDVM_NET_OFFLOAD_H
#define DDVM_NET_OFFLOAD_H

#include "net_check.h"

/* virtio_net_hdr.flags (Linux's VIRTIO_NET_HDR_F_*, the virtio spec's) */
#define DDVM_VNET_HDR_F_NEEDS_CSUM	1u	/* checksum partial: csum_start/offset */
#define DDVM_VNET_HDR_F_DATA_VALID	2u	/* checksums verified */
/* virtio_net_hdr.gso_type (VIRTIO_NET_HDR_GSO_*) */
#define DDVM_VNET_HDR_GSO_NONE		0u
#define DDVM_VNET_HDR_GSO_TCPV4		1u
#define DDVM_VNET_HDR_GSO_UDP		3u	/* no slot equivalent */
#define DDVM_VNET_HDR_GSO_TCPV6		4u
#define DDVM_VNET_HDR_GSO_UDP_L4	5u	/* no slot equivalent */
#define DDVM_VNET_HDR_GSO_ECN		0x80u	/* with a GSO type */

/*
 * struct virtio_net_hdr, 10 bytes, fields little-endian (a TAP set up with
 * TUNSETVNETLE, tun and virtio 1.0 all use little-endian headers).
 */
struct ddvm_net_hdr {
	uint8_t flags;			/* DDVM_VNET_HDR_F_* */
	uint8_t gso_type;		/* DDVM_VNET_HDR_GSO_* */
	ddvm_le16 hdr_len;		/* frame start to the end of the L4 header (a hint) */
	ddvm_le16 gso_size;		/* payload bytes per segment */
	ddvm_le16 csum_start;		/* where the ones' complement sum starts */
	ddvm_le16 csum_offset;		/* where it goes, from csum_start */
};

DDVM_STATIC_ASSERT(sizeof(struct ddvm_net_hdr) == 10, "virtio_net_hdr size");

/*
 * virtio_net_hdr *h of a frame of len bytes -> slot flags and arg0 (CPU
 * byte order), checked with ddvm_net_meta_check(mtu, feat, dir): dir
 * DDVM_NET_META_TX for a NET_TX request (feat: the offloads in use), _RX for
 * a NET_RX response (feat: DDVM_NET_META_RX_ALL for an OFFLOAD buffer, else
 * 0).  Returns DDVM_NET_META_OK and fills *flags, *arg0; or the reason it is
 * refused (FLAGS_BAD: a flag with no slot equivalent; GSO: a GSO type with
 * none; else ddvm_net_meta_check's) and leaves them untouched.
 */
uint32_t ddvm_net_hdr_to_slot(const struct ddvm_net_hdr *h, uint32_t len, uint32_t mtu,
			      uint32_t feat, int dir, uint16_t *flags, uint64_t *arg0);

/*
 * Validated metadata (ddvm_net_meta_check or ddvm_net_req_check filled *m)
 * -> the virtio_net_hdr that says the same.  Every validated metadata has
 * one, so this cannot fail.
 */
void ddvm_net_slot_to_hdr(const struct ddvm_net_meta *m, struct ddvm_net_hdr *h);

#endif /* DDVM_NET_OFFLOAD_H */
