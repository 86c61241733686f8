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
 *
 * The work (doorbell on req_vector, heartbeat tick, or the rx_handler):
 * pops requests in batches, validates each private copy, files NET_RX
 * posts in the FIFO and transmits NET_TX frames (one skb each,
 * dev_queue_xmit) outside the lock, then answers the batch and publishes
 * once.  Invalid requests are answered INVAL and never executed.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/skbuff.h>
#include <net/checksum.h>

#include "ddvm/net_check.h"
#include "net.h"

#define NET_WORK_ROUNDS	8	/* batches per work run before yielding */

/* One request of the work's batch, until its response is pushed. */
struct net_item {
	struct ddvm_slot slot;		/* private copy */
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
static u32 netq_check(const struct ddvm_netq *q, const struct ddvm_slot *s)
{
	const struct ddvm_net_limits lim = {
		.data_off = q->data_off,
		.data_size = q->data_size,
		.chunk = q->chunk,
		.nslots = q->nslots,
		.mtu = q->mtu,
	};
	u64 buf_off;
	u32 len;

	return ddvm_net_req_check(s, &lim, &buf_off, &len);
}

static void rxb_add(struct ddvm_netq *q, const struct ddvm_slot *s)
{
	struct ddvm_net_rxbuf *b = &q->rxb[(q->rx_head + q->rx_n) & (q->nslots - 1)];

	b->id = le64_to_cpu(s->id);
	b->buf_off = le64_to_cpu(s->buf_off);
	b->cap = le32_to_cpu(s->len);
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
		if (le16_to_cpu(s.op) == DDVM_OP_NET_RX && netq_check(q, &s) == DDVM_S_OK) {
			rxb_add(q, &s);
		} else {
			pend_add(q, &s);	/* the work answers it */
			*kick = true;
		}
	}
}

/*
 * Copy the frame, Ethernet header first, a stripped VLAN tag reinserted.
 * A frame whose checksum the sender left to offload (CHECKSUM_PARTIAL, e.g.
 * virtio-net from a local host stack) gets it completed in the copy, as
 * skb_checksum_help would: the client sees what a wire would carry.
 */
static void netq_copy_frame(struct sk_buff *skb, u8 *dst, unsigned int hlen, unsigned int flen)
{
	const u8 *mac = skb_mac_header(skb);
	u8 *frame = dst;
	unsigned int start;

	if (skb_vlan_tag_present(skb)) {
		__be16 tag[2] = { skb->vlan_proto, htons(skb_vlan_tag_get(skb)) };

		memcpy(dst, mac, 2 * ETH_ALEN);
		memcpy(dst + 2 * ETH_ALEN, tag, VLAN_HLEN);
		memcpy(dst + 2 * ETH_ALEN + VLAN_HLEN, mac + 2 * ETH_ALEN, hlen - 2 * ETH_ALEN);
		dst += hlen + VLAN_HLEN;
	} else {
		memcpy(dst, mac, hlen);
		dst += hlen;
	}
	/* Cannot fail: offset 0 and skb->len bytes are inside the skb. */
	WARN_ON_ONCE(skb_copy_bits(skb, 0, dst, skb->len));
	if (skb->ip_summed != CHECKSUM_PARTIAL || skb_checksum_start_offset(skb) < 0)
		return;
	start = (dst - frame) + skb_checksum_start_offset(skb);
	if (start + skb->csum_offset + sizeof(__sum16) > flen)
		return;
	*(__sum16 *)(frame + start + skb->csum_offset) =
		csum_fold(csum_partial(frame + start, flen - start, 0)) ?: CSUM_MANGLED_0;
}

rx_handler_result_t ddvm_net_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct ddvm_netq *q = rcu_dereference(skb->dev->rx_handler_data);
	struct ddvm_net_rxbuf *b;
	struct ddvm_slot r;
	unsigned int hlen, flen;
	bool kick = false, wake = false, ok = false;
	int space;

	if (skb->pkt_type == PACKET_OTHERHOST || !skb_mac_header_was_set(skb))
		goto out;	/* not for the client's MAC (someone set promisc) */
	hlen = skb->data - skb_mac_header(skb);
	if (hlen < ETH_HLEN || hlen > skb_headroom(skb))
		goto out;
	flen = hlen + skb->len + (skb_vlan_tag_present(skb) ? VLAN_HLEN : 0);

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
	if (flen > b->cap) {
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
	netq_copy_frame(skb, (u8 *)q->c->region + b->buf_off, hlen, flen);
	memset(&r, 0, sizeof(r));
	r.id = cpu_to_le64(b->id);
	r.op = cpu_to_le16(DDVM_OP_NET_RX);
	r.status = cpu_to_le32(DDVM_S_OK);
	r.buf_off = cpu_to_le64(b->buf_off);
	r.len = cpu_to_le32(flen);
	ddvm_prod_push(&q->resp, &r);	/* space checked above */
	q->rx_head = (q->rx_head + 1) & (q->nslots - 1);
	q->rx_n--;
	q->st.rx_frames++;
	q->st.rx_bytes += flen;
	ok = true;
unlock:
	/* Both publishes must run; either may ask for the client's doorbell. */
	wake = ddvm_cons_publish(&q->req) > 0;
	wake |= ddvm_prod_publish(&q->resp) > 0;
	spin_unlock_bh(&q->lock);
	if (wake)
		ddvm_netq_ring_client(q);
	if (kick)
		queue_work(q->net->wq, &q->work);
out:
	if (ok)
		consume_skb(skb);
	else
		kfree_skb(skb);
	return RX_HANDLER_CONSUMED;
}

/* Transmit one validated NET_TX request.  Returns DDVM_S_*. */
static u32 netq_xmit(struct ddvm_netq *q, struct net_device *dev, const struct ddvm_slot *s)
{
	u32 len = le32_to_cpu(s->len);
	const u8 *src = (const u8 *)q->c->region + le64_to_cpu(s->buf_off);
	struct sk_buff *skb;
	__be16 proto;
	int rc;

	if (!dev || !netif_running(dev) || !netif_carrier_ok(dev)) {
		q->st.tx_link_down++;
		return DDVM_S_IOERR;
	}
	skb = netdev_alloc_skb(dev, len);
	if (!skb) {
		q->st.tx_xmit_error++;
		return DDVM_S_IOERR;
	}
	skb_put_data(skb, src, len);	/* the one read of the client's frame */
	skb_reset_mac_header(skb);
	proto = eth_hdr(skb)->h_proto;	/* from our copy */
	skb->protocol = eth_proto_is_802_3(proto) ? proto : htons(ETH_P_802_2);
	skb_set_network_header(skb, eth_type_vlan(proto) ? VLAN_ETH_HLEN : ETH_HLEN);
	skb->dev = dev;
	skb->ip_summed = CHECKSUM_NONE;	/* the client's frame is complete */
	rc = dev_queue_xmit(skb);	/* consumes the skb */
	if (net_xmit_eval(rc)) {
		q->st.tx_xmit_error++;
		return DDVM_S_IOERR;
	}
	q->st.tx_frames++;
	q->st.tx_bytes += len;
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
		status = netq_check(q, &s);
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
		 "net queue %u: rx %llu frames %llu bytes, tx %llu frames %llu bytes; drops: no_rx_buffer %llu rx_too_big %llu rx_resp_full %llu rx_bad_desc %llu tx_bad_desc %llu tx_link_down %llu tx_xmit_error %llu bad_op %llu\n",
		 q->qidx, s.rx_frames, s.rx_bytes, s.tx_frames, s.tx_bytes, s.no_rx_buffer,
		 s.rx_too_big, s.rx_resp_full, s.rx_bad_desc, s.tx_bad_desc, s.tx_link_down,
		 s.tx_xmit_error, s.bad_op);
}

/* One batch: collect, transmit outside the lock, answer.  True: go on. */
static bool netq_batch(struct ddvm_netq *q, struct net_item *it)
{
	struct net_device *dev;
	struct ddvm_slot r;
	unsigned int n, i;
	bool empty, full, wake;
	int rc;

	spin_lock_bh(&q->lock);
	n = netq_collect(q, it, &empty, &full);
	dev = q->dev;
	if (dev)
		dev_hold(dev);	/* the notifier may detach meanwhile */
	spin_unlock_bh(&q->lock);

	for (i = 0; i < n; i++)
		if (it[i].status == U32_MAX)
			it[i].status = netq_xmit(q, dev, &it[i].slot);
	if (dev)
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
	if (more && !READ_ONCE(q->stopping))
		queue_work(q->net->wq, &q->work);	/* yield, then go on */
}
