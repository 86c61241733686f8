// SPDX-License-Identifier: MIT
/*
 * include/ddvm/region.h compiles on its own, first and alone, with
 * -ffreestanding -nostdlib -pedantic: no libc, no other ddvm header needed.
 */
#include "ddvm/region.h"

/* Something to compile, so the object is not empty. */
uint32_t ddvm_fs_region(const struct ddvm_layout *l);
uint32_t ddvm_fs_region(const struct ddvm_layout *l)
{
	return l->nqueues + (uint32_t)sizeof(struct ddvm_pci_info);
}
