#!/bin/bash
# bench_idle.sh - the small gateway's idle cost (issue 18 target 4): a
# packhouse's steady state with nothing happening.  Figures only, never
# pass/fail; not part of `make test`.
#
#   Modbus: BENCH_IDLE_UNITS (20) units x 10 points = 200 channels on one
#           tests/modbus_sim gateway, polled every 10 s.
#   MQTT:   20 sensors sensors/rNN/temperature on mosquitto, one QoS 0
#           message each every 60 s (a small raw-socket publisher).
#   Rooms:  20, one per MQTT sensor (alarm limits, no lots); file output;
#           state_dir with the journal as in production; no web server.
# After BENCH_IDLE_WARMUP (20 s), counts over BENCH_IDLE_SECONDS (60 s):
# CPU from /proc/PID/stat utime+stime (all threads), wake-ups from every
# thread's voluntary + involuntary context switches (/proc/PID/task/*/status;
# each is one time the thread went to sleep or was preempted, i.e. one
# wake-up) and the timeslices of /proc/PID/task/*/schedstat, per thread so
# the offenders show.  Targets: CPU <= 0.2 % of one core, <= 20 wake-ups/s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
command -v mosquitto >/dev/null || die "mosquitto missing (tests/deps.sh)"

UNITS=${BENCH_IDLE_UNITS:-20}
SENSORS=20
WARMUP=${BENCH_IDLE_WARMUP:-20}
RUN=${BENCH_IDLE_SECONDS:-60}

bench_start_units "$UNITS"
start_mosquitto ""

bench_raw_publisher "$T/pub.py" <<'PY'
# N topics sensors/rNN/temperature, one message each every PERIOD seconds
# (all at once), until killed.
import time
port, n, period = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
so = connect(port, b"idle-pub")
k, t = 0, time.monotonic()
while True:
    buf = bytearray()
    for i in range(n):
        buf += publish0(s(("sensors/r%02d/temperature" % i).encode()), ("%.1f" % (3.0 + (k + i) % 5 * 0.1)).encode())
    so.sendall(buf)
    k += 1
    t += period
    time.sleep(max(0.0, t - time.monotonic()))
PY

{
	SITE=idle STATS_INTERVAL=60s config_head
	bench_gateway_conf "$UNITS" 10s
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-idle"; };
  subscriptions = ( { topic = "sensors/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 0; } );
};
profiles = ( { name = "cold"; version = "i1"; limits = { warn_high = 7.0; alarm_high = 10.0; }; } );
CONF
	echo "rooms = ("
	for ((r = 0; r < SENSORS; r++)); do
		[ "$r" -gt 0 ] && echo ","
		printf '  { name = "R%02d"; profile = "cold"; temperature = "r%02d/temperature"; }' "$r" "$r"
	done
	echo ");"
	echo "outputs = { file = ( { name = \"f\"; path = \"$T/points.lp\"; } ); };"
} >"$DAEMON_CONF"

start_daemon "$DAEMON_CONF"
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
start_bg publisher "$T/pub.log" "$PY" "$T/pub.py" "$MQTT_PORT" "$SENSORS" 60
wait_for "first points in the file output" test -s "$T/points.lp" || die "no point reached the file output"

# snapshot FILE: "tid comm switches timeslices cpu_ns" per thread, then "cpu TICKS".
snapshot() {
	local d tid comm sw sl ns
	: >"$1"
	for d in /proc/"$DAEMON_PID"/task/*; do
		tid=${d##*/}
		comm=$(cat "$d/comm" 2>/dev/null) || continue
		sw=$(awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { print s + 0 }' "$d/status" 2>/dev/null)
		read -r ns _ sl <"$d/schedstat" 2>/dev/null || { ns=0; sl=0; }
		echo "$tid ${comm// /_} ${sw:-0} ${sl:-0} ${ns:-0}" >>"$1"
	done
	echo "cpu $(proc_cpu_ticks "$DAEMON_PID")" >>"$1"
}

echo "  200 Modbus channels ($UNITS units x 10) every 10 s, $SENSORS MQTT sensors every 60 s, $SENSORS rooms;"
echo "  ${WARMUP} s warm-up, then ${RUN} s counted; load average $(cut -d' ' -f1-3 /proc/loadavg)"
sleep "$WARMUP" # a warm-up period, not a synchronisation
snapshot "$T/s0"
t0=$(date +%s%N)
sleep "$RUN" # the measured interval
snapshot "$T/s1"
t1=$(date +%s%N)
pid_alive "$DAEMON_PID" || die "coldchaind exited during the run"

awk -v hz="$(getconf CLK_TCK)" -v ns=$((t1 - t0)) '
	FNR == NR { if ($1 == "cpu") c0 = $2; else { w0[$1] = $3; s0[$1] = $4; r0[$1] = $5 } next }
	$1 == "cpu" { c1 = $2; next }
	{ name[$1] = $2; dw[$1] = $3 - w0[$1]; ds[$1] = $4 - s0[$1]; dr[$1] = $5 - r0[$1]
	  if (!($1 in w0)) { dw[$1] = $3; ds[$1] = $4; dr[$1] = $5; nw++ } }
	END {
		sec = ns / 1e9
		for (t in dw) { W += dw[t]; S += ds[t]; R += dr[t] }
		cpu = R / ns * 100
		printf "  CPU %.4f %% of one core (%.1f ms in %.1f s, schedstat; utime+stime %.2f s) (target <= 0.2 %%): %s\n",
			cpu, R / 1e6, sec, (c1 - c0) / hz, cpu <= 0.2 ? "met" : "NOT met"
		printf "  wake-ups %.1f /s (context switches; schedstat timeslices %.1f /s) (target <= 20 /s): %s\n", W / sec, S / sec, W / sec <= 20 ? "met" : "NOT met"
		if (nw) printf "  (%d threads started during the run)\n", nw
		print "  per thread (wake-ups/s, CPU ms, tid, name):"
		for (t in dw) printf "    %7.2f  %8.1f  %-7s %s\n", dw[t] / sec, dr[t] / 1e6, t, name[t] | "sort -rn"
	}' "$T/s0" "$T/s1"
close_note=$(grep -c . "$T/points.lp")
echo "  ($close_note points written; RSS $(proc_status_kb "$DAEMON_PID" VmRSS) kB)"
# The arm64 build (make cross ARCH=arm64): stripped sizes, and the max RSS
# of `coldchaind -n` (this config) and -V under qemu-aarch64-static, which
# counts the emulator's own memory too (an upper bound for a real board).
A64=$ROOT_DIR/build-arm64
if [ -x "$A64/coldchaind" ] && command -v aarch64-linux-gnu-strip >/dev/null; then
	echo "  arm64 build ($A64), stripped:"
	for b in coldchaind coldchainctl coldchainctl-full; do
		[ -x "$A64/$b" ] || { echo "    $b: not built (make cross ARCH=arm64)"; continue; }
		aarch64-linux-gnu-strip -o "$T/$b.arm64" "$A64/$b"
		printf '    %-17s %8d bytes (unstripped %d)\n' "$b" "$(stat -c %s "$T/$b.arm64")" "$(stat -c %s "$A64/$b")"
	done
	if command -v qemu-aarch64-static >/dev/null; then
		for args in "-V" "-n -c $DAEMON_CONF"; do
			# shellcheck disable=SC2086 # the arguments split on purpose
			rss=$("$PY" -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' qemu-aarch64-static -L / "$A64/coldchaind" $args)
			echo "    coldchaind ${args%% -c*} under qemu-aarch64-static: exit ${rss% *}, max RSS ${rss#* } kB (emulator included)"
		done
	else
		echo "  SKIP arm64 RSS: qemu-user-static missing (tests/cross/deps.sh)"
	fi
else
	echo "  SKIP arm64 sizes: no build-arm64/coldchaind (make cross ARCH=arm64; tests/cross/deps.sh installs the toolchain)"
fi
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
