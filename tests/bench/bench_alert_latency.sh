#!/bin/bash
# bench_alert_latency.sh - alarm latency from sample to MQTT alarm message,
# no on-delay: the Modbus simulator toggles room A between 4 and 8 C (SIGHUP
# re-reads its map), coldchaind polls every 100 ms and publishes each raise
# and clear through outputs.alerts_mqtt; mosquitto_sub (-F %U: arrival time,
# ns) is the peer.  Latency = arrival - the event's time_ns (the time the
# sample's response arrived).  Prints p50, p99 and max over the events.
# Nothing in the configuration may hold an event back: no on/off-delay, no
# notification rate limit (alarms.notify defaults to 20 then one per 30 s),
# no flood grouping (more than 10 raises in 10 min would group them into
# A/refrigeration_failure), no renotify/escalation events; a payload
# delivered twice (at least once) counts once, at its first arrival.  BENCH_CYCLES raise+clear pairs
# (default 30: 60 events).  Not part of make test.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
command -v mosquitto_sub >/dev/null || die "mosquitto_sub missing"
CYCLES=${BENCH_CYCLES:-30}

map() { printf '1 input 0 int16 ABCD %s\n' "$1" >"$T/sim.map"; }
map 40
start_mosquitto
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "b1"; limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "0s"; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature";
  lots = ( { id = "L1"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; } ); } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; off_delay = "0s"; on_delay = "0s"; renotify = "0s"; escalate = "0s";
  notify = { burst = 10000; interval = "0s"; }; flood = { start = 60; end = 1; window = "1s"; }; };
modbus = ( { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "100ms";
  devices = ( { name = "th-a1"; unit = 1; room = "A";
    points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; } ); } ); } );
outputs = {
  file = ( { path = "$T/points.lp"; } );
  alerts_mqtt = { prefix = "bench"; broker = { host = "127.0.0.1"; port = $MQTT_PORT; }; };
};
CONF
} >"$DAEMON_CONF"
start_bg mosquitto_sub "$T/sub.err" bash -c "exec mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -q 1 -i bench-peer \
	-t bench/events -F '%U %p' >'$T/sub.out'"
wait_for "peer connected" file_has "bench-peer" "$MQTT_LOG" || die "mosquitto_sub did not connect"
start_daemon
# distinct A/temp_high events received so far (a redelivery repeats a payload)
events() { cut -d' ' -f2- "$T/sub.out" 2>/dev/null | grep -F '"id":"A/temp_high"' | sort -u | wc -l; }
export -f events
export T
n=0
for ((i = 0; i < CYCLES; i++)); do
	for v in 80 40; do
		map $v
		kill -HUP "$SIM_PID"
		n=$((n + 1))
		wait_for "event $n" -t 30 bash -c "[ \$(events) -ge $n ]" || break 2
	done
done
stop_daemon >/dev/null
"$PY" - "$T/sub.out" <<'PYEOF'
import json, sys
lat = []
seen = set()
for line in open(sys.argv[1]):
    t, _, p = line.strip().partition(" ")
    if p in seen:
        continue  # a redelivery: the first arrival counts
    seen.add(p)
    try:
        ev = json.loads(p)
    except ValueError:
        continue
    if ev.get("id") != "A/temp_high" or ev.get("event") not in ("raise", "clear"):
        continue
    s, _, ns = t.partition(".")
    arrival = int(s) * 10**9 + int((ns + "000000000")[:9])
    lat.append((arrival - int(ev["time_ns"])) / 1e6)
lat.sort()
if not lat:
    print("  no events received")
    sys.exit(0)
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print("  sample -> MQTT alarm message (no on-delay, QoS 1, loopback broker): %d events, p50 %.2f ms, "
      "p99 %.2f ms, max %.2f ms" % (len(lat), pick(0.50), pick(0.99), lat[-1]))
PYEOF
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
