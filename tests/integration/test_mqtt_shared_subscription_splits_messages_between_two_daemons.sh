#!/bin/bash
# MQTT 5 shared subscription: two coldchaind instances in one $share group
# split a sensor fleet: N messages become exactly N points in total, and
# both instances took some.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

STATS_INTERVAL=1s
start_influxd
start_mosquitto
share_conf() { # NAME
	SITE=site-$1 config_head | sed "s|state\";|state-$1\";|"
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-$1"; };
  subscriptions = (
    { topic = "\$share/coldchaind/fleet/{room}/{sensor}"; format = "json"; time = "ts"; time_unit = "ms";
      fields = { temperature = "v"; }; }
  );
};
CONF
	config_outputs
}
share_conf a >"$T/a.conf"
share_conf b >"$T/b.conf"
mkdir -p "$T/state-a" "$T/state-b"
"$COLDCHAIND" -n -c "$T/a.conf" >/dev/null || die "config a rejected"
start_bg coldchaind-a "$T/a.log" "$COLDCHAIND" -c "$T/a.conf"
PA=$LAST_PID
start_bg coldchaind-b "$T/b.log" "$COLDCHAIND" -c "$T/b.conf"
PB=$LAST_PID
conn() { grep -q "connected as" "$1"; }
wait_for "a connected" conn "$T/a.log" || die "instance a did not connect"
wait_for "b connected" conn "$T/b.log" || die "instance b did not connect"

N=200
base=$((($(date +%s) - 300) * 1000))
for ((i = 1; i <= N; i++)); do
	echo "{\"v\": $i, \"ts\": $((base + i))}"
done | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t fleet/F/truck-1 -l ||
	fail "mosquitto_pub failed"
total() { influx_count "SELECT count(value) FROM temperature WHERE room='F'"; }
has_all() { [ "$(total)" = "$N" ]; }
if wait_for "$N points" has_all; then
	pass "shared subscription: $N messages became exactly $N points"
else
	fail "shared subscription: $(total) points for $N messages"
fi
sleep 3 # a late duplicate would show up here
expect_eq "no duplicates after settling" "$(total)" "$N"
# Each instance's share, from its own self-metrics (site tag differs).
share_of() {
	local v
	v=$(influx_scalar "SELECT last(samples) FROM coldchaind_mqtt WHERE site='site-$1' AND samples > 0")
	echo "${v:-0}"
}
got_stats() { [ $(($(share_of a) + $(share_of b))) -eq "$N" ]; }
wait_for "self-metrics of both instances" got_stats
a=$(share_of a)
b=$(share_of b)
expect_eq "samples of instance a + instance b" "$((a + b))" "$N"
if [ "$a" -gt 0 ] && [ "$b" -gt 0 ]; then
	pass "both instances received some ($a and $b)"
else
	fail "one instance received nothing ($a and $b)"
fi
stop_pid "$PA" 30 || fail "instance a exit status on SIGTERM"
stop_pid "$PB" 30 || fail "instance b exit status on SIGTERM"
finish
