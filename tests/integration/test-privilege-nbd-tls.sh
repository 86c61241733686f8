#!/bin/bash
# NBD over TCP requires TLS with a pre-shared key unless the config says
# nbd_tcp_insecure = true.  A disk with nbd_tcp_port gets a key of the run
# (RUNDIR/VM/disk0.psk, 0600) and an nbdkit that requires TLS-PSK on its
# TCP and unix sockets: a plain NBD client is refused on both, one with the
# key status names reads and writes (verified, both sockets), one with
# another key is refused.  A disk with nbd_tcp_insecure = true is served in
# the clear.  A key file given with nbd_tcp_psk is used instead; and the
# config errors: a key or insecure without a port, both at once, a key file
# that is not there.
. "$(dirname "$0")/../lib/functions.sh"
requires jq nbdinfo nbdcopy nbdkit qemu-system-x86_64
new_rundir
d=$DDVM_RUNDIR
P1=$((20000 + $$ % 20000)) P2=$((20001 + $$ % 20000))
cat >"$d/tls.conf" <<CONF
vms = ( { name = "tls"; memory = 128;
  devices = (
    { type = "nvme"; file = "$d/d0.img"; size = "16M"; create = true; nbd_tcp_port = $P1; },
    { type = "nvme"; file = "$d/d1.img"; size = "16M"; create = true; nbd_tcp_port = $P2;
      nbd_tcp_insecure = true; }
  ); } );
CONF
ddvm up -d "$d/tls.conf" >/dev/null || fail "ddvm up -d failed: $(tail -5 "$d/ddvm.log")"
exp() { vm_field tls ".exports[] | select(.kind == \"disk\" and .index == $1) | .$2"; }
tcp0=$(exp 0 nbd_tcp) unix0=$(exp 0 nbd) tcp1=$(exp 1 nbd_tcp)
psk=$d/tls/disk0.psk
[ "$tcp0" = "nbds://ddvm@127.0.0.1:$P1/?tls-psk-file=$psk" ] || fail "disk0 TCP URI: $tcp0"
[ "$unix0" = "nbds+unix://ddvm@/?socket=$d/tls/disk0.sock&tls-psk-file=$psk" ] || fail "disk0 unix URI: $unix0"
[ "$tcp1" = "nbd://127.0.0.1:$P2" ] || fail "disk1 TCP URI: $tcp1"
[ "$(stat -c %a "$psk")" = 600 ] || fail "$psk is mode $(stat -c %a "$psk")"
grep -qE '^ddvm:[0-9a-f]{64}$' "$psk" || fail "$psk is not a 256-bit key of user ddvm"
wait_for "disk0 served over TLS" 60 nbdinfo --size "$tcp0"

# In the clear: refused on TCP and on the unix socket.
for u in "nbd://127.0.0.1:$P1" "nbd+unix:///?socket=$d/tls/disk0.sock"; do
	out=$(nbdinfo --size "$u" 2>&1) && fail "plain NBD to $u was served: $out"
	echo "$out" | grep -q 'requires TLS' || fail "plain NBD to $u: $out"
done
note "plain NBD refused on both sockets"
# Another key: refused.
printf 'ddvm:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$d/wrong.psk"
out=$(nbdinfo --size "nbds://ddvm@127.0.0.1:$P1/?tls-psk-file=$d/wrong.psk" 2>&1) &&
	fail "another key was accepted: $out"
note "another key refused: $(echo "$out" | tail -1)"
# The key: 1 MiB written over TCP reads back the same over both sockets.
head -c 1048576 /dev/urandom >"$d/in.bin"
nbdcopy "$d/in.bin" "$tcp0" || fail "write over TLS failed"
for u in "$tcp0" "$unix0"; do
	nbdcopy "$u" - | head -c 1048576 | cmp -s - "$d/in.bin" || fail "read over $u differs"
done
note "verified write over TCP, reads over TCP and unix, with the key"
# Insecure: plain.
nbdcopy "$d/in.bin" "$tcp1" || fail "plain write to the insecure disk failed"
nbdcopy "$tcp1" - | head -c 1048576 | cmp -s - "$d/in.bin" || fail "insecure disk read differs"
ddvm down >/dev/null || fail "down failed"

# A key file of our own.
rm -f "$psk"
cp "$d/wrong.psk" "$d/own.psk"
sed -i "s|nbd_tcp_port = $P1; }|nbd_tcp_port = $P1; nbd_tcp_psk = \"own.psk\"; }|" "$d/tls.conf"
grep -q 'nbd_tcp_psk = "own.psk"' "$d/tls.conf" || fail "could not edit the config"
ddvm up -d "$d/tls.conf" >/dev/null || fail "ddvm up -d (own key) failed"
tcp0=$(exp 0 nbd_tcp)
[ "$tcp0" = "nbds://ddvm@127.0.0.1:$P1/?tls-psk-file=$d/own.psk" ] || fail "own key URI: $tcp0"
wait_for "disk0 served with our own key" 60 nbdinfo --size "$tcp0"
[ ! -e "$d/tls/disk0.psk" ] || fail "a key was made although the config gives one"
ddvm down >/dev/null || fail "down failed"

# Config errors.
bad() {
	printf 'vms = ( { name = "b"; devices = ( { type = "nvme"; file = "%s"; size = "16M"; create = true; %s } ); } );\n' \
		"$d/d0.img" "$2" >"$d/bad.conf"
	expect_error "$1" "$3" ddvm check "$d/bad.conf"
}
bad "a key without a port" 'nbd_tcp_psk = "own.psk";' "'nbd_tcp_psk' needs nbd_tcp_port"
bad "insecure without a port" 'nbd_tcp_insecure = true;' "'nbd_tcp_insecure' needs nbd_tcp_port"
bad "key and insecure" "nbd_tcp_port = $P1; nbd_tcp_insecure = true; nbd_tcp_psk = \"own.psk\";" \
	"exclude each other"
bad "a missing key file" "nbd_tcp_port = $P1; nbd_tcp_psk = \"nope.psk\";" "nope.psk': No such file"
echo ok
