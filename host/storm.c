// SPDX-License-Identifier: MIT
/*
 * `ddvm __storm SOCKET LAYOUT SECONDS`: the hostile client of `ddvm inject
 * VM storm`, started by the supervisor as a process of its own (the ddvm
 * binary, like the log pumps), on one channel only.  For SECONDS it joins
 * that channel's ivshmem server as an ordinary peer and, as fast as it can,
 * fills every data queue's request ring with garbage requests (random ops,
 * flags, ids, offsets, lengths, buffers; ring indices kept valid, so the
 * driver VM has to read and refuse each), takes every response, and rings
 * every vector of every peer it knows.  Prints what it did and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "ddvm/posix/layout_arg.h"
#include "ddvm/posix/peer.h"
#include "ddvm/ring.h"
#include "storm.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(void)
{
	static uint64_t x;

	if (!x && getrandom(&x, sizeof(x), 0) != sizeof(x))
		x = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* One garbage request: mostly real ops with impossible or hostile fields. */
static void garbage(struct ddvm_slot *s, const struct ddvm_queue_info *q)
{
	static const uint16_t ops[] = { DDVM_OP_READ, DDVM_OP_WRITE, DDVM_OP_FLUSH, DDVM_OP_DISCARD,
					DDVM_OP_WRITE_ZEROES, DDVM_OP_NET_TX, DDVM_OP_NET_RX,
					DDVM_OP_PING, DDVM_OP_CRASH, DDVM_OP_FAULT, 0, 0xffff };
	uint64_t r = rnd();

	memset(s, 0, sizeof(*s));
	s->id = ddvm_cpu_to_le64(rnd());
	s->op = ddvm_cpu_to_le16(r % 3 ? ops[r % (sizeof(ops) / sizeof(ops[0]))] : (uint16_t)(r >> 8));
	s->flags = ddvm_cpu_to_le16((uint16_t)(r >> 16));
	/* in the data area, at its edges, or anywhere */
	switch (r >> 32 & 3) {
	case 0: s->buf_off = ddvm_cpu_to_le64(q->data_off + rnd() % (q->data_size ? q->data_size : 1)); break;
	case 1: s->buf_off = ddvm_cpu_to_le64(q->data_off + q->data_size - (rnd() & 0xfff)); break;
	default: s->buf_off = ddvm_cpu_to_le64(rnd()); break;
	}
	s->len = ddvm_cpu_to_le32(r >> 40 & 1 ? (uint32_t)rnd() : (uint32_t)(rnd() % 131072));
	s->offset = ddvm_cpu_to_le64(r >> 44 & 1 ? rnd() : (rnd() % (1ull << 30)) & ~511ull);
	s->arg0 = ddvm_cpu_to_le64(rnd());
}

int storm_main(int argc, char **argv)
{
	struct ddvm_ring req[DDVM_MAX_QUEUES], resp[DDVM_MAX_QUEUES];
	unsigned long long nreq = 0, nbell = 0, rounds = 0;
	struct ddvm_layout lay;
	struct ddvm_peer p;
	char err[160];
	double end;
	uint32_t i, k;

	if (argc != 4) {
		fprintf(stderr, "usage: ddvm __storm SOCKET LAYOUT SECONDS\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlives the supervisor */
	if (ddvm_layout_parse(argv[2], &lay, err, sizeof(err)) < 0) {
		fprintf(stderr, "storm: layout: %s\n", err);
		return 2;
	}
	if (ddvm_peer_connect(&p, argv[1], 5000) < 0) {
		fprintf(stderr, "storm: %s: %s\n", argv[1], p.err);
		return 1;
	}
	if (p.shm_size < lay.region_size) {
		fprintf(stderr, "storm: region of %llu bytes, layout says %llu\n",
			(unsigned long long)p.shm_size, (unsigned long long)lay.region_size);
		ddvm_peer_close(&p);
		return 1;
	}
	for (i = 0; i < lay.nqueues; i++)
		if (ddvm_ring_bind(&req[i], p.shm, lay.region_size, lay.q[i].req_ring_off,
				   lay.q[i].nslots) < 0 ||
		    ddvm_ring_bind(&resp[i], p.shm, lay.region_size, lay.q[i].resp_ring_off,
				   lay.q[i].nslots) < 0) {
			fprintf(stderr, "storm: cannot bind queue %u\n", i);
			ddvm_peer_close(&p);
			return 1;
		}
	printf("storm: peer %u on %s, %u queues, for %s s\n", p.id, argv[1], lay.nqueues, argv[3]);
	fflush(stdout);
	end = now_s() + atof(argv[3]);
	while (now_s() < end) {
		for (i = 0; i < lay.nqueues; i++) {
			const struct ddvm_queue_info *q = &lay.q[i];
			uint32_t cons, prod;

			if (q->kind == DDVM_QK_CTRL)
				continue;
			/* Take every answer, then a full ring of garbage after what it consumed. */
			prod = ddvm_le32_to_cpu(__atomic_load_n(&resp[i].sh->prod, __ATOMIC_ACQUIRE));
			__atomic_store_n(&resp[i].sh->cons, ddvm_cpu_to_le32(prod), __ATOMIC_RELEASE);
			cons = ddvm_le32_to_cpu(__atomic_load_n(&req[i].sh->cons, __ATOMIC_ACQUIRE));
			prod = ddvm_le32_to_cpu(__atomic_load_n(&req[i].sh->prod, __ATOMIC_ACQUIRE));
			if (prod - cons > q->nslots)	/* someone broke it: start from cons */
				prod = cons;
			for (k = prod; k != cons + q->nslots; k++) {
				struct ddvm_slot s;

				garbage(&s, q);
				req[i].slots[k & (q->nslots - 1)] = s;
				nreq++;
			}
			__atomic_store_n(&req[i].sh->prod, ddvm_cpu_to_le32(cons + q->nslots),
					 __ATOMIC_RELEASE);
		}
		if (ddvm_peer_process(&p) < 0)
			break;
		for (i = 0; i < DDVM_PEER_MAX_PEERS; i++)
			for (k = 0; p.peers[i].used && k < p.peers[i].nvec; k++)
				nbell += ddvm_peer_ring(&p, p.peers[i].id, k) == 0;
		rounds++;
	}
	ddvm_peer_close(&p);
	printf("storm: %llu rounds, %llu garbage requests, %llu doorbells\n", rounds, nreq, nbell);
	return 0;
}
