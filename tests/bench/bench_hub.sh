#!/bin/bash
# bench_hub.sh - a cooperative's hub of 2,000 sites (issue 18 target 2):
# 100,000 MQTT channels (2,000 sites x 50, one message per channel every
# 10 s = 10,000 msg/s, spread evenly: tests/bench/hub_gen), 2,000 rooms with
# alarms, 10,000 lots with shelf-life models (tests/bench/hub_config.sh), on
# Debian's mosquitto.  The daemon stores into its file output (line protocol
# on disk: influxd on the same 2 shared cores would measure influxd; the
# file is also what lets the bench count every stored point).
# Prints, each with its target: peak RSS (VmHWM) and bytes per channel; CPU %
# of one core over the run (utime+stime from /proc/PID/stat); `coldchainctl
# status` time (median of 5) and size; GET / of the web page (public_status),
# a room's, a lot's and the alarms' page, each with its time (median of 5)
# and size; SIGHUP reload time (from the signal to the
# "configuration reloaded" log line) with the messages sent vs the points
# stored over a run that crosses the reload; start-up with a 1 GiB journal
# (filled by tests/bench/hub_journal through the journal's API) and a day
# of the rooms' charts (tests/bench/hub_trend.py) to the "started" log line
# and to the control socket answering.
# Environment: HUB_SECONDS (60), HUB_SITES (2000), HUB_CHANNELS (50),
# HUB_LOTS (5), HUB_PERIOD (10 s between a channel's messages: HUB_SITES=400
# HUB_PERIOD=2 keeps the hub's 10,000 msg/s with a fifth of the channels),
# HUB_JOURNAL_MB (1024; 0 = skip the start-up figure), BENCH_PERF=DIR (perf
# profiles of coldchaind: DIR/perf-hub-first.data over the first third of
# the run, every channel made, DIR/perf-hub-reload.data over the SIGHUP
# reload, and DIR/perf-hub-steady.data over the steady
# load at the end).
# Figures only, never pass/fail (not part of `make test`).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bench_lib.sh"

SECS=${HUB_SECONDS:-60}
SITES=${HUB_SITES:-2000}
CHANNELS=${HUB_CHANNELS:-50}
LOTS=${HUB_LOTS:-5}
PERIOD=${HUB_PERIOD:-10}
JOURNAL_MB=${HUB_JOURNAL_MB:-1024}
GEN=$BUILD_DIR/bench/hub_gen
FILL=$BUILD_DIR/bench/hub_journal
CTL=$BUILD_DIR/coldchainctl
if [ ! -x "$GEN" ] || [ ! -x "$FILL" ]; then echo "  $GEN or $FILL missing: run 'make bench'"; exit 1; fi
need_bin "$COLDCHAIND" "$CTL"
command -v curl >/dev/null || { echo "  SKIP: curl missing (apt-get install curl)"; exit 0; }
TICK=$(getconf CLK_TCK)
NCHAN=$((SITES * CHANNELS))

now_ms() { date +%s%3N; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/status"; }
# met VALUE OP TARGET: "met" or "not met"
met() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = op == "<=" ? v <= t : v >= t; print ok ? "met" : "not met" }'; }
# log_ms PATTERN: the time (epoch ms) of the last daemon log line matching PATTERN
log_ms() {
	grep -- "$1" "$DAEMON_LOG" | tail -n 1 | cut -d' ' -f1 |
		{ read -r ts && [ -n "$ts" ] && echo $(($(date -u -d "${ts%Z}Z" +%s%3N))); }
}
elapsed_ge() { [ $(($(now_ms) - t0)) -ge "$1" ]; }
# turns WHEN: the MQTT client's read turns so far (its last self-metrics line):
# messages per turn, and how many turns were moderated (drivers/mqtt.c)
turns() {
	grep '^coldchaind_mqtt,' "$OUT" | grep -v subscription= | tail -n 1 | awk -v what="$1" '{
		n = split($2, f, ","); for (i = 1; i <= n; i++) { split(f[i], kv, "="); sub(/i$/, "", kv[2]); v[kv[1]] = kv[2] }
		if (v["read_wakes"] > 0)
			printf "    MQTT read turns %s: %d for %d messages (%.1f a turn), %d of them moderated; held off %d times\n",
				what, v["read_wakes"], v["messages"], v["messages"] / v["read_wakes"], v["moderated"], v["moderation_held"] }'
}
# stage LABEL: RSS and peak RSS now (where the peak is reached)
stage() { echo "    RSS $1: $(($(kib VmRSS "$DAEMON_PID") / 1024)) MiB, peak so far $(($(kib VmHWM "$DAEMON_PID") / 1024)) MiB"; }
# stored: hub points (temperature/humidity of an sNNNN-kKK sensor) in the file output
stored() { grep -cE '^(temperature|humidity),.*sensor=s[0-9]{4}-k[0-9]{2}' "$OUT" 2>/dev/null || echo 0; }

start_mosquitto "max_inflight_messages 1000"
cp "$ROOT_DIR/config/profiles.conf" "$T/profiles.conf"
OUT=$T/points.lp
WEB_PORT=$(free_port)
SITES=$SITES CHANNELS=$CHANNELS LOTS=$LOTS MQTT_PORT=$MQTT_PORT STATE_DIR=$T/state OUT=$OUT WEB_PORT=$WEB_PORT \
	bash "$ROOT_DIR/tests/bench/hub_config.sh" >"$DAEMON_CONF" || die "hub_config.sh failed"
echo "  $SITES sites x $CHANNELS channels = $NCHAN MQTT channels (half JSON with a time field, half plain numbers)," \
	"one message each per $PERIOD s = $(awk -v n="$NCHAN" -v p="$PERIOD" 'BEGIN { printf "%.0f", n / p }') msg/s at QoS 1, for $SECS s;"
echo "  $SITES rooms with alarms, $((SITES * LOTS)) lots; sink: the file output (line protocol, not influxd);" \
	"config $(wc -c <"$DAEMON_CONF") bytes; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# the daemon's runtime file (daemon/runfile.h) in the test's own directory:
# coldchainctl takes the socket from it instead of parsing the configuration
export COLDCHAIND_RUNTIME_DIR=$T/run
mkdir -p "$COLDCHAIND_RUNTIME_DIR"
t_exec=$(now_ms)
LOG_LEVEL=info start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
echo "  start-up with an empty journal: $(($(log_ms ' started: ') - t_exec)) ms to 'started'"
rss_idle=$(kib VmRSS "$DAEMON_PID")
echo "  $(grep -o 'engine: .* watched' "$DAEMON_LOG" | head -n 1); RSS before the first message $((rss_idle / 1024)) MiB"
# status_runs LABEL: 5 x `coldchainctl status` (wall ms to $T/status.ms; the
# CPU of coldchainctl and of the daemon over the 5, per call)
status_runs() {
	local c0 c1 ms
	: >"$T/status.ms"
	: >"$T/status.cpu"
	c0=$(cpu_ticks "$DAEMON_PID")
	for i in 1 2 3 4 5; do
		a=$(now_ms)
		( TIMEFORMAT='%3U %3S'; time "$CTL" status -c "$DAEMON_CONF" >"$T/status.out" 2>&1 ) 2>>"$T/status.cpu" ||
			echo "  (coldchainctl status failed: $(head -c 200 "$T/status.out"))"
		echo $(($(now_ms) - a)) >>"$T/status.ms"
	done
	c1=$(cpu_ticks "$DAEMON_PID")
	ms=$(median <"$T/status.ms")
	echo "  coldchainctl status $1: median of 5 $ms ms (target <= 100 ms): $(met "$ms" '<=' 100);" \
		"$(wc -c <"$T/status.out") bytes, $(wc -l <"$T/status.out") lines; all 5: $(tr '\n' ' ' <"$T/status.ms")ms"
	# the same 5 without the runtime file: coldchainctl parses the configuration
	: >"$T/status.parse"
	for i in 1 2 3 4 5; do
		( TIMEFORMAT='%3U %3S'; time COLDCHAIND_RUNTIME_DIR=$T/none "$CTL" status -c "$DAEMON_CONF" >/dev/null 2>&1 ) \
			2>>"$T/status.parse"
	done
	awk -v c=$((c1 - c0)) -v hz="$TICK" -v p="$(awk '{ u += $1 + $2 } END { printf "%.0f", u * 1000 / NR }' "$T/status.parse")" \
		'{ u += $1 + $2 } END {
		printf "    CPU per call: coldchainctl %.0f ms with the runtime file (%s ms parsing the configuration), coldchaind %.0f ms (the daemon'"'"'s figure includes whatever else it did meanwhile)\n",
			u * 1000 / NR, p, c * 1000 / hz / 5 }' "$T/status.cpu"
}
status_runs "before the load (rooms and lots, no channel yet)"
# what coldchainctl costs before it reads a byte: a call to a missing socket
: >"$T/start.cpu"
for i in 1 2 3 4 5; do
	( TIMEFORMAT='%3U %3S'; time "$CTL" status --socket "$T/none.sock" >/dev/null 2>&1 ) 2>>"$T/start.cpu"
done
awk '{ u += $1 + $2 } END { printf "    coldchainctl start-up alone (the libraries it links): %.0f ms CPU per call\n", u * 1000 / NR }' "$T/start.cpu"

start_bg hub_gen "$T/gen.log" "$GEN" -p "$MQTT_PORT" -s "$SITES" -c "$CHANNELS" -P "$PERIOD" -d "$SECS" -f "$T/sent"
GEN_PID=$LAST_PID
c0=$(cpu_ticks "$DAEMON_PID") t0=$(now_ms)
perf_on() { [ -n "${BENCH_PERF:-}" ] || return 0; perf record -q -F 999 -g -p "$DAEMON_PID" -o "$BENCH_PERF/$1" 2>/dev/null & PERF_PID=$!; }
perf_off() { [ -n "${BENCH_PERF:-}" ] || return 0; kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null; }
[ -z "${BENCH_PERF:-}" ] || mkdir -p "$BENCH_PERF"
perf_on perf-hub-first.data

# 1/3 into the run (every channel seen at least once past 10 s): status and the web page
wait_for "a third of the run" -t $((SECS + 60)) elapsed_ge $((SECS * 1000 / 3))
perf_off
stage "a third into the run (every channel seen)"
status_runs "under the load"
stage "after 5 x coldchainctl status"
for i in 1 2 3 4 5; do
	curl -s -o "$T/web.out" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$WEB_PORT/" >>"$T/web.t"
done
web_ms=$(awk '{ printf "%.0f\n", $2 * 1000 }' "$T/web.t" | median)
echo "  GET / (public_status): median of 5 $web_ms ms (target <= 100 ms): $(met "$web_ms" '<=' 100);" \
	"HTTP $(tail -n 1 "$T/web.t" | cut -d' ' -f1), $(wc -c <"$T/web.out") bytes"
stage "after 5 x GET /"
# one site of the hub: what an operator of a member packhouse asks for
for i in 1 2 3 4 5; do
	a=$(now_ms)
	"$CTL" status -c "$DAEMON_CONF" --site s0001 >"$T/site.out" 2>&1 || echo "  (status --site failed: $(head -c 200 "$T/site.out"))"
	echo $(($(now_ms) - a)) >>"$T/site.ms"
	curl -s -o "$T/website.out" -w '%{time_total}\n' "http://127.0.0.1:$WEB_PORT/?site=s0001&page=1" >>"$T/website.t"
done
echo "  coldchainctl status --site s0001: median of 5 $(median <"$T/site.ms") ms, $(wc -c <"$T/site.out") bytes;" \
	"GET /?site=s0001: median of 5 $(awk '{ printf "%.0f\n", $1 * 1000 }' "$T/website.t" | median) ms, $(wc -c <"$T/website.out") bytes"
# a room's, a lot's and the alarms' page (each built from the engine's
# status under its lock: one room's for the first two)
page_ms() { # PATH: "median of 5 N ms, HTTP C, B bytes"
	: >"$T/page.t"
	for i in 1 2 3 4 5; do
		curl -s -o "$T/page.out" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$WEB_PORT$1" >>"$T/page.t"
	done
	echo "median of 5 $(awk '{ printf "%.0f\n", $2 * 1000 }' "$T/page.t" | median) ms," \
		"HTTP $(tail -n 1 "$T/page.t" | cut -d' ' -f1), $(wc -c <"$T/page.out") bytes"
}
echo "  GET /room/s0001/r0001: $(page_ms /room/s0001/r0001); GET /lot/L0001-0: $(page_ms /lot/L0001-0);" \
	"GET /alarms: $(page_ms /alarms)"

# half-way: SIGHUP
wait_for "half the run" -t $((SECS + 60)) elapsed_ge $((SECS * 1000 / 2))
sent_hup=$(cat "$T/sent" 2>/dev/null || echo 0) stored_hup=$(stored)
stage "before the SIGHUP"
perf_on perf-hub-reload.data
conns_hup=$(grep -c 'mqtt broker .*: connected' "$DAEMON_LOG") turns_hup=$(turns "before the reload (its last self-metrics)")
h0=$(now_ms)
kill -HUP "$DAEMON_PID"
wait_for "reload done" -t 60 grep -q 'configuration reloaded\|reload failed' "$DAEMON_LOG"
perf_off
h1=$(log_ms 'configuration reloaded')
if [ -n "$h1" ]; then
	echo "  SIGHUP reload: $((h1 - h0)) ms from the signal to 'configuration reloaded' (target <= 1000 ms):" \
		"$(met $((h1 - h0)) '<=' 1000); at the signal $sent_hup messages acknowledged, $stored_hup points stored"
	# where its time goes (main.c's reload logs it)
	echo "    $(grep -o 'configuration reloaded.*(ms: .*)' "$DAEMON_LOG" | tail -n 1 | sed 's/.*(ms: /ms: /; s/)$//')"
	# the MQTT connection: kept across the reload (drivers/mqtt.h,
	# mqtt_resume), or a new one (logged just before or after that line)
	reconnected() { [ "$(grep -c 'mqtt broker .*: connected' "$DAEMON_LOG")" -gt "$conns_hup" ]; }
	if grep -q 'connection kept across the reload' "$DAEMON_LOG"; then
		echo "    MQTT connection kept across the reload: the broker's messages waited in the socket"
	elif wait_for "mqtt reconnected" -t 30 reconnected; then
		h2=$(log_ms 'mqtt broker .*: connected')
		echo "    MQTT connected again $((h2 - h1)) ms after 'configuration reloaded' ($((h2 - h0)) ms after the signal)"
	fi
else
	echo "  SIGHUP reload: failed: $(grep 'reload' "$DAEMON_LOG" | tail -n 3)"
fi
stage "after the reload"
# The steady load: from a period after the reload (the new client has seen
# every channel again) to the end, with no status, web or reload work.
wait_for "a period after the reload" -t $((SECS + 60)) elapsed_ge $(($(now_ms) - t0 + PERIOD * 1000))
cs0=$(cpu_ticks "$DAEMON_PID") ts0=$(now_ms) ss0=$(cat "$T/sent" 2>/dev/null || echo 0) th0=$(thread_ticks "$DAEMON_PID")
perf_on perf-hub-steady.data

wait_for "hub_gen finishing" -t $((SECS * 3 + 60)) sh -c "! kill -0 $GEN_PID"
t1=$(now_ms) c1=$(cpu_ticks "$DAEMON_PID")
perf_off
sent=$(grep -o '^published [0-9]*' "$T/gen.log" | awk '{ print $2 }')
[ -n "$sent" ] || { show_log "$T/gen.log"; die "hub_gen failed"; }
# the file output flushes on its own timer: wait until every point is there (or it stops growing)
prev=-1
for ((i = 0; i < 120; i++)); do
	n=$(stored)
	[ "$n" -ge "$sent" ] && break
	[ "$n" = "$prev" ] && [ "$i" -gt 10 ] && break
	prev=$n
	sleep 0.5 # the file output's flush period, not synchronisation: the loop ends on the count
done
hwm=$(kib VmHWM "$DAEMON_PID") rss=$(kib VmRSS "$DAEMON_PID")
echo "  $(tail -n 1 "$T/gen.log")"
# QoS 1 is at-least-once: a message may be stored twice (a redelivery).  The
# JSON ones carry their own time, so their distinct (sensor, time) pairs
# count exactly; the plain ones (time of arrival) can only be at least sent.
sent_json=$(sed -n 's/^published [0-9]* messages (\([0-9]*\) JSON.*/\1/p' "$T/gen.log")
got_json=$(grep -E '^temperature,.*sensor=s[0-9]{4}-k[0-9]{2}' "$OUT" | sed -E 's/.*sensor=([^, ]*).* ([0-9]+)$/\1 \2/' | sort -u | wc -l)
lost=$((sent_json - got_json))
echo "  sent $sent messages, stored $n points across the reload ($((n - sent)) more than sent: QoS 1 redeliveries);" \
	"JSON with a time field: $sent_json sent, $got_json distinct stored: $lost lost (target 0): $(met "$lost" '<=' 0)"
awk -v h="$hwm" -v r="$rss" -v i="$rss_idle" -v n="$NCHAN" 'BEGIN {
	printf "  peak RSS (VmHWM) %.1f MiB (target <= 64 MiB): %s; RSS at the end %.1f MiB, before the first message %.1f MiB:\n",
		h / 1024, h <= 65536 ? "met" : "not met", r / 1024, i / 1024
	printf "    %.0f bytes per channel of peak RSS, %.0f bytes per channel grown since idle\n", h * 1024 / n, (r - i) * 1024 / n }'
awk -v c=$((c1 - c0)) -v hz="$TICK" -v ms=$((t1 - t0)) -v n="$sent" 'BEGIN {
	p = 100 * c / hz / (ms / 1000)
	printf "  CPU %.2f s in %.1f s = %.1f %% of one core (target <= 15 %%): %s; %.1f µs per message\n",
		c / hz, ms / 1000, p, p <= 15 ? "met" : "not met", c / hz * 1e6 / n }'
if [ "$ts0" -lt "$t1" ] && [ "$ss0" -lt "$sent" ]; then
	awk -v c=$((c1 - cs0)) -v hz="$TICK" -v ms=$((t1 - ts0)) -v n=$((sent - ss0)) 'BEGIN {
		p = 100 * c / hz / (ms / 1000)
		printf "  CPU of the steady load alone (the last %.1f s: no status, web or reload work): %.1f %% of one core (target <= 15 %%): %s; %.1f µs per message\n",
			ms / 1000, p, p <= 15 ? "met" : "not met", c / hz * 1e6 / n }'
	th1=$(thread_ticks "$DAEMON_PID")
	echo "    by thread, µs per message: $(for kv in $th1; do
		name=${kv%:*} v=${kv##*:} was=0
		for ov in $th0; do [ "${ov%:*}" = "$name" ] && was=${ov##*:}; done
		echo "$name $((v - was))"
	done | awk -v hz="$TICK" -v n=$((sent - ss0)) '{ t[$1] += $2 } END {
		for (k in t) if (t[k] > 0) printf "%s %.1f  ", k, t[k] / hz * 1e6 / n }')"
fi
echo "$turns_hup"
# a client kept across the reload counts on; a new one counted from 0
if grep -q 'connection kept across the reload' "$DAEMON_LOG"; then
	turns "in the whole run (the client kept across the reload)"
else
	turns "since the reload"
fi
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
stop_daemon >/dev/null || echo "  (coldchaind exited non-zero on SIGTERM)"

# ------------------------------------------------ start-up with a 1 GiB journal
[ "$JOURNAL_MB" -gt 0 ] || { PASSES=1; finish; }
rm -rf "$T/state" "$OUT"
mkdir -p "$T/state"
fill=$("$FILL" "$T/state/journal" "$JOURNAL_MB") || die "hub_journal failed"
# and a day of the rooms' charts (every 5-minute bucket of every ring)
"$PY" "$ROOT_DIR/tests/bench/hub_trend.py" "$SITES" "$T/state/trend.state" || die "hub_trend.py failed"
sync
# the outputs point at an unreachable sink (nothing replays the journal while we time it)
SITES=$SITES CHANNELS=$CHANNELS LOTS=$LOTS MQTT_PORT=$MQTT_PORT STATE_DIR=$T/state OUT='' WEB_PORT='' \
	bash "$ROOT_DIR/tests/bench/hub_config.sh" >"$DAEMON_CONF"
echo 'outputs = { influxdb = ( { name = "away"; url = "http://127.0.0.1:9"; database = "hub"; } ); };' >>"$DAEMON_CONF"
: >"$DAEMON_LOG"
t_exec=$(now_ms)
start_bg coldchaind "$DAEMON_LOG" "$COLDCHAIND" -c "$DAEMON_CONF"
DAEMON_PID=$LAST_PID
until "$CTL" status -c "$DAEMON_CONF" >/dev/null 2>&1; do
	pid_alive "$DAEMON_PID" || { show_log "$DAEMON_LOG"; die "coldchaind exited"; }
	[ $(($(now_ms) - t_exec)) -lt 60000 ] || break
done
t_ctl=$(now_ms)
t_started=$(log_ms ' started: ')
echo "  start-up with a $fill journal and a day of charts ($(grep -o 'restored [0-9]* trend buckets' "$DAEMON_LOG" | tail -n 1)," \
	"$(($(stat -c %s "$T/state/trend.state") / 1048576)) MiB; page cache warm): $((t_started - t_exec)) ms to 'started'," \
	"$((t_ctl - t_exec)) ms to the control socket answering (target <= 2000 ms): $(met $((t_ctl - t_exec)) '<=' 2000)"
stop_daemon >/dev/null || true
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
