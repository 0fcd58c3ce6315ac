#!/bin/bash
# No source thread waits on a disk sync.  The state dir is made slow by an
# LD_PRELOAD shim (tests/integration/slow_fsync_preload.c: each fsync or
# fdatasync below it takes 1.5 s more).  The engine's state file is written
# there (two fsyncs) every second, and the journal (<state_dir>/journal) has
# 1 MiB segments, so the burst's 2 MB close a segment or two, each of which
# must reach the disk too.  A broker with mosquitto's stock limits (20 in flight, 1000
# queued per client) silently drops QoS 1 messages for a client that stops
# reading for that long.  5,000 QoS 1 messages are published at 2,000 a
# second, starting while a slow state sync is under way: every
# one is journaled exactly once (an independent mosquitto_sub gets them all
# too), and coldchaind_mqtt.max_stall_ms, the longest the MQTT thread went
# without reading, stays below the injected delay.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v cc >/dev/null || skip "no C compiler for the fsync shim"
command -v mosquitto_pub >/dev/null || skip "no mosquitto_pub"

SHIM=$T/slow_fsync.so
cc -shared -fPIC -O1 -o "$SHIM" "$TESTS_DIR/integration/slow_fsync_preload.c" -ldl ||
	die "cannot build the fsync shim"
DELAY_MS=1500
N=5000
FILE_OUT=$T/out.lp
MARK=$T/slow-syncs

# mosquitto as Debian ships it: no max_queued_messages, no max_inflight_messages.
mkdir -p "$MQTT_DIR"
MQTT_PORT=$(free_port)
cat >"$MQTT_DIR/mosquitto.conf" <<MQEOF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
log_dest stderr
log_type error
log_type warning
MQEOF
start_mosquitto

mkdir -p "$T/state"
{
	config_head
	cat <<CONF
alarms = { shelf_life_interval = "1s"; };
journal = { segment_size = "1M"; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-stall"; };
  subscriptions = (
    { topic = "cold/{room}/{sensor}"; format = "json"; time = "ts"; time_unit = "ms";
      fields = { temperature = "v"; humidity = "h"; co2 = "c"; }; }
  );
};
outputs = { file = ( { name = "archive"; path = "$FILE_OUT"; } ); };
CONF
} >"$DAEMON_CONF"

export SLOW_FSYNC_DIR=$T/state SLOW_FSYNC_MS=$DELAY_MS SLOW_FSYNC_MARK=$MARK LD_PRELOAD=$SHIM
# an ASan build wants its runtime first in the list; the shim has no ASan
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
start_daemon
unset LD_PRELOAD
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

# the independent peer, subscribed before the burst
# (-d: its SUBACK shows in the log; the messages are the lines starting with '{')
start_bg mosquitto_sub "$T/sub.log" stdbuf -oL mosquitto_sub -d -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -C "$N" -W 300 \
	-t cold/A/burst-sensor-with-a-longer-name-000000000000
SUB_PID=$LAST_PID
wait_for "mosquitto_sub subscribed" grep -q "received SUBACK" "$T/sub.log" || die "mosquitto_sub did not subscribe"
sub_count() { grep -c '^{' "$T/sub.log"; }
sub_has_all() { [ "$(sub_count)" -ge "$N" ]; }

syncs() { [ -f "$MARK" ] && wc -l <"$MARK" || echo 0; }
syncs_over() { [ "$(syncs)" -gt "$1" ]; }
wait_for "a slow state sync" -t 120 syncs_over 1 || die "the shim never slowed a state-dir sync"
n0=$(syncs)
# the burst starts as a slow state sync begins
wait_for "the next slow state sync to begin" -t 120 syncs_over "$n0" || die "no further slow sync"

# 2,000 messages a second, in chunks of 50: a reader that keeps reading
# keeps the broker's queue far below 1000; one stopped for a slow state
# sync (1.5 s or more) falls more than 1000 behind.  Unpaced, mosquitto_pub
# on a loaded 2-core machine outruns even mosquitto_sub (seen: the broker
# dropped 48 of 5,000 for it), which no subscriber can be blamed for.
base=$((($(date +%s) - 600) * 1000))
"$PY" -c 'import sys, time
b, n = int(sys.argv[1]), int(sys.argv[2])
t0 = time.monotonic()
for i in range(1, n + 1):
    sys.stdout.write("{\"v\": %d, \"h\": 90.5, \"c\": 400, \"ts\": %d}\n" % (i, b + i))
    if i % 50 == 0:
        sys.stdout.flush()
        ahead = t0 + i / 2000.0 - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
sys.stdout.flush()' "$base" "$N" | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t cold/A/burst-sensor-with-a-longer-name-000000000000 -l ||
	fail "mosquitto_pub failed"

two_segs_synced() { [ "$(grep -o '/journal/[0-9a-f]*\.seg$' "$MARK" | sort -u | wc -l)" -ge 2 ]; }
check "the burst closed a journal segment (one more slow sync to do)" wait_for "a second segment synced" two_segs_synced

# burst_stats: "LINES UNIQUE" of the burst's readings in the file output
burst_stats() { lp_value_stats "$FILE_OUT" burst-sensor-with-a-longer-name-000000000000; }
all_in() { [ "$(burst_stats)" = "$N $N" ]; }
if wait_for "all $N burst messages in the file output" -t 90 all_in; then
	pass "all $N QoS 1 messages of the burst were journaled and delivered, none twice"
else
	fail "burst: (lines, distinct values) = ($(burst_stats)), expected ($N $N)"
fi
wait_for "mosquitto_sub to get all $N" -t 60 sub_has_all
expect_eq "messages the independent mosquitto_sub received" "$(sub_count)" "$N"

# max_stall_ms: the largest value any coldchaind_mqtt line carried
max_stall() {
	"$PY" - "$FILE_OUT" <<'PYEOF'
import re, sys
m = None
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("coldchaind_mqtt,") and ",subscription=" not in line.split(" ")[0]:
        x = re.search(r"[ ,]max_stall_ms=([0-9.eE+-]+)", line)
        if x:
            m = max(m or 0.0, float(x.group(1)))
print("" if m is None else m)
PYEOF
}
stall_seen() { [ -n "$(max_stall)" ]; }
wait_for "coldchaind_mqtt.max_stall_ms" -t 60 stall_seen || fail "no max_stall_ms in coldchaind_mqtt"
ms=$(max_stall)
echo "  (max_stall_ms over the run: ${ms:-none}; injected delay per state sync: $DELAY_MS ms)"
check "the MQTT thread never went as long as one slow state sync without reading" \
	"$PY" -c 'import sys; sys.exit(0 if sys.argv[1] and float(sys.argv[1]) < float(sys.argv[2]) else 1)' \
	"${ms:-}" "$DELAY_MS"
stop_pid "$SUB_PID" 5 >/dev/null 2>&1
finish
