/* SPDX-License-Identifier: MIT */
/*
 * The wire of an emulated NIC with net = "tap:IFNAME": the supervisor opens
 * the host TAP once and hands the same fd to every QEMU it starts for the
 * driver VM (-netdev tap,fd=N), so the wire survives driver-VM restarts even
 * when the interface has since moved to another network namespace or
 * bridge, and QEMU never opens /dev/net/tun itself.
 */
#ifndef DDVM_HOST_WIRE_TAP_H
#define DDVM_HOST_WIRE_TAP_H

#include <stddef.h>

/*
 * Attach to TAP IFNAME (created if missing: it then lives as long as the
 * supervisor), with a virtio-net header as QEMU would ask for.  Returns a
 * close-on-exec fd, or -errno with err set.
 */
int wire_tap_open(const char *ifname, char *err, size_t errlen);

/*
 * Make TAP IFNAME persistent (on: created if missing, outlives our fd, for
 * a QEMU the user starts to open by name) or remove it (off).  0 or -errno
 * with err set.
 */
int wire_tap_persist(const char *ifname, int on, char *err, size_t errlen);

#endif
