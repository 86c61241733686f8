// SPDX-License-Identifier: MIT
/* Fake driver VM: the block queue.  See fake_blk.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fake_blk.h"

static const char *const evil_names[] = {
	[EVIL_NONE] = "none", [EVIL_WRONG_ID] = "wrong-id", [EVIL_DUP_ID] = "dup-id",
	[EVIL_BAD_LEN] = "bad-len", [EVIL_BAD_STATUS] = "bad-status", [EVIL_BAD_OP] = "bad-op",
	[EVIL_CORRUPT_INDEX] = "corrupt-index", [EVIL_STALL] = "stall", [EVIL_SPIN] = "spin",
};

int fake_evil_parse(const char *s)
{
	unsigned int i;

	for (i = 0; i < sizeof(evil_names) / sizeof(evil_names[0]); i++)
		if (strcmp(s, evil_names[i]) == 0)
			return (int)i;
	return -1;
}

int fake_blk_bind(struct fake_blk *b, volatile void *base, const struct ddvm_layout *l,
		  uint32_t qi)
{
	b->base = base;
	b->region_size = l->region_size;
	b->qi = qi;
	b->q = l->q[qi];
	b->chunk = ddvm_blk_chunk(b->q.data_size, b->q.nslots);
	if (ddvm_ring_bind(&b->req, base, l->region_size, b->q.req_ring_off, b->q.nslots) < 0 ||
	    ddvm_ring_bind(&b->resp, base, l->region_size, b->q.resp_ring_off, b->q.nslots) < 0)
		return -EINVAL;
	/* As the guest: impossible indices a broken instance left become an empty ring. */
	const volatile struct ddvm_region_hdr *h = base;

	if (ddvm_cons_attach(&b->req, ddvm_le32_to_cpu(h->generation)) |
	    ddvm_prod_attach(&b->resp))
		fprintf(stderr, "fake-vm: impossible ring indices left behind; starting empty\n");
	return 0;
}

void fake_blk_unpublish(struct fake_blk *b)
{
	volatile struct ddvm_queue_state *s =
		(volatile struct ddvm_queue_state *)(b->base + DDVM_QUEUE_STATE_OFF) + b->qi;

	__atomic_store_n(&s->state, ddvm_cpu_to_le32(DDVM_QS_ABSENT), __ATOMIC_RELEASE);
}

void fake_blk_publish(struct fake_blk *b)
{
	volatile struct ddvm_queue_state *s =
		(volatile struct ddvm_queue_state *)(b->base + DDVM_QUEUE_STATE_OFF) + b->qi;
	const char name[16] = "fakeblk0";
	unsigned int i;

	s->capacity = ddvm_cpu_to_le64(b->capacity);
	s->logical_block_size = ddvm_cpu_to_le32(b->lbs);
	s->physical_block_size = ddvm_cpu_to_le32(b->pbs);
	s->max_transfer = ddvm_cpu_to_le32(b->max_transfer);
	s->features = ddvm_cpu_to_le32(b->features);
	for (i = 0; i < sizeof(name); i++)
		s->dev_name[i] = name[i];
	s->error = 0;
	__atomic_store_n(&s->state, ddvm_cpu_to_le32(DDVM_QS_READY), __ATOMIC_RELEASE);
}

/* Check a request copy like the guest does; DDVM_S_OK if it may run. */
static uint32_t validate(const struct fake_blk *b, uint16_t op, uint16_t flags, uint64_t off,
			 uint64_t buf, uint32_t len)
{
	int data = op == DDVM_OP_READ || op == DDVM_OP_WRITE;

	if (op < DDVM_OP_READ || op > DDVM_OP_WRITE_ZEROES)
		return DDVM_S_NOTSUPP;
	if ((flags & ~DDVM_F_FUA) || (flags && op != DDVM_OP_WRITE))
		return DDVM_S_INVAL;
	if (op == DDVM_OP_FLUSH)
		return len == 0 ? DDVM_S_OK : DDVM_S_INVAL;
	if (len == 0 || len % b->lbs || off % b->lbs || (data && len > b->max_transfer))
		return DDVM_S_INVAL;
	if (data && (buf < b->q.data_off || len > b->q.data_size ||
		     buf - b->q.data_off > b->q.data_size - len ||
		     (buf - b->q.data_off) % b->chunk + len > b->chunk))
		return DDVM_S_INVAL;
	if (off > b->capacity || len > b->capacity - off)
		return DDVM_S_RANGE;
	if (op != DDVM_OP_READ && (b->features & DDVM_BLK_F_RO))
		return DDVM_S_NOTSUPP;
	return DDVM_S_OK;
}

static uint32_t do_read(struct fake_blk *b, uint64_t off, uint64_t buf, uint32_t len)
{
	uint8_t *p = (uint8_t *)b->base + buf;
	uint32_t done = 0;

	while (done < len) {
		ssize_t n = pread(b->fd, p + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return DDVM_S_IOERR;
		if (n == 0) {		/* past the end of a short file: zeroes */
			memset(p + done, 0, len - done);
			break;
		}
		done += (uint32_t)n;
	}
	return DDVM_S_OK;
}

static uint32_t do_write(struct fake_blk *b, uint64_t off, uint64_t buf, uint32_t len, int fua)
{
	const uint8_t *p = (const uint8_t *)b->base + buf;
	uint32_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(b->fd, p + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno == ENOSPC ? DDVM_S_NOSPC : DDVM_S_IOERR;
		done += (uint32_t)n;
	}
	if (fua && fdatasync(b->fd) < 0)
		return DDVM_S_IOERR;
	return DDVM_S_OK;
}

static uint32_t do_zero(struct fake_blk *b, uint64_t off, uint32_t len, int punch)
{
	static const uint8_t zeroes[65536];
	int mode = punch ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;

	if (fallocate(b->fd, mode, (off_t)off, (off_t)len) == 0)
		return DDVM_S_OK;
	if (punch && !(b->features & DDVM_BLK_F_ZEROES_READ))
		return DDVM_S_OK;	/* discard is advisory */
	while (len) {
		uint32_t n = len < sizeof(zeroes) ? len : sizeof(zeroes);

		if (pwrite(b->fd, zeroes, n, (off_t)off) != (ssize_t)n)
			return DDVM_S_IOERR;
		off += n;
		len -= n;
	}
	return DDVM_S_OK;
}

/* Misbehave on this response, as configured.  Returns copies to push (0..2). */
static int spoil(struct fake_blk *b, struct ddvm_slot *r, uint64_t buf, uint32_t len)
{
	uint16_t op = ddvm_le16_to_cpu(r->op);

	if (op == DDVM_OP_READ && b->evil != EVIL_DUP_ID)	/* poison what the client must not use */
		memset((uint8_t *)b->base + buf, 0xee, len);
	b->naffected++;
	fprintf(stderr, "fake-vm: evil %s on request %llu (op %u, len %u)\n",
		evil_names[b->evil], (unsigned long long)b->nio, op, len);
	switch (b->evil) {
	case EVIL_WRONG_ID:
		r->id ^= ddvm_cpu_to_le64(b->naffected & 1 ? 0x5a5a000000000000ull : 0x7770000ull);
		return 1;
	case EVIL_DUP_ID:
		return 2;
	case EVIL_BAD_LEN:
		r->len = ddvm_cpu_to_le32(len + b->lbs);
		return 1;
	case EVIL_BAD_STATUS:
		r->status = ddvm_cpu_to_le32(77);
		return 1;
	case EVIL_BAD_OP:
		r->op = ddvm_cpu_to_le16(op == DDVM_OP_READ ? DDVM_OP_WRITE : DDVM_OP_READ);
		return 1;
	case EVIL_CORRUPT_INDEX:
		__atomic_store_n(&b->resp.sh->prod, ddvm_cpu_to_le32(b->resp.idx + 5 * b->q.nslots + 3),
				 __ATOMIC_RELEASE);
		b->dead = 1;
		return 0;
	case EVIL_SPIN:
		b->spinning = 1;	/* this one is never answered; garbage instead, forever */
		return 0;
	case EVIL_STALL:
	default:
		return 0;
	}
}

/* One request: returns the number of response copies in *out (0..2). */
static int serve_one(struct fake_blk *b, const struct ddvm_slot *rq, struct ddvm_slot *out)
{
	uint16_t op = ddvm_le16_to_cpu(rq->op), flags = ddvm_le16_to_cpu(rq->flags);
	uint64_t off = ddvm_le64_to_cpu(rq->offset), buf = ddvm_le64_to_cpu(rq->buf_off);
	uint32_t len = ddvm_le32_to_cpu(rq->len), st;

	memset(out, 0, sizeof(*out));
	out->id = rq->id;
	out->op = ddvm_cpu_to_le16(op);
	out->offset = ddvm_cpu_to_le64(off);
	out->buf_off = ddvm_cpu_to_le64(buf);
	out->len = ddvm_cpu_to_le32(len);
	st = validate(b, op, flags, off, buf, len);
	if (st == DDVM_S_OK) {
		switch (op) {
		case DDVM_OP_READ: st = do_read(b, off, buf, len); break;
		case DDVM_OP_WRITE: st = do_write(b, off, buf, len, flags & DDVM_F_FUA); break;
		case DDVM_OP_FLUSH: st = fdatasync(b->fd) < 0 ? DDVM_S_IOERR : DDVM_S_OK; break;
		case DDVM_OP_DISCARD: st = do_zero(b, off, len, 1); break;
		default: st = do_zero(b, off, len, 0); break;
		}
	} else {
		fprintf(stderr, "fake-vm: rejecting op %u off %llu len %u buf %llu: status %u\n",
			op, (unsigned long long)off, len, (unsigned long long)buf, st);
	}
	out->status = ddvm_cpu_to_le32(st);
	b->nserved++;
	if (op == DDVM_OP_READ || op == DDVM_OP_WRITE) {
		b->nio++;
		if (b->evil != EVIL_NONE && b->every && b->nio % b->every == 0)
			return spoil(b, out, buf, len);
	}
	return 1;
}

/*
 * EVIL_SPIN: keep the response producer index moving for ms milliseconds:
 * a garbage response (an id nobody uses) whenever the client has freed a
 * slot, the moment it has.  Returns 1 (ring the client).
 */
static int spin(struct fake_blk *b, unsigned int ms)
{
	struct timespec t0, now;
	struct ddvm_slot g;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int room = ddvm_prod_space(&b->resp);

		if (room < 0) {
			fprintf(stderr, "fake-vm: response ring corrupt\n");
			b->dead = 1;
			return 1;
		}
		while (room-- > 0) {
			memset(&g, 0, sizeof(g));
			g.id = ddvm_cpu_to_le64(0x5a5a000000000000ull | (b->nspun++ & 0xffffffffull));
			g.op = ddvm_cpu_to_le16(DDVM_OP_READ);
			g.status = ddvm_cpu_to_le32(DDVM_S_OK);
			ddvm_prod_push(&b->resp, &g);
			ddvm_prod_publish(&b->resp);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((uint64_t)(now.tv_sec - t0.tv_sec) * 1000 +
		 (uint64_t)(now.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	return 1;
}

int fake_blk_serve(struct fake_blk *b)
{
	struct ddvm_slot rq, rs;
	int ring = 0, r, n, i;

	if (b->spinning && !b->dead)
		return spin(b, 50);

	/*
	 * Like interrupt coalescing on a real device: let the client queue
	 * more before we look, so tests see a full ring whatever the load.
	 */
	if (b->linger_us)
		usleep(b->linger_us);
	while (!b->dead) {
		r = ddvm_prod_space(&b->resp);
		if (r >= 0 && r < 2)	/* room for a duplicate, too */
			r = ddvm_prod_want_space(&b->resp);
		if (r >= 0 && r < 2)
			break;		/* the client rings us when it frees slots */
		if (r < 0) {
			fprintf(stderr, "fake-vm: response ring corrupt\n");
			b->dead = 1;
			break;
		}
		r = ddvm_cons_pop(&b->req, &rq);
		if (r == DDVM_RING_EEMPTY) {
			ring |= ddvm_cons_publish(&b->req);
			r = ddvm_cons_want_data(&b->req);
			if (r > 0)
				continue;
			if (r == 0)
				break;
		}
		if (r < 0) {
			fprintf(stderr, "fake-vm: request ring corrupt\n");
			b->dead = 1;
			break;
		}
		r = ddvm_cons_avail(&b->req);	/* queue depth seen (validated) */
		if (r >= 0 && (uint32_t)r + 1 > b->max_depth)
			b->max_depth = (uint32_t)r + 1;
		n = serve_one(b, &rq, &rs);
		for (i = 0; i < n; i++)
			ddvm_prod_push(&b->resp, &rs);
		if (b->dead)
			return 1;
		/* Publish as we go so the client can overlap with us. */
		ring |= ddvm_prod_publish(&b->resp);
	}
	ring |= ddvm_cons_publish(&b->req);
	ring |= ddvm_prod_publish(&b->resp);
	return ring;
}
