// SPDX-License-Identifier: MIT
/*
 * fuzz-ivshmem-server: the supervisor's ivshmem server
 * (lib/posix/ivshmem_server.c) against hostile peers: any sequence of
 * connects, peers that send bytes, hang up, read nothing, are dropped, and
 * doorbells rung, for a channel of any capacity and vector count.
 *
 * Input: [0] vectors (1..16), [1] capacity (1..64), then ops, one byte
 * each (k: the op's high bits pick a client):
 *   0 connect a client          1 client k sends a byte
 *   2 client k hangs up         3 ivs_server_drop(client k's id)
 *   4 ring client k's vector    5 the server dispatches until idle
 *   6 client k reads what it was sent (clients read before each check)
 *   7 check now
 *
 * Always: no crash, leak or overflow; at most `capacity` peers, ids unique
 * and never 0; a client is connected iff it got an id and is in the
 * server's table.  Every client's stream is the protocol, in order (0, its
 * id, -1 with the shm fd, then id + eventfd messages), and at each check a
 * connected client knows exactly the server's other peers and peer 0, each
 * with `vectors` doorbells (joins and leaves included); a refused client
 * gets no message at all.  After ivs_server_close no fd of the server's is
 * left open.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ddvm/posix/ivshmem_server.h"
#include "must.h"

#define MAX_CLIENTS	96
#define NO_ID		-1

struct client {
	int sock;		/* -1: gone */
	int stage;		/* 0 version, 1 id, 2 shm, 3 vectors: messages so far */
	int id;			/* NO_ID until told */
	int eof;		/* the server ended the connection */
	int refused;		/* ended before it got an id */
	unsigned int nknown;	/* peers it holds doorbells of (itself and peer 0 included) */
	unsigned char nvec[65536];	/* doorbells it holds of each peer (own included) */
};

static struct client cl[MAX_CLIENTS];
static int nclients;
static unsigned int nvectors, capacity;
static ino_t shm_ino;
static struct ivs_server srv;
static int joins, leaves;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	MUST(d != NULL);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static void on_peer(void *opaque, const struct ivs_peer *p, int connected)
{
	(void)opaque;
	MUST(p->id != IVS_SELF_ID);
	if (connected)
		joins++;
	else
		leaves++;
}

/* Read every message client c has waiting; check it against the protocol. */
static void client_read(struct client *c)
{
	while (c->sock >= 0 && !c->eof) {
		union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * 4)]; } ctl;
		int64_t val = 0;
		struct iovec iov = { .iov_base = &val, .iov_len = 8 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf) };
		struct cmsghdr *h;
		int fd = -1, nfd = 0;
		ssize_t n = recvmsg(c->sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			c->eof = 1;
			if (c->id == NO_ID)
				c->refused = 1;
			MUST(c->stage == 0 || c->id != NO_ID);
			return;
		}
		MUST(n == 8);		/* the server sends whole messages */
		for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
			MUST(h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS);
			MUST(h->cmsg_len == CMSG_LEN(sizeof(int)));
			memcpy(&fd, CMSG_DATA(h), sizeof(int));
			nfd++;
		}
		MUST(nfd <= 1);
		switch (c->stage) {
		case 0:
			MUST(val == 0 && fd < 0);
			c->stage = 1;
			break;
		case 1:
			MUST(val > 0 && val <= 0xffff && fd < 0);
			c->id = (int)val;
			c->stage = 2;
			break;
		case 2: {
			struct stat st;

			MUST(val == -1 && fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == shm_ino);
			c->stage = 3;
			break;
		}
		default:
			MUST(val >= 0 && val <= 0xffff);
			if (fd >= 0) {
				struct stat st;

				MUST(fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0);	/* eventfd */
				MUST(c->nvec[val] < nvectors);
				c->nknown += c->nvec[val]++ == 0;
			} else {
				/* a peer left: one we knew, whole; never ourselves or peer 0 */
				MUST(val != c->id && val != IVS_SELF_ID);
				MUST(c->nvec[val] == nvectors);
				c->nvec[val] = 0;
				c->nknown--;
			}
			break;
		}
		if (fd >= 0)
			close(fd);
	}
}

static void dispatch_idle(void)
{
	int i;

	for (i = 0; i < 64; i++) {
		struct pollfd pf = { .fd = ivs_server_pollfd(&srv), .events = POLLIN };

		if (poll(&pf, 1, 0) != 1)
			return;
		ivs_server_dispatch(&srv);
	}
}

static void check(void)
{
	unsigned int i, j;
	int k;

	dispatch_idle();
	MUST(srv.npeers <= capacity);
	for (i = 0; i < srv.npeers; i++) {
		MUST(srv.peers[i]->id != IVS_SELF_ID);
		for (j = i + 1; j < srv.npeers; j++)
			MUST(srv.peers[i]->id != srv.peers[j]->id);
	}
	for (k = 0; k < nclients; k++) {
		struct client *c = &cl[k];
		const struct ivs_peer *p;

		client_read(c);
		if (c->sock < 0 || c->id == NO_ID)
			continue;
		p = ivs_server_peer(&srv, (uint16_t)c->id);
		if (c->eof) {		/* dropped (or it misbehaved): gone from the table */
			MUST(p == NULL);
			continue;
		}
		MUST(p != NULL);
		/* Its view: peer 0 and every other peer, all vectors; itself, all vectors. */
		MUST(c->nvec[IVS_SELF_ID] == nvectors && c->nvec[c->id] == nvectors);
		for (i = 0; i < srv.npeers; i++)
			MUST(c->nvec[srv.peers[i]->id] == nvectors);
		MUST(c->nknown == srv.npeers + 1);
	}
}

static char path[108];

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int shm, base, k;
	struct stat st;
	size_t i;

	if (size < 2)
		return 0;
	if (!path[0]) {		/* once: what stays open for good (log, reserve fd) */
		snprintf(path, sizeof(path), "/tmp/ddvm-fuzz-ivs.%d.sock", (int)getpid());
		log_set_stream(fopen("/dev/null", "w"));
		MUST(ivs_server_init(&srv, path, 0, 1, NULL, NULL) == 0);
		ivs_server_close(&srv);
		atexit(cleanup);
	}
	base = count_fds();
	nvectors = data[0] % IVS_MAX_VECTORS + 1;
	capacity = data[1] % IVS_MAX_PEERS + 1;
	shm = memfd_create("fz", MFD_CLOEXEC);
	MUST(shm >= 0 && ftruncate(shm, 65536) == 0 && fstat(shm, &st) == 0);
	shm_ino = st.st_ino;
	MUST(ivs_server_init(&srv, path, shm, nvectors, on_peer, NULL) == 0);
	MUST(ivs_server_set_max_peers(&srv, capacity) == 0);
	strcpy(sa.sun_path, path);
	nclients = 0;
	joins = leaves = 0;

	for (i = 2; i < size; i++) {
		unsigned int op = data[i] & 7;
		struct client *c = nclients ? &cl[(data[i] >> 3) % (unsigned int)nclients] : NULL;

		switch (op) {
		case 0:
			if (nclients == MAX_CLIENTS)
				break;
			c = &cl[nclients];
			memset(c, 0, offsetof(struct client, nvec));
			memset(c->nvec, 0, sizeof(c->nvec));
			c->id = NO_ID;
			c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
			MUST(c->sock >= 0);
			if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				close(c->sock);	/* backlog full (EAGAIN): nothing to check */
				break;
			}
			nclients++;
			break;
		case 1:
			if (c && c->sock >= 0)
				(void)send(c->sock, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			break;
		case 2:
			if (c && c->sock >= 0) {
				close(c->sock);
				c->sock = -1;
			}
			break;
		case 3:
			if (c && c->id != NO_ID)
				ivs_server_drop(&srv, (uint16_t)c->id);
			break;
		case 4:
			if (c && c->id != NO_ID) {
				int r = ivs_server_ring(&srv, (uint16_t)c->id, data[i] >> 3 & 15);

				MUST(r == 0 || r == -ENOENT);
			}
			break;
		case 5:
			dispatch_idle();
			break;
		case 6:
			if (c)
				client_read(c);
			break;
		case 7:
			check();
			break;
		}
	}
	check();
	MUST(joins - leaves == (int)srv.npeers);
	for (k = 0; k < nclients; k++)
		if (cl[k].sock >= 0)
			close(cl[k].sock);
	ivs_server_close(&srv);
	close(shm);
	unlink(path);
	MUST(count_fds() == base);
	return 0;
}
