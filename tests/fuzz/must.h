/* SPDX-License-Identifier: MIT */
/* The fuzz targets' assertion: an invariant that must hold, or abort (a finding). */
#ifndef DDVM_FUZZ_MUST_H
#define DDVM_FUZZ_MUST_H

#include <stdio.h>
#include <stdlib.h>

#define MUST(cond) do {								\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%d: invariant violated: %s\n",		\
			__FILE__, __LINE__, #cond);				\
		abort();							\
	}									\
} while (0)

#endif
