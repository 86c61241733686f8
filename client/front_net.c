// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A ddvm net queue as a netdev, ddvmnetN, on libddvm's net client
 * (include/ddvm/net_client.h): the driver VM's NIC in this VM.
 *
 * The netdev appears once the queue is first READY, with the MAC and MTU
 * the driver VM published (the MTU is also the largest this side may set)
 * and the offloads its queue takes: checksum (NETIF_F_HW_CSUM, with SG),
 * TSO / TSO6 / TSO_ECN, and receive checksums (NETIF_F_RXCSUM) if it
 * delivers offload frames; the same mapping as ddvm-tap
 * (frontends/tap/), in kernel terms.  Later changes (a restarted driver VM
 * with another NIC) are followed under RTNL (fn_follow_work).
 *
 * TX: an skb is copied into a TX chunk (skb_copy_bits, frags included)
 * with its offload metadata as a virtio_net_hdr (virtio_net_hdr_from_skb,
 * Linux's own mapping; the slot's is proto/net_offload.c).  ndo_features_check
 * masks per skb what the queue does not take now, so the stack segments or
 * checksums those itself.  The queue stops while every TX chunk is in
 * flight and wakes on a completion; a driver VM that completes nothing for
 * FN_STALL_TICKS ticks gets drop mode instead (frames are dropped and
 * counted until a completion comes), so TX never waits forever.
 *
 * RX: NAPI.  The response doorbell's interrupt schedules it; its poll runs
 * libddvm's poll, whose rx callback copies each frame out of the region
 * into an skb (small ones linear, large GSO ones into pages), turns the
 * metadata back into GSO / CHECKSUM_PARTIAL / CHECKSUM_UNNECESSARY with
 * virtio_net_hdr_to_skb (which, with SKB_GSO_DODGY, makes the stack check
 * the headers again: the driver VM is not trusted), and queues it; the
 * frames go up (napi_gro_receive) after the lock is dropped, at most
 * budget per poll.
 *
 * The driver VM: libddvm follows its generation, queue state and link on
 * every poll; a timer runs libddvm's tick once a second (through NAPI while
 * the netdev is up) and watches the header's heartbeat.  The carrier is on
 * while the queue is served, the NIC's link is up and the heartbeat moves;
 * a restart (a new generation) always shows as a carrier flap, even one
 * so quick that no poll saw the queue unserved.  libddvm posts the RX
 * buffers again for the successor and forgets the TX frames the dead
 * instance held (dropped; TCP retransmits).
 *
 * Locking: every call into libddvm, and the fields marked (L), hold
 * fn->lock (a BH lock: NAPI, the timer and xmit run in softirq context or
 * with BH off; nothing takes it from a hard interrupt).  The TX queue is
 * stopped and woken under it too, so a wake never races a stop.  rxq is
 * NAPI's alone.
 *
 * Counters: ndo_get_stats64 (ip -s link), and libddvm's own in
 * /sys/class/net/ddvmnetN/ddvm/.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/virtio_net.h>
#include <linux/workqueue.h>

#include "ddvm/net_client.h"
#include "front.h"

#define FN_READY_POLL_MS	100	/* look for a READY queue this often */
#define FN_WAIT_LOG_S		30	/* while waiting, say so this often */
#define FN_TICK_MS		1000	/* libddvm's tick, heartbeat and TX stall checks */
#define FN_STALL_TICKS		2	/* stopped this long without a TX completion: drop mode */
#define FN_HB_PERIODS		3	/* heartbeat unchanged this many periods: driver VM away */
#define FN_HB_MIN_MS		3000	/* ... and at least this long */
#define FN_RX_COPY		2048	/* frames up to this go into one linear skb */
#define FN_RX_HEAD		256	/* of larger ones, this much; the rest in pages */
#define FN_RX_BACKLOG		1024	/* frames waiting for NAPI to take them, at most */

/* The offloads this netdev manages (the rest are the stack's own). */
#define FN_OFFLOADS	(NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_TSO | NETIF_F_TSO6 | \
			 NETIF_F_TSO_ECN | NETIF_F_RXCSUM)

struct front_net {
	struct front_chan *ch;
	struct net_device *ndev;	/* its private area is this struct */
	u32 qi;

	spinlock_t lock;
	struct ddvm_netc c;		/* (L) */
	void *mem;			/* libddvm's per-chunk tables */
	bool up;			/* (L) ndo_open .. ndo_stop: frames go up through NAPI */
	bool tick_due;			/* (L) NAPI's next poll is libddvm's tick */
	bool drop_mode;			/* (L) TX stalled: drop instead of stopping */
	u32 tx_features;		/* DDVM_NET_F_* in use (read unlocked per skb) */

	/* what the driver VM published and the netdev shows (L) */
	u8 pub_mac[ETH_ALEN];
	u32 pub_mtu, pub_offered;
	u32 rx_use;			/* DDVM_NET_F_RX_OFFLOAD, or 0 with RXCSUM off */
	bool carrier;			/* as last set */
	u32 gen;			/* the generation the carrier last followed */
	u32 hb_gen;			/* heartbeat: generation, value, when it last moved */
	u64 hb;
	unsigned long hb_at;
	bool hb_stale;
	bool bad_major;			/* READY, speaking another protocol major */
	u64 tx_done;			/* TX completions as of the last tick */
	unsigned int stall_ticks;

	/* our own drops (L) */
	u64 rx_nomem, rx_bad_frame, rx_backlog_full, rx_down, tx_bad_skb;

	struct sk_buff_head rxq;	/* NAPI's */
	struct napi_struct napi;
	struct timer_list timer;
	struct delayed_work ready_work;
	struct work_struct follow_work;
	u8 shown_mac[ETH_ALEN];		/* follow_work's (RTNL): what the netdev was given */
	u32 shown_mtu, shown_offered;

	bool registered, stopping;
	unsigned long wait_start, wait_logged;	/* jiffies; wait_logged 0: not yet */
	struct front_seen seen;
};

static unsigned long fn_tick_jiffies(void)
{
	return msecs_to_jiffies(FN_TICK_MS);
}

static struct device *fn_dev(const struct front_net *fn)
{
	return &fn->ch->pdev->dev;
}

/* DDVM_NET_F_* the queue offers -> the NETIF_F_* this netdev may have. */
static netdev_features_t fn_netif_features(u32 offered)
{
	netdev_features_t f = 0;

	if (offered & DDVM_NET_F_CSUM) {
		/* Frames are copied anyway: scatter-gather costs nothing. */
		f |= NETIF_F_SG | NETIF_F_HW_CSUM;
		if (offered & DDVM_NET_F_TSO4)
			f |= NETIF_F_TSO;
		if (offered & DDVM_NET_F_TSO6)
			f |= NETIF_F_TSO6;
		if (offered & DDVM_NET_F_TSO_ECN)
			f |= NETIF_F_TSO_ECN;
	}
	if (offered & DDVM_NET_F_RX_OFFLOAD)
		f |= NETIF_F_RXCSUM;
	return f;
}

/* --- carrier, heartbeat, TX stalls: after every poll (L) ---------------------------------- */

static void fn_carrier(struct front_net *fn, bool on, const char *why)
{
	struct net_device *ndev = fn->ndev;

	if (on == fn->carrier)
		return;
	fn->carrier = on;
	if (on)
		netif_carrier_on(ndev);
	else
		netif_carrier_off(ndev);
	/* Rate-limited: a hostile driver VM could flip its link as fast as it likes. */
	if (!net_ratelimit())
		return;
	if (on)
		netdev_info(ndev, "carrier on: driver VM generation %u serves %s (mtu %u, offloads %#x)\n",
			    fn->gen, fn->c.st.dev_name[0] ? fn->c.st.dev_name : "?", fn->c.mtu,
			    fn->c.features);
	else
		netdev_info(ndev, "carrier off: %s\n", why);
}

/* Tick: has the driver VM's heartbeat moved lately?  Does it speak our major? */
static void fn_watch_heartbeat(struct front_net *fn)
{
	u32 period = fn->ch->lay.heartbeat_period_ms;
	struct ddvm_guest_view g;
	unsigned long limit;

	/* The guest's own clamp of the period (protocol.md 4.4). */
	period = period ? clamp(period, 50u, 60000u) : 1000u;
	limit = msecs_to_jiffies(max(FN_HB_PERIODS * period, (u32)FN_HB_MIN_MS));
	ddvm_guest_read(fn->ch->region, &g);
	fn->bad_major = g.state == DDVM_GUEST_READY && g.guest_version >> 16 != DDVM_PROTO_MAJOR;
	if (g.generation != fn->hb_gen || g.heartbeat != fn->hb || g.state != DDVM_GUEST_READY) {
		fn->hb_gen = g.generation;
		fn->hb = g.heartbeat;
		fn->hb_at = jiffies;
		fn->hb_stale = false;
	} else if (!fn->hb_stale && time_after(jiffies, fn->hb_at + limit)) {
		fn->hb_stale = true;
	}
}

/*
 * TX: wake the queue when a chunk is free (or frames can only be dropped:
 * the queue is not served); drop mode after FN_STALL_TICKS ticks stopped
 * without a completion.
 */
static void fn_follow_tx(struct front_net *fn, const struct ddvm_netc_stats *s, bool tick)
{
	struct net_device *ndev = fn->ndev;
	u64 done = s->tx_frames + s->tx_guest_inval + s->tx_guest_ioerr + s->tx_restart_dropped;
	bool stopped = netif_queue_stopped(ndev);

	if (done != fn->tx_done) {
		fn->tx_done = done;
		fn->stall_ticks = 0;
		if (fn->drop_mode)
			netdev_info(ndev, "TX completions again: leaving drop mode\n");
		fn->drop_mode = false;
	} else if (tick) {
		if (!stopped || !s->serving)
			fn->stall_ticks = 0;
		else if (++fn->stall_ticks >= FN_STALL_TICKS && !fn->drop_mode) {
			netdev_warn(ndev, "no TX completion for %u s with every TX buffer in flight: dropping frames until one comes\n",
				    fn->stall_ticks * FN_TICK_MS / 1000);
			fn->drop_mode = true;
		}
	}
	if (fn->up && stopped &&
	    (ddvm_netc_tx_room(&fn->c) > 0 || !s->serving || s->broken || fn->drop_mode))
		netif_wake_queue(ndev);
}

/* After a poll (L): carrier, TX, and whether the netdev must follow new parameters. */
static void fn_follow(struct front_net *fn, bool tick)
{
	struct ddvm_netc_stats s;
	const char *why = NULL;
	char restart[96];
	u32 offered;

	if (!fn->registered)
		return;
	ddvm_netc_stats(&fn->c, &s);
	if (tick)
		fn_watch_heartbeat(fn);
	WRITE_ONCE(fn->tx_features, s.features);
	if (s.generation != fn->gen) {
		/* Always a flap, even if no poll saw the queue unserved. */
		snprintf(restart, sizeof(restart), "the driver VM restarted (generation %u -> %u)",
			 fn->gen, s.generation);
		fn_carrier(fn, false, restart);
		fn->gen = s.generation;
	}
	if (s.broken)
		why = "the driver VM broke the rings (waiting for its successor)";
	else if (!s.serving)
		why = "the driver VM does not serve the queue (restarting?)";
	else if (fn->bad_major)
		why = "the driver VM speaks another protocol major";
	else if (fn->hb_stale)
		why = "the driver VM's heartbeat stopped";
	else if (!s.link_up)
		why = "the NIC's link is down in the driver VM";
	fn_carrier(fn, !why, why);
	fn_follow_tx(fn, &s, tick);
	if (!s.serving)
		return;
	offered = ddvm_netc_offered(&fn->c);
	if (s.mtu != fn->pub_mtu || offered != fn->pub_offered ||
	    !ether_addr_equal(fn->c.st.mac, fn->pub_mac)) {
		fn->pub_mtu = s.mtu;
		fn->pub_offered = offered;
		ether_addr_copy(fn->pub_mac, fn->c.st.mac);
		if (!fn->stopping)
			schedule_work(&fn->follow_work);
	}
}

/* --- RX ----------------------------------------------------------------------------------- */

/* A copy of the len-byte frame at src (shared memory: read once, here). */
static struct sk_buff *fn_rx_skb(struct front_net *fn, const u8 *src, u32 len)
{
	u32 head = len <= FN_RX_COPY ? len : FN_RX_HEAD, off, n;
	struct sk_buff *skb;

	skb = napi_alloc_skb(&fn->napi, head);
	if (!skb)
		return NULL;
	skb_put_data(skb, src, head);
	for (off = head; off < len; off += n) {
		int i = skb_shinfo(skb)->nr_frags;
		struct page *p;

		n = min_t(u32, len - off, PAGE_SIZE);
		/* 64 KiB + 18 in 4 KiB pages after the head: 16 frags, within MAX_SKB_FRAGS. */
		p = i < MAX_SKB_FRAGS ? alloc_page(GFP_ATOMIC | __GFP_NOWARN) : NULL;
		if (!p) {
			kfree_skb(skb);
			return NULL;
		}
		memcpy(page_address(p), src + off, n);
		skb_add_rx_frag(skb, i, p, 0, n, PAGE_SIZE);
	}
	return skb;
}

/*
 * libddvm's rx callback (L; in NAPI's poll while up, in the timer's tick
 * while down).  The frame is in the region, valid during the call only;
 * h is checked metadata (libddvm: ddvm_net_resp_check).
 */
static int fn_rx(void *arg, const volatile void *frame, u32 len, const struct ddvm_net_hdr *h)
{
	struct front_net *fn = arg;
	struct virtio_net_hdr vh;
	struct sk_buff *skb;

	BUILD_BUG_ON(sizeof(vh) != sizeof(*h));
	BUILD_BUG_ON(offsetof(struct virtio_net_hdr, csum_offset) !=
		     offsetof(struct ddvm_net_hdr, csum_offset));
	if (!fn->up) {
		fn->rx_down++;		/* nobody takes frames on a down netdev */
		return -1;
	}
	if (skb_queue_len(&fn->rxq) >= FN_RX_BACKLOG) {
		fn->rx_backlog_full++;
		return -1;
	}
	skb = fn_rx_skb(fn, (const u8 *)(uintptr_t)frame, len);
	if (!skb) {
		fn->rx_nomem++;
		return -1;
	}
	memcpy(&vh, h, sizeof(vh));
	/* GSO / CHECKSUM_PARTIAL / CHECKSUM_UNNECESSARY as tun does, headers re-checked (DODGY). */
	if (virtio_net_hdr_to_skb(skb, &vh, true)) {
		fn->rx_bad_frame++;
		if (fn->rx_bad_frame <= 10 || fn->rx_bad_frame % 1000 == 0)
			netdev_warn(fn->ndev, "dropped a received frame whose offload metadata does not fit it (len %u flags %#x gso %#x csum %u/%u gso_size %u), %llu so far\n",
				    len, vh.flags, vh.gso_type, __virtio16_to_cpu(true, vh.csum_start),
				    __virtio16_to_cpu(true, vh.csum_offset),
				    __virtio16_to_cpu(true, vh.gso_size), fn->rx_bad_frame);
		kfree_skb(skb);
		return -1;
	}
	if ((vh.flags & VIRTIO_NET_HDR_F_DATA_VALID) && (fn->ndev->features & NETIF_F_RXCSUM))
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb->protocol = eth_type_trans(skb, fn->ndev);
	__skb_queue_tail(&fn->rxq, skb);
	return 0;
}

/* Up to budget queued frames to the stack (NAPI; no lock). */
static int fn_deliver(struct front_net *fn, int budget)
{
	struct sk_buff *skb;
	int n = 0;

	while (n < budget && (skb = __skb_dequeue(&fn->rxq))) {
		napi_gro_receive(&fn->napi, skb);
		n++;
	}
	return n;
}

static int fn_napi_poll(struct napi_struct *napi, int budget)
{
	struct front_net *fn = container_of(napi, struct front_net, napi);
	int done = fn_deliver(fn, budget);
	bool tick;

	if (done < budget) {
		spin_lock(&fn->lock);
		tick = fn->tick_due;
		fn->tick_due = false;
		if (tick)
			ddvm_netc_tick(&fn->c);
		else
			ddvm_netc_poll(&fn->c);
		fn_follow(fn, tick);
		spin_unlock(&fn->lock);
		done += fn_deliver(fn, budget - done);
	}
	if (done < budget)
		napi_complete_done(napi, done);
	return done;
}

void front_net_doorbell(struct front_net *fn)
{
	if (READ_ONCE(fn->up))
		napi_schedule(&fn->napi);
	else if (!READ_ONCE(fn->registered) && !READ_ONCE(fn->stopping))
		mod_delayed_work(system_wq, &fn->ready_work, 0);	/* READY now? */
	/* Registered and down: the timer follows the queue. */
}

static void fn_timer(struct timer_list *t)
{
	struct front_net *fn = from_timer(fn, t, timer);
	bool up;

	spin_lock(&fn->lock);
	up = fn->up;
	if (up) {
		fn->tick_due = true;	/* in NAPI's poll: frames go up from there */
	} else {
		ddvm_netc_tick(&fn->c);
		fn_follow(fn, true);
	}
	spin_unlock(&fn->lock);
	if (up)
		napi_schedule(&fn->napi);
	if (!READ_ONCE(fn->stopping))
		mod_timer(&fn->timer, jiffies + fn_tick_jiffies());
}

/* --- TX ----------------------------------------------------------------------------------- */

/* Per skb: what the queue takes now; the stack segments / checksums the rest. */
static netdev_features_t fn_features_check(struct sk_buff *skb, struct net_device *dev,
					   netdev_features_t features)
{
	struct front_net *fn = netdev_priv(dev);
	u32 f = READ_ONCE(fn->tx_features);

	if (!(f & DDVM_NET_F_CSUM))
		features &= ~(NETIF_F_CSUM_MASK | NETIF_F_GSO_MASK);
	if (!(f & DDVM_NET_F_TSO4))
		features &= ~NETIF_F_TSO;
	if (!(f & DDVM_NET_F_TSO6))
		features &= ~NETIF_F_TSO6;
	if (!(f & DDVM_NET_F_TSO_ECN))
		features &= ~NETIF_F_TSO_ECN;
	if (skb_is_gso(skb) && skb->len > DDVM_NET_GSO_MAX_FRAME)
		features &= ~NETIF_F_GSO_MASK;
	return features;
}

static netdev_tx_t fn_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct front_net *fn = netdev_priv(dev);
	struct virtio_net_hdr vh;
	struct ddvm_net_hdr h;
	u32 len = skb->len;
	bool stop;
	int k;

	if (virtio_net_hdr_from_skb(skb, &vh, true, false, 0)) {
		spin_lock(&fn->lock);
		fn->tx_bad_skb++;	/* a GSO type with no virtio_net_hdr equivalent */
		spin_unlock(&fn->lock);
		goto drop;
	}
	memcpy(&h, &vh, sizeof(h));
	spin_lock(&fn->lock);
	k = ddvm_netc_tx_claim(&fn->c);
	if (k < 0) {
		/* -DDVM_ENODEV: not served (restart, link flap); -DDVM_EAGAIN: all in flight. */
		ddvm_netc_tx_dropped(&fn->c, k);
		if (k == -DDVM_EAGAIN && !fn->drop_mode)
			netif_stop_queue(dev);
		ddvm_netc_flush(&fn->c);	/* what xmit_more held back */
		spin_unlock(&fn->lock);
		goto drop;
	}
	spin_unlock(&fn->lock);
	/*
	 * The chunk is ours until submit.  A frame longer than a chunk is not
	 * copied: submit refuses it by its length (counted as oversize).
	 */
	if (len <= fn->c.chunk)
		skb_copy_bits(skb, 0, (void *)(uintptr_t)ddvm_netc_tx_buf(&fn->c, (u32)k), len);
	spin_lock(&fn->lock);
	ddvm_netc_tx_submit(&fn->c, (u32)k, len, &h);	/* refusals are counted there */
	stop = !fn->drop_mode && ddvm_netc_tx_room(&fn->c) == 0;
	if (stop)
		netif_stop_queue(dev);
	if (stop || !netdev_xmit_more())
		ddvm_netc_flush(&fn->c);
	spin_unlock(&fn->lock);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;

drop:
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* --- netdev ops --------------------------------------------------------------------------- */

static int fn_open(struct net_device *dev)
{
	struct front_net *fn = netdev_priv(dev);

	napi_enable(&fn->napi);
	spin_lock_bh(&fn->lock);
	WRITE_ONCE(fn->up, true);	/* the doorbell reads it unlocked */
	fn->tick_due = true;
	netif_start_queue(dev);
	spin_unlock_bh(&fn->lock);
	napi_schedule(&fn->napi);
	return 0;
}

static int fn_stop(struct net_device *dev)
{
	struct front_net *fn = netdev_priv(dev);

	spin_lock_bh(&fn->lock);
	WRITE_ONCE(fn->up, false);
	netif_stop_queue(dev);
	spin_unlock_bh(&fn->lock);
	napi_disable(&fn->napi);
	__skb_queue_purge(&fn->rxq);
	return 0;
}

static netdev_features_t fn_fix_features(struct net_device *dev, netdev_features_t features)
{
	struct front_net *fn = netdev_priv(dev);
	u32 offered;

	spin_lock_bh(&fn->lock);
	offered = fn->pub_offered;
	spin_unlock_bh(&fn->lock);
	return features & (fn_netif_features(offered) | ~FN_OFFLOADS);
}

/* RXCSUM off: RX buffers are posted without OFFLOAD, the driver VM sends wire frames. */
static int fn_set_features(struct net_device *dev, netdev_features_t features)
{
	struct front_net *fn = netdev_priv(dev);

	spin_lock_bh(&fn->lock);
	fn->rx_use = features & NETIF_F_RXCSUM ? DDVM_NET_F_RX_OFFLOAD : 0;
	ddvm_netc_use(&fn->c, (DDVM_NETC_F_ALL & ~DDVM_NET_F_RX_OFFLOAD) | fn->rx_use);
	spin_unlock_bh(&fn->lock);
	return 0;
}

static void fn_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *st)
{
	struct front_net *fn = netdev_priv(dev);
	struct ddvm_netc_stats s;
	u64 rx_bad = 0, rx_nomem, rx_bad_frame, rx_backlog, rx_down, tx_bad_skb;
	unsigned int i;

	spin_lock_bh(&fn->lock);
	ddvm_netc_stats(&fn->c, &s);
	rx_nomem = fn->rx_nomem;
	rx_bad_frame = fn->rx_bad_frame;
	rx_backlog = fn->rx_backlog_full;
	rx_down = fn->rx_down;
	tx_bad_skb = fn->tx_bad_skb;
	spin_unlock_bh(&fn->lock);
	for (i = 0; i < DDVM_NET_RESP_NVERDICTS; i++)
		rx_bad += s.rx_bad[i];
	/* A GSO frame counts once, as virtio_net counts it. */
	st->tx_packets = s.tx_frames;
	st->tx_bytes = s.tx_bytes;
	st->tx_errors = s.tx_guest_inval + s.tx_guest_ioerr;
	st->tx_dropped = s.tx_runt + s.tx_oversize + s.tx_bad_meta + s.tx_ring_full +
			 s.tx_not_ready + s.tx_restart_dropped + tx_bad_skb;
	st->tx_carrier_errors = s.tx_guest_ioerr;
	st->rx_packets = s.rx_frames;
	st->rx_bytes = s.rx_bytes;
	st->rx_errors = rx_bad + s.rx_guest_error + rx_bad_frame;
	st->rx_frame_errors = rx_bad + rx_bad_frame;
	st->rx_dropped = rx_nomem + rx_backlog + rx_down;
}

static const struct net_device_ops fn_ops = {
	.ndo_open = fn_open,
	.ndo_stop = fn_stop,
	.ndo_start_xmit = fn_xmit,
	.ndo_features_check = fn_features_check,
	.ndo_fix_features = fn_fix_features,
	.ndo_set_features = fn_set_features,
	.ndo_get_stats64 = fn_get_stats64,
	.ndo_validate_addr = eth_validate_addr,
};

static void fn_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	struct front_net *fn = netdev_priv(dev);

	strscpy(info->driver, DDVM_FRONT_NAME, sizeof(info->driver));
	strscpy(info->bus_info, pci_name(fn->ch->pdev), sizeof(info->bus_info));
}

static const struct ethtool_ops fn_ethtool_ops = {
	.get_drvinfo = fn_get_drvinfo,
	.get_link = ethtool_op_get_link,
};

/* --- counters: /sys/class/net/ddvmnetN/ddvm/ ---------------------------------------------- */

static void fn_stats(struct device *dev, struct ddvm_netc_stats *s, bool *hb_stale, bool *drop)
{
	struct front_net *fn = netdev_priv(to_net_dev(dev));

	spin_lock_bh(&fn->lock);
	ddvm_netc_stats(&fn->c, s);
	*hb_stale = fn->hb_stale;
	*drop = fn->drop_mode;
	spin_unlock_bh(&fn->lock);
}

#define FN_STAT(name, expr)							\
static ssize_t fn_show_##name(struct device *dev, struct device_attribute *attr,	\
			      char *buf)					\
{										\
	struct ddvm_netc_stats s;						\
	bool hb_stale, drop_mode;						\
										\
	fn_stats(dev, &s, &hb_stale, &drop_mode);				\
	(void)hb_stale;								\
	(void)drop_mode;							\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(expr));		\
}										\
static struct device_attribute fn_attr_##name = __ATTR(name, 0444, fn_show_##name, NULL)

static u64 fn_sum(const u64 *v, unsigned int n)
{
	u64 t = 0;

	while (n--)
		t += v[n];
	return t;
}

FN_STAT(generation, s.generation);	/* the driver VM's, as last seen */
FN_STAT(restarts, s.restarts);		/* driver-VM generations taken over */
FN_STAT(serving, s.serving);		/* 1: a READY driver VM serves the queue */
FN_STAT(link_up, s.link_up);		/* the NIC's link in the driver VM */
FN_STAT(broken, s.broken);		/* 1: the rings are impossible until a new driver VM */
FN_STAT(heartbeat_stale, hb_stale);	/* 1: the driver VM's heartbeat stopped */
FN_STAT(drop_mode, drop_mode);		/* 1: TX stalled, frames dropped */
FN_STAT(features, s.features);		/* DDVM_NET_F_* in use */
FN_STAT(rx_posted, s.rx_posted);
FN_STAT(tx_in_flight, s.tx_in_flight);
FN_STAT(tx_frames, s.tx_frames);
FN_STAT(tx_gso, s.tx_gso);		/* sent as GSO frames */
FN_STAT(tx_csum, s.tx_csum);		/* sent checksum-partial */
FN_STAT(tx_restart_dropped, s.tx_restart_dropped);
FN_STAT(tx_not_ready, s.tx_not_ready);
FN_STAT(tx_ring_full, s.tx_ring_full);
FN_STAT(tx_refused, s.tx_runt + s.tx_oversize + s.tx_bad_meta);
FN_STAT(tx_guest_errors, s.tx_guest_inval + s.tx_guest_ioerr);
FN_STAT(rx_frames, s.rx_frames);
FN_STAT(rx_gso, s.rx_gso);		/* received as GSO frames */
FN_STAT(rx_csum, s.rx_csum);		/* received checksum-partial */
FN_STAT(rx_csum_valid, s.rx_csum_valid);	/* received with checksums verified */
FN_STAT(rx_stale, s.rx_stale);		/* answers to requests forgotten at a restart */
FN_STAT(rx_bad, fn_sum(s.rx_bad, DDVM_NET_RESP_NVERDICTS));	/* bad responses dropped */
FN_STAT(rx_guest_error, s.rx_guest_error);
FN_STAT(rx_deliver_error, s.rx_deliver_error);	/* frames this side dropped */
FN_STAT(doorbells_out, s.doorbells_out);

static struct attribute *fn_attrs[] = {
	&fn_attr_generation.attr, &fn_attr_restarts.attr, &fn_attr_serving.attr,
	&fn_attr_link_up.attr, &fn_attr_broken.attr, &fn_attr_heartbeat_stale.attr,
	&fn_attr_drop_mode.attr, &fn_attr_features.attr, &fn_attr_rx_posted.attr,
	&fn_attr_tx_in_flight.attr, &fn_attr_tx_frames.attr, &fn_attr_tx_gso.attr,
	&fn_attr_tx_csum.attr, &fn_attr_tx_restart_dropped.attr, &fn_attr_tx_not_ready.attr,
	&fn_attr_tx_ring_full.attr, &fn_attr_tx_refused.attr, &fn_attr_tx_guest_errors.attr,
	&fn_attr_rx_frames.attr, &fn_attr_rx_gso.attr, &fn_attr_rx_csum.attr,
	&fn_attr_rx_csum_valid.attr, &fn_attr_rx_stale.attr, &fn_attr_rx_bad.attr,
	&fn_attr_rx_guest_error.attr, &fn_attr_rx_deliver_error.attr, &fn_attr_doorbells_out.attr,
	NULL,
};

static const struct attribute_group fn_attr_group = {
	.name = "ddvm",
	.attrs = fn_attrs,
};

/* --- following the driver VM's parameters (RTNL) ------------------------------------------ */

static void fn_follow_work(struct work_struct *w)
{
	struct front_net *fn = container_of(w, struct front_net, follow_work);
	struct net_device *ndev = fn->ndev;
	u8 mac[ETH_ALEN];
	u32 mtu, offered;
	int rc;

	rtnl_lock();
	if (fn->stopping || !fn->registered)
		goto out;
	spin_lock_bh(&fn->lock);
	ether_addr_copy(mac, fn->pub_mac);
	mtu = fn->pub_mtu;
	offered = fn->pub_offered;
	spin_unlock_bh(&fn->lock);
	/* Said rate-limited: a hostile driver VM may change them as often as it likes. */
	if (!ether_addr_equal(mac, fn->shown_mac)) {
		if (net_ratelimit())
			netdev_info(ndev, "the driver VM's NIC has MAC %pM now (was %pM)\n", mac,
				    fn->shown_mac);
		ether_addr_copy(fn->shown_mac, mac);
		eth_hw_addr_set(ndev, mac);
		call_netdevice_notifiers(NETDEV_CHANGEADDR, ndev);
	}
	if (mtu != fn->shown_mtu) {
		/* The driver VM's MTU is the largest we may send; follow it. */
		if (net_ratelimit())
			netdev_info(ndev, "the driver VM's NIC has MTU %u now (was %u)\n", mtu,
				    fn->shown_mtu);
		fn->shown_mtu = mtu;
		ndev->max_mtu = mtu;
		rc = dev_set_mtu(ndev, mtu);
		if (rc)
			netdev_warn(ndev, "cannot set MTU %u: %d\n", mtu, rc);
	}
	if (offered != fn->shown_offered) {
		if (net_ratelimit())
			netdev_info(ndev, "the driver VM's queue takes offloads %#x now (was %#x)\n",
				    offered, fn->shown_offered);
		fn->shown_offered = offered;
		ndev->hw_features = fn_netif_features(offered);
		ndev->vlan_features = ndev->hw_features & ~NETIF_F_RXCSUM;
		/* Newly offered ones on; fix_features drops the rest. */
		ndev->wanted_features |= ndev->hw_features;
		netdev_update_features(ndev);
	}
out:
	rtnl_unlock();
}

/* --- waiting for the driver VM ------------------------------------------------------------ */

static void fn_log_wait(struct front_net *fn, const struct ddvm_guest_view *g)
{
	if (fn->wait_logged && !time_after(jiffies, fn->wait_logged + FN_WAIT_LOG_S * HZ))
		return;
	dev_info(fn_dev(fn), "%s: waiting for the driver VM to serve the NIC (driver VM %s, generation %u, %u s so far)\n",
		 fn->ch->name, ddvm_guest_state_str(g->state), g->generation,
		 jiffies_to_msecs(jiffies - fn->wait_start) / 1000);
	fn->wait_logged = jiffies ? jiffies : 1;
}

/* The queue is READY (c.st holds a checked MAC and MTU): register the netdev. */
static int fn_register(struct front_net *fn)
{
	struct net_device *ndev = fn->ndev;
	u32 offered;
	int rc;

	spin_lock_bh(&fn->lock);
	ether_addr_copy(fn->pub_mac, fn->c.st.mac);
	fn->pub_mtu = fn->c.mtu;
	fn->pub_offered = offered = ddvm_netc_offered(&fn->c);
	fn->gen = fn->c.gen;
	fn->tx_features = fn->c.features;
	spin_unlock_bh(&fn->lock);
	ether_addr_copy(fn->shown_mac, fn->pub_mac);
	fn->shown_mtu = fn->pub_mtu;
	fn->shown_offered = offered;
	eth_hw_addr_set(ndev, fn->pub_mac);
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = fn->pub_mtu;
	ndev->mtu = fn->pub_mtu;
	ndev->hw_features = fn_netif_features(offered);
	ndev->features = ndev->hw_features;
	ndev->vlan_features = ndev->hw_features & ~NETIF_F_RXCSUM;
	netif_carrier_off(ndev);	/* the first poll says whether the link is up */
	strscpy(ndev->name, fn->ch->name, IFNAMSIZ);
	rc = register_netdev(ndev);
	if (rc == -EEXIST) {		/* someone took our name: any free one */
		strscpy(ndev->name, "ddvmnet%d", IFNAMSIZ);
		rc = register_netdev(ndev);
	}
	if (rc)
		return rc;
	spin_lock_bh(&fn->lock);
	WRITE_ONCE(fn->registered, true);
	spin_unlock_bh(&fn->lock);
	mod_timer(&fn->timer, jiffies + 1);
	netdev_info(ndev, "%pM, mtu %u, %u buffers of %llu bytes, driver VM %s (generation %u) offloads %#x: %s%s%s%s%s\n",
		    fn->pub_mac, fn->pub_mtu, fn->c.nslots, fn->c.chunk,
		    fn->c.st.dev_name[0] ? fn->c.st.dev_name : "?", fn->c.gen, offered,
		    offered & DDVM_NET_F_CSUM ? "csum " : "", offered & DDVM_NET_F_TSO4 ? "tso4 " : "",
		    offered & DDVM_NET_F_TSO6 ? "tso6 " : "", offered & DDVM_NET_F_TSO_ECN ? "ecn " : "",
		    offered & DDVM_NET_F_RX_OFFLOAD ? "rx-offload" : "");
	return 0;
}

static void fn_ready_work(struct work_struct *w)
{
	struct front_net *fn = container_of(to_delayed_work(w), struct front_net, ready_work);
	struct ddvm_guest_view g;
	int r = -DDVM_EAGAIN;

	if (READ_ONCE(fn->stopping) || fn->registered)
		return;
	if (front_guest_usable(fn->ch, &fn->seen, &g)) {
		spin_lock_bh(&fn->lock);
		r = ddvm_netc_ready(&fn->c, fn->mem, ddvm_netc_mem_bytes(&fn->c), get_random_u32(),
				    fn_rx, fn);
		spin_unlock_bh(&fn->lock);
	}
	if (r == -DDVM_EAGAIN) {
		fn_log_wait(fn, &g);
		queue_delayed_work(system_wq, &fn->ready_work, msecs_to_jiffies(FN_READY_POLL_MS));
		return;
	}
	if (r == 0)
		r = fn_register(fn);
	if (r)
		dev_err(fn_dev(fn), "%s: cannot add the netdev: %d; giving up\n", fn->ch->name, r);
}

/* --- life cycle --------------------------------------------------------------------------- */

struct front_net *front_net_create(struct front_chan *ch, u32 qi)
{
	struct net_device *ndev;
	struct front_net *fn;
	int r;

	ndev = alloc_etherdev(sizeof(*fn));
	if (!ndev)
		return ERR_PTR(-ENOMEM);
	fn = netdev_priv(ndev);
	fn->ndev = ndev;
	fn->ch = ch;
	fn->qi = qi;
	spin_lock_init(&fn->lock);
	skb_queue_head_init(&fn->rxq);
	timer_setup(&fn->timer, fn_timer, 0);
	INIT_DELAYED_WORK(&fn->ready_work, fn_ready_work);
	INIT_WORK(&fn->follow_work, fn_follow_work);
	SET_NETDEV_DEV(ndev, &ch->pdev->dev);
	ndev->netdev_ops = &fn_ops;
	ndev->ethtool_ops = &fn_ethtool_ops;
	ndev->priv_flags |= IFF_DISABLE_NETPOLL;	/* xmit takes a BH lock */
	ndev->sysfs_groups[0] = &fn_attr_group;
	netif_napi_add(ndev, &fn->napi, fn_napi_poll);
	/* The layout validated at probe: never read back from shared memory. */
	r = ddvm_netc_open_layout(&fn->c, &ch->kt.t, &ch->lay, (int)qi, 0);
	if (r < 0)
		goto err;
	fn->rx_use = DDVM_NET_F_RX_OFFLOAD;
	ddvm_netc_use(&fn->c, DDVM_NETC_F_ALL);	/* libddvm keeps to what is offered */
	fn->mem = kvzalloc(ddvm_netc_mem_bytes(&fn->c), GFP_KERNEL);
	if (!fn->mem) {
		r = -ENOMEM;
		goto err;
	}
	fn->wait_start = jiffies;
	queue_delayed_work(system_wq, &fn->ready_work, 0);
	return fn;

err:
	netif_napi_del(&fn->napi);
	free_netdev(ndev);
	return ERR_PTR(r);
}

void front_net_stop(struct front_net *fn)
{
	WRITE_ONCE(fn->stopping, true);
	cancel_delayed_work_sync(&fn->ready_work);
	del_timer_sync(&fn->timer);
	if (fn->registered)
		unregister_netdev(fn->ndev);	/* closes it: NAPI off */
	cancel_work_sync(&fn->follow_work);
}

void front_net_free(struct front_net *fn)
{
	struct net_device *ndev = fn->ndev;

	/* A doorbell between stop and freeing the interrupts may have queued it again. */
	cancel_delayed_work_sync(&fn->ready_work);
	netif_napi_del(&fn->napi);
	kvfree(fn->mem);
	free_netdev(ndev);
}
