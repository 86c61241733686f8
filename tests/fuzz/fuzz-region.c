// SPDX-License-Identifier: MIT
/*
 * fuzz-region: the fuzzer's bytes are a whole region (zero-padded to at
 * least DDVM_MIN_REGION_SIZE; a longer input maps as long), as a hostile
 * host or driver VM could leave it.  Whatever it holds, ddvm_region_check
 * either refuses it with a defined reason or returns a layout under which
 * every ring binds and every ring operation, ddvm_guest_read and
 * ddvm_pci_read stay inside the region (ASan) and keep their promises.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/net_check.h"
#include "ddvm/region.h"
#include "ddvm/ring.h"

#include "must.h"

static struct ddvm_pci_info pci_out[4096];

static int printable(const char *s, size_t cap)
{
	size_t i;

	for (i = 0; i < cap && s[i]; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return 0;
	return i < cap;	/* terminated within the buffer */
}

/* What a real consumer does with a slot: check the buffer, then touch it. */
static uint64_t use_slot(const uint8_t *mem, const struct ddvm_queue_info *q,
			 const struct ddvm_slot *s)
{
	uint64_t off = s->buf_off, len = s->len, sum = 0, i;

	if (off < q->data_off || len > q->data_size || off - q->data_off > q->data_size - len)
		return 0;
	for (i = 0; i < len; i += 512)
		sum += mem[off + i];
	if (len)
		sum += mem[off + len - 1];
	return sum;
}

static void exercise_ring(uint8_t *mem, uint64_t size, const struct ddvm_queue_info *q,
			  uint64_t ring_off)
{
	struct ddvm_ring c, p;
	struct ddvm_slot s;
	uint32_t k, popped = 0, pushed = 0;
	int rc;

	/* A validated layout always binds. */
	MUST(ddvm_ring_bind(&c, mem, size, ring_off, q->nslots) == 0);
	MUST(ddvm_ring_bind(&p, mem, size, ring_off, q->nslots) == 0);

	/* Consumer reattaching to whatever the peer left. */
	ddvm_cons_resume(&c);
	for (k = 0; k < q->nslots + 2; k++) {
		rc = ddvm_cons_pop(&c, &s);
		MUST(rc == 0 || rc == DDVM_RING_EEMPTY || rc == DDVM_RING_ECORRUPT);
		if (rc)
			break;
		popped++;
		(void)use_slot(mem, q, &s);
	}
	MUST(popped <= q->nslots);
	rc = ddvm_cons_publish(&c);
	MUST(rc == 0 || rc == 1);
	rc = ddvm_cons_want_data(&c);
	MUST(rc == DDVM_RING_ECORRUPT || (rc >= 0 && (uint32_t)rc <= q->nslots));
	rc = ddvm_cons_avail(&c);
	MUST(rc == DDVM_RING_ECORRUPT || (rc >= 0 && (uint32_t)rc <= q->nslots));

	/* Producer reattaching. */
	ddvm_prod_resume(&p);
	memset(&s, 0, sizeof(s));
	for (k = 0; k < q->nslots + 2; k++) {
		s.id = k;
		rc = ddvm_prod_push(&p, &s);
		MUST(rc == 0 || rc == DDVM_RING_EFULL || rc == DDVM_RING_ECORRUPT);
		if (rc)
			break;
		pushed++;
	}
	MUST(pushed <= q->nslots);
	rc = ddvm_prod_publish(&p);
	MUST(rc == 0 || rc == 1);
	rc = ddvm_prod_want_space(&p);
	MUST(rc == DDVM_RING_ECORRUPT || (rc >= 0 && (uint32_t)rc <= q->nslots));
	rc = ddvm_prod_space(&p);
	MUST(rc == DDVM_RING_ECORRUPT || (rc >= 0 && (uint32_t)rc <= q->nslots));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t mapped = size < DDVM_MIN_REGION_SIZE ? DDVM_MIN_REGION_SIZE : size;
	struct ddvm_guest_view v;
	struct ddvm_layout l;
	uint32_t why, detail, i, count;
	uint8_t *mem;
	int rc;

	mem = malloc(mapped);	/* exact size: ASan flags any access past it */
	if (!mem)
		return 0;
	memset(mem, 0, mapped);
	memcpy(mem, data, size);

	ddvm_guest_read(mem, &v);
	MUST(v.state <= DDVM_GUEST_STOPPING || v.state == DDVM_GUEST_BOGUS);
	MUST(printable(v.kernel_release, sizeof(v.kernel_release)));

	why = ddvm_region_check(mem, mapped, &l, &detail);
	MUST(why <= DDVM_REFUSE_STATE);
	if (why == DDVM_REFUSE_LAYOUT)
		MUST(detail >= DDVM_LAYOUT_SIZE && detail <= DDVM_LAYOUT_KIND);
	if (why != DDVM_REFUSE_NONE)
		goto out;
	MUST(detail == 0);
	MUST(l.region_size == mapped);
	MUST(l.nqueues <= DDVM_MAX_QUEUES);
	MUST(ddvm_layout_validate(&l) == DDVM_LAYOUT_OK);

	for (i = 0; i < l.nqueues; i++) {
		exercise_ring(mem, mapped, &l.q[i], l.q[i].req_ring_off);
		exercise_ring(mem, mapped, &l.q[i], l.q[i].resp_ring_off);
	}

	rc = ddvm_pci_read(mem, &l, pci_out, l.pci_table_max, &count);
	MUST(rc == DDVM_PCI_OK || rc == DDVM_PCI_BUSY || rc == DDVM_PCI_BAD);
	if (rc == DDVM_PCI_OK) {
		MUST(count <= l.pci_table_max);
		for (i = 0; i < count; i++) {
			MUST(printable(pci_out[i].driver, sizeof(pci_out[i].driver)));
			MUST(printable(pci_out[i].names, sizeof(pci_out[i].names)));
			MUST(pci_out[i].dev < 32 && pci_out[i].fn < 8);
			MUST(pci_out[i].class_code <= 0xffffff);
		}
	} else {
		MUST(count == 0);
	}
	/* A caller asking for fewer entries gets at most that many. */
	rc = ddvm_pci_read(mem, &l, pci_out, 1, &count);
	MUST(count <= 1);

	/* Per-queue device state: a READY block queue is always sane. */
	for (i = 0; i < l.nqueues; i++) {
		struct ddvm_queue_state_info qs;
		char target[65];

		MUST(ddvm_queue_state_read(mem, &l, i, &qs) == 0);
		MUST(qs.state <= DDVM_QS_ERROR && qs.link_up <= 1);
		MUST(printable(qs.dev_name, sizeof(qs.dev_name)));
		if (qs.state == DDVM_QS_READY && l.q[i].kind == DDVM_QK_BLOCK) {
			MUST(qs.logical_block_size >= 512 && qs.capacity % qs.logical_block_size == 0);
			MUST(qs.max_transfer && qs.max_transfer <= l.q[i].data_size);
		}
		/* ... and a READY net queue has a NIC's MAC and MTU. */
		if (qs.state == DDVM_QS_READY && l.q[i].kind == DDVM_QK_NET)
			MUST(ddvm_net_params_check(qs.mac, qs.mtu) == DDVM_NET_PARAMS_OK);
		ddvm_queue_target_read(mem, i, target);
		MUST(printable(target, sizeof(target)));
	}
	MUST(ddvm_queue_state_read(mem, &l, l.nqueues, &(struct ddvm_queue_state_info){0}) == -1);
out:
	free(mem);
	return 0;
}
