// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCI translation table: every PCI function this Linux sees, its bound
 * driver and the net devices / whole disks that driver produced.
 *
 * Rebuilt on every heartbeat into a private scratch copy; written to the
 * region (under hdr.pci_seq, a seqlock: odd while rewriting) only when it
 * differs from what was last published.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "chan.h"

#define NAMES_MAX_DEPTH	8	/* pci dev -> ata port -> scsi host -> target -> sdev -> disk */

struct names_ctx {
	char *buf;		/* NUL-terminated, space-separated */
	size_t len, cap;	/* cap includes the NUL */
	unsigned int depth;
};

/* Append one name; a name that does not fit whole is left out. */
static void names_add(struct names_ctx *n, const char *name)
{
	size_t l = strlen(name), sep = n->len ? 1 : 0;

	if (n->len + sep + l + 1 > n->cap)
		return;
	if (sep)
		n->buf[n->len++] = ' ';
	memcpy(n->buf + n->len, name, l);
	n->len += l;
	n->buf[n->len] = '\0';
}

static int names_walk(struct device *dev, void *data)
{
	struct names_ctx *n = data;
	const char *cls = dev->class ? dev->class->name : NULL;

	if (cls && !strcmp(cls, "net"))
		names_add(n, dev_name(dev));
	else if (cls && !strcmp(cls, "block") && dev->type && dev->type->name &&
		 !strcmp(dev->type->name, "disk"))
		names_add(n, dev_name(dev));	/* whole disks, not partitions */
	if (n->depth < NAMES_MAX_DEPTH) {
		n->depth++;
		device_for_each_child(dev, n, names_walk);
		n->depth--;
	}
	return 0;
}

static const struct ddvm_pci_entry *table_find(const struct ddvm_pci_entry *t, u32 count,
					       const struct ddvm_pci_entry *e)
{
	u32 i;

	for (i = 0; i < count; i++)
		if (t[i].domain == e->domain && t[i].bus == e->bus && t[i].devfn == e->devfn)
			return &t[i];
	return NULL;
}

static void entry_fill(struct ddvm_chan *c, struct pci_dev *pdev, struct ddvm_pci_entry *e)
{
	struct names_ctx n = { .buf = e->names, .cap = sizeof(e->names) };
	const struct ddvm_pci_entry *old;
	struct device_driver *drv;

	memset(e, 0, sizeof(*e));
	e->domain = ddvm_cpu_to_le16((u16)pci_domain_nr(pdev->bus));
	e->bus = pdev->bus->number;
	e->devfn = pdev->devfn;
	e->vendor = ddvm_cpu_to_le16(pdev->vendor);
	e->device = ddvm_cpu_to_le16(pdev->device);
	e->subsystem_vendor = ddvm_cpu_to_le16(pdev->subsystem_vendor);
	e->subsystem_device = ddvm_cpu_to_le16(pdev->subsystem_device);
	e->class_code = ddvm_cpu_to_le32(pdev->class & 0xffffff);
	e->revision = pdev->revision;
	if (pdev == c->pdev) {
		/* Our own device: its lock is held by whoever removes us. */
		strscpy(e->driver, DDVM_CHAN_NAME, sizeof(e->driver));
		return;
	}
	if (!device_trylock(&pdev->dev)) {
		/* Being probed or removed right now: keep what we knew. */
		old = table_find(c->pci_cur, c->pci_published ? c->pci_cur_count : 0, e);
		if (old) {
			memcpy(e->driver, old->driver, sizeof(e->driver));
			memcpy(e->names, old->names, sizeof(e->names));
		}
		return;
	}
	drv = pdev->dev.driver;
	if (drv && drv->name)
		strscpy(e->driver, drv->name, sizeof(e->driver));
	device_for_each_child(&pdev->dev, &n, names_walk);
	device_unlock(&pdev->dev);
}

static void table_publish(struct ddvm_chan *c, u32 count)
{
	struct ddvm_region_hdr *h = c->hdr;
	struct ddvm_pci_entry *t = (struct ddvm_pci_entry *)((u8 *)c->region +
							      c->layout.pci_table_off);
	u32 old = c->pci_published ? c->pci_cur_count : c->layout.pci_table_max;

	WRITE_ONCE(h->pci_seq, cpu_to_le32(c->pci_seq + 1));
	smp_wmb();	/* seq odd before any entry changes */
	memcpy(t, c->pci_new, (size_t)count * sizeof(*t));
	if (old > count)
		memset(t + count, 0, (size_t)(old - count) * sizeof(*t));
	WRITE_ONCE(h->pci_count, cpu_to_le32(count));
	smp_wmb();	/* entries and count before seq turns even */
	c->pci_seq += 2;
	WRITE_ONCE(h->pci_seq, cpu_to_le32(c->pci_seq));
	swap(c->pci_cur, c->pci_new);
	c->pci_cur_count = count;
	c->pci_published = true;
}

/* Rescan PCI; publish if anything changed since the last publish. */
void ddvm_pci_table_update(struct ddvm_chan *c)
{
	u32 max = c->layout.pci_table_max, n = 0, dropped = 0;
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev) {
		if (n >= max) {
			dropped++;
			continue;
		}
		entry_fill(c, pdev, &c->pci_new[n++]);
	}
	if (dropped && max && !c->pci_overflow_logged) {	/* max 0: a client channel, no table */
		c->pci_overflow_logged = true;
		dev_warn(&c->pdev->dev, "PCI table holds %u entries: %u device(s) left out\n",
			 max, dropped);
	}
	if (c->pci_published && n == c->pci_cur_count &&
	    !memcmp(c->pci_new, c->pci_cur, (size_t)n * sizeof(*c->pci_new)))
		return;
	table_publish(c, n);
}

int ddvm_pci_table_init(struct ddvm_chan *c)
{
	size_t n = max_t(size_t, c->layout.pci_table_max, 1);

	c->pci_cur = kvcalloc(n, sizeof(*c->pci_cur), GFP_KERNEL);
	c->pci_new = kvcalloc(n, sizeof(*c->pci_new), GFP_KERNEL);
	if (!c->pci_cur || !c->pci_new) {
		ddvm_pci_table_free(c);
		return -ENOMEM;
	}
	/* A restarted VM continues the sequence; round up to even. */
	c->pci_seq = (le32_to_cpu(READ_ONCE(c->hdr->pci_seq)) + 1) & ~1u;
	c->pci_cur_count = 0;
	c->pci_published = false;
	return 0;
}

void ddvm_pci_table_free(struct ddvm_chan *c)
{
	kvfree(c->pci_cur);
	kvfree(c->pci_new);
	c->pci_cur = c->pci_new = NULL;
}
