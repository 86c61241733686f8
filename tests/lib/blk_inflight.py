#!/usr/bin/env python3
"""Sample how many block requests a driver VM holds at once.

    blk_inflight.py SUPERVISOR_PID CHANNEL QUEUE

CHANNEL names a client channel's memfd, VM-EXPORT (e.g. demo-disk0: each
export has a channel of its own).  Maps that memfd read-only (through /proc/PID/fd of the
supervisor, which owns it) and polls queue QUEUE's rings until SIGINT:
  driver = req.cons - resp.prod   taken by the driver VM, not yet answered
  posted = req.prod - resp.prod   published by clients, not yet answered
req.cons is read before resp.prod, so `driver` never over-counts (resp.prod
only grows).  Prints "mapped ..." once, then on SIGINT
"max_driver N max_posted M samples S".  Layout: include/ddvm/proto.h.
"""
import mmap
import os
import signal
import struct
import sys
import time

QUEUE_TABLE_OFF = 0x400
QUEUE_DESC_SIZE = 64
RING_CONS_OFF = 64


def find_memfd(pid, vm):
    want = "/memfd:ddvm-%s " % vm
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            link = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        if (link + " ").startswith(want):
            return os.path.join(d, fd)
    sys.exit("no channel memfd %s in %s" % (vm, d))


def map_block_queue(pid, chan, q):
    """Map channel CHAN's memfd (through the supervisor PID) read-only; block
    queue Q's (mapping, nslots, request ring offset, response ring offset)."""
    with open(find_memfd(pid, chan), "rb") as f:
        m = mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED, mmap.PROT_READ)
    kind, _idx, nslots, req_off, resp_off = struct.unpack_from(
        "<HHIQQ", m, QUEUE_TABLE_OFF + q * QUEUE_DESC_SIZE)
    if kind != 2 or nslots == 0 or req_off >= len(m) or resp_off >= len(m):
        sys.exit("queue %d is not a block queue (kind %d)" % (q, kind))
    return m, nslots, req_off, resp_off


def main():
    pid, vm, q = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    m, nslots, req_off, resp_off = map_block_queue(pid, vm, q)
    print("mapped queue %d nslots %d" % (q, nslots), flush=True)
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    max_drv = max_posted = samples = 0
    u32 = struct.Struct("<I")
    while not stop:
        req_cons = u32.unpack_from(m, req_off + RING_CONS_OFF)[0]
        req_prod = u32.unpack_from(m, req_off)[0]
        resp_prod = u32.unpack_from(m, resp_off)[0]
        drv = (req_cons - resp_prod) & 0xFFFFFFFF
        posted = (req_prod - resp_prod) & 0xFFFFFFFF
        if drv <= nslots:
            max_drv = max(max_drv, drv)
        if posted <= nslots:
            max_posted = max(max_posted, posted)
        samples += 1
        time.sleep(0.0005)
    print("max_driver %d max_posted %d samples %d" % (max_drv, max_posted, samples),
          flush=True)


if __name__ == "__main__":
    main()
