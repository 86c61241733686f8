// SPDX-License-Identifier: MIT
/* ivshmem server (QEMU ivshmem-doorbell protocol).  See ivshmem_server.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ddvm/posix/ivshmem_server.h"
#include "ddvm/posix/log.h"

#define LISTEN_TAG	0		/* epoll data for the listen socket */

static void efds_close(struct ivs_peer *p)
{
	unsigned int v;

	for (v = 0; v < IVS_MAX_VECTORS; v++) {
		if (p->efd[v] >= 0)
			close(p->efd[v]);
		p->efd[v] = -1;
	}
}

static int efds_open(struct ivs_peer *p, unsigned int n)
{
	unsigned int v;

	for (v = 0; v < IVS_MAX_VECTORS; v++)
		p->efd[v] = -1;
	for (v = 0; v < n; v++) {
		p->efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->efd[v] < 0) {
			int e = -errno;

			efds_close(p);
			return e;
		}
	}
	return 0;
}

/* One message: a little-endian int64, optionally with one fd. */
static int send_msg(int sock, int64_t val, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	uint64_t le = (uint64_t)val;	/* x86 / little-endian hosts only */
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(le) ? 0 : -1;
}

/* Tell peer `to` about every vector of peer `about` (all fds, or none if gone). */
static void advertise(const struct ivs_server *s, struct ivs_peer *to, const struct ivs_peer *about,
		      int gone)
{
	unsigned int v;

	if (to->dead)
		return;
	if (gone) {
		if (send_msg(to->sock, about->id, -1) < 0)
			to->dead = 1;
		return;
	}
	for (v = 0; v < s->nvectors && !to->dead; v++)
		if (send_msg(to->sock, about->id, about->efd[v]) < 0)
			to->dead = 1;
}

static struct ivs_peer *find(const struct ivs_server *s, uint16_t id, unsigned int *idx)
{
	unsigned int i;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i]->id == id) {
			if (idx)
				*idx = i;
			return s->peers[i];
		}
	return NULL;
}

static void remove_at(struct ivs_server *s, unsigned int i)
{
	struct ivs_peer *p = s->peers[i];
	unsigned int j;

	s->peers[i] = s->peers[--s->npeers];
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->sock, NULL);
	close(p->sock);
	for (j = 0; j < s->npeers; j++)
		advertise(s, s->peers[j], p, 1);
	pr_debug("ivshmem: peer %u (pid %d) left", p->id, (int)p->pid);
	if (s->cb)
		s->cb(s->opaque, p, 0);
	efds_close(p);
	free(p);
}

/* Remove peers marked dead; removing one may mark others (their socket failed). */
static void reap(struct ivs_server *s)
{
	unsigned int i;

	for (i = 0; i < s->npeers;) {
		if (s->peers[i]->dead) {
			remove_at(s, i);
			i = 0;
		} else {
			i++;
		}
	}
}

static int alloc_id(struct ivs_server *s)
{
	unsigned int tries;

	for (tries = 0; tries < 65536; tries++) {
		uint16_t id = s->next_id++;

		if (id == IVS_SELF_ID)
			continue;
		if (!find(s, id, NULL))
			return id;
	}
	return -1;
}

/*
 * Make sock (connected, ours now) peer pid's: an id, the setup messages, and
 * everyone told.  The new id, or -1 (sock closed).
 */
static int add_peer(struct ivs_server *s, int sock, pid_t pid)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct ivs_peer *p;
	unsigned int i, v;
	int id;

	id = s->npeers < s->max_peers ? alloc_id(s) : -1;
	if (id < 0) {
		pr_warn_rl(&s->rl_full, "%s: %u peers already (the channel's capacity): refusing "
			   "a connection from pid %d", s->path, s->npeers, (int)pid);
		close(sock);
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if (!p || efds_open(p, s->nvectors) < 0) {
		pr_warn_rl(&s->rl_full, "%s: out of memory or fds for a new peer (pid %d): refusing it",
			   s->path, (int)pid);
		free(p);
		close(sock);
		return -1;
	}
	p->sock = sock;
	p->id = (uint16_t)id;
	p->pid = pid;

	if (send_msg(sock, 0, -1) < 0 || send_msg(sock, p->id, -1) < 0 ||
	    send_msg(sock, -1, s->shm_fd) < 0)
		p->dead = 1;
	advertise(s, p, &s->self, 0);
	for (i = 0; i < s->npeers; i++)
		advertise(s, p, s->peers[i], 0);
	for (v = 0; v < s->nvectors && !p->dead; v++)
		if (send_msg(sock, p->id, p->efd[v]) < 0)
			p->dead = 1;
	ev.data.u64 = (uint64_t)p->id + 1;
	if (p->dead || epoll_ctl(s->epfd, EPOLL_CTL_ADD, sock, &ev) < 0) {
		pr_warn_rl(&s->rl_peer, "%s: peer (pid %d) failed during setup", s->path, (int)p->pid);
		efds_close(p);
		close(sock);
		free(p);
		return -1;
	}
	for (i = 0; i < s->npeers; i++)
		advertise(s, s->peers[i], p, 0);
	s->peers[s->npeers++] = p;
	pr_debug("ivshmem: peer %u (pid %d) joined", p->id, (int)p->pid);
	if (s->cb)
		s->cb(s->opaque, p, 1);
	reap(s);
	return id;
}

static void accept_one(struct ivs_server *s)
{
	struct ucred cred;
	int sock;

	sock = ddvm_accept(s->listen_fd, SOCK_CLOEXEC | SOCK_NONBLOCK, s->path);
	if (sock < 0)
		return;
	if (!ddvm_admit_peer(sock, s->allow, s->nallow, s->path, &cred)) {
		close(sock);
		return;
	}
	add_peer(s, sock, cred.pid);
}

int ivs_server_pair(struct ivs_server *s, pid_t pid, uint16_t *id)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	r = add_peer(s, sv[0], pid);
	if (r < 0) {
		close(sv[1]);
		return -EBUSY;
	}
	*id = (uint16_t)r;
	return sv[1];
}

int ivs_server_set_pid(struct ivs_server *s, uint16_t id, pid_t pid)
{
	struct ivs_peer *p = find(s, id, NULL);

	if (!p)
		return -ENOENT;
	p->pid = pid;
	return 0;
}

/* A peer's socket is readable: peers never send; EOF or data both end it. */
static void peer_event(struct ivs_server *s, uint16_t id)
{
	struct ivs_peer *p = find(s, id, NULL);
	char buf[64];
	ssize_t n;

	if (!p)
		return;
	n = recv(p->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		pr_warn_rl(&s->rl_peer, "%s: peer %u (pid %d) sent data; disconnecting it", s->path,
			   p->id, (int)p->pid);
	p->dead = 1;
	reap(s);
}

void ivs_server_dispatch(struct ivs_server *s)
{
	struct epoll_event evs[16];
	int n, i;

	n = epoll_wait(s->epfd, evs, 16, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.u64 == LISTEN_TAG)
			accept_one(s);
		else
			peer_event(s, (uint16_t)(evs[i].data.u64 - 1));
	}
}

int ivs_server_init(struct ivs_server *s, const char *path, int shm_fd, unsigned int nvectors,
		    ivs_peer_cb cb, void *opaque)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
	int ret;

	memset(s, 0, sizeof(*s));
	s->listen_fd = s->epfd = -1;
	for (ret = 0; ret < IVS_MAX_VECTORS; ret++)
		s->self.efd[ret] = -1;
	s->self.sock = -1;
	s->self.id = IVS_SELF_ID;
	s->self.pid = getpid();
	s->shm_fd = shm_fd;
	s->nvectors = nvectors;
	s->next_id = 1;
	s->max_peers = IVS_MAX_PEERS;
	s->cb = cb;
	s->opaque = opaque;
	if (nvectors == 0 || nvectors > IVS_MAX_VECTORS || strlen(path) >= sizeof(s->path))
		return -EINVAL;
	strcpy(s->path, path);
	ret = efds_open(&s->self, nvectors);
	if (ret < 0)
		return ret;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		ret = -errno;
		goto err;
	}
	s->listen_fd = ddvm_listen_private(path, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 16);
	if (s->listen_fd < 0) {
		ret = s->listen_fd;
		s->listen_fd = -1;
		goto err;
	}
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0) {
		ret = -errno;
		goto err;
	}
	return 0;
err:
	ivs_server_close(s);
	return ret;
}

int ivs_server_set_max_peers(struct ivs_server *s, unsigned int n)
{
	if (n == 0 || n > IVS_MAX_PEERS)
		return -EINVAL;
	s->max_peers = n;
	return 0;
}

int ivs_server_allow(struct ivs_server *s, const uid_t *uids, unsigned int n)
{
	if (n > DDVM_ALLOW_MAX)
		return -EINVAL;
	if (n)
		memcpy(s->allow, uids, n * sizeof(*uids));
	s->nallow = n;
	return 0;
}

int ivs_server_self_eventfd(const struct ivs_server *s, unsigned int v)
{
	return v < s->nvectors ? s->self.efd[v] : -1;
}

const struct ivs_peer *ivs_server_peer(const struct ivs_server *s, uint16_t id)
{
	return find(s, id, NULL);
}

const struct ivs_peer *ivs_server_peer_by_pid(const struct ivs_server *s, pid_t pid)
{
	unsigned int i;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i]->pid == pid)
			return s->peers[i];
	return NULL;
}

int ivs_server_ring(const struct ivs_server *s, uint16_t id, unsigned int v)
{
	const struct ivs_peer *p = id == IVS_SELF_ID ? &s->self : find(s, id, NULL);
	uint64_t one = 1;

	if (!p || v >= s->nvectors)
		return -ENOENT;
	if (write(p->efd[v], &one, sizeof(one)) != sizeof(one))
		return errno == EAGAIN ? 0 : -errno;	/* EAGAIN: counter saturated, already pending */
	return 0;
}

void ivs_server_drop(struct ivs_server *s, uint16_t id)
{
	struct ivs_peer *p = find(s, id, NULL);

	if (p) {
		p->dead = 1;
		reap(s);
	}
}

void ivs_server_close(struct ivs_server *s)
{
	while (s->npeers) {
		struct ivs_peer *p = s->peers[--s->npeers];

		close(p->sock);
		efds_close(p);
		free(p);
	}
	efds_close(&s->self);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	s->listen_fd = s->epfd = -1;
}
