#!/bin/bash
# Issue 15's room chart, its data: the daemon keeps each room channel's last
# 24 h in 5-minute buckets (min, max, mean by the readings' own times) and a
# restart keeps them through their file, trend.state.  Readings arrive over
# MQTT with their own timestamps (mosquitto_pub: the peer), one of them
# late; the file the real daemon writes on SIGTERM is read by python3's
# struct and zlib (its CRC checked); a second daemon restores the buckets
# and adds to them.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub missing (apt-get install mosquitto-clients)"

start_mosquitto
{
	config_head
	cat <<CONF
rooms = ( { name = "A"; temperature = "th-a1/temperature"; } );
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-trend"; };
  subscriptions = (
    { topic = "esp/{sensor}/state"; format = "json"; time = "ts"; time_unit = "ms"; room = "A";
      fields = { temperature = "t"; }; qos = 1; }
  );
};
outputs = { file = ( { path = "$T/points.lp"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

B=300000 # a bucket, ms
now=$(date +%s%3N)
b3=$(((now - 3 * 3600000) / B * B)) # the bucket 3 h ago
b2=$(((now - 2 * 3600000) / B * B))
bl=$(((now - 150 * 60000) / B * B)) # 2 h 30 min ago: arrives after the 2 h one
{
	echo "{\"t\": 4.0, \"ts\": $((b3 + 1000))}"
	echo "{\"t\": 6.0, \"ts\": $((b3 + 61000))}"
	echo "{\"t\": 5.0, \"ts\": $((b2 + 1000))}"
	echo "{\"t\": 3.0, \"ts\": $((bl + 1000))}"
} >"$T/readings"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t esp/th-a1/state -l <"$T/readings"
nlines() { [ "$(grep -c '^temperature,' "$T/points.lp" 2>/dev/null)" -ge "$1" ]; }
wait_for "4 readings journaled and delivered" nlines 4 || fail "the readings did not arrive"
stop_daemon 30 || fail "coldchaind did not stop cleanly"

# the channel's buckets in trend.state (its format: daemon/engine/trend.c),
# read by python3's struct and zlib: "slot n min max mean" per line, after
# the CRC and the header are checked
buckets() {
	"$PY" - "$T/state/trend.state" <<'PYEOF'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
data, crc = b[:-4], struct.unpack("<I", b[-4:])[0]
assert zlib.crc32(data) == crc, "CRC"
magic, secs, nb, nch = struct.unpack("<8sIII", data[:20])
assert magic == b"CCTREND1" and secs == 300 and nb == 288, (magic, secs, nb)
p = 20
for _ in range(nch):
    idl, = struct.unpack("<H", data[p:p + 2]); p += 2
    cid = data[p:p + idl].decode(); p += idl
    n, = struct.unpack("<I", data[p:p + 4]); p += 4
    for _ in range(n):
        slot, cnt, lo, hi, s = struct.unpack("<iIfff", data[p:p + 20]); p += 20
        if cid == "th-a1/temperature":
            print(slot, cnt, "%g" % lo, "%g" % hi, "%g" % (s / cnt))
assert p == len(data), "trailing bytes"
PYEOF
}
# bucket SLOT_MS: "n min max mean" of the channel's bucket
bucket() { buckets | awk -v s=$(($1 / 300000)) '$1 == s { print $2, $3, $4, $5 }'; }
nbuckets() { buckets | wc -l; }
expect_eq "the bucket of 3 h ago (n min max mean)" "$(bucket "$b3")" "2 4 6 5"
expect_eq "the bucket of 2 h ago" "$(bucket "$b2")" "1 5 5 5"
expect_eq "the late reading's bucket (2 h 30 min ago)" "$(bucket "$bl")" "1 3 3 3"
expect_eq "buckets kept (no gap filled)" "$(nbuckets)" 3

# A restart restores them; a new reading adds its own bucket (a log of its
# own: the first run's "started" and "connected" lines must not count)
DAEMON_LOG=$T/coldchaind2.log
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect again"
if grep -q "trend.state: restored 3 trend buckets" "$DAEMON_LOG"; then
	pass "the restarted daemon restored the 3 buckets"
else
	fail "no 'trend.state: restored 3 trend buckets' in the log"
	show_log "$DAEMON_LOG"
fi
now2=$(date +%s%3N)
mqtt_pub esp/th-a1/state "{\"t\": 7.5, \"ts\": $now2}"
wait_for "the 5th reading" nlines 5 || fail "the new reading did not arrive"
stop_daemon 30 || fail "coldchaind did not stop cleanly the second time"
expect_eq "the bucket of 3 h ago after the restart" "$(bucket "$b3")" "2 4 6 5"
expect_eq "the new reading's bucket" "$(bucket $((now2 / B * B)))" "1 7.5 7.5 7.5"
expect_eq "buckets kept after the restart" "$(nbuckets)" 4
finish
