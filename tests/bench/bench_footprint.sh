#!/bin/bash
# bench_footprint.sh - footprint (issue 7 item 6): coldchaind's RSS with
# 1,000 channels, mixed Modbus and MQTT, over a compressed hour; and the
# size of the binaries.  Figures only, never pass/fail (not part of `make test`).
#
#   Modbus: BENCH_UNITS (50) units x 10 points = 500 channels on one
#           tests/modbus_sim gateway, polled every BENCH_INTERVAL (100ms).
#   MQTT:   BENCH_ROOMS (50) rooms x 10 sensors = 500 channels from the
#           captures sensors/{room}/{sensor}/temperature, one QoS 0 message
#           per channel every BENCH_INTERVAL (a small raw-socket publisher
#           below: mosquitto_pub -l has one topic per process).
#   Rooms:  one per MQTT room (its first sensor as air temperature), each
#           with a lychee lot (alarms; shelf-life points every 10 s).
#   Output: a line-protocol file; state_dir with the journal as in production.
#
# Time compression: a production site polls/publishes every ~10 s, i.e. 360
# cycles per channel per hour.  Here every channel gets a cycle every 100 ms,
# so 36 s of wall time is one "hour" of samples (360 cycles x 1,000 channels
# = 360,000 samples).  The run is BENCH_WARMUP (15 s) of warm-up then
# BENCH_SECONDS (90 s, = 2.5 simulated hours) measured, RSS sampled every
# BENCH_SAMPLE (5 s) from /proc/PID/status.  What is not compressed: timers
# that run on the wall clock (stats, shelf-life recomputation, journal group
# commit, file flush); those run 100x more often per sample than they would in
# production, which is the harsher case for growth.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

UNITS=${BENCH_UNITS:-50}
ROOMS=${BENCH_ROOMS:-50}
PER_ROOM=10
INTERVAL_MS=${BENCH_INTERVAL_MS:-100}
WARMUP=${BENCH_WARMUP:-15}
RUN=${BENCH_SECONDS:-90}
SAMPLE=${BENCH_SAMPLE:-5}
CTL=$BUILD_DIR/coldchainctl

# ------------------------------------------------------------ Modbus side
# 10 points per unit: T/RH transmitter, controller floats, status bits,
# coils and discrete inputs (bench_lib.sh: bench_modbus.sh's unit without
# its sparse registers).
bench_start_units "$UNITS"

# ------------------------------------------------------------ MQTT side
start_mosquitto ""
bench_raw_publisher "$T/pub.py" <<'PY'
# ROOMS x PER_ROOM topics sensors/rNN/rNN-sM/temperature, one message each
# every PERIOD seconds, until killed.  Writes the number of completed rounds
# to COUNTFILE.
import math, time
port, rooms, per, period, countfile = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
s_ = connect(port, b"footprint-pub", nodelay=True)
topics = [s(("sensors/r%02d/r%02d-s%d/temperature" % (r, r, k)).encode()) for r in range(rooms) for k in range(per)]
rounds, t = 0, time.monotonic()
while True:
    buf = bytearray()
    for i, tp in enumerate(topics):
        buf += publish0(tp, ("%.2f" % (3.0 + 0.5 * math.sin(rounds / 50.0 + i))).encode())
    s_.sendall(buf)
    rounds += 1
    if rounds % 10 == 0:
        with open(countfile, "w") as f:
            f.write("%d\n" % rounds)
    t += period
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
    else:
        t = time.monotonic()
PY

# ------------------------------------------------------------ the daemon
LP=$T/points.lp
cp "$ROOT_DIR/config/profiles.conf" "$T/profiles.conf"
{
	SITE=bench STATS_INTERVAL=1s config_head
	echo '@include "profiles.conf"' 
	bench_gateway_conf "$UNITS" "${INTERVAL_MS}ms"
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-footprint"; };
  subscriptions = (
    { topic = "sensors/{room}/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 0; }
  );
};
CONF
	echo "rooms = ("
	for ((r = 0; r < ROOMS; r++)); do
		[ "$r" -gt 0 ] && echo ","
		printf '  { name = "r%02d"; temperature = "r%02d-s0/temperature"; profile = "lychee";\n' "$r" "$r"
		printf '    lots = ( { id = "LOT-%02d"; product = "lychee"; loaded = "2026-06-12T08:00:00+07:00"; plan_temperature = 4.0; } ); }' "$r"
	done
	echo ");"
	# compressed like the polls: shelf-life points every 10 s instead of every 1m-10m
	echo 'alarms = { shelf_life_interval = "10s"; };'
	echo "outputs = { file = ( { name = \"f\"; path = \"$LP\"; } ); };"
} >"$DAEMON_CONF"

LOG_LEVEL=info start_daemon "$DAEMON_CONF"
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
PERIOD=$(awk -v m="$INTERVAL_MS" 'BEGIN { print m / 1000 }')
start_bg publisher "$T/pub.log" "$PY" "$T/pub.py" "$MQTT_PORT" "$ROOMS" "$PER_ROOM" "$PERIOD" "$T/rounds"
PUBPID=$LAST_PID

mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
field() { proc_status_kb "$DAEMON_PID" "$1"; }
: >"$T/samples"
t0=$(date +%s.%N)
echo "  1,000 channels: $UNITS Modbus units x 10 points every ${INTERVAL_MS} ms + $ROOMS rooms x $PER_ROOM MQTT sensors every ${INTERVAL_MS} ms;"
echo "  $ROOMS rooms with a lot each; file output; ${WARMUP} s warm-up, then ${RUN} s measured"
echo "  (1 simulated hour = 360 cycles = $(awk -v m="$INTERVAL_MS" 'BEGIN { print 360 * m / 1000 }') s here)"
printf '  %6s  %9s  %9s  %9s  %9s\n' "t (s)" "VmRSS" "RssAnon" "RssFile" "VmHWM"
end=$((WARMUP + RUN))
for ((el = 0; el <= end; el += SAMPLE)); do
	pid_alive "$DAEMON_PID" || die "coldchaind died"
	pid_alive "$PUBPID" || { show_log "$T/pub.log"; die "publisher died"; }
	rss=$(field VmRSS) anon=$(field RssAnon) file=$(field RssFile) hwm=$(field VmHWM)
	now=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	echo "$now $rss $anon $file $hwm" >>"$T/samples"
	printf '  %6s  %6s MiB  %6s MiB  %6s MiB  %6s MiB\n' "$now" "$(mib "$rss")" "$(mib "$anon")" "$(mib "$file")" "$(mib "$hwm")"
	[ "$el" -lt "$end" ] && sleep "$SAMPLE" # the sampling period of a benchmark, not synchronisation
done
rounds=$(cat "$T/rounds" 2>/dev/null || echo 0)
status_copy=$T/status.end
cp "/proc/$DAEMON_PID/status" "$status_copy"
stop_pid "$PUBPID" 5 >/dev/null
stop_daemon >/dev/null || echo "  (coldchaind exited non-zero on SIGTERM)"

# Modbus cycles: the polls counters of the stats snapshots.
polls=$(awk '/^coldchaind_modbus,/ { if (match($2, /(^|,)polls=[0-9]+/)) { v = substr($2, RSTART, RLENGTH); sub(/.*=/, "", v); s[$1] = v } }
	END { for (k in s) t += s[k]; print t + 0 }' "$LP")
"$PY" - "$T/samples" "$WARMUP" "$INTERVAL_MS" "$polls" "$UNITS" "$rounds" "$(wc -l <"$LP")" <<'PY'
import sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
warm, ival = float(sys.argv[2]), float(sys.argv[3]) / 1000
polls, units, rounds, lines = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
after = [r for r in rows if r[0] >= warm]
t = [r[0] for r in after]; y = [r[1] / 1024 for r in after]
n = len(t); mt = sum(t) / n; my = sum(y) / n
slope = sum((a - mt) * (b - my) for a, b in zip(t, y)) / max(sum((a - mt) ** 2 for a in t), 1e-9)  # MiB/s
sim_h = 360 * ival  # wall seconds per simulated hour
print("  Modbus: %d polls = %.0f cycles per unit; MQTT: %d rounds x 500 messages; %d lines in the file output"
      % (polls, polls / max(units, 1), rounds, lines))
print("  RSS after warm-up (t=%.0f s): %.2f MiB; at the end (t=%.0f s): %.2f MiB; min/max after warm-up %.2f/%.2f MiB"
      % (after[0][0], after[0][1] / 1024, after[-1][0], after[-1][1] / 1024, min(y), max(y)))
print("  RssAnon after warm-up %.2f MiB, at the end %.2f MiB" % (after[0][2] / 1024, after[-1][2] / 1024))
print("  peak RSS (VmHWM): %.2f MiB  (target <= 16 MiB)" % (rows[-1][4] / 1024))
print("  growth after warm-up (least squares over %d samples): %+.3f MiB per simulated hour (%.0f s),"
      " %+.1f MiB per wall-clock hour at this rate (%.0f cycles/h)" % (n, slope * sim_h, sim_h, slope * 3600, 3600 / ival))
PY
# What the run fed: distinct series per measurement in the file output.
echo "  series in the file output: $(awk '{ split($1, a, ","); m = a[1]; if (!($1 in seen)) { seen[$1] = 1; n[m]++ } }
	END { for (k in n) printf "%s=%d ", k, n[k] }' "$LP")"
grep -E '^(VmPeak|VmSize|VmData|VmStk|Threads)' "$status_copy" | awk '{ printf "  %s %s %s", $1, $2, $3 } END { print "" }'

echo "  binaries:"
for b in "$COLDCHAIND" "$CTL"; do
	[ -x "$b" ] || { echo "  $b missing"; continue; }
	strip -o "$T/stripped" "$b"
	read -r text data bss _ < <(size "$b" | tail -n 1)
	printf '    %-13s %8d bytes (stripped %d); text %d, data %d, bss %d\n' "$(basename "$b")" \
		"$(stat -c %s "$b")" "$(stat -c %s "$T/stripped")" "$text" "$data" "$bss"
done
echo "    coldchaind NEEDED: $(readelf -d "$COLDCHAIND" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
