// SPDX-License-Identifier: MIT
/* Child-side setup shared by QEMU and front-end processes (see spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ddvm/posix/log.h"
#include "spawn.h"

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
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

void spawn_child_exec(char *const argv[])
{
	execvp(argv[0], argv);
	dprintf(2, "ddvm: cannot run %s: %s\n", argv[0], strerror(errno));
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
