// SPDX-License-Identifier: MIT
/*
 * The filter every child of the supervisor runs under (host/confine.c): in
 * a confined child, signals reach only itself (kill and tgkill with its own
 * pid; not its parent, its process group, everyone, or a tid by tkill), and
 * ptrace, process_vm_readv/writev and pidfd_send_signal fail with EPERM,
 * while everything else still works.  The child ends with _exit: the leak
 * checker's stop-the-world needs ptrace, which it no longer has.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "confine.c"	/* unit.mk links only the protocol library */

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	(void)sig;
	got++;
}

/* errno of a call that must fail, or 0 if it succeeded */
#define FAILS_WITH(call) ((call) < 0 ? errno : 0)

static void confined(pid_t parent)
{
	char buf[16] = "", theirs[16];
	struct iovec l = { buf, sizeof(buf) }, r = { theirs, sizeof(theirs) };

	CHECK_EQ(confine_to_self(), 0);
	/* itself: yes */
	signal(SIGUSR1, on_usr1);
	CHECK_EQ(kill(getpid(), SIGUSR1), 0);
	CHECK_EQ(raise(SIGUSR1), 0);	/* tgkill(own pid, tid) */
	CHECK_EQ(got, 2);
	CHECK_EQ(kill(getpid(), 0), 0);
	/* anyone else: no */
	CHECK_EQ(FAILS_WITH(kill(parent, 0)), EPERM);
	CHECK_EQ(FAILS_WITH(kill(parent, SIGKILL)), EPERM);
	CHECK_EQ(FAILS_WITH(kill(0, 0)), EPERM);
	CHECK_EQ(FAILS_WITH(kill(-1, 0)), EPERM);
	CHECK_EQ(FAILS_WITH(syscall(SYS_tgkill, parent, parent, 0)), EPERM);
	CHECK_EQ(FAILS_WITH(syscall(SYS_tkill, (pid_t)syscall(SYS_gettid), 0)), EPERM);
	CHECK_EQ(FAILS_WITH(ptrace(PTRACE_ATTACH, parent, NULL, NULL)), EPERM);
	CHECK_EQ(FAILS_WITH(ptrace(PTRACE_TRACEME, 0, NULL, NULL)), EPERM);
	CHECK_EQ(FAILS_WITH(process_vm_readv(parent, &l, 1, &r, 1, 0)), EPERM);
	CHECK_EQ(FAILS_WITH(process_vm_writev(parent, &l, 1, &r, 1, 0)), EPERM);
	CHECK_EQ(FAILS_WITH(syscall(SYS_pidfd_send_signal, 0, 0, NULL, 0)), EPERM);
	/* the rest: as before */
	CHECK(getppid() == parent);
	CHECK(write(-1, "", 0) < 0 && errno == EBADF);
	{
		int rc = check_summary("test-confine (confined child)");

		fflush(stdout);
		_exit(rc);
	}
}

int main(void)
{
	pid_t parent = getpid(), pid = fork();
	int st = 0;

	if (pid == 0)
		confined(parent);
	CHECK(pid > 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(kill(parent, 0) == 0);	/* the parent is not confined */
	return check_summary("test-confine");
}
