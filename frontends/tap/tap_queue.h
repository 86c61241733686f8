/* SPDX-License-Identifier: MIT */
/*
 * The net queue client of ddvm-tap: turns frames read from the TAP into
 * NET_TX requests, keeps about nslots/2 NET_RX buffers posted, and handles
 * the responses (validated by net_resp_check).  Single-threaded.
 */
#ifndef DDVM_TAP_QUEUE_H
#define DDVM_TAP_QUEUE_H

#include <stdint.h>

#include "ddvm/region.h"
#include "ddvm/ring.h"
#include "net_resp.h"

struct tap_counters {
	/* tx: TAP -> driver VM -> wire */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_oversize, tx_runt, tx_ring_full, tx_not_ready, tx_guest_inval, tx_guest_ioerr;
	uint64_t tx_gso, tx_csum;		/* frames sent with GSO / partial-checksum metadata */
	uint64_t tx_offload;			/* dropped: metadata the driver VM does not take */
	/* rx: wire -> driver VM -> TAP */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_gso, rx_csum, rx_csum_valid;	/* frames with that metadata */
	uint64_t rx_bad[NET_RESP_NVERDICTS];	/* indexed by enum net_verdict */
	uint64_t rx_bad_meta[DDVM_NET_META_NREASONS];	/* BAD_META by DDVM_NET_META_* */
	uint64_t rx_guest_err, rx_tap_error;
	uint64_t doorbells_in, doorbells_out;
};

struct tapq {
	volatile uint8_t *base;
	uint32_t qi;
	struct ddvm_queue_info q;
	struct ddvm_ring req, resp;
	uint64_t chunk;			/* bytes per data chunk */
	uint32_t nchunks;		/* = nslots */
	uint32_t mtu;			/* the NIC's, as published */
	uint32_t features;		/* DDVM_NET_F_* published by the driver VM */
	uint32_t max_frame;		/* largest TX frame: mtu + 18, or a GSO frame; <= chunk */
	uint32_t rx_cap;		/* capacity of a posted RX buffer */
	uint16_t rx_flags;		/* flags of an RX post (DDVM_F_NET_OFFLOAD or 0) */
	struct net_req *reqs;		/* [nchunks] */
	uint32_t *free_stack, nfree;
	uint32_t seq;
	uint32_t rx_target, rx_posted, rx_parked, tx_out;
	int broken;			/* a ring is corrupt: unusable until a reset */
	int pending;			/* pushed, not yet published */
	struct tap_counters *c;
};

/*
 * Bind queue qi of a validated layout.  Chunks: data_size / nslots rounded
 * down to 64 bytes.  0, or -EINVAL (too small a data area) / -ENOMEM.
 */
int tapq_init(struct tapq *q, volatile void *base, const struct ddvm_layout *l, uint32_t qi,
	      struct tap_counters *c);
void tapq_free(struct tapq *q);

/*
 * The NIC's MTU and the driver VM's DDVM_NET_F_* features: TX frames larger
 * than mtu + 18 (a GSO frame: 64 KiB + 18) or the chunk are dropped; RX
 * buffers are posted whole and marked DDVM_F_NET_OFFLOAD if the driver VM
 * offers RX offload, else mtu + 18 bytes.  Takes effect for new posts.
 */
void tapq_set_params(struct tapq *q, uint32_t mtu, uint32_t features);

/*
 * Forget every outstanding request and take our ring positions from shared
 * memory (start, or the driver VM restarted).  Clears broken.
 */
void tapq_reset(struct tapq *q);

/*
 * A free chunk for the next TX frame (writable, max_frame bytes), or NULL
 * (none free / queue broken).  Then tapq_tx_commit or tapq_tx_abort.
 */
volatile uint8_t *tapq_tx_begin(struct tapq *q, uint32_t *chunk);
/*
 * Push chunk as a NET_TX of len bytes with offload metadata (flags, arg0 as
 * in the slot, CPU order).  0, or -ENOSPC / -EPROTO (counted).
 */
int tapq_tx_commit(struct tapq *q, uint32_t chunk, uint32_t len, uint16_t flags, uint64_t arg0);
void tapq_tx_abort(struct tapq *q, uint32_t chunk);

/* Post RX buffers up to the target (including ones parked after errors). */
void tapq_rx_refill(struct tapq *q, int unpark);

/* Publish pushed requests.  1 if the driver VM must be rung. */
int tapq_publish(struct tapq *q);

/*
 * Handle every response: RX frames are written to tap_fd (each behind a
 * struct virtio_net_hdr carrying its offload metadata) and their buffers
 * reposted, TX chunks are freed, bad responses counted and dropped.  Arms
 * the doorbell before returning.  *ring_guest is set if the driver VM must
 * be rung (requests published, or it waits for response space).
 * 0, or -EPROTO once a ring is found corrupt (q->broken set).
 */
int tapq_poll(struct tapq *q, int tap_fd, int *ring_guest);

#endif
