/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Net translation: serves each DDVM_QK_NET queue of a channel with one
 * netdev of this Linux.  ddvm_net.ko (net_mod.c registers it with ddvm_chan).
 *
 *   net_queue.c  per-queue lifecycle: bind, find the netdev under the
 *                target's PCI function, attach (open, allmulti, rx_handler),
 *                publish MAC / MTU / link in the queue state, follow
 *                netdev events (carrier, address, MTU, unregister), detach
 *   net_io.c     the data path: rx_handler (frames -> posted RX buffers)
 *                and the queue work (TX requests -> dev_queue_xmit, RX
 *                posts -> the buffer FIFO), counters
 *   net_port.c   a NIC with several clients: the queue's own netdev, a port
 *                of the bridge the NIC is in (its xmit -> posted RX buffers,
 *                TX requests -> received on it)
 *
 * Wire conventions: /work/notes/net-wire.md and docs/protocol.md.
 * - chunk = data_size / nslots rounded down to 64 bytes; every buffer lies
 *   inside one chunk; frames are Ethernet without FCS, 14 <= len <= mtu + 18,
 *   or up to 64 KiB + 18 for a GSO frame (offload metadata in flags/arg0 with
 *   virtio_net_hdr's meaning; features published from the NIC's own).
 * - NET_TX answered once handed to the driver (OK), INVAL for a bad
 *   descriptor, IOERR when the link is down or the driver refused it.
 * - NET_RX buffers are held (FIFO) until a frame arrives; answered with
 *   len = frame length.  Frames that do not fit are dropped, never truncated.
 *   GRO stays on: a GSO frame goes with its metadata into a buffer posted
 *   with DDVM_F_NET_OFFLOAD, and is segmented here for any other buffer.
 *
 * Locking: q->lock (BH-safe) covers the request ring's consumer side, the
 * response ring's producer side, the RX buffer FIFO, the pending queue and
 * the counters: the rx_handler (softirq) and the work both pop requests and
 * push responses.  q->dev, q->mtu and the published state change only under
 * RTNL (attach, detach, notifier) and, for what the data path reads, also
 * under q->lock.
 */
#ifndef DDVM_GUEST_NET_H
#define DDVM_GUEST_NET_H

#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <linux/interrupt.h>
#include <linux/spinlock.h>

#include "chan.h"
#include "ddvm/net_check.h"	/* ddvm_net_chunk, DDVM_NET_CHUNK_ALIGN */

#define DDVM_NET_BATCH		64u	/* requests answered per batch */
#define DDVM_NET_LOG_SECS	10	/* counters logged at most this often */

/* A posted RX buffer, validated. */
struct ddvm_net_rxbuf {
	u64 id;
	u64 buf_off;			/* region offset */
	u32 cap;
	bool offload;			/* posted with DDVM_F_NET_OFFLOAD */
};

struct ddvm_net_stats {
	u64 rx_frames, rx_bytes, tx_frames, tx_bytes;
	u64 no_rx_buffer;		/* frame dropped: no RX buffer posted */
	u64 rx_too_big;			/* frame dropped: larger than the posted buffer */
	u64 rx_resp_full;		/* frame dropped: response ring full (client misbehaves) */
	u64 rx_bad_desc;		/* NET_RX post with a bad buffer: answered INVAL */
	u64 tx_bad_desc;		/* NET_TX with a bad descriptor: answered INVAL */
	u64 tx_link_down;		/* NET_TX while no carrier / no netdev: IOERR */
	u64 tx_xmit_error;		/* dev_queue_xmit refused it: IOERR */
	u64 bad_op;			/* unknown op: NOTSUPP */
	/* offloads (protocol.md 7c) */
	u64 tx_gso, tx_csum;		/* NET_TX frames with GSO / checksum-partial metadata */
	u64 tx_bad_meta;		/* ... that the skb layer refused (virtio_net_hdr_to_skb): INVAL */
	u64 rx_gso, rx_csum, rx_csum_valid;	/* RX frames answered with that metadata */
	u64 rx_segmented;		/* GSO frames segmented here (buffer not marked / too small) */
	u64 rx_seg_error;		/* ... where that failed: dropped */
};

struct ddvm_netq {
	struct ddvm_chan *c;
	struct ddvm_net *net;
	u16 qidx;			/* index in the queue table */
	u16 req_vector, resp_vector;
	u32 nslots;
	u64 data_off, data_size, chunk;
	struct work_struct work;
	struct tasklet_struct bell;	/* rx_handler's doorbell, once per NAPI round */

	spinlock_t lock;		/* see the top of this file */
	struct ddvm_ring req, resp;
	struct ddvm_net_rxbuf *rxb;	/* FIFO of nslots posted RX buffers */
	u32 rx_head, rx_n;
	struct ddvm_slot *pend;		/* requests popped by the rx_handler for the work */
	u32 pend_head, pend_n;
	u32 resp_reserved;		/* response slots promised to the work's batch */
	struct net_device *dev;		/* attached netdev (also RTNL) */
	struct net_device *port;	/* bridged: our port netdev (RTNL; set before dev) */
	struct ddvm_target port_t;	/* bridged: the target (bridge, client MAC) */
	u32 mtu;			/* its MTU, for TX validation */
	u32 features;			/* DDVM_NET_F_* published, for TX validation */
	bool dead;			/* a ring is corrupt: no longer served */
	bool stopping;
	struct ddvm_net_stats st;

	/* RTNL only (attach, detach, notifier). */
	netdevice_tracker tracker;
	bool allmulti;			/* we raised allmulti */
	bool ipv6_off;			/* we set disable_ipv6; old value below */
	int ipv6_old;
	u32 state, error;		/* published DDVM_QS_*, DDVM_QE_* */
	u16 link_up;
	u8 mac[6];
	char dev_name[16];
	unsigned long t_start;		/* jiffies when we started looking */
	bool nodev_logged, open_logged, target_logged;

	/* Work only. */
	struct ddvm_net_stats logged;	/* what the last counters line said */
	unsigned long t_logged;
};

/* Per channel. */
struct ddvm_net {
	struct ddvm_chan *c;
	struct workqueue_struct *wq;
	struct notifier_block nb;
	bool nb_registered;
	unsigned int nq;
	struct ddvm_netq *q[DDVM_MAX_QUEUES];
};

/* net_queue.c */
void ddvm_netq_attach(struct ddvm_netq *q);	/* from the work; takes RTNL */
void ddvm_netq_ring_client(struct ddvm_netq *q);

/* net_io.c */
void ddvm_netq_work(struct work_struct *w);
void ddvm_netq_bell(struct tasklet_struct *t);
rx_handler_result_t ddvm_net_rx_handler(struct sk_buff **pskb);
/* A frame for the client (skb->data at its MAC header); consumes skb. */
void ddvm_netq_deliver(struct ddvm_netq *q, struct sk_buff *skb);

/* net_port.c (RTNL) */
int ddvm_netq_port_take(struct ddvm_netq *q, struct net_device *nic, const struct ddvm_target *t);
void ddvm_netq_port_free(struct ddvm_netq *q);
void ddvm_netq_ipv6_off(struct net_device *dev);

#endif /* DDVM_GUEST_NET_H */
