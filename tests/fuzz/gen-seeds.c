// SPDX-License-Identifier: MIT
/*
 * gen-seeds DIR: write the seed corpora DIR/corpus-region/ and
 * DIR/corpus-ring/ (`make fuzz-seeds`; the output is checked in).
 *
 * Region seeds are real layouts from ddvm_region_setup, with the driver VM's
 * side filled in (READY, PCI table, entries in flight), trimmed of trailing
 * zeros: fuzz-region pads them back to 64 KiB.  Ring seeds are short
 * operation programs in fuzz-ring's encoding.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ddvm/ring.h"
#include "ddvm/posix/region_setup.h"

static const char *outdir;

static int write_seed(const char *corpus, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/corpus-%s", outdir, corpus);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/corpus-%s/%s", outdir, corpus, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

/* Fill a region the way a live driver VM would leave it. */
static void region_populate(uint8_t *mem, uint64_t size, const struct ddvm_layout *l, int busy)
{
	struct ddvm_region_hdr *h = (struct ddvm_region_hdr *)mem;
	struct ddvm_pci_entry *e = (struct ddvm_pci_entry *)(mem + l->pci_table_off);
	struct ddvm_slot s;
	struct ddvm_ring r;
	uint32_t i, k;

	h->generation = 1;
	h->guest_state = DDVM_GUEST_READY;
	h->heartbeat = 42;
	h->guest_peer_id = 1;
	h->guest_version = (uint32_t)DDVM_PROTO_MAJOR << 16 | DDVM_PROTO_MINOR;
	strcpy(h->kernel_release, "6.1.0-56-amd64");
	if (l->pci_table_max >= 2) {
		e[0] = (struct ddvm_pci_entry){ .devfn = 4 << 3, .vendor = 0x1b36, .device = 0x10,
						.class_code = 0x010802, .revision = 2 };
		strcpy(e[0].driver, "nvme");
		strcpy(e[0].names, "nvme0n1");
		e[1] = (struct ddvm_pci_entry){ .devfn = 3 << 3, .vendor = 0x8086, .device = 0x100e,
						.class_code = 0x020000, .revision = 3 };
		strcpy(e[1].driver, "e1000");
		strcpy(e[1].names, "eth0");
		h->pci_count = 2;
		h->pci_seq = 2;
	}
	if (!busy)
		return;
	for (i = 0; i < l->nqueues; i++) {
		const struct ddvm_queue_info *q = &l->q[i];

		/* Requests in flight, one response waiting. */
		if (ddvm_ring_bind(&r, mem, size, q->req_ring_off, q->nslots))
			abort();
		for (k = 0; k < q->nslots / 2 + 1; k++) {
			memset(&s, 0, sizeof(s));
			s.id = k + 1;
			s.op = q->kind == DDVM_QK_CTRL ? DDVM_OP_PING : DDVM_OP_READ;
			s.buf_off = q->data_off + 512 * k;
			s.len = 512;
			s.arg0 = 0xc00c1e;
			if (ddvm_prod_push(&r, &s))
				break;
		}
		ddvm_prod_publish(&r);
		if (ddvm_ring_bind(&r, mem, size, q->resp_ring_off, q->nslots))
			abort();
		memset(&s, 0, sizeof(s));
		s.id = 1;
		s.op = DDVM_OP_PING;
		s.arg0 = 0xc00c1e;
		ddvm_prod_push(&r, &s);
		ddvm_prod_publish(&r);
	}
}

static int region_seed(const char *name, const struct ddvm_region_spec *spec, int busy)
{
	const uint64_t size = DDVM_MIN_REGION_SIZE;
	struct ddvm_layout l;
	uint8_t *mem = calloc(1, size);
	uint64_t n = size;
	int rc;

	if (!mem)
		return -ENOMEM;
	rc = ddvm_region_setup(mem, size, spec, &l);
	if (rc) {
		fprintf(stderr, "gen-seeds: %s: region setup failed (%d)\n", name, rc);
		free(mem);
		return rc;
	}
	region_populate(mem, size, &l, busy);
	while (n > sizeof(struct ddvm_region_hdr) && mem[n - 1] == 0)
		n--;
	rc = write_seed("region", name, mem, n);
	free(mem);
	return rc;
}

static int region_seeds(void)
{
	struct ddvm_region_spec s;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.host_peer_id = 0;
	s.heartbeat_period_ms = 100;
	s.pci_table_max = 4;
	s.nqueues = 1;
	s.q[0] = (struct ddvm_queue_spec){ DDVM_QK_CTRL, 0, 4, 4096, 0, 0, "" };
	rc |= region_seed("ctrl-idle", &s, 0);
	rc |= region_seed("ctrl-busy", &s, 1);

	s.nqueues = 3;
	s.q[1] = (struct ddvm_queue_spec){ DDVM_QK_BLOCK, 0, 8, 8192, 1, 2, "" };
	s.q[2] = (struct ddvm_queue_spec){ DDVM_QK_NET, 0, 4, 4096, 2, 3, "" };
	rc |= region_seed("three-queues-busy", &s, 1);

	s.nqueues = 2;
	s.pci_table_max = 0;
	s.q[1] = (struct ddvm_queue_spec){ DDVM_QK_BLOCK, 0, 1, 0, 1, 2, "" };
	rc |= region_seed("one-slot-no-pci", &s, 1);

	s.nqueues = 0;
	s.version_override = 2u << 16;
	rc |= region_seed("major-2", &s, 0);
	return rc;
}

/* fuzz-ring opcodes (op & 0x7f) % 14, high bit selects the response ring. */
enum { PUSH = 0, PPUB = 2, POP = 3, CPUB = 5, WDATA = 6, WSPACE = 7, QUERY = 8,
       HIDX = 9, HSLOT = 10, REBASE = 11, PRESUME = 12, CRESUME = 13, RESP = 0x80 };

static int ring_seeds(void)
{
	static const uint8_t basic[] = { 3, PUSH, PUSH, PPUB, POP, POP, POP, CPUB, QUERY,
		WDATA, PUSH, PPUB, POP, CPUB };
	static const uint8_t full[] = { 2, PUSH, PUSH, PUSH, PUSH, PUSH, PPUB, WSPACE, POP,
		CPUB, PUSH, PPUB, POP, POP, POP, POP, CPUB, POP };
	static const uint8_t wrap[] = { 1, REBASE, 0xf0, 0xff, 0xff, 0xff,
		PUSH, PPUB, POP, CPUB, PUSH, PUSH, PPUB, POP, POP, CPUB, PUSH, PUSH, PPUB,
		POP, POP, CPUB, PUSH, PUSH, PPUB, POP, POP, CPUB, PUSH, PUSH, PPUB, POP, POP,
		CPUB, PUSH, PUSH, PPUB, POP, POP, CPUB, PUSH, PUSH, PPUB, POP, POP, CPUB,
		PUSH, PUSH, PPUB, POP, POP, CPUB, PUSH, PUSH, PPUB, POP, POP, CPUB, QUERY };
	static const uint8_t resume[] = { 4, PUSH, PUSH, PPUB, PUSH, PRESUME, POP, CRESUME,
		POP, POP, CPUB, RESP | PUSH, RESP | PPUB, RESP | WDATA, RESP | POP, RESP | CPUB };
	static const uint8_t hostile[] = { 3, PUSH, PUSH, PPUB, HIDX, 0, 0x40, 0, 0, 0, POP,
		REBASE, 0, 0, 0, 0, PUSH, PPUB, HIDX, 0xc1, 0x20, 0, 0, 0, PUSH, PUSH, PUSH,
		PUSH, PUSH, PUSH, PUSH, PUSH, PUSH, HSLOT, 1, 3, 1, 2, 3, 4, 5, 6, 7, 8, POP,
		CRESUME, POP, HIDX, 2, 9, 0, 0, 0, PUSH, PPUB };
	int rc = 0;

	rc |= write_seed("ring", "basic", basic, sizeof(basic));
	rc |= write_seed("ring", "full", full, sizeof(full));
	rc |= write_seed("ring", "wrap", wrap, sizeof(wrap));
	rc |= write_seed("ring", "resume", resume, sizeof(resume));
	rc |= write_seed("ring", "hostile", hostile, sizeof(hostile));
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	if (region_seeds() || ring_seeds())
		return 1;
	return 0;
}
