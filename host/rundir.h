/* SPDX-License-Identifier: MIT */
/* The run folder: sockets, logs, pid files and the single-supervisor lock. */
#ifndef DDVM_HOST_RUNDIR_H
#define DDVM_HOST_RUNDIR_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* --rundir, else $DDVM_RUNDIR, else /run/ddvm (root), $XDG_RUNTIME_DIR/ddvm, /tmp/ddvm-UID. */
void rundir_resolve(const char *opt, char *out, size_t len);

/*
 * Create dir (mode 0700) if it is missing and check that it is private to
 * us: a folder, not a symlink, owned by our euid, no access for group or
 * others.  An existing folder failing a check is refused, not repaired.
 * 0, or -1 with one line in err naming the folder and what is wrong.
 */
int rundir_private(const char *dir, char *err, size_t errlen);

/* mkdir -p dir's parents (0755), then rundir_private(dir).  0 or -1 (err). */
int rundir_make(const char *dir, char *err, size_t errlen);

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
