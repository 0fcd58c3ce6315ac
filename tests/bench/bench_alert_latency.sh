#!/bin/bash
# bench_alert_latency.sh - alarm latency from sample to MQTT alarm message
# (issue 18 target 5: p99 ≤ 2 ms idle and under 30,000 msg/s of QoS 1).
# alarm_lat_probe publishes room A's temperature over MQTT (QoS 1), hot and
# normal in turn, and times each reading from just before the write() of its
# PUBLISH to the read() that brings the raise or clear it causes on
# outputs.alerts_mqtt's topic (one thread on two raw sockets of its own with
# TCP_NODELAY, CLOCK_MONOTONIC: no clocks to compare, no client library's
# queue or network thread in the figure).  Nothing in the
# configuration may hold an event back: no on/off-delay, no notification rate
# limit, no flood grouping (the probe waits BENCH_GAP_MS between events, and
# the flood start is above the raises a second that allows).  The loaded run
# adds a second publisher (alarm_lat_probe -L) at BENCH_LOAD msg/s of QoS 1 on
# 1,000 other channels the daemon subscribes to.  The state directory is on
# the same disk as everything else (fsync costs what it costs there).
# BENCH_EVENTS events per run (default 1000).  Figures only; not in make test.
# Honest about the machine: it prints the rate the loader reached (the target
# assumes 30,000 msg/s), how busy the cores were, each process's CPU, and for
# the daemon's threads on the alarm's path how long each waited for a CPU per
# time it ran (/proc/PID/task/TID/schedstat: a wake-up's scheduling delay).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# BENCH_PROBE: another probe binary (e.g. an older build, to compare probes
# against the same daemon); BENCH_PROBE_SLICE=0: the probe keeps the default
# scheduler slice (-S)
PROBE=${BENCH_PROBE:-$BUILD_DIR/bench/alarm_lat_probe}
[ -x "$PROBE" ] || { echo "  SKIP: $PROBE missing: run 'make bench'"; exit 0; }
need_bin "$COLDCHAIND"
command -v mosquitto >/dev/null || { echo "  SKIP: mosquitto (the broker) missing: apt-get install mosquitto"; exit 0; }
EVENTS=${BENCH_EVENTS:-1000}
GAP=${BENCH_GAP_MS:-20}
LOAD=${BENCH_LOAD:-30000}
TICK=$(getconf CLK_TCK)
# context switches of all the daemon's threads (each a wake-up on the shared cores)
ctxsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'; }
cpu_s() { awk -v t="$TICK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# all cores' busy and total jiffies (/proc/stat's cpu line; idle + iowait not busy)
cores() { awk '/^cpu / { t = 0; for (i = 2; i <= 11; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
# the cores' busy share in % between two cores() readings (busy0 tot0 busy1 tot1)
busy_pct() { awk -v b="$(($3 - $1))" -v t="$(($4 - $2))" 'BEGIN { printf "%.0f", t ? 100 * b / t : 0 }'; }
# "NAME run_ns wait_ns slices" per thread of PID (schedstat)
threads() {
	local d
	for d in /proc/"$1"/task/*; do
		printf '%s %s\n' "$(tr ' ' _ <"$d/comm")" "$(cat "$d/schedstat")"
	done 2>/dev/null
}
# the alarm path's threads between two threads() snapshots: CPU wait per run
thread_waits() {
	awk 'NR == FNR { r[$1] = $2; w[$1] = $3; n[$1] = $4; next }
	     $1 ~ /^(mqtt|mqtt:alerts|out:alerts_mqtt)$/ && $4 > n[$1] {
		printf "    thread %-15s %7d runs, CPU %.2f s, waited for a CPU %.1f µs per run (%.2f s)\n",
			$1, $4 - n[$1], ($2 - r[$1]) / 1e9, ($3 - w[$1]) / 1e3 / ($4 - n[$1]), ($3 - w[$1]) / 1e9 }' "$1" "$2"
}

# BENCH_BROKER_CONF: extra mosquitto.conf lines (one per line), to try a
# broker setting against the same daemon
start_mosquitto "$(printf '%b' "${BENCH_BROKER_CONF:-}")"
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "b1"; limits = { warn_high = 7.0; alarm_high = 60.0; on_delay = "0s"; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature";
  lots = ( { id = "L1"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; } ); } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; off_delay = "0s"; on_delay = "0s"; renotify = "0s"; escalate = "0s";
  notify = { burst = 10000; interval = "0s"; }; flood = { start = 60; end = 1; window = "1s"; }; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-bench-latency"; };
  subscriptions = (
    { topic = "lat/{sensor}/temperature"; quantity = "temperature"; room = "A"; qos = 1; },
    { topic = "load/{sensor}/temperature"; quantity = "temperature"; qos = 1; }
  );
};
outputs = {
  file = ( { path = "$T/points.lp"; } );
  alerts_mqtt = { prefix = "bench"; broker = { host = "127.0.0.1"; port = $MQTT_PORT; }; };
};
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "daemon subscribed" daemon_mqtt_connected || die "coldchaind did not connect to the broker"
SLICE_OPT=()
[ "${BENCH_PROBE_SLICE:-1}" = 0 ] && SLICE_OPT=(-S)
probe() { "$PROBE" -p "$MQTT_PORT" -t lat/th-a1/temperature -a bench/events -A A/temp_high -n "$EVENTS" -g "$GAP" -l "$1" "${SLICE_OPT[@]}"; }

echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) (before the idle run)"
c0=$(cpu_s "$DAEMON_PID") x0=$(ctxsw "$DAEMON_PID")
read -r busy0 tot0 <<<"$(cores)"
threads "$DAEMON_PID" >"$T/threads0"
probe idle
threads "$DAEMON_PID" >"$T/threads1"
read -r busy1 tot1 <<<"$(cores)"
echo "  coldchaind during the idle run: CPU $(awk -v a="$c0" -v b="$(cpu_s "$DAEMON_PID")" 'BEGIN { printf "%.2f", b - a }') s," \
	"$(($(ctxsw "$DAEMON_PID") - x0)) context switches; its alarm path's threads:"
thread_waits "$T/threads0" "$T/threads1"
# Idle, the cores halt between events: a thread woken onto a halted core
# waits until it runs again, which on a VM is when the host runs that vCPU
# (docs/performance.md, "Where the quiet machine's idle tail is": perf sched timehist
# showed such waits of ~3 ms on the 2-core VM, the tail of its idle runs).
echo "  all $(nproc) cores $(busy_pct "$busy0" "$tot0" "$busy1" "$tot1") % busy" \
	"in the idle run (an idle core halts; on a VM a thread woken onto it waits for the host to run that vCPU)"

if [ "$LOAD" = 0 ]; then # BENCH_LOAD=0: the idle run only
	stop_daemon >/dev/null || echo "  (coldchaind exited with status $?: see its log)"
	PASSES=1
	finish
	exit 0
fi
start_bg load "$T/load.out" "$PROBE" -p "$MQTT_PORT" -L "$LOAD" -c 1000
LOAD_PID=$LAST_PID
wait_for "load flowing" file_has "s0999" "$T/points.lp" || die "the load did not reach coldchaind"
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) (before the loaded run)"
c0=$(cpu_s "$DAEMON_PID") x0=$(ctxsw "$DAEMON_PID") b0=$(cpu_s "$MQTT_PID") l0=$(cpu_s "$LOAD_PID")
read -r busy0 tot0 <<<"$(cores)"
threads "$DAEMON_PID" >"$T/threads0"
t0=$(date +%s.%N)
probe "under $LOAD msg/s QoS 1"
t1=$(date +%s.%N)
threads "$DAEMON_PID" >"$T/threads1"
read -r busy1 tot1 <<<"$(cores)"
echo "  coldchaind during the loaded run: CPU $(awk -v a="$c0" -v b="$(cpu_s "$DAEMON_PID")" 'BEGIN { printf "%.2f", b - a }') s," \
	"$(($(ctxsw "$DAEMON_PID") - x0)) context switches; its alarm path's threads:"
thread_waits "$T/threads0" "$T/threads1"
echo "  in the loaded run ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s): mosquitto CPU" \
	"$(awk -v a="$b0" -v b="$(cpu_s "$MQTT_PID")" 'BEGIN { printf "%.2f", b - a }') s, the loader" \
	"$(awk -v a="$l0" -v b="$(cpu_s "$LOAD_PID")" 'BEGIN { printf "%.2f", b - a }') s; all $(nproc) cores" \
	"$(busy_pct "$busy0" "$tot0" "$busy1" "$tot1") % busy" \
	"(the machine's, other users included)"
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) (after the loaded run)"
stop_pid "$LOAD_PID"
wait_for "load report" file_has "load:" "$T/load.out"
cat "$T/load.out"
# the target's condition: 30,000 msg/s reached, on cores not saturated
awk -v asked="$LOAD" -v b="$((busy1 - busy0))" -v t="$((tot1 - tot0))" '/load:/ {
	for (i = 1; i <= NF; i++) if ($i == "msg/s") rate = $(i - 1)
	sat = t && b / t >= 0.95
	if (rate + 0 < 0.95 * asked)
		printf "  NOTE: the loader reached %s of %s msg/s asked (%.0f %%): this run is not under the target'"'"'s load; its loaded p99 is not comparable with the target\n",
			rate, asked, 100 * rate / asked
	if (sat)
		print "  NOTE: all cores were >= 95 % busy (other users included): the tails measure the machine'"'"'s contention as much as the alarm path"
	if (rate + 0 >= 0.95 * asked && !sat)
		printf "  the loader reached %s of %s msg/s asked on cores not saturated: the target'"'"'s condition holds\n", rate, asked
}' "$T/load.out"
st=0
stop_daemon >/dev/null || st=$?
[ "$st" = 0 ] || echo "  (coldchaind exited with status $st: see its log)"
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
