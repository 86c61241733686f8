/* SPDX-License-Identifier: MIT */
/* What every child the supervisor starts (QEMU, front-ends) does first. */
#ifndef DDVM_HOST_SPAWN_H
#define DDVM_HOST_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * In a freshly forked child: default signal mask and SIGPIPE, own process
 * group, SIGKILL when the supervisor dies (and exit at once if it already
 * did), stdin from /dev/null, stdout and stderr appended (or, with
 * truncate, written afresh) to log_path.  Async-signal-safe calls only.
 */
void spawn_child_setup(pid_t parent, const char *log_path, int truncate);

/* In the child: exec argv, or report why not on stderr and _exit(127). */
void spawn_child_exec(char *const argv[]) __attribute__((noreturn));

/* "WHO exited with status N" / "WHO was killed by signal N (name)", from a wait status. */
void spawn_describe_exit(const char *who, int status, char *out, size_t len);

#endif
