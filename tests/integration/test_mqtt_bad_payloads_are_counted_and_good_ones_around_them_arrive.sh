#!/bin/bash
# A corpus of bad payloads (garbage, truncated JSON, wrong types, NaN/Inf,
# a huge payload, invalid UTF-8, timestamps far in the future and past, an
# empty capture): none crashes or blocks the daemon, each is counted by
# reason in coldchaind_mqtt and logged with a safe excerpt, and every good
# message published between them arrives.
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
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-bad"; };
  max_future = "1h";
  max_age = "7d";
  subscriptions = (
    { topic = "lab/{sensor}/json"; format = "json"; time = "ts"; time_unit = "ms"; room = "L";
      fields = { temperature = "v"; }; max_payload = 4096; },
    { topic = "lab/{sensor}/num"; quantity = "humidity"; room = "L"; }
  );
};
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

now_ms=$(($(date +%s) * 1000))
good=0
pub_good() {
	good=$((good + 1))
	mqtt_pub lab/good/json "{\"v\": $good, \"ts\": $((now_ms - 100000 + good))}"
}
pub_bad_file() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "$1" -f "$2"; }

pub_good
mqtt_pub lab/x/json 'garbage <html>'
pub_good
mqtt_pub lab/x/json '{"v": 4'
pub_good
mqtt_pub lab/x/json "{\"v\": {\"deep\": 1}, \"ts\": $now_ms}"
pub_good
mqtt_pub lab/x/json "{\"v\": \"NaN\", \"ts\": $now_ms}"
pub_good
mqtt_pub lab/x/json "{\"v\": 1e999, \"ts\": $now_ms}"
pub_good
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/huge"
pub_bad_file lab/x/json "$T/huge"
pub_good
printf '{"v": 1, "ts": %s, "s": "\xc3\x28\xff"}' "$now_ms" >"$T/utf8"
pub_bad_file lab/x/json "$T/utf8"
pub_good
mqtt_pub lab/x/json "{\"v\": 1, \"ts\": $((now_ms + 86400000))}"
pub_good
mqtt_pub lab/x/json "{\"v\": 1, \"ts\": $((now_ms - 30 * 86400000))}"
pub_good
mqtt_pub lab/x/json '{"v": 1, "ts": "yesterday"}'
pub_good
mqtt_pub lab//json "{\"v\": 1, \"ts\": $now_ms}"
pub_good
mqtt_pub lab/x/num '12,5'
mqtt_pub lab/x/num 'inf'
mqtt_pub lab/x/num ''
pub_good
mqtt_pub lab/good/num '91.5'

has_good() { [ "$(influx_count "SELECT count(value) FROM temperature WHERE sensor='good'")" = "$good" ]; }
if wait_for "all $good good messages" has_good; then
	pass "all $good good messages between the bad ones arrived"
else
	fail "good messages: $(influx_count "SELECT count(value) FROM temperature WHERE sensor='good'") of $good"
fi
n=$(influx_count "SELECT count(value) FROM temperature WHERE sensor='x'")
expect_eq "no bad payload became a reading" "$n" 0
check "the number subscription still works" wait_for "humidity" influx_has "SELECT value FROM humidity WHERE sensor='good' AND value = 91.5"

# expect_counter SUBSCRIPTION FIELD VALUE
stat_is() {
	[ "$(influx_scalar "SELECT last(\"$2\") FROM coldchaind_mqtt WHERE \"subscription\"='$1'")" = "$3" ]
}
expect_counter() {
	if wait_for "$1 $2 = $3" stat_is "$1" "$2" "$3"; then
		pass "coldchaind_mqtt $1: $2 = $3"
	else
		fail "coldchaind_mqtt $1: $2 = '$(influx_scalar "SELECT last(\"$2\") FROM coldchaind_mqtt WHERE \"subscription\"='$1'")', expected $3"
	fi
}
J='lab/{sensor}/json'
N='lab/{sensor}/num'
expect_counter "$J" received $((good + 11))
expect_counter "$J" accepted "$good"
expect_counter "$J" rejected 11
expect_counter "$J" parse_error 2
expect_counter "$J" wrong_type 1
expect_counter "$J" not_finite 2
expect_counter "$J" too_large 1
expect_counter "$J" bad_utf8 1
expect_counter "$J" time_skew 2
expect_counter "$J" bad_time 1
expect_counter "$J" bad_topic 1
expect_counter "$N" rejected 3
expect_counter "$N" accepted 1
check "refusals are logged with topic and a safe excerpt" grep -q 'topic lab/x/json: refused parse_error.*payload "garbage <html>"' "$DAEMON_LOG"
if grep -a 'refused' "$DAEMON_LOG" | LC_ALL=C grep -q -P '[^\x20-\x7e]'; then
	fail "a refusal log line holds non-printable bytes"
else
	pass "refusal log lines are printable ASCII"
fi
check "coldchaind still running" pid_alive "$DAEMON_PID"
finish
