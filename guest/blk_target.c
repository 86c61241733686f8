// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Block translation: which disk a block queue serves.
 *
 * The host names a PCI function of the driver VM ("pci=DDDD:BB:DD.F",
 * optionally " n=N"); the queue serves the Nth whole disk (class "block",
 * type "disk", not hidden) found under that function, walking its device
 * tree depth-first in the order the children were added, as the PCI
 * translation table lists them (pci_table.c).
 */
#include <linux/kernel.h>
#include <linux/pci.h>

#include "blk.h"

#define WALK_MAX_DEPTH	8	/* pci dev -> ata port -> scsi host -> target -> sdev -> disk */
#define TARGET_MAX_N	255u

/* Exactly n hex digits at *s; advances *s. */
static int parse_hex(const char **s, unsigned int n, u32 *out)
{
	u32 v = 0;
	int d;

	while (n--) {
		d = hex_to_bin(**s);
		if (d < 0)
			return -EINVAL;
		v = v << 4 | (u32)d;
		(*s)++;
	}
	*out = v;
	return 0;
}

int ddvm_blk_target_parse(const char *s, struct ddvm_blk_target *t)
{
	u32 dom, bus, dev, fn, n = 0;
	unsigned int digits = 0;

	if (strncmp(s, "pci=", 4))
		return -EINVAL;
	s += 4;
	if (parse_hex(&s, 4, &dom) || *s++ != ':' || parse_hex(&s, 2, &bus) || *s++ != ':' ||
	    parse_hex(&s, 2, &dev) || *s++ != '.' || parse_hex(&s, 1, &fn))
		return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	if (*s) {
		if (strncmp(s, " n=", 3))
			return -EINVAL;
		for (s += 3; *s >= '0' && *s <= '9'; s++, digits++) {
			n = n * 10 + (u32)(*s - '0');
			if (n > TARGET_MAX_N)
				return -EINVAL;
		}
		if (!digits || *s)
			return -EINVAL;
	}
	t->domain = (u16)dom;
	t->bus = (u8)bus;
	t->devfn = (u8)PCI_DEVFN(dev, fn);
	t->n = n;
	return 0;
}

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
int ddvm_blk_target_find(const struct ddvm_blk_target *t, dev_t *devt)
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
