// SPDX-License-Identifier: MIT
/*
 * The ivshmem server sends each new peer exactly the documented message
 * sequence with working fds, tells existing peers about newcomers and
 * leavers, routes doorbells both ways, and drops a misbehaving peer without
 * harm.  The socket is private: 0600, a stale socket of ours is replaced but
 * a symlink, a file or another user's socket never is, and a connection
 * from a uid neither ours nor allowed gets nothing and is closed (as root,
 * children switch to other uids).  Bounds: a connection beyond the
 * channel's capacity gets nothing and is closed, and with no fd left
 * (EMFILE) the pending connection is refused and the listening socket does
 * not stay readable (no busy loop); both logged.  Build:
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
 *      tests/unit/test-ivshmem-server.c lib/posix/ivshmem_server.c lib/posix/log.c \
 *      -o build/test-ivshmem-server
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ddvm/posix/ivshmem_server.h"
#include "ddvm/posix/log.h"
#include "../../lib/posix/private_sock.c"	/* unit.mk links only the server and log.c */

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

/*
 * ivs_server_pair: a peer made without the listening socket (for a child
 * to inherit), set up at once like any other, its pid named later; when
 * its end closes it goes; a full channel refuses one with -EBUSY.
 */
static void pairs(const struct client *a)
{
	const struct ivs_peer *pp;
	uint16_t id, id2;
	int fd, fd2, v, shm;

	fd = ivs_server_pair(&srv, 0, &id);
	REQUIRE(fd >= 0, "ivs_server_pair: %s", strerror(-fd));
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "the pair's end is inheritable already");
	for (v = 0; v < NVEC; v++)
		expect(a->sock, id, 1, NULL, "paired peer advertised to peer 1");
	expect(fd, 0, 0, NULL, "pair: version");
	expect(fd, id, 0, NULL, "pair: own id");
	expect(fd, -1, 1, &shm, "pair: shm");
	close(shm);
	for (v = 0; v < NVEC; v++)
		expect(fd, 0, 1, NULL, "pair: peer 0's vectors");
	for (v = 0; v < NVEC; v++)
		expect(fd, a->id, 1, NULL, "pair: peer 1's vectors");
	for (v = 0; v < NVEC; v++)
		expect(fd, id, 1, NULL, "pair: its own vectors");
	pp = ivs_server_peer(&srv, id);
	CHECK(pp && pp->pid == 0, "paired peer not listed with pid 0");
	CHECK(ivs_server_set_pid(&srv, id, 424242) == 0, "set_pid");
	pp = ivs_server_peer_by_pid(&srv, 424242);
	CHECK(pp && pp->id == id, "paired peer not found by the pid set");
	CHECK(ivs_server_set_pid(&srv, 999, 1) == -ENOENT, "set_pid of a missing peer");
	/* full: capacity 2 (peer 1 and this one) */
	REQUIRE(ivs_server_set_max_peers(&srv, 2) == 0, "capacity 2");
	fd2 = ivs_server_pair(&srv, 0, &id2);
	CHECK(fd2 == -EBUSY, "a pair beyond the capacity: %d", fd2);
	if (fd2 >= 0)
		close(fd2);
	REQUIRE(ivs_server_set_max_peers(&srv, IVS_MAX_PEERS) == 0, "reset capacity");
	close(fd);
	pump();
	expect(a->sock, id, 0, NULL, "paired peer gone when its end closed");
	CHECK(ivs_server_peer(&srv, id) == NULL, "paired peer still listed");
}

static uint64_t drain(int efd)
{
	uint64_t n = 0;

	if (!readable(efd, 1000) || read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}


/* Mode bits of a socket file; -1 if path is not a socket. */
static int socket_mode(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -1;
	return (int)(st.st_mode & 07777);
}

/* A socket file of ours left behind by a server that died. */
static void make_stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, path);
	REQUIRE(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "stale socket");
	close(s);
}

/* What is at the socket path before init: replaced only if a stale socket of ours. */
static void stale_files(const char *dir, int shm)
{
	char path[128], victim[128], buf[8] = "";
	struct ivs_server s2;
	int fd, r;

	snprintf(path, sizeof(path), "%s/other.sock", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);

	CHECK(symlink(victim, path) == 0, "symlink");
	r = ivs_server_init(&s2, path, shm, NVEC, NULL, NULL);
	CHECK(r == -ELOOP, "a symlink at the socket path: init returned %d, expected -ELOOP", r);
	CHECK(access(victim, F_OK) < 0, "init created the symlink's target");
	unlink(path);

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "keep", 4) == 4, "regular file");
	close(fd);
	r = ivs_server_init(&s2, path, shm, NVEC, NULL, NULL);
	CHECK(r == -ENOTSOCK, "a file at the socket path: init returned %d, expected -ENOTSOCK", r);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, 4) == 4 && !memcmp(buf, "keep", 4), "the file was touched");
	close(fd);
	unlink(path);

	make_stale_socket(path);
	r = ivs_server_init(&s2, path, shm, NVEC, NULL, NULL);
	CHECK(r == 0, "a stale socket of ours was not replaced: %d", r);
	CHECK(socket_mode(path) == 0600, "replaced socket mode %o", socket_mode(path));
	ivs_server_close(&s2);
	unlink(path);

	if (geteuid() == 0) {
		make_stale_socket(path);
		CHECK(chown(path, 65534, 65534) == 0, "chown");
		r = ivs_server_init(&s2, path, shm, NVEC, NULL, NULL);
		CHECK(r == -EPERM, "another user's socket: init returned %d, expected -EPERM", r);
		CHECK(socket_mode(path) >= 0, "another user's socket was removed");
		unlink(path);
	}
}

/* Child exit codes of connect_as. */
enum { AS_ADMITTED, AS_CLOSED, AS_TIMEOUT, AS_GARBLED, AS_NO_CONNECT = 10, AS_NO_SETUID };

/*
 * In a child running as uid: connect and read what the server says.
 * AS_ADMITTED: version 0, an id, the shm fd; AS_CLOSED: EOF before any message.
 */
static int connect_as_child(uid_t uid, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t v[3];
	int i, s, fd[3];

	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		return AS_NO_SETUID;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, path);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return AS_NO_CONNECT;
	for (i = 0; i < 3; i++) {
		char c;

		if (!readable(s, 2000))
			return AS_TIMEOUT;
		if (recv(s, &c, 1, MSG_PEEK) == 0)
			return i == 0 ? AS_CLOSED : AS_GARBLED;
		if (recv_msg(s, &v[i], &fd[i]) < 0)
			return AS_GARBLED;
	}
	return v[0] == 0 && v[1] > 0 && fd[1] < 0 && v[2] == -1 && fd[2] >= 0 ? AS_ADMITTED : AS_GARBLED;
}

/* Fork a client running as uid; serve until it exits; its AS_* code. */
static int connect_as(uid_t uid, const char *path)
{
	pid_t pid = fork();
	int st;

	REQUIRE(pid >= 0, "fork");
	if (pid == 0)
		_exit(connect_as_child(uid, path));
	while (waitpid(pid, &st, WNOHANG) == 0)
		if (readable(ivs_server_pollfd(&srv), 20))
			ivs_server_dispatch(&srv);
	pump();
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

/* Log lines go to a memory stream while a refusal is expected. */
static char *logbuf;
static size_t loglen;
static FILE *logf;

static void log_capture(void)
{
	logf = open_memstream(&logbuf, &loglen);
	REQUIRE(logf, "open_memstream");
	log_set_stream(logf);
}

static int log_has(const char *needle)
{
	fflush(logf);
	return logbuf && strstr(logbuf, needle);
}

static void log_release(void)
{
	log_set_stream(NULL);
	fclose(logf);
	fprintf(stderr, "%s", logbuf);
	free(logbuf);
	logbuf = NULL;
}

/* SO_PEERCRED: another uid is refused unless allowed; peer 1 (a) hears only of admitted ones. */
static void other_uids(const char *dir, const char *path, const struct client *a)
{
	uid_t nobody = 65534, stranger = 65533, too_many[DDVM_ALLOW_MAX + 1] = { 0 };
	unsigned int before = srv.npeers;
	int joined_before = joined, r, v;
	char want[256];
	int64_t id;

	CHECK(ivs_server_allow(&srv, too_many, DDVM_ALLOW_MAX + 1) == -EINVAL, "allow list overflow");
	if (geteuid() != 0) {
		printf("test-ivshmem-server: not root, skipping the other-uid checks\n");
		return;
	}
	/* Let other users reach the socket: what is tested is SO_PEERCRED alone. */
	REQUIRE(chmod(dir, 0711) == 0 && chmod(path, 0666) == 0, "chmod");

	log_capture();
	r = connect_as(stranger, path);
	CHECK(r == AS_CLOSED, "uid %u: client result %d, expected refused (%d)", stranger, r, AS_CLOSED);
	snprintf(want, sizeof(want), "%s: refused a connection from uid %u (pid ", path, stranger);
	CHECK(log_has(want), "no log line '%s...'", want);
	log_release();
	CHECK(srv.npeers == before && joined == joined_before, "a refused client was admitted");
	CHECK(!readable(a->sock, 100), "peer 1 was told about a refused client");

	CHECK(ivs_server_allow(&srv, &nobody, 1) == 0, "allow");
	id = srv.next_id;	/* refused clients took none */
	r = connect_as(nobody, path);
	CHECK(r == AS_ADMITTED, "allowed uid %u: client result %d, expected admitted", nobody, r);
	CHECK(joined == joined_before + 1, "the allowed client did not join");
	for (v = 0; v < NVEC; v++)
		expect(a->sock, id, 1, NULL, "allowed client advertised");
	expect(a->sock, id, 0, NULL, "allowed client left");

	log_capture();
	r = connect_as(stranger, path);
	CHECK(r == AS_CLOSED, "uid %u still refused with an allow list: result %d", stranger, r);
	log_release();
	CHECK(srv.npeers == before, "expected %u peers, have %u", before, srv.npeers);
	chmod(dir, 0700);
}

/* Closed by the server with no message at all? */
static int refused_at_once(int s)
{
	char b[8];

	return readable(s, 2000) && recv(s, b, sizeof(b), MSG_DONTWAIT) == 0;
}

/* Capacity and fd exhaustion; a (peer 1) is connected and hears nothing of either. */
static void limits(const char *path, const struct client *a)
{
	unsigned int before = srv.npeers;
	struct rlimit rl, low;
	int s, lowest, r;
	char b[8];

	CHECK(ivs_server_set_max_peers(&srv, 0) == -EINVAL, "capacity 0 accepted");
	CHECK(ivs_server_set_max_peers(&srv, IVS_MAX_PEERS + 1) == -EINVAL, "capacity 65 accepted");

	/* Full: the server already has `before` peers, the channel takes no more. */
	REQUIRE(ivs_server_set_max_peers(&srv, before) == 0, "set capacity");
	log_capture();
	s = connect_to(path);
	CHECK(refused_at_once(s), "a peer beyond the capacity was not refused at once");
	CHECK(log_has("the channel's capacity"), "the refusal was not logged");
	log_release();
	close(s);
	CHECK(srv.npeers == before, "expected %u peers, have %u", before, srv.npeers);
	CHECK(!readable(a->sock, 200), "peer 1 was told about a refused peer");
	REQUIRE(ivs_server_set_max_peers(&srv, IVS_MAX_PEERS) == 0, "reset capacity");

	/* No fd left: the pending connection is taken and closed, nothing spins. */
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	lowest = dup(0);
	REQUIRE(s >= 0 && lowest >= 0, "socket, dup");
	close(lowest);
	REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	low = rl;
	low.rlim_cur = (rlim_t)lowest;	/* every fd below it is open */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, path);
		REQUIRE(connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect");
	}
	log_capture();
	REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit");
	ivs_server_dispatch(&srv);
	r = readable(ivs_server_pollfd(&srv), 0);
	REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit back");
	CHECK(!r, "with no fd left the listening socket stays readable (the loop would spin)");
	CHECK(refused_at_once(s), "the connection that found no fd was not closed");
	CHECK(log_has("out of file descriptors"), "running out of fds was not logged");
	log_release();
	close(s);
	CHECK(srv.npeers == before, "expected %u peers, have %u", before, srv.npeers);
	CHECK(recv(a->sock, b, sizeof(b), MSG_DONTWAIT) < 0, "peer 1 was told about a refused peer");

	/* And with fds again, the next one is served. */
	s = connect_to(path);
	CHECK(srv.npeers == before + 1, "a peer was not admitted after the fds came back");
	close(s);
	pump();
	while (readable(a->sock, 200) && recv_msg(a->sock, &(int64_t){ 0 }, &r) == 0)
		if (r >= 0)
			close(r);
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

	pairs(&a);
	CHECK(socket_mode(path) == 0600, "socket mode %o, expected 0600", socket_mode(path));
	stale_files(dir, shm);
	other_uids(dir, path, &a);
	limits(path, &a);

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
