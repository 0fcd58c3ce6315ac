#!/bin/bash
# Alert outputs end to end: the Modbus simulator drives room A above its
# warn limit; once the 4 s on-delay has passed (not before) the temp_high
# raise appears in InfluxDB, on MQTT (mosquitto_sub as the peer: the retained
# state topic and the event topic), and at two webhooks: one whose receiver
# is only started after the alarm was raised (it still gets the event,
# exactly once), and one that answers 500 first (the event is retried).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
command -v mosquitto_sub >/dev/null || die "mosquitto_sub missing (apt-get install mosquitto-clients)"

map() { printf '1 input 0 int16 ABCD %s\n1 input 1 int16 ABCD 920\n' "$1" >"$T/sim.map"; }
map 40
start_influxd
start_mosquitto
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
RECV=$(dirname "$0")/webhook_receiver.py
LATE_PORT=$(free_port)
start_bg flaky-hook "$T/flaky.log" "$PY" "$RECV" --port-file "$T/flaky.port" --out "$T/flaky.out" --fail-first 1
wait_for "flaky receiver" test -s "$T/flaky.port" || die "webhook receiver did not start"
FLAKY_PORT=$(cat "$T/flaky.port")

{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "4s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature"; humidity = "th-a1/humidity";
  lots = ( { id = "LOT-1"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; } ); } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "500ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; },
                 { channel = "humidity"; table = "input"; address = 1; type = "int16"; scale = 0.1; unit = "%"; } ); } ); }
);
outputs = {
  influxdb = ( { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; flush = "200ms"; } );
  webhook = (
    { name = "late"; url = "http://127.0.0.1:$LATE_PORT/hook?src=itest"; backoff_max = "2s";
      headers = { X-Source = "coldchaind-itest"; }; },
    { name = "flaky"; url = "http://127.0.0.1:$FLAKY_PORT/hook"; backoff_max = "2s"; }
  );
  alerts_mqtt = { prefix = "itest/alerts"; broker = { host = "127.0.0.1"; port = $MQTT_PORT; }; };
};
CONF
} >"$DAEMON_CONF"

# the peer: subscribed before anything is raised (the event topic is not retained)
start_bg mosquitto_sub "$T/sub.err" bash -c "exec mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -q 1 -v -i itest-peer \
	-t 'itest/alerts/#' >'$T/sub.out'"
wait_for "peer connected" file_has "itest-peer" "$MQTT_LOG" || die "mosquitto_sub did not connect"
start_daemon

map 80
kill -HUP "$SIM_PID"
INFLUX_EPOCH=ms
wait_for "a reading of 8 C" influx_has "SELECT value FROM temperature WHERE sensor='th-a1' AND value > 7.9" ||
	die "the simulator did not serve the new value"
t_hot=$(influx_query "SELECT first(value) FROM temperature WHERE sensor='th-a1' AND value > 7.9" |
	json_eval 'd["results"][0]["series"][0]["values"][0][0]')

# --- MQTT event topic
ev_line() { grep -m1 '^itest/alerts/events .*"id":"A/temp_high".*"event":"raise"' "$T/sub.out"; }
if wait_for "raise on itest/alerts/events" -t 60 ev_line; then
	ev=$(ev_line | cut -d' ' -f2-)
	t_ev=$(json_eval 'int(round(d["time_ns"] / 1e6))' <<<"$ev")
	if [ $((t_ev - t_hot)) -ge 3999 ]; then # both in ms, truncated: at most 1 ms apart
		pass "MQTT event raised $((t_ev - t_hot)) ms after the first reading above 7 C: not before the on-delay"
	else
		fail "MQTT event raised $((t_ev - t_hot)) ms after the first hot reading: before the 4 s on-delay"
	fi
	expect_eq "event state" active "$(json_eval 'd["state"]' <<<"$ev")"
	expect_eq "time_ns is an exact integer (not a float)" True "$(json_eval 'isinstance(d["time_ns"], int)' <<<"$ev")"
	expect_eq "event severity" warning "$(json_eval 'd["severity"]' <<<"$ev")"
else
	fail "no raise event on itest/alerts/events"
	show_log "$DAEMON_LOG"
fi

# --- MQTT retained state: a new subscriber gets it at once
state=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -C 1 -W 20 -t 'itest/alerts/state/A/A%2Ftemp_high' 2>&1)
expect_eq "retained state topic itest/alerts/state/A/A%2Ftemp_high: state" active \
	"$(json_eval 'd["state"]' <<<"$state" 2>/dev/null)"

# --- InfluxDB, not before the on-delay
W="WHERE room='A' AND rule='temp_high'"
if wait_for "temp_high raise in InfluxDB" -t 60 influx_has "SELECT state FROM alert $W AND event='raise'"; then
	t_raise=$(influx_query "SELECT state FROM alert $W AND event='raise'" |
		json_eval 'd["results"][0]["series"][0]["values"][0][0]')
	if [ $((t_raise - t_hot)) -ge 4000 ]; then
		pass "InfluxDB alert raised $((t_raise - t_hot)) ms after the first hot reading: not before the on-delay"
	else
		fail "InfluxDB alert raised $((t_raise - t_hot)) ms after the first hot reading: before the on-delay"
	fi
else
	fail "no temp_high raise in InfluxDB"
fi

# --- the flaky webhook (500 first) gets it after a retry
hook_has() { [ -f "$1" ] && grep -q '"id":"A/temp_high".*"event":"raise"' "$1"; }
if wait_for "flaky webhook got the raise" -t 60 hook_has "$T/flaky.out"; then
	reqs=$(wc -l <"$T/flaky.out.requests")
	if [ "$reqs" -ge 2 ]; then
		pass "webhook answering 500 first got the event after a retry ($reqs requests)"
	else
		fail "webhook: $reqs requests, expected a 500 then a retry"
	fi
	grep -q 'application/json' "$T/flaky.out.requests" && pass "webhook Content-Type application/json" ||
		fail "webhook Content-Type: $(head -1 "$T/flaky.out.requests")"
else
	fail "the flaky webhook never got the raise"
	show_log "$DAEMON_LOG"
fi

# --- the late webhook: its receiver starts only now, after the raise
start_bg late-hook "$T/late.log" "$PY" "$RECV" --port "$LATE_PORT" --port-file "$T/late.port" --out "$T/late.out"
if wait_for "late webhook got the raise" -t 60 hook_has "$T/late.out"; then
	pass "webhook down at first still gets the raise once its receiver is up"
else
	fail "the late webhook never got the raise"
	show_log "$DAEMON_LOG"
fi

stop_daemon && pass "SIGTERM: exit 0" || fail "SIGTERM: exit status $?"
n=$(grep -c '"id":"A/temp_high".*"event":"raise"' "$T/late.out" 2>/dev/null)
expect_eq "raise events delivered to the late webhook" 1 "$n"
n=$(grep -c '"id":"A/temp_high".*"event":"raise"' "$T/flaky.out" 2>/dev/null)
expect_eq "raise events delivered to the flaky webhook" 1 "$n"
finish
