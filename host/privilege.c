// SPDX-License-Identifier: MIT
/* Dropping to the run user in the supervisor's children (see privilege.h). */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "confine.h"
#include "ddvm/posix/log.h"
#include "privilege.h"

struct run_user run_user;
static char why_root[160];

int run_user_init(const char *name, char *err, size_t len)
{
	int dflt = !name || !name[0];
	struct passwd *pw;
	int n = RUN_USER_MAX_GROUPS;

	memset(&run_user, 0, sizeof(run_user));
	if (dflt)
		name = RUN_USER_DEFAULT;
	if (geteuid() != 0) {
		why_root[0] = '\0';
		return 0;	/* not root: children are as unprivileged as we are */
	}
	if (!strcmp(name, "root")) {
		strfmt(why_root, sizeof(why_root), "the config says user = \"root\"");
		return 0;
	}
	pw = getpwnam(name);
	if (!pw) {
		if (!dflt) {
			strfmt(err, len, "user '%s' (for QEMU and the front-ends) does not exist", name);
			return -1;
		}
		strfmt(why_root, sizeof(why_root), "there is no user '%s' (make install creates it, or "
		       "useradd --system %s)", name, name);
		return 0;
	}
	if (pw->pw_uid == 0) {
		strfmt(err, len, "user '%s' is uid 0: QEMU and the front-ends need an unprivileged "
		       "one", name);
		return -1;
	}
	if (getgrouplist(name, pw->pw_gid, run_user.groups, &n) < 0) {
		strfmt(err, len, "user '%s' is in more than %d groups", name, RUN_USER_MAX_GROUPS);
		return -1;
	}
	run_user.ngroups = n;
	run_user.uid = pw->pw_uid;
	run_user.gid = pw->pw_gid;
	strfmt(run_user.name, sizeof(run_user.name), "%s", name);
	run_user.active = 1;
	why_root[0] = '\0';
	return 0;
}

const char *run_user_why_root(void)
{
	return why_root[0] ? why_root : NULL;
}

/* Effective and permitted become set, inheritable inh. */
static int capset_to(unsigned long long set, unsigned long long inh)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (__u32)set, .permitted = (__u32)set, .inheritable = (__u32)inh },
		{ .effective = (__u32)(set >> 32), .permitted = (__u32)(set >> 32),
		  .inheritable = (__u32)(inh >> 32) },
	};

	return (int)syscall(SYS_capset, &h, d);
}

/* Every capability not in keep out of the bounding set: no exec can bring one back. */
static int drop_bounding(unsigned long long keep)
{
	int c;

	for (c = 0; c < 64; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)	/* past the kernel's last capability */
				break;
			return -1;
		}
	}
	return 0;
}

static void die(const char *what)
{
	dprintf(2, "ddvm: cannot drop privileges to user '%s' (%s): %s\n", run_user.name, what,
		strerror(errno));
	_exit(127);
}

void run_user_drop(int keep_cap)
{
	unsigned long long keep = keep_cap >= 0 ? 1ull << keep_cap : 0;
	pid_t parent = getppid();
	int r;

	if (!run_user.active) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (confine_to_self() < 0) {
			dprintf(2, "ddvm: cannot install the child's seccomp filter: %s\n", strerror(errno));
			_exit(127);
		}
		return;
	}
	if (drop_bounding(keep) < 0)
		die("bounding set");
	if (keep_cap >= 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		die("keepcaps");
	if (setgroups((size_t)run_user.ngroups, run_user.groups) < 0)
		die("setgroups");
	if (setresgid(run_user.gid, run_user.gid, run_user.gid) < 0)
		die("setresgid");
	if (setresuid(run_user.uid, run_user.uid, run_user.uid) < 0)
		die("setresuid");
	/*
	 * A change of uid clears the parent-death signal (spawn_child_setup set
	 * it): set it again, or a child would outlive a supervisor killed with
	 * SIGKILL; and if the supervisor died meanwhile, go now.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die("parent-death signal");
	if (getppid() != parent)
		_exit(127);
	if (setuid(0) == 0) {	/* must be impossible now */
		errno = EPERM;
		die("uid 0 could be regained");
	}
	if (capset_to(keep, keep) < 0)	/* inheritable too: for the ambient set */
		die("capset");
	if (keep_cap >= 0 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, keep_cap, 0, 0) < 0)
		die("ambient capability");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs");
	/* one uid runs every VM's children: none may signal or trace another (confine.h) */
	r = confine_to_self();
	if (r < 0) {
		errno = -r;
		die("seccomp filter");
	}
}

void run_user_shed_caps(void)
{
	if (geteuid() != 0)
		return;
	drop_bounding(0);
	capset_to(0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int run_user_own(int fd)
{
	if (!run_user.active)
		return 0;
	return fchown(fd, run_user.uid, run_user.gid) < 0 ? -errno : 0;
}

int run_user_check_kvm(char *err, size_t len)
{
	struct stat st;
	int i, ok;

	if (!run_user.active || stat("/dev/kvm", &st) < 0)
		return 0;
	ok = (st.st_mode & 006) == 006 || (st.st_uid == run_user.uid && (st.st_mode & 0600) == 0600);
	for (i = 0; !ok && i < run_user.ngroups; i++)
		ok = run_user.groups[i] == st.st_gid && (st.st_mode & 060) == 060;
	if (ok)
		return 0;
	strfmt(err, len, "QEMU runs as user %s, which cannot open /dev/kvm (mode %03o, gid %u): "
	       "add it to that group (usermod -aG kvm %s), or set user = \"root\"", run_user.name,
	       (unsigned int)(st.st_mode & 0777), (unsigned int)st.st_gid, run_user.name);
	return -1;
}

/*
 * What the supervisor itself needs, and why; everything else leaves its
 * bounding set (so nothing it runs gets it back) and its permitted set.
 */
static const int supervisor_caps[] = {
	CAP_NET_ADMIN,		/* TAPs, bridges, links */
	CAP_NET_BIND_SERVICE,	/* an nbd_tcp_port below 1024 */
	CAP_SETUID, CAP_SETGID,	/* children become the run user */
	CAP_SETPCAP,		/* ... with an empty bounding set */
	CAP_CHOWN,		/* the run user's sockets, folders and IOMMU group nodes */
	CAP_DAC_OVERRIDE,	/* disk images, kernels and sockets wherever they are */
	CAP_DAC_READ_SEARCH,
	CAP_FOWNER,
	CAP_KILL,		/* children run as another user */
	CAP_SYS_ADMIN,		/* nbdkit's private /tmp; PCI config space and resets (VFIO) */
	CAP_SYS_PTRACE,		/* QEMU's /proc/PID/maps, and process_madvise on it (vm_reclaim) */
	CAP_SYS_NICE,		/* process_madvise */
	CAP_SYS_RESOURCE,
	CAP_IPC_LOCK,
};

int run_user_limit_supervisor(char *err, size_t len)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct now[2];
	unsigned long long keep = 0;
	unsigned int i;

	if (!run_user.active)
		return 0;
	for (i = 0; i < sizeof(supervisor_caps) / sizeof(supervisor_caps[0]); i++)
		keep |= 1ull << supervisor_caps[i];
	/* of those, what we have (a container may have withheld some) */
	if (syscall(SYS_capget, &h, now) < 0) {
		strfmt(err, len, "cannot read the supervisor's capabilities: %s", strerror(errno));
		return -1;
	}
	keep &= (unsigned long long)now[0].permitted | (unsigned long long)now[1].permitted << 32;
	if (drop_bounding(keep) < 0 || capset_to(keep, 0) < 0) {
		strfmt(err, len, "cannot limit the supervisor's capabilities: %s", strerror(errno));
		return -1;
	}
	return 0;
}
