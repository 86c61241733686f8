// SPDX-License-Identifier: MIT
/*
 * tinyos: a disk, served by a driver VM's Linux through libddvm's block
 * client (synchronous use: ddvm_blkc_io sleeps in the transport's wait).
 * At boot: the CRC-32C of sector 0 as the disk holds it, then a pattern
 * written to sector 1 (FUA, flush, read back).  Afterwards: on every new
 * driver-VM generation, sector 1 is read again and checked.
 */
#include "ddvm/region.h"
#include "tinyos.h"

#define MS		1000000ull
#define IO_TIMEOUT_MS	60000	/* a request not answered in this time fails (EIO) */
#define MAX_BLOCK	65536u

struct disk {
	struct chan *ch;
	struct ddvm_blkc c;
	int index;
	uint32_t gen;		/* driver-VM generation last reported */
	uint32_t s1_crc;	/* CRC-32C of the sector 1 we wrote */
	int wrote;
};

static struct disk disk_tab[MAX_DISKS];
static uint8_t blockbuf[MAX_BLOCK] __attribute__((aligned(64)));

struct disk *disk_get(int index)
{
	return index >= 0 && index < MAX_DISKS && disk_tab[index].ch ? &disk_tab[index] : NULL;
}

static uint32_t generation(struct disk *d, uint32_t *state)
{
	struct ddvm_guest_view g;

	ddvm_guest_read(d->ch->bt.t.base, &g);
	*state = g.state;
	return g.generation;
}

struct disk *disk_open(struct chan *ch, int index)
{
	struct disk *d = &disk_tab[index];
	uint64_t deadline = now_ns() + 180000 * MS, bytes;
	uint32_t state;
	void *mem;
	int r;

	d->ch = ch;
	d->index = index;
	r = ddvm_blkc_open(&d->c, &ch->bt.t, -1, 0);
	bytes = r < 0 ? 0 : ddvm_blkc_mem_bytes(&d->c);
	mem = r < 0 ? NULL : arena_alloc(bytes);
	if (!mem) {
		kprintf("tinyos: %s: cannot open the block queue: %s\n", ch->name,
			ddvm_err_str(r < 0 ? r : -DDVM_ENOMEM));
		d->ch = NULL;
		return NULL;
	}
	/* Until the driver VM serves the disk (it may still be booting). */
	for (;;) {
		check_guest_version(ch);
		r = ddvm_blkc_ready(&d->c, mem, bytes, IO_TIMEOUT_MS, (uint16_t)(0x7100 + index),
				    NULL, NULL);
		if (r != -DDVM_EAGAIN || now_ns() > deadline)
			break;
		wait_chan(ch, 100 * MS);
	}
	if (r < 0 || d->c.st.logical_block_size > MAX_BLOCK) {
		kprintf("tinyos: %s: the driver VM does not serve the disk: %s\n", ch->name,
			r < 0 ? ddvm_err_str(r) : "blocks larger than 64 KiB");
		d->ch = NULL;
		return NULL;
	}
	d->gen = generation(d, &state);
	kprintf("tinyos: %s driver VM generation %u\n", ch->name, d->gen);
	return d;
}

int disk_read_crc(struct disk *d, uint64_t off, uint32_t len, uint32_t *crc, uint64_t *ns)
{
	uint64_t t0 = now_ns();
	int r;

	if (len > MAX_BLOCK)
		return -DDVM_EINVAL;
	r = ddvm_blkc_io(&d->c, DDVM_OP_READ, 0, off, len, blockbuf);
	*ns = now_ns() - t0;
	*crc = r == 0 ? crc32c(0, blockbuf, len) : 0;
	return r;
}

/*
 * n reads of len bytes at random aligned offsets, back to back: the p50 and
 * p99 of their times (what one synchronous read costs, without the network).
 */
int disk_bench(struct disk *d, uint32_t n, uint32_t len, uint64_t *p50, uint64_t *p99)
{
	static uint64_t t[1000];
	uint64_t x = now_ns() | 1, blocks, t0, v;
	uint32_t i, j;
	int r;

	if (n == 0 || n > 1000 || len == 0 || len > MAX_BLOCK || len % d->c.st.logical_block_size ||
	    (blocks = d->c.st.capacity / len) == 0)
		return -DDVM_EINVAL;
	for (i = 0; i < n; i++) {
		x ^= x << 13;				/* xorshift64 */
		x ^= x >> 7;
		x ^= x << 17;
		t0 = now_ns();
		r = ddvm_blkc_io(&d->c, DDVM_OP_READ, 0, x % blocks * len, len, blockbuf);
		v = now_ns() - t0;
		if (r < 0)
			return r;
		for (j = i; j > 0 && t[j - 1] > v; j--)	/* insertion sort */
			t[j] = t[j - 1];
		t[j] = v;
	}
	*p50 = t[(n - 1) / 2];
	*p99 = t[(n * 99 + 99) / 100 - 1];
	return 0;
}

/* Sector s (512 bytes) lives in the block at s * 512 rounded down. */
static int sector_io(struct disk *d, uint16_t op, uint32_t sector, uint8_t *s512)
{
	uint32_t lbs = d->c.st.logical_block_size;
	uint64_t at = (uint64_t)sector * 512, blk = at / lbs * lbs;
	int r = ddvm_blkc_io(&d->c, DDVM_OP_READ, 0, blk, lbs, blockbuf);

	if (r < 0 || op == DDVM_OP_READ) {
		memcpy(s512, blockbuf + (at - blk), 512);
		return r;
	}
	memcpy(blockbuf + (at - blk), s512, 512);
	r = ddvm_blkc_io(&d->c, DDVM_OP_WRITE, DDVM_F_FUA, blk, lbs, blockbuf);
	return r < 0 ? r : ddvm_blkc_io(&d->c, DDVM_OP_FLUSH, 0, 0, 0, NULL);
}

void disk_boot_test(struct disk *d)
{
	static const char text[] = "tinyos wrote this sector through ddvm; ";
	uint8_t s[512], back[512];
	uint64_t nonce = now_ns();
	uint32_t i;
	int r;

	r = sector_io(d, DDVM_OP_READ, 0, s);
	if (r < 0) {
		kprintf("tinyos: %s: reading sector 0 failed: %s\n", d->ch->name, ddvm_err_str(r));
		return;
	}
	kprintf("tinyos: %s size=%llu block=%u sector0-crc32c=%08x\n", d->ch->name,
		(unsigned long long)d->c.st.capacity, d->c.st.logical_block_size,
		crc32c(0, s, 512));
	if (d->c.st.features & DDVM_BLK_F_RO) {
		kprintf("tinyos: %s is read-only: not writing sector 1\n", d->ch->name);
		return;
	}
	/* A recognizable pattern: the text again and again, this boot's nonce at the end. */
	for (i = 0; i < 512 - 16; i++)
		s[i] = (uint8_t)text[i % (sizeof(text) - 1)];
	ddvm_fmt((char *)s + 496, 16, "%015llx", (unsigned long long)(nonce & 0xfffffffffffffffull));
	s[511] = '\n';
	r = sector_io(d, DDVM_OP_WRITE, 1, s);
	if (r == 0)
		r = sector_io(d, DDVM_OP_READ, 1, back);
	if (r < 0 || memcmp(s, back, 512) != 0) {
		kprintf("tinyos: %s: writing sector 1 failed: %s\n", d->ch->name,
			r < 0 ? ddvm_err_str(r) : "read back differs");
		return;
	}
	d->s1_crc = crc32c(0, s, 512);
	d->wrote = 1;
	kprintf("tinyos: %s wrote sector 1 crc32c=%08x\n", d->ch->name, d->s1_crc);
}

/* A driver VM restarted: report it, and its next request must return the right data. */
void disk_check(struct disk *d)
{
	uint8_t s[512];
	uint32_t state, gen = generation(d, &state), crc;
	int r;

	if (state != DDVM_GUEST_READY || gen == d->gen)
		return;
	d->gen = gen;
	kprintf("tinyos: %s driver VM generation %u\n", d->ch->name, gen);
	check_guest_version(d->ch);
	r = sector_io(d, DDVM_OP_READ, 1, s);
	if (r < 0) {
		kprintf("tinyos: %s read sector 1 failed: %s\n", d->ch->name, ddvm_err_str(r));
		return;
	}
	crc = crc32c(0, s, 512);
	kprintf("tinyos: %s read sector 1 crc32c=%08x %s\n", d->ch->name, crc,
		!d->wrote ? "(not written by this boot)" : crc == d->s1_crc ? "as written" :
		"DIFFERS from what tinyos wrote");
}
