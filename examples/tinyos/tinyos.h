/* SPDX-License-Identifier: MIT */
/* tinyos: what its parts share.  See examples/tinyos/README.md. */
#ifndef TINYOS_H
#define TINYOS_H

#include <stddef.h>
#include <stdint.h>

#include "ddvm/bare/pci.h"
#include "ddvm/bare/transport.h"
#include "ddvm/blk_client.h"
#include "ddvm/net_client.h"

#define MAX_CHANS	8
#define MAX_DISKS	4
#define MAX_NICS	4

/* One ddvm channel: an ivshmem-doorbell function and its region. */
struct chan {
	struct ddvm_bare_transport bt;
	struct ddvm_bare_pci_fn fn;
	struct ddvm_layout lay;
	char name[16];			/* "disk0", "net0" */
	int index;			/* among the channels found */
};

/* lib.c */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serial_init(void);
uint32_t crc32c(uint32_t crc, const void *buf, size_t n);
void *arena_alloc(uint64_t bytes);
int parse_ipv4(const char *s, uint8_t out[4]);
unsigned long parse_ulong(const char **s);

/* kernel.c */
extern struct ddvm_bare_env env;
uint64_t now_ns(void);
__attribute__((noreturn)) void stop(void);
/* Wait (idle) for up to ns or until the channel rings; then poll what you wait for. */
void wait_chan(struct chan *ch, uint64_t ns);
/* A driver VM speaking another major version: say so and stop. */
void check_guest_version(struct chan *ch);

/* disk.c */
struct disk;
struct disk *disk_open(struct chan *ch, int index);
void disk_boot_test(struct disk *d);
void disk_check(struct disk *d);		/* a new driver-VM generation? */
/* Read [off, off + len) (len <= 64 KiB), its CRC-32C and the time taken. */
int disk_read_crc(struct disk *d, uint64_t off, uint32_t len, uint32_t *crc, uint64_t *ns);
struct disk *disk_get(int index);
/* n (<= 1000) reads of len bytes at random offsets: p50 and p99 of their times. */
int disk_bench(struct disk *d, uint32_t n, uint32_t len, uint64_t *p50, uint64_t *p99);

/* net.c */
struct nic;
struct nic *nic_open(struct chan *ch, int index, const uint8_t ip[4]);
void nic_poll(struct nic *n, int tick);

#endif /* TINYOS_H */
