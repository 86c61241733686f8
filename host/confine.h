/* SPDX-License-Identifier: MIT */
/*
 * One user runs every driver VM's QEMU and front-ends (privilege.h), so the
 * kernel alone would let one that is taken over signal or trace another
 * VM's.  Before exec, each child installs a seccomp filter of its own
 * (stacked under QEMU's -sandbox): no ptrace, no process_vm_readv/writev,
 * no pidfd_send_signal, no tkill, and kill/tgkill only with its own pid.
 * With no_new_privs, which run_user_drop sets first.  x86-64 only (where
 * the filter knows the syscall numbers); elsewhere nothing is installed.
 */
#ifndef DDVM_HOST_CONFINE_H
#define DDVM_HOST_CONFINE_H

/* In the child, just before exec.  0, or -errno (nothing installed). */
int confine_to_self(void);

#endif
