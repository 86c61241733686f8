// SPDX-License-Identifier: MIT
/* PCI configuration space and ivshmem discovery for bare metal.  See
 * include/ddvm/bare/pci.h.  Freestanding, x86-64. */
#include "ddvm/bare/pci.h"
#include "ddvm/bare/x86.h"
#include "ddvm/proto.h"
#include "ddvm/transport.h"

#define CFG_ADDR	0xcf8
#define CFG_DATA	0xcfc

#define PCI_COMMAND	0x04
#define PCI_CMD_MEM	0x0002u
#define PCI_CMD_MASTER	0x0004u
#define PCI_CMD_INTX_OFF 0x0400u
#define PCI_STATUS_CAPS	0x0010u
#define PCI_HEADER	0x0c	/* byte 2 of this dword: header type */
#define PCI_BAR0	0x10
#define PCI_CAP_PTR	0x34
#define CAP_MSIX	0x11
#define MSIX_ENABLE	0x8000u
#define MSIX_MASKALL	0x4000u

static volatile uint32_t *ecam_addr(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off)
{
	return (volatile uint32_t *)(p->ecam + ((uint64_t)(bdf - ((uint32_t)p->bus_first << 8)) << 12) +
				     (off & 0xffcu));
}

uint32_t ddvm_bare_pci_read32(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off)
{
	if (p->ecam)
		return *ecam_addr(p, bdf, off);
	ddvm_x86_outl(CFG_ADDR, 0x80000000u | bdf << 8 | (off & 0xfcu));
	return ddvm_x86_inl(CFG_DATA);
}

void ddvm_bare_pci_write32(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off, uint32_t v)
{
	if (p->ecam) {
		*ecam_addr(p, bdf, off) = v;
		return;
	}
	ddvm_x86_outl(CFG_ADDR, 0x80000000u | bdf << 8 | (off & 0xfcu));
	ddvm_x86_outl(CFG_DATA, v);
}

uint16_t ddvm_bare_pci_read16(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off)
{
	return (uint16_t)(ddvm_bare_pci_read32(p, bdf, off & ~3u) >> ((off & 2u) * 8));
}

void ddvm_bare_pci_write16(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off, uint16_t v)
{
	uint32_t shift = (off & 2u) * 8, w = ddvm_bare_pci_read32(p, bdf, off & ~3u);

	/* At offset 4 the other half is the status register: its error bits are
	 * write-1-to-clear, so write them as 0. */
	if ((off & ~3u) == PCI_COMMAND)
		w &= 0xffffu;
	w = (w & ~(0xffffu << shift)) | (uint32_t)v << shift;
	ddvm_bare_pci_write32(p, bdf, off & ~3u, w);
}

/* Size the memory BARs (decoding off meanwhile) and find MSI-X. */
static void probe_fn(const struct ddvm_bare_pci *p, uint32_t bdf, struct ddvm_bare_pci_fn *f)
{
	uint16_t cmd = ddvm_bare_pci_read16(p, bdf, PCI_COMMAND);
	uint32_t i, ptr, guard;

	*f = (struct ddvm_bare_pci_fn){ .bdf = bdf };
	f->vendor = ddvm_bare_pci_read16(p, bdf, 0);
	f->device = ddvm_bare_pci_read16(p, bdf, 2);
	f->revision = (uint8_t)ddvm_bare_pci_read32(p, bdf, 8);
	if ((ddvm_bare_pci_read32(p, bdf, PCI_HEADER) >> 16 & 0x7f) != 0)
		return;		/* a bridge: no BARs of interest */
	ddvm_bare_pci_write16(p, bdf, PCI_COMMAND, (uint16_t)(cmd & ~PCI_CMD_MEM));
	for (i = 0; i < 6; i++) {
		uint32_t off = PCI_BAR0 + 4 * i, lo = ddvm_bare_pci_read32(p, bdf, off), hi = 0;
		uint32_t mlo, mhi = 0xffffffffu;
		int is64 = (lo & 0x7u) == 0x4u;
		uint64_t mask;

		if (lo & 1u)
			continue;	/* I/O space */
		ddvm_bare_pci_write32(p, bdf, off, 0xffffffffu);
		mlo = ddvm_bare_pci_read32(p, bdf, off);
		ddvm_bare_pci_write32(p, bdf, off, lo);
		if (is64 && i < 5) {
			hi = ddvm_bare_pci_read32(p, bdf, off + 4);
			ddvm_bare_pci_write32(p, bdf, off + 4, 0xffffffffu);
			mhi = ddvm_bare_pci_read32(p, bdf, off + 4);
			ddvm_bare_pci_write32(p, bdf, off + 4, hi);
		}
		mask = (uint64_t)mhi << 32 | (mlo & ~0xfu);
		if ((mlo & ~0xfu) != 0) {
			f->bar_size[i] = ~mask + 1;
			f->bar_phys[i] = ((uint64_t)hi << 32 | (lo & ~0xfu));
		}
		if (is64)
			i++;
	}
	ddvm_bare_pci_write16(p, bdf, PCI_COMMAND, cmd);
	if (!(ddvm_bare_pci_read16(p, bdf, 6) & PCI_STATUS_CAPS))
		return;
	ptr = ddvm_bare_pci_read32(p, bdf, PCI_CAP_PTR) & 0xfcu;
	for (guard = 0; ptr >= 0x40 && guard < 48; guard++) {
		uint32_t w = ddvm_bare_pci_read32(p, bdf, ptr);

		if ((w & 0xffu) == CAP_MSIX) {
			uint32_t t = ddvm_bare_pci_read32(p, bdf, ptr + 4);

			f->msix_cap = (uint8_t)ptr;
			f->msix_vectors = (uint16_t)((w >> 16 & 0x7ffu) + 1);
			f->msix_bir = (uint8_t)(t & 7u);
			f->msix_table_off = t & ~7u;
			return;
		}
		ptr = w >> 8 & 0xfcu;
	}
}

int ddvm_bare_pci_find(const struct ddvm_bare_pci *p, uint16_t vendor, uint16_t device,
		       unsigned int nth, struct ddvm_bare_pci_fn *out)
{
	uint32_t first = p->ecam ? p->bus_first : 0, last = p->ecam ? p->bus_last : 255;
	uint32_t bus, dev, fn;

	for (bus = first; bus <= last; bus++)
		for (dev = 0; dev < 32; dev++)
			for (fn = 0; fn < 8; fn++) {
				uint32_t bdf = DDVM_BARE_BDF(bus, dev, fn);
				uint32_t id = ddvm_bare_pci_read32(p, bdf, 0);

				if ((id & 0xffffu) == 0xffffu) {
					if (fn == 0)
						break;	/* no device in this slot */
					continue;
				}
				if ((id & 0xffffu) == vendor && id >> 16 == device &&
				    nth-- == 0) {
					probe_fn(p, bdf, out);
					return 0;
				}
				/* Functions 1..7 only on a multi-function device. */
				if (fn == 0 &&
				    !(ddvm_bare_pci_read32(p, bdf, PCI_HEADER) >> 16 & 0x80u))
					break;
			}
	return -DDVM_ENODEV;
}

int ddvm_bare_ivshmem_find(const struct ddvm_bare_pci *p, unsigned int nth,
			   struct ddvm_bare_pci_fn *out)
{
	int r = ddvm_bare_pci_find(p, DDVM_IVSHMEM_VENDOR, DDVM_IVSHMEM_DEVICE, nth, out);

	if (r < 0)
		return r;
	if (!out->bar_phys[0] || out->bar_size[0] < 16 || !out->bar_phys[2] ||
	    out->bar_size[2] < 0x10000 || !out->msix_cap || out->msix_bir > 5 ||
	    !out->bar_phys[out->msix_bir])
		return -DDVM_EINVAL;
	return 0;
}

void ddvm_bare_pci_enable(const struct ddvm_bare_pci *p, const struct ddvm_bare_pci_fn *f)
{
	uint16_t cmd = ddvm_bare_pci_read16(p, f->bdf, PCI_COMMAND);

	ddvm_bare_pci_write16(p, f->bdf, PCI_COMMAND,
			      (uint16_t)(cmd | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_OFF));
}

int ddvm_bare_msix_route(const struct ddvm_bare_pci *p, const struct ddvm_bare_pci_fn *f,
			 volatile void *table, uint8_t apic_id, uint8_t first_vector,
			 unsigned int n)
{
	volatile uint32_t *e = table;
	uint32_t ctl_off = (uint32_t)f->msix_cap + 2;
	uint16_t ctl;
	unsigned int i;

	if (!f->msix_cap || n == 0 || n > f->msix_vectors || first_vector < 32 ||
	    (unsigned int)first_vector + n > 256)
		return -DDVM_EINVAL;
	/* Enabled with every vector masked while the table is written. */
	ctl = ddvm_bare_pci_read16(p, f->bdf, ctl_off);
	ddvm_bare_pci_write16(p, f->bdf, ctl_off, (uint16_t)(ctl | MSIX_ENABLE | MSIX_MASKALL));
	for (i = 0; i < n; i++) {
		e[4 * i + 3] = 1;				/* masked */
		e[4 * i + 0] = 0xfee00000u | (uint32_t)apic_id << 12;
		e[4 * i + 1] = 0;
		e[4 * i + 2] = (uint32_t)first_vector + i;	/* fixed, edge */
		ddvm_x86_wmb();
		e[4 * i + 3] = 0;				/* unmasked */
	}
	ctl = ddvm_bare_pci_read16(p, f->bdf, ctl_off);
	ddvm_bare_pci_write16(p, f->bdf, ctl_off, (uint16_t)((ctl | MSIX_ENABLE) & ~MSIX_MASKALL));
	return 0;
}
