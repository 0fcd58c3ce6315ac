#!/bin/bash
# Interrupt moderation of a saturated QoS 0 stream (drivers/mqtt_moderate.c,
# issue 18 target 6): a window of QoS 0 messages only aims at what
# MOD_TURN_US (500 µs) brings at its rate, not at MOD_BURST_AIM (8): no
# broker holds QoS 0 back for acknowledgements, and a turn's poll, wake-up
# and journal record cost more than the ~16 messages a read brings unasked
# at 200,000 msg/s.  mqtt_pub_bench publishes flat out (QoS 0, half plain
# numbers, half JSON with two fields; the publisher of bench_mqtt_e2e.sh).
# From the self-metrics written every second (coldchaind_mqtt: messages,
# read_wakes), in the busiest second of the stream: the rate
# made the aim at least twice MOD_BURST_AIM (else this machine cannot show
# the difference), and a read brought at least half the aim (with the
# aim at MOD_BURST_AIM a read brought 36 at 267,000 msg/s, where half the
# aim is 67).  Every point is stored; the moderation was never held off (it
# did not slow the stream).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
PUB=$BUILD_DIR/bench/mqtt_pub_bench
need_bin "$PUB"

TURN_US=500 # MOD_TURN_US
AIM=8       # MOD_BURST_AIM
STATS_INTERVAL=1s
start_mosquitto
OUT=$T/points.lp
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-sat0"; };
  subscriptions = (
    { topic = "bench/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 0; },
    { topic = "benchj/{sensor}"; format = "json"; qos = 0;
      fields = { temperature = { path = "t"; unit = "C"; }; humidity = { path = "rh"; unit = "%"; }; }; }
  );
};
outputs = { file = ( { name = "f"; path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

# N messages: the odd ones JSON with two fields, the last one (odd) a number
N=600000
POINTS=$((N / 2 + (N / 2 - 1) * 2 + 1))
"$PUB" -p "$MQTT_PORT" -q 0 -n "$N" -w 1000 -i itest-sat0-pub >"$T/pub.txt" || fail "mqtt_pub_bench failed"
sed 's/^/  /' "$T/pub.txt"
stored() { grep -c -E '^(temperature|humidity),' "$OUT" 2>/dev/null; }
all_stored() { [ "$(stored)" -ge "$POINTS" ]; }
wait_for "$POINTS points" -t 120 all_stored || fail "only $(stored) of $POINTS points stored"
expect_num "points stored (N messages, half of them JSON with two fields)" "$(stored)" "$POINTS"
msgs_ge() { [ "$(mqtt_self_stat messages "$OUT")" -ge "$N" ] 2>/dev/null; }
wait_for "self-metrics counting the stream" -t 30 msgs_ge || fail "coldchaind_mqtt.messages < $N"

# the busiest second between two consecutive lines: its rate, messages a
# read, moderated polls; then the whole run's moderated and held counts
mqtt_self_lines "$OUT" | awk -v turn="$TURN_US" '
	function f(k,   m) { return match($0, "[ ,]" k "=[0-9]+") ? substr($0, RSTART + length(k) + 2, RLENGTH - length(k) - 2) + 0 : -1 }
	{ t = $NF + 0; m = f("messages"); w = f("read_wakes"); d = f("moderated")
	  if (NR > 1 && t > t0 && m - m0 > best) { best = m - m0; rate = best * 1e9 / (t - t0); per = w > w0 ? best / (w - w0) : 0; mod = d - d0 }
	  t0 = t; m0 = m; w0 = w; d0 = d }
	END { printf "%.0f %.1f %d %.1f\n", rate, per, mod, rate * turn / 1e6 }' >"$T/busiest"
read -r rate per mod aim <"$T/busiest"
echo "  busiest second: $rate msg/s, $per messages a read, $mod moderated polls; the aim at that rate: $aim messages"
check "the stream's rate ($rate msg/s) makes the aim ($aim) at least twice MOD_BURST_AIM ($AIM)" \
	awk -v a="$aim" -v b="$AIM" 'BEGIN { exit !(a >= 2 * b) }'
# (not a check that moderated > 0: a machine whose daemon falls behind the
# publisher reads a backlog, whose reads bring the aim unasked)
check "messages a read ($per) at least half the aim ($aim)" awk -v p="$per" -v a="$aim" 'BEGIN { exit !(p >= a / 2) }'
expect_num "times the moderation was held off (it did not slow the stream)" "$(mqtt_self_stat moderation_held "$OUT")" 0
stop_daemon || fail "coldchaind exited non-zero"
finish
