#!/bin/sh
# Install the Debian packages ddvm needs to build, test and run, if missing.
# Idempotent and quiet when everything is already there.
set -eu
PKGS="gcc make pkg-config libc6-dev libjson-c-dev libconfig-dev
qemu-system-x86 qemu-utils busybox-static cpio xz-utils gzip kmod e2fsprogs
clang libclang-rt-14-dev iproute2 procps jq iputils-ping python3 bc
nbdkit nbdkit-plugin-dev libnbd-bin libnbd-dev fio iperf3
libsystemd-dev perl man-db groff-base"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The system user QEMU and the front-ends run as, which the tests expect.
add_user() { [ "$(id -u)" != 0 ] || "$(dirname "$0")/add-user.sh"; }
[ -n "$missing" ] || { add_user; exit 0; }
echo "ddvm: installing Debian packages:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "ddvm: need root to install packages (run: sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
add_user
