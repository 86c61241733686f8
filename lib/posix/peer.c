// SPDX-License-Identifier: MIT
/* ivshmem peer (client side of the ivshmem server protocol).  See peer.h. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ddvm/posix/peer.h"

enum { ST_VERSION, ST_ID, ST_SHM, ST_VECTORS, ST_RUNNING };

static int fail(struct ddvm_peer *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ddvm_peer *p, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return err;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Receive one message: 8 bytes, at most one fd.  Returns 1 with *val and
 * *fd (-1 if none), 0 if nothing is waiting (nonblocking), or -errno.
 */
static int recv_msg(struct ddvm_peer *p, int64_t *val, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	uint64_t le = 0;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	size_t got;
	ssize_t n;
	int nfds = 0, ret = 1;

	*fd = -1;
	do
		n = recvmsg(p->sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : fail(p, -errno, "ivshmem server socket: %s", strerror(errno));
	if (n == 0)
		return fail(p, -EPIPE, "ivshmem server closed the connection");
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t k, cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (nfds++ == 0)
				*fd = f;
			else
				close(f);
		}
	}
	if (nfds > 1)
		ret = fail(p, -EPROTO, "ivshmem server sent %d fds in one message", nfds);
	if (ret > 0 && (m.msg_flags & MSG_CTRUNC))
		ret = fail(p, -EPROTO, "ivshmem server sent too many fds (truncated)");
	/* A stream may split the 8 bytes; the rest follows at once. */
	for (got = (size_t)n; ret > 0 && got < sizeof(le); got += (size_t)n) {
		struct pollfd pf = { .fd = p->sock, .events = POLLIN };

		if (poll(&pf, 1, 1000) != 1) {
			ret = fail(p, -EPROTO, "ivshmem server sent a partial message");
			break;
		}
		n = recv(p->sock, (char *)&le + got, sizeof(le) - got, MSG_DONTWAIT);
		if (n <= 0) {
			ret = fail(p, -EPROTO, "ivshmem server sent a partial message");
			break;
		}
	}
	if (ret < 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return ret;
	}
	*val = (int64_t)le64toh(le);
	return 1;
}

static struct ddvm_peer_remote *remote_find(struct ddvm_peer *p, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < DDVM_PEER_MAX_PEERS; i++)
		if (p->peers[i].used && p->peers[i].id == id)
			return &p->peers[i];
	return NULL;
}

static void remote_clear(struct ddvm_peer_remote *r)
{
	unsigned int v;

	for (v = 0; v < r->nvec; v++)
		close(r->efd[v]);
	r->nvec = 0;
	r->used = 0;
}

static int map_shm(struct ddvm_peer *p)
{
	struct stat st;
	void *m;

	if (fstat(p->shm_fd, &st) < 0)
		return fail(p, -errno, "shared memory fd: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > DDVM_PEER_MAX_SHM)
		return fail(p, -EPROTO, "shared memory fd is not a usable file (size %lld)",
			    (long long)st.st_size);
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->shm_fd, 0);
	if (m == MAP_FAILED)
		return fail(p, -errno, "mmap of shared memory: %s", strerror(errno));
	p->shm = m;
	p->shm_size = (uint64_t)st.st_size;
	return 0;
}

/*
 * A doorbell fd must be what the protocol says, an eventfd (an anonymous
 * inode), and is made non-blocking: ringing it never blocks and never
 * writes to a file, whatever a server sent.  0 or -EPROTO.
 */
static int doorbell_ok(struct ddvm_peer *p, int fd, int64_t id)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != 0)
		return fail(p, -EPROTO, "ivshmem server sent a doorbell for peer %lld that is not an eventfd",
			    (long long)id);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0))
		return fail(p, -EPROTO, "ivshmem server sent a doorbell for peer %lld: %s", (long long)id,
			    strerror(errno));
	return 0;
}

/* One message from the server; takes ownership of fd.  Caller holds the lock. */
static int handle_msg(struct ddvm_peer *p, int64_t val, int fd)
{
	struct ddvm_peer_remote *r;
	unsigned int i;
	int ret = 0;

	switch (p->stage) {
	case ST_VERSION:
		if (val != 0 || fd >= 0)
			ret = fail(p, -EPROTO, "ivshmem server speaks protocol %lld, not 0", (long long)val);
		p->stage = ST_ID;
		break;
	case ST_ID:
		if (val < 0 || val > 0xffff || fd >= 0)
			ret = fail(p, -EPROTO, "ivshmem server gave an invalid peer id %lld", (long long)val);
		p->id = (uint16_t)val;
		p->stage = ST_SHM;
		break;
	case ST_SHM:
		if (val != -1 || fd < 0)
			ret = fail(p, -EPROTO, "ivshmem server sent no shared memory fd");
		else {
			p->shm_fd = fd;
			fd = -1;
			ret = map_shm(p);
		}
		p->stage = ST_VECTORS;
		break;
	default:
		if (val < 0 || val > 0xffff) {
			ret = fail(p, -EPROTO, "ivshmem server sent invalid peer id %lld", (long long)val);
			break;
		}
		if (fd >= 0 && (ret = doorbell_ok(p, fd, val)) < 0)
			break;
		if (val == p->id) {
			if (fd < 0)
				ret = fail(p, -EPROTO, "ivshmem server says we (peer %u) left", p->id);
			else if (p->stage == ST_RUNNING || p->nvectors >= DDVM_PEER_MAX_VECTORS)
				ret = fail(p, -EPROTO, "ivshmem server sent too many own vectors");
			else {
				p->own_efd[p->nvectors++] = fd;
				fd = -1;
			}
			break;
		}
		r = remote_find(p, (uint16_t)val);
		if (fd < 0) {			/* that peer left */
			if (r)
				remote_clear(r);
			break;
		}
		for (i = 0; !r && i < DDVM_PEER_MAX_PEERS; i++)
			if (!p->peers[i].used) {
				r = &p->peers[i];
				r->used = 1;
				r->id = (uint16_t)val;
				r->nvec = 0;
			}
		if (!r)
			ret = fail(p, -EPROTO, "ivshmem server announced more than %d peers",
				   DDVM_PEER_MAX_PEERS);
		else if (r->nvec >= DDVM_PEER_MAX_VECTORS)
			ret = fail(p, -EPROTO, "ivshmem server sent too many vectors for peer %u", r->id);
		else {
			r->efd[r->nvec++] = fd;
			fd = -1;
		}
		break;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Handle every message waiting; 0 or -errno. */
static int drain_locked(struct ddvm_peer *p)
{
	for (;;) {
		int64_t val;
		int fd, r = recv_msg(p, &val, &fd);

		if (r <= 0)
			return r;
		r = handle_msg(p, val, fd);
		if (r < 0)
			return r;
	}
}

/* Vectors per peer, from the peers announced during setup (0 if none). */
static unsigned int setup_vectors(const struct ddvm_peer *p)
{
	unsigned int i, n = 0;

	for (i = 0; i < DDVM_PEER_MAX_PEERS; i++)
		if (p->peers[i].used && p->peers[i].nvec > n)
			n = p->peers[i].nvec;
	return n;
}

static void init_fields(struct ddvm_peer *p)
{
	unsigned int v;

	memset(p, 0, sizeof(*p));
	p->sock = p->shm_fd = -1;
	for (v = 0; v < DDVM_PEER_MAX_VECTORS; v++)
		p->own_efd[v] = -1;
	pthread_mutex_init(&p->lock, NULL);
}

int ddvm_peer_connect(struct ddvm_peer *p, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + timeout_ms;
	int ret, quiet = 0;

	init_fields(p);
	if (!strncmp(path, "fd:", 3)) {
		/* a connection we were handed (ivs_server_pair): ours from now on */
		char *end;
		long fd = strtol(path + 3, &end, 10);
		int type = 0;
		socklen_t len = sizeof(type);

		if (end == path + 3 || *end || fd < 0 || fd > 65535)
			return fail(p, -EINVAL, "%s: expected fd:N, N a file descriptor", path);
		errno = 0;
		if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
			return fail(p, -EBADF, "%s: not a stream socket we were handed (%s)", path,
				    errno ? strerror(errno) : "another type");
		p->sock = (int)fd;
		fcntl(p->sock, F_SETFD, FD_CLOEXEC);
	} else {
		if (strlen(path) >= sizeof(sa.sun_path))
			return fail(p, -ENAMETOOLONG, "socket path %s is too long", path);
		strcpy(sa.sun_path, path);
		p->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (p->sock < 0)
			return fail(p, -errno, "socket: %s", strerror(errno));
		if (connect(p->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			ret = fail(p, -errno, "cannot connect to ivshmem server %s: %s", path,
				   strerror(errno));
			goto err;
		}
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct pollfd pf = { .fd = p->sock, .events = POLLIN };
		int64_t left = deadline - now_ms();

		ret = drain_locked(p);
		if (ret < 0)
			break;
		/*
		 * Every peer announced before our own vectors came with all of
		 * its vectors, so they say how many of ours to expect.  Alone
		 * with the server we cannot know: take what arrived within
		 * 100 ms of silence after the first.
		 */
		if (p->stage == ST_VECTORS && p->nvectors > 0) {
			unsigned int want = setup_vectors(p);

			if (want ? p->nvectors >= want : quiet) {
				p->stage = ST_RUNNING;
				break;
			}
		}
		if (left <= 0) {
			ret = fail(p, -ETIMEDOUT, "ivshmem server %s did not complete the handshake", path);
			break;
		}
		if (p->stage == ST_VECTORS && p->nvectors > 0 && left > 100)
			left = 100;
		quiet = poll(&pf, 1, (int)left) == 0;
	}
	pthread_mutex_unlock(&p->lock);
	if (ret == 0)
		return 0;
err:
	{
		char why[sizeof(p->err)];

		memcpy(why, p->err, sizeof(why));
		ddvm_peer_close(p);
		memcpy(p->err, why, sizeof(why));
	}
	return ret;
}

int ddvm_peer_process(struct ddvm_peer *p)
{
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = drain_locked(p);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int ddvm_peer_eventfd(const struct ddvm_peer *p, unsigned int v)
{
	return v < p->nvectors ? p->own_efd[v] : -1;
}

uint64_t ddvm_peer_drain(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

int ddvm_peer_known(struct ddvm_peer *p, uint16_t id)
{
	int ret;

	if (id == p->id)
		return 1;
	pthread_mutex_lock(&p->lock);
	ret = remote_find(p, id) != NULL;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int ddvm_peer_ring(struct ddvm_peer *p, uint16_t id, unsigned int v)
{
	struct ddvm_peer_remote *r;
	uint64_t one = 1;
	int fd = -1, ret = 0;

	pthread_mutex_lock(&p->lock);
	if (id == p->id)
		fd = v < p->nvectors ? p->own_efd[v] : -1;
	else if ((r = remote_find(p, id)) && v < r->nvec)
		fd = r->efd[v];
	if (fd < 0)
		ret = -ENOENT;
	else if (write(fd, &one, sizeof(one)) != sizeof(one) && errno != EAGAIN)
		ret = -errno;	/* EAGAIN: counter saturated, a doorbell is pending anyway */
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void ddvm_peer_close(struct ddvm_peer *p)
{
	unsigned int i;

	for (i = 0; i < DDVM_PEER_MAX_PEERS; i++)
		if (p->peers[i].used)
			remote_clear(&p->peers[i]);
	for (i = 0; i < p->nvectors; i++)
		close(p->own_efd[i]);
	p->nvectors = 0;
	if (p->shm)
		munmap((void *)p->shm, p->shm_size);
	p->shm = NULL;
	if (p->shm_fd >= 0)
		close(p->shm_fd);
	if (p->sock >= 0)
		close(p->sock);
	p->shm_fd = p->sock = -1;
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_init(&p->lock, NULL);
}
