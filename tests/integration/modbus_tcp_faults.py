#!/usr/bin/python3
"""A Modbus TCP gateway that misbehaves on cue, for the integration tests:
it answers read requests (functions 1-4) in turn, the n-th request (counted
from 1 over every connection) by the n-th entry of the script below, and
every request past the script well.  A good answer to a register read
holds n in every register, so a reading names the request it answered.

    modbus_tcp_faults.py --ready-file FILE

Once listening on 127.0.0.1 it writes its port to FILE (write + rename).
Each request and what was done with it goes to stdout, one line each.

The script (what a real gateway or a unit behind it may do):
   1 ok
   2 split     the reply in three writes 40 ms apart (within byte_timeout)
   3 exception code 4, server device failure
   4 silent    no answer: the client's response timeout passes
   5 late      the reply to request 4 first, then this one, in one write
   6 late2     the reply to request 4 again, then 60 ms later this one
   7 function  a reply with another function (0x10)
   8 count     a reply whose byte count is not the count asked for
   9 protocol  a reply with protocol id 1
  10 cut       the first 8 bytes of the reply, then nothing
  11 ok
  12 close     the connection closed on the request
  13 ok        (on the new connection)
"""
import argparse
import os
import socket
import struct
import sys
import time

SCRIPT = {2: "split", 3: "exception", 4: "silent", 5: "late", 6: "late2", 7: "function", 8: "count",
          9: "protocol", 10: "cut", 12: "close"}


def reply(tid, unit, fn, count, value, protocol=0):
    """The good reply to a read of count values, each register = value."""
    if fn in (1, 2):
        nbytes = (count + 7) // 8
        data = bytes([0x55] * nbytes)
    else:
        data = struct.pack(">%dH" % count, *([value & 0xFFFF] * count))
    pdu = bytes([fn, len(data)]) + data
    return struct.pack(">HHHB", tid, protocol, len(pdu) + 1, unit) + pdu


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve(conn, state, out):
    while True:
        req = read_exact(conn, 12)
        if req is None:
            return
        tid, proto, length, unit, fn, addr, count = struct.unpack(">HHHBBHH", req)
        state["n"] += 1
        n = state["n"]
        what = SCRIPT.get(n, "ok")
        out.write("request %d tid %d unit %d fn %d addr %d count %d: %s\n" % (n, tid, unit, fn, addr, count, what))
        out.flush()
        good = reply(tid, unit, fn, count, n)
        if what == "ok":
            conn.sendall(good)
        elif what == "split":
            for part in (good[:5], good[5:9], good[9:]):
                conn.sendall(part)
                time.sleep(0.04)  # the gateway's pace, not synchronisation
        elif what == "exception":
            conn.sendall(struct.pack(">HHHBBB", tid, 0, 3, unit, fn | 0x80, 4))
        elif what == "silent":
            state["late"] = good  # sent in front of the next replies
        elif what == "late":
            conn.sendall(state["late"] + good)
        elif what == "late2":
            conn.sendall(state["late"])
            time.sleep(0.06)
            conn.sendall(good)
        elif what == "function":
            conn.sendall(struct.pack(">HHHBBHH", tid, 0, 6, unit, 0x10, addr, count))
        elif what == "count":
            bad = bytearray(good)
            bad[8] += 2
            conn.sendall(bytes(bad) + b"\0\0")
        elif what == "protocol":
            conn.sendall(reply(tid, unit, fn, count, n, protocol=1))
        elif what == "cut":
            conn.sendall(good[:8])
        elif what == "close":
            conn.close()
            return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-file", required=True)
    a = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    tmp = a.ready_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, a.ready_file)
    state = {"n": 0, "late": b""}
    while True:
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sys.stdout.write("connection\n")
        sys.stdout.flush()
        try:
            serve(conn, state, sys.stdout)
        except OSError as e:
            sys.stdout.write("connection error: %s\n" % e)
        finally:
            try:
                conn.close()
            except OSError:
                pass


if __name__ == "__main__":
    main()
