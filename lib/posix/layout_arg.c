// SPDX-License-Identifier: MIT
/* A channel's layout as a command-line argument.  See include/ddvm/posix/layout_arg.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/posix/layout_arg.h"
#include "ddvm/transport.h"

int ddvm_layout_format(const struct ddvm_layout *l, char *out, size_t len)
{
	size_t o;
	uint32_t i;
	int n;

	n = snprintf(out, len, "size=%llu;pci=%llu:%u;hb=%u", (unsigned long long)l->region_size,
		     (unsigned long long)l->pci_table_off, l->pci_table_max, l->heartbeat_period_ms);
	if (n < 0 || (size_t)n >= len)
		return -1;
	for (o = (size_t)n, i = 0; i < l->nqueues; i++, o += (size_t)n) {
		const struct ddvm_queue_info *q = &l->q[i];

		n = snprintf(out + o, len - o, ";q=%u:%u:%u:%llu:%llu:%llu:%llu:%u:%u", q->kind,
			     q->index, q->nslots, (unsigned long long)q->req_ring_off,
			     (unsigned long long)q->resp_ring_off, (unsigned long long)q->data_off,
			     (unsigned long long)q->data_size, q->req_vector, q->resp_vector);
		if (n < 0 || (size_t)n >= len - o)
			return -1;
	}
	return 0;
}

/* n numbers separated by ':' from *p (advanced past them); 0 or -1. */
static int numbers(const char **p, unsigned long long *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		char *end;

		if (i && **p != ':')
			return -1;		/* *p stays inside the string */
		if (i)
			(*p)++;
		if (**p < '0' || **p > '9')
			return -1;
		errno = 0;
		v[i] = strtoull(*p, &end, 0);
		if (errno || end == *p)
			return -1;
		*p = end;
	}
	return **p == ';' || **p == '\0' ? 0 : -1;
}

int ddvm_layout_parse(const char *s, struct ddvm_layout *l, char *err, size_t errlen)
{
	unsigned long long v[9];
	const char *p = s;
	uint32_t why;
	int have_size = 0;

	memset(l, 0, sizeof(*l));
	while (*p) {
		if (strncmp(p, "size=", 5) == 0) {
			p += 5;
			if (numbers(&p, v, 1) < 0)
				goto bad;
			l->region_size = v[0];
			have_size = 1;
		} else if (strncmp(p, "pci=", 4) == 0) {
			p += 4;
			if (numbers(&p, v, 2) < 0 || v[1] > 4096)
				goto bad;
			l->pci_table_off = v[0];
			l->pci_table_max = (uint32_t)v[1];
		} else if (strncmp(p, "hb=", 3) == 0) {
			p += 3;
			if (numbers(&p, v, 1) < 0 || v[0] > 0xffffffffull)
				goto bad;
			l->heartbeat_period_ms = (uint32_t)v[0];
		} else if (strncmp(p, "q=", 2) == 0) {
			struct ddvm_queue_info *q;

			p += 2;
			if (l->nqueues >= DDVM_MAX_QUEUES) {
				snprintf(err, errlen, "layout: more than %u queues", DDVM_MAX_QUEUES);
				return -1;
			}
			if (numbers(&p, v, 9) < 0 || v[0] > 0xffff || v[1] > 0xffff ||
			    v[2] > 0xffffffffull || v[7] > 0xffff || v[8] > 0xffff)
				goto bad;
			q = &l->q[l->nqueues++];
			*q = (struct ddvm_queue_info){ .kind = (uint16_t)v[0], .index = (uint16_t)v[1],
				.nslots = (uint32_t)v[2], .req_ring_off = v[3], .resp_ring_off = v[4],
				.data_off = v[5], .data_size = v[6], .req_vector = (uint16_t)v[7],
				.resp_vector = (uint16_t)v[8] };
		} else {
			goto bad;
		}
		if (*p == ';')
			p++;
	}
	if (!have_size) {
		snprintf(err, errlen, "layout: no size= in '%s'", s);
		return -1;
	}
	why = ddvm_layout_validate(l);
	if (why != DDVM_LAYOUT_OK) {
		snprintf(err, errlen, "layout: %s", ddvm_layout_str(why));
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "layout: cannot parse '%s' at '%.20s'", s, p);
	return -1;
}
