#!/bin/bash
# Client VMs in the config: each client disk gets a channel of its own in
# its driver VM, which the driver VM serves; `ddvm qemu-args CLIENT` prints
# the options that attach a client VM; status shows the client and its disk's
# queue.  Bad input gets one clear error: a client naming an unknown driver
# VM or disk, a disk with two writers (the host's NBD export and a client, or
# two clients).
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
ddvm down >/dev/null
echo "PASS: $TEST_NAME"
