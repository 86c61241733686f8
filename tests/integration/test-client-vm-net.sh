#!/bin/bash
# A Linux client VM uses a driver VM's NIC through ddvm_front.ko (netdev
# ddvmnet0) over a channel of its own: the config's `nics = [ "nv/net0" ]`,
# the NIC (an e1000) not exported to the host (`export = false`), its wire
# a TAP in a network namespace made here, link-local addresses only:
#
#   client VM c1: ddvmnet0 169.254.96.1/16 fe80::96:1
#       | ddvm_front -> channel -> driver VM nv (ddvm_net) -> e1000
#   netns $NV_NSR: $NV_WIRE (QEMU's tap backend)  169.254.96.2/16 fe80::96:2
#
# Checks: ddvmnet0 has the NIC's MAC and MTU and carrier; ping over IPv4 and
# IPv6 (link-local); 64 MiB remote -> client and the same bytes back client
# -> remote, sha256 at both ends, through the offloads (TSO frames sent,
# offload metadata received); then, while a paced 64 MiB stream runs each
# way, the driver VM's QEMU is SIGKILLed mid-stream, the supervisor restarts
# it, both TCP connections carry on and their data arrives intact, the
# client's carrier went down and came back (sysfs carrier_down_count, its
# kernel log says why); then the driver VM hangs (SIGSTOP): the client turns
# its carrier off when the heartbeat stops, before the supervisor declares it
# hung and restarts it, and on again after; the client VM was never
# restarted.
. "$(dirname "$0")/../lib/functions.sh"
. "$TOP/tests/lib/client_vm.sh"
. "$TOP/tests/lib/netvm.sh"
netvm_requires cpio gzip
new_rundir
netvm_init 96
cleanup_fn netvm_down
cleanup_fn 'kill ${SRV_PID:-} 2>/dev/null'
D=$DDVM_RUNDIR
MIB=64			# each transfer
PACE=0.08		# the restart streams: one MiB per PACE s at most client -> remote,
PACE_R=0.12		# and per PACE_R s remote -> client (it starts first, and faster)
KILL_AT=4		# MiB both restart streams carried before the kill
client_image

# The remote end: one TCP connection per port, on any address of its
# namespace; "sha256 bytes" in srv/PORT.sum when it ends, bytes so far in
# srv/PORT.progress (every MiB).
#   send:MIB:SEED:PACE   send MIB MiB of seeded random bytes, then close
#   recv                 take everything until the peer closes
cat >"$D/srv.py" <<'PY'
import hashlib, os, random, socket, sys, threading, time
MIB = 1 << 20

def serve(out, port, what):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", port))
    s.listen(1)
    s.settimeout(600)
    open("%s/%d.listening" % (out, port), "w").close()
    c, _ = s.accept()
    c.settimeout(120)
    h, n = hashlib.sha256(), 0
    def progress():
        with open("%s/%d.progress.tmp" % (out, port), "w") as f:
            f.write("%d\n" % n)
        os.rename("%s/%d.progress.tmp" % (out, port), "%s/%d.progress" % (out, port))
    if what[0] == "send":
        mib, r, pace = int(what[1]), random.Random(int(what[2])), float(what[3])
        for _ in range(mib):
            b = r.randbytes(MIB)
            h.update(b)
            c.sendall(b)
            n += len(b)
            progress()
            if pace:
                time.sleep(pace)
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
    else:
        mark = 0
        while True:
            b = c.recv(MIB)
            if not b:
                break
            h.update(b)
            n += len(b)
            if n - mark >= MIB:
                mark = n
                progress()
    c.close()
    with open("%s/%d.sum" % (out, port), "w") as f:
        f.write("%s %d\n" % (h.hexdigest(), n))

out = sys.argv[1]
ts = [threading.Thread(target=serve, args=(out, int(a.split(":")[0]), a.split(":")[1:]))
      for a in sys.argv[2:]]
for t in ts:
    t.start()
for t in ts:
    t.join()
PY

# The client VM's script: configure ddvmnet0, ping both ways of addressing,
# the transfers, the restart streams; console lines say what happened.
cat >"$D/client.sh" <<SCRIPT
#!/bin/sh
n=ddvmnet0 s=/sys/class/net/ddvmnet0 R4=$NV_IPR R6=$NV_LLR%ddvmnet0
die() { echo "RESULT fail: \$*"; dmesg | grep ddvm | tail -n 40 | sed 's/^/DMESG /'; exec sleep 100000; }
step() { echo "STEP \$*"; }
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="\$1" -v b="\$(now)" 'BEGIN { printf "%.1f", b - a }'; }
ctr() { for c in "\$@"; do printf '%s=%s ' \$c "\$(cat \$s/ddvm/\$c)"; done; }
carrier_in() {
	t=0
	until [ "\$(cat \$s/carrier 2>/dev/null)" = 1 ]; do
		[ \$t -lt \$((\$1 * 10)) ] || return 1
		sleep 0.1
		t=\$((t + 1))
	done
}
[ -d \$s ] || die "no netdev \$n (have: \$(ls /sys/class/net | tr '\n' ' '))"
echo "NIC \$(cat \$s/address) mtu \$(cat \$s/mtu) features \$(cat \$s/ddvm/features)"
ip link set lo up
# No duplicate address detection (busybox ip has no nodad): the remote is known.
echo 0 >/proc/sys/net/ipv6/conf/\$n/accept_dad
ip addr add $NV_IPC/16 dev \$n && ip -6 addr add $NV_LLC/64 dev \$n &&
	ip link set \$n up || die "cannot configure \$n"
carrier_in 60 || die "no carrier on \$n: \$(ctr serving link_up heartbeat_stale)"
# The remote end is there once it answers (the test sets it up after ddvm up).
t=0
until ping -c 1 -W 1 \$R4 >/dev/null 2>&1; do
	[ \$t -lt 120 ] || die "\$R4 never answered"
	t=\$((t + 1))
done
echo "PING4 \$(ping -c 5 -i 0.2 -W 5 \$R4 | grep -o '[0-9]* packets received')"
echo "PING6 \$(ping -6 -c 5 -i 0.2 -W 5 \$R6 | grep -o '[0-9]* packets received')"
step transfers
t0=\$(now)
nc \$R4 5001 </dev/null >/tmp/rx || die "receiving on port 5001"
echo "RXSUM \$(sha256sum </tmp/rx | cut -d' ' -f1) \$(wc -c </tmp/rx) \$(since \$t0)"
t0=\$(now)
nc \$R4 5002 </tmp/rx >/dev/null || die "sending to port 5002"
echo "TXDONE \$(since \$t0)"
echo "COUNTERS \$(ctr tx_gso tx_csum rx_gso rx_csum rx_csum_valid tx_frames rx_frames)"
down0=\$(cat \$s/carrier_down_count) up0=\$(cat \$s/carrier_up_count)
echo "BEFORE \$(ctr generation restarts)"
step survive
t0=\$(now)
(nc \$R4 5004 </dev/null | sha256sum | cut -d' ' -f1 >/tmp/s4) &
i=0
while [ \$i -lt $MIB ]; do
	dd if=/tmp/rx bs=1M skip=\$i count=1 2>/dev/null
	sleep $PACE
	i=\$((i + 1))
done | nc \$R4 5003 >/dev/null || die "sending to port 5003 across the restart"
wait
echo "SURVRX \$(cat /tmp/s4) \$(since \$t0)"
carrier_in 60 || die "the carrier did not come back: \$(ctr serving link_up heartbeat_stale generation)"
echo "CARRIER down \$down0 \$(cat \$s/carrier_down_count) up \$up0 \$(cat \$s/carrier_up_count) now \$(cat \$s/carrier)"
echo "AFTER \$(ctr generation restarts tx_restart_dropped tx_not_ready tx_ring_full rx_stale rx_bad rx_deliver_error drop_mode)"
echo "PING4AFTER \$(ping -c 3 -i 0.2 -W 5 \$R4 | grep -o '[0-9]* packets received')"
step hang
t=0
until [ "\$(cat \$s/ddvm/heartbeat_stale)" = 1 ]; do
	[ \$t -lt 600 ] || die "the driver VM's heartbeat never went stale"
	sleep 0.1
	t=\$((t + 1))
done
echo "STALE carrier=\$(cat \$s/carrier) \$(ctr generation serving)"
carrier_in 120 || die "the carrier did not come back after the hang: \$(ctr serving link_up heartbeat_stale generation)"
echo "HANGBACK \$(ctr generation restarts heartbeat_stale)"
echo "PING4HANG \$(ping -c 3 -i 0.2 -W 5 \$R4 | grep -o '[0-9]* packets received')"
echo "DEV \$(grep \$n: /proc/net/dev | cut -d: -f2)"
dmesg | grep ddvm | sed 's/^/DMESG /'
echo "RESULT ok"
exec sleep 100000
SCRIPT

cat >"$D/cv.conf" <<CONF
vms = ( { name = "$NV_VM"; memory = 128; max_restarts = 3;
  devices = ( { type = "e1000"; net = "tap:$NV_WIRE"; export = false; } ); } );
clients = ( { name = "c1"; memory = 384; nics = [ "$NV_VM/net0" ];
  kernel = "$(client_kernel)"; initrd = "$D/c1.initrd";
  append = "$(_client_conf cmdline) ddvm.wait=120"; } );
CONF
client_initrd c1 "$D/client.sh"

# The remote end listens (on any address of its namespace) before anything starts.
ip tuntap add "$NV_WIRE" mode tap || fail "cannot create wire tap $NV_WIRE"
ip netns add "$NV_NSR" || fail "cannot create netns $NV_NSR"
inR ip link set lo up
mkdir "$D/srv"
SEED1=$RANDOM SEED2=$RANDOM
# (ip netns exec runs timeout itself: killing SRV_PID stops the server too.)
ip netns exec "$NV_NSR" timeout 900 "$NV_PY" "$D/srv.py" "$D/srv" "5001:send:$MIB:$SEED1:0" \
	5002:recv 5003:recv "5004:send:$MIB:$SEED2:$PACE_R" >"$D/srv.out" 2>&1 &
SRV_PID=$!
listening() { for p in 5001 5002 5003 5004; do [ -e "$D/srv/$p.listening" ] || return 1; done; }
wait_for "the remote end listening" 20 listening

start=$SECONDS
ddvm up -d "$D/cv.conf" >"$D/up.out" 2>&1 || fail "ddvm up -d failed: $(cat "$D/up.out")"
# QEMU's fd to the wire stays valid across the move.
ip link set "$NV_WIRE" netns "$NV_NSR"
inR ip addr add "$NV_IPR/16" dev "$NV_WIRE"
inR ip -6 addr add "$NV_LLR/64" dev "$NV_WIRE" nodad
inR ip link set "$NV_WIRE" up

con=$D/c1/console.log
line() { grep -a "^$1 " "$con" 2>/dev/null | tail -n 1 | tr -d '\r' | cut -d' ' -f2-; }
failed() { grep -aq '^RESULT fail' "$con" 2>/dev/null && fail "client: $(line RESULT): $(tail -n 40 "$con")"; return 1; }
seen() { failed || grep -aq "^$1" "$con" 2>/dev/null; }
wait_for "the client VM to configure ddvmnet0 and ping (console $con)" 300 seen PING6
grep -aq '^ddvm-client: ready (1 nics: ddvmnet0)' "$con" ||
	fail "ddvmnet0 did not appear: $(grep -a 'ddvm-client' "$con" | tail -n 3)"
note "client up in $((SECONDS - start)) s: $(line NIC)"

# The netdev is the driver VM's NIC: its MAC and MTU.
nic() { status_json | jq -er ".clients[] | select(.name == \"c1\") | .nics[0] | $1"; }
[ "$(nic .queue_state)" = ready ] || fail "client NIC queue: $(status_json | jq -c '.clients[0].nics')"
read -r mac _ mtu _ feat <<<"$(line NIC)"
[ "$mac" = "$(nic .mac)" ] || fail "ddvmnet0 has MAC $mac, the NIC $(nic .mac)"
[ "$mtu" = "$(nic .mtu)" ] || fail "ddvmnet0 has MTU $mtu, the NIC $(nic .mtu)"
[ $((feat & 0x13)) = $((0x13)) ] || fail "e1000's queue should offer csum, tso4 and rx offload, ddvmnet0 uses $feat"
[ "$(line PING4)" = "5 packets received" ] || fail "IPv4 ping: '$(line PING4)' of 5"
[ "$(line PING6)" = "5 packets received" ] || fail "IPv6 ping (link-local): '$(line PING6)' of 5"
note "mac $mac, mtu $mtu, offloads $feat; 5 of 5 pings over IPv4 and IPv6 link-local"

wait_for "$MIB MiB to the client and back (console $con)" 300 seen COUNTERS
want=$(cat "$D/srv/5001.sum")
read -r got bytes secs <<<"$(line RXSUM)"
[ "$got $bytes" = "$want" ] || fail "remote -> client: the client got '$got $bytes', sent '$want'"
note "$MIB MiB remote -> client intact in $secs s"
wait_for "the remote end to take the bytes back" 30 test -s "$D/srv/5002.sum"
[ "$(cat "$D/srv/5002.sum")" = "$want" ] ||
	fail "client -> remote: the remote got '$(cat "$D/srv/5002.sum")', the client sent '$want'"
note "$MIB MiB client -> remote intact in $(line TXDONE) s"
cnt() { line "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
[ "$(cnt COUNTERS tx_gso)" -gt 0 ] || fail "no TSO frame sent: $(line COUNTERS)"
[ $(($(cnt COUNTERS rx_gso) + $(cnt COUNTERS rx_csum) + $(cnt COUNTERS rx_csum_valid))) -gt 0 ] ||
	fail "no offload metadata received: $(line COUNTERS)"
note "offloads: $(line COUNTERS)"

# The driver VM dies while both streams are under way.
wait_for "the restart streams to start (console $con)" 120 seen "STEP survive"
progress() { cat "$D/srv/$1.progress" 2>/dev/null || echo 0; }
under_way() { [ "$(progress 5003)" -ge $((KILL_AT << 20)) ] && [ "$(progress 5004)" -ge $((KILL_AT << 20)) ]; }
wait_for "$KILL_AT MiB each way before the kill" 120 under_way
gen=$(vm_field "$NV_VM" .generation)
kill -9 "$(vm_field "$NV_VM" .pid)"
at3=$(progress 5003) at4=$(progress 5004)
[ "$at3" -lt $((MIB << 20)) ] && [ "$at4" -lt $((MIB << 20)) ] ||
	fail "a stream ended before the kill ($at3 and $at4 bytes): it proves nothing"
note "driver VM killed (generation $gen) with $((at3 >> 20)) MiB client -> remote, $((at4 >> 20)) MiB remote -> client"
back() { [ "$(vm_field "$NV_VM" .generation)" -gt "$gen" ] && vm_state_is "$NV_VM" ready; }
wait_for "the supervisor to restart the driver VM" "$BOOT_SECS" back
note "driver VM back (generation $(vm_field "$NV_VM" .generation)) after $((SECONDS - start)) s of test"
wait_for "both streams to finish across the restart (console $con)" 300 seen PING4AFTER
[ "$(cat "$D/srv/5003.sum")" = "$want" ] ||
	fail "client -> remote across the restart: the remote got '$(cat "$D/srv/5003.sum")', the client sent '$want'"
read -r got secs <<<"$(line SURVRX)"
[ "$got" = "$(cut -d' ' -f1 "$D/srv/5004.sum")" ] ||
	fail "remote -> client across the restart: the client got '$got', the remote sent '$(cat "$D/srv/5004.sum")'"
note "both $MIB MiB streams intact across the restart, $secs s"

# The carrier went down and came back.
read -r _ down0 down1 _ up0 up1 _ now <<<"$(line CARRIER)"
[ "$down1" -gt "$down0" ] && [ "$up1" -gt "$up0" ] && [ "$now" = 1 ] ||
	fail "carrier: $(line CARRIER)"
[ "$(cnt AFTER restarts)" -ge 1 ] && [ "$(cnt AFTER generation)" -gt "$(cnt BEFORE generation)" ] ||
	fail "the client saw no restart: $(line BEFORE) / $(line AFTER)"
[ "$(cnt AFTER rx_bad)" = 0 ] || fail "bad responses from an honest driver VM: $(line AFTER)"
[ "$(line PING4AFTER)" = "3 packets received" ] || fail "ping after the restart: '$(line PING4AFTER)' of 3"
note "carrier down $down0 -> $down1, up $up0 -> $up1; $(line AFTER)"

# The driver VM hangs: its heartbeat stops, the client's carrier goes off
# (before the supervisor's limit of 10 s), the supervisor kills and restarts
# it, the carrier comes back.
wait_for "the client to wait for a hang (console $con)" 60 seen "STEP hang"
gen=$(vm_field "$NV_VM" .generation)
kill -STOP "$(vm_field "$NV_VM" .pid)"
wait_for "the client to see the heartbeat stop (console $con)" 30 seen STALE
[ "$(cnt STALE carrier)" = 0 ] && [ "$(cnt STALE generation)" = "$gen" ] ||
	fail "heartbeat stale: expected the carrier off and generation $gen, got $(line STALE)"
note "driver VM stopped: the client's carrier off on its stale heartbeat ($(line STALE))"
wait_for "the supervisor to restart the hung driver VM" "$BOOT_SECS" back
wait_for "the client after the hang (console $con)" 120 seen "RESULT ok"
[ "$(cnt HANGBACK generation)" -gt "$gen" ] && [ "$(cnt HANGBACK heartbeat_stale)" = 0 ] ||
	fail "after the hang: $(line HANGBACK)"
grep -aq '^DMESG.*ddvmnet0: carrier off: the driver VM.s heartbeat stopped' "$con" ||
	fail "no 'heartbeat stopped' in the client's log: $(grep -a '^DMESG.*carrier' "$con" | tail -n 5)"
[ "$(line PING4HANG)" = "3 packets received" ] || fail "ping after the hang: '$(line PING4HANG)' of 3"
grep -q "heartbeat stopped" "$D/ddvm.log" || fail "the supervisor did not see the hang"
note "the supervisor restarted the hung driver VM (generation $(cnt HANGBACK generation)); carrier on, ping ok"

# The client's kernel said why the carrier went off, each time; it is on now.
grep -aqE '^DMESG.*ddvmnet0: carrier off: the driver VM (restarted|.s heartbeat stopped)' "$con" ||
	fail "no 'carrier off' in the client's log: $(grep -a '^DMESG' "$con" | tail -n 10)"
[ "$(grep -a '^DMESG.*ddvmnet0: carrier' "$con" | tail -n 1 | grep -c 'carrier on')" = 1 ] ||
	fail "the client's last carrier line is not 'carrier on'"
note "client log: $(grep -a '^DMESG.*carrier off' "$con" | sed 's/.*carrier off: //' | tr -d '\r' | paste -sd ';' | sed 's/;/; /g')"
# ndo_get_stats64: at least the 2 x $MIB MiB each way (/proc/net/dev: rx bytes, ..., tx bytes at 9).
read -r rxb rxp _ _ _ _ _ _ txb txp _ <<<"$(line DEV)"
[ "$rxb" -ge $((2 * MIB << 20)) ] && [ "$txb" -ge $((2 * MIB << 20)) ] && [ "$rxp" -gt 0 ] &&
	[ "$txp" -gt 0 ] || fail "ddvmnet0's counters: $(line DEV)"
note "ddvmnet0 counters: $((rxb >> 20)) MiB in $rxp frames received, $((txb >> 20)) MiB in $txp sent"
[ "$(status_json | jq -r '.clients[0].restarts')" = 0 ] || fail "the client VM was restarted"
! grep -aqE 'BUG:|WARNING:|Oops|general protection' "$con" || fail "kernel trouble in the client: $(grep -aE 'BUG:|WARNING:|Oops' "$con" | head -n 3)"
note "total $((SECONDS - start)) s"
echo "PASS: $TEST_NAME"
