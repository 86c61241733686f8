/* SPDX-License-Identifier: MIT */
/*
 * Linux bridges on the host (ioctl, as brctl does): the switch that joins a
 * NIC's TAP front-end to the virtio-net of client VMs (the standard path for
 * any OS with virtio drivers).  A bridge ddvm makes is a switch only: IPv6
 * off on it (it never talks on the wire), up.
 */
#ifndef DDVM_POSIX_BRIDGE_H
#define DDVM_POSIX_BRIDGE_H

#include <stddef.h>

/* Make bridge name (or keep the one there), IPv6 off, up.  0 or -errno (err set). */
int ddvm_bridge_make(const char *name, char *err, size_t errlen);

/* Take it down and delete it.  0 or -errno (-ENXIO: no such bridge). */
int ddvm_bridge_remove(const char *name);

/*
 * Make interface ifname a port of bridge br (if it is not already) and
 * bring it up.  0 or -errno (err set).
 */
int ddvm_bridge_add_port(const char *br, const char *ifname, char *err, size_t errlen);

#endif
