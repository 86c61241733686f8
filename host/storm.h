/* SPDX-License-Identifier: MIT */
/* `ddvm __storm`: the hostile client of `ddvm inject VM storm` (storm.c). */
#ifndef DDVM_HOST_STORM_H
#define DDVM_HOST_STORM_H

/* argv: __storm SOCKET LAYOUT SECONDS.  Exit status. */
int storm_main(int argc, char **argv);

#endif
