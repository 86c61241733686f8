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
 * truncate, written afresh) to log_path through a log pump
 * (spawn_log_fd).  The supervisor is single-threaded: fork and exec are
 * safe here.
 */
void spawn_child_setup(pid_t parent, const char *log_path, int truncate);

/*
 * Logs are capped: each is written by a pump process (`ddvm __log`, the
 * ddvm binary itself) that reads a pipe and appends to path until the file
 * holds DDVM_LOG_MAX bytes (default 4 MiB, at least 64 KiB), then renames
 * it to path.1 (replacing the older one) and starts path afresh, cutting
 * at a line's end.  So a QEMU console or a front-end that floods its log
 * uses at most twice the cap on disk, and nothing of ours slows it.  The
 * pump has no fd of ours but the pipe, and ends when every writer has
 * gone (it drains the pipe first).  In a child: returns the pipe's write
 * end (close-on-exec), or, if no pump can be started, path opened for
 * appending, as before.  -1 if neither.
 */
#define SPAWN_LOG_MAX_DEFAULT	(4ull << 20)
#define SPAWN_LOG_MAX_MIN	(64ull << 10)
int spawn_log_fd(const char *path, int truncate);

/*
 * In a child: fd becomes target, inherited across exec -- also when it
 * already is target (the lowest free fd can be a fixed number; dup2 onto
 * itself would keep close-on-exec, and the program would find it closed).
 * 0 or -1.
 */
int spawn_fd_to(int fd, int target);

/* `ddvm __log PATH MAX TRUNCATE`: the pump itself (stdin to PATH).  Exit status. */
int spawn_log_pump(int argc, char **argv);

/*
 * In the child: fds src[i] become dst[i] (inheritable); at most
 * SPAWN_MAX_PLACED, each dst below SPAWN_TMP_FD.  0 or -1.
 */
#define SPAWN_MAX_PLACED	64
#define SPAWN_TMP_FD		512
int spawn_place_fds(const int *src, const int *dst, unsigned int n);

/* In the child (still root): open path (close-on-exec), or say why on stderr and _exit(127). */
int spawn_open(const char *path, int flags);

/*
 * In the child: open the program (path, or argv[0] looked up in PATH) while
 * still root, drop to the run user with keep_cap alone (run_user_drop, -1:
 * none), exec it; or report why not on stderr and _exit(127).
 */
void spawn_child_exec_as(const char *path, char *const argv[], int keep_cap)
	__attribute__((noreturn));

/*
 * The last line a child wrote to its log (what QEMU says as it gives up),
 * without its newline and with anything unprintable as '?', into out; "" if
 * none.  The child has exited but its pump may not have written it yet: an
 * empty log is waited on for up to wait_ms.
 */
void spawn_log_last_line(const char *path, char *out, size_t len, int wait_ms);

/* "WHO exited with status N" / "WHO was killed by signal N (name)", from a wait status. */
void spawn_describe_exit(const char *who, int status, char *out, size_t len);

#endif
