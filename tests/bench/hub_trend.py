#!/usr/bin/env python3
"""hub_trend.py SITES FILE - a day of a hub's room charts (issue 18): the
trend.state a 2,000-site hub (tests/bench/hub_config.sh: each room's
temperature sNNNN-k00/temperature and RH sNNNN-k01/humidity) has after 24 h,
every 5-minute bucket of every ring filled, in the format of
daemon/engine/trend.c (checked by its CRC-32 as the daemon does)."""
import struct
import sys
import time
import zlib

sites, out = int(sys.argv[1]), sys.argv[2]
now_slot = int(time.time()) // 300
rings = []
for s in range(sites):
    for cid, base in (("s%04d-k00/temperature" % s, 4.0), ("s%04d-k01/humidity" % s, 90.0)):
        c = cid.encode()
        b = b"".join(struct.pack("<iIfff", now_slot - k, 30, base - 0.3, base + 0.4, 30 * base + 1.25)
                     for k in range(287, -1, -1))
        rings.append(struct.pack("<H", len(c)) + c + struct.pack("<I", 288) + b)
data = struct.pack("<8sIII", b"CCTREND1", 300, 288, len(rings)) + b"".join(rings)
with open(out, "wb") as f:
    f.write(data + struct.pack("<I", zlib.crc32(data)))
