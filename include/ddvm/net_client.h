/* SPDX-License-Identifier: MIT */
/*
 * libddvm net client: the client side of one DDVM_QK_NET queue (protocol.md
 * 7c).  Freestanding: no libc, no malloc (the caller hands in memory), no
 * locks or threads (the caller serializes calls), no clock.
 *
 * The queue's data area is cut into nslots chunks, each carrying at most one
 * outstanding request.  Half of them are kept posted as NET_RX buffers (a
 * buffer is posted again as soon as its frame is delivered); the others
 * carry NET_TX frames:
 *
 *   ddvm_netc_tx_claim -> (write the frame into ddvm_netc_tx_buf)
 *     -> ddvm_netc_tx_submit (checked and pushed; from then on the chunk is
 *        the client's, whatever happens) -> ... -> ddvm_netc_flush
 *        (publish, ring the driver VM if it asked)
 *
 * Received frames go to the caller's rx function during ddvm_netc_poll,
 * with their offload metadata as a virtio_net_hdr (net_offload.h).
 *
 * Nothing the driver VM writes is trusted: the queue state, generation and
 * every response are copied once and checked before use
 * (ddvm_queue_state_read, ddvm_net_resp_check); a bad response is dropped
 * and counted by reason, never written on; an impossible ring index stops
 * the queue until the driver VM restarts.  A restart (a new generation)
 * looks like a link flap: what the dead instance had taken and not answered
 * is forgotten (TX frames counted as dropped), what it had not taken goes to
 * its successor, RX buffers are posted again.
 */
#ifndef DDVM_NET_CLIENT_H
#define DDVM_NET_CLIENT_H

#include "channel.h"
#include "net_check.h"
#include "net_offload.h"
#include "region.h"
#include "ring.h"
#include "transport.h"

/* The DDVM_NET_F_* a client can use. */
#define DDVM_NETC_F_ALL		(DDVM_NET_F_CSUM | DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6 | \
				 DDVM_NET_F_TSO_ECN | DDVM_NET_F_RX_OFFLOAD)

/*
 * A received frame: len bytes at frame (in the region; valid during the
 * call only), with its offload metadata.  0 if taken, < 0 if the caller
 * could not take it (counted as rx_deliver_error).  It must not call the
 * client.
 */
typedef int ddvm_netc_rx_fn(void *arg, const volatile void *frame, uint32_t len,
			    const struct ddvm_net_hdr *h);

struct ddvm_netc_stats {
	/* TX: caller -> driver VM -> wire */
	uint64_t tx_frames, tx_bytes;	/* answered OK */
	uint64_t tx_gso, tx_csum;	/* sent with GSO / checksum-partial metadata */
	/* TX drops, by reason */
	uint64_t tx_runt;		/* shorter than an Ethernet header */
	uint64_t tx_oversize;		/* longer than the queue takes (MTU + 18, or the chunk) */
	uint64_t tx_bad_meta;		/* offload metadata not in use or with no slot equivalent */
	uint64_t tx_ring_full;		/* no TX chunk or ring slot free */
	uint64_t tx_not_ready;		/* the queue was not served */
	uint64_t tx_guest_inval, tx_guest_ioerr;	/* the driver VM answered INVAL / IOERR */
	uint64_t tx_restart_dropped;	/* taken by a driver VM that died before answering */
	/* RX: wire -> driver VM -> caller */
	uint64_t rx_frames, rx_bytes;	/* delivered */
	uint64_t rx_gso, rx_csum, rx_csum_valid;	/* delivered with that metadata */
	/* RX drops, by reason: bad responses (dropped, never written on) */
	uint64_t rx_bad[DDVM_NET_RESP_NVERDICTS];	/* by DDVM_NET_RESP_* ([0] unused) */
	uint64_t rx_bad_meta[DDVM_NET_META_NREASONS];	/* BAD_META by DDVM_NET_META_* */
	uint64_t rx_stale;		/* answers to requests forgotten at a restart */
	uint64_t rx_guest_error;	/* an RX buffer given back without a frame */
	uint64_t rx_deliver_error;	/* the rx function could not take a frame */
	/* events */
	uint64_t restarts;		/* driver-VM generations taken over */
	uint64_t doorbells_out;
	/* now */
	uint32_t generation, mtu, features;	/* features: the DDVM_NET_F_* in use */
	uint32_t rx_posted, tx_in_flight;
	int serving, broken, link_up;
};

struct ddvm_netc {
	struct ddvm_transport *t;
	struct ddvm_layout lay;		/* private, validated copy */
	uint32_t qi;			/* queue index in the table */
	struct ddvm_queue_info q;
	struct ddvm_queue_state_info st;	/* last copy of the queue state */
	struct ddvm_ring req, resp;
	uint32_t nslots;
	uint64_t chunk;			/* bytes per chunk */
	uint32_t seq;			/* of the last request pushed */
	ddvm_netc_rx_fn *rx;
	void *rx_arg;

	/* parameters in use (follow the queue state) */
	uint32_t mtu, published;	/* as the driver VM published them */
	uint32_t use, features;		/* what the caller takes (ddvm_netc_use); in use */
	uint32_t max_frame;		/* largest TX frame */
	uint32_t rx_cap;		/* capacity of a posted RX buffer */
	uint16_t rx_flags;		/* flags of an RX post (DDVM_F_NET_OFFLOAD or 0) */

	/* per chunk (caller's memory) */
	struct ddvm_net_pending *pend;
	uint32_t *ridx;			/* request ring index it was pushed at */
	uint32_t *stale;		/* seq of a request forgotten at a restart (0 none) */
	uint32_t *free_stack, nfree;
	uint8_t *claimed;		/* TX chunk handed to the caller */
	uint32_t rx_target, rx_posted, rx_parked, tx_out, tx_claimed;
	int pushed;			/* pushed, not yet published */
	int kick;			/* ring the driver VM */

	/* which driver-VM instance serves the queue */
	int bound;			/* ddvm_netc_ready succeeded */
	int serving;			/* driver VM and queue READY, rings in sync */
	int broken;			/* a ring index was impossible: wait for a restart */
	uint16_t gpeer;			/* its peer id, as the header said at the last look */
	uint32_t gen;			/* the generation the rings are in sync with */
	uint32_t seen_gen;		/* the last generation logged */
	uint32_t bogus_gen;		/* 1 + generation whose bad parameters were logged */
	unsigned int ring_misses;
	struct ddvm_ratelimit rl_bad[DDVM_NET_RESP_NVERDICTS];	/* bad responses' log lines, by kind */
	struct ddvm_ratelimit rl_state;	/* "ready" / "not ready" lines (a flapping driver VM) */

	struct ddvm_netc_stats n;	/* counters (ddvm_netc_stats) */
};

/*
 * Phase 1: take the channel's layout (lay: the one the supervisor wrote;
 * NULL: the region's own, checked), pick the queue (queue >= 0: that index
 * in the queue table; else the nic-th net queue: ddvm_channel_queue), check
 * its data area and say how much memory phase 2 needs.  0 or a negated
 * DDVM_E* code (logged).
 */
int ddvm_netc_open_layout(struct ddvm_netc *c, struct ddvm_transport *t,
			  const struct ddvm_layout *lay, int queue, int nic);
int ddvm_netc_open(struct ddvm_netc *c, struct ddvm_transport *t, int queue, int nic);
uint64_t ddvm_netc_mem_bytes(const struct ddvm_netc *c);

/*
 * Phase 2, called until it returns something but -DDVM_EAGAIN: are the
 * driver VM and the queue READY with a usable MAC and MTU?  Then lay out
 * the chunks in mem (ddvm_netc_mem_bytes, 8-byte aligned), bind the rings,
 * post RX buffers and return 0; c->st holds the MAC and MTU served.
 * -DDVM_EAGAIN while not (a driver VM publishing impossible parameters is
 * logged once per generation: c->st then says ERROR / BOGUS), -DDVM_ENOMEM,
 * -DDVM_EPROTO.  seed starts the id sequence (make it random); rx receives
 * the frames.
 */
int ddvm_netc_ready(struct ddvm_netc *c, void *mem, uint64_t mem_bytes, uint32_t seed,
		    ddvm_netc_rx_fn *rx, void *rx_arg);

/*
 * Which offloads (DDVM_NET_F_*) the caller takes: TX metadata it may submit
 * (CSUM, TSO*) and GSO / checksum-partial frames it can receive
 * (RX_OFFLOAD).  The client uses those the driver VM publishes too, and TSO
 * only if a 64 KiB frame fits a chunk (ddvm_netc_offered).  Default none;
 * takes effect for the next requests.
 */
void ddvm_netc_use(struct ddvm_netc *c, uint32_t features);
/* The offloads this queue can use now: published, and TSO only if it fits. */
uint32_t ddvm_netc_offered(const struct ddvm_netc *c);

/*
 * Do what is due: follow the driver VM's state (restart, READY, link, MTU,
 * features), take responses (frames go to rx), repost RX buffers, publish,
 * ring the driver VM.  Call it when the response doorbell rings.  0, or
 * -DDVM_EPROTO while a ring is broken (the queue waits for a restart).
 */
int ddvm_netc_poll(struct ddvm_netc *c);
/* The same, and RX buffers held back after errors go out again: about once a second. */
int ddvm_netc_tick(struct ddvm_netc *c);

/*
 * A TX chunk for one frame: its index, -DDVM_EAGAIN (every TX chunk in
 * flight: poll, or drop the frame) or -DDVM_ENODEV (the queue is not
 * served).  Write at most ddvm_netc_tx_max bytes to ddvm_netc_tx_buf.
 */
int ddvm_netc_tx_claim(struct ddvm_netc *c);
volatile void *ddvm_netc_tx_buf(const struct ddvm_netc *c, uint32_t k);
uint32_t ddvm_netc_tx_max(const struct ddvm_netc *c);
/* TX chunks claimable now. */
uint32_t ddvm_netc_tx_room(const struct ddvm_netc *c);

/*
 * Send the len-byte frame in claimed chunk k with offload metadata h (NULL:
 * none).  Checked first: len >= 14, len <= ddvm_netc_tx_max, a frame
 * without GSO <= MTU + 18, metadata the queue takes (ddvm_net_hdr_to_slot);
 * a len past tx_max is refused without reading the chunk.  Then pushed (not
 * yet visible: ddvm_netc_flush).  The chunk goes back to the client in any
 * case.  0, -DDVM_EINVAL (dropped, counted), -DDVM_ENOSPC (ring full,
 * counted) or -DDVM_EPROTO (ring broken).
 */
int ddvm_netc_tx_submit(struct ddvm_netc *c, uint32_t k, uint32_t len,
			const struct ddvm_net_hdr *h);
/* Give back claimed chunk k unsent (nothing counted). */
void ddvm_netc_tx_abort(struct ddvm_netc *c, uint32_t k);
/* The caller dropped a frame because ddvm_netc_tx_claim said err: count it. */
void ddvm_netc_tx_dropped(struct ddvm_netc *c, int err);

/* Publish pushed requests; ring the driver VM if it asked. */
void ddvm_netc_flush(struct ddvm_netc *c);

void ddvm_netc_stats(const struct ddvm_netc *c, struct ddvm_netc_stats *out);

#endif /* DDVM_NET_CLIENT_H */
