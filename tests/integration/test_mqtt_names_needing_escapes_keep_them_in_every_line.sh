#!/bin/bash
# A channel's series key is written from three parts (drivers/mqtt_int.h's
# mqtt_chan_series: the room's interned prefix up to ",sensor=", the sensor
# escaped, the site's interned suffix): sensors and rooms whose names need
# line-protocol escapes (space, comma, equals sign), UTF-8 names, a sensor
# whose escaped name is 255 bytes (the longest the fast path takes) and one
# of 256 (the slow path, pipeline_encode) and
# plain ones in the same rooms (shared prefixes) are written with the tags
# of their own topic: python3 splits every line of the file output by the
# line protocol's own rules and compares its tags with what was published.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

OUT=$T/points.lp
start_mosquitto
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-escapes"; };
  subscriptions = (
    { topic = "esc/{room}/{sensor}"; quantity = "temperature"; unit = "deg C"; },
    { topic = "escj/{room}/{sensor}"; format = "json";
      fields = { humidity = { path = "rh"; unit = "%"; }; }; }
  );
};
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

long=$(printf ' %.0s' $(seq 1 127)) # a capture is at most 128 bytes
# "x" and 127 spaces: 255 bytes escaped (the fast path's longest sensor);
# "," and 127 spaces: 256 (the slow path)
# room|sensor, one number and one JSON message each (value: its line number)
cat >"$T/plan" <<PLAN
cold room,2|th 1
cold room,2|plain
cold room,2|a,b=c
A|plain
A|Bố Hạ
A|x${long}
A|,${long}
r=1|s p,a=c e
r=1|plain2
PLAN
n=0
while IFS='|' read -r room sensor; do
	n=$((n + 1))
	mqtt_pub "esc/$room/$sensor" "$n.5"
	mqtt_pub "escj/$room/$sensor" "{\"rh\":$((50 + n))}"
done <"$T/plan"

lines() { grep -c ' value=' "$OUT" 2>/dev/null || echo 0; }
have_all() { [ "$(lines)" -ge $((2 * n)) ]; }
wait_for "$((2 * n)) points in the file output" have_all || fail "points stored: $(lines) of $((2 * n))"
bad=$(python3 - "$OUT" "$T/plan" <<'PY'
import sys

def split(s, sep):
    """s split at its unescaped sep, escapes kept"""
    out, cur, i = [], "", 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in ", =":
            cur += s[i:i + 2]
            i += 2
            continue
        if s[i] == sep:
            out.append(cur)
            cur = ""
        else:
            cur += s[i]
        i += 1
    return out + [cur]

def unescape(s):
    for c in ", =":
        s = s.replace("\\" + c, c)
    return s

plan = [l.rstrip("\n").split("|", 1) for l in open(sys.argv[2], encoding="utf-8")]
want = {}
for i, (room, sensor) in enumerate(plan, 1):
    want[("temperature", room, sensor)] = ("temperature", "deg C", i + 0.5)
    want[("humidity", room, sensor)] = ("humidity", "%", 50 + i)
seen, bad = {}, []
for line in open(sys.argv[1], encoding="utf-8"):
    if " value=" not in line:
        continue
    parts = split(line.rstrip("\n"), " ")
    key, fields = parts[0], parts[1]
    items = split(key, ",")
    meas, tags = unescape(items[0]), {}
    for item in items[1:]:
        kv = split(item, "=")
        if len(kv) != 2:
            bad.append("tag not k=v: " + line)
            break
        tags[unescape(kv[0])] = unescape(kv[1])
    k = (meas, tags.get("room"), tags.get("sensor"))
    w = want.get(k)
    try:
        v = float(fields.split("=", 1)[1])
    except ValueError:
        bad.append("fields not value=N: " + line)
        continue
    if not w or tags.get("channel") != w[0] or tags.get("unit") != w[1] or v != w[2] or tags.get("site") != "itest":
        bad.append(line.strip())
    seen[k] = seen.get(k, 0) + 1
for k in want:
    if seen.get(k) != 1:
        bad.append("%r: %d lines" % (k, seen.get(k, 0)))
print(len(bad))
for b in bad[:6]:
    print("  " + b[:200], file=sys.stderr)
PY
)
expect_eq "every line parses to its own topic's room and sensor, channel, unit and value, once" "$bad" 0
expect_eq "the sensors of 255 and 256 bytes escaped are there" "$(grep -c 'sensor=[x\\],*\\ \\ ' "$OUT")" 4
expect_eq "no message was refused" "$(grep -c 'refused\|matches no subscription\|not encodable' "$DAEMON_LOG")" 0
stop_daemon
finish
