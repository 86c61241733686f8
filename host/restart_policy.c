// SPDX-License-Identifier: MIT
/* When to restart what died, and when to give up.  See restart_policy.h. */
#include "restart_policy.h"

int64_t restart_next(const struct restart_policy *p, unsigned int *row, uint64_t healthy_ms)
{
	uint64_t delay;

	if (healthy_ms >= p->stable_ms)
		*row = 0;
	if (*row >= p->max)
		return -1;
	/* 0 for the first restart in a row, then 1 s doubling (shift bounded) */
	delay = *row == 0 ? 0 : 1000ull << (*row - 1 < 20 ? *row - 1 : 20);
	if (delay > p->backoff_max_ms)
		delay = p->backoff_max_ms;
	(*row)++;
	return (int64_t)delay;
}

int restart_revive(unsigned int *row, uint32_t gave_up_instance, uint32_t ready_instance)
{
	if (ready_instance == gave_up_instance)
		return 0;
	*row = 0;
	return 1;
}
