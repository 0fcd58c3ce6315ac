#!/bin/bash
# Issue 12 item 5, end to end: an ESP32 flushes hours of buffered readings
# with their own timestamps over MQTT (mosquitto_pub -l: the peer).  An
# excursion that raised and cleared hours ago is recorded once, as one
# 'historical' alert line with late=true and both times, and reaches no one
# (MQTT alert topic, webhook); a backlog that ends inside an excursion is
# announced once, normally, when it reaches the present; nothing is
# re-notified, escalated or declared stale while the backlog arrives.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto_sub >/dev/null || die "mosquitto_sub missing (apt-get install mosquitto-clients)"

start_mosquitto
RECV=$(dirname "$0")/webhook_receiver.py
start_bg hook "$T/hook.log" "$PY" "$RECV" --port-file "$T/hook.port" --out "$T/hook.out"
wait_for "webhook receiver" test -s "$T/hook.port" || die "webhook receiver did not start"
HOOK_PORT=$(cat "$T/hook.port")
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "15m"; }; } );
rooms = ( { name = "A"; profile = "lychee"; temperature = "th-a1/temperature"; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; stale_after = "10m"; renotify = "1m"; escalate = "2m"; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-backlog"; };
  subscriptions = (
    { topic = "esp/{sensor}/state"; format = "json"; time = "ts"; time_unit = "ms"; room = "A";
      fields = { temperature = "t"; }; qos = 1; }
  );
};
outputs = {
  file = ( { path = "$T/points.lp"; } );
  webhook = ( { name = "hook"; url = "http://127.0.0.1:$HOOK_PORT/hook"; backoff_max = "2s"; } );
  alerts_mqtt = { prefix = "itest/alerts"; broker = { host = "127.0.0.1"; port = $MQTT_PORT; }; };
};
CONF
} >"$DAEMON_CONF"
start_bg mosquitto_sub "$T/sub.err" bash -c "exec mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -q 1 -v -i itest-peer \
	-t 'itest/alerts/events' >'$T/sub.out'"
wait_for "peer connected" file_has "itest-peer" "$MQTT_LOG" || die "mosquitto_sub did not connect"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

now=$(date +%s%3N)
min=60000
# 4 h ago to 2 h ago, a reading a minute: 5 C, and 40 min at 11 C an hour in
for ((m = 0; m <= 120; m++)); do
	v=5.0
	((m >= 60 && m < 100)) && v=11.0
	echo "{\"t\": $v, \"ts\": $((now - 240 * min + m * min))}"
done >"$T/backlog1"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t esp/th-a1/state -l <"$T/backlog1"
hist() { grep -c '^alert,.*rule=temp_high,.*event="historical"' "$T/points.lp" 2>/dev/null; }
if wait_for "the historical record" -t 60 bash -c "[ \$(grep -c '^alert,.*rule=temp_high,.*event=\"historical\"' '$T/points.lp' 2>/dev/null) -ge 1 ]"; then
	line=$(grep '^alert,.*rule=temp_high,.*event="historical"' "$T/points.lp")
	expect_eq "historical alert lines of temp_high" "$(hist)" 1
	case "$line" in *late=true*) pass "the historical record carries late=true" ;; *) fail "no late=true: $line" ;; esac
	raised=$(sed -n 's/.*raised_ns=\([0-9]*\)i.*/\1/p' <<<"$line")
	cleared=$(sed -n 's/.*cleared_ns=\([0-9]*\)i.*/\1/p' <<<"$line")
	# raised when the 15 min on-delay passed (75 min in), cleared at 100 min
	expect_eq "raise time (ms)" "$((raised / 1000000))" $((now - 240 * min + 75 * min))
	expect_eq "clear time (ms)" "$((cleared / 1000000))" $((now - 240 * min + 100 * min))
else
	fail "no historical alert record for the past excursion"
	show_log "$DAEMON_LOG"
fi

# 2 h ago to now: 5 C, then 11 C for the last 30 min, up to the present
now2=$(date +%s%3N)
for ((m = 119; m >= 0; m--)); do
	v=5.0
	((m < 30)) && v=11.0
	echo "{\"t\": $v, \"ts\": $((now2 - m * min))}"
done >"$T/backlog2"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t esp/th-a1/state -l <"$T/backlog2"
raise_ev() { grep -q '"id":"A/temp_high".*"event":"raise"' "$T/sub.out"; }
if wait_for "the raise on the event topic" -t 60 raise_ev; then
	pass "a backlog ending inside an excursion announces it"
else
	fail "no raise for the excursion still active at the newest reading"
	show_log "$DAEMON_LOG"
fi
hook_raise() { grep -q '"id":"A/temp_high".*"event":"raise"' "$T/hook.out" 2>/dev/null; }
wait_for "the raise at the webhook" -t 60 hook_raise || fail "the webhook never got the raise"
# events are delivered in journal order: everything before the raise is in by now
expect_eq "A/temp_high raises on the MQTT event topic" "$(grep -c '"id":"A/temp_high".*"event":"raise"' "$T/sub.out")" 1
expect_eq "the raise says its time lies in the past (late)" "$(grep -c '"id":"A/temp_high".*"event":"raise".*"late":true' "$T/sub.out")" 1
expect_eq "events on the MQTT event topic (the one raise only)" "$(grep -c . "$T/sub.out")" 1
expect_eq "events at the webhook (the one raise only)" "$(grep -c '"event"' "$T/hook.out")" 1
expect_eq "renotify/escalate/stale/historical events notified" \
	"$(grep -cE '"event":"(renotify|escalate|historical)"|:stale"' "$T/sub.out")" 0
expect_eq "alert lines recorded in all (historical + raise)" "$(grep -c '^alert,' "$T/points.lp")" 2
stop_daemon && pass "SIGTERM: exit 0" || fail "SIGTERM: exit status $?"
finish
