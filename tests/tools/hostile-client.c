// SPDX-License-Identifier: MIT
/*
 * ddvm-hostile-client: a client gone bad, for the isolation tests.  It
 * joins one channel's ivshmem server as an ordinary peer and, for SECS
 * seconds, scribbles random bytes over its whole region (header, queue
 * table, rings, buffers) and rings every vector of every peer it was told
 * about, as fast as it can.  Before that it tries to join each --try socket
 * and says what happened there ("admitted" with the size of the region it
 * was handed, or "refused").
 *
 *   ddvm-hostile-client --socket PATH [--seconds 10] [--try PATH]...
 *
 * Prints one line per --try, then "scribbled N times, rang M doorbells".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ddvm/posix/peer.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void try_join(const char *path)
{
	struct ddvm_peer p;

	if (ddvm_peer_connect(&p, path, 5000) == 0) {
		printf("%s: admitted (region of %llu bytes)\n", path, (unsigned long long)p.shm_size);
		ddvm_peer_close(&p);
	} else {
		printf("%s: refused (%s)\n", path, p.err);
	}
	fflush(stdout);
}

/* Fill the region with garbage, 64 KiB of random bytes repeated. */
static void scribble(struct ddvm_peer *p, const uint8_t *junk, size_t jn)
{
	volatile uint8_t *b = p->shm;
	uint64_t off;

	for (off = 0; off < p->shm_size; off += jn) {
		size_t n = p->shm_size - off < jn ? (size_t)(p->shm_size - off) : jn;

		memcpy((void *)(b + off), junk, n);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", 1, NULL, 's' }, { "seconds", 1, NULL, 'S' }, { "try", 1, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t junk[65536];
	const char *sock = NULL;
	double secs = 10, end;
	unsigned long long nscribble = 0, nring = 0;
	struct ddvm_peer p;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'S': secs = atof(optarg); break;
		case 't': try_join(optarg); break;
		default:
			fprintf(stderr, "usage: %s --socket PATH [--seconds N] [--try PATH]...\n", argv[0]);
			return 2;
		}
	}
	if (!sock)
		return 0;
	if (ddvm_peer_connect(&p, sock, 5000) < 0) {
		fprintf(stderr, "ddvm-hostile-client: %s: %s\n", sock, p.err);
		return 1;
	}
	printf("%s: joined as peer %u, region of %llu bytes\n", sock, p.id,
	       (unsigned long long)p.shm_size);
	fflush(stdout);
	end = now_s() + secs;
	while (now_s() < end) {
		unsigned int i, v;

		if (getrandom(junk, sizeof(junk), 0) < 0)
			junk[nscribble % sizeof(junk)] ^= 0x5a;
		scribble(&p, junk, sizeof(junk));
		nscribble++;
		ddvm_peer_process(&p);
		for (i = 0; i < DDVM_PEER_MAX_PEERS; i++) {
			if (!p.peers[i].used)
				continue;
			for (v = 0; v < p.peers[i].nvec; v++)
				if (ddvm_peer_ring(&p, p.peers[i].id, v) == 0)
					nring++;
		}
	}
	ddvm_peer_close(&p);
	printf("scribbled %llu times, rang %llu doorbells\n", nscribble, nring);
	return 0;
}
