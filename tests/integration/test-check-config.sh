#!/bin/bash
# `ddvm check CONFIG...` validates configs without starting anything: the
# example configs pass (exit 0, "FILE: ok"); a config with many mistakes
# gets every one reported, each as FILE:LINE: KEY: message with the line and
# key of the mistake (top-level settings, each setting of a vm, each device,
# duplicate names, host interfaces used twice), then "FILE: N errors" and
# exit 1; clients are checked once the driver VMs are valid; a syntax error,
# a missing file and a missing image named by the config are errors too;
# -q prints errors only; a usage error exits 2.  Nothing is started: no run
# folder, no QEMU.  `ddvm up` of the same config still stops at the first
# error.  No VM.
. "$(dirname "$0")/../lib/functions.sh"
new_rundir
d=$DDVM_RUNDIR

# 1. The examples are valid.
for c in "$TOP"/examples/*.conf; do
	out=$(ddvm check "$c" 2>&1) || fail "example $c: $out"
	[ "$out" = "$c: ok" ] || fail "example $c: unexpected output: $out"
done
note "examples: ok"

# 2. Many mistakes, each reported where it is.
touch "$d/exists.img"
cat >"$d/bad.conf" <<'CONF'
allow_users = [ "root", "no-such-user-ddvm" ]; user = "no-such-user-ddvm";
bogus = 1;
vms = (
  { name = "a";
    memory = 10;
    zero_copy = "yes";
    channel = { size = "3M"; };
    modules = [ "nvme", "bad name!" ];
    devices = (
      { type = "nvmee"; file = "x.img"; },
      { type = "nvme"; file = "/nonexistent-ddvm/x.img"; },
      { type = "e1000"; tap = "eth 0!"; },
      { type = "e1000"; mac = "zz"; },
      { type = "nvme"; file = "exists.img"; nbd_tcp_port = 70000; },
      { type = "virtio-blk"; file = "exists.img"; serial = 12; },
      { type = "vfio"; host = "not-an-address"; }
    );
  },
  { name = "a"; memry = 3; },
  { name = "b"; devices = ( { type = "e1000"; tap = "t0"; },
                            { type = "e1000"; tap = "t0"; } ); }
);
clients = ( { name = "c"; disks = [ "zz/disk0" ]; } );
CONF
set +e
ddvm check "$d/bad.conf" >"$d/out" 2>"$d/err"
rc=$?
set -e
[ $rc = 1 ] || fail "check of a bad config exited $rc, expected 1"
f=$d/bad.conf
expected=(
	"$f:2: bogus: line 2: unknown key 'bogus' in the top level (allowed: vms, image, allow_users, clients, user)"
	"$f:1: allow_users[1]: allow_users[1]: no such user 'no-such-user-ddvm'"
	"$f:1: user: user 'no-such-user-ddvm' does not exist (QEMU and the front-ends run as it; \`make install\` creates ddvm)"
	"$f:5: vms[0].memory: vm 'a': memory = 10 is out of range (64..1048576 MiB)"
	"$f:6: vms[0].zero_copy: vm 'a': 'zero_copy' must be true or false"
	"$f:7: vms[0].channel.size: vm 'a': channel size 3145728 is not a power of two"
	"$f:8: vms[0].modules[1]: vm 'a': modules[1] is not a module name"
	"$f:10: vms[0].devices[0].type: vm 'a': device 1: unknown type 'nvmee'"
	"$f:11: vms[0].devices[1].file: vm 'a': device 2: backing file '/nonexistent-ddvm/x.img' does not exist (set create = true to create it)"
	"$f:12: vms[0].devices[2].tap: vm 'a': device 3: tap 'eth 0!': interface name must be 1-15 letters"
	"$f:13: vms[0].devices[3].mac: vm 'a': device 4: mac 'zz' is not of the form 52:54:00:12:34:56"
	"$f:14: vms[0].devices[4].nbd_tcp_port: vm 'a': device 5: nbd_tcp_port = 70000 is out of range (1..65535)"
	"$f:15: vms[0].devices[5].serial: vm 'a': device 6: 'serial' must be a string"
	"$f:16: vms[0].devices[6].host: vm 'a': device 7: vfio host address 'not-an-address' is not a PCI address"
	"$f:19: vms[1].memry: vm 'a': line 19: unknown key 'memry' in a vm"
	"$f:19: vms[1]: vm 'a': duplicate vm name (vms 1 and 2)"
	"$f:20: vms[2]: vm 'b': device 2: host interface 't0' is also used by vm 'b' device 1"
)
for e in "${expected[@]}"; do
	grep -qF -- "$e" "$d/err" || fail "error not reported: '$e'; got: $(cat "$d/err")"
done
[ "$(wc -l <"$d/err")" = ${#expected[@]} ] || fail "expected ${#expected[@]} errors, got: $(cat "$d/err")"
[ "$(cat "$d/out")" = "$f: ${#expected[@]} errors" ] || fail "summary: $(cat "$d/out")"
note "bad.conf: $(cat "$d/out"), e.g. $(sed -n 3p "$d/err")"

# 3. Clients: checked once the driver VMs are valid, each error where it is.
cat >"$d/clients.conf" <<CONF
vms = ( { name = "v"; devices = (
  { type = "nvme"; file = "$d/exists.img"; export = false; },
  { type = "e1000"; } ); } );
clients = (
  { name = "c1"; disks = [ "x/disk0" ]; },
  { name = "c2"; memory = "lots"; }
);
CONF
expect_error "a client's unknown driver VM" "^$d/clients.conf:5: clients\[0\]: client 'c1': disks\[0\] 'x/disk0': no driver VM 'x'" \
	ddvm check "$d/clients.conf"
# Every client's problem, not only the first client's.
out=$(ddvm check "$d/clients.conf" 2>&1) && fail "check passed a config with two bad clients"
echo "$out" | grep -q "clients\[1\]\.memory: 'memory' must be an integer" ||
	fail "the second client's error is missing after the first's: $out"
sed -i 's|"x/disk0"|"v/disk0"|' "$d/clients.conf"
expect_error "a client's bad memory" "^$d/clients.conf:6: clients\[1\]\.memory: 'memory' must be an integer" \
	ddvm check "$d/clients.conf"

# 4. Syntax error, missing file, a missing image the config names.
printf 'vms = ( { name = "x";\n  memory = ; } );\n# end\n' >"$d/syntax.conf"
expect_error "syntax error" "^$d/syntax.conf:2: syntax error" ddvm check "$d/syntax.conf"
expect_error "missing file" "^$d/nope.conf: cannot read config: No such file or directory" ddvm check "$d/nope.conf"
printf 'image = "no-such-image";\nvms = ( { name = "x"; } );\n' >"$d/image.conf"
expect_error "missing image named by the config" "^$d/image.conf:1: image: driver VM image not found in $d/no-such-image" \
	ddvm check "$d/image.conf"
#    ... while a missing default image is only a warning (the host lacks it, not the config)
printf 'vms = ( { name = "x"; } );\n' >"$d/noimg.conf"
DDVM_IMAGE_DIR=$d/no-image ddvm check "$d/noimg.conf" >"$d/out" 2>"$d/err" ||
	fail "a missing default image failed the check: $(cat "$d/err")"
grep -q "^$d/noimg.conf: warning: driver VM image not found" "$d/err" || fail "no warning for the missing image: $(cat "$d/err")"

# 5. Several configs, -q, usage.
set +e
ddvm check "$TOP/examples/demo.conf" "$d/syntax.conf" >"$d/out" 2>"$d/err"; rc=$?
set -e
[ $rc = 1 ] || fail "one bad config of two: exit $rc"
printf '%s\n' "$TOP/examples/demo.conf: ok" "$d/syntax.conf: 1 error" | cmp -s - "$d/out" || fail "two configs: $(cat "$d/out")"
out=$(ddvm check -q "$TOP/examples/demo.conf" "$TOP/examples/client.conf" 2>&1) || fail "-q of good configs failed"
[ -z "$out" ] || fail "-q printed '$out'"
set +e
ddvm check >/dev/null 2>&1; rc1=$?
ddvm check --frobnicate "$d/bad.conf" >/dev/null 2>&1; rc2=$?
set -e
[ $rc1 = 2 ] && [ $rc2 = 2 ] || fail "usage errors exit $rc1, $rc2 (expected 2)"

# 6. Nothing was started.
[ ! -e "$d/supervisor.lock" ] && [ ! -e "$d/control.sock" ] || fail "check touched the run folder"
no_qemu_left || fail "check started a QEMU"

# 7. up stops at the first error, as before.
expect_error "up: the first error" "^ddvm: $d/bad.conf: line 2: unknown key 'bogus'" ddvm up "$d/bad.conf"
[ "$(wc -l <"$d/expect.err")" = 1 ] || fail "up printed more than the first error"
echo ok
