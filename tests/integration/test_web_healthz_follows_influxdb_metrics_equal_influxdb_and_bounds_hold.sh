#!/bin/bash
# The daemon's HTTP listener against real peers: /healthz is 200 while
# InfluxDB takes the points, 503 naming the output once influxd is stopped
# (by PID), 200 again after it restarts; /metrics parses with
# python3-prometheus-client and its values equal InfluxDB's self-metric
# points at the same timestamp; a 1 MiB POST gets 413; 500 idle connections
# from 127.0.0.2 do not stop 127.0.0.1 from being answered; every reply has
# the security headers; unknown path 404, wrong method 405 with Allow; TLS
# with a test CA (curl --cacert succeeds, plain HTTP to the TLS port fails).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
"$PY" -c 'import prometheus_client' 2>/dev/null || die "python3-prometheus-client is missing (tests/deps.sh)"

printf '%s\n' '1 input 0 int16 ABCD 37' >"$T/sim.map"
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
WEB_PORT=$(free_port)
STATS_INTERVAL=1s
write_conf() { # $1: extra keys of group web
	{
		config_head
		cat <<CONF
timezone = "Asia/Ho_Chi_Minh";
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; };
    timeout = "500ms"; interval = "1s";
    devices = (
      { name = "dev-1"; unit = 1; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 0; type = "int16"; } ); }
    ); }
);
outputs = {
  influxdb = (
    { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 1000; flush = "1s";
      backoff_max = "2s"; }
  );
};
web = { listen = "0.0.0.0:$WEB_PORT"; $1 };
CONF
	} >"$DAEMON_CONF"
}
write_conf "per_ip_connections = 600; max_connections = 1000;"
start_daemon
URL=http://127.0.0.1:$WEB_PORT
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"

code() { curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@"; }
healthz_is() { [ "$(code "$URL/healthz")" = "$1" ]; }

# ---- /healthz follows InfluxDB
wait_for "healthz 200" healthz_is 200 || { cat "$T/body"; die "/healthz not 200 with InfluxDB up"; }
expect_eq "/healthz body when healthy" "$(cat "$T/body")" "ok"
stop_influxd
wait_for "healthz 503" healthz_is 503 || fail "/healthz stayed $(code "$URL/healthz") with InfluxDB stopped"
if grep -q '^output itest: failing for [0-9]* s: .' "$T/body"; then
	pass "/healthz 503 names the output: $(head -n 1 "$T/body")"
else
	fail "/healthz 503 body does not name the output: $(cat "$T/body")"
fi
start_influxd
wait_for "healthz 200 again" healthz_is 200 || fail "/healthz not 200 after InfluxDB restarted: $(cat "$T/body")"
pass "/healthz back to 200 after InfluxDB restarted"

# ---- /metrics == InfluxDB's self-metrics at the same timestamp
wait_for "metrics with modbus" sh -c "curl -s --max-time 10 '$URL/metrics' | grep -q '^coldchaind_modbus_polls{'" ||
	die "/metrics has no coldchaind_modbus_polls"
curl -s --max-time 10 -D "$T/metrics.h" "$URL/metrics" >"$T/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/metrics.h" || fail "/metrics content type: $(grep -i content-type "$T/metrics.h")"
compare_metrics() {
	INFLUX_EPOCH=ms "$PY" - "$T/metrics.txt" "$(influx_url)" "$INFLUX_DB" <<'PYEOF'
import json, sys, urllib.parse, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text, url, db = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
fams = list(text_string_to_metric_families(text))
want = {"coldchaind_output": "output", "coldchaind_modbus": "sensor", "coldchaind_journal": None, "coldchaind_web": None}
n = 0
for f in fams:
    for s in f.samples:
        meas = next((m for m in want if s.name.startswith(m + "_")), None)
        if meas is None:
            continue
        field = s.name[len(meas) + 1:]
        if f.type == "counter" and field.endswith("_total") and not text.count(s.name + "{"):
            field = field[:-6]
        ts_ms = int(round(s.timestamp * 1000))
        where = " AND ".join(["time = %dms" % ts_ms] + ["\"%s\" = '%s'" % (k, v) for k, v in sorted(s.labels.items())])
        q = 'SELECT "%s" FROM "%s" WHERE %s' % (field, meas, where)
        r = json.load(urllib.request.urlopen(url + "/query?" + urllib.parse.urlencode({"db": db, "epoch": "ms", "q": q}), timeout=30))
        ser = r["results"][0].get("series")
        if not ser:
            print("MISSING %s %s at %d" % (meas, field, ts_ms)); sys.exit(1)
        v = ser[0]["values"][0][1]
        v = (1.0 if v else 0.0) if isinstance(v, bool) else float(v)
        if v != s.value:
            print("DIFF %s %s %r: metrics %r, influxdb %r" % (meas, field, s.labels, s.value, v)); sys.exit(2)
        n += 1
print(n)
PYEOF
}
wait_for "metrics point in InfluxDB" compare_metrics
res=$(compare_metrics)
if [[ "$res" =~ ^[0-9]+$ ]] && [ "$res" -ge 20 ]; then
	pass "/metrics: $res samples parsed by prometheus_client equal InfluxDB's points at the same ms"
else
	fail "/metrics against InfluxDB: $res"
fi
grep -q '^# TYPE coldchaind_output_pending gauge' "$T/metrics.txt" && grep -q '^# TYPE coldchaind_output_written counter' "$T/metrics.txt" &&
	pass "/metrics types: pending gauge, written counter" || fail "/metrics TYPE lines wrong"
grep -q 'last_error' "$T/metrics.txt" && fail "/metrics carries a string field" || pass "/metrics leaves string fields out"

# ---- security headers, 404, 405
curl -s -D "$T/h" -o /dev/null --max-time 10 "$URL/healthz"
missing=0
for h in "Content-Security-Policy: default-src 'self'" "X-Content-Type-Options: nosniff" "X-Frame-Options: DENY" \
	"Referrer-Policy: same-origin" "Cache-Control: no-store"; do
	grep -qiF "$h" "$T/h" || { fail "header missing: $h"; missing=1; }
done
[ "$missing" = 0 ] && pass "security headers on /healthz"
expect_eq "unknown path" "$(code "$URL/nope")" 404
curl -s -D "$T/h405" -o /dev/null --max-time 10 -X POST "$URL/metrics"
head -n 1 "$T/h405" | grep -q ' 405' && grep -qi '^Allow: GET' "$T/h405" && pass "POST /metrics: 405 with Allow: GET" ||
	fail "POST /metrics: $(head -n 1 "$T/h405") $(grep -i allow "$T/h405")"

# ---- 1 MiB POST -> 413
head -c 1048576 /dev/zero | tr '\0' a >"$T/big"
expect_eq "1 MiB POST" "$(code -X POST --data-binary @"$T/big" "$URL/metrics")" 413
expect_eq "1 MiB chunked POST" "$(code -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$URL/metrics")" 413

# ---- headers past max_request (16 KiB): 431, logged; past libmicrohttpd's
# pool (max_request + 8 KiB) it answers 431 itself or closes
big_header=$(head -c 17000 /dev/zero | tr '\0' b)
expect_eq "a 17 KB header" "$(code -H "X-Big: $big_header" "$URL/healthz")" 431
file_has "bytes of headers: max_request is 16384" "$DAEMON_LOG" && pass "the 431 refusal is logged" || fail "431 not logged"
big_header=$(head -c 60000 /dev/zero | tr '\0' b)
c=$(code -H "X-Big: $big_header" "$URL/healthz")
case $c in 431 | 000) pass "a 60 KB header: $c (000: closed)" ;; *) fail "a 60 KB header got $c" ;; esac
expect_eq "a 15 KB header" "$(code -H "X-Big: $(head -c 15000 /dev/zero | tr '\0' b)" "$URL/healthz")" 200

# ---- SIGHUP with a changed web key: logged as needing a restart, still served
sed -i 's/per_ip_connections = 600;/per_ip_connections = 500;/' "$DAEMON_CONF"
kill -HUP "$DAEMON_PID"
wait_for "reload logged" file_has "web and timezone settings changed: they take effect at the next restart" "$DAEMON_LOG" &&
	pass "a reload that changes web keys says a restart is needed" || fail "no restart notice on reload"
wait_for "reloaded" file_has "configuration reloaded" "$DAEMON_LOG" || fail "reload did not finish"
expect_eq "healthz after the reload" "$(code "$URL/healthz")" 200

# ---- 500 idle connections from 127.0.0.2; 127.0.0.1 still answered
start_bg idle "$T/idle.log" "$PY" -c '
import socket, sys, time
socks = []
for i in range(500):
    s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", int(sys.argv[1]))); socks.append(s)
print("open", len(socks), flush=True)
time.sleep(600)' "$WEB_PORT"
IDLE_PID=$LAST_PID
wait_for "500 idle connections" file_has "open 500" "$T/idle.log" || fail "could not open 500 connections: $(cat "$T/idle.log")"
expect_eq "healthz from 127.0.0.1 with 500 idle connections open" "$(code "$URL/healthz")" 200
stop_pid "$IDLE_PID" 5

# ---- per-address bound: refused, counted
stop_daemon || fail "daemon exit status on SIGTERM"
write_conf "per_ip_connections = 4; max_connections = 16;"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not reopen"
start_bg idle2 "$T/idle2.log" "$PY" -c '
import socket, sys, time
socks = []
for i in range(10):
    s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", int(sys.argv[1]))); socks.append(s)
print("open", len(socks), flush=True)
time.sleep(600)' "$WEB_PORT"
IDLE_PID=$LAST_PID
wait_for "refusal logged" file_has "per_ip_connections (4) reached" "$DAEMON_LOG" &&
	pass "connections past per_ip_connections are refused and logged" || fail "no per-IP refusal logged"
expect_eq "healthz from 127.0.0.1 while 127.0.0.2 is at its bound" "$(code "$URL/healthz")" 200
refused_counted() { curl -s --max-time 10 "$URL/metrics" | grep -q '^coldchaind_web_refused_per_ip{site="itest"} [1-9]'; }
wait_for "refusal counted" refused_counted && pass "refusals counted in coldchaind_web" || fail "refused_per_ip not counted"
stop_pid "$IDLE_PID" 5

# ---- TLS with a test CA
stop_daemon || fail "daemon exit status on SIGTERM"
(
	cd "$T" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=itest CA" &&
		openssl req -newkey rsa:2048 -nodes -keyout web.key -out web.csr -subj "/CN=localhost" &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext &&
		openssl x509 -req -in web.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out web.pem -days 2 -extfile ext
) >"$T/openssl.log" 2>&1 || die "openssl: $(cat "$T/openssl.log")"
chmod 600 "$T/web.key"
write_conf "cert_file = \"$T/web.pem\"; key_file = \"$T/web.key\";"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the TLS listener did not open"
expect_eq "https with the test CA" "$(code --cacert "$T/ca.pem" "https://127.0.0.1:$WEB_PORT/healthz")" 200
[ "$(code --cacert /dev/null "https://127.0.0.1:$WEB_PORT/healthz" 2>/dev/null)" = 000 ] &&
	pass "https without the CA is refused by curl" || fail "https verified without the test CA"
[ "$(code "http://127.0.0.1:$WEB_PORT/healthz")" = 200 ] && fail "plain HTTP answered on the TLS port" ||
	pass "plain HTTP to the TLS port gets no page"
chmod 644 "$T/web.key"
"$COLDCHAIND" -n -c "$DAEMON_CONF" >"$T/n.out" 2>&1 && fail "-n accepted a key file readable by others" ||
	{ grep -q 'web.key_file: .*readable by others' "$T/n.out" && pass "-n refuses a world-readable key_file: $(cat "$T/n.out")" || fail "-n: $(cat "$T/n.out")"; }
finish
