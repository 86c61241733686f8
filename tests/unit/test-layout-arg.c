// SPDX-License-Identifier: MIT
/* A channel's layout as a command-line argument (lib/posix/layout_arg.c). */
#include <stdio.h>
#include <string.h>

#include "ddvm/posix/layout_arg.h"
#include "ddvm/posix/region_setup.h"
#include "check.h"

#include "../../lib/posix/layout_arg.c"	/* unit.mk links only the protocol library */

int main(void)
{
	struct ddvm_region_spec spec = { .heartbeat_period_ms = 2000, .pci_table_max = 0,
					 .nqueues = 1 };
	struct ddvm_layout l, back;
	char s[512], err[160];

	spec.q[0] = (struct ddvm_queue_spec){ .kind = DDVM_QK_BLOCK, .nslots = 32,
					      .data_size = 32 << 17, .req_vector = 1 };
	memset(&l, 0, sizeof(l));
	l.region_size = 8 << 20;
	CHECK_EQ(ddvm_region_bytes_needed(&spec) <= l.region_size, 1);
	{	/* the layout setup computes, without a region */
		static unsigned char mem[8 << 20];

		CHECK_EQ(ddvm_region_setup(mem, sizeof(mem), &spec, &l), 0);
	}
	CHECK_EQ(ddvm_layout_format(&l, s, sizeof(s)), 0);
	CHECK_EQ(ddvm_layout_parse(s, &back, err, sizeof(err)), 0);
	CHECK(memcmp(&l, &back, sizeof(l)) == 0);
	CHECK_EQ(ddvm_layout_format(&l, s, 20), -1);			/* does not fit */

	/* refused, each with a reason */
	CHECK_EQ(ddvm_layout_parse("", &back, err, sizeof(err)), -1);
	CHECK(strstr(err, "no size=") != NULL);
	CHECK_EQ(ddvm_layout_parse("size=65536;bogus=1", &back, err, sizeof(err)), -1);
	CHECK(strstr(err, "cannot parse") != NULL);
	CHECK_EQ(ddvm_layout_parse("size=65536;q=2:0:32:4096", &back, err, sizeof(err)), -1);
	CHECK_EQ(ddvm_layout_parse("size=65536;q=2:0:3:4096:8192:12288:4096:1:0", &back, err,
				   sizeof(err)), -1);			/* 3 slots: not 2^n */
	CHECK(strstr(err, "ring") != NULL);
	CHECK_EQ(ddvm_layout_parse("size=65536;q=2:0:4:4096:8192:1048576:4096:1:0", &back, err,
				   sizeof(err)), -1);			/* data past the end */
	CHECK_EQ(ddvm_layout_parse("size=99999999999999999999999", &back, err, sizeof(err)), -1);
	CHECK_EQ(ddvm_layout_parse("size=65536;q=70000:0:4:4096:8192:12288:4096:1:0", &back, err,
				   sizeof(err)), -1);			/* kind out of range */
	return check_summary("test-layout-arg");
}
