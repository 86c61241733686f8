// SPDX-License-Identifier: MIT
/* The run folder and the single-supervisor lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"

void rundir_resolve(const char *opt, char *out, size_t len)
{
	const char *env = getenv("DDVM_RUNDIR"), *xdg = getenv("XDG_RUNTIME_DIR");

	if (opt && *opt)
		snprintf(out, len, "%s", opt);
	else if (env && *env)
		snprintf(out, len, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, len, "/run/ddvm");
	else if (xdg && *xdg)
		snprintf(out, len, "%s/ddvm", xdg);
	else
		snprintf(out, len, "/tmp/ddvm-%u", (unsigned int)geteuid());
	/* strip trailing slashes (keep "/") */
	while (strlen(out) > 1 && out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = '\0';
}

/* Why an open(O_NOFOLLOW | O_DIRECTORY) of dir failed, in words. */
static void open_failure(const char *dir, int e, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode))
		snprintf(err, errlen, "run folder %s is a symlink: refusing it", dir);
	else if (e == ENOTDIR)
		snprintf(err, errlen, "run folder %s is not a folder: refusing it", dir);
	else
		snprintf(err, errlen, "cannot open run folder %s: %s", dir, strerror(e));
}

int rundir_private(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create run folder %s: %s", dir, strerror(errno));
		return -1;
	}
	/*
	 * Judge what we would really use: the folder itself, opened without
	 * following a symlink, not whatever the path pointed to a moment ago.
	 */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		open_failure(dir, errno, err, errlen);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot stat run folder %s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "run folder %s is owned by uid %u, not %u: refusing it", dir,
			 (unsigned int)st.st_uid, (unsigned int)geteuid());
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "run folder %s has mode %04o, which lets group or others in "
			 "(want 0700): refusing it", dir, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int rundir_make(const char *dir, char *err, size_t errlen)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = strchr(tmp + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s for run folder %s: %s", tmp, dir,
				 strerror(errno));
			return -1;
		}
		*p = '/';
	}
	return rundir_private(dir, err, errlen);
}

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

int rundir_lock(const char *dir, pid_t *holder)
{
	char path[PATH_MAX];
	int fd;

	*holder = 0;
	snprintf(path, sizeof(path), "%s/supervisor.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		*holder = read_pid(fd);
		close(fd);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	return fd;
}

void rundir_lock_set_pid(int fd, pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) != n)
		return;
}

pid_t rundir_lock_holder(const char *dir)
{
	char path[PATH_MAX];
	pid_t pid = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/supervisor.lock", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		pid = read_pid(fd);
	close(fd);
	return pid;
}
