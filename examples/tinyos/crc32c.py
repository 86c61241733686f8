#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""CRC-32C (Castagnoli) of a file's bytes, as tinyos prints it: 8 hex digits.

    crc32c.py FILE [OFFSET [LENGTH]]     (default: the whole file)
"""
import sys

TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    off = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with open(sys.argv[1], "rb") as f:
        f.seek(off)
        data = f.read(int(sys.argv[3])) if len(sys.argv) > 3 else f.read()
    print("%08x" % crc32c(data))
