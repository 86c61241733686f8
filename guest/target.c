// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A queue's target string (struct ddvm_queue_target), parsed for the
 * translation modules: "pci=DDDD:BB:DD.F" (hex, exactly 4:2:2.1 digits,
 * device <= 1f, function <= 7), optionally " n=N" (decimal, <= 255).
 * Which device of that PCI function it names is the kind's business
 * (blk_target.c: the Nth disk; net_queue.c: the Nth netdev).
 */
#include <linux/kernel.h>
#include <linux/pci.h>

#include "chan.h"

#define TARGET_MAX_N	255u

/* Exactly n hex digits at *s; advances *s. */
static int parse_hex(const char **s, unsigned int n, u32 *out)
{
	u32 v = 0;
	int d;

	while (n--) {
		d = hex_to_bin(**s);
		if (d < 0)
			return -EINVAL;
		v = v << 4 | (u32)d;
		(*s)++;
	}
	*out = v;
	return 0;
}

int ddvm_target_parse(const char *s, struct ddvm_target *t)
{
	u32 dom, bus, dev, fn, n = 0;
	unsigned int digits = 0;

	if (strncmp(s, "pci=", 4))
		return -EINVAL;
	s += 4;
	if (parse_hex(&s, 4, &dom) || *s++ != ':' || parse_hex(&s, 2, &bus) || *s++ != ':' ||
	    parse_hex(&s, 2, &dev) || *s++ != '.' || parse_hex(&s, 1, &fn))
		return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	if (*s) {
		if (strncmp(s, " n=", 3))
			return -EINVAL;
		for (s += 3; *s >= '0' && *s <= '9'; s++, digits++) {
			n = n * 10 + (u32)(*s - '0');
			if (n > TARGET_MAX_N)
				return -EINVAL;
		}
		if (!digits || *s)
			return -EINVAL;
	}
	t->domain = (u16)dom;
	t->bus = (u8)bus;
	t->devfn = (u8)PCI_DEVFN(dev, fn);
	t->n = n;
	return 0;
}
