#!/usr/bin/env python3
"""SIGKILL a driver VM's QEMU at a moment it holds block requests.

    blk_kill_holding.py SUPERVISOR_PID CHANNEL QUEUE QEMU_PID SECS [LOST]

CHANNEL and QUEUE as for blk_inflight.py (e.g. demo-disk0 0).  Polls the
queue's rings until the driver VM has taken requests it has not answered,
kills QEMU_PID at once, waits for it to be gone and prints "held N": what the
dead instance held when it died (its indices no longer move).  Exits 1 if
that never happened in SECS seconds (nothing killed).

Held = req.cons - resp.prod - LOST.  LOST counts the requests earlier dead
instances held: each was taken from the request ring and never answered
(the client resubmits it as a new ring entry), so it leaves req.cons ahead
of resp.prod for good.  Pass the sum of the earlier runs' N.
"""
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blk_inflight import RING_CONS_OFF, map_block_queue  # noqa: E402


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] in "ZX"
    except OSError:
        return True


def main():
    sup, chan, q = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    qemu, secs = int(sys.argv[4]), float(sys.argv[5])
    lost = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    m, nslots, req_off, resp_off = map_block_queue(sup, chan, q)
    u32 = struct.Struct("<I")

    def held():
        req_cons = u32.unpack_from(m, req_off + RING_CONS_OFF)[0]
        resp_prod = u32.unpack_from(m, resp_off)[0]
        return (req_cons - resp_prod - lost) & 0xFFFFFFFF

    end = time.monotonic() + secs
    while time.monotonic() < end:
        if 1 <= held() <= nslots:
            os.kill(qemu, signal.SIGKILL)
            while not gone(qemu) and time.monotonic() < end + 10:
                time.sleep(0.001)
            print("held %d" % held(), flush=True)
            return 0
        time.sleep(0.0005)
    return 1


if __name__ == "__main__":
    sys.exit(main())
