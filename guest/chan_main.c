// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ddvm_chan: PCI driver for the ivshmem device that carries a ddvm channel.
 *
 * probe: map BAR0 (registers) and BAR2 (the shared region, write-back so
 * atomics work), validate the host's layout with ddvm_region_check(), then
 * either refuse (write the reason into the header, ring the host, fail) or
 * attach: bump the generation, publish the PCI table, serve the control
 * queues and beat, and hand the data queues to the translation modules
 * (chan_kinds.c).  Every guest_state change rings host vector 1.
 */
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/utsname.h>

#include "chan.h"

void ddvm_chan_ring(struct ddvm_chan *c, u16 vector)
{
	/* writel orders our earlier stores to the region before the doorbell. */
	writel(((u32)c->layout.host_peer_id << 16) | vector, c->regs + DDVM_IVSHMEM_DOORBELL);
}

/* Ring another peer (a client named in a queue's ring header). */
void ddvm_chan_ring_peer(struct ddvm_chan *c, u16 peer, u16 vector)
{
	writel(((u32)peer << 16) | vector, c->regs + DDVM_IVSHMEM_DOORBELL);
}

void ddvm_chan_set_state(struct ddvm_chan *c, u32 state)
{
	smp_store_release(&c->hdr->guest_state, cpu_to_le32(state));
	ddvm_chan_ring(c, DDVM_HOST_VEC_STATE);
}

/* Say why we refuse, in the header and in one console line. */
static void chan_refuse(struct ddvm_chan *c, u32 why, u32 detail)
{
	struct device *dev = &c->pdev->dev;
	struct ddvm_region_hdr *h = c->hdr;

	switch (why) {
	case DDVM_REFUSE_MAGIC:
		dev_err(dev, "refusing region: bad magic 0x%08x (expected 0x%08x)\n",
			detail, DDVM_MAGIC);
		break;
	case DDVM_REFUSE_VERSION:
		dev_err(dev, "refusing region: unsupported protocol version %u.%u (this module speaks %u.%u)\n",
			detail >> 16, detail & 0xffff, DDVM_PROTO_MAJOR, DDVM_PROTO_MINOR);
		break;
	case DDVM_REFUSE_STATE:
		dev_err(dev, "refusing region: host is not serving it (host_state %u)\n", detail);
		break;
	default:
		dev_err(dev, "refusing region: invalid layout: %s\n", ddvm_layout_str(detail));
		break;
	}
	if (c->region_size < sizeof(*h))
		return;		/* cannot even write the header */
	/*
	 * host_peer_id was not validated (the layout was refused), but a wrong
	 * doorbell target is harmless: QEMU drops a doorbell to no peer.
	 */
	c->layout.host_peer_id = le16_to_cpu(READ_ONCE(h->host_peer_id));
	WRITE_ONCE(h->refusal, cpu_to_le32(why));
	WRITE_ONCE(h->refusal_detail, cpu_to_le32(detail));
	WRITE_ONCE(h->guest_version, cpu_to_le32(DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR));
	WRITE_ONCE(h->guest_peer_id, cpu_to_le16(c->peer_id));
	ddvm_chan_set_state(c, DDVM_GUEST_REFUSED);
}

/* Region accepted: announce ourselves (state ATTACHING). */
static void chan_attach(struct ddvm_chan *c)
{
	struct ddvm_region_hdr *h = c->hdr;
	char rel[sizeof(h->kernel_release)];
	u32 gen = le32_to_cpu(READ_ONCE(h->generation)) + 1;
	unsigned int i;

	memset(rel, 0, sizeof(rel));
	strscpy(rel, init_utsname()->release, sizeof(rel));
	for (i = 0; i < sizeof(rel); i++)
		WRITE_ONCE(h->kernel_release[i], rel[i]);
	WRITE_ONCE(h->refusal, cpu_to_le32(DDVM_REFUSE_NONE));
	WRITE_ONCE(h->refusal_detail, 0);
	WRITE_ONCE(h->generation, cpu_to_le32(gen));
	WRITE_ONCE(h->guest_peer_id, cpu_to_le16(c->peer_id));
	WRITE_ONCE(h->guest_version, cpu_to_le32(DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR));
	ddvm_chan_set_state(c, DDVM_GUEST_ATTACHING);
	dev_info(&c->pdev->dev, "attached: peer %u, host peer %u, generation %u, %u queues\n",
		 c->peer_id, c->layout.host_peer_id, gen, c->layout.nqueues);
}

/*
 * Does vector serve the control queues?  Their own vectors do, and so does
 * any vector no data queue claimed; a block queue's doorbell does not wake
 * the control work (one guest context switch less per block request).
 */
static bool chan_vector_ctrl(struct ddvm_chan *c, int vector)
{
	unsigned int i;

	for (i = 0; i < c->nctrl; i++)
		if (c->ctrl[i].req_vector == vector)
			return true;
	return vector >= BITS_PER_LONG || !test_bit(vector, &c->data_vectors);
}

static irqreturn_t chan_irq(int irq, void *data)
{
	struct ddvm_chan *c = data;
	int i;

	if (READ_ONCE(c->stopping))
		return IRQ_HANDLED;
	for (i = 0; i < c->nvec; i++)
		if (pci_irq_vector(c->pdev, i) == irq) {
			if (chan_vector_ctrl(c, i))
				queue_work(system_wq, &c->ctrl_work);
			ddvm_chan_kinds_kick(c, i);
		}
	return IRQ_HANDLED;
}

static void chan_free_irqs(struct ddvm_chan *c)
{
	int i;

	for (i = 0; i < c->nvec; i++)
		free_irq(pci_irq_vector(c->pdev, i), c);
	if (c->nvec)
		pci_free_irq_vectors(c->pdev);
	c->nvec = 0;
}

/* MSI-X doorbells if the device has them (ivshmem-doorbell); else poll. */
static int chan_setup_irqs(struct ddvm_chan *c)
{
	struct pci_dev *pdev = c->pdev;
	int n = pci_msix_vec_count(pdev), i, rc;

	if (n <= 0)
		return 0;
	n = min(n, DDVM_CHAN_MAX_VECTORS);
	n = pci_alloc_irq_vectors(pdev, 1, n, PCI_IRQ_MSIX);
	if (n < 0) {
		dev_warn(&pdev->dev, "no MSI-X vectors (%d): polling on the heartbeat\n", n);
		return 0;
	}
	for (i = 0; i < n; i++) {
		rc = request_irq(pci_irq_vector(pdev, i), chan_irq, 0, DDVM_CHAN_NAME, c);
		if (rc) {
			c->nvec = i;
			chan_free_irqs(c);
			if (i == 0)
				pci_free_irq_vectors(pdev);
			return rc;
		}
		c->nvec = i + 1;
	}
	return 0;
}

/*
 * Map the shared-memory BAR.  Preferably with struct pages (ZONE_DEVICE,
 * MEMORY_DEVICE_GENERIC, as device-dax and virtio-fs's DAX window do for
 * memory that is not System RAM): then a bio or skb can point straight
 * into the region and the disk or NIC DMAs to and from the client's
 * buffers; this guest copies nothing (under TCG every guest copy is
 * emulated).  The emulated or passed-through device sees the BAR as
 * ordinary guest-physical memory.  memremap_pages needs the range aligned
 * to a memory subsection (2 MiB on x86-64); otherwise, or if this kernel
 * has no ZONE_DEVICE, a plain write-back mapping, and the block and net
 * code copy through their own pages (data path (a)).
 */
static bool zero_copy = true;
module_param(zero_copy, bool, 0444);
MODULE_PARM_DESC(zero_copy, "let devices DMA to/from the channel's buffers (default); 0: copy in the driver VM");

static int chan_map_region(struct ddvm_chan *c)
{
	struct pci_dev *pdev = c->pdev;
	resource_size_t start = pci_resource_start(pdev, 2);
	void *va;

	if (zero_copy && IS_ENABLED(CONFIG_ZONE_DEVICE) && IS_ALIGNED(start, SUBSECTION_SIZE) &&
	    IS_ALIGNED(c->region_size, SUBSECTION_SIZE)) {
		c->pgmap.type = MEMORY_DEVICE_GENERIC;
		c->pgmap.range.start = start;
		c->pgmap.range.end = start + c->region_size - 1;
		c->pgmap.nr_range = 1;
		va = memremap_pages(&c->pgmap, dev_to_node(&pdev->dev));
		if (!IS_ERR(va)) {
			c->region = va;
			c->region_pages = true;
			return 0;
		}
		dev_info(&pdev->dev, "shared memory without struct pages (%ld): guest copies data\n",
			 PTR_ERR(va));
		memset(&c->pgmap, 0, sizeof(c->pgmap));
	}
	c->region = memremap(start, c->region_size, MEMREMAP_WB);
	return c->region ? 0 : -ENOMEM;
}

static void chan_unmap_region(struct ddvm_chan *c)
{
	if (c->region_pages)
		memunmap_pages(&c->pgmap);
	else
		memunmap(c->region);
	c->region = NULL;
	c->region_pages = false;
}

static void chan_unmap(struct ddvm_chan *c)
{
	chan_unmap_region(c);
	pci_iounmap(c->pdev, c->regs);
	pci_release_regions(c->pdev);
	pci_disable_device(c->pdev);
}

static int chan_map(struct ddvm_chan *c)
{
	struct pci_dev *pdev = c->pdev;
	int rc;

	rc = pci_enable_device(pdev);
	if (rc)
		return rc;
	pci_set_master(pdev);	/* without it MSI-X doorbells are dropped */
	rc = pci_request_regions(pdev, DDVM_CHAN_NAME);
	if (rc)
		goto err_disable;
	rc = -ENOMEM;
	c->regs = pci_iomap(pdev, 0, 0);
	if (!c->regs)
		goto err_release;
	c->region_size = pci_resource_len(pdev, 2);
	if (!c->region_size) {
		dev_err(&pdev->dev, "no shared memory BAR\n");
		rc = -ENODEV;
		goto err_iounmap;
	}
	rc = chan_map_region(c);
	if (rc)
		goto err_iounmap;
	c->hdr = c->region;
	return 0;

err_iounmap:
	pci_iounmap(pdev, c->regs);
err_release:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
	return rc;
}

static int chan_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ddvm_chan *c;
	u32 why, detail;
	int rc;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->pdev = pdev;
	INIT_WORK(&c->ctrl_work, ddvm_ctrl_work);
	INIT_DELAYED_WORK(&c->hb_work, ddvm_hb_work);
	rc = chan_map(c);
	if (rc)
		goto err_free;
	c->peer_id = (u16)readl(c->regs + DDVM_IVSHMEM_IVPOSITION);

	why = ddvm_region_check(c->region, c->region_size, &c->layout, &detail);
	if (why != DDVM_REFUSE_NONE) {
		chan_refuse(c, why, detail);
		rc = -EPROTO;
		goto err_unmap;
	}
	c->hb_ms = c->layout.heartbeat_period_ms ? c->layout.heartbeat_period_ms
						  : DDVM_HB_DEFAULT_MS;
	c->hb_ms = clamp_t(unsigned int, c->hb_ms, DDVM_HB_MIN_MS, DDVM_HB_MAX_MS);
	chan_attach(c);

	rc = ddvm_ctrl_init(c);
	if (rc)
		goto err_stop;
	rc = ddvm_pci_table_init(c);
	if (rc)
		goto err_stop;
	rc = chan_setup_irqs(c);
	if (rc) {
		dev_err(&pdev->dev, "cannot request doorbell interrupts: %d\n", rc);
		goto err_table;
	}
	pci_set_drvdata(pdev, c);
	ddvm_pci_table_update(c);
	ddvm_chan_set_state(c, DDVM_GUEST_READY);
	dev_info(&pdev->dev, "ready: %u control queue(s), %d doorbell vector(s)%s, heartbeat %u ms\n",
		 c->nctrl, c->nvec, c->nvec ? "" : " (polling)", c->hb_ms);
	queue_work(system_wq, &c->ctrl_work);
	schedule_delayed_work(&c->hb_work, msecs_to_jiffies(c->hb_ms));
	ddvm_chan_kinds_add(c);	/* block / net queues: the modules loaded so far */
	return 0;

err_table:
	ddvm_pci_table_free(c);
err_stop:
	ddvm_chan_set_state(c, DDVM_GUEST_STOPPING);
err_unmap:
	chan_unmap(c);
err_free:
	kfree(c);
	return rc;
}

static void chan_stop(struct ddvm_chan *c)
{
	WRITE_ONCE(c->stopping, true);
	ddvm_chan_set_state(c, DDVM_GUEST_STOPPING);
	chan_free_irqs(c);
	cancel_delayed_work_sync(&c->hb_work);
	cancel_work_sync(&c->ctrl_work);
	ddvm_chan_kinds_stop(c);
}

static void chan_remove(struct pci_dev *pdev)
{
	struct ddvm_chan *c = pci_get_drvdata(pdev);

	chan_stop(c);
	ddvm_chan_kinds_del(c);
	ddvm_pci_table_free(c);
	chan_unmap(c);
	kfree(c);
	dev_info(&pdev->dev, "detached\n");
}

/* Power-off / reboot: tell the host we are going away. */
static void chan_shutdown(struct pci_dev *pdev)
{
	struct ddvm_chan *c = pci_get_drvdata(pdev);

	if (c)
		chan_stop(c);
}

static const struct pci_device_id chan_ids[] = {
	{ PCI_DEVICE(DDVM_IVSHMEM_VENDOR, DDVM_IVSHMEM_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, chan_ids);

static struct pci_driver chan_driver = {
	.name = DDVM_CHAN_NAME,
	.id_table = chan_ids,
	.probe = chan_probe,
	.remove = chan_remove,
	.shutdown = chan_shutdown,
};
module_pci_driver(chan_driver);

MODULE_DESCRIPTION("ddvm channel: driver-VM end of a ddvm shared-memory channel (ivshmem)");
MODULE_LICENSE("Dual MIT/GPL");
