// SPDX-License-Identifier: MIT
/* Unix sockets private to the user running ddvm.  See private_sock.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "ddvm/posix/private_sock.h"

/* One fd held in reserve, so a connection can be refused when there are none left. */
static int reserve_fd = -1;

static void reserve(void)
{
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Make room for a new socket at path: only a stale socket of ours goes. */
static int clear_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		pr_err("%s is a symlink: refusing to replace it with a socket", path);
		return -ELOOP;
	}
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("%s exists and is not a socket: refusing to replace it", path);
		return -ENOTSOCK;
	}
	if (st.st_uid != geteuid()) {
		pr_err("%s is a socket owned by uid %u, not %u: refusing to replace it", path,
		       (unsigned int)st.st_uid, (unsigned int)geteuid());
		return -EPERM;
	}
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int ddvm_listen_private(const char *path, int type, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	reserve();		/* for ddvm_accept, while there are fds */
	ret = clear_stale(path);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, type, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Linux creates the socket file with the socket inode's mode minus the
	 * umask, so the file is 0600 from its first moment: no window in which
	 * another user could connect, and no chmod by path (which follows
	 * symlinks).  bind() itself never follows one: an existing path fails.
	 */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, backlog) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static int uid_listed(uid_t uid, const uid_t *allow, unsigned int nallow)
{
	unsigned int i;

	for (i = 0; i < nallow; i++)
		if (allow[i] == uid)
			return 1;
	return 0;
}

int ddvm_admit_peer(int sock, const uid_t *allow, unsigned int nallow, const char *what,
		    struct ucred *cred)
{
	struct ucred c;
	socklen_t len = sizeof(c);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0 || len != sizeof(c)) {
		const char *why = len != sizeof(c) ? "short answer" : strerror(errno);

		pr_warn("%s: refused a connection: cannot read its credentials (SO_PEERCRED): %s",
			what, why);
		return 0;
	}
	if (c.uid != geteuid() && !uid_listed(c.uid, allow, nallow)) {
		pr_warn("%s: refused a connection from uid %u (pid %d): only uid %u (ddvm's own) "
			"and the users allow_users names may connect", what, (unsigned int)c.uid,
			(int)c.pid, (unsigned int)geteuid());
		return 0;
	}
	if (cred)
		*cred = c;
	return 1;
}


int ddvm_accept(int listen_fd, int flags, const char *what)
{
	static struct log_rl rl;
	int fd, e;

	reserve();
	fd = accept4(listen_fd, NULL, NULL, flags);
	if (fd >= 0 || (errno != EMFILE && errno != ENFILE))
		return fd;
	e = errno;
	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		reserve();
	}
	pr_warn_rl(&rl, "%s: out of file descriptors (%s): refusing a connection", what,
		   strerror(e));
	errno = e;
	return -1;
}
