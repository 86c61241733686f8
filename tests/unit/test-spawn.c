// SPDX-License-Identifier: MIT
/*
 * The child-side fd plumbing of host/spawn.c:
 *   - spawn_fd_to makes an fd inheritable at a fixed number, also when it
 *     already is that number (the lowest free fd can be a fixed one: dup2
 *     onto itself keeps close-on-exec, and QEMU found its console closed);
 *   - spawn_place_fds places fds whose sources and targets overlap;
 *   - spawn_log_last_line gives a log's last line, waits (bounded) for an
 *     empty log's pump to write it, and gives "" when nothing comes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "spawn.c"	/* unit.mk links host/loop.c and lib/posix/log.c beside it */

/* What spawn.c needs from privilege.c (not linked: it would drop this test's privileges). */
void run_user_drop(int keep_cap) { (void)keep_cap; }
void run_user_shed_caps(void) {}

static int inheritable(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f >= 0 && !(f & FD_CLOEXEC);
}

/* An fd's identity: two fds are the same file when these match. */
static ino_t ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void test_fd_to(void)
{
	int p[2], q[2];

	CHECK(pipe2(p, O_CLOEXEC) == 0);
	/* onto itself: only close-on-exec goes */
	CHECK_EQ(spawn_fd_to(p[1], p[1]), 0);
	CHECK(inheritable(p[1]));
	/* onto another number: a copy there, inheritable; the original unchanged */
	CHECK(pipe2(q, O_CLOEXEC) == 0);
	CHECK_EQ(spawn_fd_to(q[0], 200), 0);
	CHECK(inheritable(200));
	CHECK(!inheritable(q[0]));
	CHECK_EQ(ino(200), ino(q[0]));
	CHECK_EQ(spawn_fd_to(-1, 201), -1);
	close(200);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

static void test_place_overlapping(void)
{
	int a[2], b[2], src[3], dst[3];
	ino_t ia, ib;

	CHECK(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0);
	ia = ino(a[0]);
	ib = ino(b[0]);
	/* a swap (a -> b's number, b -> a's) and one onto its own number */
	src[0] = a[0], dst[0] = b[0];
	src[1] = b[0], dst[1] = a[0];
	src[2] = a[1], dst[2] = a[1];
	CHECK_EQ(spawn_place_fds(src, dst, 3), 0);
	CHECK_EQ(ino(dst[0]), ia);
	CHECK_EQ(ino(dst[1]), ib);
	CHECK(inheritable(dst[0]) && inheritable(dst[1]) && inheritable(dst[2]));
	CHECK_EQ(spawn_place_fds(src, dst, SPAWN_MAX_PLACED + 1), -1);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s));
	close(fd);
}

static void test_last_line(void)
{
	char dir[] = "/tmp/ddvm-test-spawn.XXXXXX", path[64], out[64], big[3000];
	uint64_t t0;
	pid_t pid;
	int st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/qemu.log", dir);

	write_file(path, "warning: first\nqemu: -add-fd fd=60: fd is not valid\n\n");
	spawn_log_last_line(path, out, sizeof(out), 0);
	CHECK(!strcmp(out, "qemu: -add-fd fd=60: fd is not valid"));
	/* cut to out, unprintable bytes as '?' */
	write_file(path, "x\n\tbad\033[31m byte and a long tail past the end of out: 0123456789abcdef\n");
	spawn_log_last_line(path, out, 16, 0);
	CHECK(!strcmp(out, "?bad?[31m byte "));
	/* a last line longer than what is read (1 KiB): what of it was read, cut to out */
	memset(big, 'a', sizeof(big) - 3);
	big[sizeof(big) - 3] = 'Z';
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	write_file(path, big);
	spawn_log_last_line(path, out, sizeof(out), 0);
	CHECK(strlen(out) == sizeof(out) - 1 && strspn(out, "a") == sizeof(out) - 1);

	/* no log at all, and an empty one nobody writes: "" (and not waiting past the deadline) */
	spawn_log_last_line("/nonexistent/qemu.log", out, sizeof(out), 1000);
	CHECK(!strcmp(out, ""));
	write_file(path, "");
	t0 = now_ms();
	spawn_log_last_line(path, out, sizeof(out), 150);
	CHECK(!strcmp(out, ""));
	CHECK(now_ms() - t0 >= 150 && now_ms() - t0 < 2000);

	/* an empty log its pump writes a moment later: waited for */
	pid = fork();
	if (pid == 0) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		int fd = open(path, O_WRONLY | O_APPEND);

		nanosleep(&ts, NULL);	/* the late writer this case is about */
		if (fd < 0 || write(fd, "qemu: gave up\n", 14) != 14)
			_exit(1);
		_exit(0);
	}
	t0 = now_ms();
	spawn_log_last_line(path, out, sizeof(out), 5000);
	CHECK(!strcmp(out, "qemu: gave up"));
	CHECK(now_ms() - t0 < 5000);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_fd_to();
	test_place_overlapping();
	test_last_line();
	return check_summary("test-spawn");
}
