// SPDX-License-Identifier: MIT
/* A complete libddvm block client: write a block, flush, read it back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/blk_client.h"
#include "ddvm/posix/transport.h"

int main(int argc, char **argv)
{
	struct ddvm_posix_transport pt;
	struct ddvm_blkc c;
	static char out[4096], in[4096];
	void *mem;
	int r, tries = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s RUNDIR/VM/chan-disk0.sock\n", argv[0]);
		return 2;
	}
	/* Join the disk's channel: the transport maps its region, gets doorbells. */
	if (ddvm_posix_open(&pt, argv[1], 5000, "example", NULL) < 0)
		return 1;
	/* Find the channel's first disk; libddvm allocates nothing itself. */
	if (ddvm_blkc_open(&c, &pt.t, -1, 0) < 0)
		return 1;
	mem = aligned_alloc(8, (ddvm_blkc_mem_bytes(&c) + 7) / 8 * 8);
	/* Wait (up to 30 s) until the driver VM serves it; 10 s per request. */
	while ((r = ddvm_blkc_ready(&c, mem, ddvm_blkc_mem_bytes(&c), 10000, 1, NULL,
				    NULL)) == -DDVM_EAGAIN && tries++ < 300)
		pt.t.ops->wait(&pt.t, 0, pt.t.ops->now_ns(&pt.t) + 100000000);
	if (r < 0) {
		fprintf(stderr, "disk not ready: %s\n", ddvm_err_str(r));
		return 1;
	}
	printf("disk: %llu bytes, %u-byte blocks\n", (unsigned long long)c.st.capacity,
	       c.st.logical_block_size);
	/* Synchronous I/O; a driver-VM restart in between only delays it. */
	memset(out, 'd', sizeof(out));
	r = ddvm_blkc_io(&c, DDVM_OP_WRITE, 0, 0, sizeof(out), out);
	if (r == 0)
		r = ddvm_blkc_io(&c, DDVM_OP_FLUSH, 0, 0, 0, NULL);
	if (r == 0)
		r = ddvm_blkc_io(&c, DDVM_OP_READ, 0, 0, sizeof(in), in);
	if (r < 0 || memcmp(out, in, sizeof(in)) != 0) {
		fprintf(stderr, "I/O failed: %s\n", r < 0 ? ddvm_err_str(r) : "data differs");
		return 1;
	}
	printf("wrote, flushed and read back %zu bytes\n", sizeof(in));
	ddvm_posix_close(&pt);
	free(mem);
	return 0;
}
