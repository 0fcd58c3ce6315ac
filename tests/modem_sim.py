#!/usr/bin/env python3
"""modem_sim.py - a GSM modem at the other end of a pty, for the SMS tests.

Answers the AT dialogue the way real modems do (echo until ATE0, +CME/+CMS
errors by number after AT+CMEE=1, +CPIN, +CSQ, +CREG, +CMGF/+CSCS/+CSMP,
+CMGS with the "> " prompt and +CMGS: <mr>, +CMGL/+CMGD), interleaves
unsolicited result codes with its replies when --noisy, and records every
SMS it is given as one JSON line: number, charset, decoded text, arrival
time (t, epoch seconds).  Incoming
messages are injected by appending JSON lines {"number": .., "text": ..} to
the --inbox file; a line {"cms_count": N, "cms_error": E} makes the next N
sends fail with +CMS ERROR: E.  Written independently of the C side: its own GSM 7-bit
table, Python's own UTF-16 codec."""
import argparse
import json
import os
import select
import sys
import time
import tty

GSM = ("@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"
       "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1b\u00c6\u00e6\u00df\u00c9"
       " !\"#\u00a4%&'()*+,-./0123456789:;<=>?"
       "\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
       "\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0")
GSM_EXT = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
           0x3E: "]", 0x40: "|", 0x65: "\u20ac"}
assert len(GSM) == 128


def gsm_decode(b):
    out, i = [], 0
    while i < len(b):
        c = b[i] & 0x7F
        if c == 0x1B and i + 1 < len(b):
            i += 1
            out.append(GSM_EXT.get(b[i] & 0x7F, " "))
        else:
            out.append(GSM[c])
        i += 1
    return "".join(out)


def ucs2_decode(h):
    return bytes.fromhex(h).decode("utf-16-be")


def ucs2_encode(s):
    return s.encode("utf-16-be").hex().upper()


class Modem:
    def __init__(self, a):
        self.a = a
        self.fd = os.open(a.port, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.echo = True
        self.cmee = 0
        self.sim = a.sim
        self.cscs = "IRA"
        self.dcs = 0
        self.text_mode = False
        self.cms_left = a.cms_count
        self.mr = 0
        self.inbox_off = 0
        self.store = {}  # index -> [number, text, read]
        self.next_idx = 1
        self.buf = b""
        self.pending = None  # number of an AT+CMGS waiting for its text

    def log(self, **kv):
        with open(self.a.record, "a") as f:
            f.write(json.dumps(kv, ensure_ascii=False) + "\n")

    def write(self, s):
        os.write(self.fd, s.encode("latin-1") if isinstance(s, str) else s)

    def reply(self, *lines, final="OK"):
        out = ""
        if self.a.noisy:
            out += "\r\n^RSSI: 17\r\n"
        for l in lines:
            out += "\r\n" + l + "\r\n"
        if self.a.noisy:
            out += "\r\nRING\r\n"
        out += "\r\n" + final + "\r\n"
        self.write(out)

    def error(self, kind, code):
        self.reply(final="%s ERROR: %d" % (kind, code) if self.cmee else "ERROR")

    def str_param(self, s):
        s = s.strip().strip('"')
        return ucs2_decode(s) if self.cscs == "UCS2" and s and all(c in "0123456789ABCDEFabcdef" for c in s) and len(s) % 4 == 0 else s

    def command(self, line):
        if self.echo:
            self.write(line + "\r")
        u = line.upper()
        if u in ("AT", "ATZ", "ATE1", "AT&F"):
            self.echo = self.echo or u == "ATE1"
            return self.reply()
        if u == "ATE0":
            self.echo = False
            return self.reply()
        if u.startswith("AT+CMEE="):
            self.cmee = int(u[8:] or 0)
            return self.reply()
        if u == "AT+CPIN?":
            if self.sim == "absent":
                return self.error("+CME", 10)
            return self.reply("+CPIN: " + ("READY" if self.sim == "ready" else "SIM PIN"))
        if u.startswith("AT+CPIN="):
            ok = self.sim == "pin" and line[8:].strip('"') == self.a.pin
            self.log(event="pin", accepted=ok)
            if not ok:
                return self.error("+CME", 16)
            self.sim = "ready"
            return self.reply()
        if self.sim != "ready" and u.startswith(("AT+CMG", "AT+CSQ", "AT+CREG")):
            return self.error("+CMS" if u.startswith("AT+CMG") else "+CME", 310 if self.sim == "absent" else 311)
        if u.startswith("AT+CMGF="):
            self.text_mode = u[8:] == "1"
            return self.reply()
        if u.startswith("AT+CSCS="):
            cs = line[8:].strip('"')
            if cs not in ("GSM", "UCS2", "IRA"):
                return self.error("+CME", 4)
            self.cscs = cs
            return self.reply()
        if u.startswith("AT+CSMP="):
            self.dcs = int(u[8:].split(",")[3])
            return self.reply()
        if u == "AT+CSQ":
            return self.reply("+CSQ: %d,99" % self.a.rssi)
        if u == "AT+CREG?":
            return self.reply("+CREG: 0,%d" % (1 if self.a.registered else 2))
        if u.startswith("AT+CMGS="):
            if not self.text_mode:
                return self.error("+CMS", 304)
            self.pending = self.str_param(line[8:])
            self.write("\r\n> ")
            return
        if u.startswith("AT+CMGL"):
            return self.list(line)
        if u.startswith("AT+CMGD="):
            self.store.pop(int(u[8:].split(",")[0]), None)
            self.log(event="deleted", index=int(u[8:].split(",")[0]))
            return self.reply()
        self.reply(final="ERROR")

    def list(self, line):
        want = line.split("=", 1)[1].strip('"') if "=" in line else "REC UNREAD"
        if self.cscs == "UCS2" and want not in ("ALL", "REC UNREAD", "REC READ"):
            want = ucs2_decode(want)
        lines = []
        for idx in sorted(self.store):
            num, text, read = self.store[idx]
            if want == "ALL" or (want == "REC UNREAD") != read:
                st = "REC READ" if read else "REC UNREAD"
                enc = ucs2_encode if self.cscs == "UCS2" else (lambda x: x)
                lines += ['+CMGL: %d,"%s","%s",,"26/12/03,18:00:00+28"' % (idx, st, enc(num)), enc(text)]
                self.store[idx][2] = True
        self.reply(*lines)

    def finish_sms(self, body):
        if self.cms_left > 0:
            self.cms_left -= 1
            self.log(event="refused", number=self.pending, code=self.a.cms_error)
            self.pending = None
            return self.error("+CMS", self.a.cms_error)
        if self.cscs == "UCS2":
            text, cs = ucs2_decode(body.decode("ascii")), "UCS2"
        else:
            text, cs = gsm_decode(body), self.cscs
        self.mr = (self.mr + 1) % 256
        self.log(event="sms", number=self.pending, charset=cs, dcs=self.dcs, text=text, mr=self.mr, t=time.time())
        self.pending = None
        self.reply("+CMGS: %d" % self.mr)

    def feed(self, data):
        self.buf += data
        while True:
            if self.pending is not None:
                for i, c in enumerate(self.buf):
                    if c in (0x1A, 0x1B):
                        body, self.buf = self.buf[:i], self.buf[i + 1:]
                        if c == 0x1A:
                            self.finish_sms(body)
                        else:
                            self.pending = None
                            self.reply()
                        break
                else:
                    return
                continue
            k = self.buf.find(b"\r")
            if k < 0:
                return
            line, self.buf = self.buf[:k].decode("latin-1").strip("\n\x1b "), self.buf[k + 1:]
            if line:
                self.command(line)

    def poll_inbox(self):
        if not self.a.inbox or not os.path.exists(self.a.inbox):
            return
        with open(self.a.inbox, encoding="utf-8") as f:
            f.seek(self.inbox_off)
            for l in f:
                if not l.endswith("\n"):
                    break
                self.inbox_off += len(l.encode("utf-8"))
                m = json.loads(l)
                if "cms_count" in m:  # a control line: fail the next N sends
                    self.cms_left = m["cms_count"]
                    self.a.cms_error = m.get("cms_error", 331)
                    self.log(event="control", cms_count=self.cms_left, cms_error=self.a.cms_error)
                    continue
                self.store[self.next_idx] = [m["number"], m["text"], False]
                self.write('\r\n+CMTI: "SM",%d\r\n' % self.next_idx)
                self.next_idx += 1

    def run(self):
        if self.a.ready_file:
            open(self.a.ready_file, "w").close()
        while True:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    return
                if not data:
                    return
                self.feed(data)
            self.poll_inbox()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--inbox")
    p.add_argument("--ready-file")
    p.add_argument("--sim", choices=["ready", "pin", "absent"], default="ready")
    p.add_argument("--pin", default="1234")
    p.add_argument("--cms-error", type=int, default=331)
    p.add_argument("--cms-count", type=int, default=0)
    p.add_argument("--rssi", type=int, default=20)
    p.add_argument("--registered", type=int, default=1)
    p.add_argument("--noisy", action="store_true")
    Modem(p.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
