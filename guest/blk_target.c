// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Block translation: which disk a block queue serves.
 *
 * The host names a PCI function of the driver VM ("pci=DDDD:BB:DD.F",
 * optionally " n=N"); the queue serves the Nth whole disk (class "block",
 * type "disk": not a partition; not hidden: no nvme multipath path) found
 * under that function, walking its device tree depth-first in the order
 * the children were added, as the PCI translation table lists them
 * (pci_table.c).  Behind a SCSI host adapter, an SD or a USB host
 * controller the disk is several levels down (docs/drivers.md).  The
 * string is parsed by ddvm_chan (target.c), which net translation shares.
 */
#include <linux/kernel.h>
#include <linux/pci.h>

#include "blk.h"

/*
 * Deep enough for a disk behind a host adapter or a USB controller (7
 * levels for UAS: root hub -> USB device -> interface -> scsi host ->
 * target -> sdev -> disk), with room for USB hubs and SAS ports/expanders.
 */
#define WALK_MAX_DEPTH	12

struct find_ctx {
	u32 want, seen;
	unsigned int depth;
	dev_t devt;
	bool found;
};

static bool is_whole_disk(struct device *dev)
{
	if (!dev->class || strcmp(dev->class->name, "block") || !dev->type || !dev->type->name ||
	    strcmp(dev->type->name, "disk"))
		return false;
	return !(dev_to_disk(dev)->flags & GENHD_FL_HIDDEN) && dev->devt;
}

static int find_walk(struct device *dev, void *data)
{
	struct find_ctx *f = data;

	if (is_whole_disk(dev)) {
		if (f->seen++ == f->want) {
			f->devt = dev->devt;
			f->found = true;
			return 1;	/* stop */
		}
	}
	if (f->depth < WALK_MAX_DEPTH) {
		f->depth++;
		device_for_each_child(dev, f, find_walk);
		f->depth--;
	}
	return f->found;
}

/* The disk t names, now: 0 and *devt, or -ENODEV (not there, or not yet). */
int ddvm_blk_target_find(const struct ddvm_target *t, dev_t *devt)
{
	struct find_ctx f = { .want = t->n };
	struct pci_dev *pdev;

	pdev = pci_get_domain_bus_and_slot(t->domain, t->bus, t->devfn);
	if (!pdev)
		return -ENODEV;
	device_for_each_child(&pdev->dev, &f, find_walk);
	pci_dev_put(pdev);
	if (!f.found)
		return -ENODEV;
	*devt = f.devt;
	return 0;
}
