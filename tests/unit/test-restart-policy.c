// SPDX-License-Identifier: MIT
/*
 * The restart policy (host/restart_policy.c): a failure after a healthy run
 * restarts at once, failures in a row back off 1 s, 2 s, 4 s ... up to the
 * cap, the max-th failure in a row gives up, and a run of stable_ms ends the
 * row however long it was.  max = 0 gives up at once.  A given-up thing is
 * revived (fresh row) by a new instance of what it depends on, not by the
 * same one.
 */
#include "check.h"
#include "restart_policy.c"	/* unit.mk links only the protocol library */

int main(void)
{
	const struct restart_policy p = { .max = 5, .stable_ms = 30000, .backoff_max_ms = 4000 };
	const struct restart_policy none = { .max = 0, .stable_ms = 30000, .backoff_max_ms = 4000 };
	const struct restart_policy many = { .max = 1000, .stable_ms = 1, .backoff_max_ms = 60000 };
	unsigned int row = 0, i;

	/* Crash after a long healthy run: at once. */
	CHECK_EQ(restart_next(&p, &row, 3600 * 1000), 0);
	CHECK_EQ(row, 1);
	/* Keeps failing (booted, crashed within seconds, or never healthy). */
	CHECK_EQ(restart_next(&p, &row, 2000), 1000);
	CHECK_EQ(restart_next(&p, &row, 0), 2000);
	CHECK_EQ(restart_next(&p, &row, 29999), 4000);
	CHECK_EQ(restart_next(&p, &row, 0), 4000);	/* capped */
	CHECK_EQ(row, 5);
	/* The max-th in a row: give up, and stay given up. */
	CHECK_EQ(restart_next(&p, &row, 0), -1);
	CHECK_EQ(restart_next(&p, &row, 10), -1);
	CHECK_EQ(row, 5);
	/* A stable run ends the row even then: at once again. */
	CHECK_EQ(restart_next(&p, &row, 30000), 0);
	CHECK_EQ(row, 1);

	/* max = 0: never restart. */
	row = 0;
	CHECK_EQ(restart_next(&none, &row, 3600 * 1000), -1);
	CHECK_EQ(row, 0);

	/* Given up under instance 7: the same instance keeps it given up. */
	row = 0;
	for (i = 0; i < 5; i++)
		CHECK(restart_next(&p, &row, 0) >= 0);
	CHECK_EQ(restart_next(&p, &row, 0), -1);
	CHECK_EQ(restart_revive(&row, 7, 7), 0);
	CHECK_EQ(row, 5);
	CHECK_EQ(restart_next(&p, &row, 0), -1);
	/* A new instance (any other number, wrapping too): a fresh row of max. */
	CHECK_EQ(restart_revive(&row, 7, 8), 1);
	CHECK_EQ(row, 0);
	CHECK_EQ(restart_next(&p, &row, 0), 0);		/* at once */
	CHECK_EQ(restart_next(&p, &row, 0), 1000);	/* then backoff as before */
	for (i = 0; i < 3; i++)
		CHECK(restart_next(&p, &row, 0) > 0);
	CHECK_EQ(restart_next(&p, &row, 0), -1);	/* bounded again */
	CHECK_EQ(restart_revive(&row, 0xffffffffu, 0), 1);
	CHECK_EQ(row, 0);

	/* A long row: the shift stays bounded, the delay capped, no overflow. */
	row = 0;
	for (i = 0; i < 200; i++)
		CHECK(restart_next(&many, &row, 0) <= 60000);
	CHECK_EQ(row, 200);
	return check_summary("test-restart-policy");
}
