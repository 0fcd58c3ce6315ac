"""A client of coldchaind's control socket for the integration tests' Python.

One JSON request per line, one JSON reply per line, over a UNIX socket.
The tests' heredocs import it from this directory, which lib.sh exports as
CC_ITEST_DIR:

    import os, sys
    sys.path.insert(0, os.environ["CC_ITEST_DIR"])
    from ctl_client import conn, line, ask
"""
import json
import socket


def conn(path, timeout=60):
    """A connection to the socket at path; every wait on it ends after timeout s."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    return s


def read_line(s):
    """The bytes read until a newline has come (with whatever came with it)
    or the other end has closed: a reply as it arrived, not parsed."""
    buf = b""
    while b"\n" not in buf:
        c = s.recv(1 << 20)
        if not c:
            break
        buf += c
    return buf


def line(s):
    """The next reply's line, without its newline."""
    return read_line(s).split(b"\n")[0]


def ask(s, req):
    """Sends req (an object) as one JSON line on s; returns the parsed reply."""
    s.sendall(json.dumps(req).encode() + b"\n")
    return json.loads(line(s))


def exchange(path, data, timeout=60):
    """One connection: sends data (bytes, as they are), returns the reply's
    raw bytes as read_line() reads them, and closes."""
    s = conn(path, timeout)
    s.sendall(data)
    buf = read_line(s)
    s.close()
    return buf
