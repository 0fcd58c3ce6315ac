#!/bin/bash
# gzip request bodies (issue 18 target 6: cheaper requests for influxd).
# 1. A real influxd takes the output's gzip bodies: 3,000 MQTT messages
#    with distinct values and times land exact (count, sum, first and last
#    value), and coldchaind_output.gzip_refused stays 0.
# 2. A server that refuses gzip (415, then one that answers 400 "unable to
#    parse" to the compressed bytes) gets the same batch again as plain
#    text at once: every line lands once, gzip is off from then on (one gzip
#    request in all), the fallback is logged once and counted
#    (gzip_refused=1i in the self-metrics the server itself receives).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

N=3000
STATS_INTERVAL=1s
start_influxd
start_mosquitto

# write_conf URL: MQTT JSON with a time field into one gzip output at URL
write_conf() {
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-gzip"; };
  subscriptions = ( { topic = "gz/{sensor}"; format = "json"; time = "ts";
                      fields = { temperature = { path = "t"; unit = "C"; }; }; } );
};
outputs = { influxdb = ( { name = "gz"; url = "$1"; database = "$INFLUX_DB"; gzip = true;
                           batch = 500; flush = "200ms"; } ); };
CONF
	} >"$DAEMON_CONF"
}
# publish: N messages, value i/10, one second apart ending 1 h ago
T_END=$(($(date +%s) - 3600))
publish() {
	seq 1 "$N" | awk -v n="$N" -v e="$T_END" '{ printf "{\"t\": %.1f, \"ts\": %d}\n", $1 / 10, e - n + $1 }' |
		mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t gz/probe-1 -l || die "mosquitto_pub failed"
}

# --- 1. real influxd ---------------------------------------------------------
write_conf "$(influx_url)"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
publish
count() { influx_scalar "SELECT count(value) FROM temperature WHERE sensor='probe-1'"; }
wait_for "$N points in influxd" -t 60 eval '[ "$(count)" = "$N" ]' || fail "points in influxd: $(count) of $N"
expect_eq "count of the points (gzip bodies)" "$(count)" "$N"
expect_eq "sum of the values" "$(influx_scalar "SELECT sum(value) FROM temperature WHERE sensor='probe-1'" |
	awk '{ printf "%.1f", $1 }')" "$(awk -v n="$N" 'BEGIN { printf "%.1f", n * (n + 1) / 20 }')"
INFLUX_EPOCH=s
expect_eq "first point's time and value" "$(influx_query "SELECT first(value) FROM temperature WHERE sensor='probe-1'" |
	json_eval 'd["results"][0]["series"][0]["values"][0]' | tr -d ' ')" "[$((T_END - N + 1)),0.1]"
expect_eq "last point's time and value" "$(influx_query "SELECT last(value) FROM temperature WHERE sensor='probe-1'" |
	json_eval 'd["results"][0]["series"][0]["values"][0]' | tr -d ' ')" "[$T_END,$(awk -v n="$N" 'BEGIN { print n / 10 }')]"
unset INFLUX_EPOCH
wait_for "self-metrics of output gz" -t 15 influx_has "SELECT gzip_refused FROM coldchaind_output WHERE output='gz'" ||
	fail "no coldchaind_output point for output gz"
expect_eq "gzip_refused against influxd" \
	"$(influx_scalar "SELECT last(gzip_refused) FROM coldchaind_output WHERE output='gz'")" 0
grep -q 'refuses gzip' "$DAEMON_LOG" && fail "influxd's answers were taken for a gzip refusal" || true
stop_daemon

# --- 2. servers that refuse gzip ----------------------------------------------
cat >"$T/nogzip.py" <<'PYEOF'
import http.server, sys
port, mode, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        gz = self.headers.get("Content-Encoding", "") == "gzip"
        with open(out + ".req", "a") as f:
            f.write("gzip\n" if gz else "plain\n")
        if gz and mode == "415":
            code, msg = 415, b'{"error":"unsupported Content-Encoding"}'
        elif gz:
            code, msg = 400, b'{"error":"unable to parse \'\\u001f\\ufffd\': invalid field format"}'
        else:
            with open(out, "ab") as f:
                f.write(body)
            code, msg = 204, b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PYEOF
for mode in 415 400; do
	port=$(free_port)
	out=$T/lines-$mode.lp
	: >"$out"
	start_bg "nogzip-$mode" "$T/nogzip-$mode.log" "$PY" "$T/nogzip.py" "$port" "$mode" "$out"
	srv=$LAST_PID
	wait_for "server $mode listening" port_open "$port" || die "the refusing server ($mode) did not start"
	write_conf "http://127.0.0.1:$port"
	DAEMON_LOG=$T/coldchaind-$mode.log
	rm -rf "$T/state"
	start_daemon
	wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
	publish
	got() { grep -c '^temperature,.*sensor=probe-1' "$out"; }
	wait_for "$N lines at the $mode server" -t 60 eval '[ "$(got)" -ge "$N" ]' || fail "$mode: lines: $(got) of $N"
	wait_for "gzip_refused in the self-metrics ($mode)" -t 15 grep -q 'coldchaind_output,.*output=gz.* .*gzip_refused=1i' "$out" ||
		fail "$mode: no coldchaind_output point with gzip_refused=1i"
	stop_daemon
	expect_eq "$mode: every line once" "$(grep '^temperature,.*sensor=probe-1' "$out" | sort | uniq -d | wc -l) $(got)" "0 $N"
	expect_eq "$mode: gzip requests in all (then plain)" "$(grep -c '^gzip$' "$out.req")" 1
	expect_eq "$mode: the fallback logged once" "$(grep -c 'the server refuses gzip request bodies; sending them uncompressed' "$DAEMON_LOG")" 1
	stop_pid "$srv" 5
done
finish
