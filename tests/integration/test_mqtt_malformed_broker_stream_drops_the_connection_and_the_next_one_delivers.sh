#!/bin/bash
# coldchaind reads MQTT with a codec of its own (codec/mqtt_wire.c), so a
# broker that sends garbage is input like any other: a fake broker (Python,
# on loopback) sends a remaining length over 4 bytes, then the reserved
# packet type 0, then a CONNACK refusal.  Each time the daemon says why,
# drops that connection and connects again with its backoff; the next
# connection's QoS 1 message is stored and acknowledged (the fake broker
# reads the PUBACK with its packet id), and the daemon never stops.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

start_influxd
BROKER_PORT_FILE=$T/broker.port
cat >"$T/broker.py" <<'PYEOF'
import socket, sys

def read_exact(c, n):
    b = b''
    while len(b) < n:
        k = c.recv(n - len(b))
        if not k:
            raise EOFError
        b += k
    return b

def read_packet(c):
    h = read_exact(c, 1)[0]
    rem, mul = 0, 1
    while True:
        d = read_exact(c, 1)[0]
        rem += (d & 0x7f) * mul
        mul *= 128
        if not d & 0x80:
            break
    return h >> 4, read_exact(c, rem)

def closed_by_peer(c):
    """True when the client closes (EOF or reset) within 30 s, False if not"""
    c.settimeout(30)
    try:
        while c.recv(4096):
            pass
        return True
    except socket.timeout:
        return False
    except OSError:
        return True

def handshake(c):
    t, body = read_packet(c)
    assert t == 1, t                     # CONNECT
    level = body[6]
    print('connect level', level)
    c.sendall(b'\x20\x02\x00\x00' if level == 4 else b'\x20\x03\x00\x00\x00')
    t, body = read_packet(c)
    assert t == 8, t                     # SUBSCRIBE
    c.sendall(bytes([0x90, 3]) + body[:2] + b'\x01' if level == 4 else bytes([0x90, 4]) + body[:2] + b'\x00\x01')
    return level

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 0))
srv.listen(4)
open(sys.argv[1], 'w').write(str(srv.getsockname()[1]))

c, _ = srv.accept()                      # 1: a remaining length over 4 bytes
handshake(c)
c.sendall(b'\x30\xff\xff\xff\xff\x01')
print('closed 1' if closed_by_peer(c) else 'still open 1')
c.close()

c, _ = srv.accept()                      # 2: the reserved packet type 0
handshake(c)
c.sendall(b'\x00\x00')                   # type 0: reserved
print('closed 2' if closed_by_peer(c) else 'still open 2')
c.close()

c, _ = srv.accept()                      # 3: refused (3.1.1: not authorised)
t, body = read_packet(c)
c.sendall(b'\x20\x02\x00\x05')
print('closed 3' if closed_by_peer(c) else 'still open 3')
c.close()

c, _ = srv.accept()                      # 4: a good message at QoS 1, id 0x1234
level = handshake(c)
topic = b'lab/fake/num'
props = b'\x00' if level == 5 else b''
body = len(topic).to_bytes(2, 'big') + topic + b'\x12\x34' + props + b'21.5'
c.sendall(bytes([0x32, len(body)]) + body)
while True:
    t, body = read_packet(c)
    if t == 4:
        print('puback', body[:2].hex())
        break
c.settimeout(60)
try:
    while c.recv(4096):
        pass
except OSError:
    pass
PYEOF
start_bg fake_broker "$T/broker.log" "$PY" -u "$T/broker.py" "$BROKER_PORT_FILE"
wait_for "fake broker listening" test -s "$BROKER_PORT_FILE" || die "the fake broker did not start"
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $(cat "$BROKER_PORT_FILE"); client_id = "cc-itest-fake"; protocol = "3.1.1";
             reconnect_max = "1s"; };
  subscriptions = ( { topic = "lab/{sensor}/num"; quantity = "temperature"; room = "L"; } );
};
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

check "a remaining length over 4 bytes: the connection is dropped" wait_for "closed 1" file_has 'closed 1' "$T/broker.log"
check "and the log says why" grep -q 'connection lost (malformed packet: remaining length over 4 bytes); reconnecting' "$DAEMON_LOG"
check "the reserved packet type 0: dropped" wait_for "closed 2" file_has 'closed 2' "$T/broker.log"
check "and the log names it" grep -q 'connection lost (malformed packet: a packet type a subscribing client does not receive)' "$DAEMON_LOG"
check "a refused CONNACK: dropped" wait_for "closed 3" file_has 'closed 3' "$T/broker.log"
check "and the log gives the broker's reason" grep -q 'connection refused: Connection Refused: not authorised' "$DAEMON_LOG"
check "the next connection's QoS 1 message is acknowledged with its packet id" \
	wait_for "puback" file_has 'puback 1234' "$T/broker.log"
check "and stored" wait_for "the reading" influx_has "SELECT value FROM temperature WHERE sensor='fake' AND value = 21.5"
expect_eq "four connections, three of them connected" "$(grep -c 'mqtt broker .*: connected as' "$DAEMON_LOG")" 3
check "coldchaind still running" pid_alive "$DAEMON_PID"
finish
