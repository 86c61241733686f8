/* SPDX-License-Identifier: MIT */
/* Commands that talk to a running supervisor: status, down, ping. */
#ifndef DDVM_HOST_CLIENT_H
#define DDVM_HOST_CLIENT_H

/* Each returns the process exit code. */
int client_status(const char *rundir, int json);
int client_down(const char *rundir, unsigned int timeout_s);
int client_ping(const char *rundir, const char *vm, unsigned int count, int json);
int client_crash(const char *rundir, const char *vm);
int client_inject(const char *rundir, const char *vm, const char *fault);
int client_link(const char *rundir, const char *vm, unsigned int dev, int up);
/* `ddvm qemu-args [--virtio] CLIENT`: the options that attach a client VM. */
int client_qemu_args(const char *rundir, const char *name, int virtio);

#endif
