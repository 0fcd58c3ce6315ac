#!/bin/bash
# A SIGHUP reload keeps the MQTT connection (drivers/mqtt.h: mqtt_pause,
# mqtt_same_connection, mqtt_resume; issue 18 target 2, "no sample lost").
# A stream of QoS 0 messages (what Tasmota and Zigbee2MQTT send by
# default: a broker keeps none of them for a client that is away) flows
# through Debian's mosquitto while the daemon reloads a configuration
# that adds one subscription and drops another:
#   - every message of the stream is stored, and received once (a
#     reconnect lost those sent while it was away: ~600 here);
#   - the daemon connected once: the log says the connection was kept;
#   - the retained message of an unchanged subscription is not sent again
#     (a re-SUBSCRIBE makes the broker resend it: a second point);
#   - the dropped filter is unsubscribed (UNSUBACK logged), after which the
#     broker sends nothing of it (coldchaind_mqtt unmatched stays 0); the
#     added one is subscribed and its messages are stored;
#   - the kept subscription's counters go on across the reload;
# and a reload that changes a connection setting (the keepalive)
# reconnects, and messages flow after it.  Both protocol versions (v5's
# UNSUBACK carries a reason code per filter, 3.1.1's none).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null || skip "mosquitto not installed"

POINTS=$T/points.lp
STATS_INTERVAL=1s
# no limit on what the broker holds for a client behind: a QoS 0 message
# to a connected client that is 100,000 behind (the default here) is
# dropped by mosquitto, and this stream is as fast as it goes
start_mosquitto "max_queued_messages 0"

# write_config FILE PROTOCOL KEEPALIVE SECOND: SECOND "dropped" or "added":
# the subscription besides the kept one; written atomically.
write_config() {
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-reload-$2"; protocol = "$2"; keepalive = "$3"; };
  subscriptions = (
    { topic = "kept/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 0; },
    { topic = "$4/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 0; }
  );
};
outputs = { file = ( { name = "archive"; path = "$POINTS"; } ); };
CONF
	} >"$1.tmp" && mv "$1.tmp" "$1"
}

# values SENSOR: the values stored for SENSOR, one per line
values() { grep "^temperature,.*sensor=$1[,\ ]" "$POINTS" 2>/dev/null | grep -o ' value=[^ ]*' | cut -d= -f2; }
nvalues() { values "$1" | wc -l; }
at_least() { [ "$(nvalues "$1")" -ge "$2" ]; }
# sub_received FILTER: the last `received` of that subscription's self-metrics
sub_received() {
	grep "^coldchaind_mqtt,.*subscription=$1" "$POINTS" 2>/dev/null | tail -n 1 | grep -o ' received=[0-9]*' |
		cut -d= -f2
}
received_is() { [ "$(sub_received "$1")" = "$2" ]; }
reloaded() { [ "$(grep -c 'configuration reloaded' "$DAEMON_LOG")" -ge "$1" ]; }
# a self-metrics line written after this moment (stats_interval 1 s)
stats_after() { [ "$(mqtt_self_lines "$POINTS" | wc -l)" -gt "$1" ]; }

for proto in 5 3.1.1; do
	: >"$POINTS"
	rm -rf "$T/state"
	DAEMON_LOG=$T/coldchaind-$proto.log
	write_config "$DAEMON_CONF" "$proto" 30s dropped
	# retained before the daemon subscribes: it arrives once, at the subscription
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -r -t kept/r1/temperature -m 42.5 ||
		die "mosquitto_pub failed"
	start_daemon_mqtt
	wait_for "the retained message" -t 20 at_least r1 1 || die "the retained message never arrived"

	# the stream: s1's values 1, 2, ... at QoS 0, as fast as mosquitto_pub
	# sends them (no gap a reconnect could fall into unseen: one lost ~600
	# of them), until $T/stop appears, right after the reload; the generator
	# writes how many it sent
	rm -f "$T/stop" "$T/sent"
	(
		i=0
		while [ ! -e "$T/stop" ]; do
			seq $((i + 1)) $((i + 500))
			i=$((i + 500))
		done
		echo "$i" >"$T/sent"
	) | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 0 -t kept/s1/temperature -l &
	gen=$!
	wait_for "the stream flowing" -t 30 at_least s1 500 || die "the stream does not arrive"

	write_config "$DAEMON_CONF" "$proto" 30s added
	kill -HUP "$DAEMON_PID"
	wait_for "the reload" -t 30 reloaded 1 || die "no 'configuration reloaded'"
	touch "$T/stop"
	wait "$gen"
	sent=$(cat "$T/sent")
	has_last() { values s1 | grep -qx "$sent"; }
	wait_for "the stream's last message" -t 30 has_last || true
	mqtt_pub kept/m1/temperature 1.5
	wait_for "the marker" -t 30 at_least m1 1 || die "the marker never arrived"
	# distinct values, and distinct lines: a value stored at two times was
	# received twice (the file output itself may write a batch a reload cut
	# short again: the same lines, as InfluxDB would overwrite them)
	expect_eq "MQTT $proto: QoS 0 messages sent across the reload: distinct values stored, distinct points, the last" \
		"$(values s1 | sort -u | wc -l) $(grep "^temperature,.*sensor=s1," "$POINTS" | sort -u | wc -l) $(values s1 | sort -n | tail -n 1)" \
		"$sent $sent $sent"
	expect_eq "MQTT $proto: connections made (the reload kept it)" "$(grep -c 'connected as' "$DAEMON_LOG")" 1
	check "MQTT $proto: the log says the connection was kept across the reload" \
		file_has 'connection kept across the reload:' "$DAEMON_LOG"
	expect_eq "MQTT $proto: points of the unchanged subscription's retained message (not sent again)" "$(nvalues r1)" 1

	wait_for "the UNSUBACK" -t 20 file_has 'unsubscribed from dropped/+/temperature' "$DAEMON_LOG" ||
		die "the dropped filter was not unsubscribed"
	mqtt_pub dropped/d1/temperature 7.5
	mqtt_pub added/a1/temperature 8.5
	mqtt_pub kept/m2/temperature 2.5
	wait_for "the added subscription's message" -t 30 at_least a1 1 || die "the added subscription got nothing"
	wait_for "the second marker" -t 30 at_least m2 1 || die "the second marker never arrived"
	n=$(mqtt_self_lines "$POINTS" | wc -l)
	wait_for "self-metrics after the markers" -t 20 stats_after "$n" || die "no self-metrics"
	expect_eq "MQTT $proto: the dropped filter's message after its UNSUBACK: unmatched, stored" \
		"$(mqtt_self_stat unmatched "$POINTS") $(nvalues d1)" "0 0"
	# retained + the stream + two markers, counted since the start: its
	# counters were carried over the reload, not started again at 0
	want=$((1 + sent + 2))
	wait_for "the kept subscription's counter" -t 20 received_is 'kept/{sensor}/temperature' "$want" ||
		true
	expect_eq "MQTT $proto: messages the kept subscription counted across the reload" \
		"$(sub_received 'kept/{sensor}/temperature')" "$want"

	# a connection setting changed: a new connection, and messages after it
	write_config "$DAEMON_CONF" "$proto" 40s added
	kill -HUP "$DAEMON_PID"
	wait_for "the second reload" -t 30 reloaded 2 || die "no second 'configuration reloaded'"
	wait_for "the reconnect" -t 30 daemon_mqtt_connected 2 || die "no reconnect after the keepalive changed"
	mqtt_pub kept/m3/temperature 3.5
	wait_for "a message after the reconnect" -t 30 at_least m3 1 || die "nothing after the reconnect"
	check "MQTT $proto: a changed keepalive reconnects (logged), and messages flow after it" \
		file_has 'the connection settings changed: reconnecting' "$DAEMON_LOG"
	stop_daemon
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -r -t kept/r1/temperature -n # clear the retained message
done
finish
