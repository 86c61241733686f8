// SPDX-License-Identifier: MIT
/*
 * fuzz-blkc-model: libddvm's block client state machine against random
 * driver-VM behaviour, checked against a reference model.
 *
 * The fuzzer's bytes are a program: the client submits, releases, polls;
 * the driver VM (tests/lib/blkc_harness.h) takes requests, answers them
 * honestly, with a wrong id, a stale sequence, a wrong len / op / status,
 * twice, or not at all, in any order; it dies and comes back at any point
 * (with a transport that sees peers leave, or one that only sees the
 * generation change); it publishes impossible ring indices; time passes.
 *
 * Invariants:
 *  - a completion names a slot that holds a submitted, unfinished request,
 *    and comes once per submission (no slot released twice);
 *  - a successful READ completes with the data of its own offset (never
 *    another request's), as the honest driver VM read it;
 *  - the driver VM never executes a request whose slot the client has
 *    handed to another request meanwhile (no buffer reused while in flight);
 *  - after a poll at time T no unfinished request has a deadline <= T, and
 *    at the end every request has completed;
 *  - the free list holds distinct, free slots.
 */
#include <stddef.h>
#include <stdint.h>

#include "../lib/blkc_harness.h"
#include "must.h"

#define NSLOTS	8u
#define LBS	512u
#define CAP	(64u * 1024u)
#define MAXT	(4u * LBS)
#define MAX_TAKEN 64

struct sub {			/* the model of one slot's current submission */
	int active;		/* submitted, completion not seen */
	int held;		/* claimed and not released by us */
	uint32_t seq;
	uint16_t op;
	uint64_t off, deadline;
	uint32_t len;
};

static struct harness H;
static struct sub S[NSLOTS];
static struct ddvm_slot taken[MAX_TAKEN], last_answer;
static unsigned int ntaken, have_last;
static int broken_inst;		/* this instance published an impossible index */

struct input {
	const uint8_t *d;
	size_t n, pos;
};

static uint8_t in8(struct input *in)
{
	return in->pos < in->n ? in->d[in->pos++] : 0;
}

/* Byte p of the (immutable) disk: distinct per 512-byte block. */
static uint8_t disk_byte(uint64_t p)
{
	return (uint8_t)(p / LBS * 37 + 11);
}

static void on_done(struct harness *h, uint32_t k, void *cookie, int result)
{
	struct sub *s;
	uint32_t i;

	(void)cookie;
	MUST(k < NSLOTS);
	s = &S[k];
	MUST(s->active && s->held);
	MUST(h->c.slots[k].seq == s->seq);
	s->active = 0;
	if (result == 0 && s->op == DDVM_OP_READ) {
		const volatile uint8_t *b = ddvm_blkc_buf(&h->c, k);

		for (i = 0; i < s->len; i += 97)
			MUST(b[i] == disk_byte(s->off + i));
	}
}

/* The honest driver executes rq: its slot must still be that request's. */
static uint32_t exec_checked(const struct ddvm_slot *rq)
{
	uint64_t id = ddvm_le64_to_cpu(rq->id);
	uint32_t k = (uint32_t)(id & 0xffff), seq = (uint32_t)(id >> 16);
	uint16_t op = ddvm_le16_to_cpu(rq->op);
	uint64_t off = ddvm_le64_to_cpu(rq->offset), buf = ddvm_le64_to_cpu(rq->buf_off);
	uint32_t len = ddvm_le32_to_cpu(rq->len), i;

	MUST(k < NSLOTS);
	MUST(H.c.slots[k].seq == seq);	/* not handed to another request meanwhile */
	if (op == DDVM_OP_READ) {
		MUST(buf >= H.c.q.data_off && len <= MAXT && off + len <= CAP);
		for (i = 0; i < len; i++)
			H.ch.mem[buf + i] = disk_byte(off + i);
	}
	return DDVM_S_OK;
}

static void check_free_list(void)
{
	uint32_t i, j;

	MUST(H.c.nfree <= NSLOTS);
	for (i = 0; i < H.c.nfree; i++) {
		MUST(H.c.free_stack[i] < NSLOTS);
		MUST(H.c.slots[H.c.free_stack[i]].state == 0);
		MUST(!S[H.c.free_stack[i]].held);
		for (j = i + 1; j < H.c.nfree; j++)
			MUST(H.c.free_stack[i] != H.c.free_stack[j]);
	}
}

static void poll_checked(void)
{
	uint32_t k;

	ddvm_blkc_poll(&H.c);
	for (k = 0; k < NSLOTS; k++)
		MUST(!S[k].active || S[k].deadline > H.ch.now);
	check_free_list();
}

static void submit(struct input *in)
{
	uint8_t a = in8(in), b = in8(in);
	static const uint16_t ops[4] = { DDVM_OP_READ, DDVM_OP_WRITE, DDVM_OP_FLUSH,
					 DDVM_OP_DISCARD };
	uint16_t op = ops[a & 3];
	uint32_t len = (uint32_t)((b & 3) + 1) * LBS;
	uint64_t off = (uint64_t)(b >> 2) * LBS;
	int k = ddvm_blkc_claim(&H.c);

	if (k < 0) {
		MUST(k == -DDVM_EAGAIN);
		return;
	}
	MUST(!S[k].held && !S[k].active);
	S[k].held = 1;
	if (op == DDVM_OP_FLUSH)
		off = len = 0;
	if (ddvm_blkc_submit(&H.c, (uint32_t)k, op, a & 4 ? DDVM_F_FUA : 0, off, len, NULL) < 0) {
		MUST(0);	/* everything generated here is valid */
	}
	S[k] = (struct sub){ .active = 1, .held = 1, .seq = H.c.slots[k].seq, .op = op,
			     .off = off, .len = len, .deadline = H.ch.now + 1000000000ull };
	check_free_list();
}

static void submit_invalid(struct input *in)
{
	int k = ddvm_blkc_claim(&H.c);
	uint8_t a = in8(in);

	if (k < 0)
		return;
	S[k].held = 1;
	MUST(ddvm_blkc_submit(&H.c, (uint32_t)k, a & 1 ? DDVM_OP_READ : 99, 0,
			      a & 2 ? 100 : CAP, a & 4 ? MAXT * 2 : LBS, NULL) == -DDVM_EINVAL);
	ddvm_blkc_release(&H.c, (uint32_t)k);
	S[k].held = 0;
	check_free_list();
}

static void release(struct input *in)
{
	uint32_t k = in8(in) % NSLOTS;

	if (!S[k].held || S[k].active)
		return;
	ddvm_blkc_release(&H.c, k);
	S[k].held = 0;
	check_free_list();
}

static void take(void)
{
	if (H.ch.present && !broken_inst && ntaken < MAX_TAKEN && h_take(&H, &taken[ntaken]) == 0)
		ntaken++;
}

static struct ddvm_slot *pick_taken(struct input *in)
{
	unsigned int i;
	struct ddvm_slot *rq;

	if (!ntaken)
		return NULL;
	static struct ddvm_slot picked;

	i = in8(in) % ntaken;
	picked = taken[i];
	rq = &picked;
	taken[i] = taken[--ntaken];
	return rq;
}

static void answer(struct input *in, int evil)
{
	struct ddvm_slot *rq = pick_taken(in), bad;
	uint8_t how = in8(in);

	if (!rq)
		return;
	if (!evil) {
		uint32_t st = how & 1 ? exec_checked(rq) : (how & 2 ? DDVM_S_IOERR : DDVM_S_RANGE);

		h_answer(&H, rq, st);
		last_answer = *rq;		/* as sent, for a duplicate */
		last_answer.status = ddvm_cpu_to_le32(st);
		have_last = 1;
		return;
	}
	bad = *rq;
	switch (how % 6) {
	case 0: bad.id ^= ddvm_cpu_to_le64((uint64_t)(how | 1) << 48); break;	/* tag */
	case 1: bad.id = ddvm_cpu_to_le64((ddvm_le64_to_cpu(bad.id) & ~0xffffull) | 0x7fff); break;
	case 2: bad.id = ddvm_cpu_to_le64(ddvm_le64_to_cpu(bad.id) - (1ull << 16)); break; /* stale */
	case 3: bad.len = ddvm_cpu_to_le32(ddvm_le32_to_cpu(bad.len) + LBS); break;
	case 4: bad.op = ddvm_cpu_to_le16(ddvm_le16_to_cpu(bad.op) ^ 1); break;
	default:
		h_answer(&H, &bad, 1000u + how);	/* unknown status */
		return;
	}
	h_answer(&H, &bad, DDVM_S_OK);
}

static void duplicate(void)
{
	if (have_last && H.ch.present && !broken_inst)
		h_answer(&H, &last_answer, ddvm_le32_to_cpu(last_answer.status));
}

static void hostile_index(struct input *in)
{
	uint8_t a = in8(in);

	if (!H.ch.present)
		return;
	broken_inst = 1;
	if (a & 1)
		H.ch.dresp.sh->prod = ddvm_cpu_to_le32(H.ch.dresp.idx + NSLOTS + 1 + (a >> 1));
	else
		H.ch.dreq.sh->cons = ddvm_cpu_to_le32(H.ch.dreq.idx + 0x10000u + a);
}

static void kill_vm(void)
{
	if (!H.ch.present)
		return;
	h_kill(&H);
	ntaken = 0;		/* what it took dies with it */
	have_last = 0;
}

static void boot_vm(void)
{
	if (H.ch.present)
		return;
	h_boot(&H);
	broken_inst = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size, 0 };
	uint32_t k;
	int steps = 0, trace = getenv("FUZZ_TRACE") != NULL;

	memset(S, 0, sizeof(S));
	ntaken = have_last = 0;
	broken_inst = 0;
	MUST(h_init(&H, NSLOTS, 4096, MAXT, LBS, CAP, 1, !(in8(&in) & 1)) == 0);
	H.ch.quiet = !trace;
	H.on_done = on_done;
	while (in.pos < in.n && steps++ < 400) {
		uint8_t opc = in8(&in) % 12;

		if (trace)	/* FUZZ_TRACE=1 fuzz-blkc-model CRASH: what happened */
			fprintf(stderr, "step %d: action %u at %zu (present %d, gen %u, ntaken %u)\n",
				steps, opc, in.pos - 1, H.ch.present,
				ddvm_le32_to_cpu(h_hdr(&H)->generation), ntaken);
		switch (opc) {
		case 0: case 1: submit(&in); break;
		case 2: take(); break;
		case 3: answer(&in, 0); break;
		case 4: answer(&in, 1); break;
		case 5: duplicate(); break;
		case 6: H.ch.now += (uint64_t)in8(&in) * 20000000ull; poll_checked(); break;
		case 7: poll_checked(); break;
		case 8: kill_vm(); break;
		case 9: boot_vm(); break;
		case 10: release(&in); break;
		default:
			if (in8(&in) & 1)
				hostile_index(&in);
			else
				submit_invalid(&in);
			break;
		}
	}
	/* The end: every request completes by its deadline, whatever happened. */
	poll_checked();
	H.ch.now += 2000000000ull;
	poll_checked();
	for (k = 0; k < NSLOTS; k++)
		MUST(!S[k].active);
	h_fini(&H);
	return 0;
}
