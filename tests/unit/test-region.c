// SPDX-License-Identifier: MIT
/*
 * test-region: a layout from ddvm_region_setup is accepted by
 * ddvm_region_check and reads back field for field; every way a header can
 * be wrong is refused with the right reason; ddvm_guest_read and
 * ddvm_pci_read survive garbage; ddvm_region_setup refuses specs that are
 * invalid or do not fit, leaving its outputs untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/region.h"
#include "ddvm/posix/region_setup.h"
#include "check.h"

#define REGION_SIZE	0x40000u	/* 256 KiB */
#define BIG_OFF		0xffffffffffffffc0ull	/* aligned, near UINT64_MAX */

static uint8_t *region;

static struct ddvm_region_hdr *hdr(void)
{
	return (struct ddvm_region_hdr *)region;
}

static struct ddvm_queue_desc *qdesc(unsigned int i)
{
	return (struct ddvm_queue_desc *)(region + DDVM_QUEUE_TABLE_OFF) + i;
}

static void spec_default(struct ddvm_region_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->host_peer_id = 3;
	s->heartbeat_period_ms = 250;
	s->pci_table_max = 16;
	s->nqueues = 3;
	s->q[0] = (struct ddvm_queue_spec){ DDVM_QK_CTRL, 0, 8, 4096, 2, 0, "" };
	s->q[1] = (struct ddvm_queue_spec){ DDVM_QK_BLOCK, 0, 64, 0x10000, 3, 2, "pci=0000:00:04.0" };
	s->q[2] = (struct ddvm_queue_spec){ DDVM_QK_NET, 1, 256, 0x8000, 4, 3, "" };
}

/* Fresh default region; returns its layout. */
static struct ddvm_layout fresh(void)
{
	struct ddvm_region_spec s;
	struct ddvm_layout l;

	spec_default(&s);
	memset(&l, 0, sizeof(l));
	if (ddvm_region_setup(region, REGION_SIZE, &s, &l) != 0)
		abort();
	return l;
}

/* ddvm_region_check on the current region: refusal code, detail via *d. */
static uint32_t check(uint32_t *d)
{
	struct ddvm_layout l;

	return ddvm_region_check(region, REGION_SIZE, &l, d);
}

#define EXPECT_REFUSAL(code, det) do {						\
	uint32_t d_ = 0xdeadbeef;						\
	CHECK_EQ(check(&d_), (code));						\
	CHECK_EQ(d_, (det));							\
} while (0)

static void test_roundtrip(void)
{
	struct ddvm_region_spec s;
	struct ddvm_layout l, got;
	uint32_t d = 1, i;

	spec_default(&s);
	CHECK_EQ(ddvm_region_setup(region, REGION_SIZE, &s, &l), 0);
	CHECK_EQ(ddvm_region_check(region, REGION_SIZE, &got, &d), DDVM_REFUSE_NONE);
	CHECK_EQ(d, 0);
	CHECK_EQ(ddvm_layout_validate(&l), DDVM_LAYOUT_OK);
	CHECK_EQ(got.region_size, REGION_SIZE);
	CHECK_EQ(got.region_size, l.region_size);
	CHECK_EQ(got.host_peer_id, 3);
	CHECK_EQ(got.nqueues, 3);
	CHECK_EQ(got.pci_table_off, l.pci_table_off);
	CHECK_EQ(got.pci_table_max, 16);
	CHECK_EQ(got.heartbeat_period_ms, 250);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(got.q[i].kind, s.q[i].kind);
		CHECK_EQ(got.q[i].index, s.q[i].index);
		CHECK_EQ(got.q[i].nslots, s.q[i].nslots);
		CHECK_EQ(got.q[i].data_size, s.q[i].data_size);
		CHECK_EQ(got.q[i].req_vector, s.q[i].req_vector);
		CHECK_EQ(got.q[i].resp_vector, s.q[i].resp_vector);
		CHECK_EQ(got.q[i].req_ring_off, l.q[i].req_ring_off);
		CHECK_EQ(got.q[i].resp_ring_off, l.q[i].resp_ring_off);
		CHECK_EQ(got.q[i].data_off, l.q[i].data_off);
		CHECK_EQ(got.q[i].req_ring_off % DDVM_ALIGN, 0);
		CHECK_EQ(got.q[i].data_off % DDVM_ALIGN, 0);
	}
	/* Wire fields as written, and the driver-VM half left zero. */
	CHECK_EQ(hdr()->magic, DDVM_MAGIC);
	CHECK(memcmp(region, "DDVM", 4) == 0);
	CHECK_EQ(hdr()->version_major, DDVM_PROTO_MAJOR);
	CHECK_EQ(hdr()->version_minor, DDVM_PROTO_MINOR);
	CHECK_EQ(hdr()->host_state, DDVM_HOST_SERVING);
	CHECK_EQ(hdr()->hdr_size, DDVM_HDR_SIZE);
	CHECK_EQ(hdr()->queue_table_off, DDVM_QUEUE_TABLE_OFF);
	CHECK_EQ(hdr()->guest_state, DDVM_GUEST_ABSENT);
	CHECK_EQ(hdr()->generation, 0);
	CHECK_EQ(hdr()->host_flags, 0);
	CHECK_EQ(ddvm_region_bytes_needed(&s) <= REGION_SIZE, 1);

	/* Exactly the bytes needed fits; a page less does not. */
	s.q[1].data_size = 0x80000;
	{
		uint64_t need = ddvm_region_bytes_needed(&s);
		uint8_t *big = malloc(need);

		CHECK(big != NULL);
		CHECK_EQ(ddvm_region_setup(big, need, &s, &l), 0);
		CHECK_EQ(ddvm_region_check(big, need, &got, &d), DDVM_REFUSE_NONE);
		CHECK_EQ(ddvm_region_setup(big, need - 4096, &s, &l), -ENOSPC);
		free(big);
	}

	/* Minor versions are compatible; the test hook publishes them. */
	spec_default(&s);
	s.version_override = (uint32_t)DDVM_PROTO_MAJOR << 16 | 9;
	CHECK_EQ(ddvm_region_setup(region, REGION_SIZE, &s, &l), 0);
	CHECK_EQ(ddvm_region_check(region, REGION_SIZE, &got, &d), DDVM_REFUSE_NONE);
	s.version_override = 99u << 16;
	CHECK_EQ(ddvm_region_setup(region, REGION_SIZE, &s, &l), 0);
	CHECK_EQ(ddvm_region_check(region, REGION_SIZE, &got, &d), DDVM_REFUSE_VERSION);
	CHECK_EQ(d, 99u << 16);

	/* No queues at all is a valid (if useless) layout. */
	spec_default(&s);
	s.nqueues = 0;
	s.pci_table_max = 0;
	CHECK_EQ(ddvm_region_setup(region, DDVM_MIN_REGION_SIZE, &s, &l), 0);
	CHECK_EQ(ddvm_region_check(region, DDVM_MIN_REGION_SIZE, &got, &d), DDVM_REFUSE_NONE);

	/* Sixteen queues. */
	spec_default(&s);
	s.nqueues = DDVM_MAX_QUEUES;
	for (i = 0; i < DDVM_MAX_QUEUES; i++)
		s.q[i] = (struct ddvm_queue_spec){ DDVM_QK_BLOCK, (uint16_t)i, 16, 4096, 2, 2, "" };
	CHECK_EQ(ddvm_region_setup(region, REGION_SIZE, &s, &l), 0);
	CHECK_EQ(ddvm_region_check(region, REGION_SIZE, &got, &d), DDVM_REFUSE_NONE);
	CHECK_EQ(got.nqueues, DDVM_MAX_QUEUES);
	CHECK_EQ(got.q[15].index, 15);
}

static void test_header_refusals(void)
{
	struct ddvm_layout l;
	uint32_t d;

	fresh();
	hdr()->magic = 0x12345678;
	EXPECT_REFUSAL(DDVM_REFUSE_MAGIC, 0x12345678);
	fresh();
	hdr()->magic = 0;
	EXPECT_REFUSAL(DDVM_REFUSE_MAGIC, 0);

	fresh();
	hdr()->version_major = DDVM_PROTO_MAJOR + 1;
	EXPECT_REFUSAL(DDVM_REFUSE_VERSION, (uint32_t)(DDVM_PROTO_MAJOR + 1) << 16 | DDVM_PROTO_MINOR);
	fresh();
	hdr()->version_major = 0;
	hdr()->version_minor = 5;
	EXPECT_REFUSAL(DDVM_REFUSE_VERSION, 5);
	fresh();
	hdr()->version_minor = 0xffff;		/* newer minor: accepted */
	EXPECT_REFUSAL(DDVM_REFUSE_NONE, 0);

	fresh();
	hdr()->host_state = DDVM_HOST_INIT;
	EXPECT_REFUSAL(DDVM_REFUSE_STATE, DDVM_HOST_INIT);
	fresh();
	hdr()->host_state = 77;
	EXPECT_REFUSAL(DDVM_REFUSE_STATE, 77);

	fresh();
	hdr()->region_size = REGION_SIZE + 4096;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_SIZE);
	fresh();
	hdr()->region_size = REGION_SIZE - 4096;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_SIZE);
	fresh();
	hdr()->region_size = UINT64_MAX;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_SIZE);
	fresh();
	hdr()->hdr_size = 0x800;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_SIZE);
	/* A mapping smaller than the minimum is refused before anything is read. */
	fresh();
	CHECK_EQ(ddvm_region_check(region, DDVM_MIN_REGION_SIZE - 1, &l, &d), DDVM_REFUSE_LAYOUT);
	CHECK_EQ(d, DDVM_LAYOUT_SIZE);
	CHECK_EQ(ddvm_region_check(region, 0, &l, &d), DDVM_REFUSE_LAYOUT);

	fresh();
	hdr()->queue_table_off = 0x440;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_QTABLE);
	fresh();
	hdr()->queue_table_off = BIG_OFF;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_QTABLE);
	fresh();
	hdr()->nqueues = DDVM_MAX_QUEUES + 1;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_QTABLE);
	fresh();
	hdr()->nqueues = 0xffff;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_QTABLE);

	fresh();
	hdr()->pci_table_off += 8;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_PCI);
	fresh();
	hdr()->pci_table_off = REGION_SIZE;	/* in bounds only if empty */
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_PCI);
	fresh();
	hdr()->pci_table_off = REGION_SIZE - 64;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_PCI);
	fresh();
	hdr()->pci_table_off = BIG_OFF;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_PCI);
	fresh();
	hdr()->pci_table_max = 4097;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_PCI);
	fresh();
	hdr()->pci_table_max = 0xffffffffu;
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_PCI);
	fresh();
	hdr()->pci_table_off = 0x800;		/* PCI table over the header page */
	EXPECT_REFUSAL(DDVM_REFUSE_LAYOUT, DDVM_LAYOUT_OVERLAP);
}

/* Set one queue field of a fresh region, expect a refusal with detail why. */
#define QFIELD(qi, field, val, why) do {					\
	fresh();								\
	qdesc(qi)->field = (val);						\
	EXPECT_REFUSAL((why) ? DDVM_REFUSE_LAYOUT : DDVM_REFUSE_NONE, (why));	\
} while (0)

static void test_queue_refusals(void)
{
	struct ddvm_layout l = fresh();
	uint64_t pci_end = l.pci_table_off + l.pci_table_max * sizeof(struct ddvm_pci_entry);

	QFIELD(0, kind, 0, DDVM_LAYOUT_KIND);
	QFIELD(1, kind, DDVM_QK_NET + 1, DDVM_LAYOUT_KIND);
	QFIELD(2, kind, 0xffff, DDVM_LAYOUT_KIND);
	QFIELD(2, kind, DDVM_QK_CTRL, DDVM_LAYOUT_OK);	/* kinds may repeat */

	QFIELD(0, nslots, 0, DDVM_LAYOUT_RING);
	QFIELD(0, nslots, 3, DDVM_LAYOUT_RING);
	QFIELD(0, nslots, 12, DDVM_LAYOUT_RING);
	QFIELD(1, nslots, DDVM_MAX_RING_SLOTS * 2, DDVM_LAYOUT_RING);
	QFIELD(1, nslots, 0x80000000u, DDVM_LAYOUT_RING);
	QFIELD(1, nslots, 0xffffffffu, DDVM_LAYOUT_RING);
	QFIELD(0, nslots, 4, DDVM_LAYOUT_OK);		/* smaller ring, still inside */
	QFIELD(0, nslots, 16, DDVM_LAYOUT_OVERLAP);	/* req ring runs into resp ring */

	QFIELD(0, req_ring_off, l.q[0].req_ring_off + 8, DDVM_LAYOUT_RING);
	QFIELD(0, req_ring_off, l.q[0].req_ring_off + 1, DDVM_LAYOUT_RING);
	QFIELD(0, resp_ring_off, l.q[0].resp_ring_off + 32, DDVM_LAYOUT_RING);
	QFIELD(0, req_ring_off, REGION_SIZE, DDVM_LAYOUT_RING);
	QFIELD(0, req_ring_off, REGION_SIZE - 64, DDVM_LAYOUT_RING);
	QFIELD(0, req_ring_off, REGION_SIZE - ddvm_ring_bytes(8), DDVM_LAYOUT_OK);
	QFIELD(0, req_ring_off, BIG_OFF, DDVM_LAYOUT_RING);
	QFIELD(1, resp_ring_off, BIG_OFF, DDVM_LAYOUT_RING);
	QFIELD(1, resp_ring_off, BIG_OFF - 64 * 64, DDVM_LAYOUT_RING);

	QFIELD(1, data_off, REGION_SIZE, DDVM_LAYOUT_DATA);
	QFIELD(1, data_off, l.q[1].data_off + 4, DDVM_LAYOUT_DATA);
	QFIELD(1, data_off, BIG_OFF, DDVM_LAYOUT_DATA);
	QFIELD(1, data_size, REGION_SIZE, DDVM_LAYOUT_DATA);
	QFIELD(1, data_size, UINT64_MAX, DDVM_LAYOUT_DATA);
	QFIELD(1, data_size, UINT64_MAX - l.q[1].data_off + 1, DDVM_LAYOUT_DATA);	/* wraps to 0 */
	QFIELD(1, data_size, 0, DDVM_LAYOUT_OK);	/* empty area overlaps nothing */

	/* Overlaps: with the header, the PCI table, each other. */
	QFIELD(0, req_ring_off, 0, DDVM_LAYOUT_OVERLAP);
	QFIELD(0, req_ring_off, DDVM_QUEUE_TABLE_OFF, DDVM_LAYOUT_OVERLAP);
	QFIELD(0, resp_ring_off, DDVM_HDR_SIZE - 64, DDVM_LAYOUT_OVERLAP);
	QFIELD(0, req_ring_off, l.pci_table_off, DDVM_LAYOUT_OVERLAP);
	QFIELD(0, req_ring_off, pci_end - 64, DDVM_LAYOUT_OVERLAP);
	QFIELD(1, data_off, l.pci_table_off, DDVM_LAYOUT_OVERLAP);
	QFIELD(2, data_off, 0, DDVM_LAYOUT_OVERLAP);
	QFIELD(0, resp_ring_off, l.q[0].req_ring_off, DDVM_LAYOUT_OVERLAP);
	QFIELD(1, req_ring_off, l.q[0].req_ring_off, DDVM_LAYOUT_OVERLAP);
	QFIELD(2, resp_ring_off, l.q[1].data_off + 64, DDVM_LAYOUT_OVERLAP);
	QFIELD(2, data_off, l.q[1].data_off + l.q[1].data_size - 64, DDVM_LAYOUT_OVERLAP);
	QFIELD(0, data_off, l.q[2].req_ring_off, DDVM_LAYOUT_OVERLAP);
	QFIELD(1, data_size, l.q[1].data_size + 4096, DDVM_LAYOUT_OVERLAP);
	/* Touching is not overlapping. */
	QFIELD(0, data_size, l.q[1].req_ring_off - l.q[0].data_off, DDVM_LAYOUT_OK);
	QFIELD(0, data_size, l.q[1].req_ring_off - l.q[0].data_off + 1, DDVM_LAYOUT_OVERLAP);

	/* Vectors, index and reserved fields are not the validator's business. */
	QFIELD(0, req_vector, 0xffff, DDVM_LAYOUT_OK);
	QFIELD(0, index, 0xffff, DDVM_LAYOUT_OK);
}

static void test_layout_validate(void)
{
	struct ddvm_layout l = fresh(), m;

	CHECK_EQ(ddvm_layout_validate(&l), DDVM_LAYOUT_OK);
	m = l;
	m.region_size = DDVM_MIN_REGION_SIZE - 1;
	CHECK_EQ(ddvm_layout_validate(&m), DDVM_LAYOUT_SIZE);
	m = l;
	m.nqueues = DDVM_MAX_QUEUES + 1;
	CHECK_EQ(ddvm_layout_validate(&m), DDVM_LAYOUT_QTABLE);
	m = l;
	m.nqueues = 0xffffffffu;
	CHECK_EQ(ddvm_layout_validate(&m), DDVM_LAYOUT_QTABLE);
	m = l;
	m.q[1].resp_ring_off = m.q[2].resp_ring_off;
	CHECK_EQ(ddvm_layout_validate(&m), DDVM_LAYOUT_OVERLAP);
}

static void test_guest_read(void)
{
	struct ddvm_guest_view v;
	struct ddvm_region_hdr *h;
	unsigned int i;

	fresh();
	h = hdr();
	ddvm_guest_read(region, &v);
	CHECK_EQ(v.state, DDVM_GUEST_ABSENT);
	CHECK_EQ(v.generation, 0);
	CHECK_EQ(v.kernel_release[0], '\0');

	h->generation = 7;
	h->guest_state = DDVM_GUEST_READY;
	h->heartbeat = 0x123456789ull;
	h->guest_peer_id = 5;
	h->guest_version = 1u << 16 | 2;
	h->refusal = DDVM_REFUSE_LAYOUT;
	h->refusal_detail = DDVM_LAYOUT_RING;
	strcpy(h->kernel_release, "6.1.0-56-amd64");
	ddvm_guest_read(region, &v);
	CHECK_EQ(v.generation, 7);
	CHECK_EQ(v.state, DDVM_GUEST_READY);
	CHECK_EQ(v.heartbeat, 0x123456789ull);
	CHECK_EQ(v.peer_id, 5);
	CHECK_EQ(v.guest_version, 0x10002);
	CHECK_EQ(v.refusal, DDVM_REFUSE_LAYOUT);
	CHECK_EQ(v.refusal_detail, DDVM_LAYOUT_RING);
	CHECK(strcmp(v.kernel_release, "6.1.0-56-amd64") == 0);

	h->guest_state = DDVM_GUEST_STOPPING;
	ddvm_guest_read(region, &v);
	CHECK_EQ(v.state, DDVM_GUEST_STOPPING);
	h->guest_state = DDVM_GUEST_STOPPING + 1;
	ddvm_guest_read(region, &v);
	CHECK_EQ(v.state, DDVM_GUEST_BOGUS);
	h->guest_state = 0x80000000u;
	ddvm_guest_read(region, &v);
	CHECK_EQ(v.state, DDVM_GUEST_BOGUS);
	h->guest_state = DDVM_GUEST_BOGUS;
	ddvm_guest_read(region, &v);
	CHECK_EQ(v.state, DDVM_GUEST_BOGUS);

	/* 64 bytes with no NUL: all 64 kept, terminated. */
	memset(h->kernel_release, 'x', sizeof(h->kernel_release));
	memset(h->reserved, 'y', 16);		/* the byte after it is not NUL either */
	ddvm_guest_read(region, &v);
	CHECK_EQ(strlen(v.kernel_release), 64);
	CHECK_EQ(v.kernel_release[63], 'x');
	CHECK_EQ(v.kernel_release[64], '\0');

	/* Non-printables become '?'; the first NUL ends the string. */
	for (i = 0; i < 64; i++)
		h->kernel_release[i] = (char)(i * 37 + 1);
	h->kernel_release[0] = '\n';
	h->kernel_release[1] = (char)0x80;
	h->kernel_release[2] = (char)0xff;
	h->kernel_release[3] = 0x7f;
	h->kernel_release[4] = 'A';
	h->kernel_release[5] = '\0';
	h->kernel_release[6] = 'B';
	ddvm_guest_read(region, &v);
	CHECK(strcmp(v.kernel_release, "????A") == 0);
	for (i = 0; i < 64; i++)
		h->kernel_release[i] = (char)(i * 37 + 1) ? (char)(i * 37 + 1) : 1;
	ddvm_guest_read(region, &v);
	CHECK_EQ(strlen(v.kernel_release), 64);
	for (i = 0; i < 64; i++)
		if (v.kernel_release[i] < 0x20 || v.kernel_release[i] >= 0x7f)
			break;
	CHECK_EQ(i, 64);
}

static struct ddvm_pci_entry *pci_entry(const struct ddvm_layout *l, unsigned int i)
{
	return (struct ddvm_pci_entry *)(region + l->pci_table_off) + i;
}

static void test_pci_read(void)
{
	struct ddvm_layout l = fresh();
	struct ddvm_pci_info out[20];
	struct ddvm_pci_entry *e;
	uint32_t count = 99;

	/* Empty table. */
	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_OK);
	CHECK_EQ(count, 0);

	e = pci_entry(&l, 0);
	e->domain = 0;
	e->bus = 0;
	e->devfn = 4 << 3 | 0;
	e->vendor = 0x1b36;
	e->device = 0x0010;
	e->subsystem_vendor = 0x1af4;
	e->subsystem_device = 0x1100;
	e->class_code = 0xff010802;		/* top byte is not part of it */
	e->revision = 2;
	strcpy(e->driver, "nvme");
	strcpy(e->names, "nvme0n1 nvme0");
	e = pci_entry(&l, 1);
	e->domain = 0x10;
	e->bus = 0xff;
	e->devfn = 0xff;
	e->vendor = 0x8086;
	e->device = 0x100e;
	memset(e->driver, 'D', sizeof(e->driver));	/* unterminated */
	memset(e->names, 'n', sizeof(e->names));	/* unterminated, runs into entry 2 */
	e->names[10] = '\t';
	e->names[11] = (char)0xc3;
	hdr()->pci_count = 2;
	hdr()->pci_seq = 4;

	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_OK);
	CHECK_EQ(count, 2);
	CHECK_EQ(out[0].domain, 0);
	CHECK_EQ(out[0].bus, 0);
	CHECK_EQ(out[0].dev, 4);
	CHECK_EQ(out[0].fn, 0);
	CHECK_EQ(out[0].vendor, 0x1b36);
	CHECK_EQ(out[0].device, 0x0010);
	CHECK_EQ(out[0].subsystem_vendor, 0x1af4);
	CHECK_EQ(out[0].subsystem_device, 0x1100);
	CHECK_EQ(out[0].class_code, 0x010802);
	CHECK_EQ(out[0].revision, 2);
	CHECK(strcmp(out[0].driver, "nvme") == 0);
	CHECK(strcmp(out[0].names, "nvme0n1 nvme0") == 0);
	CHECK_EQ(out[1].domain, 0x10);
	CHECK_EQ(out[1].bus, 0xff);
	CHECK_EQ(out[1].dev, 31);
	CHECK_EQ(out[1].fn, 7);
	CHECK_EQ(strlen(out[1].driver), 32);
	CHECK_EQ(strlen(out[1].names), 76);
	CHECK_EQ(out[1].names[10], '?');
	CHECK_EQ(out[1].names[11], '?');
	CHECK_EQ(out[1].names[75], 'n');

	/* Caller's max caps the copy. */
	count = 99;
	CHECK_EQ(ddvm_pci_read(region, &l, out, 1, &count), DDVM_PCI_OK);
	CHECK_EQ(count, 1);
	CHECK_EQ(ddvm_pci_read(region, &l, out, 0, &count), DDVM_PCI_OK);
	CHECK_EQ(count, 0);

	/* A count beyond the table's capacity is refused, whatever the caller's max. */
	hdr()->pci_count = l.pci_table_max + 1;
	count = 99;
	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_BAD);
	CHECK_EQ(count, 0);
	CHECK_EQ(ddvm_pci_read(region, &l, out, 1, &count), DDVM_PCI_BAD);
	hdr()->pci_count = 0xffffffffu;
	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_BAD);
	hdr()->pci_count = l.pci_table_max;		/* full table is fine */
	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_OK);
	CHECK_EQ(count, l.pci_table_max);

	/* Writer in progress (odd seq): busy, nothing reported. */
	hdr()->pci_count = 2;
	hdr()->pci_seq = 5;
	count = 99;
	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_BUSY);
	CHECK_EQ(count, 0);
	hdr()->pci_seq = 0xffffffffu;
	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_BUSY);
	hdr()->pci_seq = 6;
	CHECK_EQ(ddvm_pci_read(region, &l, out, 20, &count), DDVM_PCI_OK);
	CHECK_EQ(count, 2);
}

static void test_setup_refusals(void)
{
	struct ddvm_region_spec s;
	struct ddvm_layout l, sentinel;
	uint8_t *small = region + REGION_SIZE / 2;

	memset(&sentinel, 0xa5, sizeof(sentinel));
#define SETUP_FAILS(size, rc) do {						\
	l = sentinel;								\
	memset(region, 0xee, 64);						\
	CHECK_EQ(ddvm_region_setup(region, (size), &s, &l), (rc));		\
	CHECK(memcmp(&l, &sentinel, sizeof(l)) == 0);	/* *out untouched */	\
	CHECK_EQ(region[0], 0xee);			/* region untouched */	\
} while (0)

	spec_default(&s);
	s.nqueues = DDVM_MAX_QUEUES + 1;
	SETUP_FAILS(REGION_SIZE, -EINVAL);
	spec_default(&s);
	s.pci_table_max = 4097;
	SETUP_FAILS(REGION_SIZE, -EINVAL);
	spec_default(&s);
	s.q[1].nslots = 3;
	SETUP_FAILS(REGION_SIZE, -EINVAL);
	spec_default(&s);
	s.q[1].nslots = 0;
	SETUP_FAILS(REGION_SIZE, -EINVAL);
	spec_default(&s);
	s.q[1].nslots = DDVM_MAX_RING_SLOTS * 2;
	SETUP_FAILS(1u << 24, -EINVAL);
	spec_default(&s);
	s.q[2].kind = 0;
	SETUP_FAILS(REGION_SIZE, -EINVAL);
	spec_default(&s);
	s.q[2].kind = 9;
	SETUP_FAILS(REGION_SIZE, -EINVAL);
	spec_default(&s);
	s.nqueues = 0;
	SETUP_FAILS(DDVM_MIN_REGION_SIZE - 4096, -EINVAL);	/* below the minimum */

	spec_default(&s);
	s.q[1].data_size = REGION_SIZE;
	SETUP_FAILS(REGION_SIZE, -ENOSPC);
	spec_default(&s);
	s.pci_table_max = 4096;
	SETUP_FAILS(REGION_SIZE, -ENOSPC);
	spec_default(&s);
	s.q[2].nslots = DDVM_MAX_RING_SLOTS;
	SETUP_FAILS(REGION_SIZE, -ENOSPC);
	/* Sizes that would wrap the layout arithmetic must not fit either. */
	spec_default(&s);
	s.q[1].data_size = UINT64_MAX - 4096;
	SETUP_FAILS(REGION_SIZE, -ENOSPC);
	spec_default(&s);
	s.q[1].data_size = UINT64_MAX;
	SETUP_FAILS(REGION_SIZE, -ENOSPC);
	CHECK_EQ(ddvm_region_bytes_needed(&s), (long long)UINT64_MAX);	/* saturates */
	s.q[1].data_size = UINT64_MAX - 0x7000 - 4095;	/* data_off + size just fits 64 bits */
	CHECK(ddvm_region_bytes_needed(&s) > REGION_SIZE);
	SETUP_FAILS(REGION_SIZE, -ENOSPC);

	spec_default(&s);
	l = sentinel;
	CHECK_EQ(ddvm_region_setup(NULL, REGION_SIZE, &s, &l), -EINVAL);
	CHECK_EQ(ddvm_region_setup(small, REGION_SIZE / 2, NULL, &l), -EINVAL);
	CHECK(memcmp(&l, &sentinel, sizeof(l)) == 0);
#undef SETUP_FAILS
}

static void test_strings(void)
{
	CHECK(strcmp(ddvm_refusal_str(DDVM_REFUSE_VERSION), "unsupported protocol version") == 0);
	CHECK(strcmp(ddvm_refusal_str(12345), "unknown refusal") == 0);
	CHECK(strcmp(ddvm_layout_str(DDVM_LAYOUT_OVERLAP), "areas overlap") == 0);
	CHECK(strcmp(ddvm_layout_str(99), "unknown layout error") == 0);
	CHECK(strcmp(ddvm_guest_state_str(DDVM_GUEST_READY), "ready") == 0);
	CHECK(strcmp(ddvm_guest_state_str(DDVM_GUEST_BOGUS), "bogus") == 0);
}

/* Queue targets round-trip; queue state is validated before a client uses it. */
static void test_queue_state(void)
{
	struct ddvm_layout l = fresh();
	struct ddvm_queue_state *qs = (struct ddvm_queue_state *)(region + DDVM_QUEUE_STATE_OFF);
	struct ddvm_queue_target *qt = (struct ddvm_queue_target *)(region + DDVM_QUEUE_TARGET_OFF);
	struct ddvm_queue_state_info o;
	char t[65];

	ddvm_queue_target_read(region, 1, t);
	CHECK(strcmp(t, "pci=0000:00:04.0") == 0);
	ddvm_queue_target_read(region, 0, t);
	CHECK(t[0] == '\0');
	ddvm_queue_target_read(region, DDVM_MAX_QUEUES, t);	/* out of range: empty */
	CHECK(t[0] == '\0');
	memset(qt[2].target, 'x', sizeof(qt[2].target));	/* unterminated */
	qt[2].target[3] = '\n';
	ddvm_queue_target_read(region, 2, t);
	CHECK(strlen(t) == 64 && t[3] == '?');

	CHECK_EQ(ddvm_queue_state_read(region, &l, l.nqueues, &o), -1);
	CHECK_EQ(ddvm_queue_state_read(region, &l, 1, &o), 0);
	CHECK_EQ(o.state, DDVM_QS_ABSENT);

	/* A sane READY block queue passes through unchanged. */
	qs[1].state = DDVM_QS_READY;
	qs[1].capacity = 1 << 20;
	qs[1].logical_block_size = 512;
	qs[1].physical_block_size = 4096;
	qs[1].max_transfer = 0x10000;
	qs[1].features = DDVM_BLK_F_FLUSH | DDVM_BLK_F_DISCARD;
	memcpy(qs[1].dev_name, "nvme0n1", 8);
	CHECK_EQ(ddvm_queue_state_read(region, &l, 1, &o), 0);
	CHECK_EQ(o.state, DDVM_QS_READY);
	CHECK_EQ(o.capacity, 1u << 20);
	CHECK_EQ(o.features, DDVM_BLK_F_FLUSH | DDVM_BLK_F_DISCARD);
	CHECK(strcmp(o.dev_name, "nvme0n1") == 0);

	/* Each impossible parameter turns the copy into ERROR/BOGUS. */
#define BOGUS_IF(field, val) do {						\
	struct ddvm_queue_state save_ = qs[1];					\
	qs[1].field = (val);							\
	CHECK_EQ(ddvm_queue_state_read(region, &l, 1, &o), 0);			\
	CHECK_EQ(o.state, DDVM_QS_ERROR);					\
	CHECK_EQ(o.error, DDVM_QE_BOGUS);					\
	qs[1] = save_;								\
} while (0)
	BOGUS_IF(logical_block_size, 0);
	BOGUS_IF(logical_block_size, 256);
	BOGUS_IF(logical_block_size, 513);
	BOGUS_IF(logical_block_size, 1u << 17);
	BOGUS_IF(physical_block_size, 256);
	BOGUS_IF(physical_block_size, 3000);
	BOGUS_IF(capacity, (1 << 20) + 1);
	BOGUS_IF(max_transfer, 0);
	BOGUS_IF(max_transfer, 1000);
	BOGUS_IF(max_transfer, 0x20000);	/* more than the data area */
	BOGUS_IF(state, 7);
#undef BOGUS_IF

	/* Net queue: MAC, link and name copied; link is 0 or 1. */
	memcpy(qs[2].mac, "\x52\x54\x00\x12\x34\x56", 6);
	qs[2].state = DDVM_QS_READY;
	qs[2].link_up = 77;
	qs[2].mtu = 1500;
	memset(qs[2].dev_name, 'e', sizeof(qs[2].dev_name));
	CHECK_EQ(ddvm_queue_state_read(region, &l, 2, &o), 0);
	CHECK_EQ(o.state, DDVM_QS_READY);
	CHECK_EQ(o.link_up, 1u);
	CHECK_EQ(o.mac[5], 0x56);
	CHECK_EQ(strlen(o.dev_name), 16u);

	/*
	 * A READY net queue whose MAC is zero or multicast, or whose MTU is out
	 * of range, is nonsense; the copy keeps the values, for the log.
	 */
#define NET_BOGUS_IF(field, val) do {						\
	struct ddvm_queue_state save_ = qs[2];					\
	qs[2].field = (val);							\
	CHECK_EQ(ddvm_queue_state_read(region, &l, 2, &o), 0);			\
	CHECK_EQ(o.state, DDVM_QS_ERROR);					\
	CHECK_EQ(o.error, DDVM_QE_BOGUS);					\
	CHECK_EQ(o.field, (val));						\
	qs[2] = save_;								\
} while (0)
	NET_BOGUS_IF(mtu, 67u);
	NET_BOGUS_IF(mtu, 65536u);
	NET_BOGUS_IF(mac[0], 0x01);		/* multicast */
	NET_BOGUS_IF(mac[0], 0xff);		/* broadcast's first octet */
#undef NET_BOGUS_IF
	memset(qs[2].mac, 0, 6);
	CHECK_EQ(ddvm_queue_state_read(region, &l, 2, &o), 0);
	CHECK_EQ(o.state, DDVM_QS_ERROR);
	CHECK_EQ(o.error, DDVM_QE_BOGUS);
	/* The same values in a queue that is not READY: nothing to judge. */
	qs[2].state = DDVM_QS_ABSENT;
	CHECK_EQ(ddvm_queue_state_read(region, &l, 2, &o), 0);
	CHECK_EQ(o.state, DDVM_QS_ABSENT);
	/* Edges that are fine. */
	memcpy(qs[2].mac, "\x02\x00\x00\x00\x00\x01", 6);
	qs[2].state = DDVM_QS_READY;
	qs[2].mtu = 68;
	CHECK_EQ(ddvm_queue_state_read(region, &l, 2, &o), 0);
	CHECK_EQ(o.state, DDVM_QS_READY);
	qs[2].mtu = 65535;
	CHECK_EQ(ddvm_queue_state_read(region, &l, 2, &o), 0);
	CHECK_EQ(o.state, DDVM_QS_READY);
}

/*
 * ddvm_region_restore: a peer scribbled over every host-owned byte (header,
 * queue table, targets); the restore makes them what setup wrote, and keeps
 * the driver VM's fields, the rings and the buffers as they are.
 */
static void test_restore(void)
{
	struct ddvm_region_spec s;
	struct ddvm_layout l = fresh(), l2;
	uint8_t *clean = malloc(DDVM_HDR_SIZE);
	uint32_t d;

	spec_default(&s);
	hdr()->generation = ddvm_cpu_to_le32(41);
	hdr()->guest_state = ddvm_cpu_to_le32(DDVM_GUEST_READY);
	region[l.q[1].req_ring_off] = 0x77;		/* a ring index */
	region[l.q[1].data_off + 5] = 0x99;		/* a buffer */
	memcpy(clean, region, DDVM_HDR_SIZE);
	memset(region, 0xa5, 0x08);			/* the header's host part */
	memset(region + 0x10, 0xa5, 0x48 - 0x10);	/* (0x08: the driver VM's refusal) */
	memset(region + DDVM_QUEUE_TABLE_OFF, 0x5a, 0x400);	/* queue table */
	memset(region + DDVM_QUEUE_TARGET_OFF, 'x', 0x400);	/* targets */
	CHECK(check(&d) != DDVM_REFUSE_NONE);
	CHECK_EQ(ddvm_region_restore(region, REGION_SIZE, &s, &l2), 0);
	CHECK(memcmp(region, clean, DDVM_HDR_SIZE) == 0);
	CHECK_EQ(check(&d), DDVM_REFUSE_NONE);
	CHECK_EQ(l2.q[2].data_off, l.q[2].data_off);
	CHECK_EQ(region[l.q[1].req_ring_off], 0x77);
	CHECK_EQ(region[l.q[1].data_off + 5], 0x99);
	CHECK_EQ(ddvm_le32_to_cpu(hdr()->generation), 41);
	s.nqueues = DDVM_MAX_QUEUES + 1;
	CHECK_EQ(ddvm_region_restore(region, REGION_SIZE, &s, &l2), -EINVAL);
	free(clean);
}

int main(void)
{
	region = aligned_alloc(4096, REGION_SIZE);
	if (!region)
		return 2;
	test_roundtrip();
	test_header_refusals();
	test_queue_refusals();
	test_layout_validate();
	test_guest_read();
	test_pci_read();
	test_setup_refusals();
	test_strings();
	test_queue_state();
	test_restore();
	free(region);
	return check_summary("test-region");
}
