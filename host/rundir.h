/* SPDX-License-Identifier: MIT */
/* The run folder: sockets, logs, pid files and the single-supervisor lock. */
#ifndef DDVM_HOST_RUNDIR_H
#define DDVM_HOST_RUNDIR_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* --rundir, else $DDVM_RUNDIR, else /run/ddvm (root), $XDG_RUNTIME_DIR/ddvm, /tmp/ddvm-UID. */
void rundir_resolve(const char *opt, char *out, size_t len);

/* mkdir -p dir (mode 0700 for the last part).  0 or -errno. */
int rundir_make(const char *dir);

/*
 * Take RUNDIR/supervisor.lock (flock, non-blocking).  Returns the lock fd
 * (close-on-exec; kept across fork), -EBUSY with *holder = the pid written
 * in it if another supervisor holds it, or -errno.
 */
int rundir_lock(const char *dir, pid_t *holder);

/* Write pid into the lock file. */
void rundir_lock_set_pid(int fd, pid_t pid);

/* Pid of the supervisor holding the lock, or 0 if none holds it. */
pid_t rundir_lock_holder(const char *dir);

#endif
