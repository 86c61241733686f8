// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Net translation: the life of a net queue.
 *
 * On probe each DDVM_QK_NET queue gets its rings bound (resuming from the
 * shared indices) and its state entry reset to ABSENT.  Its work then looks
 * for the target netdev on every run (doorbell or heartbeat tick) until it
 * is found: drivers probe asynchronously.  Attaching (under RTNL): IPv6 off
 * on the device (this Linux must not talk on the client's wire), open it,
 * allmulti, LRO off (GRO stays on: its frames go to the client with GSO
 * metadata, or are segmented again), our rx_handler; then the queue state
 * says READY with the MAC, MTU, link, name and the offloads the NIC takes.  A netdevice notifier keeps them current and detaches
 * when the netdev goes away (the work then looks for it again).
 */
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/addrconf.h>

#include "net.h"

#define WALK_MAX_DEPTH	8
#define NODEV_SECS	30	/* target not found after this: ERROR (still looking) */

void ddvm_netq_ring_client(struct ddvm_netq *q)
{
	/* The client names itself; a wrong id only misdirects a doorbell. */
	u32 peer = le32_to_cpu(READ_ONCE(q->req.sh->client_peer_id));

	ddvm_chan_ring_peer(q->c, (u16)peer, q->resp_vector);
}

/*
 * Publish the whole state entry (RTNL or probe/stop).  A reader never sees
 * READY next to parameters being rewritten: ABSENT first, the state last.
 */
static void netq_publish(struct ddvm_netq *q, u32 state, u32 error)
{
	struct ddvm_queue_state *s = ddvm_qstate_begin(q->c, q->qidx);
	bool ready = state == DDVM_QS_READY;
	unsigned int i;

	for (i = 0; i < sizeof(s->mac); i++)
		WRITE_ONCE(s->mac[i], ready ? q->mac[i] : 0);
	WRITE_ONCE(s->mtu, cpu_to_le32(ready ? q->mtu : 0));
	WRITE_ONCE(s->link_up, cpu_to_le16(ready ? q->link_up : 0));
	WRITE_ONCE(s->features, cpu_to_le32(ready ? q->features : 0));
	ddvm_qstate_end(q->c, s, state, error, q->dev_name);
	q->state = state;
	q->error = error;
	ddvm_netq_ring_client(q);
}

static void netq_set_state(struct ddvm_netq *q, u32 state, u32 error)
{
	if (q->state != state || q->error != error)
		netq_publish(q, state, error);
}

/*
 * The offloads a client may use on NET_TX: what the NIC does itself (the
 * stack would otherwise segment or checksum in software here, where every
 * instruction is emulated under TCG, instead of natively on the client's
 * side).  RX offload (GSO/CSUM frames into marked buffers) is always on.
 */
static u32 netq_features(const struct net_device *dev)
{
	netdev_features_t f = dev->features;
	u32 out = DDVM_NET_F_RX_OFFLOAD;

	if (f & (NETIF_F_HW_CSUM | NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM))
		out |= DDVM_NET_F_CSUM;
	if (!(out & DDVM_NET_F_CSUM) || !(f & NETIF_F_SG))
		return out;
	if (f & NETIF_F_TSO)
		out |= DDVM_NET_F_TSO4;
	if (f & NETIF_F_TSO6)
		out |= DDVM_NET_F_TSO6;
	if ((f & NETIF_F_TSO_ECN) && (out & (DDVM_NET_F_TSO4 | DDVM_NET_F_TSO6)))
		out |= DDVM_NET_F_TSO_ECN;
	return out;
}

/* Copy what the client sees from dev (RTNL).  True if anything changed. */
static bool netq_snapshot(struct ddvm_netq *q, struct net_device *dev)
{
	u16 link = netif_running(dev) && netif_carrier_ok(dev);
	u32 features = netq_features(dev);
	const u8 *mac = q->port ? q->port_t.mac : dev->dev_addr;	/* bridged: the client's own */
	char name[16] = { 0 };
	bool changed;

	strscpy(name, dev->name, sizeof(name));
	changed = link != q->link_up || q->mtu != dev->mtu || q->features != features ||
		  !ether_addr_equal(q->mac, mac) || memcmp(name, q->dev_name, sizeof(name));
	spin_lock_bh(&q->lock);
	q->mtu = dev->mtu;
	q->features = features;
	spin_unlock_bh(&q->lock);
	q->link_up = link;
	ether_addr_copy(q->mac, mac);
	memcpy(q->dev_name, name, sizeof(name));
	return changed;
}

struct find_ctx {
	u32 want, seen;
	unsigned int depth;
	struct net_device *dev;
};

static int find_walk(struct device *d, void *data)
{
	struct find_ctx *f = data;

	if (d->class && !strcmp(d->class->name, "net")) {
		if (f->seen++ == f->want) {
			f->dev = to_net_dev(d);
			return 1;	/* stop */
		}
	}
	if (f->depth < WALK_MAX_DEPTH) {
		f->depth++;
		device_for_each_child(d, f, find_walk);
		f->depth--;
	}
	return f->dev != NULL;
}

/* The Nth netdev under the target's PCI function, now (RTNL), or NULL. */
static struct net_device *netq_find(const struct ddvm_target *t)
{
	struct find_ctx f = { .want = t->n };
	struct pci_dev *pdev;

	pdev = pci_get_domain_bus_and_slot(t->domain, t->bus, t->devfn);
	if (!pdev)
		return NULL;
	device_for_each_child(&pdev->dev, &f, find_walk);
	pci_dev_put(pdev);
	if (f.dev && f.dev->reg_state != NETREG_REGISTERED)
		return NULL;
	return f.dev;
}

/* This Linux keeps quiet on the client's wire: no IPv6 autoconf (RTNL). */
static void netq_ipv6_off(struct ddvm_netq *q, struct net_device *dev)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct inet6_dev *idev = __in6_dev_get(dev);

	if (idev && !(dev->flags & IFF_UP)) {
		q->ipv6_old = idev->cnf.disable_ipv6;
		WRITE_ONCE(idev->cnf.disable_ipv6, 1);
		q->ipv6_off = true;
	}
#endif
}

static void netq_ipv6_restore(struct ddvm_netq *q, struct net_device *dev)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct inet6_dev *idev = __in6_dev_get(dev);

	if (q->ipv6_off && idev)
		WRITE_ONCE(idev->cnf.disable_ipv6, q->ipv6_old);
#endif
	q->ipv6_off = false;
}

/* Open dev and take its frames (RTNL).  0 or negative errno. */
static int netq_take(struct ddvm_netq *q, struct net_device *dev)
{
	int rc;

	if (netdev_is_rx_handler_busy(dev))
		return -EBUSY;	/* a bridge, bond, macvlan ... owns it */
	netq_ipv6_off(q, dev);
	if (!(dev->flags & IFF_UP)) {
		rc = dev_open(dev, NULL);
		if (rc)
			goto err_ipv6;
	}
	rc = dev_set_allmulti(dev, 1);
	if (rc)
		goto err_ipv6;
	q->allmulti = true;
	/*
	 * GRO and GRO_HW (virtio-net's guest TSO: the host hands it 64 KiB
	 * TCP frames) stay on: their super-frames are exact GSO frames that
	 * the client gets with their metadata, or that net_io.c segments
	 * again.  LRO goes off, as on any forwarding device: its merges need
	 * not be reversible (the NIC may drop headers it merged away).
	 */
	dev_disable_lro(dev);
	rc = netdev_rx_handler_register(dev, ddvm_net_rx_handler, q);
	if (rc)
		goto err_allmulti;
	netdev_hold(dev, &q->tracker, GFP_KERNEL);
	spin_lock_bh(&q->lock);
	q->dev = dev;
	spin_unlock_bh(&q->lock);
	return 0;

err_allmulti:
	dev_set_allmulti(dev, -1);
	q->allmulti = false;
err_ipv6:
	netq_ipv6_restore(q, dev);
	return rc;
}

/* Give the netdev back (RTNL).  RX buffers stay posted for the next one. */
static void netq_detach(struct ddvm_netq *q)
{
	struct net_device *dev = q->dev;

	if (!dev)
		return;
	if (q->port) {		/* bridged: the NIC stays in the bridge, the port too */
		spin_lock_bh(&q->lock);
		q->dev = NULL;
		spin_unlock_bh(&q->lock);
		netdev_put(dev, &q->tracker);
		return;
	}
	netdev_rx_handler_unregister(dev);	/* waits for running handlers */
	spin_lock_bh(&q->lock);
	q->dev = NULL;
	spin_unlock_bh(&q->lock);
	if (q->allmulti)
		dev_set_allmulti(dev, -1);
	q->allmulti = false;
	netq_ipv6_restore(q, dev);
	netdev_put(dev, &q->tracker);
}

/*
 * One attempt to find and attach the queue's netdev (from the queue's
 * work).  Leaves q->dev set and the state READY on success.
 */
void ddvm_netq_attach(struct ddvm_netq *q)
{
	struct device *cdev = &q->c->pdev->dev;
	struct ddvm_target t;
	struct net_device *dev;
	char target[65];
	int rc;

	rtnl_lock();
	if (q->dev || READ_ONCE(q->stopping))
		goto out;
	if (!q->chunk || q->chunk < ETH_HLEN) {
		if (q->state != DDVM_QS_ERROR)
			dev_err(cdev, "net queue %u: data area of %llu bytes is too small for %u slots\n",
				q->qidx, q->data_size, q->nslots);
		netq_set_state(q, DDVM_QS_ERROR, DDVM_QE_BUFFERS);
		goto out;
	}
	ddvm_queue_target_read(q->c->region, q->qidx, target);
	if (ddvm_target_parse(target, &t)) {
		if (!q->target_logged)
			dev_err(cdev, "net queue %u: malformed target '%s' (want \"pci=DDDD:BB:DD.F[ n=N]\")\n",
				q->qidx, target);
		q->target_logged = true;
		netq_set_state(q, DDVM_QS_ERROR, DDVM_QE_TARGET);
		goto out;
	}
	q->target_logged = false;
	dev = netq_find(&t);
	if (!dev) {
		if (!time_after(jiffies, q->t_start + NODEV_SECS * HZ)) {
			netq_set_state(q, DDVM_QS_ABSENT, DDVM_QE_NONE);
			goto out;
		}
		if (!q->nodev_logged)
			dev_err(cdev, "net queue %u: no netdev for target '%s' after %u s (still looking)\n",
				q->qidx, target, NODEV_SECS);
		q->nodev_logged = true;
		netq_set_state(q, DDVM_QS_ERROR, DDVM_QE_NODEV);
		goto out;
	}
	rc = t.br[0] ? ddvm_netq_port_take(q, dev, &t) : netq_take(q, dev);
	if (rc) {
		if (!q->open_logged && t.br[0] && rc == -ENODEV)
			dev_err(cdev, "net queue %u: no bridge %s for target '%s' (ddvm.bridges= names it on the kernel command line; will retry)\n",
				q->qidx, t.br, target);
		else if (!q->open_logged)
			dev_err(cdev, "net queue %u: cannot attach to %s for target '%s': %d (will retry)\n",
				q->qidx, dev->name, target, rc);
		q->open_logged = true;
		netq_set_state(q, DDVM_QS_ERROR, DDVM_QE_OPEN);
		goto out;
	}
	q->nodev_logged = q->open_logged = false;
	netq_snapshot(q, dev);
	netq_publish(q, DDVM_QS_READY, DDVM_QE_NONE);
	if (q->port)
		dev_info(cdev, "net queue %u: port %s of bridge %s, for %pM\n", q->qidx,
			 q->port->name, t.br, q->mac);
	dev_info(cdev, "net queue %u: serving %s (%pM, mtu %u, link %s, driver %s, offloads %#x)\n",
		 q->qidx, q->dev_name, q->mac, q->mtu, q->link_up ? "up" : "down",
		 dev->dev.parent && dev->dev.parent->driver ? dev->dev.parent->driver->name : "?",
		 q->features);
out:
	rtnl_unlock();
}

/* Netdev events (RTNL held): keep the published state current. */
static int net_notify(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct ddvm_net *net = container_of(nb, struct ddvm_net, nb);
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	unsigned int i;

	for (i = 0; i < net->nq; i++) {
		struct ddvm_netq *q = net->q[i];

		if (q->port == dev && event == NETDEV_UNREGISTER) {
			/* Someone deleted our port: make a new one. */
			dev_warn(&q->c->pdev->dev, "net queue %u: port %s deleted; making another\n",
				 q->qidx, dev->name);
			spin_lock_bh(&q->lock);
			q->port = NULL;
			spin_unlock_bh(&q->lock);
			netq_detach(q);
			netq_set_state(q, DDVM_QS_ABSENT, DDVM_QE_NONE);
			if (!READ_ONCE(q->stopping))
				queue_work(net->wq, &q->work);
			continue;
		}
		if (q->dev != dev)
			continue;
		switch (event) {
		case NETDEV_UP:
		case NETDEV_DOWN:
		case NETDEV_CHANGE:
		case NETDEV_CHANGEADDR:
		case NETDEV_CHANGEMTU:
		case NETDEV_CHANGENAME:
		case NETDEV_FEAT_CHANGE:
			if (!netq_snapshot(q, dev))
				break;
			netq_publish(q, DDVM_QS_READY, DDVM_QE_NONE);
			dev_info(&q->c->pdev->dev, "net queue %u: %s link %s, mtu %u, %pM, offloads %#x\n",
				 q->qidx, q->dev_name, q->link_up ? "up" : "down", q->mtu, q->mac,
				 q->features);
			break;
		case NETDEV_UNREGISTER:
			dev_warn(&q->c->pdev->dev, "net queue %u: %s is going away; looking for its successor\n",
				 q->qidx, dev->name);
			netq_detach(q);
			q->t_start = jiffies;
			netq_set_state(q, DDVM_QS_ABSENT, DDVM_QE_NONE);
			if (!READ_ONCE(q->stopping))
				queue_work(net->wq, &q->work);
			break;
		}
	}
	return NOTIFY_DONE;
}

static int netq_init(struct ddvm_chan *c, struct ddvm_net *net, unsigned int i,
		     struct ddvm_netq **out)
{
	const struct ddvm_queue_info *qi = &c->layout.q[i];
	struct ddvm_netq *q;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->rxb = kvcalloc(qi->nslots, sizeof(*q->rxb), GFP_KERNEL);
	q->pend = kvcalloc(qi->nslots, sizeof(*q->pend), GFP_KERNEL);
	if (!q->rxb || !q->pend)
		goto err;
	if (ddvm_ring_bind(&q->req, c->region, c->layout.region_size, qi->req_ring_off, qi->nslots) ||
	    ddvm_ring_bind(&q->resp, c->region, c->layout.region_size, qi->resp_ring_off, qi->nslots)) {
		dev_err(&c->pdev->dev, "net queue %u: cannot bind rings\n", i);
		goto err;
	}
	q->c = c;
	q->net = net;
	q->qidx = i;
	q->req_vector = qi->req_vector;
	q->resp_vector = qi->resp_vector;
	q->nslots = qi->nslots;
	q->data_off = qi->data_off;
	q->data_size = qi->data_size;
	q->chunk = ddvm_net_chunk(qi->data_size, qi->nslots);	/* the rule the checks use */
	spin_lock_init(&q->lock);
	INIT_WORK(&q->work, ddvm_netq_work);
	tasklet_setup(&q->bell, ddvm_netq_bell);
	q->t_start = q->t_logged = jiffies;
	/* Whatever a previous instance published is stale. */
	netq_publish(q, DDVM_QS_ABSENT, DDVM_QE_NONE);
	ddvm_qstats_write(c, i, &(struct ddvm_qcount){ 0 });
	/*
	 * A restarted driver VM continues where the indices are, and says
	 * where (resume_idx: the client forgets what the dead instance took,
	 * no more); indices a broken instance left impossible become an empty
	 * ring, so the client is served again.
	 */
	if (ddvm_cons_attach(&q->req, le32_to_cpu(READ_ONCE(c->hdr->generation))) |
	    ddvm_prod_attach(&q->resp))
		dev_warn(&c->pdev->dev, "net queue %u: a previous instance left impossible ring indices; starting from an empty ring\n",
			 i);
	*out = q;
	return 0;
err:
	kvfree(q->rxb);
	kvfree(q->pend);
	kfree(q);
	return -ENOMEM;
}

int ddvm_net_init(struct ddvm_chan *c)
{
	struct ddvm_net *net;
	unsigned int i;
	int rc;

	for (i = 0; i < c->layout.nqueues; i++)
		if (c->layout.q[i].kind == DDVM_QK_NET)
			break;
	if (i == c->layout.nqueues)
		return 0;	/* no net queue: nothing to set up */
	net = kzalloc(sizeof(*net), GFP_KERNEL);
	if (!net)
		return -ENOMEM;
	net->c = c;
	c->net = net;
	net->wq = alloc_workqueue("ddvm_net", WQ_HIGHPRI, 0);
	if (!net->wq)
		return -ENOMEM;	/* ddvm_net_free cleans up */
	for (i = 0; i < c->layout.nqueues; i++) {
		if (c->layout.q[i].kind != DDVM_QK_NET)
			continue;
		rc = netq_init(c, net, i, &net->q[net->nq]);
		if (rc)
			return rc;
		net->nq++;
	}
	net->nb.notifier_call = net_notify;
	rc = register_netdevice_notifier(&net->nb);
	if (rc)
		return rc;
	net->nb_registered = true;
	return 0;
}

unsigned int ddvm_net_count(struct ddvm_chan *c)
{
	return c->net ? c->net->nq : 0;
}

void ddvm_net_kick(struct ddvm_chan *c, int vector)
{
	struct ddvm_net *net = c->net;
	unsigned int i;

	if (!net || !net->wq)
		return;
	for (i = 0; i < net->nq; i++) {
		struct ddvm_netq *q = net->q[i];

		if ((vector < 0 || vector == q->req_vector) && !READ_ONCE(q->stopping))
			queue_work(net->wq, &q->work);
	}
}

/*
 * Stop serving: detach from every netdev (no rx_handler runs after this),
 * stop the works, say ABSENT.  Held RX buffers are not answered (the client
 * reposts on a generation change).  Idempotent.
 */
void ddvm_net_stop(struct ddvm_chan *c)
{
	struct ddvm_net *net = c->net;
	unsigned int i;

	if (!net)
		return;
	for (i = 0; i < net->nq; i++) {
		spin_lock_bh(&net->q[i]->lock);
		WRITE_ONCE(net->q[i]->stopping, true);
		spin_unlock_bh(&net->q[i]->lock);
	}
	if (net->nb_registered) {
		/* Replays DOWN/UNREGISTER for every netdev to us: detach first. */
		rtnl_lock();
		for (i = 0; i < net->nq; i++)
			netq_detach(net->q[i]);
		rtnl_unlock();
		unregister_netdevice_notifier(&net->nb);
		net->nb_registered = false;
	}
	if (net->wq) {
		for (i = 0; i < net->nq; i++)
			cancel_work_sync(&net->q[i]->work);
		destroy_workqueue(net->wq);
		net->wq = NULL;
	}
	rtnl_lock();
	for (i = 0; i < net->nq; i++) {
		netq_detach(net->q[i]);	/* an attach that raced the flag */
		ddvm_netq_port_free(net->q[i]);
		netq_set_state(net->q[i], DDVM_QS_ABSENT, DDVM_QE_NONE);
	}
	rtnl_unlock();	/* the ports are gone after this: no xmit reaches a queue */
	for (i = 0; i < net->nq; i++)
		tasklet_kill(&net->q[i]->bell);	/* no rx_handler left to schedule it */
}

void ddvm_net_free(struct ddvm_chan *c)
{
	struct ddvm_net *net = c->net;
	unsigned int i;

	if (!net)
		return;
	ddvm_net_stop(c);
	for (i = 0; i < net->nq; i++) {
		kvfree(net->q[i]->rxb);
		kvfree(net->q[i]->pend);
		kfree(net->q[i]);
	}
	kfree(net);
	c->net = NULL;
}
