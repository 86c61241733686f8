/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libddvm's transport for a Linux kernel that reaches a ddvm channel through
 * QEMU's ivshmem-doorbell PCI function: the region is BAR2 (mapped
 * write-back by the caller), doorbells are a write to BAR0.  See
 * include/ddvm/transport.h for the hooks.
 */
#ifndef DDVM_TRANSPORT_KERNEL_H
#define DDVM_TRANSPORT_KERNEL_H

#include <linux/device.h>
#include <linux/types.h>

#include "ddvm/transport.h"

struct ddvm_ktransport {
	struct ddvm_transport t;	/* what libddvm gets: t.priv points back here */
	struct device *dev;		/* log lines go out as dev_*(dev, ...) */
	void __iomem *regs;		/* BAR0 */
};

/*
 * Fill kt for a channel: region mapped at base (size bytes), registers at
 * regs.  name prefixes libddvm's log lines (e.g. "ddvm0"; may be NULL).
 * Our own peer id is read from IVPosition.
 */
void ddvm_ktransport_init(struct ddvm_ktransport *kt, struct device *dev,
			  void __iomem *regs, void *base, u64 size,
			  const char *name);

#endif /* DDVM_TRANSPORT_KERNEL_H */
