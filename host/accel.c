// SPDX-License-Identifier: MIT
/* Accelerator choice.  See DESIGN.md: a nested PVM /dev/kvm cannot run stock kernels. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel.h"

const char *accel_name(enum accel a)
{
	return a == ACCEL_KVM ? "kvm" : "tcg";
}

/* True if a "flags" line of /proc/cpuinfo lists vmx or svm. */
static int cpu_has_virt(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[8192];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *tok, *save;

		if (strncmp(line, "flags", 5))
			continue;
		for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
			if (!strcmp(tok, "vmx") || !strcmp(tok, "svm"))
				found = 1;
		break;
	}
	fclose(f);
	return found;
}

int accel_choose(enum accel *out, char *reason, size_t len)
{
	const char *env = getenv("DDVM_ACCEL");
	int fd;

	if (env && *env) {
		if (!strcmp(env, "kvm") || !strcmp(env, "tcg")) {
			*out = !strcmp(env, "kvm") ? ACCEL_KVM : ACCEL_TCG;
			snprintf(reason, len, "forced by DDVM_ACCEL=%s", env);
			return 0;
		}
		snprintf(reason, len, "DDVM_ACCEL='%s' is not one of kvm, tcg", env);
		return -1;
	}
	*out = ACCEL_TCG;
	if (!cpu_has_virt()) {
		snprintf(reason, len, "CPU flags have no vmx/svm (a nested /dev/kvm here cannot run a stock kernel)");
		return 0;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, len, "/dev/kvm cannot be opened read-write");
		return 0;
	}
	close(fd);
	*out = ACCEL_KVM;
	snprintf(reason, len, "CPU has vmx/svm and /dev/kvm is usable");
	return 0;
}
