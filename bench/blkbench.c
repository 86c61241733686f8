// SPDX-License-Identifier: MIT
/*
 * blkbench: the block benchmark's in-driver-VM client (bench/block.sh).
 * Built static, it runs inside the driver VM on the raw disk with O_DIRECT
 * and Linux AIO (raw syscalls, no libaio), the same jobs bench/block.sh runs
 * with fio on the host:
 *
 *   blkbench DEV SECONDS [JOB...]     JOB = NAME:rw:bs:qd, rw = read |
 *                                     write | randread | randwrite
 *
 * Console protocol (bench/block.sh samples QEMU's CPU time at each line):
 *   ddvm-bench: begin NAME
 *   ddvm-bench: result NAME bytes B ios N usecs T p50_us X p99_us Y
 *   ddvm-bench: done
 * Latency = io_submit to completion seen by io_getevents, per request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_QD		64
#define MAX_LAT		(4u << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t *lat;

static int run_job(int fd, uint64_t size, double secs, const char *spec)
{
	char name[32], rw[16];
	unsigned int bs, qd, i, n = 0, inflight = 0;
	int rnd, wr;
	aio_context_t ctx = 0;
	struct iocb cb[MAX_QD], *cbp;
	struct io_event ev[MAX_QD];
	uint64_t t_sub[MAX_QD], seq = 0, bytes = 0, t0, deadline;
	uint8_t *buf;

	memset(cb, 0, sizeof(cb));

	if (sscanf(spec, "%31[^:]:%15[^:]:%u:%u", name, rw, &bs, &qd) != 4 || !bs || bs % 512 ||
	    !qd || qd > MAX_QD) {
		fprintf(stderr, "blkbench: bad job '%s'\n", spec);
		return -1;
	}
	rnd = !strncmp(rw, "rand", 4);
	wr = strstr(rw, "write") != NULL;
	if (posix_memalign((void **)&buf, 4096, (size_t)bs * qd))
		return -1;
	for (i = 0; i < bs * qd / 8; i++)
		((uint64_t *)buf)[i] = xorshift();
	if (syscall(SYS_io_setup, qd, &ctx) < 0) {
		perror("blkbench: io_setup");
		return -1;
	}
	printf("ddvm-bench: begin %s\n", name);
	fflush(stdout);
	usleep(300000);	/* the host samples QEMU's CPU time on the line above */
	t0 = now_ns();
	deadline = t0 + (uint64_t)(secs * 1e9);
	for (;;) {
		uint64_t t = now_ns();

		while (inflight < qd && t < deadline) {
			for (i = 0; i < qd && cb[i].aio_data; i++)
				;
			if (i == qd)
				break;
			memset(&cb[i], 0, sizeof(cb[i]));
			cb[i].aio_data = i + 1;
			cb[i].aio_fildes = (uint32_t)fd;
			cb[i].aio_lio_opcode = wr ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cb[i].aio_buf = (uint64_t)(uintptr_t)(buf + (size_t)i * bs);
			cb[i].aio_nbytes = bs;
			if (rnd) {
				cb[i].aio_offset = (int64_t)((xorshift() % (size / bs)) * bs);
			} else {
				cb[i].aio_offset = (int64_t)seq;
				seq = seq + bs + bs > size ? 0 : seq + bs;
			}
			cbp = &cb[i];
			t_sub[i] = now_ns();
			if (syscall(SYS_io_submit, ctx, 1, &cbp) != 1) {
				perror("blkbench: io_submit");
				return -1;
			}
			inflight++;
		}
		if (!inflight)
			break;
		long got = syscall(SYS_io_getevents, ctx, 1, qd, ev, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			perror("blkbench: io_getevents");
			return -1;
		}
		t = now_ns();
		for (long j = 0; j < got; j++) {
			unsigned int k = (unsigned int)ev[j].data - 1;

			if ((int64_t)ev[j].res != (int64_t)bs) {
				fprintf(stderr, "blkbench: %s: I/O error %lld\n", name, (long long)ev[j].res);
				return -1;
			}
			if (n < MAX_LAT)
				lat[n++] = (uint32_t)((t - t_sub[k]) / 1000);
			bytes += bs;
			cb[k].aio_data = 0;
			inflight--;
		}
	}
	uint64_t el = now_ns() - t0;
	qsort(lat, n, sizeof(*lat), cmp_u32);
	printf("ddvm-bench: result %s bytes %llu ios %u usecs %llu p50_us %u p99_us %u\n", name,
	       (unsigned long long)bytes, n, (unsigned long long)(el / 1000),
	       n ? lat[n / 2] : 0, n ? lat[(uint64_t)n * 99 / 100] : 0);
	fflush(stdout);
	syscall(SYS_io_destroy, ctx);
	free(buf);
	usleep(300000);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t size = 0;
	int fd, i;

	if (argc < 4) {
		fprintf(stderr, "usage: blkbench DEV SECONDS NAME:rw:bs:qd...\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0 || size < (1u << 20)) {
		fprintf(stderr, "blkbench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	lat = malloc(MAX_LAT * sizeof(*lat));
	if (!lat)
		return 1;
	for (i = 3; i < argc; i++)
		if (run_job(fd, size, atof(argv[2]), argv[i]) < 0)
			return 1;
	printf("ddvm-bench: done\n");
	fflush(stdout);
	return 0;
}
