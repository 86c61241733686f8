/* SPDX-License-Identifier: MIT */
/* Choosing the accelerator: KVM where it really works, else TCG. */
#ifndef DDVM_HOST_ACCEL_H
#define DDVM_HOST_ACCEL_H

#include <stddef.h>

enum accel { ACCEL_TCG, ACCEL_KVM };

/*
 * DDVM_ACCEL=kvm|tcg forces one; otherwise KVM only if /proc/cpuinfo has
 * vmx or svm and /dev/kvm opens read-write.  Writes why into reason.
 * Returns 0, or -1 with one error line in reason (bad DDVM_ACCEL).
 */
int accel_choose(enum accel *out, char *reason, size_t len);

const char *accel_name(enum accel a);

#endif
