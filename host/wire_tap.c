// SPDX-License-Identifier: MIT
/* The host TAP behind an emulated NIC's wire.  See wire_tap.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "wire_tap.h"

int wire_tap_open(const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, e;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "tap name '%s' is not a valid interface name", ifname);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open /dev/net/tun for tap '%s': %s", ifname, strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* What QEMU's own tap backend asks for: it probes the header on the fd. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "cannot attach to tap '%s': %s%s", ifname, strerror(e),
			 e == EBUSY ? " (another program has it open)" :
			 e == EINVAL ? " (an interface of that name exists and is not a tap)" : "");
		return -e;
	}
	return fd;
}

int wire_tap_persist(const char *ifname, int on, char *err, size_t errlen)
{
	int fd = wire_tap_open(ifname, err, errlen), e = 0;

	if (fd < 0)
		return fd;
	if (ioctl(fd, TUNSETPERSIST, on ? 1L : 0L) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot make tap '%s' %spersistent: %s", ifname, on ? "" : "non-",
			 strerror(e));
	}
	close(fd);
	return -e;
}
