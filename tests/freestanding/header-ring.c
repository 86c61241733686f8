// SPDX-License-Identifier: MIT
/*
 * include/ddvm/ring.h compiles on its own, first and alone, with
 * -ffreestanding -nostdlib -pedantic: no libc, no other ddvm header needed.
 */
#include "ddvm/ring.h"

/* Something to compile, so the object is not empty. */
uint32_t ddvm_fs_ring(const struct ddvm_ring *r);
uint32_t ddvm_fs_ring(const struct ddvm_ring *r)
{
	return r->nslots + (uint32_t)DDVM_RING_ECORRUPT;
}
