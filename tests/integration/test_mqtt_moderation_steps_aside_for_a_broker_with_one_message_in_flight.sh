#!/bin/bash
# Interrupt moderation against a broker that keeps one QoS 1 message in
# flight until its PUBACK (mosquitto's max_inflight_messages 1): waiting
# for more messages before a read can only slow such a stream, since the
# next one comes after the PUBACK of the last (an MQTT 3.1.1 client: a v5
# client's Receive Maximum decides instead).  The daemon notices that a
# moderated window read less than three quarters of the rate it began at
# and holds the moderation off for 50 windows (drivers/mqtt.c,
# mqtt_moderate): so a 4,000 msg/s stream of 12,000 messages is stored
# whole with a few hundred moderated polls at most (without the hold: one
# per message in every other window, some 6,000), and a broker with the
# default in-flight window is moderated as before
# (test_mqtt_busy_even_stream_*).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

STATS_INTERVAL=1s
start_mosquitto "max_inflight_messages 1"
OUT=$T/points.lp
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-mod1"; protocol = "3.1.1"; };
  subscriptions = ( { topic = "mod/{room}/{sensor}/{quantity}"; format = "number"; qos = 1; } );
};
outputs = { file = ( { name = "f"; path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

N=12000
cat "$ROOT_DIR/tests/bench/mqtt_raw.py" - <<PYEOF | "$PY" - "$MQTT_PORT" "$N" 4000 || fail "the publisher failed"
port, n, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
so = connect(port, b"itest-mod1-pub", nodelay=True)
spread(so, n, rate, lambda i: publish1(s(("mod/r1/one-%d/temperature" % (i % 50)).encode()), b"%d.5" % (i % 30), i % 65535 + 1))
PYEOF
has() { [ "$(grep -c '^temperature,.*sensor=one-' "$OUT" 2>/dev/null)" -ge "$N" ]; }
wait_for "$N points" -t 90 has || fail "only $(grep -c '^temperature,' "$OUT") of $N points stored"
msgs_ge() { [ "$(mqtt_self_stat messages "$OUT")" -ge "$N" ] 2>/dev/null; }
wait_for "self-metrics counting the stream" -t 30 msgs_ge || fail "coldchaind_mqtt.messages < $N"
mod=$(mqtt_self_stat moderated "$OUT") wakes=$(mqtt_self_stat read_wakes "$OUT") held=$(mqtt_self_stat moderation_held "$OUT")
echo "  one message in flight: $(mqtt_self_stat messages "$OUT") messages in $wakes read wake-ups, $mod moderated polls, held off $held times"
check "moderated polls (${mod:-none}) at most 600 of $N messages: the moderation held off" [ "${mod:-$N}" -le 600 ]
check "coldchaind_mqtt.moderation_held (${held:-none}) counts it" [ "${held:-0}" -ge 1 ]
stop_daemon || fail "coldchaind exited non-zero"
finish
