/* SPDX-License-Identifier: MIT */
/*
 * The few kernel definitions guest/target.c and guest/chan.h use, for the
 * host: fuzz-target.c compiles the guest's own target.c (not a copy) with
 * -Itests/fuzz/kshim.  Every definition behaves as Linux 6.1's does for
 * what these files use of it; the rest of chan.h only needs types to exist.
 */
#ifndef DDVM_KSHIM_H
#define DDVM_KSHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define U64_MAX		UINT64_MAX
#define ETH_ALEN	6
#define __iomem
#define __rcu
#define PCI_DEVFN(slot, func)	((((slot) & 0x1f) << 3) | ((func) & 0x07))

/* lib/hexdump.c: 0..15, or -1 */
static inline int hex_to_bin(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/*
 * lib/ctype.c: the kernel's table is Latin-1, so bytes 0xc0..0xff (but
 * 0xd7, 0xf7) are letters too -- unlike the C locale's isalnum.
 */
static inline int kshim_isalnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       (c >= 0xc0 && c != 0xd7 && c != 0xf7);
}
#define isalnum(c)	kshim_isalnum((unsigned char)(c))
#define isascii(c)	(((unsigned char)(c)) <= 0x7f)

/* include/linux/etherdevice.h */
static inline bool is_valid_ether_addr(const u8 *a)
{
	return !(a[0] & 1) && (a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) != 0;
}

/* Types chan.h embeds or points to; never used by target.c. */
struct list_head { struct list_head *next, *prev; };
struct work_struct { void *fn; };
struct delayed_work { struct work_struct work; };
struct dev_pagemap { int type; };
struct pci_dev;
struct page;
struct workqueue_struct;
#define virt_to_page(p)	((struct page *)(void *)(p))

#endif
