// SPDX-License-Identifier: MIT
/* TAP device setup.  See tap_dev.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ddvm/proto.h"
#include "ddvm/posix/tap_dev.h"

/* An ioctl on a throwaway socket for the SIOCSIF* calls. */
static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) < 0)
		ret = -errno;
	close(s);
	return ret;
}

int tap_dev_set_mtu(struct tap_dev *t, uint32_t mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
	ifr.ifr_mtu = (int)mtu;
	return ifreq_ioctl(SIOCSIFMTU, &ifr);
}

static int set_mac(struct tap_dev *t, const uint8_t mac[6])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return ifreq_ioctl(SIOCSIFHWADDR, &ifr);
}

int tap_dev_carrier(struct tap_dev *t, int up)
{
	int on = up ? 1 : 0;

	return ioctl(t->fd, TUNSETCARRIER, &on) < 0 ? -errno : 0;
}

int tap_dev_set_offload(struct tap_dev *t, uint32_t f)
{
	unsigned int off = 0;

	if (f & DDVM_NET_F_CSUM) {
		off |= TUN_F_CSUM;
		if (f & DDVM_NET_F_TSO4)
			off |= TUN_F_TSO4;
		if (f & DDVM_NET_F_TSO6)
			off |= TUN_F_TSO6;
		if ((f & DDVM_NET_F_TSO_ECN) && (off & (TUN_F_TSO4 | TUN_F_TSO6)))
			off |= TUN_F_TSO_ECN;
	}
	return ioctl(t->fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

int tap_dev_open(struct tap_dev *t, const char *name, uint32_t mtu, const uint8_t mac[6],
		 int vnet, char *err, size_t errlen)
{
	return tap_dev_open_on(t, -1, name, mtu, mac, vnet, err, errlen);
}

int tap_dev_open_on(struct tap_dev *t, int tun, const char *name, uint32_t mtu,
		    const uint8_t mac[6], int vnet, char *err, size_t errlen)
{
	struct ifreq ifr;
	const char *what;
	int ret;

	t->fd = -1;
	t->name[0] = '\0';
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "TAP name '%s' is longer than %d characters", name, IFNAMSIZ - 1);
		if (tun >= 0)
			close(tun);
		return -EINVAL;
	}
	t->fd = tun >= 0 ? tun : open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tun >= 0 && (fcntl(t->fd, F_SETFD, FD_CLOEXEC) < 0 ||
			 fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK) < 0)) {
		ret = -errno;
		snprintf(err, errlen, "the /dev/net/tun we were handed (fd %d): %s", tun, strerror(errno));
		close(t->fd);
		t->fd = -1;
		return ret;
	}
	if (t->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create TAP '%s': %s%s", name, strerror(errno),
			 errno == EBUSY ? " (a device of that name is in use)" : "");
		goto fail;
	}
	memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
	t->name[IFNAMSIZ - 1] = '\0';
	if (vnet) {
		int sz = sizeof(struct virtio_net_hdr), le = 1;

		what = "set the vnet header size";
		if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0) {
			ret = -errno;
			goto fail_what;
		}
		/* Little-endian headers, as the slots (native on x86 anyway). */
		if (ioctl(t->fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL) {
			ret = -errno;
			what = "make vnet headers little-endian";
			goto fail_what;
		}
	}
	what = "disable offloads";
	if (ioctl(t->fd, TUNSETOFFLOAD, 0) < 0) {
		ret = -errno;
		goto fail_what;
	}
	what = "set carrier off";
	ret = tap_dev_carrier(t, 0);
	if (ret < 0)
		goto fail_what;
	what = "set the MTU";
	ret = tap_dev_set_mtu(t, mtu);
	if (ret < 0)
		goto fail_what;
	what = "set the MAC address";
	ret = set_mac(t, mac);
	if (ret < 0)
		goto fail_what;
	/*
	 * The TAP stays administratively down, like any new interface: the
	 * user (or a test, inside its own network namespace) configures and
	 * brings it up.  Bringing it up here would make the host's IPv6
	 * stack start soliciting routers into the driver VM's wire at once.
	 */
	return 0;
fail_what:
	snprintf(err, errlen, "TAP %s: cannot %s: %s", t->name, what, strerror(-ret));
fail:
	close(t->fd);
	t->fd = -1;
	return ret;
}

void tap_dev_close(struct tap_dev *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
