#!/bin/bash
# A v1 InfluxDB output pointed at a database that does not exist (issue 17
# item 6): by default (create_database = true) the daemon sends CREATE
# DATABASE once, logs it and writes at once, so points are in it within a
# few seconds; with create_database = false it never creates it, says how
# to, and retries every 5 s (not backoff_max = 60 s), so a database created
# by hand holds points within seconds (measured); a refused creation is
# tried once, logged, and the write retried every 5 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

printf '%s\n' '1 input 0 int16 ABCD 41' >"$T/sim.map"
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

write_conf() { # write_conf DB CREATE
	{
		config_head
		cat <<CONF
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "1s";
    devices = ( { name = "u1"; unit = 1; room = "A";
      points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                   table = "input"; address = 0; type = "int16"; scale = 0.1; } ); } ); }
);
outputs = { influxdb = ( { name = "itest"; url = "$(influx_url)"; database = "$1"; create_database = $2;
                           flush = "500ms"; backoff_max = "60s"; } ); };
CONF
	} >"$DAEMON_CONF"
}
db_exists() { influx_post "SHOW DATABASES" | grep -q "\"$1\""; }
has_points() { influx_has "SELECT value FROM temperature" "$1"; }
influx_has() { [ -n "$(influx_query "$1" "${2:-$INFLUX_DB}" | influx_rows 2>/dev/null)" ]; }

# 1. Default: created at once.
db_exists auto_db && die "auto_db exists before the test"
write_conf auto_db true
t0=$(date +%s%N)
start_daemon
if wait_for "points in auto_db" -t 15 has_points auto_db; then
	pass "database auto_db created and holding points $(( ($(date +%s%N) - t0) / 1000000 )) ms after start"
else
	fail "no points in auto_db within 15 s"
fi
grep -q 'output itest: database "auto_db" not found; created it (CREATE DATABASE)' "$DAEMON_LOG" &&
	pass "the creation is logged" || fail "no log line for the creation"
expect_eq "CREATE DATABASE sent (log lines)" "$(grep -c 'CREATE DATABASE' "$DAEMON_LOG")" 1
stop_daemon

# 2. create_database = false: never created; created by hand, used within seconds.
write_conf hand_db false
DAEMON_LOG=$T/coldchaind2.log
start_daemon
wait_for "the 404 logged" -t 15 file_has 'the database must exist: CREATE DATABASE .hand_db.' "$DAEMON_LOG" ||
	fail "the missing database is not reported"
# the write that got the 404 is where a creation would have happened
db_exists hand_db && fail "create_database = false created the database" || pass "create_database = false: not created"
influx_post 'CREATE DATABASE "hand_db"' >/dev/null || die "cannot create hand_db"
t0=$(date +%s%N)
wait_for "points in hand_db" -t 30 has_points hand_db
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 7000 ] && pass "points in hand_db ${ms} ms after CREATE DATABASE by hand (retry every 5 s, not 60 s)" ||
	fail "points in hand_db only ${ms} ms after CREATE DATABASE by hand (want <= 7000)"
grep -q 'created it' "$DAEMON_LOG" && fail "the daemon logged a creation with create_database = false" || true
stop_daemon

# 3. Creation refused.  A real influxd 1.x with auth answers a non-admin's
# write to a missing database with 403 (write rights are checked first), so
# the refusal comes from a peer that says "database not found" to /write and
# refuses CREATE DATABASE with 403, recording every request's time.
FAKE_PORT=$(free_port)
cat >"$T/fake_influx.py" <<'PYEOF'
import http.server, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "a") as f:
            f.write("%.3f %s %s\n" % (time.time(), self.path.split("?")[0], body[:60].decode("ascii", "replace").replace("\n", " ")))
        if self.path.startswith("/query"):
            code, msg = 403, b'{"error":"error authorizing query: create database requires admin privilege"}'
        else:
            code, msg = 404, b'{"error":"database not found: \\"refused_db\\""}'
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PYEOF
start_bg fake_influx "$T/fake_influx.log" "$PY" "$T/fake_influx.py" "$FAKE_PORT" "$T/requests.txt"
wait_for "fake influx listening" port_open "$FAKE_PORT" || die "the fake InfluxDB did not start"
write_conf refused_db true
sed -i "s|url = \"$(influx_url)\"|url = \"http://127.0.0.1:$FAKE_PORT\"|" "$DAEMON_CONF"
DAEMON_LOG=$T/coldchaind3.log
start_daemon
writes() { grep -c ' /write ' "$T/requests.txt" 2>/dev/null; }
wait_for "four writes" -t 40 eval '[ "$(writes)" -ge 4 ]' || fail "fewer than 4 write attempts in 40 s: $(writes)"
expect_eq "CREATE DATABASE tried once" "$(grep -c ' /query q=CREATE' "$T/requests.txt")" 1
grep -q 'CREATE DATABASE was refused (HTTP 403' "$DAEMON_LOG" && pass "the refusal is logged" ||
	fail "no log line for the refused creation"
gaps=$("$PY" -c '
import sys
t = [float(l.split()[0]) for l in open(sys.argv[1]) if " /write " in l]
print(" ".join("%.1f" % (b - a) for a, b in zip(t[1:], t[2:])))' "$T/requests.txt")
check "retries after the refusal every 5 s, not backoff_max (gaps: $gaps s)" \
	"$PY" -c "import sys; g = [float(x) for x in '$gaps'.split()]; sys.exit(0 if g and all(4 <= x <= 7 for x in g) else 1)"
finish
