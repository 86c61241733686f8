/* SPDX-License-Identifier: MIT */
/*
 * Minimal assertion helper for the host unit tests.  A failed CHECK prints
 * file:line and the expression and the test goes on; check_summary() prints
 * "NAME: N checks passed" (or the failure count) and gives the exit status.
 * Use only from one thread: worker threads report back to main.
 */
#ifndef DDVM_TEST_CHECK_H
#define DDVM_TEST_CHECK_H

#include <stdio.h>

static unsigned int check_count, check_failed;

#define CHECK(cond) do {							\
	check_count++;								\
	if (!(cond)) {								\
		check_failed++;							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",			\
			__FILE__, __LINE__, #cond);				\
	}									\
} while (0)

/* Equality with both values printed; a and b are converted to long long. */
#define CHECK_EQ(a, b) do {							\
	long long a_ = (long long)(a), b_ = (long long)(b);			\
	check_count++;								\
	if (a_ != b_) {								\
		check_failed++;							\
		fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
			__FILE__, __LINE__, #a, #b, a_, b_);			\
	}									\
} while (0)

/* Print the summary line; returns the process exit status. */
static inline int check_summary(const char *name)
{
	if (check_failed) {
		fprintf(stderr, "%s: %u of %u checks FAILED\n", name, check_failed, check_count);
		return 1;
	}
	printf("%s: %u checks passed\n", name, check_count);
	return 0;
}

#endif
