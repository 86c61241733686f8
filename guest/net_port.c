// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Net translation: a NIC with several clients (the host's TAP, client VMs),
 * switched by this Linux's own bridge.
 *
 * The supervisor names a bridge in each such queue's target
 * (" br=ddvmbrN mac=..."); the driver VM's init created it at boot
 * (ddvm.bridges= on the kernel command line), with IPv6 off.  The first of
 * the NIC's queues to find the NIC makes it a port of that bridge; every
 * queue gets a netdev of its own (ddvmpN), also a port: what the bridge
 * sends to it goes to the client's posted RX buffers (net_io.c, as from the
 * rx_handler of a NIC with one client), and the client's NET_TX frames are
 * received on it (netif_rx), to be switched by MAC: to the NIC's wire or to
 * another client.  The bridge learns each client's MAC from its frames.
 * A port's own address is random, never the client's: a bridge keeps the
 * addresses of its ports for itself and would never forward to them.
 *
 * The port advertises SG, checksum and TSO offload, so GRO's super-frames
 * and other clients' GSO frames reach the client whole (or are segmented in
 * net_io.c for a buffer that cannot take them).  This Linux never talks on
 * the wire: IPv6 is off on the NIC, the bridge and every port, and none has
 * an IPv4 address.
 */
#include <linux/etherdevice.h>
#include <linux/if_bridge.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/addrconf.h>

#include "net.h"

struct port_priv {
	struct ddvm_netq *q;
};

static netdev_tx_t port_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct port_priv *p = netdev_priv(dev);

	ddvm_netq_deliver(p->q, skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops port_ops = {
	.ndo_start_xmit		= port_xmit,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

#define PORT_FEATURES	(NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_HIGHDMA | NETIF_F_TSO | \
			 NETIF_F_TSO6 | NETIF_F_TSO_ECN | NETIF_F_LLTX)

static void port_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &port_ops;
	dev->needs_free_netdev = true;		/* freed once unregistered */
	dev->priv_flags |= IFF_NO_QUEUE;	/* the client's ring is the queue */
	dev->hw_features = PORT_FEATURES & ~NETIF_F_LLTX;
	dev->features = PORT_FEATURES;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;
}

/* This Linux keeps quiet on the wire: no IPv6 (addresses, DAD, RS) on dev. */
void ddvm_netq_ipv6_off(struct net_device *dev)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct inet6_dev *idev = __in6_dev_get(dev);

	if (idev)
		WRITE_ONCE(idev->cnf.disable_ipv6, 1);
#endif
}

/* Make dev (down, ours) a port of br and open it.  RTNL.  0 or -errno. */
static int port_join(struct net_device *br, struct net_device *dev)
{
	int rc;

	ddvm_netq_ipv6_off(dev);
	rc = br->netdev_ops->ndo_add_slave(br, dev, NULL);
	if (rc)
		return rc;
	if (dev->flags & IFF_UP)
		return 0;
	rc = dev_open(dev, NULL);
	if (rc)
		br->netdev_ops->ndo_del_slave(br, dev);
	return rc;
}

/* The queue's own port netdev, created and joined to br.  RTNL. */
static int port_create(struct ddvm_netq *q, struct net_device *br, struct net_device *nic)
{
	struct net_device *port;
	int rc;

	port = alloc_netdev(sizeof(struct port_priv), "ddvmp%d", NET_NAME_ENUM, port_setup);
	if (!port)
		return -ENOMEM;
	((struct port_priv *)netdev_priv(port))->q = q;
	eth_hw_addr_random(port);
	port->mtu = nic->mtu;
	rc = register_netdevice(port);
	if (rc) {
		free_netdev(port);
		return rc;
	}
	ddvm_netq_ipv6_off(port);
	rc = br->netdev_ops->ndo_add_slave(br, port, NULL);
	if (!rc)
		rc = dev_open(port, NULL);
	if (rc) {
		unregister_netdevice(port);	/* leaves the bridge; freed later */
		return rc;
	}
	spin_lock_bh(&q->lock);
	q->port = port;
	spin_unlock_bh(&q->lock);
	return 0;
}

/*
 * Attach q to nic through bridge t->br (RTNL): the NIC into the bridge if
 * no queue put it there yet, the queue's port created if it has none.
 * On success q->dev is nic (held).  0 or -errno (-ENODEV: no such bridge).
 */
int ddvm_netq_port_take(struct ddvm_netq *q, struct net_device *nic, const struct ddvm_target *t)
{
	struct net_device *br = __dev_get_by_name(dev_net(nic), t->br);
	struct net_device *upper;
	int rc;

	if (!br || !netif_is_bridge_master(br))
		return -ENODEV;
	upper = netdev_master_upper_dev_get(nic);
	if (upper != br) {
		if (upper || netdev_is_rx_handler_busy(nic))
			return -EBUSY;	/* a bond, macvlan ... or another bridge owns it */
		ddvm_netq_ipv6_off(nic);
		if (!(nic->flags & IFF_UP)) {
			rc = dev_open(nic, NULL);
			if (rc)
				return rc;
		}
		rc = br->netdev_ops->ndo_add_slave(br, nic, NULL);	/* disables LRO */
		if (rc)
			return rc;
	}
	if (!(br->flags & IFF_UP)) {
		ddvm_netq_ipv6_off(br);
		rc = dev_open(br, NULL);
		if (rc)
			return rc;
	}
	if (q->port && netdev_master_upper_dev_get(q->port) != br) {
		rc = port_join(br, q->port);	/* someone took it out: back in */
		if (rc)
			return rc;
	}
	if (!q->port) {
		rc = port_create(q, br, nic);
		if (rc)
			return rc;
	}
	q->port_t = *t;
	netdev_hold(nic, &q->tracker, GFP_KERNEL);
	spin_lock_bh(&q->lock);
	q->dev = nic;
	spin_unlock_bh(&q->lock);
	return 0;
}

/* Remove the queue's port (RTNL): no xmit reaches q once RTNL is dropped. */
void ddvm_netq_port_free(struct ddvm_netq *q)
{
	struct net_device *port = q->port;

	if (!port)
		return;
	spin_lock_bh(&q->lock);
	q->port = NULL;
	spin_unlock_bh(&q->lock);
	unregister_netdevice(port);
}
