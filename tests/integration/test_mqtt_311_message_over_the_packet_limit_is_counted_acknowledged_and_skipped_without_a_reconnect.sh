#!/bin/bash
# MQTT 3.1.1 has no way to tell a broker the largest packet a client takes
# (MQTT 5's Maximum Packet Size), so a 3.1.1 broker sends coldchaind
# messages over its limit (the largest max_payload + 68 KiB).  Each is
# counted as too_large, acknowledged and its bytes skipped as they come
# (never held whole), on the same connection: the good messages around
# them arrive, the client never reconnects, and a restarted daemon does not
# get them again (the broker had their PUBACKs).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

STATS_INTERVAL=1s
start_influxd
start_mosquitto
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-311big"; protocol = "3.1.1"; };
  subscriptions = (
    { topic = "lab/{sensor}/num"; quantity = "temperature"; room = "L"; max_payload = 4096; qos = 1; }
  );
};
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

# 74 KiB: just over the packet limit; 300 KiB: several reads' worth; 3 MiB:
# far more than the read buffer ever grows to
head -c 75800 /dev/zero | tr '\0' '7' >"$T/big1"
head -c 307200 /dev/zero | tr '\0' '8' >"$T/big2"
head -c 3145728 /dev/zero | tr '\0' '9' >"$T/big3"
good=0
pub_good() {
	good=$((good + 1))
	mqtt_pub lab/good/num "$good"
}
pub_good
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -V mqttv311 -t lab/big/num -f "$T/big1"
pub_good
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -V mqttv311 -t lab/big/num -f "$T/big2"
pub_good
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 0 -V mqttv311 -t lab/big/num -f "$T/big3"
pub_good
pub_good

has_good() { [ "$(influx_count "SELECT count(value) FROM temperature WHERE sensor='good'")" = "$good" ]; }
if wait_for "all $good good messages" has_good; then
	pass "all $good good messages around the oversized ones arrived"
else
	fail "good messages: $(influx_count "SELECT count(value) FROM temperature WHERE sensor='good'") of $good"
fi
expect_eq "no oversized payload became a reading" "$(influx_count "SELECT count(value) FROM temperature WHERE sensor='big'")" 0
S='lab/{sensor}/num'
stat_is() { [ "$(influx_scalar "SELECT last(\"$1\") FROM coldchaind_mqtt WHERE \"subscription\"='$S'")" = "$2" ]; }
check "the three oversized messages are counted as too_large" wait_for "too_large = 3" stat_is too_large 3
check "and as received, with the good ones" wait_for "received" stat_is received $((good + 3))
check "the refusal is logged with the topic" grep -q 'topic lab/big/num: refused too_large' "$DAEMON_LOG"
expect_eq "one connection all along (no reconnect)" "$(grep -c 'mqtt broker .*: connected as' "$DAEMON_LOG")" 1
if grep -q 'connection lost' "$DAEMON_LOG"; then
	fail "the connection was lost: $(grep 'connection lost' "$DAEMON_LOG" | head -n 1)"
else
	pass "the connection was never lost"
fi
# the broker had the PUBACKs: a restarted daemon (same persistent session)
# gets only what is published after it
stop_daemon || fail "coldchaind exited non-zero on SIGTERM"
t_restart=$(($(date +%s%N)))
: >"$DAEMON_LOG"
start_daemon
wait_for "mqtt connected again" daemon_mqtt_connected || die "coldchaind did not connect again"
check "the session was resumed" grep -q 'session resumed' "$DAEMON_LOG"
mqtt_pub lab/after/num 1
after_is() {
	[ "$(influx_scalar "SELECT last(\"accepted\") FROM coldchaind_mqtt WHERE \"subscription\"='$S' AND time > $t_restart")" = 1 ]
}
check "the message published after the restart arrives" wait_for "accepted after the restart" after_is
expect_eq "nothing came again after the restart (received)" \
	"$(influx_scalar "SELECT last(\"received\") FROM coldchaind_mqtt WHERE \"subscription\"='$S' AND time > $t_restart")" 1
check "coldchaind still running" pid_alive "$DAEMON_PID"
finish
