// SPDX-License-Identifier: MIT
/*
 * The ivshmem server sends each new peer exactly the documented message
 * sequence with working fds, tells existing peers about newcomers and
 * leavers, routes doorbells both ways, and drops a misbehaving peer without
 * harm.  Build:
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Ihost \
 *      tests/unit/test-ivshmem-server.c host/ivshmem_server.c host/log.c -o build/test-ivshmem-server
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ddvm/posix/ivshmem_server.h"

#define NVEC	4
#define SHM_SZ	65536

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define REQUIRE(c, ...) do { int ok_ = !!(c); CHECK(ok_, __VA_ARGS__); if (!ok_) exit(1); } while (0)

static struct ivs_server srv;
static int joined, left;

static void on_peer(void *opaque, const struct ivs_peer *p, int connected)
{
	(void)opaque;
	(void)p;
	if (connected)
		joined++;
	else
		left++;
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Let the server handle whatever is pending. */
static void pump(void)
{
	while (readable(ivs_server_pollfd(&srv), 100))
		ivs_server_dispatch(&srv);
}

/* Receive one message: returns 0 and *val, *fd (-1 if none); -1 on EOF/timeout. */
static int recv_msg(int sock, int64_t *val, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = { .iov_base = val, .iov_len = sizeof(*val) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	if (!readable(sock, 2000))
		return -1;
	n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	if (n != sizeof(*val))
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static void expect(int sock, int64_t want, int want_fd, int *fd_out, const char *what)
{
	int64_t v = 0x7777;
	int fd;

	REQUIRE(recv_msg(sock, &v, &fd) == 0, "%s: no message", what);
	CHECK(v == want, "%s: got %lld, expected %lld", what, (long long)v, (long long)want);
	CHECK((fd >= 0) == want_fd, "%s: fd %s", what, want_fd ? "missing" : "unexpected");
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, path);
	REQUIRE(s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
		strerror(errno));
	pump();
	return s;
}

/* A client's view: its id, its own eventfds, and the other peers' eventfds. */
struct client {
	int sock;
	int64_t id;
	int own[NVEC];
	int peer0[NVEC];
};

static void handshake(struct client *c, const char *path, int64_t want_id,
		      const int64_t *others, int nothers, int (*other_fds)[NVEC])
{
	char what[64];
	int shm, i, v;
	uint8_t *m;

	c->sock = connect_to(path);
	expect(c->sock, 0, 0, NULL, "version");
	expect(c->sock, want_id, 0, NULL, "own id");
	c->id = want_id;
	expect(c->sock, -1, 1, &shm, "shm");
	m = mmap(NULL, SHM_SZ, PROT_READ, MAP_SHARED, shm, 0);
	REQUIRE(m != MAP_FAILED, "mmap of passed shm fd");
	CHECK(m[0] == 0xa5 && m[SHM_SZ - 1] == 0x5a, "shm content not the server's");
	munmap(m, SHM_SZ);
	close(shm);
	for (i = 0; i < nothers; i++)
		for (v = 0; v < NVEC; v++) {
			snprintf(what, sizeof(what), "peer %lld vector %d", (long long)others[i], v);
			expect(c->sock, others[i], 1, &other_fds[i][v], what);
		}
	for (v = 0; v < NVEC; v++) {
		snprintf(what, sizeof(what), "own vector %d", v);
		expect(c->sock, want_id, 1, &c->own[v], what);
	}
}

static uint64_t drain(int efd)
{
	uint64_t n = 0;

	if (!readable(efd, 1000) || read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

int main(void)
{
	char dir[] = "/tmp/ivs-test.XXXXXX", path[128];
	int fds_a[1][NVEC], fds_b[2][NVEC], peer_b_in_a[NVEC];
	struct client a, b;
	int64_t others_a[] = { 0 }, others_b[] = { 0, 1 };
	uint64_t one = 1;
	uint8_t *m;
	int shm, v, c;

	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/ivshmem.sock", dir);
	shm = memfd_create("ivs-test", MFD_CLOEXEC);
	REQUIRE(shm >= 0 && ftruncate(shm, SHM_SZ) == 0, "memfd");
	m = mmap(NULL, SHM_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
	REQUIRE(m != MAP_FAILED, "mmap");
	m[0] = 0xa5;
	m[SHM_SZ - 1] = 0x5a;
	REQUIRE(ivs_server_init(&srv, path, shm, NVEC, on_peer, NULL) == 0, "server init");

	/* First peer: sees peer 0 and itself. */
	handshake(&a, path, 1, others_a, 1, fds_a);
	CHECK(joined == 1, "join callback");
	CHECK(ivs_server_peer_by_pid(&srv, getpid()) != NULL, "SO_PEERCRED pid recorded");

	/* Second peer: sees peers 0 and 1, then itself; peer 1 hears about it. */
	handshake(&b, path, 2, others_b, 2, fds_b);
	for (v = 0; v < NVEC; v++)
		expect(a.sock, 2, 1, &peer_b_in_a[v], "newcomer advertised to peer 1");

	/* Doorbells: server -> peer, peer -> server, peer -> peer. */
	CHECK(ivs_server_ring(&srv, 1, 2) == 0, "ring peer 1");
	CHECK(drain(a.own[2]) == 1, "peer 1 vector 2 not rung by the server");
	CHECK(write(fds_a[0][1], &one, 8) == 8, "peer 1 rings peer 0");
	CHECK(drain(ivs_server_self_eventfd(&srv, 1)) == 1, "server vector 1 not rung by peer 1");
	CHECK(write(peer_b_in_a[3], &one, 8) == 8, "peer 1 rings peer 2");
	CHECK(drain(b.own[3]) == 1, "peer 2 vector 3 not rung by peer 1");
	CHECK(ivs_server_ring(&srv, 9, 0) == -ENOENT, "ring of a missing peer");

	/* Peer 2 leaves: peer 1 gets its id with no fd. */
	close(b.sock);
	pump();
	expect(a.sock, 2, 0, NULL, "leave notification");
	CHECK(left == 1, "leave callback");
	CHECK(ivs_server_peer(&srv, 2) == NULL, "peer 2 still listed");

	/* A peer that sends data is dropped; the others are told; the server lives on. */
	c = connect_to(path);
	for (v = 0; v < NVEC; v++)
		expect(a.sock, 3, 1, NULL, "peer 3 advertised");
	CHECK(write(c, "garbage!", 8) == 8, "write garbage");
	pump();
	expect(a.sock, 3, 0, NULL, "misbehaving peer dropped");
	close(c);

	/* A peer that hangs up mid-handshake does not disturb anything. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, path);
		CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect 4");
	}
	close(c);
	pump();
	CHECK(srv.npeers == 1, "expected 1 peer left, have %u", srv.npeers);

	ivs_server_close(&srv);
	unlink(path);
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "test-ivshmem-server: %d failure(s)\n", failures);
		return 1;
	}
	printf("test-ivshmem-server: ok\n");
	return 0;
}
