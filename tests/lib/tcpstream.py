#!/usr/bin/python3
"""TCP byte streams for the network tests (run inside a test's namespaces).

  tcpstream.py sink IP OUT        listen on IP:5001 for one connection; OUT.listening
                                  once listening, OUT.progress (bytes so far) every
                                  MiB, and "sha256 bytes" in OUT when the peer closes
  tcpstream.py source IP MIB SEED [PACE]
                                  send MIB MiB of seeded random bytes to IP:5001,
                                  sleeping PACE seconds after each MiB; print
                                  "sha256 bytes" of what was sent
Both sides give up after 60 s without progress.
"""
import hashlib
import random
import socket
import sys
import time

PORT = 5001
MIB = 1 << 20


def sink(ip, out):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, PORT))
    s.listen(1)
    s.settimeout(60)
    open(out + ".listening", "w").close()
    c, _ = s.accept()
    c.settimeout(60)
    h, n, mark = hashlib.sha256(), 0, 0
    while True:
        b = c.recv(MIB)
        if not b:
            break
        h.update(b)
        n += len(b)
        if n - mark >= MIB:
            mark = n
            with open(out + ".progress", "w") as f:
                f.write("%d\n" % n)
    with open(out, "w") as f:
        f.write("%s %d\n" % (h.hexdigest(), n))


def source(ip, mib, seed, pace):
    r, h = random.Random(seed), hashlib.sha256()
    s = socket.create_connection((ip, PORT), timeout=60)
    for _ in range(mib):
        b = r.randbytes(MIB)
        h.update(b)
        s.sendall(b)
        if pace:
            time.sleep(pace)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    print("%s %d" % (h.hexdigest(), mib * MIB))


if __name__ == "__main__":
    a = sys.argv
    if len(a) == 4 and a[1] == "sink":
        sink(a[2], a[3])
    elif len(a) in (5, 6) and a[1] == "source":
        source(a[2], int(a[3]), int(a[4]), float(a[5]) if len(a) == 6 else 0.0)
    else:
        sys.exit(__doc__)
