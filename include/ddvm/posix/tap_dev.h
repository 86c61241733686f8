/* SPDX-License-Identifier: MIT */
/* The host-side TAP device of ddvm-tap (/dev/net/tun, IFF_TAP | IFF_NO_PI). */
#ifndef DDVM_TAP_DEV_H
#define DDVM_TAP_DEV_H

#include <net/if.h>
#include <stdint.h>

struct tap_dev {
	int fd;				/* nonblocking; -1 when closed */
	char name[IFNAMSIZ];		/* the name the kernel gave it */
};

/*
 * Create TAP name (kernel picks one if it ends in %d), no offloads (so no
 * GSO frames yet), with MTU mtu and MAC mac, carrier off, interface down.
 * With vnet, every frame read or written is preceded by a struct
 * virtio_net_hdr (10 bytes, little-endian): offloads can then be turned on
 * with tap_dev_set_offload.  Returns 0 or -errno; err gets a one-line reason.
 */
int tap_dev_open(struct tap_dev *t, const char *name, uint32_t mtu, const uint8_t mac[6],
		 int vnet, char *err, size_t errlen);
/* The same on tun, an open /dev/net/tun (ours from now on, even on failure): -1 opens one. */
int tap_dev_open_on(struct tap_dev *t, int tun, const char *name, uint32_t mtu,
		    const uint8_t mac[6], int vnet, char *err, size_t errlen);

/*
 * Let the host stack hand us checksum-partial / TSO frames (TUN_F_*),
 * from the DDVM_NET_F_* a driver VM published.  0 or -errno.
 */
int tap_dev_set_offload(struct tap_dev *t, uint32_t ddvm_features);

/* Carrier on (1) or off (0).  0 or -errno. */
int tap_dev_carrier(struct tap_dev *t, int up);

/* Change the MTU (only works while the TAP is in our network namespace). */
int tap_dev_set_mtu(struct tap_dev *t, uint32_t mtu);

void tap_dev_close(struct tap_dev *t);

#endif
