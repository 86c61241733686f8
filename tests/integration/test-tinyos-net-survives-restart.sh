#!/bin/bash
# tinyos (examples/tinyos: no NIC or disk driver of its own) on the network
# through Linux's e1000 driver in a driver VM, and on its disk through the
# nvme driver, while that driver VM is SIGKILLed under it:
#   netns R: the e1000's wire (a TAP)  169.254.N.2  --  e1000 -- driver VM "tn"
#            -- channels -- tinyos  169.254.N.5 (ip= on its command line)
# Before: R pings tinyos (ARP finds tinyos's MAC, the one its channel gives
# it), UDP datagrams of 1 to 1472 bytes come back from port 7 unchanged, and
# a disk read asked on UDP port 8 ("read 512 512") answers the CRC-32C of the
# sector 1 tinyos wrote at boot.  Then, while R keeps asking for that read,
# the driver VM's QEMU is killed the moment it holds one of tinyos's disk
# requests (tinyos's libddvm resubmits it to the successor): the supervisor
# starts a new driver VM, tinyos
# reports generation 2 for its disk and its NIC, its first read after the
# restart returns the sector as written, ping resumes, every disk read
# answered (before, across, after) has the right CRC, UDP echo works again;
# tinyos itself was not restarted.
. "$(dirname "$0")/../lib/functions.sh"
requires ip ping jq timeout qemu-system-x86_64 python3
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces, TAP devices)"
new_rundir
d=$DDVM_RUNDIR
N=97 NS=ddvm-tos-$$ WIRE=tosw$$
IPR=169.254.$N.2 IPT=169.254.$N.5
cleanup_fn "ip netns del $NS 2>/dev/null; ip link del $WIRE 2>/dev/null; [ -z \"\${READS_PID:-}\" ] || kill \$READS_PID"
inR() { ip netns exec "$NS" "$@"; }
make -C "$TOP" -s --no-print-directory tinyos >"$d/make.log" 2>&1 || fail "make tinyos: $(tail -n 5 "$d/make.log")"
con=$d/tos/console.log
tos_line() { tr -d '\r' <"$con" 2>/dev/null | grep -E "$1" | tail -n 1; }
# What tinyos says when something went wrong (fail from inside wait_for: fd 9 is stderr).
exec 9>&2
TOS_BAD='^tinyos: (stopped$|CPU exception|disk[0-9]+: (reading|writing) sector|disk[0-9]+ read sector 1 (failed|.*DIFFERS)|.*: the driver VM does not serve)'
tos_ok() {
	[ -z "$(tos_line "$TOS_BAD")" ] || fail "tinyos: $(tos_line "$TOS_BAD"): $(tail -n 20 "$con")" 2>&9
}
tos_has() { tos_ok && [ -n "$(tos_line "$1")" ]; }
vm() { status_json | jq -er ".vms[0] | $1"; }

# UDP client (in R): "echo" sends datagrams of several sizes to port 7 and
# checks them; "reads SECS CRC FILE" asks port 8 for sector 1 for SECS
# seconds (a new request 10 ms after the last was answered, or after 1 s) and writes
# "answered N right N wrong N" to FILE (a wrong one: its line too).
cat >"$d/udp.py" <<'PY'
import os, socket, sys, time
ip = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sys.argv[2] == "echo":
    s.settimeout(2)
    for n in (1, 18, 100, 512, 1000, 1472):
        data = os.urandom(n)
        for attempt in range(3):
            s.sendto(data, (ip, 7))
            try:
                got, src = s.recvfrom(2048)
                break
            except socket.timeout:
                got = None
        if got != data or src != (ip, 7):
            sys.exit("echo of %d bytes: %r" % (n, got if got is None else got[:40]))
    print("echo ok")
else:
    secs, crc, out = float(sys.argv[3]), sys.argv[4], sys.argv[5]
    s.settimeout(1)
    n = right = 0
    wrong = []
    end = time.time() + secs
    while time.time() < end:
        s.sendto(b"read 512 512", (ip, 8))
        try:
            got = s.recv(2048).decode(errors="replace").strip()
        except socket.timeout:
            continue
        n += 1
        if got.startswith("ok crc32c=%s " % crc):
            right += 1
        else:
            wrong.append(got)
        time.sleep(0.01)
    with open(out + ".tmp", "w") as f:
        f.write("answered %d right %d wrong %d\n" % (n, right, len(wrong)))
        f.writelines(w + "\n" for w in wrong[:5])
    os.rename(out + ".tmp", out)
PY

cat >"$d/tn.conf" <<CONF
vms = ( { name = "tn"; memory = 128; max_restarts = 5;
  devices = ( { type = "nvme"; file = "$d/nvme.img"; size = "64M"; create = true; export = false; },
              { type = "e1000"; net = "tap:$WIRE"; export = false; } ); } );
clients = ( { name = "tos"; memory = 64; max_restarts = 0; kernel = "$TOP/build/tinyos/tinyos.elf";
  append = "ip=$IPT"; disks = [ "tn/disk0" ]; nics = [ "tn/net0" ]; } );
CONF
ip tuntap add "$WIRE" mode tap || fail "cannot create wire tap $WIRE"
ip netns add "$NS" || fail "cannot create netns $NS"
start=$SECONDS
ddvm up -d "$d/tn.conf" >"$d/up.out" 2>&1 || fail "ddvm up failed: $(cat "$d/up.out")"
ip link set "$WIRE" netns "$NS"		# QEMU's fd to the wire stays valid across the move
inR ip link set lo up
inR ip addr add "$IPR/16" dev "$WIRE"
inR ip link set "$WIRE" up
wait_for "tinyos ready with its NIC up (console $con)" 120 tos_has '^tinyos: net0 link up'
tos_has '^tinyos: ready: 1 disks, 1 NICs' || fail "tinyos: $(tos_line '^tinyos: ready')"
s1=$(tos_line '^tinyos: disk0 wrote sector 1 ' | sed -n 's/.* crc32c=\([0-9a-f]\{8\}\)$/\1/p')
[ -n "$s1" ] || fail "tinyos wrote no sector 1: $(tail -n 20 "$con")"
mac=$(tos_line '^tinyos: net0 mac=' | sed -n 's/.* mac=\([0-9a-f:]*\) .*/\1/p')
note "tinyos up in $((SECONDS - start)) s: $(tos_line '^tinyos: net0 mac=' | cut -d' ' -f2-), sector 1 crc32c=$s1"

# Before: ARP, ping, UDP echo, a disk read on request.
inR ping -c 10 -i 0.2 -W 2 "$IPT" >"$d/ping1.log" || fail "ping tinyos: $(tail -n 2 "$d/ping1.log")"
inR ip neigh show "$IPT" | grep -qi "lladdr $mac" || fail "ARP: $(inR ip neigh show "$IPT"), tinyos has $mac"
[ "$mac" = "$(status_json | jq -r '.clients[0].nics[0].mac')" ] ||
	fail "tinyos's MAC $mac, status says $(status_json | jq -c '.clients[0].nics[0]')"
inR timeout 30 python3 "$d/udp.py" "$IPT" echo >"$d/echo1.log" 2>&1 || fail "UDP echo: $(cat "$d/echo1.log")"
inR timeout 10 python3 "$d/udp.py" "$IPT" reads 1 "$s1" "$d/reads0.out" || fail "UDP disk read failed"
read -r _ n _ right _ wrong <"$d/reads0.out"
[ "$n" -gt 0 ] && [ "$wrong" = 0 ] || fail "disk reads before the restart: $(cat "$d/reads0.out")"
rtt=$(sed -n 's|^rtt .* = [0-9.]*/\([0-9.]*\)/.*|\1|p' "$d/ping1.log")
note "before: 10/10 pings (avg rtt $rtt ms), ARP -> $mac, UDP echo 1..1472 bytes, $n disk reads right"

# The driver VM dies while R asks for disk reads; tinyos carries on.
inR timeout 120 python3 "$d/udp.py" "$IPT" reads 30 "$s1" "$d/reads.out" &
READS_PID=$!
sleep 1
pid=$(vm .pid) gen=$(vm .generation) sup=$(status_json | jq -r .supervisor_pid)
[ "$gen" = 1 ] || fail "driver VM generation $gen before the kill"
killed=$SECONDS
# SIGKILL the moment the driver VM holds a disk request of tinyos's (tests/lib/blk_kill_holding.py).
python3 "$TOP/tests/lib/blk_kill_holding.py" "$sup" tn-disk0-tos 0 "$pid" 20 >"$d/held" ||
	fail "the driver VM never held a disk request of tinyos's"
held=$(cut -d' ' -f2 "$d/held")
wait_for "tinyos to see the driver VM's generation 2 on its disk (console $con)" 120 \
	tos_has '^tinyos: disk0 driver VM generation 2$'
wait_for "tinyos's first disk read after the restart" 60 tos_has '^tinyos: disk0 read sector 1 '
[ "$(tos_line '^tinyos: disk0 read sector 1 ')" = "tinyos: disk0 read sector 1 crc32c=$s1 as written" ] ||
	fail "after the restart: '$(tos_line '^tinyos: disk0 read sector 1 ')', wrote crc32c=$s1"
wait_for "tinyos's NIC on generation 2" 60 tos_has '^tinyos: net0 driver VM generation 2$'
pings() { inR ping -c 1 -W 1 "$IPT"; }
wait_for "ping to resume" 60 pings
note "driver VM killed; ping answered again $((SECONDS - killed)) s later; tinyos read sector 1 as written"
wait "$READS_PID" || fail "the UDP disk reads failed"
READS_PID=
read -r _ n _ right _ wrong <"$d/reads.out"
[ "$wrong" = 0 ] || fail "disk reads across the restart: $(cat "$d/reads.out")"
[ "$n" -gt 10 ] || fail "only $n disk reads answered across the restart"
inR ping -c 10 -i 0.2 -W 2 "$IPT" >"$d/ping2.log" || fail "ping after the restart: $(tail -n 2 "$d/ping2.log")"
inR timeout 30 python3 "$d/udp.py" "$IPT" echo >"$d/echo2.log" 2>&1 || fail "UDP echo after the restart: $(cat "$d/echo2.log")"
[ "$(vm .generation)" = 2 ] && [ "$(vm .state)" = ready ] || fail "driver VM: $(status_json | jq -c '.vms[0] | {state, generation}')"
[ "$(status_json | jq -r '.clients[0].restarts')" = 0 ] && [ "$(status_json | jq -r '.clients[0].state')" = running ] ||
	fail "tinyos was restarted: $(status_json | jq -c '.clients[0] | {state, restarts}')"
grep -q "generation 1 -> 2" "$con" || fail "libddvm's net client did not log the restart"
resub=$(tr -d '\r' <"$con" | sed -n 's/.*left holding [0-9]* unanswered requests: \([0-9]*\) resubmitted.*/\1/p' | head -n 1)
[ "${resub:-0}" -ge 1 ] || fail "tinyos's libddvm resubmitted nothing the dead driver VM held ($held): $(grep -i 'left holding' "$con")"
note "after: $n disk reads answered across the kill, all right ($held held by the dead driver VM, $resub resubmitted to its successor); 10/10 pings, UDP echo; tinyos never restarted ($((SECONDS - start)) s)"
ddvm down >/dev/null || fail "ddvm down failed"
echo "PASS: $TEST_NAME"
