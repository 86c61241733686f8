#!/bin/bash
# Client VMs in the config: each client disk gets a channel of its own in
# its driver VM, which the driver VM serves; `ddvm qemu-args CLIENT` prints
# the options that attach a client VM; status shows the client and its disk's
# queue.  Bad input gets one clear error: a client naming an unknown driver
# VM or disk, a disk with two writers (the host's NBD export and a client, or
# two clients); a client naming an unknown NIC, a NIC twice, a MAC that is
# multicast, the NIC's own, or another client's on that NIC.
. "$(dirname "$0")/../lib/functions.sh"
requires jq qemu-system-x86_64
new_rundir
d=$DDVM_RUNDIR

disk() { echo "{ type = \"nvme\"; file = \"$d/$1.img\"; size = \"32M\"; create = true; $2 }"; }
conf() { printf '%s\n' "$2" >"$d/$1.conf"; echo "$d/$1.conf"; }

expect_error "unknown driver VM" "client 'c1': disks\[0\] 'x/disk0': no driver VM 'x'" \
	ddvm up "$(conf a "vms = ( { name = \"v\"; devices = ( $(disk a 'export = false;') ); } );
	  clients = ( { name = \"c1\"; disks = [ \"x/disk0\" ]; } );")"
expect_error "unknown disk" "vm 'v' has no disk 2 \(it has 1\)" \
	ddvm up "$(conf b "vms = ( { name = \"v\"; devices = ( $(disk b 'export = false;') ); } );
	  clients = ( { name = \"c1\"; disks = [ \"v/disk2\" ]; } );")"
expect_error "not VM/diskN" "must be \"VM/diskN\"" \
	ddvm up "$(conf c "vms = ( { name = \"v\"; devices = ( $(disk c 'export = false;') ); } );
	  clients = ( { name = \"c1\"; disks = [ \"v-disk0\" ]; } );")"
expect_error "NBD export and a client" "two writers on one disk; set export = false" \
	ddvm up "$(conf e "vms = ( { name = \"v\"; devices = ( $(disk e '') ); } );
	  clients = ( { name = \"c1\"; disks = [ \"v/disk0\" ]; } );")"
expect_error "two clients" "clients 'c1' and 'c2' both use all of disk 'v/disk0': one writer per slice" \
	ddvm up "$(conf f "vms = ( { name = \"v\"; devices = ( $(disk f 'export = false;') ); } );
	  clients = ( { name = \"c1\"; start = false; disks = [ \"v/disk0\" ]; },
	              { name = \"c2\"; start = false; disks = [ \"v/disk0\" ]; } );")"
nic() { echo "{ type = \"e1000\"; net = \"none\"; mac = \"52:54:00:00:00:01\"; ${1:-} }"; }
expect_error "unknown NIC" "client 'c1': nics\[0\] 'v/net1': vm 'v' has no NIC 1 \(it has 1\)" \
	ddvm up "$(conf n1 "vms = ( { name = \"v\"; devices = ( $(nic) ); } );
	  clients = ( { name = \"c1\"; nics = [ \"v/net1\" ]; } );")"
expect_error "not VM/netN" "must be \"VM/netN\"" \
	ddvm up "$(conf n2 "vms = ( { name = \"v\"; devices = ( $(nic) ); } );
	  clients = ( { name = \"c1\"; nics = [ \"v/disk0\" ]; } );")"
expect_error "a NIC twice" "client 'c1' uses nic 'v/net0' twice" \
	ddvm up "$(conf n3 "vms = ( { name = \"v\"; devices = ( $(nic) ); } );
	  clients = ( { name = \"c1\"; nics = [ \"v/net0\", \"v/net0\" ]; } );")"
expect_error "multicast MAC" "mac 03:00:00:00:00:01 is a multicast address" \
	ddvm up "$(conf n4 "vms = ( { name = \"v\"; devices = ( $(nic) ); } );
	  clients = ( { name = \"c1\"; nics = ( { nic = \"v/net0\"; mac = \"03:00:00:00:00:01\"; } ); } );")"
expect_error "the NIC's own MAC" "mac 52:54:00:00:00:01 is the NIC's own" \
	ddvm up "$(conf n5 "vms = ( { name = \"v\"; devices = ( $(nic) ); } );
	  clients = ( { name = \"c1\"; nics = ( { nic = \"v/net0\"; mac = \"52:54:00:00:00:01\"; } ); } );")"
expect_error "two clients, one MAC" "clients 'c1' and 'c2' have the same mac on nic 'v/net0'" \
	ddvm up "$(conf n6 "vms = ( { name = \"v\"; devices = ( $(nic) ); } );
	  clients = ( { name = \"c1\"; nics = ( { nic = \"v/net0\"; mac = \"02:00:00:00:00:07\"; } ); },
	              { name = \"c2\"; nics = ( { nic = \"v/net0\"; mac = \"02:00:00:00:00:07\"; } ); } );")"
expect_error "a bad MAC" "nics\[0\]: mac '02:00:00:00:00' is not of the form" \
	ddvm up "$(conf n7 "vms = ( { name = \"v\"; devices = ( $(nic) ); } );
	  clients = ( { name = \"c1\"; nics = ( { nic = \"v/net0\"; mac = \"02:00:00:00:00\"; } ); } );")"
expect_error "virtio: an unexported disk" "client 'c1' \(virtio = true\): disk 'v/disk0' must be exported" \
	ddvm up "$(conf v1 "vms = ( { name = \"v\"; devices = ( $(disk v1 'export = false;') ); } );
	  clients = ( { name = \"c1\"; virtio = true; disks = [ \"v/disk0\" ]; } );")"
expect_error "virtio: a slice" "a slice needs a ddvm channel \(virtio = false\)" \
	ddvm up "$(conf v2 "vms = ( { name = \"v\"; devices = ( $(disk v2 '') ); } );
	  clients = ( { name = \"c1\"; virtio = true; disks = ( { disk = \"v/disk0\"; size = \"8M\"; } ); } );")"
expect_error "virtio: two writers" "clients 'c1' and 'c2' both use disk 'v/disk0': one writer per disk" \
	ddvm up "$(conf v3 "vms = ( { name = \"v\"; devices = ( $(disk v3 '') ); } );
	  clients = ( { name = \"c1\"; virtio = true; disks = [ \"v/disk0\" ]; },
	              { name = \"c2\"; virtio = true; disks = [ \"v/disk0\" ]; } );")"
expect_error "virtio: an unexported NIC" "nic 'v/net0' must be exported \(export = true\)" \
	ddvm up "$(conf v4 "vms = ( { name = \"v\"; devices = ( $(nic 'export = false;') ); } );
	  clients = ( { name = \"c1\"; virtio = true; nics = [ \"v/net0\" ]; } );")"
expect_error "client named like a driver VM" "client 'v' has the name of a driver VM" \
	ddvm up "$(conf g "vms = ( { name = \"v\"; } ); clients = ( { name = \"v\"; } );")"

# A good one: the client is started by the user (start = false).
ddvm up -d "$(conf ok "vms = ( { name = \"v\"; memory = 128; devices = ( $(disk ok 'export = false;') ); } );
  clients = ( { name = \"c1\"; start = false; disks = [ \"v/disk0\" ]; } );")" ||
	fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"
[ "$(status_json | jq -r '.clients[0].state')" = external ] || fail "client state: $(status_json | jq -c .clients)"
sock=$(status_json | jq -r '.clients[0].disks[0].channel.socket')
[ "$sock" = "$d/v/chan-disk0-c1.sock" ] && [ -S "$sock" ] || fail "client channel socket '$sock'"
[ "$(stat -c %a "$sock")" = 600 ] || fail "$sock is not 0600"
served() { [ "$(status_json | jq -r '.clients[0].disks[0].queue_state')" = ready ]; }
wait_for "the driver VM to serve the client's disk" 30 served
[ "$(status_json | jq -r '.clients[0].disks[0].capacity')" = 33554432 ] || fail "capacity"
args=$(ddvm qemu-args c1) || fail "qemu-args failed"
[ "$args" = "'-chardev' 'socket,id=ddvm0,path=$sock' '-device' 'ivshmem-doorbell,chardev=ddvm0,vectors=4'" ] ||
	fail "qemu-args: $args"
note "qemu-args c1: $args"
ddvm status | grep -q "^c1  *external" || fail "the text status does not show the client"
expect_error "qemu-args of an unknown client" "no client VM named 'c9'" ddvm qemu-args c9
expect_error "qemu-args --virtio of a channel client" "client 'c1' attaches by ddvm channels" \
	ddvm qemu-args --virtio c1
ddvm down >/dev/null
echo "PASS: $TEST_NAME"
