#!/bin/sh
# The unprivileged system user QEMU and the front-ends run as (ddvm.conf(5),
# `user`; docs/design.md, Least privilege): no home, no shell, no password,
# a group of its own, and group kvm (so QEMU can open /dev/kvm) where there
# is one.  Idempotent.  `make install` and scripts/install-deps.sh run it.
#   scripts/add-user.sh [NAME]     default ddvm
set -eu
name=${1:-ddvm}
if [ "$(id -u)" != 0 ]; then
	echo "add-user.sh: needs root to create the system user $name" >&2
	exit 1
fi
if ! getent passwd "$name" >/dev/null; then
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "ddvm QEMU and front-ends" "$name"
	echo "created system user $name"
fi
if getent group kvm >/dev/null && ! id -nG "$name" | tr ' ' '\n' | grep -qx kvm; then
	usermod -a -G kvm "$name"
	echo "added $name to group kvm"
fi
