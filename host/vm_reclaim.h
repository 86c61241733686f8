/* SPDX-License-Identifier: MIT */
/* Give back host memory that a running driver VM's QEMU no longer needs. */
#ifndef DDVM_HOST_VM_RECLAIM_H
#define DDVM_HOST_VM_RECLAIM_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Page out QEMU's file mappings of the boot files (kernel ELF, initramfs).
 * QEMU keeps them mapped only to reload guest RAM on a machine reset, which
 * ddvm never asks for (-no-reboot: a reboot is a restart by the supervisor,
 * with a new QEMU).  The pages are clean page cache, so this is only a hint
 * and needs CAP_SYS_NICE.  Returns bytes advised (>= 0) or -errno.
 */
long vm_reclaim_boot_files(pid_t qemu, const char *const paths[], size_t npaths);

#endif
