// SPDX-License-Identifier: MIT
/*
 * vm_reclaim_boot_files pages out another process's mappings of the named
 * files (and only those), also when the file was replaced after it was
 * mapped; a process without such mappings is left alone.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "vm_reclaim.h"

#define FILE_BYTES (8u << 20)

/* Resident KiB of pid's mappings whose path starts with prefix. */
static long rss_kib(pid_t pid, const char *prefix)
{
	char path[64], line[512];
	long kib = 0, v;
	int in = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *slash = strchr(line, '/');
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)	/* a mapping's header line */
			in = slash && strncmp(slash, prefix, strlen(prefix)) == 0;
		else if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
			kib += v;
	}
	fclose(f);
	return kib;
}

/* Child: map two files, read every page, tell the parent, wait to die. */
static pid_t spawn_mapper(const char *a, const char *b)
{
	int p[2];
	pid_t pid;
	char c = 0;

	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		const char *files[2] = { a, b };
		volatile unsigned long sum = 0;
		int i;

		for (i = 0; i < 2; i++) {
			int fd = open(files[i], O_RDONLY);
			unsigned char *m = mmap(NULL, FILE_BYTES, PROT_READ, MAP_PRIVATE, fd, 0);
			size_t off;

			if (fd < 0 || m == MAP_FAILED)
				_exit(2);
			for (off = 0; off < FILE_BYTES; off += 4096)
				sum += m[off];
		}
		if (write(p[1], &c, 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		abort();
	close(p[0]);
	return pid;
}

static void make_file(const char *path)
{
	char *buf = malloc(FILE_BYTES);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (!buf || fd < 0)
		abort();
	memset(buf, 0x5a, FILE_BYTES);
	if (write(fd, buf, FILE_BYTES) != (ssize_t)FILE_BYTES)
		abort();
	fsync(fd);
	close(fd);
	free(buf);
}

int main(void)
{
	char dir[] = "/tmp/ddvm-reclaim.XXXXXX", kern[64], keep[64], fresh[64];
	const char *boot[2];
	long before_k, before_keep, r;
	pid_t pid;

	if (!mkdtemp(dir))
		return 2;
	snprintf(kern, sizeof(kern), "%s/vmlinux", dir);
	snprintf(keep, sizeof(keep), "%s/other", dir);
	snprintf(fresh, sizeof(fresh), "%s/vmlinux.new", dir);
	make_file(kern);
	make_file(keep);

	pid = spawn_mapper(kern, keep);
	before_k = rss_kib(pid, kern);
	before_keep = rss_kib(pid, keep);
	CHECK(before_k >= (long)(FILE_BYTES / 1024) * 9 / 10);
	boot[0] = kern;
	boot[1] = NULL;
	r = vm_reclaim_boot_files(pid, boot, 2);
	CHECK_EQ(r, (long)FILE_BYTES);
	CHECK(rss_kib(pid, kern) < before_k / 2);		/* paged out */
	CHECK(rss_kib(pid, keep) >= before_keep * 9 / 10);	/* untouched */

	/* The boot file is replaced (an image rebuild) after QEMU mapped it. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pid = spawn_mapper(kern, keep);
	make_file(fresh);
	CHECK(rename(fresh, kern) == 0);
	r = vm_reclaim_boot_files(pid, boot, 2);
	CHECK_EQ(r, (long)FILE_BYTES);

	/* Nothing mapped: nothing to do.  A dead process: an error, no crash. */
	boot[0] = "/nonexistent/vmlinux";
	CHECK_EQ(vm_reclaim_boot_files(pid, boot, 2), 0L);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(vm_reclaim_boot_files(pid, boot, 2) < 0);

	unlink(kern);
	unlink(keep);
	rmdir(dir);
	return check_summary("test-vm-reclaim");
}
