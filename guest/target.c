// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A queue's target string (struct ddvm_queue_target), parsed for the
 * translation modules: "pci=DDDD:BB:DD.F" (hex, exactly 4:2:2.1 digits,
 * device <= 1f, function <= 7), optionally " n=N" (decimal, <= 255), then
 * optionally " off=BYTES len=BYTES" (decimal, len > 0: a slice of a disk,
 * which the block translation checks against the disk), then optionally
 * " br=NAME mac=XX:XX:XX:XX:XX:XX" (a NIC shared through bridge NAME, 1-15
 * letters, digits, '-', '_', '.'; the queue is a port of it for a client
 * with that unicast MAC).
 * Which device of that PCI function it names is the kind's business
 * (blk_target.c: the Nth disk; net_queue.c: the Nth netdev).
 */
#include <linux/ctype.h>
#include <linux/etherdevice.h>
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

/* " KEY=DECIMAL" at *s (any value that fits 64 bits); advances *s. */
static int parse_dec(const char **s, const char *key, u64 *out)
{
	size_t k = strlen(key);
	unsigned int digits = 0;
	u64 v = 0, d;

	if ((*s)[0] != ' ' || strncmp(*s + 1, key, k) || (*s)[1 + k] != '=')
		return -EINVAL;
	for (*s += 2 + k; **s >= '0' && **s <= '9'; (*s)++, digits++) {
		d = (u64)(**s - '0');
		if (v > (U64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

/* " br=NAME mac=MAC" at *s; advances *s. */
static int parse_port(const char **s, struct ddvm_target *t)
{
	unsigned int i, n = 0;
	u32 b;

	if (strncmp(*s, " br=", 4))
		return -EINVAL;
	/* isascii too: the kernel's isalnum takes Latin-1 letters (0xc0..0xff). */
	for (*s += 4; (isascii(**s) && isalnum(**s)) || **s == '-' || **s == '_' || **s == '.';
	     (*s)++) {
		if (n == sizeof(t->br) - 1)
			return -EINVAL;
		t->br[n++] = **s;
	}
	t->br[n] = '\0';
	if (!n || strncmp(*s, " mac=", 5))
		return -EINVAL;
	*s += 5;
	for (i = 0; i < ETH_ALEN; i++) {
		if ((i && *(*s)++ != ':') || parse_hex(s, 2, &b))
			return -EINVAL;
		t->mac[i] = (u8)b;
	}
	if (!is_valid_ether_addr(t->mac))
		return -EINVAL;	/* multicast or zero */
	return 0;
}

int ddvm_target_parse(const char *s, struct ddvm_target *t)
{
	u32 dom, bus, dev, fn, n = 0;
	unsigned int digits = 0;
	u64 off = 0, len = 0;

	if (strncmp(s, "pci=", 4))
		return -EINVAL;
	s += 4;
	if (parse_hex(&s, 4, &dom) || *s++ != ':' || parse_hex(&s, 2, &bus) || *s++ != ':' ||
	    parse_hex(&s, 2, &dev) || *s++ != '.' || parse_hex(&s, 1, &fn))
		return -EINVAL;
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	if (!strncmp(s, " n=", 3)) {
		for (s += 3; *s >= '0' && *s <= '9'; s++, digits++) {
			n = n * 10 + (u32)(*s - '0');
			if (n > TARGET_MAX_N)
				return -EINVAL;
		}
		if (!digits)
			return -EINVAL;
	}
	memset(t, 0, sizeof(*t));
	if (!strncmp(s, " off=", 5) &&
	    (parse_dec(&s, "off", &off) || parse_dec(&s, "len", &len) || !len))
		return -EINVAL;
	if (*s && parse_port(&s, t))
		return -EINVAL;
	if (*s)
		return -EINVAL;
	t->domain = (u16)dom;
	t->bus = (u8)bus;
	t->devfn = (u8)PCI_DEVFN(dev, fn);
	t->n = n;
	t->off = off;
	t->len = len;
	return 0;
}
