/* SPDX-License-Identifier: MIT */
/*
 * Least privilege for what the supervisor starts.  QEMU and the front-ends
 * run as an unprivileged system user (`user` in the config, default
 * "ddvm", created by `make install`): the supervisor opens what they need
 * (disk images, kernels, TAPs, channel connections, sockets) while it is
 * still root and hands them over as fds; the child then drops to that user,
 * keeps no capability (ddvm-tap: CAP_NET_ADMIN alone, for its TAP's MTU and
 * bridge) and sets no_new_privs before exec.  Log pumps stay uid 0, since
 * root owns the run folder they write, but with no capability at all.
 */
#ifndef DDVM_HOST_PRIVILEGE_H
#define DDVM_HOST_PRIVILEGE_H

#include <stddef.h>
#include <sys/types.h>

#define RUN_USER_DEFAULT	"ddvm"
#define RUN_USER_MAX_GROUPS	32

struct run_user {
	int active;			/* children drop to it */
	char name[64];
	uid_t uid;
	gid_t gid;
	int ngroups;			/* its supplementary groups (kvm, for /dev/kvm) */
	gid_t groups[RUN_USER_MAX_GROUPS];
};

/* The one the supervisor resolved (inactive until run_user_init). */
extern struct run_user run_user;

/*
 * Resolve name ("" = the default) for this supervisor: inactive when not
 * root (children run as we do) or when name is "root"; the default user
 * missing is a warning (children then run as root, said in the log and by
 * `ddvm check`), a named one missing an error.  0, or -1 with err.
 */
int run_user_init(const char *name, char *err, size_t len);

/* Why children run as root, or NULL if they do not. */
const char *run_user_why_root(void);

/*
 * In a forked child, after its fds are placed: become the run user (if
 * active) with no capability but keep_cap (-1: none), and no_new_privs,
 * under the seccomp filter of confine.h (no signal or trace but to itself).
 * Never returns on failure: says why on stderr and _exit(127).
 */
void run_user_drop(int keep_cap);

/* A log pump: keep uid 0 but shed every capability (and the bounding set). */
void run_user_shed_caps(void);

/* Under KVM: can the run user open /dev/kvm?  0, or -1 with err saying what to do. */
int run_user_check_kvm(char *err, size_t len);

/*
 * The supervisor, once the run user is known: keep only the capabilities it
 * needs (privilege.c lists them and why), in its bounding set too.  Nothing
 * without an active run user.  0, or -1 with err.
 */
int run_user_limit_supervisor(char *err, size_t len);

/* Give fd's file to the run user (if active), mode unchanged.  0 or -errno. */
int run_user_own(int fd);

#endif
