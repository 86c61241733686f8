/* SPDX-License-Identifier: MIT */
/*
 * systemd's service readiness protocol (Type=notify, sd_notify(3)): under
 * systemd (ddvm@.service) the supervisor says READY=1 once every driver VM
 * is ready and STOPPING=1 when it begins to stop.  Without $NOTIFY_SOCKET
 * every call is a no-op.  Uses libsystemd's sd_notify when ddvm was built
 * with it (install.mk: pkg-config libsystemd), else the same datagram
 * protocol itself.
 */
#ifndef DDVM_HOST_SD_NOTIFY_H
#define DDVM_HOST_SD_NOTIFY_H

/*
 * Take $NOTIFY_SOCKET for ourselves and remove it from the environment, so
 * QEMU and the front-ends do not inherit it.  Call once, before any child.
 */
void sdn_init(void);

/* Send one notification ("READY=1\nSTATUS=..."): 1 sent, 0 not under systemd, -errno. */
int sdn_send(const char *msg);

/* READY=1 (once), with STATUS=status. */
int sdn_ready(const char *status);
/* STATUS=status (e.g. why startup failed). */
int sdn_status(const char *status);
/* STOPPING=1, with STATUS=stopping (why). */
int sdn_stopping(const char *why);

#endif
