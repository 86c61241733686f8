/* SPDX-License-Identifier: MIT */
/*
 * Unix sockets private to the user running ddvm.  Every listening socket of
 * the supervisor (control, ivshmem, QMP) is made with ddvm_listen_private,
 * and every connection it accepts passes ddvm_admit_peer: file permissions
 * keep other users out of the run folder, and SO_PEERCRED refuses whoever
 * still gets a connection (CAP_DAC_OVERRIDE, a loosened folder, a path
 * reached another way).
 */
#ifndef DDVM_POSIX_PRIVATE_SOCK_H
#define DDVM_POSIX_PRIVATE_SOCK_H

#include <sys/socket.h>
#include <sys/types.h>

/* At most this many users besides our own euid (the config's allow_users). */
#define DDVM_ALLOW_MAX	32	/* the config's allow_users and an export's own */

/*
 * Listen on a unix stream socket at path whose file is mode 0600 (type may
 * add SOCK_CLOEXEC / SOCK_NONBLOCK).  A file already at path is removed only
 * if lstat says it is a socket owned by our euid (a stale one of ours); a
 * symlink, anything else or someone else's socket is refused (-ELOOP,
 * -ENOTSOCK, -EPERM, logged with the reason) and nothing is followed.
 * Returns the fd or -errno.
 */
int ddvm_listen_private(const char *path, int type, int backlog);

/*
 * Check an accepted connection's SO_PEERCRED: admitted are our own euid and
 * the nallow uids in allow.  Returns 1 (admitted, *cred filled if not NULL)
 * or 0 (refused: a warning names the socket `what`, the peer's uid and pid;
 * the caller closes sock at once).
 */
int ddvm_admit_peer(int sock, const uid_t *allow, unsigned int nallow, const char *what,
		    struct ucred *cred);

/*
 * accept4() that survives running out of file descriptors: on EMFILE or
 * ENFILE the pending connection is taken with a reserve fd kept for this
 * and closed at once (its client sees the connection end), so a listening
 * socket never stays readable with nothing done about it (which would spin
 * an event loop).  Returns the fd, or -1 with errno (EAGAIN: nothing
 * pending; EMFILE: one connection was refused for want of fds).
 */
int ddvm_accept(int listen_fd, int flags, const char *what);

#endif
