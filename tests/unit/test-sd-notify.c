// SPDX-License-Identifier: MIT
/*
 * systemd readiness notifications (host/sd_notify.c, its own implementation
 * of the protocol, as built without libsystemd): with no NOTIFY_SOCKET
 * nothing is sent; sdn_init() takes $NOTIFY_SOCKET out of the environment
 * (children must not inherit it) yet keeps using it; READY=1 goes out once,
 * as one datagram with its STATUS; STATUS= and STOPPING=1 follow; an
 * abstract socket ("@name") works; a socket nobody listens on is an error,
 * not a crash.  (The libsystemd build is exercised by test-install.sh.)
 */
#define DDVM_HAVE_LIBSYSTEMD 0
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "sd_notify.c"	/* unit.mk links only the protocol library */

static int listen_dgram(const char *name, int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path + (abstract ? 1 : 0), sizeof(sa.sun_path) - 1, "%s", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (abstract ? 1 : 0) + strlen(name));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0)
		return -1;
	return fd;
}

/* The next datagram, or "" if none is waiting. */
static const char *next(int fd)
{
	static char buf[2048];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

int main(void)
{
	char path[128], abs_name[64], env[80];
	int fd, afd;

	/* Not under systemd: no-ops. */
	unsetenv("NOTIFY_SOCKET");
	CHECK_EQ(sdn_send("READY=1"), 0);

	snprintf(path, sizeof(path), "/tmp/ddvm-test-sdn-%d.sock", (int)getpid());
	unlink(path);
	fd = listen_dgram(path, 0);
	CHECK(fd >= 0);
	inited = 0;
	setenv("NOTIFY_SOCKET", path, 1);
	sdn_init();
	CHECK(getenv("NOTIFY_SOCKET") == NULL);		/* QEMU and front-ends do not see it */
	CHECK_EQ(sdn_ready("driver VMs ready"), 1);
	CHECK(!strcmp(next(fd), "READY=1\nSTATUS=driver VMs ready"));
	CHECK_EQ(sdn_ready("again"), 0);		/* once */
	CHECK(!strcmp(next(fd), ""));
	CHECK_EQ(sdn_status("vm 'a': restarting"), 1);
	CHECK(!strcmp(next(fd), "STATUS=vm 'a': restarting"));
	CHECK_EQ(sdn_stopping("Terminated"), 1);
	CHECK(!strcmp(next(fd), "STOPPING=1\nSTATUS=stopping (Terminated)"));

	/* Nobody listening any more: an error, not a crash. */
	close(fd);
	unlink(path);
	CHECK(sdn_status("x") < 0);

	/* The abstract namespace: NOTIFY_SOCKET=@name. */
	snprintf(abs_name, sizeof(abs_name), "ddvm-test-sdn-%d", (int)getpid());
	afd = listen_dgram(abs_name, 1);
	CHECK(afd >= 0);
	snprintf(env, sizeof(env), "@%s", abs_name);
	setenv("NOTIFY_SOCKET", env, 1);
	inited = 0;
	ready_sent = 0;
	notify_socket[0] = '\0';
	sdn_init();
	CHECK_EQ(sdn_ready("up"), 1);
	CHECK(!strcmp(next(afd), "READY=1\nSTATUS=up"));
	close(afd);

	/* Not a socket path at all: refused. */
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	inited = 0;
	notify_socket[0] = '\0';
	sdn_init();
	CHECK(sdn_status("x") < 0);
	return check_summary("test-sd-notify");
}
