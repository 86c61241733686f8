// SPDX-License-Identifier: MIT
/*
 * nbdkit-ddvm-plugin: export one disk of a ddvm driver VM over NBD.
 *
 *   nbdkit -U SOCK ./nbdkit-ddvm-plugin.so socket=VM/ivshmem.sock disk=0 [timeout=60]
 *
 * The plugin joins the channel's ivshmem server as a peer and speaks the
 * block queue protocol (libddvm, lib/blk_client.c, through frontends/blk_mt.c).  Requests need not be
 * aligned: unaligned reads go through a bounce buffer, unaligned writes and
 * zeroes do read-modify-write of the edge blocks (serialized), unaligned
 * trims shrink to the aligned interior.  See nbdkit-ddvm-plugin.pod.
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk_mt.h"
#include "ddvm/posix/layout_arg.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct blkc_params prm = { .queue = -1, .disk = -1, .timeout_s = 60, .ready_timeout_s = 60 };
static struct ddvm_layout layout;	/* layout=, from the supervisor */
static struct blkc dev;
static int dev_open;
static pthread_mutex_t rmw_lock = PTHREAD_MUTEX_INITIALIZER;

#define FEAT(f) ((dev.st.features & (f)) != 0)

/* ddvm_config: socket=, queue= | disk=, timeout=, ready_timeout=. */
static int ddvm_config(const char *key, const char *value)
{
	if (strcmp(key, "socket") == 0) {
		free((char *)prm.socket);
		/* fd:N: a connection the supervisor handed us (ivs_server_pair) */
		prm.socket = strncmp(value, "fd:", 3) ? nbdkit_absolute_path(value) : strdup(value);
		return prm.socket ? 0 : -1;
	}
	if (strcmp(key, "queue") == 0)
		return nbdkit_parse_int(key, value, &prm.queue);
	if (strcmp(key, "disk") == 0)
		return nbdkit_parse_int(key, value, &prm.disk);
	if (strcmp(key, "timeout") == 0)
		return nbdkit_parse_unsigned(key, value, &prm.timeout_s);
	if (strcmp(key, "ready_timeout") == 0)
		return nbdkit_parse_unsigned(key, value, &prm.ready_timeout_s);
	if (strcmp(key, "layout") == 0) {
		char err[160];

		if (ddvm_layout_parse(value, &layout, err, sizeof(err)) < 0) {
			nbdkit_error("ddvm: %s", err);
			return -1;
		}
		prm.layout = &layout;
		return 0;
	}
	nbdkit_error("ddvm: unknown parameter '%s'", key);
	return -1;
}

/* ddvm_config_complete: socket and exactly one of queue / disk. */
static int ddvm_config_complete(void)
{
	if (!prm.socket) {
		nbdkit_error("ddvm: socket=PATH (the driver VM's ivshmem socket) is required");
		return -1;
	}
	if (prm.queue >= 0 && prm.disk >= 0) {
		nbdkit_error("ddvm: give queue= or disk=, not both");
		return -1;
	}
	if (prm.queue < 0 && prm.disk < 0)
		prm.disk = 0;
	if (prm.timeout_s == 0 || prm.timeout_s > 3600 || prm.ready_timeout_s > 3600) {
		nbdkit_error("ddvm: timeout= must be 1..3600 and ready_timeout= 0..3600 seconds");
		return -1;
	}
	return 0;
}

/* ddvm_get_ready: join the channel and wait for the disk, before forking. */
static int ddvm_get_ready(void)
{
	if (blkc_open(&dev, &prm) < 0)
		return -1;
	dev_open = 1;
	return 0;
}

/* ddvm_after_fork: the completion thread must live in the final process. */
static int ddvm_after_fork(void)
{
	return blkc_start(&dev) < 0 ? -1 : 0;
}

static void ddvm_unload(void)
{
	if (dev_open)
		blkc_close(&dev);
	dev_open = 0;
	free((char *)prm.socket);
}

/* ddvm_open: every connection shares the one queue. */
static void *ddvm_open(int readonly)
{
	(void)readonly;
	return &dev;
}

static int64_t ddvm_get_size(void *h)
{
	(void)h;
	return (int64_t)dev.st.capacity;
}

/* ddvm_block_size: the device's sizes; we split large requests ourselves. */
static int ddvm_block_size(void *h, uint32_t *minimum, uint32_t *preferred, uint32_t *maximum)
{
	(void)h;
	*minimum = dev.st.logical_block_size;
	*preferred = dev.st.physical_block_size < 4096 ? 4096 : dev.st.physical_block_size;
	*maximum = 0xffffffff;
	return 0;
}

static int ddvm_can_write(void *h) { (void)h; return !FEAT(DDVM_BLK_F_RO); }
static int ddvm_can_flush(void *h) { (void)h; return 1; }
static int ddvm_can_trim(void *h) { (void)h; return FEAT(DDVM_BLK_F_DISCARD); }
static int ddvm_can_multi_conn(void *h) { (void)h; return 1; }

static int ddvm_can_zero(void *h)
{
	(void)h;
	return FEAT(DDVM_BLK_F_WRITE_ZEROES);	/* false: nbdkit zeroes by pwrite */
}

/* ddvm_can_fua: native FUA, or no volatile cache (every write is durable). */
static int ddvm_can_fua(void *h)
{
	(void)h;
	return FEAT(DDVM_BLK_F_FUA) || !FEAT(DDVM_BLK_F_FLUSH) ? NBDKIT_FUA_NATIVE
							       : NBDKIT_FUA_EMULATE;
}

static int ret_err(int r)
{
	if (r >= 0)
		return 0;
	nbdkit_set_error(-r);
	return -1;
}

static int io_aligned(uint16_t op, uint16_t fl, uint64_t off, uint64_t len, void *rb, const void *wb)
{
	return blkc_io(&dev, op, fl, off, len, rb, wb);
}

/* ddvm_pread: aligned goes straight through, anything else via a bounce. */
static int ddvm_pread(void *h, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t lbs = dev.st.logical_block_size, a, b;
	uint8_t *bounce;
	int r;

	(void)h;
	(void)flags;
	if (offset % lbs == 0 && count % lbs == 0)
		return ret_err(io_aligned(DDVM_OP_READ, 0, offset, count, buf, NULL));
	a = offset / lbs * lbs;
	b = (offset + count + lbs - 1) / lbs * lbs;
	bounce = malloc(b - a);
	if (!bounce)
		return ret_err(-ENOMEM);
	r = io_aligned(DDVM_OP_READ, 0, a, b - a, bounce, NULL);
	if (r == 0)
		memcpy(buf, bounce + (offset - a), count);
	free(bounce);
	return ret_err(r);
}

static uint16_t write_flags(uint32_t flags)
{
	return (flags & NBDKIT_FLAG_FUA) && FEAT(DDVM_BLK_F_FUA) ? DDVM_F_FUA : 0;
}

/* After a zero/trim with FUA on a device with a volatile cache: flush. */
static int fua_flush(uint32_t flags)
{
	if ((flags & NBDKIT_FLAG_FUA) && FEAT(DDVM_BLK_F_FLUSH))
		return io_aligned(DDVM_OP_FLUSH, 0, 0, 0, NULL, NULL);
	return 0;
}

/*
 * Write [offset, offset+count) with data (NULL: zeroes) by read-modify-write
 * of the covering blocks.  Serialized: two unaligned writes sharing a block
 * must not both read the old block.
 */
static int write_rmw(const void *data, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t lbs = dev.st.logical_block_size, a, b;
	uint8_t *bounce;
	int r = 0;

	a = offset / lbs * lbs;
	b = (offset + count + lbs - 1) / lbs * lbs;
	bounce = malloc(b - a);
	if (!bounce)
		return -ENOMEM;
	pthread_mutex_lock(&rmw_lock);
	if (offset != a)
		r = io_aligned(DDVM_OP_READ, 0, a, lbs, bounce, NULL);
	if (r == 0 && offset + count != b && (b - lbs != a || offset == a))
		r = io_aligned(DDVM_OP_READ, 0, b - lbs, lbs, bounce + (b - lbs - a), NULL);
	if (r == 0) {
		if (data)
			memcpy(bounce + (offset - a), data, count);
		else
			memset(bounce + (offset - a), 0, count);
		r = io_aligned(DDVM_OP_WRITE, write_flags(flags), a, b - a, NULL, bounce);
	}
	pthread_mutex_unlock(&rmw_lock);
	free(bounce);
	return r;
}

static int ddvm_pwrite(void *h, const void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t lbs = dev.st.logical_block_size;

	(void)h;
	if (offset % lbs == 0 && count % lbs == 0)
		return ret_err(io_aligned(DDVM_OP_WRITE, write_flags(flags), offset, count, NULL, buf));
	return ret_err(write_rmw(buf, count, offset, flags));
}

/* ddvm_flush: FLUSH if the device has a volatile cache, else nothing to do. */
static int ddvm_flush(void *h, uint32_t flags)
{
	(void)h;
	(void)flags;
	if (!FEAT(DDVM_BLK_F_FLUSH))
		return 0;
	return ret_err(io_aligned(DDVM_OP_FLUSH, 0, 0, 0, NULL, NULL));
}

/* ddvm_trim: advisory, so only the aligned interior is discarded. */
static int ddvm_trim(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t lbs = dev.st.logical_block_size;
	uint64_t a = (offset + lbs - 1) / lbs * lbs, b = (offset + count) / lbs * lbs;
	int r = 0;

	(void)h;
	if (b > a)
		r = io_aligned(DDVM_OP_DISCARD, 0, a, b - a, NULL, NULL);
	if (r == 0)
		r = fua_flush(flags);
	return ret_err(r);
}

/*
 * ddvm_zero (only with WRITE_ZEROES; otherwise nbdkit emulates it with
 * pwrite): partial edge blocks by read-modify-write, the rest natively.
 */
static int ddvm_zero(void *h, uint32_t count, uint64_t offset, uint32_t flags)
{
	uint64_t lbs = dev.st.logical_block_size;
	uint64_t a = (offset + lbs - 1) / lbs * lbs, b = (offset + count) / lbs * lbs;
	int r = 0;

	(void)h;
	if (flags & NBDKIT_FLAG_FAST_ZERO)
		return ret_err(-EOPNOTSUPP);
	if (b <= a)		/* inside one block */
		return ret_err(write_rmw(NULL, count, offset, flags));
	if (offset < a)
		r = write_rmw(NULL, (uint32_t)(a - offset), offset, flags);
	if (r == 0 && offset + count > b)
		r = write_rmw(NULL, (uint32_t)(offset + count - b), b, flags);
	if (r == 0)
		r = io_aligned(DDVM_OP_WRITE_ZEROES, 0, a, b - a, NULL, NULL);
	if (r == 0)
		r = fua_flush(flags);
	return ret_err(r);
}

static struct nbdkit_plugin plugin = {
	.name = "ddvm",
	.longname = "ddvm driver-VM block front-end",
	.version = "1.0",
	.description = "Export a disk served by a ddvm driver VM",
	.config = ddvm_config,
	.config_complete = ddvm_config_complete,
	.config_help =
		"socket=PATH     (required) the driver VM's ivshmem server socket\n"
		"                (fd:N: a connection to it on fd N, as ddvm hands it)\n"
		"disk=N          the Nth block queue of the channel (default 0)\n"
		"queue=N         or: index N in the channel's queue table\n"
		"timeout=SECS    fail a request not answered in time (default 60)\n"
		"ready_timeout=SECS  wait this long for the disk at start (default 60)\n"
		"layout=LAYOUT   the channel's layout, from whoever wrote the region\n"
		"                (ddvm passes it; default: read from the region)",
	.get_ready = ddvm_get_ready,
	.after_fork = ddvm_after_fork,
	.unload = ddvm_unload,
	.open = ddvm_open,
	.get_size = ddvm_get_size,
	.block_size = ddvm_block_size,
	.can_write = ddvm_can_write,
	.can_flush = ddvm_can_flush,
	.can_trim = ddvm_can_trim,
	.can_zero = ddvm_can_zero,
	.can_fua = ddvm_can_fua,
	.can_multi_conn = ddvm_can_multi_conn,
	.pread = ddvm_pread,
	.pwrite = ddvm_pwrite,
	.flush = ddvm_flush,
	.trim = ddvm_trim,
	.zero = ddvm_zero,
	.errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN(plugin)
