// SPDX-License-Identifier: MIT
/* Host bridges.  See ddvm/posix/bridge.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ddvm/posix/bridge.h"

static int name_ok(const char *name)
{
	return name[0] && strlen(name) < IFNAMSIZ && !strchr(name, '/');
}

/* ioctl on a throwaway socket.  0 or -errno. */
static int sock_ioctl(unsigned long req, void *arg)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, arg) < 0)
		ret = -errno;
	close(s);
	return ret;
}

static int set_up(const char *ifname, int up)
{
	struct ifreq ifr;
	int r;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	r = sock_ioctl(SIOCGIFFLAGS, &ifr);
	if (r < 0)
		return r;
	if (!!(ifr.ifr_flags & IFF_UP) == !!up)
		return 0;
	ifr.ifr_flags = (short)(up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP);
	return sock_ioctl(SIOCSIFFLAGS, &ifr);
}

/* IPv6 off on ifname before it comes up: no link-local address, DAD or RS. */
static void ipv6_off(const char *ifname)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* no IPv6 in this kernel */
	if (write(fd, "1\n", 2) != 2) {
		/* nothing else to do: the bridge works, it may only talk IPv6 */
	}
	close(fd);
}

int ddvm_bridge_make(const char *name, char *err, size_t errlen)
{
	char buf[IFNAMSIZ];
	int r;

	if (!name_ok(name)) {
		snprintf(err, errlen, "bridge name '%s' is not a valid interface name", name);
		return -EINVAL;
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, name, strlen(name));
	r = sock_ioctl(SIOCBRADDBR, buf);
	if (r < 0 && r != -EEXIST) {
		snprintf(err, errlen, "cannot make bridge %s: %s", name, strerror(-r));
		return r;
	}
	if (r == -EEXIST) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", name);
		if (access(path, F_OK) < 0) {
			snprintf(err, errlen, "cannot make bridge %s: an interface of that name "
				 "exists and is not a bridge", name);
			return -EEXIST;
		}
	}
	ipv6_off(name);
	r = set_up(name, 1);
	if (r < 0) {
		snprintf(err, errlen, "cannot bring bridge %s up: %s", name, strerror(-r));
		return r;
	}
	return 0;
}

int ddvm_bridge_remove(const char *name)
{
	char buf[IFNAMSIZ];
	int r;

	if (!name_ok(name))
		return -EINVAL;
	r = set_up(name, 0);
	if (r < 0)
		return r == -ENODEV ? -ENXIO : r;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, name, strlen(name));
	return sock_ioctl(SIOCBRDELBR, buf);
}

/* Is ifname a port of br already?  /sys/class/net/IF/master -> ../BR */
static int is_port_of(const char *ifname, const char *br)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", ifname);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	base = strrchr(link, '/');
	return !strcmp(base ? base + 1 : link, br);
}

int ddvm_bridge_add_port(const char *br, const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr;
	int r;

	if (!name_ok(br) || !name_ok(ifname)) {
		snprintf(err, errlen, "bad interface name '%s' or bridge name '%s'", ifname, br);
		return -EINVAL;
	}
	if (!is_port_of(ifname, br)) {
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, br, strlen(br));
		ifr.ifr_ifindex = (int)if_nametoindex(ifname);
		if (!ifr.ifr_ifindex) {
			snprintf(err, errlen, "cannot add %s to bridge %s: no such interface", ifname,
				 br);
			return -ENODEV;
		}
		ipv6_off(ifname);
		r = sock_ioctl(SIOCBRADDIF, &ifr);
		if (r < 0) {
			snprintf(err, errlen, "cannot add %s to bridge %s: %s%s", ifname, br,
				 strerror(-r), r == -EBUSY ? " (it is a port of another bridge)" : "");
			return r;
		}
	}
	r = set_up(ifname, 1);
	if (r < 0) {
		snprintf(err, errlen, "cannot bring %s up: %s", ifname, strerror(-r));
		return r;
	}
	return 0;
}
