#!/bin/bash
# Peers in the same run (issue 18 target 7): the same MQTT messages into
# InfluxDB through coldchaind, then through Node-RED, one after the other on
# the same broker and influxd (each has the cores to itself), and the ratios.
#   publisher:  mqtt_pub_bench (the one bench_mqtt_e2e.sh uses), QoS 1,
#               BENCH_NODERED_N messages (default 20,000), same topics and
#               payloads; with -j (when the publisher has it) every message
#               is JSON with a time field, otherwise half plain numbers and
#               half JSON (the publisher's mixed shape);
#   coldchaind: an MQTT input on the topics -> influxd database cc_a
#               (batch 5000, flush 200 ms, as bench_mqtt_e2e.sh);
#   Node-RED:   npm node-red + node-red-contrib-influxdb, installed by this
#               bench into BUILD/nodered (kept between runs), headless
#               (httpAdminRoot false, no editor), a flow from
#               tests/bench/nodered_flow.js: mqtt in (QoS 1) -> json ->
#               function (the same points as coldchaind: measurement, tags,
#               field, timestamp) -> InfluxDB, in two flows
#               (BENCH_NODERED_FLOWS, default "batch out"), each a fresh
#               Node-RED into its own database:
#               batch: the function batches 5,000 points or 200 ms (as
#                 coldchaind's output) for one "influxdb batch" write: the
#                 fastest reasonable flow, and the one the ratios are of;
#               out: one "influxdb out" write per point (the usual flow).
# Each run ends when the database holds every point (a count query polled
# every 20 ms over one HTTP connection, deadline BENCH_NODERED_DEADLINE s).
# Measured per process: wall time first publish -> last point stored, CPU
# (utime+stime of the process, its threads and children, /proc/PID/stat),
# peak RSS (VmHWM).  Then the two databases are compared (series, counts per
# series, a sample of values, and times when the payload carries them).
# Figures only, never pass/fail.  SKIP (with the reason) without node/npm or
# when the npm registry cannot be reached.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"

N=${BENCH_NODERED_N:-20000}
WINDOW=${BENCH_WINDOW:-1000}
DEADLINE=${BENCH_NODERED_DEADLINE:-300}
NR_DIR=${BENCH_NODERED_DIR:-$BUILD_DIR/nodered}
NR_PKGS=("node-red@${BENCH_NODERED_VERSION:-4.1.15}" "node-red-contrib-influxdb@${BENCH_NODERED_INFLUX_VERSION:-0.7.0}")
PUB=${BENCH_PUB:-$BUILD_DIR/bench/mqtt_pub_bench}
TICK=$(getconf CLK_TCK)
SITE=bench

bench_skip() {
	echo "  SKIP bench_nodered: $*"
	PASSES=1
	finish
}

[ -x "$PUB" ] || { echo "  $PUB missing: run 'make bench'"; exit 1; }
need_bin "$COLDCHAIND"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	bench_skip "node or npm not found; install Debian's with: apt-get install -y --no-install-recommends nodejs npm"
fi

# npm_ready: both packages present at the wanted versions
npm_ready() {
	local p name ver
	for p in "${NR_PKGS[@]}"; do
		name=${p%@*} ver=${p##*@}
		grep -q "\"version\": \"$ver\"" "$NR_DIR/node_modules/$name/package.json" 2>/dev/null || return 1
	done
}
if ! npm_ready; then
	echo "  installing ${NR_PKGS[*]} into $NR_DIR (once; kept between runs)"
	mkdir -p "$NR_DIR"
	if ! timeout 600 npm install --prefix "$NR_DIR" --no-audit --no-fund --loglevel=error "${NR_PKGS[@]}" \
		>"$T/npm.log" 2>&1 || ! npm_ready; then
		sed 's/^/  | /' "$T/npm.log" | tail -n 5
		bench_skip "npm install ${NR_PKGS[*]} failed (registry unreachable?); by hand: npm install --prefix $NR_DIR ${NR_PKGS[*]}"
	fi
fi

# -j: every message JSON with a time field (issue 18); an older publisher
# has only the mixed shape
if "$PUB" 2>&1 | grep -q -- '-j'; then
	SHAPE=json PUB_OPTS=-j NPOINTS=$((2 * (N - 1) + 1))
else
	SHAPE=mixed PUB_OPTS='' NPOINTS=$((N / 2 + 2 * (N / 2 - 1) + 1))
fi

# CPU ticks of PID, its threads and its children (live ones and reaped ones:
# fields 16 and 17 too, which bench_lib.sh's proc_cpu_ticks leaves out)
tree_ticks() {
	local pid=$1 t c
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
	# space-separated PIDs, one line per thread
	# shellcheck disable=SC2013
	for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
		t=$((t + $(tree_ticks "$c")))
	done
	echo "$t"
}

# wait_count DB: polls the point count every 20 ms over one HTTP connection
# until it reaches NPOINTS, DEADLINE passes or the count stays the same for
# 30 s; prints the last count and the time (epoch s) it was first seen
wait_count() {
	/usr/bin/python3 - "$INFLUX_PORT" "$1" "$NPOINTS" "$DEADLINE" <<'PY'
import http.client, json, sys, time, urllib.parse
port, db, want, deadline = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
path = "/query?" + urllib.parse.urlencode({"db": db, "q": "SELECT count(value) FROM temperature, humidity"})
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
end = time.monotonic() + deadline
got, last, since, seen = 0, -1, time.monotonic(), time.time()
while True:
    conn.request("GET", path)
    d = json.loads(conn.getresponse().read())
    got = sum(s["values"][0][1] for r in d.get("results", []) for s in r.get("series", []))
    now = time.monotonic()
    if got != last:
        last, since, seen = got, now, time.time()
    if got >= want or now > end or now - since > 30:
        break
    time.sleep(0.02)
print(got, "%.6f" % seen)
PY
}

# measure LABEL PID DB NAME: publishes, waits, sets the LABEL_* figures and prints them
measure() {
	local label=$1 pid=$2 db=$3 name=$4 t0 t1 c0 c1 got wall
	c0=$(tree_ticks "$pid")
	t0=$(date +%s.%N)
	"$PUB" -p "$MQTT_PORT" -q 1 -n "$N" -w "$WINDOW" -i "pub-$label" ${PUB_OPTS:+"$PUB_OPTS"} >"$T/pub-$label.txt" ||
		{ echo "  $label: the publisher failed: $(cat "$T/pub-$label.txt")"; return 1; }
	read -r got t1 < <(wait_count "$db")
	# CPU until now (a stalled flow's wait included); the wall time until
	# the last point was stored
	c1=$(tree_ticks "$pid")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	[ "$got" -ge "$NPOINTS" ] || echo "  $name: SHORTFALL: $got of $NPOINTS points stored (deadline ${DEADLINE} s, or no new point for 30 s)"
	printf -v "RATE_$label" '%s' "$(awk -v n="$got" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')"
	printf -v "CPU_$label" '%s' "$(awk -v c=$((c1 - c0)) -v t="$TICK" -v n="$got" 'BEGIN { printf "%.1f", c / t * 1e6 / (n ? n : 1) }')"
	printf -v "RSS_$label" '%s' "$(proc_status_mib "$pid" VmHWM)"
	echo "  $name: $got of $NPOINTS points stored in $wall s ($(awk -v n="$N" -v w="$wall" 'BEGIN { printf "%.0f", n / w }') msg/s), CPU $(awk -v c=$((c1 - c0)) -v t="$TICK" 'BEGIN { printf "%.2f", c / t }') s" \
		"[publisher: $(cut -d: -f2 "$T/pub-$label.txt" | sed 's/^ *//')]"
}

start_influxd cc_a
start_mosquitto "max_inflight_messages $WINDOW"

echo "  $N messages at QoS 1 ($SHAPE shape, $NPOINTS points) per peer, publisher window $WINDOW; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  versions: node $(node --version), node-red $(node -p "require('$NR_DIR/node_modules/node-red/package.json').version")," \
	"node-red-contrib-influxdb $(node -p "require('$NR_DIR/node_modules/node-red-contrib-influxdb/package.json').version")," \
	"mosquitto $(mosquitto -h 2>/dev/null | head -n 1 | awk '{print $3}'), influxd $(influxd version 2>/dev/null | awk '{print $2}')"

# ---------------------------------------------------------------- (a) coldchaind
DAEMON_LOG=$T/coldchaind.log
{
	SITE=$SITE config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-bench-peers"; };
  subscriptions = (
    { topic = "bench/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 1; },
    { topic = "benchj/{sensor}"; format = "json"; qos = 1; $([ "$SHAPE" = json ] && echo 'time = "time";')
      fields = { temperature = { path = "t"; unit = "C"; }; humidity = { path = "rh"; unit = "%"; }; }; }
  );
};
outputs = {
  influxdb = ( { name = "bench"; url = "$(influx_url)"; database = "cc_a"; batch = 5000; flush = "200ms"; } );
};
CONF
} >"$DAEMON_CONF"
LOG_LEVEL=info start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
measure cc "$DAEMON_PID" cc_a coldchaind || echo "  coldchaind: run failed"
stop_daemon
# its persistent session would have the broker queue the next runs' messages
# for it: a clean connection with its client id ends the session
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -i cc-bench-peers -t bench-none -E || echo "  (could not end coldchaind's session)"

# the same job: same series with the same counts; a sample of values equal
# in order (and, with a time in the payload, coldchaind stored that time:
# whole microseconds, where its time of arrival has nanoseconds)
verify() {
	/usr/bin/python3 - "$INFLUX_PORT" "$SHAPE" "$1" <<'PY'
import http.client, json, sys, urllib.parse
port, shape, other = sys.argv[1], sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
def q(db, query):
    conn.request("GET", "/query?" + urllib.parse.urlencode({"db": db, "q": query, "epoch": "ns"}))
    d = json.loads(conn.getresponse().read())
    out = {}
    for r in d.get("results", []):
        for s in r.get("series", []):
            key = s["name"] + "," + ",".join("%s=%s" % kv for kv in sorted((s.get("tags") or {}).items()))
            out[key] = s["values"]
    return out
counts = [{k: v[0][1] for k, v in q(db, "SELECT count(value) FROM temperature, humidity GROUP BY *").items()}
          for db in ("cc_a", other)]
problems = []
if counts[0] != counts[1]:
    only = sorted(set(counts[0]) ^ set(counts[1]))[:3]
    diff = sorted(k for k in set(counts[0]) & set(counts[1]) if counts[0][k] != counts[1][k])[:3]
    problems.append("series differ (only in one: %s; other counts: %s)" % (only, diff))
compared = 0
for sensor in ("s000", "s017", "s099"):
    rows = [q(db, "SELECT value FROM temperature, humidity WHERE sensor = '%s' GROUP BY *" % sensor)
            for db in ("cc_a", other)]
    for key in rows[0]:
        a, b = rows[0][key], rows[1].get(key, [])
        # the values in order (each run's publisher stamps its own times)
        same = [v for _, v in a] == [v for _, v in b]
        # with a time in the payload, coldchaind stored it (whole us), not its
        # time of arrival (ns); Node-RED's flow writes whole us either way
        if shape == "json" and any(t % 1000 for t, _ in a):
            problems.append("%s: a time not from the payload" % key)
        compared += len(a)
        if not same:
            problems.append("%s differs (%d vs %d rows)" % (key, len(a), len(b)))
total = sum(counts[0].values())
if problems:
    print("  points DISAGREE: " + "; ".join(problems[:4]))
else:
    print("  points agree: %d points in %d series, the same in both databases; %d sampled values equal%s"
          % (total, len(counts[0]), compared, ", coldchaind's times from the payload" if shape == "json" else " (times are of arrival)"))
PY
}

# ---------------------------------------------------------------- (b) Node-RED
# nr_run FLOW DB: a fresh Node-RED (its own peak RSS) with flow FLOW
# (tests/bench/nodered_flow.js) writing to DB
nr_run() {
	local flow=$1 db=$2 user=$T/nodered-$1 port
	port=$(free_port)
	NR_LOG=$T/nodered-$flow.log
	mkdir -p "$user"
	influx_post "CREATE DATABASE \"$db\"" >/dev/null || die "cannot create database $db"
	node "$ROOT_DIR/tests/bench/nodered_flow.js" "$user" "$port" "$MQTT_PORT" "$INFLUX_PORT" "$SITE" "$db" "$flow" ||
		die "cannot write the Node-RED flow"
	start_bg node-red "$NR_LOG" node "$NR_DIR/node_modules/node-red/red.js" -u "$user" -s "$user/settings.js" \
		-p "$port" flows.json
	NR_PID=$LAST_PID
	# ready when the flow saw the (retained) probe on each topic, through
	# the whole path up to the function
	if ! wait_for "Node-RED subscribed" -t 120 nr_ready || ! pid_alive "$NR_PID"; then
		show_log "$NR_LOG"
		die "Node-RED did not start"
	fi
	measure "nr_$flow" "$NR_PID" "$db" "Node-RED ($flow)" || echo "  Node-RED ($flow): run failed"
	# errors the flow logged, and the most frequent one
	NR_ERRORS="$(grep -c '\[error\]' "$NR_LOG") errors logged$(grep '\[error\]' "$NR_LOG" |
		sed 's/^.*\[error\] *//; s/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | head -n 1 |
		awk '{ $1 = ""; print ", most often:" $0 }')"
	stop_pid "$NR_PID" 20 >/dev/null
}
# shellcheck disable=SC2317 # called by wait_for
nr_ready() { [ "$(grep -c 'bench ready' "$NR_LOG")" -ge 2 ] || ! pid_alive "$NR_PID"; }
if ! mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -r -t bench/ready/temperature -m '"ready"' ||
	! mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -r -t benchj/ready -m '{"ready":1}'; then
	die "mosquitto_pub failed"
fi

# report LABEL NAME FLOW_DESCRIPTION: the figures and the ratios to coldchaind
report() {
	local r c m
	r=RATE_$1 c=CPU_$1 m=RSS_$1
	echo "  coldchaind: ${RATE_cc:-?} points/s, ${CPU_cc:-?} µs CPU/point, ${RSS_cc:-?} MiB peak RSS;" \
		"$2: ${!r:-?} points/s, ${!c:-?} µs CPU/point, ${!m:-?} MiB peak RSS ($3; $NR_ERRORS)"
	awk -v r1="${RATE_cc:-0}" -v r2="${!r:-0}" -v c1="${CPU_cc:-0}" -v c2="${!c:-0}" -v m1="${RSS_cc:-0}" -v m2="${!m:-0}" \
		-v l="$2" 'BEGIN {
		if (r2 > 0 && c1 > 0 && m1 > 0)
			printf "  ratio coldchaind : %s: throughput x%.1f, CPU/point x%.1f, RSS x%.1f (each > 1: coldchaind better)\n",
				l, r1 / r2, c2 / c1, m2 / m1
		else
			print "  ratio: not computed (a run failed)" }'
}

for flow in ${BENCH_NODERED_FLOWS:-batch out}; do
	case $flow in
	batch)
		nr_run batch cc_b
		report nr_batch "Node-RED" "mqtt in -> json -> function batching 5,000 points/200 ms -> influxdb batch: the fastest flow"
		verify cc_b ;;
	out)
		nr_run out cc_c
		report nr_out "Node-RED, point by point" "mqtt in -> json -> function -> influxdb out, one write per point"
		verify cc_c ;;
	*) echo "  unknown flow $flow (batch, out)" ;;
	esac
done
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
