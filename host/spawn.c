// SPDX-License-Identifier: MIT
/* Child-side setup shared by QEMU and front-end processes (see spawn.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "loop.h"
#include "privilege.h"
#include "spawn.h"

/* The cap per log file: DDVM_LOG_MAX bytes (at least 64 KiB), default 4 MiB. */
static unsigned long long log_max(void)
{
	const char *e = getenv("DDVM_LOG_MAX");
	unsigned long long v = e && *e ? strtoull(e, NULL, 0) : 0;

	if (!v)
		v = SPAWN_LOG_MAX_DEFAULT;
	return v < SPAWN_LOG_MAX_MIN ? SPAWN_LOG_MAX_MIN : v;
}

int spawn_fd_to(int fd, int target)
{
	if (fd == target)	/* dup2 onto itself would leave close-on-exec as it is */
		return fcntl(fd, F_SETFD, 0) < 0 ? -1 : 0;
	return dup2(fd, target) < 0 ? -1 : 0;
}

int spawn_log_fd(const char *path, int truncate)
{
	char max[32], trunc[2] = { truncate ? '1' : '0', '\0' };
	int p[2], fd;
	pid_t pid;

	snprintf(max, sizeof(max), "%llu", log_max());
	if (pipe2(p, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid == 0) {
			/* The pump: the pipe as stdin, nothing else of ours open. */
			setsid();
			if (spawn_fd_to(p[0], 0) < 0)
				_exit(127);
			fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				spawn_fd_to(fd, 1);
				spawn_fd_to(fd, 2);
			}
			syscall(SYS_close_range, 3u, ~0u, 0u);
			run_user_shed_caps();	/* uid 0 (root owns the run folder), no capability */
			execl("/proc/self/exe", "ddvm-log", "__log", path, max, trunc, (char *)NULL);
			_exit(127);
		}
		close(p[0]);
		if (pid > 0)
			return p[1];
		close(p[1]);
	}
	/* No pump: the file itself, uncapped, as before. */
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
}

#define SPAWN_CLOSE_RANGE_CLOEXEC	4u	/* CLOSE_RANGE_CLOEXEC, Linux 5.11 */

/* Without close_range: mark every open fd >= from close-on-exec, one by one. */
static void cloexec_all_from(int from)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (fd >= from && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

void spawn_child_setup(pid_t parent, const char *log_path, int truncate)
{
	sigset_t all;
	int fd;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)	/* the supervisor died before prctl */
		_exit(127);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = spawn_log_fd(log_path, truncate);
	if (fd >= 0) {
		spawn_fd_to(fd, 1);
		spawn_fd_to(fd, 2);
		if (fd > 2)
			close(fd);
	}
	/*
	 * A child holds only the fds it is handed: whatever else is open here
	 * (the supervisor's own are close-on-exec, but it may have inherited
	 * some from whoever started it) goes at exec.  The callers place the
	 * fds they hand over after this, with dup2, which keeps them.
	 */
	if (syscall(SYS_close_range, 3u, ~0u, SPAWN_CLOSE_RANGE_CLOEXEC) < 0)
		cloexec_all_from(3);
}

/* Write all of buf (a full disk drops it: the pump must keep reading). */
static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

int spawn_log_pump(int argc, char **argv)
{
	static char buf[65536];
	char old[PATH_MAX + 8];
	unsigned long long max, size = 0;
	const char *path;
	struct stat st;
	int fd;

	if (argc != 4)
		return 2;
	path = argv[1];
	max = strtoull(argv[2], NULL, 0);
	if (max < SPAWN_LOG_MAX_MIN)
		max = SPAWN_LOG_MAX_MIN;
	snprintf(old, sizeof(old), "%s.1", path);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);	/* ends at EOF: when every writer has gone */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (argv[3][0] == '1' ? O_TRUNC : 0),
		  0644);
	if (fd >= 0 && fstat(fd, &st) == 0)
		size = (unsigned long long)st.st_size;
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (off < (size_t)n) {
			size_t k = (size_t)n - off, room, cut;

			if (size >= max) {		/* full: the older half goes */
				if (fd >= 0)
					close(fd);
				rename(path, old);
				fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
				size = 0;
			}
			room = (size_t)(max - size);
			cut = k;
			if (cut > room) {	/* end the file at a line's end, if one fits */
				const char *nl = NULL;
				size_t i;

				for (i = room; i > 0 && !nl; i--)
					if (buf[off + i - 1] == '\n')
						nl = buf + off + i - 1;
				/* no line end fits: a new file for this line (one longer than max is cut) */
				cut = nl ? (size_t)(nl - (buf + off)) + 1 : size ? 0 : room;
			}
			if (fd >= 0)
				write_all(fd, buf + off, cut);
			off += cut;
			size += cut;
			if (cut < k)
				size = max;	/* rotate before the rest */
		}
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The last line in path, as spawn_log_last_line gives it; "" if none. */
static void read_last_line(const char *path, char *out, size_t len)
{
	char buf[1024];
	ssize_t n = -1;
	size_t end, start, o = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd >= 0 && fstat(fd, &st) == 0)
		n = pread(fd, buf, sizeof(buf),
			  st.st_size > (off_t)sizeof(buf) ? st.st_size - (off_t)sizeof(buf) : 0);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	end = (size_t)n;
	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r' || buf[end - 1] == ' '))
		end--;
	for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
		;
	for (; start < end && o + 1 < len; start++)
		out[o++] = buf[start] >= 0x20 && buf[start] < 0x7f ? buf[start] : '?';
	out[o] = '\0';
}

void spawn_log_last_line(const char *path, char *out, size_t len, int wait_ms)
{
	struct pollfd pfd = { .events = POLLIN };
	uint64_t deadline = now_ms() + (uint64_t)(wait_ms > 0 ? wait_ms : 0);
	char ev[4096];

	if (len == 0)
		return;
	read_last_line(path, out, len);
	if (out[0] || wait_ms <= 0)
		return;
	/* Nothing yet: the pump may still be writing it.  Until it does (or closes), or the deadline. */
	pfd.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (pfd.fd < 0)
		return;
	if (inotify_add_watch(pfd.fd, path, IN_MODIFY | IN_CLOSE_WRITE) >= 0) {
		for (;;) {
			uint64_t now;

			read_last_line(path, out, len);	/* after the watch: nothing slips between */
			now = now_ms();
			if (out[0] || now >= deadline)
				break;
			if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
				break;
			while (read(pfd.fd, ev, sizeof(ev)) > 0)
				;
		}
	}
	close(pfd.fd);
}

int spawn_place_fds(const int *src, const int *dst, unsigned int n)
{
	int tmp[SPAWN_MAX_PLACED];
	unsigned int i;

	/* in the child's log, for the supervisor to quote (spawn_log_last_line) */
	if (n > SPAWN_MAX_PLACED) {
		dprintf(2, "ddvm: %u fds to hand over, at most %d\n", n, SPAWN_MAX_PLACED);
		return -1;
	}
	/* each out of the way first, so placing one never overwrites another still to be placed */
	for (i = 0; i < n; i++)
		if (src[i] < 0 || (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, SPAWN_TMP_FD)) < 0) {
			dprintf(2, "ddvm: cannot hand over fd %d as fd %d: %s\n", src[i], dst[i],
				src[i] < 0 ? "not open" : strerror(errno));
			return -1;
		}
	for (i = 0; i < n; i++)
		if (dup2(tmp[i], dst[i]) < 0) {	/* dup2 clears close-on-exec */
			dprintf(2, "ddvm: cannot hand over fd %d as fd %d: %s\n", src[i], dst[i],
				strerror(errno));
			return -1;
		}
	for (i = 0; i < n; i++)
		close(tmp[i]);
	return 0;
}

int spawn_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		dprintf(2, "ddvm: cannot open %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	return fd;
}

/*
 * The program, opened while we are still root (so the folders it is in need
 * not be open to the run user): a binary close-on-exec, a script not (its
 * interpreter reads it as /dev/fd/N).  -1 with errno.
 */
static int open_program(const char *path)
{
	char head[2] = "";
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		close(fd);
		errno = EACCES;
		return -1;
	}
	if (pread(fd, head, 2, 0) == 2 && head[0] == '#' && head[1] == '!')
		fcntl(fd, F_SETFD, 0);
	return fd;
}

/* As execvp looks it up. */
static int find_program(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	char full[PATH_MAX];
	int fd, e = ENOENT;

	if (strchr(name, '/'))
		return open_program(name);
	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; p; p = end ? end + 1 : NULL) {
		end = strchr(p, ':');
		snprintf(full, sizeof(full), "%.*s/%s", end ? (int)(end - p) : (int)strlen(p), p, name);
		fd = open_program(full);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT && errno != ENOTDIR)
			e = errno;
	}
	errno = e;
	return -1;
}

void spawn_child_exec_as(const char *path, char *const argv[], int keep_cap)
{
	extern char **environ;
	int fd = find_program(path ? path : argv[0]);

	if (fd < 0) {
		dprintf(2, "ddvm: cannot run %s: %s\n", path ? path : argv[0], strerror(errno));
		_exit(127);
	}
	run_user_drop(keep_cap);
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	dprintf(2, "ddvm: cannot run %s: %s\n", path ? path : argv[0], strerror(errno));
	_exit(127);
}

void spawn_describe_exit(const char *who, int st, char *out, size_t len)
{
	if (WIFEXITED(st))
		strfmt(out, len, "%s exited with status %d", who, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		strfmt(out, len, "%s was killed by signal %d (%s)", who, WTERMSIG(st),
		       strsignal(WTERMSIG(st)));
	else
		strfmt(out, len, "%s ended", who);
}
