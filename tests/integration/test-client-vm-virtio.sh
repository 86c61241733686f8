#!/bin/bash
# The standard path, for any OS with virtio drivers: a stock Linux client VM
# (virtio = true, started by hand with what `ddvm qemu-args --virtio` prints)
# whose virtio-blk is the driver VM's NBD export (QEMU's own NBD client) and
# whose virtio-net joins the NIC's TAP front-end on host bridge ddvmhb0.0,
# which ddvm made.  It reads what the host wrote through the export, writes
# what the host then reads back, and pings the NIC's wire both ways (IPv4
# and IPv6 link-local).  After `ddvm down` the bridge and the TAP are gone.
. "$(dirname "$0")/../lib/functions.sh"
. "$(dirname "$0")/../lib/netvm.sh"
. "$(dirname "$0")/../lib/client_vm.sh"
netvm_requires nbdcopy sha256sum
new_rundir
netvm_init 97
D=$DDVM_RUNDIR
IPV=169.254.$NV_NET.5
cleanup_fn netvm_down
cleanup_fn '[ -z "${CLIENT_PID:-}" ] || kill -9 $CLIENT_PID'
client_image

# The NIC's wire in namespace R; the TAP front-end stays in the host
# bridge (a port cannot leave its namespace), so only the client VM and the
# wire have addresses here.
cat >"$D/nv.conf" <<CONF
vms = ( { name = "nv"; memory = 160;
  devices = ( { type = "e1000"; net = "tap:$NV_WIRE"; tap = "$NV_FE"; },
              { type = "nvme"; file = "$D/d0.img"; size = "32M"; create = true; } ); } );
clients = ( { name = "v1"; start = false; virtio = true;
              disks = [ "nv/disk0" ]; nics = [ "nv/net0" ]; } );
CONF
netvm_start "$D/nv.conf" virtio
wait_for "the NBD export" 60 nbdinfo --size "nbd+unix:///?socket=$D/nv/disk0.sock"
port_of() { [ "$(basename "$(readlink "/sys/class/net/$1/master" 2>/dev/null)")" = ddvmhb0.0 ]; }
wait_for "the TAP front-end $NV_FE in host bridge ddvmhb0.0" 60 port_of "$NV_FE"
port_of ddvmcv0.0 || fail "the client's TAP ddvmcv0.0 is not in host bridge ddvmhb0.0"
cleanup_fn 'ip link del ddvmcv0.0 2>/dev/null; ip link del ddvmhb0.0 2>/dev/null'

# The host writes the first MiB through the export before the client boots.
head -c 1048576 /dev/urandom >"$D/first.bin"
nbdcopy "$D/first.bin" "nbd+unix:///?socket=$D/nv/disk0.sock" || fail "host write through NBD failed"
want_first=$(sha256sum <"$D/first.bin" | cut -d' ' -f1)

args=$(ddvm qemu-args --virtio v1) || fail "qemu-args --virtio failed"
note "qemu-args --virtio v1: $args"
case $args in *virtio-blk-pci*ifname=ddvmcv0.0*virtio-net-pci*) ;; *) fail "qemu-args --virtio: $args" ;; esac
mac=$(status_json | jq -r '.clients[0].nics[0].mac')

cat >"$D/v1.sh" <<SCRIPT
#!/bin/sh
echo "virtio-test: first \$(dd if=/dev/vda bs=1048576 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)"
yes ddvm-virtio-pattern | head -c 1048576 >/tmp/p
dd if=/tmp/p of=/dev/vda bs=1048576 seek=1 count=1 conv=fsync 2>/dev/null && echo "virtio-test: wrote \$(sha256sum </tmp/p | cut -d' ' -f1)"
ip link set lo up
ip link set eth0 up
ip addr add $IPV/16 dev eth0
ip -6 addr add fe80::$NV_NET:5/64 dev eth0 nodad
echo "virtio-test: mac \$(cat /sys/class/net/eth0/address)"
if ping -c 5 -W 3 $NV_IPR >/dev/null; then echo "virtio-test: ping4 ok"; else echo "virtio-test: ping4 FAILED"; fi
if ping -6 -c 5 -W 3 $NV_LLR%eth0 >/dev/null; then echo "virtio-test: ping6 ok"; else echo "virtio-test: ping6 FAILED"; fi
echo "virtio-test: done"
while :; do sleep 3600; done
SCRIPT
client_initrd v1 "$D/v1.sh"
: >"$D/v1.console"
eval "set -- $args"
qemu-system-x86_64 -name ddvm-client-v1 -machine q35 -accel tcg -m 256 -smp 1 \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$(client_kernel)" -initrd "$D/v1.initrd" -append "$(_client_conf cmdline) ddvm.wait=5" \
	-serial "file:$D/v1.console" "$@" >"$D/v1.qemu.log" 2>&1 &
CLIENT_PID=$!
done_() { grep -q "virtio-test: done" "$D/v1.console"; }
wait_for "the client VM's script (console $D/v1.console)" 180 done_
grep "virtio-test:" "$D/v1.console" | sed 's/^/    /'
grep -q "virtio-test: first $want_first" "$D/v1.console" || fail "the client read other data than the host wrote"
grep -q "virtio-test: mac $mac" "$D/v1.console" || fail "the client's MAC is not $mac"
grep -q "virtio-test: ping4 ok" "$D/v1.console" || fail "client VM -> wire (IPv4) failed"
grep -q "virtio-test: ping6 ok" "$D/v1.console" || fail "client VM -> wire (IPv6) failed"
inR ping -c 5 -i 0.2 -W 2 "$IPV" >/dev/null || fail "wire -> client VM (IPv4) failed"

# What the client wrote, the host reads back through the export.
nbdcopy "nbd+unix:///?socket=$D/nv/disk0.sock" "$D/all.bin" || fail "host read through NBD failed"
got=$(dd if="$D/all.bin" bs=1048576 skip=1 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
grep -q "virtio-test: wrote $got" "$D/v1.console" || fail "the host reads other data than the client wrote ($got)"
grep -iq "I/O error" "$D/v1.console" && fail "I/O errors in the client VM's log"
kill "$CLIENT_PID"; wait "$CLIENT_PID" 2>/dev/null; CLIENT_PID=
ddvm down >/dev/null || fail "ddvm down failed"
! ip link show ddvmhb0.0 >/dev/null 2>&1 || fail "host bridge ddvmhb0.0 left behind"
! ip link show ddvmcv0.0 >/dev/null 2>&1 || fail "client TAP ddvmcv0.0 left behind"
echo ok
