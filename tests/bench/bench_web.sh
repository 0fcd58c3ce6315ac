#!/bin/bash
# bench_web.sh - the web page (issue 15's benchmarks): figures only, never
# pass/fail.  A generated site of BENCH_WEB_ROOMS (50) rooms with 4 lots each
# (200 lots), temperature and RH of each room from one tests/modbus_sim unit.
#   1. the overview: server time to first byte (curl -w, BENCH_WEB_N (30)
#      requests) and the full render in headless chromium (Navigation
#      Timing: load event end, BENCH_WEB_N loads)
#   2. live updates: sample -> browser delay of >= BENCH_WEB_EVENTS (200)
#      alarm events (the simulator toggles every room across its limit with
#      a zero on-delay; the delay is the page's receive time minus the
#      event's time_ns, the sample that raised or cleared it), p50/p99
#   3. the daemon's RSS with the listener off, and on with 20 open pages
#      (each with its live stream), after BENCH_WEB_SETTLE (10) s
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
WEB_DIR=$(cd "$(dirname "$0")/../web" && pwd)
[ -d "$WEB_DIR/node_modules/puppeteer-core" ] || die "puppeteer-core missing (tests/deps.sh)"
ROOMS=${BENCH_WEB_ROOMS:-50}
NREQ=${BENCH_WEB_N:-30}
NEV=${BENCH_WEB_EVENTS:-200}
SETTLE=${BENCH_WEB_SETTLE:-10}

map() { # $1: raw temperature (0.1 C) of every room
	for ((u = 1; u <= ROOMS; u++)); do printf '%d input 0 int16 ABCD %s\n%d input 1 int16 ABCD 920\n' "$u" "$1" "$u"; done
}
map 40 >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
WEB_PORT=$(free_port)
conf() { # $1: 1 = with the web listener
	config_head
	echo 'profiles = ( { name = "lychee"; version = "bench-1";'
	echo '  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "0s"; };'
	echo '  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );'
	echo 'rooms = ('
	for ((u = 1; u <= ROOMS; u++)); do
		printf '  { name = "Kho %02d"; temperature = "th-%d/temperature"; humidity = "th-%d/humidity"; lots = (' "$u" "$u" "$u"
		for ((l = 1; l <= 4; l++)); do
			printf ' { id = "L%02d-%d"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; }%s' "$u" "$l" "$([ $l -lt 4 ] && echo ,)"
		done
		printf ' ); }%s\n' "$([ $u -lt "$ROOMS" ] && echo ,)"
	done
	echo ');'
	echo 'alarms = { rate_limit = 0.0; stuck_after = "0s"; };'
	echo "modbus = ( { name = \"tcp-1\"; tcp = { host = \"127.0.0.1\"; port = $SIM_PORT; }; interval = \"1s\"; devices = ("
	for ((u = 1; u <= ROOMS; u++)); do
		printf '  { name = "th-%d"; unit = %d; room = "Kho %02d"; points = (' "$u" "$u" "$u"
		printf ' { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; },'
		printf ' { channel = "humidity"; table = "input"; address = 1; type = "int16"; scale = 0.1; unit = "%%"; } ); }%s\n' \
			"$([ $u -lt "$ROOMS" ] && echo ,)"
	done
	echo '); } );'
	echo "outputs = { file = ( { name = \"f\"; path = \"$T/out.lp\"; } ); };"
	[ "$1" = 1 ] && echo "web = { listen = \"127.0.0.1:$WEB_PORT\"; public_status = true; per_ip_connections = 200; max_connections = 400; };"
}
rss_kib() { proc_status_kb "$DAEMON_PID" VmRSS; }
settle() { local end=$((SECONDS + SETTLE)); while [ "$SECONDS" -lt "$end" ]; do sleep 1; done; } # a measured wait, not a synchronisation
pctl() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if (i<1) i=1; if (NR) printf "%.1f", a[i]}'; }
export NODE_PATH=$WEB_DIR/node_modules
node_run() {
	URL=http://127.0.0.1:$WEB_PORT SIM_MAP=$T/sim.map SIM_PID=$SIM_PID HOT_MAP="$(map 80)" COLD_MAP="$(map 40)" \
		ROOMS=$ROOMS NODE_PATH=$WEB_DIR/node_modules node "$WEB_DIR/bench_web.js" "$@"
}

# ---- 3a. RSS with the listener off
conf 0 >"$DAEMON_CONF"
start_daemon
settle
rss_off=$(rss_kib)
[ -n "${BENCH_WEB_SMAPS:-}" ] && cp "/proc/$DAEMON_PID/smaps" "$BENCH_WEB_SMAPS.off"
stop_daemon >/dev/null

conf 1 >"$DAEMON_CONF"
start_daemon
wait_for "web port" port_open "$WEB_PORT" || die "no listener"
settle
rss_idle=$(rss_kib)
export URL=http://127.0.0.1:$WEB_PORT
# ---- 1. the overview
curl -s -o "$T/ov.html" "$URL/"
echo "  overview: $ROOMS rooms, $(grep -o 'class="lot"' "$T/ov.html" | wc -l) lots, $(wc -c <"$T/ov.html") bytes"
for ((i = 0; i < NREQ; i++)); do curl -s -o /dev/null -w '%{time_starttransfer}\n' "$URL/"; done |
	awk '{print $1 * 1000}' >"$T/ttfb"
echo "  server time to first byte (curl, $NREQ requests): p50 $(pctl 50 <"$T/ttfb") ms, p90 $(pctl 90 <"$T/ttfb") ms, max $(pctl 100 <"$T/ttfb") ms (target <= 50 ms)"
node_run render "$NREQ" >"$T/render" 2>&1
grep -q '^render' "$T/render" || echo "  render: $(head -n 3 "$T/render")"
awk '/^render/ {print $4}' "$T/render" >"$T/load"
awk '/^render/ {print $3}' "$T/render" >"$T/dcl"
echo "  chromium full render (load event end, $NREQ loads): p50 $(pctl 50 <"$T/load") ms, p90 $(pctl 90 <"$T/load") ms; DOM ready p50 $(pctl 50 <"$T/dcl") ms (target <= 300 ms)"

# ---- 3b. RSS with 20 open pages
mkfifo "$T/pages.in"
start_bg pages "$T/pages.out" bash -c "exec node \"$WEB_DIR/bench_web.js\" pages 20 <\"$T/pages.in\"" 
PAGES_PID=$LAST_PID
exec 7>"$T/pages.in"
wait_for "20 pages open" -t 180 file_has "^open\|^error" "$T/pages.out"
grep -m1 '^open\|^error' "$T/pages.out" | sed 's/^/  (/; s/$/)/'
settle
rss_on=$(rss_kib)
[ -n "${BENCH_WEB_SMAPS:-}" ] && cp "/proc/$DAEMON_PID/smaps" "$BENCH_WEB_SMAPS" # where the memory is (by mapping)
streams=$(curl -s "$URL/metrics" | sed -n 's/^coldchaind_web_live_streams{[^}]*} \([0-9]*\).*/\1/p')
echo "  daemon RSS: listener off $((rss_off / 1024)) MiB ($rss_off KiB), on with 20 pages open ($streams live streams) $((rss_on / 1024)) MiB ($rss_on KiB): +$(((rss_on - rss_off) / 1024)) MiB ($((rss_on - rss_off)) KiB) (target <= +4 MiB); listener on before any request: +$((rss_idle - rss_off)) KiB"
exec 7>&-
stop_pid "$PAGES_PID" 10 >/dev/null

# ---- 2. live updates
node_run sse "$NEV" >"$T/sse" 2>&1
awk '/^sse/ {print $2}' "$T/sse" >"$T/lat"
echo "  live update, sample -> browser ($(wc -l <"$T/lat") alarm events, every room across its limit at once): p50 $(pctl 50 <"$T/lat") ms, p99 $(pctl 99 <"$T/lat") ms, max $(pctl 100 <"$T/lat") ms (target p99 <= 1000 ms)"
grep -m1 '^error' "$T/sse" || true
stop_daemon >/dev/null
