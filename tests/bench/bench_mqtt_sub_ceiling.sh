#!/bin/bash
# bench_mqtt_sub_ceiling.sh - what an MQTT reader of our own would save
# (issue 18 targets 1 and 2: JSON QoS 1 CPU per point ≤ 5 µs; hub CPU ≤ 15 %
# at 10,000 msg/s).  On a fresh Debian mosquitto, the same QoS 1 messages go
# to each subscriber in turn:
#   mosquitto_sub -q 1     the stock client (libmosquitto; prints each message)
#   libmosquitto           mqtt_raw_sub -L: libmosquitto driven as coldchaind's
#                          drivers/mqtt.c drives it (no journal), the
#                          payload decoded as coldchaind does (codec/payload.c)
#   raw                    mqtt_raw_sub: one poll + one read of up to 64 KiB per
#                          turn, every packet parsed from it, a turn's PUBACKs in
#                          one write; the same decode
#   coldchaind             the daemon itself (JSON and number subscriptions,
#                          its file output), BENCH_DAEMON=0 to skip
# under two loads: flat out (mqtt_pub_bench -j: BENCH_N JSON messages with a
# time field, a window of 1,000) and the hub's evenly spread 10,000 msg/s
# (hub_gen: 400 sites x 50 channels every 2 s, half JSON, for
# BENCH_HUB_SECONDS; BENCH_LOADS="flat hub" picks).  Prints for each: CPU µs per message (getrusage, or
# utime+stime from /proc/PID/stat), system calls per message (counted in the
# tool; read/write-family from /proc/PID/io), and the load average.  The
# projection: the daemon's µs per message less what libmosquitto's reader
# takes over the raw one.  Figures only, never pass/fail (not in `make test`).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"

N=${BENCH_N:-200000}
HUB_SECS=${BENCH_HUB_SECONDS:-10}
HUB_N=$((400 * 50 * HUB_SECS / 2))
PUB=$BUILD_DIR/bench/mqtt_pub_bench
GEN=$BUILD_DIR/bench/hub_gen
SUB=$BUILD_DIR/bench/mqtt_raw_sub
for b in "$PUB" "$GEN" "$SUB"; do
	[ -x "$b" ] || { echo "  $b missing: run 'make bench'"; exit 1; }
done
command -v mosquitto_sub >/dev/null || { echo "  SKIP: mosquitto-clients missing (apt-get install mosquitto-clients)"; exit 0; }
TICK=$(getconf CLK_TCK)
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
io_calls() { awk '/^sysc[rw]/ { printf "%s ", $2 }' "/proc/$1/io" 2>/dev/null; }

echo "  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
	"mosquitto $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $3}'), libmosquitto" \
	"$(dpkg-query -W -f '${Version}\n' libmosquitto1 2>/dev/null | head -n 1)"
echo "  flat out: $N JSON messages (mqtt_pub_bench -j, window 1000); hub rate: $HUB_N messages at 10,000 msg/s (hub_gen, ${HUB_SECS} s)"
perf stat -e instructions:u -x, true 2>&1 | grep -q '^[0-9]' ||
	echo "  instruction counts: SKIP (perf stat cannot count instructions here: a VM without PMU or perf_event_paranoid); CPU time only"
start_mosquitto "max_inflight_messages 1000"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t bench-ready -r -q 1 -m ready || die "mosquitto_pub failed"

# publish LOAD TAG: the run's messages, their publisher's summary into $T/pub-TAG.txt
publish() {
	if [ "$1" = flat ]; then
		"$PUB" -p "$MQTT_PORT" -q 1 -n "$N" -w 1000 -j -i "pub-$2" >"$T/pub-$2.txt"
	else
		"$GEN" -p "$MQTT_PORT" -s 400 -c 50 -P 2 -d "$HUB_SECS" -q 1 >"$T/pub-$2.txt"
	fi
}
count_of() { if [ "$1" = flat ]; then echo "$N"; else echo "$HUB_N"; fi; }
filters() { if [ "$1" = flat ]; then echo "-t bench-ready -t bench/# -t benchj/#"; else echo "-t bench-ready -t hub/# -t hubj/#"; fi; }

# tool_run LOAD MODE(raw|libmosquitto) [WAIT_US]: mqtt_raw_sub's own figures
# (WAIT_US: coldchaind's moderation, a turn of 1-2 messages waits)
tool_run() {
	local load=$1 mode=$2 w=${3:-0} tag n out sub la b0 b1 label
	tag=$load-$mode$([ "$w" = 0 ] || echo "-w$w") label=$mode$([ "$w" = 0 ] || echo " +${w}µs")
	n=$(($(count_of "$load") + 1)) out=$T/sub-$tag.log # .log: lib.sh's finish looks for sanitizer reports there
	la=$(loadavg)
	# shellcheck disable=SC2046
	start_bg "mqtt_raw_sub $tag" "$out" "$SUB" -p "$MQTT_PORT" -q 1 -n "$n" -i "sub-$tag" -W "$w" \
		$([ "$mode" = libmosquitto ] && echo -L) $(filters "$load")
	sub=$LAST_PID
	wait_for "mqtt_raw_sub $mode subscribed" -t 30 grep -q 'first message' "$out" || { kill "$sub"; return 1; }
	b0=$(proc_cpu_ticks "$MQTT_PID")
	publish "$load" "$tag" || { kill "$sub"; return 1; }
	wait "$sub" || { echo "  $load $mode: incomplete: $(grep -v '^ ' "$out" | tail -n 2 | tr '\n' ' ')"; }
	b1=$(proc_cpu_ticks "$MQTT_PID")
	awk -v l="$load" -v m="$label" -v la="$la $(loadavg)" -v b=$((b1 - b0)) -v hz="$TICK" -v n="$n" '/summary:/ {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "  %-5s %-20s %6.2f µs per message; system calls per message: %.2f read, %.2f write, %.2f poll, %.2f sleep; broker %.1f µs  (load %s)\n",
			l, m, f["cpu_us_per_msg"], f["syscr_per_msg"], f["syscw_per_msg"], f["polls_per_msg"], f["sleeps_per_msg"], b / hz * 1e6 / n, la
		print f["cpu_us_per_msg"] > "'"$T/us-$tag"'" }' "$out"
}

# mosq_sub_run LOAD: mosquitto_sub, measured from /proc before it is stopped
mosq_sub_run() {
	local load=$1 tag=$1-mosquitto_sub n out sub c0 c1 io0 io1 la b0 b1
	n=$(($(count_of "$load") + 1)) out=$T/sub-$tag.log # .log: lib.sh's finish looks for sanitizer reports there
	la=$(loadavg)
	# shellcheck disable=SC2046
	start_bg "mosquitto_sub $tag" "$out" mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -i "sub-$tag" $(filters "$load")
	sub=$LAST_PID
	wait_for "mosquitto_sub subscribed" -t 30 test -s "$out" || { kill "$sub"; return 1; }
	c0=$(proc_cpu_ticks "$sub") io0=$(io_calls "$sub") b0=$(proc_cpu_ticks "$MQTT_PID")
	publish "$load" "$tag" || { kill "$sub"; return 1; }
	wait_for "mosquitto_sub received all" -t 300 sh -c "[ \$(wc -l <'$out') -ge $n ]" || echo "  (mosquitto_sub: $(wc -l <"$out") of $n lines)"
	c1=$(proc_cpu_ticks "$sub") io1=$(io_calls "$sub") b1=$(proc_cpu_ticks "$MQTT_PID")
	kill "$sub" 2>/dev/null
	wait "$sub" 2>/dev/null
	awk -v l="$load" -v c=$((c1 - c0)) -v hz="$TICK" -v n="$((n - 1))" -v a="$io0" -v b="$io1" -v la="$la $(loadavg)" -v bk=$((b1 - b0)) 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "  %-5s %-20s %6.2f µs per message; system calls per message: %.2f read, %.2f write (one a printed message); broker %.1f µs  (load %s)\n",
			l, "mosquitto_sub", c / hz * 1e6 / n, (y[1] - x[1]) / n, (y[2] - x[2]) / n, bk / hz * 1e6 / n, la }'
}

# daemon_run LOAD: coldchaind's CPU per message, its MQTT thread's, its system calls
daemon_run() {
	local load=$1 tag=$1-coldchaind n c0 c1 io0 io1 th0 th1 la marks
	n=$(count_of "$load")
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-$tag"; };
  max_channels = 30000;
  subscriptions = (
    { topic = "bench/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 1; },
    { topic = "benchj/{sensor}"; format = "json"; time = "time"; qos = 1;
      fields = { temperature = { path = "t"; unit = "C"; }; humidity = { path = "rh"; unit = "%"; }; }; },
    { topic = "hubj/{site}/{room}/{sensor}"; format = "json"; time = "ts"; qos = 1;
      fields = { temperature = { path = "t"; unit = "C"; }; }; },
    { topic = "hub/{site}/{room}/{sensor}/humidity"; quantity = "humidity"; unit = "%"; qos = 1; }
  );
};
outputs = { file = ( { name = "out"; path = "$T/out-$tag.lp"; } ); };
CONF
	} >"$DAEMON_CONF"
	rm -rf "$T/state"
	DAEMON_LOG=$T/coldchaind-$tag.log
	LOG_LEVEL=info start_daemon
	wait_for "mqtt connected" daemon_mqtt_connected || { stop_daemon; return 1; }
	la=$(loadavg)
	c0=$(proc_cpu_ticks "$DAEMON_PID") io0=$(io_calls "$DAEMON_PID") th0=$(thread_ticks "$DAEMON_PID")
	publish "$load" "$tag" || { stop_daemon; return 1; }
	# the end: a marker after the run's messages, stored once all before it are
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t bench/done/temperature -m 1 || die "mosquitto_pub failed"
	wait_for "coldchaind stored the marker" -t 300 grep -q 'sensor=done' "$T/out-$tag.lp" || echo "  (coldchaind: no marker)"
	c1=$(proc_cpu_ticks "$DAEMON_PID") io1=$(io_calls "$DAEMON_PID") th1=$(thread_ticks "$DAEMON_PID")
	marks=$(mqtt_thread_ticks "$th0" "$th1")
	stop_daemon
	awk -v l="$load" -v c=$((c1 - c0)) -v t="$marks" -v hz="$TICK" -v n="$n" -v a="$io0" -v b="$io1" -v la="$la $(loadavg)" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "  %-5s %-20s %6.2f µs per message (its MQTT thread %.2f); system calls per message: %.2f read, %.2f write  (load %s)\n",
			l, "coldchaind", c / hz * 1e6 / n, t / hz * 1e6 / n, (y[1] - x[1]) / n, (y[2] - x[2]) / n, la
		printf "%.3f\n", c / hz * 1e6 / n > "'"$T/us-$tag"'" }'
}
# projection LOAD SUFFIX: coldchaind with the raw reader in libmosquitto's
# place: D - (L - R), the daemon's figure less what libmosquitto driven as
# the daemon drives it takes over the raw reader (both with the wait); not
# below the raw reader's own figure
projection() {
	local l=$1 f
	for f in "$T/us-$l-libmosquitto$2" "$T/us-$l-raw$2" "$T/us-$l-coldchaind"; do [ -s "$f" ] || return 0; done
	awk -v l="$l" -v L="$(cat "$T/us-$l-libmosquitto$2")" -v R="$(cat "$T/us-$l-raw$2")" -v D="$(cat "$T/us-$l-coldchaind")" 'BEGIN {
		p = D - (L - R); fl = ""
		if (p < R) { p = R; fl = " (the daemon took less than its reader alone: bursts differ; the raw reader'"'"'s own figure)" }
		if (l == "flat")
			printf "  flat  projection: coldchaind %.2f - (libmosquitto %.2f - raw %.2f) = %.2f µs per message%s = cpu per point %.2f µs (target ≤ 5 µs): %s\n",
				D, L, R, p, fl, p / 2, (p / 2 <= 5 ? "would be met" : "would not be met")
		else
			printf "  hub   projection: coldchaind %.2f - (libmosquitto %.2f - raw %.2f) = %.2f µs per message%s = %.1f %% of a core at 10,000 msg/s (target ≤ 15 %%): %s\n",
				D, L, R, p, fl, p, (p <= 15 ? "would be met" : "would not be met") }'
}
# mqtt_thread_ticks BEFORE AFTER: the ticks of the threads named *mqtt*
mqtt_thread_ticks() {
	awk -v a="$1" -v b="$2" 'BEGIN { s = 0
		n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, ":"); if (kv[1] ~ /mqtt/) s -= kv[2] }
		n = split(b, y, " "); for (i = 1; i <= n; i++) { split(y[i], kv, ":"); if (kv[1] ~ /mqtt/) s += kv[2] }
		print s }'
}

WAIT=${BENCH_WAIT_US:-250} # coldchaind's moderation (drivers/mqtt.c)
for load in ${BENCH_LOADS:-flat hub}; do
	mosq_sub_run "$load" || echo "  $load mosquitto_sub: run failed"
	tool_run "$load" libmosquitto || echo "  $load libmosquitto: run failed"
	tool_run "$load" raw || echo "  $load raw: run failed"
	# the daemon waits after turns of 1-2 messages while >= 2,000 msg/s come:
	# the readers compared with it wait the same, so that a faster reader's
	# smaller bursts (more wake-ups per message) do not decide the comparison
	tool_run "$load" libmosquitto "$WAIT" || echo "  $load libmosquitto +${WAIT}µs: run failed"
	tool_run "$load" raw "$WAIT" || echo "  $load raw +${WAIT}µs: run failed"
	[ "${BENCH_DAEMON:-1}" = 0 ] || daemon_run "$load" || echo "  $load coldchaind: run failed"
	projection "$load" -w"$WAIT"
done
stop_mosquitto
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
