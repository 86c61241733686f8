// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ddvm_front: PCI driver for an ivshmem-doorbell function (1af4:1110) that
 * carries a ddvm client channel into this VM.
 *
 * probe: map BAR0 (registers) and BAR2 (the region, write-back so the
 * ring atomics work), check the layout the supervisor wrote in the region's
 * header (there is no supervisor command line in a VM; the region is
 * untrusted, ddvm_region_check copies and validates it once), take the
 * doorbell interrupts and give the channel's queue to its kind's code: a
 * block queue to front_blk.c (/dev/ddvmN), a net queue to front_net.c
 * (ddvmnetN).  Disks and NICs are numbered apart.
 */
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>

#include "front.h"

unsigned int ddvm_front_io_timeout_s = 60;
module_param_named(io_timeout, ddvm_front_io_timeout_s, uint, 0444);
MODULE_PARM_DESC(io_timeout, "seconds before an unanswered request fails with EIO (default 60)");

unsigned int ddvm_front_poll_ms = 250;
module_param_named(poll_ms, ddvm_front_poll_ms, uint, 0444);
MODULE_PARM_DESC(poll_ms, "while requests are out, poll the queue this often (default 250)");

static DEFINE_IDA(front_blk_ida);
static DEFINE_IDA(front_net_ida);

static struct ida *front_ida(u16 kind)
{
	return kind == DDVM_QK_NET ? &front_net_ida : &front_blk_ida;
}

static irqreturn_t front_irq(int irq, void *data)
{
	struct front_chan *ch = data;
	struct front_blk *b = READ_ONCE(ch->blk);
	struct front_net *n = READ_ONCE(ch->net);

	/* A doorbell carries no data: whatever rang, look at the queue. */
	if (b)
		front_blk_doorbell(b);
	if (n)
		front_net_doorbell(n);
	return IRQ_HANDLED;
}

bool front_guest_usable(struct front_chan *ch, struct front_seen *seen,
			struct ddvm_guest_view *g)
{
	struct device *dev = &ch->pdev->dev;
	bool changed;

	ddvm_guest_read(ch->region, g);
	changed = seen->state != g->state + 1 || seen->gen != g->generation + 1;
	seen->state = g->state + 1;
	seen->gen = g->generation + 1;
	if (g->state == DDVM_GUEST_READY && g->guest_version >> 16 != DDVM_PROTO_MAJOR) {
		if (changed)
			dev_err(dev, "%s: the driver VM (generation %u) speaks ddvm protocol %u.%u, this module %u.%u: not using it\n",
				ch->name, g->generation, g->guest_version >> 16,
				g->guest_version & 0xffff, DDVM_PROTO_MAJOR, DDVM_PROTO_MINOR);
		return false;
	}
	if (g->state == DDVM_GUEST_REFUSED) {
		if (changed)
			dev_err(dev, "%s: the driver VM refused the channel: %s (0x%x)\n",
				ch->name, ddvm_refusal_str(g->refusal), g->refusal_detail);
		return false;
	}
	return true;
}

static void front_free_irqs(struct front_chan *ch)
{
	int i;

	for (i = 0; i < ch->nvec; i++)
		free_irq(pci_irq_vector(ch->pdev, i), ch);
	if (ch->nvec)
		pci_free_irq_vectors(ch->pdev);
	ch->nvec = 0;
}

/* MSI-X doorbells; without them the queue is served by the poll timer alone. */
static int front_setup_irqs(struct front_chan *ch)
{
	struct pci_dev *pdev = ch->pdev;
	int n = pci_msix_vec_count(pdev), i, rc;

	if (n > 0)
		n = pci_alloc_irq_vectors(pdev, 1, min(n, DDVM_FRONT_MAX_VECTORS), PCI_IRQ_MSIX);
	if (n <= 0) {
		dev_warn(&pdev->dev, "%s: no MSI-X doorbells (%d): polling every %u ms\n",
			 ch->name, n, ddvm_front_poll_ms);
		return 0;
	}
	for (i = 0; i < n; i++) {
		rc = request_irq(pci_irq_vector(pdev, i), front_irq, 0, DDVM_FRONT_NAME, ch);
		if (rc) {
			front_free_irqs(ch);
			if (i == 0)
				pci_free_irq_vectors(pdev);
			return rc;
		}
		ch->nvec = i + 1;
	}
	return 0;
}

static int front_map(struct front_chan *ch)
{
	struct pci_dev *pdev = ch->pdev;
	int rc;

	rc = pci_enable_device(pdev);
	if (rc)
		return rc;
	pci_set_master(pdev);	/* without it MSI-X doorbells are silently dropped */
	rc = pci_request_regions(pdev, DDVM_FRONT_NAME);
	if (rc)
		goto err_disable;
	rc = -ENOMEM;
	ch->regs = pci_iomap(pdev, 0, 0);
	if (!ch->regs)
		goto err_release;
	ch->region_size = pci_resource_len(pdev, 2);
	if (!ch->region_size) {
		dev_err(&pdev->dev, "no shared-memory BAR: not a ddvm channel\n");
		rc = -ENODEV;
		goto err_iounmap;
	}
	ch->region = memremap(pci_resource_start(pdev, 2), ch->region_size, MEMREMAP_WB);
	if (!ch->region)
		goto err_iounmap;
	return 0;

err_iounmap:
	pci_iounmap(pdev, ch->regs);
err_release:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
	return rc;
}

static void front_unmap(struct front_chan *ch)
{
	memunmap(ch->region);
	pci_iounmap(ch->pdev, ch->regs);
	pci_release_regions(ch->pdev);
	pci_disable_device(ch->pdev);
}

/* Is the region a channel we can use?  Logs why not. */
static int front_check_region(struct front_chan *ch)
{
	struct device *dev = &ch->pdev->dev;
	u32 why, detail;

	why = ddvm_region_check(ch->region, ch->region_size, &ch->lay, &detail);
	switch (why) {
	case DDVM_REFUSE_NONE:
		return 0;
	case DDVM_REFUSE_VERSION:
		dev_err(dev, "%s: the channel speaks ddvm protocol %u.%u, this module %u.%u: not using it\n",
			ch->name, detail >> 16, detail & 0xffff, DDVM_PROTO_MAJOR, DDVM_PROTO_MINOR);
		break;
	case DDVM_REFUSE_LAYOUT:
		dev_err(dev, "%s: the channel's layout is invalid: %s\n", ch->name,
			ddvm_layout_str(detail));
		break;
	default:
		dev_err(dev, "%s: the channel is not usable: %s (0x%x)\n", ch->name,
			ddvm_refusal_str(why), detail);
		break;
	}
	return -EPROTO;
}

static int front_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct front_chan *ch;
	int rc, qi = -1;
	u32 i;

	ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	if (!ch)
		return -ENOMEM;
	ch->pdev = pdev;
	ch->index = -1;
	strscpy(ch->name, "ddvm?", sizeof(ch->name));	/* until the queue's kind is known */
	rc = front_map(ch);
	if (rc)
		goto err_free;
	ddvm_ktransport_init(&ch->kt, &pdev->dev, ch->regs, ch->region, ch->region_size,
			     ch->name);
	rc = front_check_region(ch);
	if (rc)
		goto err_unmap;
	/* A client channel holds one queue: a disk's or a NIC's. */
	for (i = 0; i < ch->lay.nqueues && qi < 0; i++)
		if (ch->lay.q[i].kind == DDVM_QK_BLOCK || ch->lay.q[i].kind == DDVM_QK_NET)
			qi = (int)i;
	if (qi < 0) {
		dev_info(&pdev->dev, "%s: no block or net queue on this channel (%u queues): not ours\n",
			 ch->name, ch->lay.nqueues);
		rc = -ENODEV;
		goto err_unmap;
	}
	ch->kind = ch->lay.q[qi].kind;
	ch->index = ida_alloc(front_ida(ch->kind), GFP_KERNEL);
	if (ch->index < 0) {
		rc = ch->index;
		goto err_unmap;
	}
	snprintf(ch->name, sizeof(ch->name), "%s%d", ch->kind == DDVM_QK_NET ? "ddvmnet" : "ddvm",
		 ch->index);
	rc = front_setup_irqs(ch);
	if (rc) {
		dev_err(&pdev->dev, "%s: cannot request doorbell interrupts: %d\n", ch->name, rc);
		goto err_ida;
	}
	if (ch->nvec && ch->lay.q[qi].resp_vector >= ch->nvec)
		dev_warn(&pdev->dev, "%s: response doorbell %u beyond the device's %d vectors: polling only\n",
			 ch->name, ch->lay.q[qi].resp_vector, ch->nvec);
	if (ch->kind == DDVM_QK_NET) {
		struct front_net *n = front_net_create(ch, (u32)qi);

		rc = PTR_ERR_OR_ZERO(n);
		if (!rc)
			WRITE_ONCE(ch->net, n);
	} else {
		struct front_blk *b = front_blk_create(ch, (u32)qi);

		rc = PTR_ERR_OR_ZERO(b);
		if (!rc)
			WRITE_ONCE(ch->blk, b);
	}
	if (rc)
		goto err_irqs;
	pci_set_drvdata(pdev, ch);
	dev_info(&pdev->dev, "%s: channel of %llu bytes, peer %u, %s queue %d, %d doorbell vectors\n",
		 ch->name, ch->region_size, ch->kt.t.self_id,
		 ch->kind == DDVM_QK_NET ? "net" : "block", qi, ch->nvec);
	return 0;

err_irqs:
	front_free_irqs(ch);
err_ida:
	ida_free(front_ida(ch->kind), ch->index);
err_unmap:
	front_unmap(ch);
err_free:
	kfree(ch);
	return rc;
}

static void front_remove(struct pci_dev *pdev)
{
	struct front_chan *ch = pci_get_drvdata(pdev);

	/* Completions still need the doorbells while the device goes away. */
	if (ch->net)
		front_net_stop(ch->net);
	if (ch->blk)
		front_blk_stop(ch->blk);
	front_free_irqs(ch);
	if (ch->net)
		front_net_free(ch->net);
	if (ch->blk)
		front_blk_free(ch->blk);
	front_unmap(ch);
	ida_free(front_ida(ch->kind), ch->index);
	dev_info(&pdev->dev, "%s: detached\n", ch->name);
	kfree(ch);
}

/* /sys/bus/pci/devices/.../ddvm_kind: "disk" or "nic" (image/client-init waits for each). */
static ssize_t ddvm_kind_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct front_chan *ch = pci_get_drvdata(to_pci_dev(dev));

	return sysfs_emit(buf, "%s\n", ch && ch->kind == DDVM_QK_NET ? "nic" : "disk");
}
static DEVICE_ATTR_RO(ddvm_kind);

static struct attribute *front_dev_attrs[] = { &dev_attr_ddvm_kind.attr, NULL };
ATTRIBUTE_GROUPS(front_dev);

static const struct pci_device_id front_ids[] = {
	{ PCI_DEVICE(DDVM_IVSHMEM_VENDOR, DDVM_IVSHMEM_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, front_ids);

static struct pci_driver front_driver = {
	.name = DDVM_FRONT_NAME,
	.id_table = front_ids,
	.probe = front_probe,
	.remove = front_remove,
	.dev_groups = front_dev_groups,
};

static int __init front_init(void)
{
	int rc;

	if (!ddvm_front_io_timeout_s)
		ddvm_front_io_timeout_s = 1;
	ddvm_front_poll_ms = clamp(ddvm_front_poll_ms, 10u, 10000u);
	rc = front_blk_register();
	if (rc)
		return rc;
	rc = pci_register_driver(&front_driver);
	if (rc)
		front_blk_unregister();
	return rc;
}

static void __exit front_exit(void)
{
	pci_unregister_driver(&front_driver);
	front_blk_unregister();
}

module_init(front_init);
module_exit(front_exit);

MODULE_DESCRIPTION("ddvm client: disks and NICs served by a driver VM over ddvm shared-memory channels");
MODULE_LICENSE("Dual MIT/GPL");
