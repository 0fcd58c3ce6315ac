#!/bin/bash
# An MQTT 5 broker may cap the keepalive (mosquitto's max_keepalive): its
# CONNACK's Server Keep Alive then replaces the client's (MQTT 5
# 3.2.2.3.14).  coldchaind asks for 60 s, the broker allows 10 s (its minimum): the daemon
# says so, pings within 10 s, and over twenty of its stats intervals with no
# message the broker never times it out; a message then still arrives on
# the same connection.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

STATS_INTERVAL=1s
start_influxd
start_mosquitto 'max_keepalive 10'
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-ka"; keepalive = "60s"; };
  subscriptions = ( { topic = "lab/{sensor}/num"; quantity = "temperature"; room = "L"; } );
};
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
check "the broker's keepalive is taken and logged" grep -q 'the broker sets the keepalive to 10 s' "$DAEMON_LOG"
t0=$(date +%s%N)
stats_since() { [ "$(influx_count "SELECT count(\"connected\") FROM coldchaind_mqtt WHERE time > $t0")" -ge 20 ]; }
check "twenty stats intervals (1.5 keepalives and more) pass idle" wait_for "20 stats points" -t 60 stats_since
expect_eq "one connection all along" "$(grep -c 'mqtt broker .*: connected as' "$DAEMON_LOG")" 1
if grep -q 'exceeded timeout' "$MQTT_LOG"; then
	fail "the broker timed the client out: $(grep 'exceeded timeout' "$MQTT_LOG" | head -n 1)"
else
	pass "the broker never timed the client out"
fi
mqtt_pub lab/ka/num 4.5
check "a message after the idle spell arrives" wait_for "the reading" influx_has "SELECT value FROM temperature WHERE sensor='ka' AND value = 4.5"
check "coldchaind still running" pid_alive "$DAEMON_PID"
finish
