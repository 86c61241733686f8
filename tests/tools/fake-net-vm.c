// SPDX-License-Identifier: MIT
/*
 * fake-net-vm: plays a driver VM exporting one NIC, without a VM, for the
 * TAP front-end's tests.  It creates the region (CTRL queue 0, NET queue 1),
 * serves the ivshmem socket as peer 0 and poses as the driver VM (guest
 * state READY, guest_peer_id 0, queue 1 READY with a MAC/MTU/link).  The
 * "NIC" is a second TAP, the wire: NET_TX frames come out of it, frames
 * written into it are answered to posted NET_RX buffers.
 *
 *   SIGUSR1  toggle link_up (and ring the client)
 *   SIGUSR2  simulate a restart: generation + 1, posted RX buffers forgotten,
 *            the rings resumed (resume_idx / resume_gen published); the new
 *            instance publishes the good --mac / --mtu
 *   SIGHUP   the same instance switches between the --first-mac / --first-mtu
 *            and the good ones (corrects its state, or breaks it again)
 *   --first-mac MAC, --first-mtu N  what the first instance publishes instead
 *            of --mac / --mtu (a zero or multicast MAC, an impossible MTU: the
 *            client must wait for a healthy instance, not exit)
 *   --evil=MODE --every=N  misbehave on every Nth response (bad-len: every
 *            Nth RX frame): bad-id, bad-len, bad-off, bad-status, bad-op,
 *            corrupt-index (makes the response ring's prod impossible, then
 *            stops serving), and on every Nth RX frame offload metadata the
 *            client must refuse: bad-meta-csum (checksum field past the
 *            frame), bad-meta-gso (GSO without CSUM), bad-meta-flags (an
 *            unknown flag), bad-meta-gso-size (gso_size 0)
 * It publishes DDVM_NET_F_RX_OFFLOAD (so the client marks its RX posts) but
 * no TX offload, and sends plain frames (no metadata) when honest.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ddvm/ring.h"
#include "ddvm/posix/ivshmem_server.h"
#include "ddvm/posix/log.h"
#include "ddvm/posix/region_setup.h"
#include "ddvm/posix/tap_dev.h"

#define NET_QUEUE	1
#define NET_SLOTS	256
#define NET_CHUNK	2048
#define VEC_NET		1
#define BATCH		64

enum evil { E_NONE, E_BAD_ID, E_BAD_LEN, E_BAD_OFF, E_BAD_STATUS, E_BAD_OP, E_CORRUPT,
	    E_META_CSUM, E_META_GSO, E_META_FLAGS, E_META_GSO_SIZE, E_NMODES };
static const char *const evil_names[] = { "none", "bad-id", "bad-len", "bad-off", "bad-status",
					  "bad-op", "corrupt-index", "bad-meta-csum",
					  "bad-meta-gso", "bad-meta-flags", "bad-meta-gso-size" };
enum { EV_SRV = 1, EV_REQ, EV_WIRE, EV_SIG, EV_TIMER };

struct fake {
	const char *sock_path, *wire_name;
	int evil;
	unsigned int every;
	uint8_t mac[6];
	uint32_t mtu;
	int link;
	uint8_t first_mac[6];		/* --first-mac (if has_first_mac) */
	uint32_t first_mtu;		/* --first-mtu (0: none) */
	int has_first_mac;
	int publish_first;		/* publishing the first_* values now */

	uint8_t *base;
	uint64_t size;
	struct ddvm_layout l;
	struct ddvm_queue_info q;
	struct ddvm_ring req, resp;
	struct ivs_server srv;
	struct tap_dev wire;
	uint32_t generation;
	int dead;

	struct ddvm_slot rxq[NET_SLOTS];	/* posted RX buffers, FIFO */
	uint32_t rx_head, rx_count;
	uint64_t nresp, nrx;
	uint64_t tx_frames, rx_frames, rx_nobuf, inval, evil_done;
	uint8_t frame[65536];
};

static volatile struct ddvm_region_hdr *hdr(struct fake *f)
{
	return (volatile struct ddvm_region_hdr *)f->base;
}

static volatile struct ddvm_queue_state *qstate(struct fake *f)
{
	return (volatile struct ddvm_queue_state *)(f->base + DDVM_QUEUE_STATE_OFF) + NET_QUEUE;
}

static void publish_qstate(struct fake *f)
{
	volatile struct ddvm_queue_state *s = qstate(f);
	int first_mac = f->publish_first && f->has_first_mac;
	int first_mtu = f->publish_first && f->first_mtu;
	unsigned int i;

	for (i = 0; i < 6; i++)
		s->mac[i] = first_mac ? f->first_mac[i] : f->mac[i];
	s->mtu = ddvm_cpu_to_le32(first_mtu ? f->first_mtu : f->mtu);
	s->link_up = ddvm_cpu_to_le16(f->link ? 1 : 0);
	s->features = ddvm_cpu_to_le32(DDVM_NET_F_RX_OFFLOAD);
	for (i = 0; i < 5; i++)
		s->dev_name[i] = "eth0"[i];
	__atomic_store_n(&s->state, ddvm_cpu_to_le32(DDVM_QS_READY), __ATOMIC_RELEASE);
}

static void publish_guest(struct fake *f)
{
	volatile struct ddvm_region_hdr *h = hdr(f);
	const char *rel = "fake-net-vm";
	unsigned int i;

	h->guest_peer_id = ddvm_cpu_to_le16(IVS_SELF_ID);
	h->guest_version = ddvm_cpu_to_le32((uint32_t)DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR);
	for (i = 0; rel[i]; i++)
		h->kernel_release[i] = rel[i];
	__atomic_store_n(&h->generation, ddvm_cpu_to_le32(f->generation), __ATOMIC_RELEASE);
	__atomic_store_n(&h->guest_state, ddvm_cpu_to_le32(DDVM_GUEST_READY), __ATOMIC_RELEASE);
}

static void ring_client(struct fake *f)
{
	uint32_t id = ddvm_le32_to_cpu(__atomic_load_n(&f->req.sh->client_peer_id,
						       __ATOMIC_ACQUIRE));

	if (id != 0 && id <= 0xffff)
		ivs_server_ring(&f->srv, (uint16_t)id, f->q.resp_vector);
}

/* Check a buffer lies inside one chunk of the data area. */
static int buf_ok(const struct fake *f, uint64_t off, uint32_t len)
{
	uint64_t rel;

	if (off < f->q.data_off || off - f->q.data_off >= f->q.data_size)
		return 0;
	rel = off - f->q.data_off;
	return len <= NET_CHUNK - rel % NET_CHUNK && len <= f->q.data_size - rel;
}

/* Push a response, misbehaving as asked. */
static void respond(struct fake *f, const struct ddvm_slot *rq, uint32_t status, uint32_t len)
{
	struct ddvm_slot s = *rq;
	int rx_ok = ddvm_le16_to_cpu(rq->op) == DDVM_OP_NET_RX && status == DDVM_S_OK;
	int hit;

	s.status = ddvm_cpu_to_le32(status);
	s.len = ddvm_cpu_to_le32(len);
	f->nresp++;
	f->nrx += rx_ok;
	hit = f->evil == E_BAD_LEN || f->evil >= E_META_CSUM ? rx_ok && f->nrx % f->every == 0
							      : f->evil != E_NONE && f->nresp % f->every == 0;
	if (hit) {
		f->evil_done++;
		switch (f->evil) {
		case E_BAD_ID:
			s.id = ddvm_cpu_to_le64(f->evil_done & 1 ? ddvm_le64_to_cpu(s.id) + (1ull << 32)
								  : 0xffffffffull);
			break;
		case E_BAD_LEN:
			s.len = ddvm_cpu_to_le32(f->evil_done & 1 ? ddvm_le32_to_cpu(rq->len) + 1 : 5);
			break;
		case E_BAD_OFF:
			s.buf_off = ddvm_cpu_to_le64(ddvm_le64_to_cpu(s.buf_off) + 64);
			break;
		case E_BAD_STATUS:
			s.status = ddvm_cpu_to_le32(42);
			break;
		case E_BAD_OP:
			s.op = ddvm_cpu_to_le16(DDVM_OP_PING);
			break;
		case E_META_CSUM:
			s.flags = ddvm_cpu_to_le16(DDVM_F_NET_CSUM);
			s.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0((uint16_t)len, 16, 0, 0));
			break;
		case E_META_GSO:
			s.flags = ddvm_cpu_to_le16(DDVM_F_NET_GSO_TCPV4);
			s.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0(34, 16, 1448, 54));
			break;
		case E_META_FLAGS:
			s.flags = ddvm_cpu_to_le16(0x8000);
			break;
		case E_META_GSO_SIZE:
			s.flags = ddvm_cpu_to_le16(DDVM_F_NET_CSUM | DDVM_F_NET_GSO_TCPV4);
			s.arg0 = ddvm_cpu_to_le64(ddvm_net_arg0(34, 16, 0, 54));
			break;
		case E_CORRUPT: {
			uint32_t prod = ddvm_le32_to_cpu(f->resp.sh->prod);

			ddvm_prod_publish(&f->resp);
			__atomic_store_n(&f->resp.sh->prod,
					 ddvm_cpu_to_le32(prod + NET_SLOTS + 3), __ATOMIC_RELEASE);
			fprintf(stderr, "fake-net-vm: corrupted the response ring index\n");
			f->dead = 1;
			ring_client(f);
			return;
		}
		}
	}
	if (ddvm_prod_push(&f->resp, &s) < 0)
		fprintf(stderr, "fake-net-vm: response ring full or corrupt; response lost\n");
}

static void handle_req(struct fake *f, const struct ddvm_slot *s)
{
	uint16_t op = ddvm_le16_to_cpu(s->op);
	uint64_t off = ddvm_le64_to_cpu(s->buf_off);
	uint32_t len = ddvm_le32_to_cpu(s->len);

	if (op == DDVM_OP_NET_TX) {
		if (!buf_ok(f, off, len) || len < 14 || len > f->mtu + 18) {
			f->inval++;
			respond(f, s, DDVM_S_INVAL, len);
		} else if (!f->link) {
			respond(f, s, DDVM_S_IOERR, len);
		} else {
			memcpy(f->frame, f->base + off, len);	/* one copy, then use it */
			if (write(f->wire.fd, f->frame, len) == (ssize_t)len)
				f->tx_frames++;
			respond(f, s, DDVM_S_OK, len);
		}
	} else if (op == DDVM_OP_NET_RX) {
		if (!buf_ok(f, off, len) || len < 14 || f->rx_count >= NET_SLOTS) {
			f->inval++;
			respond(f, s, DDVM_S_INVAL, 0);
		} else {
			f->rxq[(f->rx_head + f->rx_count++) % NET_SLOTS] = *s;
		}
	} else {
		respond(f, s, DDVM_S_NOTSUPP, 0);
	}
}

static void serve(struct fake *f)
{
	struct ddvm_slot s;
	int r, space;

	for (;;) {
		space = ddvm_prod_space(&f->resp);
		while (!f->dead && space-- > 0 && (r = ddvm_cons_pop(&f->req, &s)) == 0)
			handle_req(f, &s);
		if (f->dead)
			return;
		ddvm_cons_publish(&f->req);
		if (ddvm_prod_publish(&f->resp))
			ring_client(f);
		if (space < 0) {			/* response ring full: wait for space */
			ddvm_prod_want_space(&f->resp);
			return;
		}
		r = ddvm_cons_want_data(&f->req);
		if (r <= 0) {
			if (r < 0) {
				fprintf(stderr, "fake-net-vm: the client corrupted the request ring\n");
				f->dead = 1;
			}
			return;
		}
	}
}

static void wire_readable(struct fake *f)
{
	int i;

	for (i = 0; i < BATCH; i++) {
		ssize_t n = read(f->wire.fd, f->frame, sizeof(f->frame));
		struct ddvm_slot *rx;

		if (n < 0)
			break;
		if (!f->link || f->dead || n < 14)
			continue;
		if (f->rx_count == 0) {
			f->rx_nobuf++;
			continue;
		}
		rx = &f->rxq[f->rx_head];
		if ((uint32_t)n > ddvm_le32_to_cpu(rx->len))
			continue;			/* bigger than the buffer: dropped */
		memcpy(f->base + ddvm_le64_to_cpu(rx->buf_off), f->frame, (size_t)n);
		f->rx_head = (f->rx_head + 1) % NET_SLOTS;
		f->rx_count--;
		f->rx_frames++;
		respond(f, rx, DDVM_S_OK, (uint32_t)n);
	}
	if (!f->dead && ddvm_prod_publish(&f->resp))
		ring_client(f);
}

static int region_create(struct fake *f)
{
	struct ddvm_region_spec spec;
	int fd;

	memset(&spec, 0, sizeof(spec));
	spec.host_peer_id = IVS_SELF_ID;
	spec.heartbeat_period_ms = 1000;
	spec.pci_table_max = 8;
	spec.nqueues = 2;
	spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_CTRL, .nslots = 8, .data_size = 4096,
					      .req_vector = 0, .resp_vector = DDVM_HOST_VEC_CTRL_RESP };
	spec.q[1] = (struct ddvm_queue_spec){ .kind = DDVM_QK_NET, .nslots = NET_SLOTS,
					      .data_size = NET_SLOTS * NET_CHUNK,
					      .req_vector = VEC_NET, .resp_vector = VEC_NET,
					      .target = "pci=0000:00:03.0" };
	f->size = ddvm_region_bytes_needed(&spec);
	fd = memfd_create("ddvm-fake-net-vm", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)f->size) < 0)
		return -1;
	f->base = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f->base == MAP_FAILED || ddvm_region_setup(f->base, f->size, &spec, &f->l) < 0)
		return -1;
	f->q = f->l.q[NET_QUEUE];
	if (ddvm_ring_bind(&f->req, f->base, f->size, f->q.req_ring_off, NET_SLOTS) < 0 ||
	    ddvm_ring_bind(&f->resp, f->base, f->size, f->q.resp_ring_off, NET_SLOTS) < 0)
		return -1;
	return fd;
}

static void on_signal(struct fake *f, uint32_t sig)
{
	if (sig == SIGUSR1) {
		f->link = !f->link;
		fprintf(stderr, "fake-net-vm: link %s\n", f->link ? "up" : "down");
		publish_qstate(f);
		ring_client(f);
	} else if (sig == SIGUSR2) {
		f->generation++;
		f->rx_count = 0;
		/* As a real successor: resume the rings, saying where (resume_idx), before READY. */
		ddvm_cons_attach(&f->req, f->generation);
		ddvm_prod_attach(&f->resp);
		f->publish_first = 0;	/* the successor is healthy */
		publish_qstate(f);
		fprintf(stderr, "fake-net-vm: restart, generation %u\n", f->generation);
		publish_guest(f);
		ring_client(f);
	} else if (sig == SIGHUP && (f->has_first_mac || f->first_mtu)) {
		f->publish_first = !f->publish_first;
		fprintf(stderr, "fake-net-vm: generation %u publishes the %s parameters\n",
			f->generation, f->publish_first ? "first" : "good");
		publish_qstate(f);
		ring_client(f);
	}
}

static void usage(FILE *out)
{
	fprintf(out, "usage: fake-net-vm --socket PATH --wire TAPNAME [--mac XX:..] [--mtu N]\n"
		     "                   [--first-mac XX:..] [--first-mtu N]\n"
		     "                   [--link-down] [--evil MODE] [--every N]\n"
		     "modes: bad-id bad-len bad-off bad-status bad-op corrupt-index bad-meta-csum\n"
		     "       bad-meta-gso bad-meta-flags bad-meta-gso-size\n");
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int m[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static int parse_args(struct fake *f, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "wire", required_argument, NULL, 'w' },
		{ "mac", required_argument, NULL, 'm' }, { "mtu", required_argument, NULL, 'M' },
		{ "link-down", no_argument, NULL, 'l' }, { "evil", required_argument, NULL, 'e' },
		{ "every", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ "first-mac", required_argument, NULL, 'F' },
		{ "first-mtu", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 }
	};
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': f->sock_path = optarg; break;
		case 'w': f->wire_name = optarg; break;
		case 'l': f->link = 0; break;
		case 'M': f->mtu = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': f->every = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'm':
			if (parse_mac(optarg, f->mac) < 0)
				return -1;
			break;
		case 'F':
			if (parse_mac(optarg, f->first_mac) < 0)
				return -1;
			f->has_first_mac = f->publish_first = 1;
			break;
		case 'U':
			f->first_mtu = (uint32_t)strtoul(optarg, NULL, 10);
			f->publish_first |= f->first_mtu != 0;
			break;
		case 'e':
			for (f->evil = 0; f->evil < E_NMODES; f->evil++)
				if (!strcmp(optarg, evil_names[f->evil]))
					break;
			if (f->evil >= E_NMODES)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return f->sock_path && f->wire_name && f->every > 0 && f->mtu >= 68 &&
	       f->mtu + 18 <= NET_CHUNK ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct fake f = { .every = 5, .mtu = 1500, .link = 1, .generation = 1,
				 .mac = { 0x02, 0xdd, 0x00, 0x00, 0x00, 0x01 } };
	static const uint8_t wire_mac[6] = { 0x02, 0xdd, 0x00, 0x00, 0x00, 0x02 };
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	char err[256];
	sigset_t sigs;
	int shm_fd, epfd, sfd, tfd, efd;

	if (parse_args(&f, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (tap_dev_open(&f.wire, f.wire_name, f.mtu, wire_mac, 0, err, sizeof(err)) < 0 ||
	    tap_dev_carrier(&f.wire, 1) < 0) {
		fprintf(stderr, "fake-net-vm: wire: %s\n", err);
		return 1;
	}
	shm_fd = region_create(&f);
	if (shm_fd < 0) {
		fprintf(stderr, "fake-net-vm: cannot create the region: %s\n", strerror(errno));
		return 1;
	}
	publish_qstate(&f);
	publish_guest(&f);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	efd = ivs_server_init(&f.srv, f.sock_path, shm_fd, 2, NULL, NULL);
	if (efd < 0) {
		fprintf(stderr, "fake-net-vm: cannot serve %s: %s\n", f.sock_path, strerror(-efd));
		return 1;
	}
	efd = ivs_server_self_eventfd(&f.srv, VEC_NET);
	{
		struct epoll_event ev[5] = {
			{ .events = EPOLLIN, .data.u32 = EV_SRV }, { .events = EPOLLIN, .data.u32 = EV_REQ },
			{ .events = EPOLLIN, .data.u32 = EV_WIRE }, { .events = EPOLLIN, .data.u32 = EV_SIG },
			{ .events = EPOLLIN, .data.u32 = EV_TIMER },
		};
		int fds[5] = { ivs_server_pollfd(&f.srv), efd, f.wire.fd, sfd, tfd }, i;

		timerfd_settime(tfd, 0, &its, NULL);
		for (i = 0; i < 5; i++)
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev[i]) < 0) {
				fprintf(stderr, "fake-net-vm: epoll: %s\n", strerror(errno));
				return 1;
			}
	}
	printf("fake-net-vm: serving %s (net queue %d, evil %s every %u), wire %s\n", f.sock_path,
	       NET_QUEUE, evil_names[f.evil], f.every, f.wire.name);
	fflush(stdout);
	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(epfd, evs, 8, -1), i;
		uint64_t cnt;

		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_SRV: ivs_server_dispatch(&f.srv); break;
			case EV_REQ:
				if (read(efd, &cnt, sizeof(cnt)) < 0)
					break;
				if (!f.dead)
					serve(&f);
				break;
			case EV_WIRE: wire_readable(&f); break;
			case EV_TIMER:
				if (read(tfd, &cnt, sizeof(cnt)) < 0)
					break;
				hdr(&f)->heartbeat = ddvm_cpu_to_le64(ddvm_le64_to_cpu(hdr(&f)->heartbeat) + 1);
				if (!f.dead)
					serve(&f);	/* a lost doorbell costs at most a second */
				break;
			case EV_SIG: {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					break;
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					goto out;
				on_signal(&f, si.ssi_signo);
				break;
			}
			}
		}
	}
out:
	fprintf(stderr, "fake-net-vm: tx %llu rx %llu rx_nobuf %llu inval %llu evil %llu\n",
		(unsigned long long)f.tx_frames, (unsigned long long)f.rx_frames,
		(unsigned long long)f.rx_nobuf, (unsigned long long)f.inval,
		(unsigned long long)f.evil_done);
	ivs_server_close(&f.srv);
	unlink(f.sock_path);
	tap_dev_close(&f.wire);
	return 0;
}
