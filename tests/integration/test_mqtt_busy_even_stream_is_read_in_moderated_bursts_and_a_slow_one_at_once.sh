#!/bin/bash
# Interrupt moderation (drivers/mqtt.c, mqtt_moderate; issue 18, the hub):
# an evenly spread stream of 4,000 msg/s (one message at a time, as a hub's
# sites send) is read in bursts that the daemon lets grow (its
# coldchaind_mqtt self-metrics: moderated > 0, at least 3 messages a read
# wake-up: the wait for MOD_BURST_AIM messages is 1 ms at most, 4 messages
# at this rate; without moderation a read takes one, with the old fixed
# 250 µs wait two) and every message is stored; a slow stream afterwards
# (5 msg/s) is never delayed: moderated does not move while it flows.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

STATS_INTERVAL=1s
start_mosquitto
OUT=$T/points.lp
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-mod"; };
  subscriptions = ( { topic = "mod/{room}/{sensor}/{quantity}"; format = "number"; qos = 0; } );
};
outputs = { file = ( { name = "f"; path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

# publish N RATE TAG: N QoS 0 messages evenly spread at RATE msg/s from one
# raw-socket client (mqtt_raw.py), each on its own sensor's topic
publish() {
	cat "$ROOT_DIR/tests/bench/mqtt_raw.py" - <<PYEOF | "$PY" - "$MQTT_PORT" "$1" "$2" "$3"
port, n, rate, tag = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
so = connect(port, b"itest-mod-" + tag.encode(), nodelay=True)
spread(so, n, rate, lambda i: publish0(s(("mod/r1/%s-%d/temperature" % (tag, i % 50)).encode()), b"%d.5" % (i % 30)))
PYEOF
}
stored() { grep -c '^temperature,.*sensor=' "$OUT" 2>/dev/null; }

N=12000
publish "$N" 4000 busy || fail "the busy publisher failed"
has() { [ "$(grep -c "^temperature,.*sensor=$1-" "$OUT" 2>/dev/null)" -ge "$2" ]; }
wait_for "$N busy points" -t 60 has busy "$N" || fail "only $(stored) of $N points stored"
expect_num "points of the busy stream stored" "$(grep -c '^temperature,.*sensor=busy-' "$OUT")" "$N"
# the stats line written after the last busy message has it counted
msgs_ge() { [ "$(mqtt_self_stat messages "$OUT")" -ge "$N" ] 2>/dev/null; }
wait_for "self-metrics counting the busy stream" -t 30 msgs_ge || fail "coldchaind_mqtt.messages < $N"
mod1=$(mqtt_self_stat moderated "$OUT") wakes1=$(mqtt_self_stat read_wakes "$OUT") msgs1=$(mqtt_self_stat messages "$OUT")
echo "  busy stream: $msgs1 messages in $wakes1 read wake-ups, $mod1 moderated waits"
check "moderated waits while 4,000 msg/s flow (${mod1:-none}) > 0" [ "${mod1:-0}" -gt 0 ]
check "read wake-ups (${wakes1:-none}) at most a third of the messages ($msgs1): the bursts grew" \
	[ "$((${wakes1:-$N} * 3))" -le "$msgs1" ]

# slow: 25 messages at 5 msg/s, then the next stats line
publish 25 5 slow || fail "the slow publisher failed"
wait_for "25 slow points" -t 30 has slow 25 || fail "the slow points did not arrive"
slow_counted() { [ "$(mqtt_self_stat messages "$OUT")" -ge $((msgs1 + 25)) ] 2>/dev/null; }
wait_for "self-metrics counting the slow stream" -t 30 slow_counted || fail "coldchaind_mqtt.messages did not grow by 25"
mod2=$(mqtt_self_stat moderated "$OUT")
echo "  slow stream: moderated $mod1 -> $mod2"
expect_num "moderated waits during a 5 msg/s stream" "$((mod2 - mod1))" 0
expect_num "times the moderation was held off (an evenly spread stream it does not slow)" "$(mqtt_self_stat moderation_held "$OUT")" 0
stop_daemon || fail "coldchaind exited non-zero"
finish
