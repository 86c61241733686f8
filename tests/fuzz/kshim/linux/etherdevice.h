/* SPDX-License-Identifier: MIT */
/* kshim: see ../kshim.h */
#include "../kshim.h"
