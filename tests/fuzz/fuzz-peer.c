// SPDX-License-Identifier: MIT
/*
 * fuzz-peer: the ivshmem peer (lib/posix/peer.c: the front-ends' and the
 * fake driver VMs' side of the ivshmem server protocol) against a hostile
 * server: any sequence of values, with no fd, several, or fds of any kind,
 * messages split across reads, a server that hangs up mid-message.
 *
 * Input, repeated: a control byte c and a value:
 *   c & 7    what goes with it: 0 nothing, 1 an eventfd, 2 a memfd of the
 *            size the next byte says (x 4 KiB; 0: empty), 3 two eventfds,
 *            4 /dev/null, 5 a pipe's write end (blocking), 6 a socket,
 *            7 five eventfds (more than the peer's control buffer)
 *   c >> 3 & 3  the value: 0 next byte as a signed number, 1 next 2 bytes,
 *            2 the peer's own id, 3 next 8 bytes (little-endian)
 *   c & 0x20  sent in two pieces (3 bytes with the fds, then 5)
 *   c & 0x40  let the peer process what is waiting
 *   c & 0x80  the server hangs up after sending only 4 bytes of it (last)
 *
 * Always: no crash, overflow, leak or blocking call; an error is -EPROTO
 * or -EPIPE with a reason, and after ddvm_peer_close no fd of ours is open.
 * While it has no error: the peer holds exactly the fds it reports (own
 * vectors, each remote peer's vectors, the shm fd, its socket) and no
 * other; at most 16 vectors each, 64 peers, unique ids other than its own;
 * every doorbell fd is an eventfd-like anonymous inode in non-blocking
 * mode (ringing never blocks, never writes a file); the shm is a mapped
 * regular file of 1 byte .. 64 GiB.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "../../lib/posix/peer.c"
#include "must.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	MUST(d != NULL);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static int make_fds(int kind, unsigned int size_pages, int *fds)
{
	int p[2], n = 0, i;

	switch (kind) {
	case 1: fds[n++] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); break;
	case 2:
		fds[n] = memfd_create("fz", MFD_CLOEXEC);
		MUST(fds[n] >= 0 && ftruncate(fds[n], (off_t)size_pages * 4096) == 0);
		n++;
		break;
	case 3:
		fds[n++] = eventfd(0, EFD_CLOEXEC);
		fds[n++] = eventfd(0, EFD_CLOEXEC);
		break;
	case 4: fds[n++] = open("/dev/null", O_RDWR | O_CLOEXEC); break;
	case 5:
		MUST(pipe2(p, O_CLOEXEC) == 0);
		close(p[0]);
		fds[n++] = p[1];
		break;
	case 6: fds[n++] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0); break;
	case 7:
		for (i = 0; i < 5; i++)
			fds[n++] = eventfd(0, EFD_CLOEXEC);
		break;
	}
	for (i = 0; i < n; i++)
		MUST(fds[i] >= 0);
	return n;
}

/* 0, or -1 if the socket takes no more (buffer full, too many fds in flight). */
static int send_piece(int s, const void *p, size_t len, const int *fds, int nfds)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * 8)]; } ctl;
	struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(s, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void is_doorbell(int fd)
{
	struct stat st;

	MUST(fd >= 0 && fstat(fd, &st) == 0);
	MUST((st.st_mode & S_IFMT) == 0);
	MUST(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

/* The peer's state is consistent and it holds exactly what it says. */
static void check_state(struct ddvm_peer *p, int base_fds)
{
	unsigned int i, j, v;
	int held = 1;		/* its socket */

	MUST(p->nvectors <= DDVM_PEER_MAX_VECTORS);
	for (v = 0; v < p->nvectors; v++)
		is_doorbell(p->own_efd[v]);
	held += (int)p->nvectors;
	for (i = 0; i < DDVM_PEER_MAX_PEERS; i++) {
		const struct ddvm_peer_remote *r = &p->peers[i];

		if (!r->used)
			continue;
		MUST(r->nvec <= DDVM_PEER_MAX_VECTORS);
		MUST(r->id != p->id);
		for (j = i + 1; j < DDVM_PEER_MAX_PEERS; j++)
			MUST(!p->peers[j].used || p->peers[j].id != r->id);
		for (v = 0; v < r->nvec; v++)
			is_doorbell(r->efd[v]);
		held += (int)r->nvec;
	}
	if (p->shm_fd >= 0) {
		struct stat st;

		held++;
		MUST(p->shm != NULL && fstat(p->shm_fd, &st) == 0 && S_ISREG(st.st_mode));
		MUST(st.st_size > 0 && (uint64_t)st.st_size == p->shm_size &&
		     p->shm_size <= DDVM_PEER_MAX_SHM);
	}
	MUST(count_fds() == base_fds + held);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddvm_peer *p = malloc(sizeof(*p));
	int sv[2], base, r = 0, hung_up = 0;
	size_t i = 0;

	base = count_fds();
	init_fields(p);
	MUST(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	p->sock = sv[0];
	while (i < size && r == 0 && !hung_up) {
		uint8_t c = data[i++];
		int fds[8], nfds;
		uint64_t val = 0;
		int sent;

		switch (c >> 3 & 3) {
		case 0:
			if (i < size)
				val = (uint64_t)(int64_t)(int8_t)data[i++];
			break;
		case 1:
			if (size - i >= 2)
				val = (uint64_t)(data[i] | data[i + 1] << 8);
			i += size - i >= 2 ? 2 : size - i;
			break;
		case 2:
			val = p->id;
			break;
		case 3:
			for (int k = 0; k < 8 && i < size; k++)
				val |= (uint64_t)data[i++] << (8 * k);
			break;
		}
		nfds = make_fds(c & 7, (c & 7) == 2 && i < size ? data[i++] : 1, fds);
		if (c & 0x80) {			/* half a message, then gone */
			sent = send_piece(sv[1], &val, 4, fds, nfds);
			hung_up = 1;
		} else if (c & 0x20) {
			sent = send_piece(sv[1], &val, 3, fds, nfds);
			if (sent == 0 && send_piece(sv[1], (uint8_t *)&val + 3, 5, NULL, 0) < 0)
				hung_up = 1;	/* half a message is in: end it there */
		} else {
			sent = send_piece(sv[1], &val, 8, fds, nfds);
		}
		while (nfds)
			close(fds[--nfds]);
		if (sent < 0 && !hung_up)
			c |= 0x40;		/* full: let the peer catch up */
		if (c & 0x40 || hung_up) {
			if (hung_up)
				close(sv[1]);
			r = ddvm_peer_process(p);
			MUST(r == 0 || r == -EPROTO || r == -EPIPE);
			MUST(r == 0 || p->err[0]);
			if (r == 0)
				check_state(p, base + !hung_up);
		}
	}
	if (r == 0 && !hung_up) {
		r = ddvm_peer_process(p);
		MUST(r == 0 || r == -EPROTO);
		if (r == 0) {
			check_state(p, base + 1);
			/* Ringing never blocks: every vector of everyone, more than a pipe holds. */
			for (unsigned int k = 0; k < DDVM_PEER_MAX_PEERS; k++)
				for (unsigned int v = 0; p->peers[k].used && v < p->peers[k].nvec; v++)
					MUST(ddvm_peer_ring(p, p->peers[k].id, v) == 0);
		}
	}
	if (!hung_up)
		close(sv[1]);
	ddvm_peer_close(p);
	pthread_mutex_destroy(&p->lock);
	free(p);
	MUST(count_fds() == base);
	return 0;
}
