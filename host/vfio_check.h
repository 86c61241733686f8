/* SPDX-License-Identifier: MIT */
/*
 * Before QEMU gets a host PCI function (config type "vfio", docs/vfio.md):
 * what VFIO needs to be safe and to work, each refused with its reason --
 * the IOMMU is on, the function exists and is bound to vfio-pci (`ddvm up
 * --bind` binds it), every other device of its IOMMU group is bound to
 * vfio-pci (or pci-stub), to no driver, or is a bridge (the kernel's own
 * rule for a usable group), and interrupt remapping is available.  Before a
 * driver VM is restarted its functions are reset through sysfs (FLR or
 * whatever reset the kernel has for them); vfio-pci and QEMU reset them
 * again when QEMU opens them.
 *
 * Everything is read from sysfs: /sys, or $DDVM_SYSFS_ROOT instead (tests
 * run the checks against a fake tree).
 */
#ifndef DDVM_HOST_VFIO_CHECK_H
#define DDVM_HOST_VFIO_CHECK_H

#include <stddef.h>

#include "config.h"

/* sysfs: $DDVM_SYSFS_ROOT, else "/sys". */
const char *vfio_sysfs_root(void);
/* out = sysfs root + "/" + the formatted path. */
void vfio_sysfs_path(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Is host function addr ("dddd:bb:dd.f") ready to be passed through?
 * 0 (warn: a warning or ""), or -1 with one line in err naming what is
 * wrong and what to do.
 */
int vfio_check_device(const char *addr, char *err, size_t errlen, char *warn, size_t warnlen);

/*
 * Bind addr to vfio-pci: load vfio-pci if needed, unbind the current
 * driver, driver_override = vfio-pci, drivers_probe; then it must be bound.
 * 0, or -1 with err.
 */
int vfio_bind(const char *addr, char *err, size_t errlen);

/*
 * Every vfio device of vm: with bind, bind those not bound to vfio-pci
 * first (saying so on stderr); then check each.  Warnings on stderr.
 * 0, or -1 with "vm 'X': device N: ..." in err.
 */
int vfio_check_vm(const struct vm_config *vm, int bind, char *err, size_t errlen);

/*
 * Before a driver VM starts: check its vfio devices (as ddvm up did), and
 * on a restart reset each one first.  0, or -1 with err.
 */
int vfio_before_start(const struct vm_config *vm, int restart, char *err, size_t errlen);

#endif
