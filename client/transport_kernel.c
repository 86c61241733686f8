// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libddvm's Linux-kernel transport: ring = one 32-bit write to the
 * ivshmem Doorbell register, time = ktime_get_ns, log = dev_printk.
 *
 * No wait hook: the client module is asynchronous (completions come from
 * the doorbell interrupt and a timer), so libddvm's synchronous helpers are
 * not used.  No peer_present hook: a VM cannot see ivshmem peers come and
 * go, so libddvm notices a driver-VM restart by the header's generation and
 * the successor's resume_idx, which tell it exactly what the dead instance
 * held (docs/libddvm.md).
 */
#include <linux/io.h>
#include <linux/ktime.h>

#include "transport_kernel.h"

static int kt_ring(struct ddvm_transport *t, u16 peer, u16 vector)
{
	struct ddvm_ktransport *kt = t->priv;

	/*
	 * writel orders our earlier stores to the region (slots, ring index)
	 * before the doorbell.  A doorbell to a peer that left is dropped by
	 * QEMU; the driver VM also polls, so nothing is lost, only delayed.
	 */
	writel((u32)peer << 16 | vector, kt->regs + DDVM_IVSHMEM_DOORBELL);
	return 0;
}

static u64 kt_now_ns(struct ddvm_transport *t)
{
	return ktime_get_ns();
}

static void kt_log(struct ddvm_transport *t, int level, const char *line)
{
	struct ddvm_ktransport *kt = t->priv;

	switch (level) {
	case DDVM_LOG_ERR:
		dev_err(kt->dev, "%s\n", line);
		break;
	case DDVM_LOG_WARN:
		dev_warn(kt->dev, "%s\n", line);
		break;
	case DDVM_LOG_INFO:
		dev_info(kt->dev, "%s\n", line);
		break;
	default:
		dev_dbg(kt->dev, "%s\n", line);
		break;
	}
}

static const struct ddvm_transport_ops kt_ops = {
	.ring = kt_ring,
	.now_ns = kt_now_ns,
	.log = kt_log,
};

void ddvm_ktransport_init(struct ddvm_ktransport *kt, struct device *dev,
			  void __iomem *regs, void *base, u64 size,
			  const char *name)
{
	kt->dev = dev;
	kt->regs = regs;
	kt->t = (struct ddvm_transport){
		.ops = &kt_ops,
		.base = base,
		.size = size,
		.self_id = (u16)readl(regs + DDVM_IVSHMEM_IVPOSITION),
		.name = name,
		.priv = kt,
	};
}
