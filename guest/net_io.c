// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Net translation: the data path of a net queue (data path (a): one copy
 * between the region and an skb in each direction).
 *
 * RX (rx_handler, softirq): a frame arriving on the attached netdev is
 * copied, Ethernet header included (and a stripped VLAN tag put back),
 * into the oldest posted NET_RX buffer and answered with its length.  When
 * no buffer is known the handler pops requests itself: NET_RX posts are
 * used, anything else is queued for the work.  No buffer, no response
 * slot or a frame that does not fit: dropped and counted.  The skb is
 * always consumed: this Linux's own stack never sees the client's frames.
 * Offloads: a buffer posted with DDVM_F_NET_OFFLOAD gets GRO's (or the
 * NIC's) GSO frames whole, with virtio_net_hdr-like metadata, and partial
 * checksums left partial; any other buffer gets wire frames only (GSO
 * frames segmented here, checksums completed in the copy).
 *
 * The work (doorbell on req_vector, heartbeat tick, or the rx_handler):
 * pops requests in batches, validates each private copy, files NET_RX
 * posts in the FIFO and transmits NET_TX frames (one skb each, page frags
 * for big ones, the metadata applied by virtio_net_hdr_to_skb as tun does,
 * dev_queue_xmit) outside the lock, then answers the batch and publishes
 * once.  Invalid requests are answered INVAL and never executed.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/skbuff.h>
#include <linux/virtio_net.h>
#include <net/checksum.h>

#include "ddvm/net_offload.h"
#include "net.h"

#define NET_WORK_ROUNDS	8	/* batches per work run before yielding */
#define NET_TX_LINEAR	2048u	/* TX frames up to this size: one linear skb */
#define NET_TX_HEAD	128u	/* else: linear part when no checksum offset says more */
#define NET_TCP_HDR_MAX	60u	/* a TCP header with every option */

/* What the rx_handler did with a frame. */
enum { RX_DONE, RX_DROPPED, RX_SEGMENT };

/* One request of the work's batch, until its response is pushed. */
struct net_item {
	struct ddvm_slot slot;		/* private copy */
	struct ddvm_net_meta meta;	/* its validated offload metadata */
	u32 status;			/* DDVM_S_*, or U32_MAX: transmit it */
};

static void netq_corrupt(struct ddvm_netq *q, const char *ring)
{
	if (q->dead)
		return;
	q->dead = true;
	dev_err(&q->c->pdev->dev, "net queue %u: %s ring index is impossible: no longer serving this queue\n",
		q->qidx, ring);
}

/*
 * Validate a private request copy (lock held: reads q->mtu).  The rules
 * (op, flags, length, buffer inside one chunk) are shared with the host's
 * fuzzer: proto/net_check.c.  Returns DDVM_S_OK, _INVAL or _NOTSUPP.
 */
static u32 netq_check(const struct ddvm_netq *q, const struct ddvm_slot *s,
		      struct ddvm_net_meta *m)
{
	const struct ddvm_net_limits lim = {
		.data_off = q->data_off,
		.data_size = q->data_size,
		.chunk = q->chunk,
		.nslots = q->nslots,
		.mtu = q->mtu,
		.features = q->features,
	};
	u64 buf_off;
	u32 len;

	return ddvm_net_req_check(s, &lim, &buf_off, &len, m);
}

static void rxb_add(struct ddvm_netq *q, const struct ddvm_slot *s)
{
	struct ddvm_net_rxbuf *b = &q->rxb[(q->rx_head + q->rx_n) & (q->nslots - 1)];

	b->id = le64_to_cpu(s->id);
	b->buf_off = le64_to_cpu(s->buf_off);
	b->cap = le32_to_cpu(s->len);
	b->offload = !!(le16_to_cpu(s->flags) & DDVM_F_NET_OFFLOAD);
	q->rx_n++;
}

static void pend_add(struct ddvm_netq *q, const struct ddvm_slot *s)
{
	q->pend[(q->pend_head + q->pend_n) & (q->nslots - 1)] = *s;
	q->pend_n++;
}

/*
 * rx_handler, lock held: pop requests until a NET_RX post turns up.  Others
 * go to the pending queue for the work (*kick).  Stops when the pending
 * queue is full.  A corrupt ring marks the queue dead.
 */
static void netq_rx_refill(struct ddvm_netq *q, bool *kick)
{
	struct ddvm_net_meta m;
	struct ddvm_slot s;
	int rc;

	while (!q->rx_n && q->pend_n < q->nslots) {
		rc = ddvm_cons_pop(&q->req, &s);
		if (rc == DDVM_RING_EEMPTY)
			return;
		if (rc < 0) {
			netq_corrupt(q, "request");
			return;
		}
		if (le16_to_cpu(s.op) == DDVM_OP_NET_RX && netq_check(q, &s, &m) == DDVM_S_OK) {
			rxb_add(q, &s);
		} else {
			pend_add(q, &s);	/* the work answers it */
			*kick = true;
		}
	}
}

/*
 * Copy the frame: the bytes from the MAC header on (hlen of them before
 * skb->data, none for a segment made here), a stripped VLAN tag put back
 * after the addresses.  With csum, a checksum the sender left to offload
 * (CHECKSUM_PARTIAL) is completed in the copy, as skb_checksum_help would:
 * the client sees what a wire would carry.
 */
static void netq_copy_frame(struct sk_buff *skb, u8 *dst, unsigned int hlen, unsigned int flen,
			    bool csum)
{
	unsigned int vlan = skb_vlan_tag_present(skb) ? VLAN_HLEN : 0, start;

	memcpy(dst + vlan, skb_mac_header(skb), hlen);
	/* Cannot fail: offset 0 and skb->len bytes are inside the skb. */
	WARN_ON_ONCE(skb_copy_bits(skb, 0, dst + vlan + hlen, skb->len));
	if (vlan) {
		__be16 tag[2] = { skb->vlan_proto, htons(skb_vlan_tag_get(skb)) };

		memmove(dst, dst + VLAN_HLEN, 2 * ETH_ALEN);
		memcpy(dst + 2 * ETH_ALEN, tag, VLAN_HLEN);
	}
	if (!csum || skb->ip_summed != CHECKSUM_PARTIAL || skb_checksum_start_offset(skb) < 0)
		return;
	start = vlan + hlen + skb_checksum_start_offset(skb);
	if (start + skb->csum_offset + sizeof(__sum16) > flen)
		return;
	*(__sum16 *)(dst + start + skb->csum_offset) =
		csum_fold(csum_partial(dst + start, flen - start, 0)) ?: CSUM_MANGLED_0;
}

/*
 * The offload metadata of a frame as an offload buffer would get it (flags
 * and arg0, CPU order): the skb's fields as a virtio_net_hdr (as tun would
 * write them), mapped and checked by the code the client uses
 * (proto/net_offload.c).  Returns false if the frame cannot go out with
 * metadata (a GSO type the protocol lacks, a partial checksum out of
 * range): it is then segmented / its checksum completed instead.
 */
static bool netq_rx_meta(const struct ddvm_netq *q, struct sk_buff *skb, unsigned int off,
			 unsigned int flen, u16 *flags, u64 *arg0)
{
	struct skb_shared_info *sh = skb_shinfo(skb);
	struct ddvm_net_hdr h = { 0 };
	unsigned int cs = 0;
	int start;

	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		start = skb_checksum_start_offset(skb);
		if (start < 0 || off + start > U16_MAX || skb->csum_offset > U16_MAX)
			return false;
		cs = off + start;
		h.flags = DDVM_VNET_HDR_F_NEEDS_CSUM;
		h.csum_start = ddvm_cpu_to_le16(cs);
		h.csum_offset = ddvm_cpu_to_le16(skb->csum_offset);
	} else if (skb->ip_summed == CHECKSUM_UNNECESSARY) {
		h.flags = DDVM_VNET_HDR_F_DATA_VALID;
	}
	if (skb_is_gso(skb)) {
		unsigned int t = sh->gso_type;
		struct tcphdr _th;
		const struct tcphdr *th;

		if (t & ~(SKB_GSO_TCPV4 | SKB_GSO_TCPV6 | SKB_GSO_TCP_ECN | SKB_GSO_DODGY |
			  SKB_GSO_TCP_FIXEDID))
			return false;
		if (t & SKB_GSO_TCPV4)
			h.gso_type = DDVM_VNET_HDR_GSO_TCPV4;
		else if (t & SKB_GSO_TCPV6)
			h.gso_type = DDVM_VNET_HDR_GSO_TCPV6;
		else
			return false;
		if (t & SKB_GSO_TCP_ECN)
			h.gso_type |= DDVM_VNET_HDR_GSO_ECN;
		if (!(h.flags & DDVM_VNET_HDR_F_NEEDS_CSUM) || sh->gso_size > U16_MAX)
			return false;
		th = skb_header_pointer(skb, skb_checksum_start_offset(skb), sizeof(_th), &_th);
		if (!th || cs + th->doff * 4u > U16_MAX)
			return false;
		h.gso_size = ddvm_cpu_to_le16(sh->gso_size);
		h.hdr_len = ddvm_cpu_to_le16(cs + th->doff * 4);
	}
	return ddvm_net_hdr_to_slot(&h, flen, q->mtu, DDVM_NET_META_RX_ALL, DDVM_NET_META_RX,
				    flags, arg0) == DDVM_NET_META_OK;
}

/*
 * Deliver one frame (hlen bytes of MAC header before skb->data) into the
 * oldest posted buffer.  RX_SEGMENT: a GSO frame (may_gso) that this
 * buffer cannot take whole; the caller segments it.  The skb stays the
 * caller's.
 */
static int netq_rx_one(struct ddvm_netq *q, struct sk_buff *skb, unsigned int hlen, bool may_gso)
{
	unsigned int vlan = skb_vlan_tag_present(skb) ? VLAN_HLEN : 0;
	unsigned int flen = hlen + vlan + skb->len;
	struct ddvm_net_rxbuf *b;
	struct ddvm_slot r;
	bool kick = false, wake, meta_ok, gso = skb_is_gso(skb);
	int space, ret = RX_DROPPED;
	u16 flags = 0;
	u64 arg0 = 0;

	spin_lock_bh(&q->lock);
	if (q->dead || q->stopping)
		goto unlock;
	netq_rx_refill(q, &kick);
	if (q->dead)
		goto unlock;
	if (!q->rx_n) {
		q->st.no_rx_buffer++;
		goto unlock;
	}
	b = &q->rxb[q->rx_head];
	meta_ok = b->offload && netq_rx_meta(q, skb, hlen + vlan, flen, &flags, &arg0);
	if (gso && (!meta_ok || flen > b->cap)) {
		ret = may_gso ? RX_SEGMENT : RX_DROPPED;
		q->st.rx_seg_error += !may_gso;
		goto unlock;
	}
	if (flen > b->cap || (!gso && q->mtu && flen > q->mtu + DDVM_NET_TX_EXTRA)) {
		q->st.rx_too_big++;	/* the buffer stays posted */
		goto unlock;
	}
	space = ddvm_prod_space(&q->resp);
	if (space < 0) {
		netq_corrupt(q, "response");
		goto unlock;
	}
	if ((u32)space <= q->resp_reserved) {
		q->st.rx_resp_full++;
		goto unlock;
	}
	if (!meta_ok)
		flags = arg0 = 0;
	netq_copy_frame(skb, (u8 *)q->c->region + b->buf_off, hlen, flen,
			!(flags & DDVM_F_NET_CSUM));
	memset(&r, 0, sizeof(r));
	r.id = cpu_to_le64(b->id);
	r.op = cpu_to_le16(DDVM_OP_NET_RX);
	r.flags = cpu_to_le16(flags);
	r.status = cpu_to_le32(DDVM_S_OK);
	r.buf_off = cpu_to_le64(b->buf_off);
	r.len = cpu_to_le32(flen);
	r.arg0 = cpu_to_le64(arg0);
	ddvm_prod_push(&q->resp, &r);	/* space checked above */
	q->rx_head = (q->rx_head + 1) & (q->nslots - 1);
	q->rx_n--;
	q->st.rx_frames++;
	q->st.rx_bytes += flen;
	q->st.rx_gso += !!(flags & DDVM_F_NET_GSO_MASK);
	q->st.rx_csum += !!(flags & DDVM_F_NET_CSUM);
	q->st.rx_csum_valid += !!(flags & DDVM_F_NET_CSUM_VALID);
	ret = RX_DONE;
unlock:
	/* Both publishes must run; either may ask for the client's doorbell. */
	wake = ddvm_cons_publish(&q->req) > 0;
	wake |= ddvm_prod_publish(&q->resp) > 0;
	spin_unlock_bh(&q->lock);
	if (wake)
		tasklet_schedule(&q->bell);	/* after this NAPI round: one doorbell for many frames */
	if (kick)
		queue_work(q->net->wq, &q->work);
	return ret;
}

/*
 * The rx_handler's doorbell, deferred to a tasklet: it runs once the
 * NET_RX softirq has finished its round, so the client wakes once per
 * burst instead of once per frame (each doorbell is a host wakeup).
 */
void ddvm_netq_bell(struct tasklet_struct *t)
{
	struct ddvm_netq *q = from_tasklet(q, t, bell);

	ddvm_netq_ring_client(q);
}

/*
 * A GSO frame for a buffer that cannot take it: segment it here (software
 * GSO, checksums computed) and deliver each segment.  Consumes skb.
 */
static void netq_rx_segment(struct ddvm_netq *q, struct sk_buff *skb, unsigned int hlen)
{
	struct sk_buff *segs, *seg, *next;

	skb = skb_share_check(skb, GFP_ATOMIC);	/* a tap may hold it too */
	if (!skb) {
		q->st.rx_seg_error++;	/* racy but only a counter */
		return;
	}
	__skb_push(skb, hlen);		/* segments start at the MAC header */
	segs = __skb_gso_segment(skb, 0, false);
	if (IS_ERR_OR_NULL(segs)) {
		spin_lock_bh(&q->lock);
		q->st.rx_seg_error++;
		spin_unlock_bh(&q->lock);
		kfree_skb(skb);
		return;
	}
	spin_lock_bh(&q->lock);
	q->st.rx_segmented++;
	spin_unlock_bh(&q->lock);
	consume_skb(skb);
	skb_list_walk_safe(segs, seg, next) {
		skb_mark_not_on_list(seg);
		if (netq_rx_one(q, seg, seg->data - skb_mac_header(seg), false) == RX_DONE)
			consume_skb(seg);
		else
			kfree_skb(seg);
	}
}

void ddvm_netq_deliver(struct ddvm_netq *q, struct sk_buff *skb)
{
	int ret;

	skb_reset_mac_header(skb);
	ret = netq_rx_one(q, skb, 0, true);
	if (ret == RX_SEGMENT)
		netq_rx_segment(q, skb, 0);
	else if (ret == RX_DONE)
		consume_skb(skb);
	else
		kfree_skb(skb);
}

rx_handler_result_t ddvm_net_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct ddvm_netq *q = rcu_dereference(skb->dev->rx_handler_data);
	unsigned int hlen;
	int ret = RX_DROPPED;

	if (skb->pkt_type == PACKET_OTHERHOST || !skb_mac_header_was_set(skb))
		goto out;	/* not for the client's MAC (someone set promisc) */
	hlen = skb->data - skb_mac_header(skb);
	if (hlen < ETH_HLEN || hlen > skb_headroom(skb))
		goto out;
	ret = netq_rx_one(q, skb, hlen, true);
	if (ret == RX_SEGMENT) {
		netq_rx_segment(q, skb, hlen);
		return RX_HANDLER_CONSUMED;
	}
out:
	if (ret == RX_DONE)
		consume_skb(skb);
	else
		kfree_skb(skb);
	return RX_HANDLER_CONSUMED;
}

/*
 * An skb holding a copy of the client's frame at src, len bytes: one
 * linear buffer for a small frame, page frags behind a short linear head
 * for a big one (no 64 KiB kmalloc).  NULL if out of memory.
 */
static struct sk_buff *netq_tx_alloc(struct net_device *dev, const u8 *src, u32 len,
				     const struct ddvm_net_meta *m)
{
	u32 head = len, hr = LL_RESERVED_SPACE(dev);
	struct sk_buff *skb;
	int err;

	if (len <= NET_TX_LINEAR) {
		skb = netdev_alloc_skb(dev, len);
		if (skb)
			skb_put_data(skb, src, len);	/* the one read of the client's frame */
		return skb;
	}
	/* Headers (up to the end of a full TCP header) in the linear part. */
	head = (m->flags & DDVM_F_NET_CSUM) ? m->csum_start + NET_TCP_HDR_MAX : NET_TX_HEAD;
	head = min(max(head, NET_TX_HEAD), len);
	skb = alloc_skb_with_frags(hr + head, len - head, PAGE_ALLOC_COSTLY_ORDER, &err,
				   GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, hr);
	skb_put(skb, head);
	skb->data_len = len - head;
	skb->len = len;
	skb->dev = dev;
	/* Cannot fail: the skb holds exactly len bytes.  The one read of the frame. */
	WARN_ON_ONCE(skb_store_bits(skb, 0, src, len));
	return skb;
}

/*
 * Apply validated offload metadata to skb, as tun does: as a virtio_net_hdr
 * (proto/net_offload.c, the mapping the client uses), little-endian, the
 * layout of Linux's own.  0 or -EINVAL.
 */
static int netq_tx_meta(struct sk_buff *skb, const struct ddvm_net_meta *m)
{
	struct ddvm_net_hdr d;
	struct virtio_net_hdr h;

	BUILD_BUG_ON(sizeof(d) != sizeof(h));
	if (!(m->flags & (DDVM_F_NET_CSUM | DDVM_F_NET_GSO_MASK)))
		return 0;
	ddvm_net_slot_to_hdr(m, &d);
	h = (struct virtio_net_hdr){ .flags = d.flags, .gso_type = d.gso_type,
				     .hdr_len = d.hdr_len, .gso_size = d.gso_size,
				     .csum_start = d.csum_start, .csum_offset = d.csum_offset };
	/* The frame must be what its GSO type says (VLAN tags aside). */
	if (h.gso_type && !virtio_net_hdr_match_proto(vlan_get_protocol(skb), h.gso_type))
		return -EINVAL;
	return virtio_net_hdr_to_skb(skb, &h, true);
}

/*
 * Transmit one NET_TX request, validated (*m: its metadata): to the NIC
 * (dev), or, on a bridged NIC, received on the queue's port (port) for the
 * bridge to switch.  Returns DDVM_S_*.  Runs outside q->lock; only this
 * work writes the TX counters.
 */
static u32 netq_xmit(struct ddvm_netq *q, struct net_device *dev, struct net_device *port,
		     const struct ddvm_slot *s, const struct ddvm_net_meta *m)
{
	u32 len = le32_to_cpu(s->len);
	const u8 *src = (const u8 *)q->c->region + le64_to_cpu(s->buf_off);
	struct sk_buff *skb;
	__be16 proto;
	int rc;

	if (port)
		dev = port;	/* other clients stay reachable while the NIC's link is down */
	if (!dev || !netif_running(dev) || !netif_carrier_ok(dev)) {
		q->st.tx_link_down++;
		return DDVM_S_IOERR;
	}
	skb = netq_tx_alloc(dev, src, len, m);
	if (!skb) {
		q->st.tx_xmit_error++;
		return DDVM_S_IOERR;
	}
	skb_reset_mac_header(skb);
	proto = eth_hdr(skb)->h_proto;	/* from our copy */
	skb->protocol = eth_proto_is_802_3(proto) ? proto : htons(ETH_P_802_2);
	skb_set_network_header(skb, eth_type_vlan(proto) ? VLAN_ETH_HLEN : ETH_HLEN);
	skb->dev = dev;
	skb->ip_summed = CHECKSUM_NONE;	/* complete unless the metadata says partial */
	if (netq_tx_meta(skb, m)) {
		kfree_skb(skb);
		q->st.tx_bad_meta++;
		return DDVM_S_INVAL;
	}
	if (port) {
		skb->protocol = eth_type_trans(skb, port);
		rc = netif_rx(skb) == NET_RX_DROP ? NET_XMIT_DROP : NET_XMIT_SUCCESS;
	} else {
		rc = dev_queue_xmit(skb);	/* consumes the skb; segments / checksums if the NIC cannot */
	}
	if (net_xmit_eval(rc)) {
		q->st.tx_xmit_error++;
		return DDVM_S_IOERR;
	}
	q->st.tx_frames++;
	q->st.tx_bytes += len;
	q->st.tx_gso += !!m->gso_type;
	q->st.tx_csum += !!(m->flags & DDVM_F_NET_CSUM);
	return DDVM_S_OK;
}

/* Next request for the work: the rx_handler's leftovers first.  Lock held. */
static int netq_next(struct ddvm_netq *q, struct ddvm_slot *s)
{
	int rc;

	if (q->pend_n) {
		*s = q->pend[q->pend_head];
		q->pend_head = (q->pend_head + 1) & (q->nslots - 1);
		q->pend_n--;
		return 0;
	}
	rc = ddvm_cons_pop(&q->req, s);
	if (rc < 0 && rc != DDVM_RING_EEMPTY)
		netq_corrupt(q, "request");
	return rc;
}

/*
 * Take up to DDVM_NET_BATCH requests that need an answer (lock held).
 * NET_RX posts are filed and need none.  Returns how many items, and sets
 * *empty when the ring ran dry, *full when the response ring did.
 */
static unsigned int netq_collect(struct ddvm_netq *q, struct net_item *it, bool *empty,
				 bool *full)
{
	unsigned int n = 0;
	struct ddvm_slot s;
	int space;
	u32 status;
	u16 op;

	*empty = *full = false;
	space = ddvm_prod_space(&q->resp);
	if (space < 0) {
		netq_corrupt(q, "response");
		return 0;
	}
	space -= min_t(int, space, q->resp_reserved);
	while (n < DDVM_NET_BATCH && n < (unsigned int)space && !q->dead) {
		if (netq_next(q, &s)) {
			*empty = !q->dead;
			break;
		}
		op = le16_to_cpu(s.op);
		status = netq_check(q, &s, &it[n].meta);
		it[n].slot = s;
		if (op == DDVM_OP_NET_RX) {
			if (status == DDVM_S_OK && q->rx_n < q->nslots) {
				rxb_add(q, &s);
				continue;
			}
			q->st.rx_bad_desc++;
			it[n++].status = DDVM_S_INVAL;
		} else if (op == DDVM_OP_NET_TX) {
			if (status == DDVM_S_OK) {
				it[n++].status = U32_MAX;
			} else {
				q->st.tx_bad_desc++;
				it[n++].status = DDVM_S_INVAL;
			}
		} else {
			q->st.bad_op++;
			it[n++].status = DDVM_S_NOTSUPP;
		}
	}
	*full = !*empty && !q->dead && n < DDVM_NET_BATCH && n >= (unsigned int)space;
	q->resp_reserved += n;
	return n;
}

/* The counters people see in `ddvm status`, from ours (work; the lock for a consistent copy). */
static void netq_publish_count(struct ddvm_netq *q)
{
	struct ddvm_qcount n = { 0 };
	struct ddvm_net_stats s;

	spin_lock_bh(&q->lock);
	s = q->st;
	spin_unlock_bh(&q->lock);
	n.rd_ops = s.rx_frames;
	n.rd_bytes = s.rx_bytes;
	n.wr_ops = s.tx_frames;
	n.wr_bytes = s.tx_bytes;
	n.errors = s.no_rx_buffer + s.rx_too_big + s.rx_resp_full + s.rx_bad_desc +
		   s.rx_seg_error + s.tx_bad_desc + s.tx_bad_meta + s.tx_link_down +
		   s.tx_xmit_error + s.bad_op;
	ddvm_qstats_write(q->c, q->qidx, &n);
}

static void netq_log_stats(struct ddvm_netq *q)
{
	struct ddvm_net_stats s;

	if (!time_after(jiffies, q->t_logged + DDVM_NET_LOG_SECS * HZ))
		return;
	spin_lock_bh(&q->lock);
	s = q->st;
	spin_unlock_bh(&q->lock);
	if (!memcmp(&s, &q->logged, sizeof(s)))
		return;
	q->logged = s;
	q->t_logged = jiffies;
	dev_info(&q->c->pdev->dev,
		 "net queue %u: rx %llu frames %llu bytes (gso %llu csum %llu valid %llu segmented %llu), tx %llu frames %llu bytes (gso %llu csum %llu); drops: no_rx_buffer %llu rx_too_big %llu rx_resp_full %llu rx_bad_desc %llu rx_seg_error %llu tx_bad_desc %llu tx_bad_meta %llu tx_link_down %llu tx_xmit_error %llu bad_op %llu\n",
		 q->qidx, s.rx_frames, s.rx_bytes, s.rx_gso, s.rx_csum, s.rx_csum_valid,
		 s.rx_segmented, s.tx_frames, s.tx_bytes, s.tx_gso, s.tx_csum, s.no_rx_buffer,
		 s.rx_too_big, s.rx_resp_full, s.rx_bad_desc, s.rx_seg_error, s.tx_bad_desc,
		 s.tx_bad_meta, s.tx_link_down, s.tx_xmit_error, s.bad_op);
}

/* One batch: collect, transmit outside the lock, answer.  True: go on. */
static bool netq_batch(struct ddvm_netq *q, struct net_item *it)
{
	struct net_device *dev, *port;
	struct ddvm_slot r;
	unsigned int n, i;
	bool empty, full, wake;
	int rc;

	spin_lock_bh(&q->lock);
	n = netq_collect(q, it, &empty, &full);
	dev = q->dev;
	port = dev ? q->port : NULL;	/* a port serves once the NIC is found */
	dev_hold(dev);			/* the notifier may detach meanwhile */
	dev_hold(port);
	spin_unlock_bh(&q->lock);

	for (i = 0; i < n; i++)
		if (it[i].status == U32_MAX)
			it[i].status = netq_xmit(q, dev, port, &it[i].slot, &it[i].meta);
	dev_put(port);
	dev_put(dev);

	spin_lock_bh(&q->lock);
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.id = it[i].slot.id;
		r.op = it[i].slot.op;
		r.status = cpu_to_le32(it[i].status);
		r.buf_off = it[i].slot.buf_off;
		r.len = it[i].slot.len;
		if (ddvm_prod_push(&q->resp, &r) < 0) {
			netq_corrupt(q, "response");	/* reserved space vanished */
			break;
		}
	}
	q->resp_reserved -= n;
	wake = ddvm_cons_publish(&q->req) > 0;
	wake |= ddvm_prod_publish(&q->resp) > 0;
	rc = 0;
	if (empty && !q->pend_n) {
		/* Ask for a doorbell, then look once more (lost-wakeup race). */
		rc = ddvm_cons_want_data(&q->req);
		if (rc < 0)
			netq_corrupt(q, "request");
	} else if (full) {
		/* The client is behind on responses: wait for its doorbell. */
		rc = ddvm_prod_want_space(&q->resp);
		if (rc < 0)
			netq_corrupt(q, "response");
		else
			rc = rc > (int)q->resp_reserved;
	}
	spin_unlock_bh(&q->lock);
	if (wake)
		ddvm_netq_ring_client(q);
	if (q->dead)
		return false;
	if (empty || full)
		return rc > 0;
	return true;
}

void ddvm_netq_work(struct work_struct *w)
{
	struct ddvm_netq *q = container_of(w, struct ddvm_netq, work);
	struct net_item *it;
	unsigned int round;
	bool more = false;

	if (READ_ONCE(q->stopping))
		return;
	if (!READ_ONCE(q->dev))
		ddvm_netq_attach(q);
	netq_log_stats(q);
	if (q->dead)
		return;
	it = kmalloc_array(DDVM_NET_BATCH, sizeof(*it), GFP_KERNEL);
	if (!it)
		return;	/* the next tick retries */
	for (round = 0; round < NET_WORK_ROUNDS && !READ_ONCE(q->stopping); round++) {
		more = netq_batch(q, it);
		if (!more)
			break;
	}
	kfree(it);
	netq_publish_count(q);
	if (more && !READ_ONCE(q->stopping))
		queue_work(q->net->wq, &q->work);	/* yield, then go on */
}
