# mqtt_raw.py - the start of the bench scripts' raw-socket MQTT 3.1.1
# publishers (QoS 0, and QoS 1 without waiting for the PUBACKs) (bench_footprint.sh, bench_idle.sh): a script is this file
# followed by its own loop (bench_lib.sh's bench_raw_publisher), so that
# one process publishes many topics (mosquitto_pub -l has one a process).
import socket, sys
def rl(n):
    """MQTT remaining length."""
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
def s(b):
    """MQTT string: 2-byte length, then the bytes."""
    return len(b).to_bytes(2, "big") + b
def publish0(topic, payload):
    """A QoS 0 PUBLISH packet; TOPIC is already s()-prefixed."""
    body = topic + payload
    return b"\x30" + rl(len(body)) + body
def publish1(topic, payload, pid):
    """A QoS 1 PUBLISH packet with packet id PID (1-65535); TOPIC is s()-prefixed."""
    body = topic + pid.to_bytes(2, "big") + payload
    return b"\x32" + rl(len(body)) + body
def connect(port, client_id, nodelay=False):
    """A clean session on 127.0.0.1:PORT (keepalive 600 s); exits without a CONNACK."""
    so = socket.create_connection(("127.0.0.1", port))
    if nodelay:
        so.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    var = s(b"MQTT") + bytes([4, 2]) + (600).to_bytes(2, "big") + s(client_id)
    so.sendall(b"\x10" + rl(len(var)) + var)
    if so.recv(4)[:2] != b"\x20\x02":
        sys.exit("no CONNACK")
    return so


def spread(so, n, rate, packet):
    """Sends packet(i) for i in 0..n-1 evenly spread at RATE msg/s, then a DISCONNECT."""
    import time
    t0 = time.monotonic()
    for i in range(n):
        due = t0 + i / rate
        while time.monotonic() < due:
            pass  # a busy wait: a sleep of 250 us would be far too coarse to spread the stream
        so.sendall(packet(i))
    so.sendall(b"\xe0\x00")
    so.close()
