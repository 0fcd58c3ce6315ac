#!/bin/bash
# `coldchainctl mqtt watch` against Debian's mosquitto with mosquitto_pub as
# the publisher: for each message it shows the subscription and channel the
# configuration maps it to and the value (with the room role), or exactly why
# the daemon would refuse it (parse_error, wrong_type, no subscription),
# using the daemon's own matching and decoding.  The messages are retained,
# so the watcher receives them when it subscribes: no race, no sleep.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$CTL"
start_mosquitto
cat >"$DAEMON_CONF" <<CONF
site = "itest";
state_dir = "$T/state";
outputs = { file = ( { name = "f"; path = "$T/out.lp"; } ); };
rooms = ( { name = "A"; temperature = "th-a1/temperature"; } );
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-daemon"; };
  subscriptions = (
    { topic = "sensors/{room}/{sensor}/temperature"; quantity = "temperature"; unit = "C"; },
    { topic = "trucks/{sensor}/telemetry"; format = "json"; fields = { temperature = "temp"; humidity = "env.rh"; }; }
  );
};
CONF
pub() { mqtt_pub "$1" "$2" -r; }
pub sensors/A/th-a1/temperature "4.5"
pub sensors/A/th-a2/temperature "warm"
pub trucks/t1/telemetry '{"temp": 3.0, "env": {"rh": 91}}'
pub trucks/t2/telemetry '{"temp": 3.0'
pub other/topic "1"

timeout 60 "$CTL" mqtt watch '#' -c "$DAEMON_CONF" --count 5 --json >"$T/watch.json" 2>"$T/watch.err"
expect_eq "mqtt watch --count 5 exit status" "$?" 0
line() { grep -F "\"topic\":\"$1\"" "$T/watch.json" | json_eval "$2"; }
expect_eq "number: subscription" "$(line sensors/A/th-a1/temperature 'd["subscription"]')" "sensors/{room}/{sensor}/temperature"
expect_eq "number: channel" "$(line sensors/A/th-a1/temperature 'd["samples"][0]["channel"]')" "th-a1/temperature"
expect_num "number: value" "$(line sensors/A/th-a1/temperature 'd["samples"][0]["value"]')" 4.5
expect_eq "number: the room role it feeds" "$(line sensors/A/th-a1/temperature 'd["samples"][0]["role"]')" "room A temperature"
expect_eq "not a number: reason" "$(line sensors/A/th-a2/temperature 'd["reason"]')" "wrong_type"
expect_eq "not a number: accepted" "$(line sensors/A/th-a2/temperature 'd["accepted"]')" False
expect_eq "json: two channels" "$(line trucks/t1/telemetry '",".join(sorted(s["channel"] for s in d["samples"]))')" "t1/humidity,t1/temperature"
expect_num "json: humidity value" "$(line trucks/t1/telemetry '[s["value"] for s in d["samples"] if s["channel"] == "t1/humidity"][0]')" 91
expect_eq "truncated json: reason" "$(line trucks/t2/telemetry 'd["reason"]')" "parse_error"
expect_eq "unmatched topic: reason" "$(line other/topic 'd["reason"]')" "no_subscription"

# the human form says the same in words
timeout 60 "$CTL" mqtt watch 'sensors/#' -c "$DAEMON_CONF" --count 2 >"$T/watch.txt" 2>&1
expect_eq "mqtt watch (text) exit status" "$?" 0
check "text: mapping shown" grep -q -- "-> sensors/{room}/{sensor}/temperature: channel th-a1/temperature (temperature, C) = 4.5 good; room A temperature" "$T/watch.txt"
check "text: rejection shown" grep -q "REJECTED wrong_type" "$T/watch.txt"

# a broker that is not there: exit 3
sed -i "s/port = $MQTT_PORT;/port = $(free_port);/" "$DAEMON_CONF"
timeout 60 "$CTL" mqtt watch '#' -c "$DAEMON_CONF" --count 1 >/dev/null 2>"$T/nobroker.err"
expect_eq "no broker: exit status" "$?" 3
finish
