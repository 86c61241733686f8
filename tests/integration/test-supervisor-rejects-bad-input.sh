#!/bin/bash
# Malformed configs, a missing image and bad options each get one clear error
# line naming the problem; nothing crashes and no QEMU is started.
. "$(dirname "$0")/../lib/functions.sh"
new_rundir
d=$DDVM_RUNDIR


conf() { printf '%s\n' "$2" >"$d/$1.conf"; echo "$d/$1.conf"; }

expect_error "syntax error" 'syntax\.conf:2:' \
	ddvm up "$(conf syntax 'vms = ( { name = "a";
	  memory = ; } );')"
expect_error "unknown device type" "unknown type 'nvmee'" \
	ddvm up "$(conf type 'vms = ( { name = "a"; devices = ( { type = "nvmee"; file = "x"; } ); } );')"
expect_error "missing backing file" "does not exist" \
	ddvm up "$(conf nofile 'vms = ( { name = "a"; devices = ( { type = "nvme"; file = "/nonexistent/disk.img"; } ); } );')"
expect_error "duplicate vm names" "duplicate" \
	ddvm up "$(conf dup 'vms = ( { name = "a"; }, { name = "a"; } );')"
expect_error "channel size not a power of two" "power of two" \
	ddvm up "$(conf chan 'vms = ( { name = "a"; channel = { size = "3M"; }; } );')"
expect_error "unknown key" "unknown|not allowed|unexpected" \
	ddvm up "$(conf key 'vms = ( { name = "a"; memroy = 128; } );')"
expect_error "memory out of range" "memory" \
	ddvm up "$(conf mem 'vms = ( { name = "a"; memory = 1; } );')"
expect_error "bad vfio address" "vfio|address" \
	ddvm up "$(conf vfio 'vms = ( { name = "a"; devices = ( { type = "vfio"; host = "zz:99"; } ); } );')"
# exports: front-end keys on disks and NICs
disk='{ type = "nvme"; file = "d.img"; size = "64M"; create = true; }'
expect_error "channel too small for an export" "channel size 4M is too small for disk0: needs 8M" \
	ddvm up "$(conf small "vms = ( { name = \"a\"; channel = { size = \"4M\"; };
	  devices = ( $disk, { type = \"e1000\"; } ); } );")"
expect_error "export not a boolean" "'export' must be true or false" \
	ddvm up "$(conf exb 'vms = ( { name = "a"; devices = ( { type = "e1000"; export = "yes"; } ); } );')"
expect_error "bad tap name" "tap 'eth 0!': interface name" \
	ddvm up "$(conf tapc 'vms = ( { name = "a"; devices = ( { type = "e1000"; tap = "eth 0!"; } ); } );')"
expect_error "tap name too long" "tap 'abcdefghijklmnop': interface name must be 1-15" \
	ddvm up "$(conf tapl 'vms = ( { name = "a"; devices = ( { type = "e1000"; tap = "abcdefghijklmnop"; } ); } );')"
expect_error "tap on an unexported NIC" 'tap = "t0" needs export = true' \
	ddvm up "$(conf tapx 'vms = ( { name = "a"; devices = ( { type = "e1000"; export = false; tap = "t0"; } ); } );')"
expect_error "tap on a disk" "unknown key 'tap' in a disk device" \
	ddvm up "$(conf tapd "vms = ( { name = \"a\"; devices = ( { type = \"nvme\"; file = \"d.img\"; size = \"64M\"; create = true; tap = \"t0\"; } ); } );")"
expect_error "duplicate tap names" "host interface 't0' is also used by vm 'a' device 1" \
	ddvm up "$(conf tapdup 'vms = ( { name = "a"; devices = ( { type = "e1000"; tap = "t0"; } ); },
	  { name = "b"; devices = ( { type = "e1000"; tap = "t0"; } ); } );')"
expect_error "tap same as the wire" "also this NIC's wire" \
	ddvm up "$(conf tapwire 'vms = ( { name = "a"; devices = ( { type = "e1000"; net = "tap:t0"; tap = "t0"; } ); } );')"
# The wire TAP is opened by the supervisor (held across QEMU restarts): an
# interface of that name that is not a TAP is refused before any QEMU starts.
expect_error "wire that is not a tap" "device 1 \(e1000\): cannot attach to tap 'lo': .*not a tap" \
	ddvm up "$(conf wirelo 'vms = ( { name = "a"; devices = ( { type = "e1000"; net = "tap:lo"; } ); } );')"
expect_error "nbd_tcp_port out of range" "nbd_tcp_port = 70000 is out of range" \
	ddvm up "$(conf port "vms = ( { name = \"a\"; devices = ( { type = \"nvme\"; file = \"d.img\"; size = \"64M\"; create = true; nbd_tcp_port = 70000; } ); } );")"
expect_error "nbd_tcp_port on a NIC" "unknown key 'nbd_tcp_port' in a network device" \
	ddvm up "$(conf portn 'vms = ( { name = "a"; devices = ( { type = "e1000"; nbd_tcp_port = 10809; } ); } );')"
expect_error "nbd_tcp_port on an unexported disk" "nbd_tcp_port = 10809 needs export = true" \
	ddvm up "$(conf portx "vms = ( { name = \"a\"; devices = ( { type = \"nvme\"; file = \"d.img\"; size = \"64M\"; create = true; export = false; nbd_tcp_port = 10809; } ); } );")"
expect_error "duplicate nbd_tcp_port" "nbd_tcp_port 10809 is also used" \
	ddvm up "$(conf portdup "vms = ( { name = \"a\"; devices = (
	  { type = \"nvme\"; file = \"d1.img\"; size = \"64M\"; create = true; nbd_tcp_port = 10809; },
	  { type = \"nvme\"; file = \"d2.img\"; size = \"64M\"; create = true; nbd_tcp_port = 10809; } ); } );")"
expect_error "unknown export key" "unknown key 'exprot'" \
	ddvm up "$(conf exk 'vms = ( { name = "a"; devices = ( { type = "e1000"; exprot = true; } ); } );')"
expect_error "config file missing" "nonexistent\.conf" ddvm up "$d/nonexistent.conf"
expect_error "unknown command" "unknown command|usage" ddvm frobnicate
expect_error "bad accelerator" "DDVM_ACCEL" env DDVM_ACCEL=xen "$DDVM_BIN" up "$(demo_config)"
expect_error "missing image" "image not found" \
	env DDVM_IMAGE_DIR="$d/no-image" "$DDVM_BIN" up "$(demo_config)"
# An image folder whose kernel is gone, and one whose image.conf is broken.
mkdir -p "$d/img-nokernel" "$d/img-badconf"
cp "$TOP/build/image/image.conf" "$d/img-nokernel/"
expect_error "missing kernel" "vmlinux missing" \
	env DDVM_IMAGE_DIR="$d/img-nokernel" "$DDVM_BIN" up "$(demo_config)"
echo 'kernel = ;' >"$d/img-badconf/image.conf"
expect_error "broken image.conf" "image\.conf:1: syntax error" \
	env DDVM_IMAGE_DIR="$d/img-badconf" "$DDVM_BIN" up "$(demo_config)"
expect_error "status without supervisor" "no supervisor" ddvm status
# A QEMU that refuses to start: ddvm up says what QEMU said, not only its status.
printf '#!/bin/sh\necho "qemu-system-x86_64: -drive id=disk0: Could not open: Permission denied" >&2\nexit 1\n' \
	>"$d/refusing-qemu"
chmod +x "$d/refusing-qemu"
expect_error "QEMU refusing to start" \
	"QEMU exited with status 1 before the driver VM was ready \(QEMU: qemu-system-x86_64: -drive id=disk0: Could not open: Permission denied\)" \
	env DDVM_QEMU="$d/refusing-qemu" "$DDVM_BIN" up "$(demo_config)"

no_qemu_left || fail "a QEMU was started by a failing command"
ddvm --help | grep -q "up" || fail "--help does not list commands"
echo ok
