/* SPDX-License-Identifier: MIT */
/*
 * A channel's layout as a command-line argument, so that a front-end takes
 * its layout from the supervisor (which wrote the region and keeps its own
 * copy) instead of reading it back from shared memory that a driver VM can
 * write:
 *   size=BYTES;pci=OFF:MAX;hb=MS;q=KIND:INDEX:NSLOTS:REQ:RESP:DATA:DSIZE:REQV:RESPV[;q=...]
 * Numbers in decimal or 0x hex.  The parser checks the syntax, the counts
 * and the whole layout (ddvm_layout_validate).
 */
#ifndef DDVM_POSIX_LAYOUT_ARG_H
#define DDVM_POSIX_LAYOUT_ARG_H

#include <stddef.h>
#include "ddvm/region.h"

/* Write l as an argument into out.  0, or -1 if it does not fit. */
int ddvm_layout_format(const struct ddvm_layout *l, char *out, size_t len);

/* Parse s into *l.  0, or -1 with err saying what is wrong. */
int ddvm_layout_parse(const char *s, struct ddvm_layout *l, char *err, size_t errlen);

#endif
