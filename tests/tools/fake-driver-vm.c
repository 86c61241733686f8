// SPDX-License-Identifier: MIT
/*
 * ddvm-fake-vm: a host program that plays a driver VM, so block front-ends
 * can be tested without booting one.  It creates a region (one CTRL and one
 * BLOCK queue), serves the channel's ivshmem socket itself (the supervisor's
 * ivshmem server, peer 0, in a thread), joins it as a peer like a driver VM
 * does, publishes READY and serves block requests against a backing file.
 * With --evil=MODE it misbehaves on every Nth READ/WRITE.
 *
 *   ddvm-fake-vm --socket PATH --backing FILE [--lbs 512] [--pbs 4096]
 *       [--nslots 32] [--chunk 65536] [--max-transfer N] [--features LIST]
 *       [--evil MODE] [--every 3] [--ready-delay-ms N] [--ready-file PATH]
 *       [--linger-us N]  (wait N us before each batch, so the client fills the ring)
 *       [--guest-version M.N]  (publish another protocol version as the driver VM's)
 *
 * MODE: wrong-id dup-id bad-len bad-status bad-op corrupt-index stall spin (from
 * then on, garbage responses whenever the client frees a slot, as fast as it can).
 * SIGUSR1 restarts the driver VM: it leaves the channel and joins again as a
 * new peer with the next generation, and the new instance is healthy (no
 * --evil, max_transfer = chunk), as a driver VM restarted by the supervisor.
 * LIST: comma-separated flush,fua,discard,write_zeroes,zeroes_read,ro
 * (default flush,fua,discard,write_zeroes,zeroes_read); "none" for none.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_blk.h"
#include "ddvm/posix/ivshmem_server.h"
#include "ddvm/posix/peer.h"
#include "ddvm/posix/region_setup.h"

#define NVECTORS	4
#define BLK_REQ_VEC	1	/* our (the driver VM's) vector for block requests */
#define BLK_RESP_VEC	2	/* the client's vector for block responses */

static volatile sig_atomic_t stop, restart;
static uint32_t guest_version = (uint32_t)DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR;
static struct ivs_server srv;
static int srv_stop_efd = -1;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		restart = 1;
	else
		stop = 1;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "ddvm-fake-vm: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void *server_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pf[2] = { { .fd = ivs_server_pollfd(&srv), .events = POLLIN },
					{ .fd = srv_stop_efd, .events = POLLIN } };

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[1].revents)
			break;
		if (pf[0].revents)
			ivs_server_dispatch(&srv);
	}
	return NULL;
}

static uint32_t parse_features(const char *s)
{
	static const struct { const char *n; uint32_t f; } t[] = {
		{ "flush", DDVM_BLK_F_FLUSH }, { "fua", DDVM_BLK_F_FUA },
		{ "discard", DDVM_BLK_F_DISCARD }, { "write_zeroes", DDVM_BLK_F_WRITE_ZEROES },
		{ "zeroes_read", DDVM_BLK_F_ZEROES_READ }, { "ro", DDVM_BLK_F_RO }, { "none", 0 },
	};
	char buf[256], *tok, *save = NULL;
	uint32_t f = 0;
	unsigned int i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (strcmp(tok, t[i].n) == 0)
				break;
		if (i == sizeof(t) / sizeof(t[0]))
			die("unknown feature '%s'", tok);
		f |= t[i].f;
	}
	return f;
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (*s == '\0' || *end != '\0')
		die("not a number: '%s'", s);
	return v;
}

/* Ring the client named in the request ring header, if it is a known peer. */
static void ring_client(struct ddvm_peer *p, struct fake_blk *b)
{
	uint32_t id = ddvm_le32_to_cpu(__atomic_load_n(&b->req.sh->client_peer_id,
						       __ATOMIC_ACQUIRE));

	if (id > 0xffff || id == p->id)
		return;
	if (ddvm_peer_ring(p, (uint16_t)id, b->q.resp_vector) == -ENOENT &&
	    ddvm_peer_process(p) == 0)
		ddvm_peer_ring(p, (uint16_t)id, b->q.resp_vector);
}

static void guest_attach(volatile struct ddvm_region_hdr *h, uint16_t id)
{
	const char rel[] = "fake-driver-vm";
	unsigned int i;

	for (i = 0; i < sizeof(rel); i++)
		h->kernel_release[i] = rel[i];
	h->guest_peer_id = ddvm_cpu_to_le16(id);
	h->guest_version = ddvm_cpu_to_le32(guest_version);	/* --guest-version: another driver VM */
	h->generation = ddvm_cpu_to_le32(ddvm_le32_to_cpu(h->generation) + 1);
	__atomic_store_n(&h->guest_state, ddvm_cpu_to_le32(DDVM_GUEST_READY), __ATOMIC_RELEASE);
}

/* SIGUSR1: die and come back healthy, as the supervisor restarts a driver VM. */
static void restart_instance(struct ddvm_peer *peer, const char *sock, struct fake_blk *b,
			     const struct ddvm_layout *lay, unsigned long chunk)
{
	uint16_t old = peer->id;

	fake_blk_unpublish(b);
	ddvm_peer_close(peer);		/* the clients see the peer leave */
	if (ddvm_peer_connect(peer, sock, 5000) < 0)
		die("%s", peer->err);
	b->evil = EVIL_NONE;
	b->dead = 0;
	b->spinning = 0;
	b->max_transfer = (uint32_t)chunk;
	guest_attach(peer->shm, peer->id);	/* the next generation, then its queue */
	if (fake_blk_bind(b, peer->shm, lay, 1) < 0)
		die("%s", "cannot bind the block queue again");
	fprintf(stderr, "fake-vm: restarted: peer %u -> %u, generation %u\n", old, peer->id,
		ddvm_le32_to_cpu(((volatile struct ddvm_region_hdr *)peer->shm)->generation));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", 1, NULL, 's' }, { "backing", 1, NULL, 'b' }, { "lbs", 1, NULL, 'l' },
		{ "pbs", 1, NULL, 'p' }, { "nslots", 1, NULL, 'n' }, { "chunk", 1, NULL, 'c' },
		{ "max-transfer", 1, NULL, 'm' }, { "features", 1, NULL, 'f' },
		{ "evil", 1, NULL, 'e' }, { "every", 1, NULL, 'E' },
		{ "ready-delay-ms", 1, NULL, 'd' }, { "linger-us", 1, NULL, 'L' }, { "ready-file", 1, NULL, 'r' },
		{ "guest-version", 1, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *backing = NULL, *ready_file = NULL;
	unsigned long nslots = 32, chunk = 65536, max_xfer = 0, delay_ms = 0;
	struct fake_blk b = { .lbs = 512, .pbs = 4096, .every = 3,
			      .features = DDVM_BLK_F_FLUSH | DDVM_BLK_F_FUA | DDVM_BLK_F_DISCARD |
					  DDVM_BLK_F_WRITE_ZEROES | DDVM_BLK_F_ZEROES_READ };
	struct ddvm_region_spec spec = { .host_peer_id = IVS_SELF_ID, .heartbeat_period_ms = 100,
					 .pci_table_max = 8, .nqueues = 2 };
	struct ddvm_layout lay;
	struct ddvm_peer peer;
	struct timespec t0, now;
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_t thr;
	uint64_t size;
	struct stat st;
	void *base;
	int c, mfd, published = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'b': backing = optarg; break;
		case 'l': b.lbs = (uint32_t)num(optarg); break;
		case 'p': b.pbs = (uint32_t)num(optarg); break;
		case 'n': nslots = num(optarg); break;
		case 'c': chunk = num(optarg); break;
		case 'm': max_xfer = num(optarg); break;
		case 'f': b.features = parse_features(optarg); break;
		case 'e':
			b.evil = fake_evil_parse(optarg);
			if (b.evil < 0)
				die("unknown --evil mode '%s'", optarg);
			break;
		case 'E': b.every = (unsigned int)num(optarg); break;
		case 'd': delay_ms = num(optarg); break;
		case 'L': b.linger_us = (unsigned int)num(optarg); break;
		case 'r': ready_file = optarg; break;
		case 'V': {
			unsigned int maj, min;

			if (sscanf(optarg, "%u.%u", &maj, &min) != 2 || maj > 0xffff || min > 0xffff)
				die("--guest-version wants MAJOR.MINOR, not '%s'", optarg);
			guest_version = maj << 16 | min;
			break;
		}
		default: die("usage: see the comment at the top of %s", __FILE__);
		}
	}
	if (!sock || !backing)
		die("%s", "--socket and --backing are required");
	b.max_transfer = (uint32_t)(max_xfer ? max_xfer : chunk);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	b.fd = open(backing, O_RDWR | O_CLOEXEC);
	if (b.fd < 0 || fstat(b.fd, &st) < 0)
		die("cannot open backing file %s", backing);
	b.capacity = (uint64_t)st.st_size / b.lbs * b.lbs;

	spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_CTRL, .nslots = 8, .data_size = 4096,
					      .req_vector = 0, .resp_vector = 0 };
	spec.q[1] = (struct ddvm_queue_spec){ .kind = DDVM_QK_BLOCK, .nslots = (uint32_t)nslots,
					      .data_size = nslots * chunk,
					      .req_vector = BLK_REQ_VEC, .resp_vector = BLK_RESP_VEC,
					      .target = "pci=0000:00:04.0" };
	for (size = DDVM_MIN_REGION_SIZE; size < ddvm_region_bytes_needed(&spec); size <<= 1)
		;
	mfd = memfd_create("ddvm-fake-vm", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, (off_t)size) < 0)
		die("%s", "cannot create the shared memory");
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (base == MAP_FAILED || ddvm_region_setup(base, size, &spec, &lay) < 0)
		die("%s", "cannot lay out the region (check --nslots / --chunk)");
	if (ivs_server_init(&srv, sock, mfd, NVECTORS, NULL, NULL) < 0)
		die("cannot serve ivshmem socket %s", sock);
	srv_stop_efd = eventfd(0, EFD_CLOEXEC);
	if (srv_stop_efd < 0 || pthread_create(&thr, NULL, server_thread, NULL) != 0)
		die("%s", "cannot start the server thread");

	/* From here on we are the driver VM: an ordinary peer of the server. */
	if (ddvm_peer_connect(&peer, sock, 5000) < 0)
		die("%s", peer.err);
	guest_attach(peer.shm, peer.id);
	if (fake_blk_bind(&b, peer.shm, &lay, 1) < 0 || b.max_transfer > b.chunk)
		die("%s", "bad block queue layout (max-transfer > chunk?)");
	fprintf(stderr, "fake-vm: peer %u, %llu bytes, lbs %u, %lu slots of %llu bytes, evil %d/%u\n",
		peer.id, (unsigned long long)b.capacity, b.lbs, nslots,
		(unsigned long long)b.chunk, b.evil, b.every);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		volatile struct ddvm_region_hdr *h = peer.shm;
		struct pollfd pf[2] = {
			{ .fd = ddvm_peer_eventfd(&peer, BLK_REQ_VEC), .events = POLLIN },
			{ .fd = peer.sock, .events = POLLIN },
		};

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!published && (uint64_t)(now.tv_sec - t0.tv_sec) * 1000 +
		    (uint64_t)(now.tv_nsec - t0.tv_nsec) / 1000000 >= delay_ms) {
			fake_blk_publish(&b);
			published = 1;
			if (ready_file) {
				int fd = open(ready_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

				if (fd >= 0)
					close(fd);
			}
		}
		/* Like the guest: serve on doorbells and on every heartbeat tick. */
		poll(pf, 2, b.spinning ? 0 : published ? 100 : 10);
		h->heartbeat = ddvm_cpu_to_le64(ddvm_le64_to_cpu(h->heartbeat) + 1);
		if (pf[1].revents && ddvm_peer_process(&peer) < 0)
			die("%s", peer.err);
		if (pf[0].revents)
			ddvm_peer_drain(pf[0].fd);
		if (published && fake_blk_serve(&b))
			ring_client(&peer, &b);
		if (restart) {
			restart = 0;
			restart_instance(&peer, sock, &b, &lay, chunk);
			published = 0;
			delay_ms = 0;
		}
	}
	fprintf(stderr, "fake-vm: served %llu requests, misbehaved on %llu, max depth %u\n",
		(unsigned long long)b.nserved, (unsigned long long)b.naffected, b.max_depth);
	ddvm_peer_close(&peer);
	if (eventfd_write(srv_stop_efd, 1) == 0)
		pthread_join(thr, NULL);
	ivs_server_close(&srv);
	unlink(sock);
	return 0;
}
