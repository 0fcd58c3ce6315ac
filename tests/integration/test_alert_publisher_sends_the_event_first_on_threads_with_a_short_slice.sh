#!/bin/bash
# The alarm's path (issue 18 target 5), against a real mosquitto: a hot
# reading published over MQTT raises room A's alarm, and the daemon's alert
# publisher sends the event on PREFIX/events before the retained
# PREFIX/state/ROOM/ID (the second of its two writes waits for the broker's
# ACK of the first: the event must not be the one that waits); the clear
# follows in the same order.  The alarm path's threads - the alert output's
# sender (out:alerts_mqtt) and the alert publisher's network thread
# (mqtt:alerts, started from the sender: it inherits the slice) - run with
# the short scheduler slice (daemon/thread.c), the
# readings' thread (mqtt) with the kernel's default (/proc/PID/task/*/sched).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto_sub >/dev/null || die "mosquitto_sub missing (apt-get install mosquitto-clients)"

start_mosquitto
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; alarm_high = 60.0; on_delay = "0s"; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature";
  lots = ( { id = "L1"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; } ); } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; off_delay = "0s"; on_delay = "0s"; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-order"; };
  subscriptions = ( { topic = "lat/{sensor}/temperature"; quantity = "temperature"; room = "A"; qos = 1; } );
};
outputs = { file = ( { path = "$T/points.lp"; } ); alerts_mqtt = { prefix = "itest/alerts"; broker = { host = "127.0.0.1"; port = $MQTT_PORT; }; }; };
CONF
} >"$DAEMON_CONF"

# the peer, subscribed to both topics before anything is raised
start_bg mosquitto_sub "$T/sub.err" bash -c "exec mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -q 1 -v -i itest-order \
	-t 'itest/alerts/#' >'$T/sub.out'"
wait_for "peer connected" file_has "itest-order" "$MQTT_LOG" || die "mosquitto_sub did not connect"
start_daemon
wait_for "daemon subscribed" daemon_mqtt_connected || die "coldchaind did not connect to the broker"

# Each event's two messages, in the order the peer got them: "events state".
order_of() { # EVENT
	grep '"id":"A/temp_high"' "$T/sub.out" | grep "\"event\":\"$1\"" |
		awk '{ sub("^itest/alerts/", "", $1); sub("/.*", "", $1); printf "%s%s", n++ ? " " : "", $1 }'
}
two_of() { [ "$(order_of "$1" | wc -w)" -ge 2 ]; }
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t lat/th-a1/temperature -m 9.5
wait_for "raise on both topics" -t 30 two_of raise || { show_log "$DAEMON_LOG"; die "no raise on both topics"; }
expect_eq "the raise's messages, in the order the peer got them" "$(order_of raise)" "events state"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t lat/th-a1/temperature -m 4.0
wait_for "clear on both topics" -t 30 two_of clear || { show_log "$DAEMON_LOG"; die "no clear on both topics"; }
expect_eq "the clear's messages, in the order the peer got them" "$(order_of clear)" "events state"

# the threads' slices (CONFIG_SCHED_DEBUG's /proc/PID/task/TID/sched)
slice_of() { # THREAD_NAME
	local d
	for d in /proc/"$DAEMON_PID"/task/*; do
		[ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] && awk '/^se.slice/ { print $3 }' "$d/sched" && return
	done
}
base=$(awk '/^se.slice/ { print $3 }' /proc/self/sched 2>/dev/null)
if [ -z "$base" ]; then
	echo "  note: no se.slice in /proc/self/sched (a kernel without CONFIG_SCHED_DEBUG or EEVDF): slices not checked"
elif ! "$BUILD_DIR/tests/test_thread" >/dev/null; then
	echo "  note: this kernel has no custom scheduler slices (test_thread): slices not checked"
else
	expect_eq "slice of the alert output's sender (out:alerts_mqtt), ns" "$(slice_of out:alerts_mqtt)" 100000
	expect_eq "slice of the alert publisher's network thread (mqtt:alerts), ns" "$(slice_of mqtt:alerts)" 100000
	r=$(slice_of mqtt)
	if [ -n "$r" ] && [ "$r" != 100000 ]; then
		pass "the readings' thread (mqtt) keeps the kernel's slice ($r ns)"
	else
		fail "the readings' thread (mqtt) has slice '$r' (expected the kernel's default, not 100000)"
	fi
fi
finish
