// SPDX-License-Identifier: MIT
/*
 * test-net-offload: the one virtio_net_hdr <-> slot metadata mapping
 * (proto/net_offload.c).  struct ddvm_net_hdr and the DDVM_VNET_* values
 * are Linux's, byte for byte; every expressible header maps to the slot
 * flags and arg0 protocol.md 7c.1 gives it and back to itself; what has no
 * slot equivalent, what is not offered and what ddvm_net_meta_check refuses
 * is refused with its reason; DATA_VALID means something only on RX; arg0
 * carries only the parts its flags call for.
 */
#include <linux/virtio_net.h>
#include <stddef.h>
#include <string.h>

#include "ddvm/net_offload.h"
#include "check.h"

#define ALL_TX	(DDVM_NET_F_CSUM | DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | DDVM_NET_F_TSO_ECN)

static struct ddvm_net_hdr hdr(uint8_t flags, uint8_t gso, uint16_t hl, uint16_t gs, uint16_t cs,
			       uint16_t co)
{
	struct ddvm_net_hdr h = { .flags = flags, .gso_type = gso, .hdr_len = ddvm_cpu_to_le16(hl),
				  .gso_size = ddvm_cpu_to_le16(gs),
				  .csum_start = ddvm_cpu_to_le16(cs),
				  .csum_offset = ddvm_cpu_to_le16(co) };
	return h;
}

static void test_linux_layout(void)
{
	CHECK_EQ(sizeof(struct ddvm_net_hdr), sizeof(struct virtio_net_hdr));
	CHECK_EQ(offsetof(struct ddvm_net_hdr, flags), offsetof(struct virtio_net_hdr, flags));
	CHECK_EQ(offsetof(struct ddvm_net_hdr, gso_type), offsetof(struct virtio_net_hdr, gso_type));
	CHECK_EQ(offsetof(struct ddvm_net_hdr, hdr_len), offsetof(struct virtio_net_hdr, hdr_len));
	CHECK_EQ(offsetof(struct ddvm_net_hdr, gso_size), offsetof(struct virtio_net_hdr, gso_size));
	CHECK_EQ(offsetof(struct ddvm_net_hdr, csum_start),
		 offsetof(struct virtio_net_hdr, csum_start));
	CHECK_EQ(offsetof(struct ddvm_net_hdr, csum_offset),
		 offsetof(struct virtio_net_hdr, csum_offset));
	CHECK_EQ(DDVM_VNET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(DDVM_VNET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_DATA_VALID);
	CHECK_EQ(DDVM_VNET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_NONE);
	CHECK_EQ(DDVM_VNET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV4);
	CHECK_EQ(DDVM_VNET_HDR_GSO_UDP, VIRTIO_NET_HDR_GSO_UDP);
	CHECK_EQ(DDVM_VNET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_TCPV6);
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4	/* newer headers than some hosts have */
	CHECK_EQ(DDVM_VNET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_GSO_UDP_L4);
#endif
	CHECK_EQ(DDVM_VNET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_ECN);
}

/* h -> slot must give flags/arg0; slot -> hdr must give h back (mask: what survives). */
static void round_trip(struct ddvm_net_hdr h, int dir, uint16_t want_flags, uint64_t want_arg0)
{
	struct ddvm_net_meta m;
	struct ddvm_net_hdr back;
	uint16_t flags = 0xffff;
	uint64_t arg0 = ~0ull;
	uint32_t len = h.gso_type ? 9000 : 1000;	/* a plain frame fits the MTU */

	CHECK_EQ(ddvm_net_hdr_to_slot(&h, len, 1500, dir == DDVM_NET_META_TX ? ALL_TX
								       : DDVM_NET_META_RX_ALL,
				      dir, &flags, &arg0), DDVM_NET_META_OK);
	CHECK_EQ(flags, want_flags);
	CHECK_EQ(arg0, want_arg0);
	CHECK_EQ(ddvm_net_meta_check(flags, arg0, len, 1500, DDVM_NET_META_RX_ALL,
				     DDVM_NET_META_RX, &m), DDVM_NET_META_OK);
	ddvm_net_slot_to_hdr(&m, &back);
	CHECK(memcmp(&back, &h, sizeof(h)) == 0);
}

static void test_mapping(void)
{
	/* nothing */
	round_trip(hdr(0, 0, 0, 0, 0, 0), DDVM_NET_META_TX, 0, 0);
	/* checksum partial */
	round_trip(hdr(1, 0, 0, 0, 34, 16), DDVM_NET_META_TX, DDVM_F_NET_CSUM,
		   ddvm_net_arg0(34, 16, 0, 0));
	/* TSO over IPv4 / IPv6, with ECN */
	round_trip(hdr(1, 1, 66, 1448, 34, 16), DDVM_NET_META_TX,
		   DDVM_F_NET_CSUM | DDVM_F_NET_GSO_TCPV4, ddvm_net_arg0(34, 16, 1448, 66));
	round_trip(hdr(1, 4, 86, 1428, 54, 16), DDVM_NET_META_TX,
		   DDVM_F_NET_CSUM | DDVM_F_NET_GSO_TCPV6, ddvm_net_arg0(54, 16, 1428, 86));
	round_trip(hdr(1, 0x81, 66, 1448, 34, 16), DDVM_NET_META_TX,
		   DDVM_F_NET_CSUM | DDVM_F_NET_GSO_TCPV4 | DDVM_F_NET_GSO_ECN,
		   ddvm_net_arg0(34, 16, 1448, 66));
	/* checksums verified: RX only */
	round_trip(hdr(2, 0, 0, 0, 0, 0), DDVM_NET_META_RX, DDVM_F_NET_CSUM_VALID, 0);
	round_trip(hdr(1, 1, 66, 1448, 34, 16), DDVM_NET_META_RX,
		   DDVM_F_NET_CSUM | DDVM_F_NET_GSO_TCPV4, ddvm_net_arg0(34, 16, 1448, 66));
}

static uint32_t to_slot(struct ddvm_net_hdr h, uint32_t len, uint32_t feat, int dir,
			uint16_t *flags, uint64_t *arg0)
{
	*flags = 0x5555;
	*arg0 = 0x5555;
	return ddvm_net_hdr_to_slot(&h, len, 1500, feat, dir, flags, arg0);
}

static void test_refusals(void)
{
	uint16_t f;
	uint64_t a;

	/* no slot equivalent: untouched outputs */
	CHECK_EQ(to_slot(hdr(4, 0, 0, 0, 0, 0), 100, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_FLAGS_BAD);			/* RSC_INFO */
	CHECK_EQ(f, 0x5555);
	CHECK_EQ(a, 0x5555);
	CHECK_EQ(to_slot(hdr(1, 3, 42, 1000, 34, 6), 3000, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_GSO);				/* UFO */
	CHECK_EQ(to_slot(hdr(1, 5, 42, 1000, 34, 6), 3000, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_GSO);				/* USO */
	CHECK_EQ(to_slot(hdr(1, 2, 42, 1000, 34, 6), 3000, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_GSO);				/* unknown type */
	/* not offered */
	CHECK_EQ(to_slot(hdr(1, 0, 0, 0, 34, 16), 100, 0, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_FLAGS_BAD);
	CHECK_EQ(to_slot(hdr(1, 1, 66, 1448, 34, 16), 3000, DDVM_NET_F_CSUM, DDVM_NET_META_TX, &f,
			 &a), DDVM_NET_META_GSO);
	CHECK_EQ(to_slot(hdr(1, 0x81, 66, 1448, 34, 16), 3000,
			 DDVM_NET_F_CSUM | DDVM_NET_F_TSO4, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_GSO);
	CHECK_EQ(to_slot(hdr(2, 0, 0, 0, 0, 0), 100, 0, DDVM_NET_META_RX, &f, &a),
		 DDVM_NET_META_FLAGS_BAD);			/* not an OFFLOAD buffer */
	/* what ddvm_net_meta_check refuses */
	CHECK_EQ(to_slot(hdr(0, 0x80, 0, 0, 0, 0), 100, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_GSO);				/* ECN alone */
	CHECK_EQ(to_slot(hdr(0, 1, 66, 1448, 0, 0), 3000, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_GSO);				/* GSO without CSUM */
	CHECK_EQ(to_slot(hdr(1, 0, 0, 0, 99, 0), 100, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_CSUM);				/* checksum past the frame */
	CHECK_EQ(to_slot(hdr(1, 1, 66, 4, 34, 16), 3000, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_GSO_SIZE);
	CHECK_EQ(to_slot(hdr(1, 1, 3001, 1448, 34, 16), 3000, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_HDR_LEN);
	CHECK_EQ(to_slot(hdr(0, 0, 0, 0, 0, 0), 1519, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_LEN);				/* plain frame over MTU + 18 */
	CHECK_EQ(to_slot(hdr(2, 0, 0, 0, 0, 0), 100, 0, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_OK);				/* DATA_VALID on TX: ignored */
	CHECK_EQ(f, 0);
	/* fields the flags do not call for are not carried */
	CHECK_EQ(to_slot(hdr(0, 0, 66, 1448, 34, 16), 100, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_OK);
	CHECK_EQ(a, 0);
	CHECK_EQ(to_slot(hdr(1, 0, 66, 1448, 34, 16), 100, ALL_TX, DDVM_NET_META_TX, &f, &a),
		 DDVM_NET_META_OK);
	CHECK_EQ(a, ddvm_net_arg0(34, 16, 0, 0));
}

int main(void)
{
	test_linux_layout();
	test_mapping();
	test_refusals();
	return check_summary("test-net-offload");
}
