// SPDX-License-Identifier: MIT
/*
 * fuzz-layout-arg: the front-ends' layout= / --layout argument parser
 * (lib/posix/layout_arg.c) on arbitrary strings.  No crash, no read past the
 * string; what it accepts is a valid layout that formats and parses back to
 * itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddvm/posix/layout_arg.h"
#include "must.h"

#include "../../lib/posix/layout_arg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddvm_layout l, back;
	char *s = malloc(size + 1), out[2048], err[160];

	memcpy(s, data, size);
	s[size] = '\0';
	if (ddvm_layout_parse(s, &l, err, sizeof(err)) == 0) {
		MUST(ddvm_layout_validate(&l) == DDVM_LAYOUT_OK);
		MUST(ddvm_layout_format(&l, out, sizeof(out)) == 0);
		MUST(ddvm_layout_parse(out, &back, err, sizeof(err)) == 0);
		MUST(memcmp(&l, &back, sizeof(l)) == 0);
	} else {
		MUST(memchr(err, '\0', sizeof(err)) != NULL && err[0]);
	}
	free(s);
	return 0;
}
