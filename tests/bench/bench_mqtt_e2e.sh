#!/bin/bash
# MQTT -> coldchaind -> InfluxDB end to end (issue 4 end-to-end, issue 7
# item 1).  The same publisher (mqtt_pub_bench: libmosquitto, a window of
# BENCH_WINDOW messages in flight) sends BENCH_N messages, half plain numbers
# and half JSON with two fields, through Debian's mosquitto, at QoS 0 and 1:
#   broker:     to mosquitto_sub (counts them): the practical ceiling;
#   coldchaind: two subscriptions (number, json), into a real influxd; until
#               the last point is queryable.
# Prints msg/s and points/s, coldchaind CPU per point (utime+stime from
# /proc/PID/stat), peak RSS (VmHWM), and the ratio to the broker's rate;
# and for both runs where the machine's CPU went (broker, coldchaind,
# influxd, and the whole machine from /proc/stat): on 2 cores the end-to-end
# run shares them with influxd, which the broker-only run does not.
# The CPU of every process of the run (publisher, mosquitto, coldchaind,
# influxd) is printed side by side, with influxd's per point, so that the
# ratio can be read on a machine where they share the cores (issue 18
# target 6).  BENCH_GZIP=0|1 (default 0): the output's gzip bodies, which
# cost coldchaind CPU and spare a loopback influxd nothing (it inflates
# them), but are what a box writing to a remote InfluxDB would use.
# BENCH_BATCH (default 5000): the output's batch.
# The end is polled every 10 ms over one HTTP connection (a process started
# per poll would itself take CPU from the run being measured).
# Figures only, never pass/fail (not part of `make test`).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"

# 1,000,000 messages: a sustained rate.  The end-to-end run has a fixed
# tail the broker run has not (the last partial batch waits up to flush =
# 200 ms, then one InfluxDB write): printed on its own line, it weighs ~10 %
# on a 2 s run and ~2 % on a 10 s one.
N=${BENCH_N:-1000000}
WINDOW=${BENCH_WINDOW:-1000}
PUB=$BUILD_DIR/bench/mqtt_pub_bench
[ -x "$PUB" ] || { echo "  $PUB missing: run 'make bench'"; exit 1; }
need_bin "$COLDCHAIND"
TICK=$(getconf CLK_TCK)
# points per run: even messages one number, odd ones JSON with two fields,
# except the last (odd) one, a number: the marker
NPOINTS=$((N / 2 + 2 * (N / 2 - 1) + 1))

now_s() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
# all CPUs' busy and total ticks (/proc/stat "cpu" line)
machine_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
# cpu_line LABEL T0 T1 BROKER0 BROKER1 CC0 CC1 INFLUX0 INFLUX1 "BUSY0 TOT0" "BUSY1 TOT1" PUB_S POINTS
cpu_line() {
	awk -v l="$1" -v a="$2" -v b="$3" -v m0="$4" -v m1="$5" -v c0="$6" -v c1="$7" -v i0="$8" -v i1="$9" \
		-v s0="${10}" -v s1="${11}" -v pub="${12:-0}" -v pts="${13:-0}" -v hz="$TICK" -v n="$(nproc)" 'BEGIN {
		split(s0, x, " "); split(s1, y, " "); w = b - a
		pp = ""
		if (pts > 0) pp = sprintf(" (%.2f µs per point)", (i1 - i0) / hz * 1e6 / pts)
		printf "             %s CPU in %.2f s: publisher %.2f s, mosquitto %.2f s, coldchaind %.2f s, influxd %.2f s%s; machine busy %.0f %% of %d cores\n",
			l, w, pub, (m1 - m0) / hz, (c1 - c0) / hz, (i1 - i0) / hz, pp,
			100 * (y[1] - x[1]) / (y[2] - x[2]), n }'
}
# pub_cpu FILE: the publisher's CPU seconds from its summary line ("CPU 1.53 s")
pub_cpu() { sed -n 's/.*, CPU \([0-9.]*\) s.*$/\1/p' "$1"; }
# thread_line BEFORE AFTER: coldchaind's threads by CPU seconds in the run
thread_line() {
	awk -v a="$1" -v b="$2" -v hz="$TICK" 'BEGIN {
		n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, ":"); t0[kv[1]] += kv[2] }
		n = split(b, y, " "); for (i = 1; i <= n; i++) { split(y[i], kv, ":"); t1[kv[1]] += kv[2] }
		s = ""; for (k in t1) if (t1[k] - t0[k] > 0) s = s sprintf(" %s %.2f s,", k, (t1[k] - t0[k]) / hz)
		print "             coldchaind threads:" s }'
}
# influx_writes: influxd's own count of /write requests and points
# written (/debug/vars "httpd": writeReq, pointsWrittenOK)
influx_writes() {
	curl -sS --max-time 10 "$(influx_url)/debug/vars" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
h = [v for k, v in d.items() if k.startswith("httpd")][0]["values"]
print(h.get("writeReq", 0), h.get("pointsWrittenOK", 0))' 2>/dev/null || echo "0 0"
}
# wait_point QUERY: polls InfluxDB every 10 ms until QUERY returns a row,
# over one kept-alive HTTP connection (a curl per poll cost more CPU than
# the broker-only run has to spare for its own end test)
wait_point() {
	/usr/bin/python3 - "$INFLUX_PORT" "$INFLUX_DB" "$1" <<'PY'
import http.client, sys, time, urllib.parse
port, db, q = sys.argv[1:4]
path = "/query?" + urllib.parse.urlencode({"db": db, "q": q})
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    conn.request("GET", path)
    if b'"values"' in conn.getresponse().read():
        sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
PY
}
start_influxd
start_mosquitto "max_inflight_messages $WINDOW"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t bench-ready -r -m ready || die "mosquitto_pub failed"

# end_session QOS: ends the persistent session of the end-to-end run's
# daemon (client id cc-bench-QOS), which outlives it: the next broker run's
# QoS 1 messages (up to max_queued_messages, 100,000) would wait there for
# the next end-to-end run, which would store them too (150,000 more points,
# 10 % more work in the pairs after the first). A clean connect with its
# client id ends it.
end_session() {
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -i "cc-bench-$1" -t bench-session-end -E -W 10 2>>"$T/sub.log" ||
		echo "             could not end coldchaind's session cc-bench-$1: the next run may count its queued messages"
}

# broker_run QOS: prints the pub->sub rate (msg/s), or "lost" figures
broker_run() {
	local q=$1 out=$T/sub-$1.txt sub t0 t1 got m0 m1 i0 i1 s0 s1
	: >"$out"
	# bash's `time` reports mosquitto_sub's CPU (user, system) when it exits
	(
		TIMEFORMAT='%3U %3S'
		time mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q "$q" -t bench-ready -t 'bench/#' -t 'benchj/#' \
			-C $((N + 1)) >"$out" 2>>"$T/sub.log"
	) 2>"$T/sub-cpu-$q.txt" &
	sub=$!
	# the retained bench-ready message arrives once the subscription is in
	wait_for "mosquitto_sub subscribed" -t 30 test -s "$out" || { kill "$sub"; return 1; }
	m0=$(proc_cpu_ticks "$MQTT_PID") i0=$(proc_cpu_ticks "$INFLUX_PID") s0=$(machine_ticks)
	t0=$(now_s)
	"$PUB" -p "$MQTT_PORT" -q "$q" -n "$N" -w "$WINDOW" -i "pub-broker-$q" >"$T/pub-broker-$q.txt" || return 1
	while kill -0 "$sub" 2>/dev/null; do sleep 0.02; done
	t1=$(now_s)
	m1=$(proc_cpu_ticks "$MQTT_PID") i1=$(proc_cpu_ticks "$INFLUX_PID") s1=$(machine_ticks)
	kill "$sub" 2>/dev/null
	wait "$sub" 2>/dev/null
	got=$(($(wc -l <"$out") - 1))
	BROKER_RATE=$(rate "$got" "$t0" "$t1") BROKER_QOS=$q
	echo "  broker   QoS $q: $got of $N messages to mosquitto_sub in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s: $BROKER_RATE msg/s  [publisher: $(cut -d: -f2 "$T/pub-broker-$q.txt" | sed 's/^ *//')]"
	SUB_CPU=$(awk '{ printf "%.2f", $1 + $2 }' "$T/sub-cpu-$q.txt")
	cpu_line "broker run" "$t0" "$t1" "$m0" "$m1" 0 0 "$i0" "$i1" "$s0" "$s1" "$(pub_cpu "$T/pub-broker-$q.txt")"
	# what the run's own processes took: publisher, mosquitto, mosquitto_sub
	BROKER_CPU=$(awk -v p="$(pub_cpu "$T/pub-broker-$q.txt")" -v m=$((m1 - m0)) -v s="$SUB_CPU" -v hz="$TICK" \
		'BEGIN { printf "%.2f", p + m / hz + s }')
	echo "             mosquitto_sub $SUB_CPU s"
}

# e2e_run QOS [json]: json: every message JSON with a time field (issue 18
# target 1)
e2e_run() {
	local q=$1 mode=${2:-mixed} npoints=$NPOINTS w0 w1 th0 th1 io0 io1 t0 t0ns t1 tp c0 c1 pts hwm rss_end perf_pid m0 m1 i0 i1 s0 s1
	DAEMON_LOG=$T/coldchaind-$q.log
	# an empty database: influxd's compactions of an earlier run's points
	# would otherwise count in this run's influxd CPU
	influx_post "DROP DATABASE \"$INFLUX_DB\"" >/dev/null && influx_post "CREATE DATABASE \"$INFLUX_DB\"" >/dev/null ||
		die "cannot empty database $INFLUX_DB"
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-bench-$q"; };
  subscriptions = (
    { topic = "bench/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = $q; },
    { topic = "benchj/{sensor}"; format = "json"; qos = $q; $([ "$mode" = json ] && echo 'time = "time";')
      fields = { temperature = { path = "t"; unit = "C"; }; humidity = { path = "rh"; unit = "%"; }; }; }
  );
};
outputs = {
  influxdb = ( { name = "bench"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = ${BENCH_BATCH:-5000}; flush = "200ms";
                 gzip = $([ "${BENCH_GZIP:-0}" = 1 ] && echo true || echo false); } );
};
CONF
	} >"$DAEMON_CONF"
	rm -rf "$T/state"
	LOG_LEVEL=info start_daemon
	wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
	t0ns=$(date +%s%N)
	w0=$(influx_writes)
	m0=$(proc_cpu_ticks "$MQTT_PID") i0=$(proc_cpu_ticks "$INFLUX_PID") s0=$(machine_ticks)
	t0=$(now_s)
	c0=$(proc_cpu_ticks "$DAEMON_PID") th0=$(thread_ticks "$DAEMON_PID")
	io0=$(awk '/^sysc[rw]/ { printf "%s ", $2 }' "/proc/$DAEMON_PID/io")
	# BENCH_PERF=DIR: a perf profile of coldchaind during the run, in DIR
	if [ -n "${BENCH_PERF:-}" ]; then
		perf record -q -F 2000 ${BENCH_PERF_OPTS:--g} -p "$DAEMON_PID" -o "$BENCH_PERF/perf-qos$q.data" 2>/dev/null &
		perf_pid=$!
	fi
	"$PUB" -p "$MQTT_PORT" -q "$q" -n "$N" -w "$WINDOW" -i "pub-e2e-$q" $([ "$mode" = json ] && echo -j) \
		>"$T/pub-e2e-$q.txt" || return 1
	tp=$(now_s)
	if ! wait_point "SELECT value FROM temperature WHERE sensor='last' AND time >= $t0ns"; then
		echo "  coldchaind QoS $q: the last point never arrived"
		stop_daemon
		end_session "$q"
		return 1
	fi
	t1=$(now_s)
	c1=$(proc_cpu_ticks "$DAEMON_PID") th1=$(thread_ticks "$DAEMON_PID")
	io1=$(awk '/^sysc[rw]/ { printf "%s ", $2 }' "/proc/$DAEMON_PID/io")
	m1=$(proc_cpu_ticks "$MQTT_PID") i1=$(proc_cpu_ticks "$INFLUX_PID") s1=$(machine_ticks)
	if [ -n "${BENCH_PERF:-}" ]; then
		kill -INT "$perf_pid"
		wait "$perf_pid"
	fi
	w1=$(influx_writes)
	hwm=$(proc_status_mib "$DAEMON_PID" VmHWM)
	rss_end=$(proc_status_mib "$DAEMON_PID" VmRSS)
	pts=$(influx_query "SELECT count(value) FROM temperature, humidity WHERE time >= $t0ns" | influx_rows |
		awk -F'\t' '{ s += $4 } END { print s + 0 }')
	E2E_RATE=$(rate "$N" "$t0" "$t1")
	[ "$mode" = json ] && npoints=$((2 * (N - 1) + 1))
	echo "  coldchaind QoS $q ($mode): $N messages, $pts of $npoints points queryable in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s:" \
		"$E2E_RATE msg/s, $(rate "$pts" "$t0" "$t1") points/s  [publisher: $(cut -d: -f2 "$T/pub-e2e-$q.txt" | sed 's/^ *//')]"
	echo "             CPU $(awk -v c=$((c1 - c0)) -v t="$TICK" -v p="$pts" 'BEGIN { printf "%.2f s = %.1f", c / t, c / t * 1e6 / p }') µs per point;" \
		"peak RSS (VmHWM) $hwm MiB, RSS at the end $rss_end MiB"
	# a ratio only against the broker run at the same QoS (BENCH_QOS=0 runs
	# none at QoS 1 before the JSON run)
	if [ "${BROKER_QOS:-}" = "$q" ]; then
		RATIO=$(awk -v a="$E2E_RATE" -v b="$BROKER_RATE" 'BEGIN { printf "%.0f", 100 * a / b }')
		echo "             ratio to the broker's own rate: $RATIO % (target >= 90 %)"
	else
		echo "             ratio to the broker's own rate: no broker run at QoS $q (BENCH_QOS)"
	fi
	echo "             system calls per message (/proc/PID/io): $(awk -v a="$io0" -v b="$io1" -v n="$N" 'BEGIN {
		split(a, x, " "); split(b, y, " "); printf "%.2f reading, %.2f writing", (y[1] - x[1]) / n, (y[2] - x[2]) / n }')"
	if [ "$mode" = json ]; then
		echo "  JSON QoS $q: cpu per point $(awk -v c=$((c1 - c0)) -v t="$TICK" -v p="$pts" 'BEGIN { printf "%.1f", c / t * 1e6 / p }') µs (target ≤ 5 µs)"
	fi
	cpu_line "end-to-end run" "$t0" "$t1" "$m0" "$m1" "$c0" "$c1" "$i0" "$i1" "$s0" "$s1" "$(pub_cpu "$T/pub-e2e-$q.txt")" "$pts"
	thread_line "$th0" "$th1"
	# On a machine shared with other work the wall-clock ratio above moves
	# with the load; both runs keep two cores busy, so the ratio of the CPU
	# their own processes took is the rate ratio on two cores they alone use
	# (the same messages as the broker run: not the JSON-only run).
	if [ "$mode" != json ]; then
		read -r e2e_cpu CPU_RATIO <<<"$(awk -v p="$(pub_cpu "$T/pub-e2e-$q.txt")" -v m=$((m1 - m0)) -v c=$((c1 - c0)) \
			-v i=$((i1 - i0)) -v hz="$TICK" -v b="$BROKER_CPU" 'BEGIN { e = p + (m + c + i) / hz; printf "%.2f %.0f", e, 100 * b / e }')"
		echo "             QoS $q CPU ratio: broker run $BROKER_CPU s (publisher, mosquitto, mosquitto_sub) / end-to-end" \
			"$e2e_cpu s (publisher, mosquitto, coldchaind, influxd) = $CPU_RATIO % (target >= 90 %)"
	fi
	echo "             influxd: $(awk -v a="$w0" -v b="$w1" 'BEGIN { split(a, x, " "); split(b, y, " "); r = y[1] - x[1]
		printf "%d write requests, %.0f points per request", r, (r > 0 ? (y[2] - x[2]) / r : 0) }');" \
		"gzip bodies: $([ "${BENCH_GZIP:-0}" = 1 ] && echo on || echo off);" \
		"the last point was queryable $(awk -v a="$tp" -v b="$t1" 'BEGIN { printf "%.0f", 1000 * (b - a) }') ms after the publisher finished"
	[ "${BROKER_QOS:-}" = "$q" ] && echo "             coldchaind took $(awk -v c=$((c1 - c0)) -v t="$TICK" -v s="$SUB_CPU" 'BEGIN { printf "%.0f %%", 100 * c / t / s }')" \
		"of the CPU mosquitto_sub took to receive the same messages (and print them); influxd's CPU is what the broker run did not need"
	[ "$pts" -eq "$npoints" ] ||
		echo "             NOTE: $pts points stored where $npoints were sent: the run's figures count other work"
	stop_daemon
	end_session "$q"
}

echo "  $N messages per run ($NPOINTS points), publisher window $WINDOW, mosquitto $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $3}')"
# BENCH_PAIRS (default 3) broker and end-to-end runs in turn at each QoS:
# on two cores one pair's ratio moves by ±5 % with the peers' own CPU
# (influxd's, the broker's: docs/performance.md, "A saturated QoS 0 stream"), so the
# median of the pairs is the figure, printed with every pair's.
PAIRS=${BENCH_PAIRS:-3}
for q in ${BENCH_QOS:-0 1}; do
	ratios="" cpu_ratios=""
	for ((pair = 1; pair <= PAIRS; pair++)); do
		[ "$PAIRS" -gt 1 ] && echo "  QoS $q, pair $pair of $PAIRS:"
		RATIO="" CPU_RATIO=""
		broker_run "$q" || echo "  broker QoS $q: run failed"
		[ -n "${BENCH_JSON_ONLY:-}" ] || e2e_run "$q" || echo "  coldchaind QoS $q: run failed"
		ratios="$ratios ${RATIO:--}" cpu_ratios="$cpu_ratios ${CPU_RATIO:--}"
	done
	[ "$PAIRS" -gt 1 ] && [ -z "${BENCH_JSON_ONLY:-}" ] &&
		echo "  QoS $q over $PAIRS pairs: ratio to the broker's own rate median $(printf '%s\n' $ratios | median) % ($(echo $ratios | tr ' ' /) %)," \
			"CPU ratio median $(printf '%s\n' $cpu_ratios | median) % ($(echo $cpu_ratios | tr ' ' /) %) (target >= 90 %)"
done
# issue 18 target 1: every message JSON with a time field, at QoS 1
# (BENCH_JSON_ONLY=1 BENCH_QOS=1: the broker's run, then only this one)
e2e_run 1 json || echo "  coldchaind QoS 1 (json): run failed"
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
