// SPDX-License-Identifier: MIT
/*
 * The ivshmem peer (host/peer.c) completes a correct handshake, tracks
 * peers joining and leaving, rings the right eventfds, and turns every
 * protocol violation of a hostile server into -EPROTO (never a crash or an
 * fd leak into the table): wrong version, bad ids, missing shm fd, too many
 * vectors, "we left", a server that hangs up.  The server is a forked child
 * that sends scripted messages.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "../../lib/posix/peer.c"	/* unit.mk links only the protocol library */

/* One scripted message: value, and whether an fd goes with it. */
struct msg { int64_t val; int fd; };	/* fd: 0 none, 1 eventfd, 2 memfd */

static char path[108];

static void send_one(int s, const struct msg *m)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { .iov_base = (void *)&m->val, .iov_len = 8 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = -1;

	if (m->fd == 1)
		fd = eventfd(0, EFD_NONBLOCK);
	if (m->fd == 2) {
		fd = memfd_create("t", 0);
		if (ftruncate(fd, 65536) < 0)
			_exit(2);
	}
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(s, &mh, 0) != 8)
		_exit(3);
	if (fd >= 0)
		close(fd);
}

/*
 * Serve one connection: send setup[], wait for a byte from the parent's
 * control pipe, send later[], then hold the connection until told to go.
 */
static pid_t serve(const struct msg *setup, int nsetup, const struct msg *later, int nlater,
		   int *ctl_w)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls, p[2];
	pid_t pid;

	snprintf(path, sizeof(path), "/tmp/ddvm-test-peer.%d.sock", (int)getpid());
	unlink(path);
	strcpy(sa.sun_path, path);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0 ||
	    pipe(p) < 0)
		exit(1);
	pid = fork();
	if (pid == 0) {
		int s = accept(ls, NULL, NULL), i;
		char c;

		close(p[1]);
		for (i = 0; i < nsetup; i++)
			send_one(s, &setup[i]);
		if (read(p[0], &c, 1) == 1)
			for (i = 0; i < nlater; i++)
				send_one(s, &later[i]);
		while (read(p[0], &c, 1) == 1)
			;
		_exit(0);
	}
	close(ls);
	close(p[0]);
	*ctl_w = p[1];
	return pid;
}

static void reap(pid_t pid, int ctl_w)
{
	close(ctl_w);
	waitpid(pid, NULL, 0);
	unlink(path);
}

/* Connect to a server that sends setup[]; return connect's result. */
static int try_setup(const struct msg *setup, int n)
{
	struct ddvm_peer p;
	int w, r;
	pid_t pid = serve(setup, n, NULL, 0, &w);

	r = ddvm_peer_connect(&p, path, 2000);
	if (r == 0)
		ddvm_peer_close(&p);
	else
		CHECK(p.err[0] != '\0');
	reap(pid, w);
	return r;
}

static void test_good(void)
{
	static const struct msg setup[] = {
		{ 0, 0 }, { 3, 0 }, { -1, 2 },
		{ 0, 1 }, { 0, 1 }, { 5, 1 }, { 5, 1 },	/* peers 0 and 5, 2 vectors each */
		{ 3, 1 }, { 3, 1 },			/* our own */
	};
	static const struct msg later[] = { { 9, 1 }, { 9, 1 }, { 5, 0 } };
	struct ddvm_peer p;
	int w, i;
	pid_t pid = serve(setup, 9, later, 3, &w);

	CHECK_EQ(ddvm_peer_connect(&p, path, 2000), 0);
	CHECK_EQ(p.id, 3);
	CHECK_EQ(p.nvectors, 2);
	CHECK_EQ(p.shm_size, 65536);
	CHECK(p.shm != NULL);
	CHECK(ddvm_peer_known(&p, 0) && ddvm_peer_known(&p, 5) && ddvm_peer_known(&p, 3));
	CHECK(!ddvm_peer_known(&p, 9));
	CHECK_EQ(ddvm_peer_ring(&p, 5, 1), 0);
	CHECK_EQ(ddvm_peer_ring(&p, 5, 2), -ENOENT);
	CHECK_EQ(ddvm_peer_ring(&p, 9, 0), -ENOENT);
	CHECK_EQ(ddvm_peer_ring(&p, 3, 1), 0);		/* ourselves */
	CHECK_EQ(ddvm_peer_drain(ddvm_peer_eventfd(&p, 1)), 1);
	CHECK_EQ(ddvm_peer_drain(ddvm_peer_eventfd(&p, 1)), 0);
	CHECK_EQ(ddvm_peer_eventfd(&p, 2), -1);
	CHECK_EQ(ddvm_peer_process(&p), 0);		/* nothing yet */
	CHECK_EQ(write(w, "x", 1), 1);
	for (i = 0; i < 100 && (ddvm_peer_known(&p, 5) || !ddvm_peer_known(&p, 9)); i++) {
		struct pollfd pf = { .fd = p.sock, .events = POLLIN };

		poll(&pf, 1, 50);
		CHECK_EQ(ddvm_peer_process(&p), 0);
	}
	CHECK(ddvm_peer_known(&p, 9));
	CHECK(!ddvm_peer_known(&p, 5));
	CHECK_EQ(ddvm_peer_ring(&p, 9, 1), 0);
	CHECK_EQ(ddvm_peer_ring(&p, 5, 0), -ENOENT);
	reap(pid, w);					/* server goes away */
	for (i = 0; i < 100; i++) {
		struct pollfd pf = { .fd = p.sock, .events = POLLIN };

		poll(&pf, 1, 50);
		if (ddvm_peer_process(&p) == -EPIPE)
			break;
	}
	CHECK(i < 100);
	ddvm_peer_close(&p);
}

static void test_hostile(void)
{
	static const struct msg ver[] = { { 1, 0 } };
	static const struct msg badid[] = { { 0, 0 }, { 70000, 0 } };
	static const struct msg idfd[] = { { 0, 0 }, { 3, 1 } };
	static const struct msg noshm[] = { { 0, 0 }, { 3, 0 }, { -1, 0 } };
	static const struct msg shmnotfile[] = { { 0, 0 }, { 3, 0 }, { -1, 1 } };
	static const struct msg negpeer[] = { { 0, 0 }, { 3, 0 }, { -1, 2 }, { -7, 1 } };
	static const struct msg weleft[] = { { 0, 0 }, { 3, 0 }, { -1, 2 }, { 3, 0 } };
	static const struct msg hangup[] = { { 0, 0 }, { 3, 0 }, { -1, 2 } };
	struct msg many[3 + DDVM_PEER_MAX_VECTORS + 1] = { { 0, 0 }, { 3, 0 }, { -1, 2 } };
	int i;

	for (i = 3; i < 3 + DDVM_PEER_MAX_VECTORS + 1; i++)
		many[i] = (struct msg){ 4, 1 };
	CHECK_EQ(try_setup(ver, 1), -EPROTO);
	CHECK_EQ(try_setup(badid, 2), -EPROTO);
	CHECK_EQ(try_setup(idfd, 2), -EPROTO);
	CHECK_EQ(try_setup(noshm, 3), -EPROTO);
	CHECK_EQ(try_setup(shmnotfile, 3), -EPROTO);
	CHECK_EQ(try_setup(negpeer, 4), -EPROTO);
	CHECK_EQ(try_setup(weleft, 4), -EPROTO);
	CHECK_EQ(try_setup(many, 3 + DDVM_PEER_MAX_VECTORS + 1), -EPROTO);
	/* The server stops after the shm fd and never sends our vectors. */
	CHECK_EQ(try_setup(hangup, 3), -ETIMEDOUT);
}

/* "fd:N", a connection handed to us: N must be a number and a stream socket. */
static void test_handed_fd(void)
{
	struct ddvm_peer p;
	char arg[32];
	int pp[2], dg[2];

	CHECK_EQ(ddvm_peer_connect(&p, "fd:", 100), -EINVAL);
	CHECK_EQ(ddvm_peer_connect(&p, "fd:7x", 100), -EINVAL);
	CHECK_EQ(ddvm_peer_connect(&p, "fd:-3", 100), -EINVAL);
	CHECK_EQ(ddvm_peer_connect(&p, "fd:99999", 100), -EINVAL);
	CHECK(pipe(pp) == 0);
	snprintf(arg, sizeof(arg), "fd:%d", pp[0]);
	CHECK_EQ(ddvm_peer_connect(&p, arg, 100), -EBADF);	/* not a socket */
	CHECK(strstr(p.err, "not a stream socket") != NULL);
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) == 0);
	snprintf(arg, sizeof(arg), "fd:%d", dg[0]);
	CHECK_EQ(ddvm_peer_connect(&p, arg, 100), -EBADF);	/* not a stream */
	close(pp[0]);
	close(pp[1]);
	close(dg[0]);
	close(dg[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_good();
	test_hostile();
	test_handed_fd();
	return check_summary("test-peer");
}
