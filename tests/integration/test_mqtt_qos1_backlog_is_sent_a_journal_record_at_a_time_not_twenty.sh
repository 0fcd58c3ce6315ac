#!/bin/bash
# The QoS 1 window the daemon grants the broker (MQTT 5 Receive Maximum,
# drivers/mqtt.c; issue 18 target 5).  The daemon acknowledges a burst only
# after its journal record, so with libmosquitto's default of 20 the broker
# held every message past the 20th in its own queue until the daemon's
# PUBACKs came back: under load an alarm's reading waited there behind
# the others, a round trip per 20.  Here the daemon is stopped (SIGSTOP)
# with a backlog of N QoS 1 messages in the broker (stock mosquitto): the
# broker must have sent far more than 20 of them into the daemon's socket
# (its receive queue, read with ss), and once the daemon runs again all N
# are stored, each once.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v ss >/dev/null || die "ss (iproute2) missing: tests/deps.sh installs it"

start_mosquitto
OUT=$T/points.lp
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-window"; };
  subscriptions = ( { topic = "win/{room}/{sensor}/temperature"; quantity = "temperature"; qos = 1; } );
};
outputs = { file = ( { name = "f"; path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

N=600
kill -STOP "$DAEMON_PID"
# every message is 33 bytes on the wire: fixed header 2, topic 2+21, id 2,
# MQTT 5 properties 1, payload 5
seq 1 "$N" | awk '{ printf "%d.125\n", $1 % 10 }' |
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t win/r1/s1/temperature -l ||
	{ kill -CONT "$DAEMON_PID"; fail "mosquitto_pub failed"; }
# bytes the broker sent to the stopped daemon (the receive queue of the
# daemon's end of its connection: the local port is not the broker's)
recvq() { ss -Htn state established "( dport = :$MQTT_PORT )" | awk '{ s += $1 } END { print s + 0 }'; }
sent_enough() { [ "$(recvq)" -ge $((500 * 33)) ]; }
wait_for "the broker sending the backlog past the window" -t 10 sent_enough
q=$(recvq)
echo "  stopped daemon's receive queue: $q bytes = $((q / 33)) of $N messages sent before any PUBACK"
kill -CONT "$DAEMON_PID"
check "the broker sent more than 500 messages before a PUBACK (a window of 20 sends 20): $((q / 33))" \
	[ "$q" -ge $((500 * 33)) ]

stored() { grep -c '^temperature,.*sensor=s1' "$OUT" 2>/dev/null; }
all_stored() { [ "$(stored)" -ge "$N" ]; }
wait_for "$N points stored" -t 60 all_stored || fail "only $(stored) of $N points stored"
expect_num "points stored (each once)" "$(stored)" "$N"
stop_daemon || fail "coldchaind exited non-zero"
finish
