#!/bin/bash
# Every MQTT payload format (number, json, influx, bool) and every capture
# style, published with mosquitto_pub to a real mosquitto, lands in a real
# InfluxDB with the right measurement, tags, value and timestamp; an
# impossible value lands as quality="out_of_range"; self-metrics count it.
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
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-formats"; };
  subscriptions = (
    { topic = "sensors/{room}/{sensor}/temperature"; quantity = "temperature"; unit = "C";
      min = -40.0; max = 60.0; },
    { topic = "esp32/{sensor}/state"; format = "json"; room = "B"; time = "ts";
      fields = { temperature = { path = "t"; unit = "C"; };
                 humidity = { path = "env.rh"; unit = "%"; }; }; },
    { topic = "zigbee2mqtt/{sensor}"; format = "json"; room = "C";
      fields = { door = { path = "contact"; scale = -1.0; offset = 1.0; };
                 battery = { path = "battery"; unit = "%"; }; }; },
    { topic = "tele/{sensor}/SENSOR"; format = "json"; room = "D";
      fields = { temperature = { path = "AM2301.Temperature"; unit = "C"; };
                 humidity = { path = "AM2301.Humidity"; unit = "%"; }; }; },
    { topic = "site/{site}/{room}/#"; format = "influx"; },
    { topic = "doors/{room}/{sensor}"; format = "bool"; quantity = "door"; },
    { topic = "plant/{sensor}/{quantity}"; room = "E"; scale = 0.1; }
  );
};
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"

now=$(date +%s)
ts_s=$((now - 120))
ts_ns=$(((now - 60) * 1000000000 + 123456789))
mqtt_pub sensors/A/th-1/temperature 3.5
mqtt_pub sensors/A/th-1/temperature " -200 "
mqtt_pub esp32/esp-7/state "{\"t\": 4.25, \"env\": {\"rh\": 92.5}, \"ts\": $ts_s}"
mqtt_pub zigbee2mqtt/door-z1 '{"contact": true, "battery": 87, "linkquality": 120}'
mqtt_pub tele/tasmota-3/SENSOR '{"Time":"2026-06-12T08:00:00","AM2301":{"Temperature":2.8,"Humidity":94.0},"TempUnit":"C"}'
mqtt_pub site/farm-2/R9/lp "temperature,sensor=lp-1 value=2.5 $ts_ns
env,sensor=lp-2 humidity=91i,co2=850"
mqtt_pub doors/A/door-1 OPEN
mqtt_pub doors/B/door-2 closed
mqtt_pub plant/ctl-9/co2 8500

INFLUX_EPOCH=ns
# expect_point DESC QUERY EXPECTED_VALUE: waits for the row, compares value.
expect_point() {
	local v
	if ! wait_for "$1" influx_has "$2"; then
		fail "$1: no row for: $2"
		return
	fi
	v=$(influx_query "$2" | influx_rows | head -n 1 | cut -f4)
	expect_num "$1" "$v" "$3"
}
expect_point "number, captures {room}/{sensor}" \
	"SELECT value FROM temperature WHERE site='itest' AND room='A' AND sensor='th-1' AND channel='temperature' AND unit='C'" 3.5
expect_point "number out of range is quality out_of_range with raw" \
	"SELECT raw FROM temperature WHERE sensor='th-1' AND quality='out_of_range'" -200
n=$(influx_count "SELECT count(value) FROM temperature WHERE sensor='th-1'")
expect_eq "the out-of-range value is not a reading" "$n" 1
expect_point "json ESP32 temperature" \
	"SELECT value FROM temperature WHERE room='B' AND sensor='esp-7' AND channel='temperature' AND unit='C'" 4.25
expect_point "json ESP32 nested path env.rh" \
	"SELECT value FROM humidity WHERE room='B' AND sensor='esp-7' AND channel='humidity' AND unit='%'" 92.5
t=$(influx_timestamps "SELECT value FROM humidity WHERE sensor='esp-7'")
expect_eq "json ESP32 timestamp from field ts (epoch s)" "$t" "$((ts_s * 1000000000))"
expect_point "json Zigbee2MQTT contact true = door closed (scale -1, offset 1)" \
	"SELECT value FROM door WHERE room='C' AND sensor='door-z1' AND channel='door'" 0
expect_point "json Zigbee2MQTT battery" "SELECT value FROM battery WHERE sensor='door-z1'" 87
expect_point "json Tasmota AM2301.Temperature" \
	"SELECT value FROM temperature WHERE room='D' AND sensor='tasmota-3'" 2.8
expect_point "json Tasmota AM2301.Humidity" "SELECT value FROM humidity WHERE room='D' AND sensor='tasmota-3'" 94
expect_point "influx line: measurement, {site}/{room} captures, sensor tag" \
	"SELECT value FROM temperature WHERE site='farm-2' AND room='R9' AND sensor='lp-1' AND channel='temperature'" 2.5
t=$(influx_timestamps "SELECT value FROM temperature WHERE sensor='lp-1'")
expect_eq "influx line keeps its ns timestamp" "$t" "$ts_ns"
expect_point "influx line: field humidity (integer) is a quantity" \
	"SELECT value FROM humidity WHERE site='farm-2' AND sensor='lp-2' AND channel='humidity'" 91
expect_point "influx line: second field co2" "SELECT value FROM co2 WHERE sensor='lp-2'" 850
expect_point "bool OPEN = 1" "SELECT value FROM door WHERE room='A' AND sensor='door-1' AND channel='door'" 1
expect_point "bool closed = 0" "SELECT value FROM door WHERE room='B' AND sensor='door-2'" 0
expect_point "{quantity} capture names the measurement, scale applied" \
	"SELECT value FROM co2 WHERE room='E' AND sensor='ctl-9' AND channel='co2'" 850

# Self-metrics: one line per subscription, counters as integers.
check "coldchaind_mqtt counts the out-of-range sample of sensors/{room}/{sensor}/temperature" \
	wait_for "mqtt stats" influx_has \
	"SELECT out_of_range FROM coldchaind_mqtt WHERE \"subscription\"='sensors/{room}/{sensor}/temperature' AND received = 2 AND accepted = 2 AND out_of_range = 1"
check "coldchaind_mqtt reports the connection" wait_for "connected" influx_has \
	"SELECT connected FROM coldchaind_mqtt WHERE broker='127.0.0.1:$MQTT_PORT' AND connected = true"
finish
