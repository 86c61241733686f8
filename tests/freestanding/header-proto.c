// SPDX-License-Identifier: MIT
/*
 * include/ddvm/proto.h compiles on its own, first and alone, with
 * -ffreestanding -nostdlib -pedantic: no libc, no other ddvm header needed.
 */
#include "ddvm/proto.h"

/* Use the inline helpers so their code is generated and checked too. */
int ddvm_fs_proto(uint32_t ev, uint32_t n, uint32_t o);
int ddvm_fs_proto(uint32_t ev, uint32_t n, uint32_t o)
{
	return ddvm_need_event(ev, n, o) + (int)ddvm_ring_bytes(n) +
	       (int)ddvm_le64_to_cpu(ddvm_cpu_to_le32(o)) + (int)sizeof(struct ddvm_region_hdr);
}
