#!/bin/bash
# The MQTT driver's topic cache (drivers/mqtt_cache.c: exact topic ->
# subscription, captures, channels) never mixes topics up: 40 sensors in two
# rooms each publish 5 JSON messages (two fields) on a subscription with
# {room}/{sensor} captures, interleaved with numbers on 20 four-level topics
# that only a second subscription matches; every stored point carries the
# room, sensor and quantity of its own topic and the value its own payload
# sent, and none is missing or doubled; one sensor name in two rooms is two
# channels.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

OUT=$T/points.lp
start_mosquitto
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-cache"; };
  subscriptions = (
    { topic = "cache/{room}/{sensor}"; format = "json"; time = "time"; time_unit = "ms";
      fields = { temperature = { path = "t"; unit = "C"; }; humidity = { path = "rh"; unit = "%"; }; }; },
    { topic = "cache/+/+/{sensor}"; quantity = "pressure"; unit = "kPa"; room = "P"; }
  );
};
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

# payloads name their sensor in their values: t = N.k, rh = 50 + N, p = 100 + N
base=$((($(date +%s) - 600) * 1000))
for k in 1 2 3 4 5; do
	for n in $(seq 1 40); do
		echo "r$((n % 2)) s$n {\"t\":$n.$k,\"rh\":$((50 + n)),\"time\":$((base + k * 1000 + n))}"
	done
	for n in $(seq 1 20); do
		echo "x y p$n $((100 + n)).$k"
	done
done >"$T/plan"
# one connection for every message, in order (mosquitto_pub -l sends to one
# topic only): python3's socket speaking MQTT 3.1.1 would be a second client
# to maintain; a few hundred mosquitto_pub calls are quick enough
while read -r a b c d; do
	if [ "$a" = x ]; then
		mqtt_pub "cache/$a/$b/$c" "$d"
	else
		mqtt_pub "cache/$a/$b" "$c"
	fi
done <"$T/plan"

lines() { grep -c ' value=' "$OUT" 2>/dev/null || echo 0; }
have_all() { [ "$(lines)" -ge 500 ]; }
wait_for "500 points in the file output" have_all || fail "points stored: $(lines) of 500"
expect_eq "points stored (400 JSON + 100 numbers), none doubled" "$(lines)" 500
bad=$(python3 - "$OUT" <<'PY'
import re, sys
bad = []
for line in open(sys.argv[1]):
    if " value=" not in line:
        continue
    key, fields, ts = line.split(" ")
    meas, *tags = key.split(",")
    t = dict(x.split("=", 1) for x in tags)
    v = float(fields.split("=", 1)[1])
    s = t.get("sensor", "")
    if meas in ("temperature", "humidity"):
        n = int(s[1:])
        ok = t.get("room") == "r%d" % (n % 2) and t.get("channel") == meas and (
            int(v) == n if meas == "temperature" else v == 50 + n)
        ok = ok and int(ts) % 1000000000 // 1000000 == n
    elif meas == "pressure":
        n = int(s[1:])
        ok = s.startswith("p") and t.get("room") == "P" and int(v) == 100 + n
    else:
        ok = False
    if not ok:
        bad.append(line.strip())
print(len(bad))
for b in bad[:5]:
    print("  " + b, file=sys.stderr)
PY
)
expect_eq "every point has its own topic's room, sensor and quantity and its own payload's value" "$bad" 0
# one sensor name in two rooms is two channels (the driver interns a
# channel's room, site, quantity and unit: drivers/mqtt_decode.c), each
# point tagged with its own topic's room
mqtt_pub "cache/r0/twin" "{\"t\":7.25,\"rh\":70,\"time\":$((base + 9000))}"
mqtt_pub "cache/r1/twin" "{\"t\":8.75,\"rh\":80,\"time\":$((base + 9000))}"
twins() { grep -c '^temperature,.*sensor=twin' "$OUT" 2>/dev/null || echo 0; }
wait_for "the twins' points" sh -c "[ \$(grep -c '^temperature,.*sensor=twin' '$OUT') -ge 2 ]" || fail "twin points: $(twins)"
expect_eq "sensor twin in room r0 is its own channel" "$(grep -c '^temperature,.*,room=r0,sensor=twin,.* value=7.25 ' "$OUT")" 1
expect_eq "sensor twin in room r1 is its own channel" "$(grep -c '^temperature,.*,room=r1,sensor=twin,.* value=8.75 ' "$OUT")" 1
expect_eq "no message was refused" "$(grep -c 'refused\|matches no subscription' "$DAEMON_LOG")" 0
stop_daemon
finish
