// SPDX-License-Identifier: MIT
/* Page out QEMU's mappings of the driver VM's boot files (see vm_reclaim.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vm_reclaim.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define MAX_RANGES 64

static int is_boot_file(const char *path, const char *const paths[], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (paths[i] && paths[i][0] && strcmp(path, paths[i]) == 0)
			return 1;
	return 0;
}

long vm_reclaim_boot_files(pid_t qemu, const char *const paths[], size_t npaths)
{
	char maps[64], line[PATH_MAX + 128], real[4][PATH_MAX];
	const char *resolved[4];
	struct iovec iov[MAX_RANGES];
	size_t niov = 0, i;
	long total = 0, r;
	int pidfd, err = 0;
	FILE *f;

	/* /proc/PID/maps shows canonical paths: compare against realpath()s. */
	for (i = 0; i < npaths && i < 4; i++)
		resolved[i] = paths[i] && realpath(paths[i], real[i]) ? real[i] : NULL;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)qemu);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (niov < MAX_RANGES && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *path = strchr(line, '/');

		if (!path || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		path[strcspn(path, "\n")] = '\0';
		/* A boot file replaced since QEMU started (an image rebuild)
		 * still pins the old pages: the kernel shows it as deleted. */
		if (strlen(path) > 10 && strcmp(path + strlen(path) - 10, " (deleted)") == 0)
			path[strlen(path) - 10] = '\0';
		if (!is_boot_file(path, resolved, i))
			continue;
		iov[niov].iov_base = (void *)lo;
		iov[niov++].iov_len = hi - lo;
		total += (long)(hi - lo);
	}
	fclose(f);
	if (niov == 0)
		return 0;
	pidfd = (int)syscall(SYS_pidfd_open, qemu, 0);
	if (pidfd < 0)
		return -errno;
	r = syscall(SYS_process_madvise, pidfd, iov, niov, MADV_PAGEOUT, 0);
	if (r < 0)
		err = errno;
	close(pidfd);
	return err ? -err : total;
}
