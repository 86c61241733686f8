/* SPDX-License-Identifier: MIT */
/*
 * ddvm wire protocol: the layout of the shared-memory region between a
 * driver VM and its clients.  This header is the only definition of it.
 *
 * THIS LAYOUT IS AN ABI.  Never reorder, resize or reuse a field; add new
 * fields only in reserved space and bump DDVM_PROTO_MINOR.  A change that
 * old peers cannot ignore bumps DDVM_PROTO_MAJOR.
 *
 * Freestanding: no libc, no pointers in shared memory (only byte offsets
 * from the start of the region), fixed-width little-endian fields, explicit
 * padding, no enums or bools in shared structures.  It compiles unchanged
 * in a Linux kernel module, a host program and a bare-metal client.
 *
 * Region layout (all offsets chosen by the host and published in the header):
 *
 *   0x0000  struct ddvm_region_hdr     magic, version, layout, driver-VM state,
 *                                      per-queue counters (0x100, minor 3)
 *   0x0400  struct ddvm_queue_desc[]   queue table (hdr.queue_table_off)
 *   0x0800  struct ddvm_queue_state[]  per-queue device state written by the driver VM
 *   0x0c00  struct ddvm_queue_target[] which device each queue serves (host-written)
 *   0x1000  struct ddvm_pci_entry[]    PCI translation (hdr.pci_table_off)
 *   ...     per queue: request ring, response ring, data buffers
 *
 * Each ring is a struct ddvm_ring_shared followed by nslots struct ddvm_slot.
 * Ownership of every field is marked: H = written only by the host
 * (supervisor / client side), G = written only by the driver VM, P = written
 * by the ring's producer, C = by its consumer.  Every reader treats what the
 * other side wrote as untrusted: copy once, validate, then use.
 */
#ifndef DDVM_PROTO_H
#define DDVM_PROTO_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#define DDVM_BIG_ENDIAN 1
#endif

/* Byte order is part of the type: fields are little-endian on the wire. */
typedef uint16_t ddvm_le16;
typedef uint32_t ddvm_le32;
typedef uint64_t ddvm_le64;

#ifdef DDVM_BIG_ENDIAN
static inline uint16_t ddvm_le16_to_cpu(ddvm_le16 v) { return __builtin_bswap16(v); }
static inline uint32_t ddvm_le32_to_cpu(ddvm_le32 v) { return __builtin_bswap32(v); }
static inline uint64_t ddvm_le64_to_cpu(ddvm_le64 v) { return __builtin_bswap64(v); }
#else
static inline uint16_t ddvm_le16_to_cpu(ddvm_le16 v) { return v; }
static inline uint32_t ddvm_le32_to_cpu(ddvm_le32 v) { return v; }
static inline uint64_t ddvm_le64_to_cpu(ddvm_le64 v) { return v; }
#endif
#define ddvm_cpu_to_le16 ddvm_le16_to_cpu
#define ddvm_cpu_to_le32 ddvm_le32_to_cpu
#define ddvm_cpu_to_le64 ddvm_le64_to_cpu

#define DDVM_MAGIC		0x4d564444u	/* bytes 'D' 'D' 'V' 'M' */
#define DDVM_PROTO_MAJOR	1
#define DDVM_PROTO_MINOR	3

#define DDVM_HDR_SIZE		0x1000u	/* header page incl. queue table */
#define DDVM_QUEUE_TABLE_OFF	0x400u
#define DDVM_MAX_QUEUES		16u
#define DDVM_QUEUE_STATE_OFF	0x800u
#define DDVM_QUEUE_TARGET_OFF	0xc00u
#define DDVM_MIN_REGION_SIZE	0x10000u	/* 64 KiB */
#define DDVM_MAX_RING_SLOTS	4096u
#define DDVM_ALIGN		64u	/* rings, slots, tables: cache-line aligned */

/*
 * The channel's PCI function: QEMU's ivshmem-doorbell (docs/protocol.md,
 * section 3).  BAR0 holds these 32-bit registers, BAR2 the region; a peer
 * rings vector V of peer P by writing P << 16 | V to DOORBELL.
 */
#define DDVM_IVSHMEM_VENDOR	0x1af4u
#define DDVM_IVSHMEM_DEVICE	0x1110u
#define DDVM_IVSHMEM_INTRMASK	0
#define DDVM_IVSHMEM_INTRSTATUS	4
#define DDVM_IVSHMEM_IVPOSITION	8
#define DDVM_IVSHMEM_DOORBELL	12

/* Doorbell vectors of the host (supervisor, host_peer_id) on every channel. */
#define DDVM_HOST_VEC_CTRL_RESP	0u	/* control responses available */
#define DDVM_HOST_VEC_STATE	1u	/* the driver VM's guest_state changed */

/* hdr.guest_state: what the driver VM's channel module is doing. */
#define DDVM_GUEST_ABSENT	0u	/* never attached since the host set up the region */
#define DDVM_GUEST_ATTACHING	1u	/* region accepted, driver VM still coming up */
#define DDVM_GUEST_READY	2u	/* serving: PCI table published, queues live */
#define DDVM_GUEST_REFUSED	3u	/* rejected the region: see hdr.refusal */
#define DDVM_GUEST_STOPPING	4u	/* module unloading / VM shutting down */

/* hdr.host_state */
#define DDVM_HOST_INIT		0u	/* region being laid out: do not attach */
#define DDVM_HOST_SERVING	1u	/* layout final, driver VM may attach */

/* hdr.refusal: why a driver VM refused a region (0 = not refused). */
#define DDVM_REFUSE_NONE	0u
#define DDVM_REFUSE_MAGIC	1u	/* refusal_detail = magic seen */
#define DDVM_REFUSE_VERSION	2u	/* refusal_detail = major<<16|minor seen */
#define DDVM_REFUSE_LAYOUT	3u	/* refusal_detail = DDVM_LAYOUT_* reason */
#define DDVM_REFUSE_STATE	4u	/* host_state was not SERVING */

/* Why a layout was invalid (refusal_detail for DDVM_REFUSE_LAYOUT). */
#define DDVM_LAYOUT_OK		0u
#define DDVM_LAYOUT_SIZE	1u	/* region_size disagrees with the mapping */
#define DDVM_LAYOUT_QTABLE	2u	/* queue table out of bounds / too many */
#define DDVM_LAYOUT_PCI		3u	/* PCI table out of bounds */
#define DDVM_LAYOUT_RING	4u	/* a ring is out of bounds, misaligned or not 2^n */
#define DDVM_LAYOUT_DATA	5u	/* a data area is out of bounds */
#define DDVM_LAYOUT_OVERLAP	6u	/* two areas overlap */
#define DDVM_LAYOUT_KIND	7u	/* unknown queue kind */

/*
 * Per-queue counters, one entry per queue in the header at 0x100 (minor 3),
 * written by the driver VM (G) since it attached (each boot starts from 0),
 * for people to read (`ddvm status`): never used for anything else, as a
 * client may scribble over them.  Block: reads / writes with their bytes,
 * other ops (flush, discard, write zeroes), requests answered with an error.
 * Net: frames to the client (rd) and from it (wr) with their bytes, and
 * frames dropped or requests refused (errors).  48 bytes.
 */
struct ddvm_queue_stats {
	ddvm_le64 rd_ops;		/* G */
	ddvm_le64 rd_bytes;		/* G */
	ddvm_le64 wr_ops;		/* G */
	ddvm_le64 wr_bytes;		/* G */
	ddvm_le64 other_ops;		/* G */
	ddvm_le64 errors;		/* G */
};
#define DDVM_QUEUE_STATS_OFF	0x100u

/*
 * The region header.  The first 16 bytes never change between versions, so
 * any driver VM can say why it refuses a region written by any host.
 */
struct ddvm_region_hdr {
	/* 0x00: version-independent prefix */
	ddvm_le32 magic;		/* H: DDVM_MAGIC */
	ddvm_le16 version_major;	/* H: DDVM_PROTO_MAJOR */
	ddvm_le16 version_minor;	/* H: DDVM_PROTO_MINOR */
	ddvm_le32 refusal;		/* G: DDVM_REFUSE_*, 0 if accepted */
	ddvm_le32 refusal_detail;	/* G: what was wrong (see DDVM_REFUSE_*) */

	/* 0x10: layout, host-written before host_state = SERVING */
	ddvm_le64 region_size;		/* H: bytes in the region */
	ddvm_le32 hdr_size;		/* H: DDVM_HDR_SIZE */
	ddvm_le16 host_peer_id;		/* H: ivshmem peer id of the supervisor */
	ddvm_le16 nqueues;		/* H: entries in the queue table */
	ddvm_le64 queue_table_off;	/* H: struct ddvm_queue_desc[nqueues] */
	ddvm_le64 pci_table_off;	/* H: struct ddvm_pci_entry[pci_table_max] */
	ddvm_le32 pci_table_max;	/* H: capacity of the PCI table */
	ddvm_le32 heartbeat_period_ms;	/* H: how often the driver VM beats */
	ddvm_le32 host_state;		/* H: DDVM_HOST_* */
	ddvm_le32 host_flags;		/* H: reserved, 0 */
	ddvm_le64 host_reserved0;	/* H: reserved, 0 */

	/* 0x48: driver-VM state (G), apart from the host's fields */
	ddvm_le32 generation;		/* G: +1 on every attach (each boot) */
	ddvm_le32 guest_state;		/* G: DDVM_GUEST_* */
	ddvm_le64 heartbeat;		/* G: +1 every heartbeat_period_ms */
	ddvm_le16 guest_peer_id;	/* G: the driver VM's ivshmem IVPosition */
	ddvm_le16 guest_reserved0;	/* G: 0 */
	ddvm_le32 guest_version;	/* G: major<<16|minor the driver VM speaks */
	ddvm_le32 pci_count;		/* G: valid entries in the PCI table */
	ddvm_le32 pci_seq;		/* G: odd while the PCI table is rewritten */
	char kernel_release[64];	/* G: driver VM's `uname -r`, NUL-padded */
	uint8_t reserved[0x100 - 0xa8];	/* 0 */
	struct ddvm_queue_stats qstats[16];	/* G: DDVM_QUEUE_STATS_OFF, per queue (minor 3) */
};

/* Queue kinds (ddvm_queue_desc.kind). */
#define DDVM_QK_CTRL	1u	/* control: ping and future management ops */
#define DDVM_QK_BLOCK	2u	/* one exported disk */
#define DDVM_QK_NET	3u	/* one exported NIC */

/*
 * One queue: a request ring (client produces, driver VM consumes), a
 * response ring (driver VM produces, client consumes) and a data area from
 * which requests take their buffers.  Host-written; the driver VM checks it.
 */
struct ddvm_queue_desc {
	ddvm_le16 kind;			/* H: DDVM_QK_* */
	ddvm_le16 index;		/* H: which disk / NIC of that kind */
	ddvm_le32 nslots;		/* H: slots per ring, power of two */
	ddvm_le64 req_ring_off;		/* H: request ring (client -> driver VM) */
	ddvm_le64 resp_ring_off;	/* H: response ring (driver VM -> client) */
	ddvm_le64 data_off;		/* H: start of this queue's buffers */
	ddvm_le64 data_size;		/* H: bytes of buffers */
	ddvm_le16 req_vector;		/* H: doorbell vector of the driver VM for requests */
	ddvm_le16 resp_vector;		/* H: doorbell vector of the client for responses */
	ddvm_le32 reserved0;		/* H: 0 */
	ddvm_le64 reserved[2];		/* H: 0 */
};

/*
 * Ring indices are free-running 32-bit counters: slot = index & (nslots-1),
 * entries in flight = prod - cons (mod 2^32), which is never > nslots.
 *
 * Event suppression (as virtio's event index): a consumer that wants a
 * doorbell when work arrives writes data_event = its cons; a producer moving
 * prod from old to new rings iff (u32)(new - data_event - 1) < (u32)(new - old).
 * Symmetrically a producer that waits for space writes space_event = the
 * cons it last saw; a consumer moving cons from old to new rings iff
 * (u32)(new - space_event - 1) < (u32)(new - old).  A side that is busy
 * polling leaves its event index alone and receives no doorbells.
 *
 * Ordering: slots are written before prod is stored with release semantics;
 * the consumer loads prod with acquire semantics before reading slots.
 * Setting an event index is followed by a full fence and a re-check.
 */
struct ddvm_ring_shared {
	ddvm_le32 prod;			/* P: slots published */
	ddvm_le32 space_event;		/* P: wake me when cons passes this */
	uint8_t pad0[56];
	ddvm_le32 cons;			/* C: slots consumed */
	ddvm_le32 data_event;		/* C: wake me when prod passes this */
	ddvm_le32 client_peer_id;	/* H: ivshmem peer id to ring for this queue */
	ddvm_le32 resume_idx;		/* C (driver VM, request rings): the cons it resumed
					 * from when it attached (minor 2) */
	ddvm_le32 resume_gen;		/* C: the generation of that attach; 0 none */
	uint8_t pad1[44];
};

/* ddvm_queue_state.state */
#define DDVM_QS_ABSENT		0u	/* not (yet) served by the driver VM */
#define DDVM_QS_READY		1u	/* device open, requests are served */
#define DDVM_QS_ERROR		2u	/* cannot serve: see ddvm_queue_state.error */

/* ddvm_queue_state.error */
#define DDVM_QE_NONE		0u
#define DDVM_QE_NODEV		1u	/* the target names no device in the driver VM */
#define DDVM_QE_OPEN		2u	/* the device exists but could not be opened */
#define DDVM_QE_TARGET		3u	/* the target string is malformed */
#define DDVM_QE_BUFFERS		4u	/* the queue's data area is unusable */
#define DDVM_QE_BOGUS		5u	/* (client-side) the driver VM published nonsense */

/* ddvm_queue_state.features (block) */
#define DDVM_BLK_F_RO		0x01u	/* read-only device */
#define DDVM_BLK_F_FLUSH	0x02u	/* volatile write cache: FLUSH matters */
#define DDVM_BLK_F_FUA		0x04u	/* FUA writes supported natively */
#define DDVM_BLK_F_DISCARD	0x08u	/* DISCARD supported */
#define DDVM_BLK_F_WRITE_ZEROES	0x10u	/* WRITE_ZEROES supported */
#define DDVM_BLK_F_ZEROES_READ	0x20u	/* discarded blocks read back as zeroes */

/* ddvm_queue_state.flags: how the driver VM serves the queue (informational). */
#define DDVM_QF_ZERO_COPY	0x01u	/* the device DMAs to/from the region's buffers:
					 * no copy inside the driver VM */

/*
 * ddvm_queue_state.features (net): the offloads the driver VM takes on
 * NET_TX (so a client may hand it checksum-partial and GSO frames) and
 * whether it honours DDVM_F_NET_OFFLOAD on NET_RX posts.  Protocol.md 7c.
 */
#define DDVM_NET_F_CSUM		0x01u	/* NET_TX with DDVM_F_NET_CSUM */
#define DDVM_NET_F_TSO4		0x02u	/* NET_TX with DDVM_F_NET_GSO_TCPV4 */
#define DDVM_NET_F_TSO6		0x04u	/* NET_TX with DDVM_F_NET_GSO_TCPV6 */
#define DDVM_NET_F_TSO_ECN	0x08u	/* NET_TX with DDVM_F_NET_GSO_ECN */
#define DDVM_NET_F_RX_OFFLOAD	0x10u	/* may answer NET_RX posts marked DDVM_F_NET_OFFLOAD
					 * with CSUM / CSUM_VALID / GSO frames */

/*
 * Per-queue device state, one entry per queue at DDVM_QUEUE_STATE_OFF,
 * written by the driver VM (G) once it has opened the queue's device, and
 * kept current (link state).  64 bytes.
 */
struct ddvm_queue_state {
	ddvm_le32 state;		/* G: DDVM_QS_* */
	ddvm_le32 error;		/* G: DDVM_QE_* when state is ERROR */
	ddvm_le64 capacity;		/* G: block: device size in bytes */
	ddvm_le32 logical_block_size;	/* G: block: bytes, power of two >= 512 */
	ddvm_le32 physical_block_size;	/* G: block: bytes, power of two */
	ddvm_le32 max_transfer;		/* G: block: largest len in one request */
	ddvm_le32 features;		/* G: block: DDVM_BLK_F_*; net: DDVM_NET_F_* */
	uint8_t mac[6];			/* G: net: station address */
	ddvm_le16 link_up;		/* G: net: 1 carrier up, 0 down */
	ddvm_le32 mtu;			/* G: net: bytes of L3 payload */
	char dev_name[16];		/* G: Linux name of the device served */
	ddvm_le32 flags;		/* G: DDVM_QF_* (minor 1; 0 before) */
};

/*
 * Which device a queue serves, at DDVM_QUEUE_TARGET_OFF, host-written:
 * "pci=DDDD:BB:DD.F" (the disk or netdev under that PCI function of the
 * driver VM, found through the PCI translation), optionally followed by
 * " n=N" for the Nth such disk/netdev (default 0).  NUL-padded.  64 bytes.
 */
struct ddvm_queue_target {
	char target[64];		/* H */
};

/* Operations (ddvm_slot.op). */
#define DDVM_OP_PING		1u	/* ctrl: echo arg0 back; no data */
#define DDVM_OP_CRASH		2u	/* ctrl, fault injection: the driver VM panics
					 * (only if it was booted with fault injection
					 * allowed; otherwise answered NOTSUPP) */
#define DDVM_OP_READ		16u	/* block: read len bytes at offset into buf */
#define DDVM_OP_WRITE		17u	/* block: write len bytes from buf at offset */
#define DDVM_OP_FLUSH		18u	/* block: make all completed writes durable */
#define DDVM_OP_DISCARD		19u	/* block: trim [offset, offset+len) */
#define DDVM_OP_WRITE_ZEROES	20u	/* block: zero [offset, offset+len) */
#define DDVM_OP_NET_TX		32u	/* net: frame in buf to the wire */
#define DDVM_OP_NET_RX		33u	/* net: buffer for a received frame */
#define DDVM_OP_FAULT		3u	/* ctrl, fault injection: arm fault arg0 (DDVM_FAULT_*),
					 * offset its parameter; answered OK once armed, or
					 * NOTSUPP if not booted with fault injection allowed */

/* DDVM_OP_FAULT's arg0 (tests of recovery only; `ddvm inject`). */
#define DDVM_FAULT_HANG		1u	/* the driver VM stops answering: interrupts off, spinning */
#define DDVM_FAULT_OOPS		2u	/* the next block request oopses the translation module */
#define DDVM_FAULT_POISON	3u	/* the next block WRITE becomes a poison pill */
#define DDVM_FAULT_IOERR	4u	/* block requests fail with IOERR for `offset` ms */

/* ddvm_slot.flags */
#define DDVM_F_FUA		0x0001u	/* block write: durable before completion */

/*
 * ddvm_slot.flags on NET queues: offload metadata with the meaning of
 * virtio_net_hdr (protocol.md 7c).  The numbers travel in arg0 (below).
 */
#define DDVM_F_NET_CSUM		0x0002u	/* TX request / RX response: checksum partial:
					 * the ones' complement sum from csum_start to
					 * the end goes at csum_start + csum_offset
					 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) */
#define DDVM_F_NET_CSUM_VALID	0x0004u	/* RX response: checksums verified (F_DATA_VALID) */
#define DDVM_F_NET_OFFLOAD	0x0008u	/* RX request: this buffer takes offload frames */
#define DDVM_F_NET_GSO_MASK	0x0030u	/* a GSO super-frame of this type (0: none): */
#define DDVM_F_NET_GSO_TCPV4	0x0010u	/*   TCP over IPv4, segments of gso_size */
#define DDVM_F_NET_GSO_TCPV6	0x0020u	/*   TCP over IPv6 (0x0030 reserved) */
#define DDVM_F_NET_GSO_ECN	0x0040u	/* with a GSO type: the TCP flow uses ECN (CWR) */

/*
 * arg0 of a NET slot whose flags say CSUM or a GSO type, little-endian u64:
 * bits 0-15 csum_start, 16-31 csum_offset (with CSUM; frame-relative bytes),
 * bits 32-47 gso_size (payload bytes per segment), 48-63 hdr_len (Ethernet
 * to end of the TCP header; a hint) (with a GSO type).  Otherwise ignored.
 */
static inline uint64_t ddvm_net_arg0(uint16_t csum_start, uint16_t csum_offset,
				     uint16_t gso_size, uint16_t hdr_len)
{
	return (uint64_t)csum_start | (uint64_t)csum_offset << 16 |
	       (uint64_t)gso_size << 32 | (uint64_t)hdr_len << 48;
}

/* ddvm_slot.status in responses */
#define DDVM_S_OK		0u
#define DDVM_S_IOERR		1u	/* the device failed the request */
#define DDVM_S_INVAL		2u	/* the request was malformed; not executed */
#define DDVM_S_NOTSUPP		3u	/* op not supported by this queue/device */
#define DDVM_S_RANGE		4u	/* offset/length outside the device */
#define DDVM_S_NOSPC		5u	/* device or buffer full */

/* One ring entry: a request or a response.  64 bytes. */
struct ddvm_slot {
	ddvm_le64 id;			/* requester's tag, echoed in the response */
	ddvm_le16 op;			/* DDVM_OP_* */
	ddvm_le16 flags;		/* DDVM_F_* */
	ddvm_le32 status;		/* response: DDVM_S_* (request: 0) */
	ddvm_le64 offset;		/* block: byte offset on the device */
	ddvm_le64 buf_off;		/* data buffer: byte offset in the region */
	ddvm_le32 len;			/* bytes of data / of the operation */
	ddvm_le32 reserved0;		/* 0 */
	ddvm_le64 arg0;			/* op-specific (ping: echoed cookie; net: offload metadata) */
	ddvm_le64 reserved[2];		/* 0 */
};

/* PCI translation: one PCI function the driver VM's Linux sees.  128 bytes. */
struct ddvm_pci_entry {
	ddvm_le16 domain;		/* G */
	uint8_t bus;			/* G */
	uint8_t devfn;			/* G: device << 3 | function */
	ddvm_le16 vendor;		/* G */
	ddvm_le16 device;		/* G */
	ddvm_le16 subsystem_vendor;	/* G */
	ddvm_le16 subsystem_device;	/* G */
	ddvm_le32 class_code;		/* G: base << 16 | sub << 8 | prog-if */
	uint8_t revision;		/* G */
	uint8_t pad[3];			/* G: 0 */
	char driver[32];		/* G: bound Linux driver, NUL-padded, "" if none */
	char names[76];			/* G: netdevs / disks it produced, space-separated */
};

#define DDVM_STATIC_ASSERT(c, m) _Static_assert(c, m)

DDVM_STATIC_ASSERT(sizeof(struct ddvm_region_hdr) == 0x400, "region header size");
DDVM_STATIC_ASSERT(sizeof(struct ddvm_queue_stats) == 48, "queue stats size");
DDVM_STATIC_ASSERT(DDVM_QUEUE_STATS_OFF + DDVM_MAX_QUEUES * 48 == 0x400, "queue stats fit the header");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_region_hdr, refusal) == 0x08, "refusal offset");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_region_hdr, region_size) == 0x10, "layout offset");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_region_hdr, host_state) == 0x38, "host_state offset");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_region_hdr, generation) == 0x48, "guest area offset");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_region_hdr, heartbeat) == 0x50, "heartbeat offset");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_region_hdr, kernel_release) == 0x68, "release offset");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_region_hdr, qstats) == DDVM_QUEUE_STATS_OFF, "queue stats offset");
DDVM_STATIC_ASSERT(sizeof(struct ddvm_queue_desc) == 64, "queue desc size");
DDVM_STATIC_ASSERT(DDVM_QUEUE_TABLE_OFF + DDVM_MAX_QUEUES * 64 <= DDVM_HDR_SIZE, "queue table fits");
DDVM_STATIC_ASSERT(sizeof(struct ddvm_queue_state) == 64, "queue state size");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_queue_state, mac) == 32, "queue state mac");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_queue_state, dev_name) == 44, "queue state name");
DDVM_STATIC_ASSERT(sizeof(struct ddvm_queue_target) == 64, "queue target size");
DDVM_STATIC_ASSERT(DDVM_QUEUE_STATE_OFF + DDVM_MAX_QUEUES * 64 <= DDVM_QUEUE_TARGET_OFF, "state table fits");
DDVM_STATIC_ASSERT(DDVM_QUEUE_TARGET_OFF + DDVM_MAX_QUEUES * 64 <= DDVM_HDR_SIZE, "target table fits");
DDVM_STATIC_ASSERT(sizeof(struct ddvm_ring_shared) == 128, "ring header size");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_ring_shared, cons) == 64, "cons on own line");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_ring_shared, resume_idx) == 76, "resume_idx");
DDVM_STATIC_ASSERT(sizeof(struct ddvm_slot) == 64, "slot size");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_slot, buf_off) == 24, "slot buf_off");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_slot, arg0) == 40, "slot arg0");
DDVM_STATIC_ASSERT(sizeof(struct ddvm_pci_entry) == 128, "pci entry size");
DDVM_STATIC_ASSERT(__builtin_offsetof(struct ddvm_pci_entry, driver) == 20, "pci driver");

/* Bytes a ring of n slots occupies in the region. */
static inline uint64_t ddvm_ring_bytes(uint32_t nslots)
{
	return sizeof(struct ddvm_ring_shared) + (uint64_t)nslots * sizeof(struct ddvm_slot);
}

/* True if a producer moving from old to new must ring for event index ev. */
static inline int ddvm_need_event(uint32_t ev, uint32_t new_idx, uint32_t old_idx)
{
	return (uint32_t)(new_idx - ev - 1) < (uint32_t)(new_idx - old_idx);
}

#endif /* DDVM_PROTO_H */
