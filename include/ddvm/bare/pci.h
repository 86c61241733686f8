/* SPDX-License-Identifier: MIT */
/*
 * PCI for libddvm's bare-metal transport: configuration space (port I/O
 * 0xCF8/0xCFC, or an ECAM window the OS has mapped), finding a ddvm
 * channel's ivshmem-doorbell function (1af4:1110), its BARs, turning on
 * memory decoding and bus mastering, and routing its MSI-X vectors to a
 * local APIC.  Freestanding, x86-64; no allocation, no state of its own.
 *
 * The firmware (SeaBIOS, OVMF, coreboot) has assigned the BARs by the time
 * an OS runs; these functions only read them.  Addresses are physical: the
 * OS maps them (BAR0 and the MSI-X table uncached, BAR2 -- the shared
 * region -- write-back, so the ring atomics work).
 */
#ifndef DDVM_BARE_PCI_H
#define DDVM_BARE_PCI_H

#include <stdint.h>

/* Configuration-space access: ecam == NULL means port I/O (bus 0..255). */
struct ddvm_bare_pci {
	volatile uint8_t *ecam;		/* mapped ECAM window of bus_first, or NULL */
	uint8_t bus_first, bus_last;	/* buses the ECAM window covers (port I/O: all) */
};

/* bus:dev.fn */
#define DDVM_BARE_BDF(bus, dev, fn) ((uint32_t)(bus) << 8 | (uint32_t)(dev) << 3 | (uint32_t)(fn))

/* 32-bit config read / write at a 4-byte-aligned offset (< 256 by port I/O). */
uint32_t ddvm_bare_pci_read32(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off);
void ddvm_bare_pci_write32(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off, uint32_t v);
uint16_t ddvm_bare_pci_read16(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off);
void ddvm_bare_pci_write16(const struct ddvm_bare_pci *p, uint32_t bdf, uint32_t off, uint16_t v);

/* One PCI function, as found. */
struct ddvm_bare_pci_fn {
	uint32_t bdf;
	uint16_t vendor, device;
	uint8_t revision;
	/* Memory BARs by index (a 64-bit BAR fills its first index; the second
	 * is 0); phys 0 with size 0 = not present or not assigned. */
	uint64_t bar_phys[6], bar_size[6];
	/* MSI-X: capability offset (0: none), vectors, table's BAR and offset. */
	uint8_t msix_cap, msix_bir;
	uint16_t msix_vectors;
	uint32_t msix_table_off;
};

/*
 * The nth function (0-based, in bus:dev.fn order) with this vendor and
 * device id, its BARs sized.  0, or -DDVM_ENODEV when there are fewer.
 */
int ddvm_bare_pci_find(const struct ddvm_bare_pci *p, uint16_t vendor, uint16_t device,
		       unsigned int nth, struct ddvm_bare_pci_fn *out);

/*
 * The nth ivshmem-doorbell function that can carry a ddvm channel: BAR0
 * (registers, >= 256 bytes), BAR2 (the region, >= 64 KiB) assigned, MSI-X
 * present.  0, -DDVM_ENODEV (no nth ivshmem function) or -DDVM_EINVAL (it
 * is one, but its BARs cannot carry a channel: e.g. ivshmem-plain).
 */
int ddvm_bare_ivshmem_find(const struct ddvm_bare_pci *p, unsigned int nth,
			   struct ddvm_bare_pci_fn *out);

/* Turn on memory decoding and bus mastering (without bus mastering the
 * device's MSI-X writes -- our doorbell interrupts -- are dropped). */
void ddvm_bare_pci_enable(const struct ddvm_bare_pci *p, const struct ddvm_bare_pci_fn *f);

/*
 * Route MSI-X vector i (i < n, n <= f->msix_vectors) to interrupt vector
 * first_vector + i of the local APIC apic_id (xAPIC id, physical
 * destination, fixed delivery, edge) and enable MSI-X.  table: the mapped
 * (uncached) MSI-X table, at f->bar_phys[f->msix_bir] + f->msix_table_off.
 * 0, or -DDVM_EINVAL (no MSI-X, n too large, vectors past 255).
 */
int ddvm_bare_msix_route(const struct ddvm_bare_pci *p, const struct ddvm_bare_pci_fn *f,
			 volatile void *table, uint8_t apic_id, uint8_t first_vector,
			 unsigned int n);

#endif /* DDVM_BARE_PCI_H */
