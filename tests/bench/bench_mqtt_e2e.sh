#!/bin/bash
# MQTT -> coldchaind -> InfluxDB end to end (issue 4 end-to-end, issue 7
# item 1).  The same publisher (mqtt_pub_bench: libmosquitto, a window of
# BENCH_WINDOW messages in flight) sends BENCH_N messages, half plain numbers
# and half JSON with two fields, through Debian's mosquitto, at QoS 0 and 1:
#   broker:     to mosquitto_sub (counts them): the practical ceiling;
#   coldchaind: two subscriptions (number, json), into a real influxd; until
#               the last point is queryable.
# Prints msg/s and points/s, coldchaind CPU per point (utime+stime from
# /proc/PID/stat), peak RSS (VmHWM), and the ratio to the broker's rate.
# Figures only, never pass/fail (not part of `make test`).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=${BENCH_N:-200000}
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
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

start_influxd
start_mosquitto "max_inflight_messages $WINDOW"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t bench-ready -r -m ready || die "mosquitto_pub failed"

# broker_run QOS: prints the pub->sub rate (msg/s), or "lost" figures
broker_run() {
	local q=$1 out=$T/sub-$1.txt sub t0 t1 got
	: >"$out"
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q "$q" -t bench-ready -t 'bench/#' -t 'benchj/#' \
		-C $((N + 1)) >"$out" 2>>"$T/sub.log" &
	sub=$!
	# the retained bench-ready message arrives once the subscription is in
	wait_for "mosquitto_sub subscribed" -t 30 test -s "$out" || { kill "$sub"; return 1; }
	t0=$(now_s)
	"$PUB" -p "$MQTT_PORT" -q "$q" -n "$N" -w "$WINDOW" -i "pub-broker-$q" >"$T/pub-broker-$q.txt" || return 1
	sub_done() { ! kill -0 "$sub" 2>/dev/null; }
	wait_for "mosquitto_sub got $N" -t 120 sub_done
	t1=$(now_s)
	kill "$sub" 2>/dev/null
	wait "$sub" 2>/dev/null
	got=$(($(wc -l <"$out") - 1))
	BROKER_RATE=$(rate "$got" "$t0" "$t1")
	echo "  broker   QoS $q: $got of $N messages to mosquitto_sub in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s: $BROKER_RATE msg/s  [publisher: $(cut -d: -f2 "$T/pub-broker-$q.txt" | sed 's/^ *//')]"
}

# e2e_run QOS
e2e_run() {
	local q=$1 t0 t0ns t1 c0 c1 pts hwm rss_end perf_pid
	DAEMON_LOG=$T/coldchaind-$q.log
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-bench-$q"; };
  subscriptions = (
    { topic = "bench/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = $q; },
    { topic = "benchj/{sensor}"; format = "json"; qos = $q;
      fields = { temperature = { path = "t"; unit = "C"; }; humidity = { path = "rh"; unit = "%"; }; }; }
  );
};
outputs = {
  influxdb = ( { name = "bench"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 5000; flush = "200ms"; } );
};
CONF
	} >"$DAEMON_CONF"
	rm -rf "$T/state"
	LOG_LEVEL=info start_daemon
	wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
	t0ns=$(date +%s%N)
	t0=$(now_s)
	c0=$(cpu_ticks "$DAEMON_PID")
	# BENCH_PERF=DIR: a perf profile of coldchaind during the run, in DIR
	if [ -n "${BENCH_PERF:-}" ]; then
		perf record -q -F 2000 ${BENCH_PERF_OPTS:--g} -p "$DAEMON_PID" -o "$BENCH_PERF/perf-qos$q.data" 2>/dev/null &
		perf_pid=$!
	fi
	"$PUB" -p "$MQTT_PORT" -q "$q" -n "$N" -w "$WINDOW" -i "pub-e2e-$q" >"$T/pub-e2e-$q.txt" || return 1
	last_in() { influx_has "SELECT value FROM temperature WHERE sensor='last' AND time >= $t0ns"; }
	if ! wait_for "the last point in InfluxDB" -t 300 last_in; then
		echo "  coldchaind QoS $q: the last point never arrived"
		stop_daemon
		return 1
	fi
	t1=$(now_s)
	c1=$(cpu_ticks "$DAEMON_PID")
	if [ -n "${BENCH_PERF:-}" ]; then
		kill -INT "$perf_pid"
		wait "$perf_pid"
	fi
	hwm=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$DAEMON_PID/status")
	rss_end=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$DAEMON_PID/status")
	pts=$(influx_query "SELECT count(value) FROM temperature, humidity WHERE time >= $t0ns" | influx_rows |
		awk -F'\t' '{ s += $4 } END { print s + 0 }')
	E2E_RATE=$(rate "$N" "$t0" "$t1")
	echo "  coldchaind QoS $q: $N messages, $pts of $NPOINTS points queryable in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s:" \
		"$E2E_RATE msg/s, $(rate "$pts" "$t0" "$t1") points/s  [publisher: $(cut -d: -f2 "$T/pub-e2e-$q.txt" | sed 's/^ *//')]"
	echo "             CPU $(awk -v c=$((c1 - c0)) -v t="$TICK" -v p="$pts" 'BEGIN { printf "%.2f s = %.1f", c / t, c / t * 1e6 / p }') µs per point;" \
		"peak RSS (VmHWM) $hwm MiB, RSS at the end $rss_end MiB"
	echo "             ratio to the broker's own rate: $(awk -v a="$E2E_RATE" -v b="$BROKER_RATE" 'BEGIN { printf "%.0f %%", 100 * a / b }')" \
		"(target >= 90 %); journal on disk: $(du -cb "$T/state/journal"/*.seg | tail -n 1 |
			awk -v p="$pts" '{ printf "%.0f bytes per point", $1 / p }')"
	stop_daemon
}

echo "  $N messages per run ($NPOINTS points), publisher window $WINDOW, mosquitto $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $3}')"
for q in 0 1; do
	broker_run "$q" || echo "  broker QoS $q: run failed"
	e2e_run "$q" || echo "  coldchaind QoS $q: run failed"
done
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
