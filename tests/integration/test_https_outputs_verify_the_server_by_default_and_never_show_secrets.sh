#!/bin/bash
# InfluxDB outputs over HTTPS against a server whose certificate comes from a
# CA made here: without ca_file the server is refused (libcurl verifies by
# default: nothing is sent), with ca_file it is trusted, and insecure = true
# sends while the daemon warns loudly.  The password and the token read from
# their files reach the server, but never the log or `coldchaind -p`.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"
command -v openssl >/dev/null || skip "needs openssl (a test CA)"

P=$T/pki
test_pki "$P"

# An HTTPS "InfluxDB": 204 to every write, an empty result to every query
# (coldchainctl report), each request line and its Authorization header
# recorded.
cat >"$T/https_server.py" <<'PYEOF'
import http.server, ssl, sys
P, out, portfile = sys.argv[1:]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(out, "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Authorization", "-")))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        body = b'{"results":[{"statement_id":0}]}'
        with open(out, "a") as f:
            f.write("GET %s %s\n" % (self.path, self.headers.get("Authorization", "-")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(P + "/server.crt", P + "/server.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PYEOF
start_bg https-server "$T/https.log" "$PY" "$T/https_server.py" "$P" "$T/requests" "$T/port"
wait_for "the HTTPS server" test -s "$T/port" || die "the HTTPS server did not start"
URL=https://127.0.0.1:$(cat "$T/port")

printf 'pw-s3cret-1\n' >"$T/influx.password"
printf 'tok-s3cret-2\n' >"$T/influx.token"
chmod 600 "$T/influx.password" "$T/influx.token"
STATS_INTERVAL=1s
SHUTDOWN_TIMEOUT=1s
{
	config_head
	cat <<CONF
outputs = {
  influxdb = (
    { name = "noca"; url = "$URL"; database = "noca"; username = "u"; password_file = "$T/influx.password";
      flush = "100ms"; backoff_max = "1s"; },
    { name = "withca"; url = "$URL"; database = "withca"; username = "u"; password_file = "$T/influx.password";
      ca_file = "$P/ca.crt"; flush = "100ms"; },
    { name = "insec"; url = "$URL"; database = "insec"; insecure = true; flush = "100ms"; }
  );
  influxdb2 = ( { name = "v2"; url = "$URL"; org = "o"; bucket = "b"; token_file = "$T/influx.token";
                  ca_file = "$P/ca.crt"; flush = "100ms"; } );
};
CONF
} >"$DAEMON_CONF"
start_daemon

# the self-metrics (every second) are what the outputs carry
got() { grep -q "$1" "$T/requests" 2>/dev/null; }
check "with ca_file the server is trusted: points delivered" wait_for "db=withca" got "^/write?db=withca"
check "insecure = true sends too" wait_for "db=insec" got "^/write?db=insec"
check "the v2 output (token, ca_file) delivers" wait_for "api/v2" got "^/api/v2/write?org=o&bucket=b"
refused() { grep -q "output noca: .*\(certificate\|SSL\)" "$DAEMON_LOG"; }
check "without ca_file the certificate is refused, and the log says so" wait_for "noca refused" refused
if got "db=noca"; then fail "the output without ca_file sent points to a server it cannot verify"; else
	pass "nothing reached the server from the output without ca_file"; fi
check "insecure = true is logged loudly" grep -q "output insec: TLS certificate verification is DISABLED" "$DAEMON_LOG"
check "the password reaches the server (basic auth)" got "db=withca.* Basic $(printf 'u:pw-s3cret-1' | base64)"
check "the token reaches the server" got "api/v2/write.* Token tok-s3cret-2"

# coldchainctl report reads back from the configuration's first InfluxDB
# output with that output's TLS settings: its ca_file, or nothing trusted.
for r in rca rnoca; do
	{
		config_head
		printf 'outputs = { influxdb = ( { name = "r"; url = "%s"; database = "%s"; %s } ); };\n' "$URL" "$r" \
			"$([ $r = rca ] && echo "ca_file = \"$P/ca.crt\";")"
	} >"$T/$r.conf"
	timeout 60 "$CTL" report --lot NO-SUCH-LOT -c "$T/$r.conf" -o "$T/$r.html" >"$T/$r.out" 2>&1
done
check "coldchainctl report trusts the output's ca_file: its query reached the server" got "^GET /query?db=rca"
if got "GET /query?db=rnoca"; then fail "coldchainctl report queried a server it cannot verify"; else
	pass "coldchainctl report without ca_file sent no query"; fi
check "coldchainctl report without ca_file says why" grep -q "certificate" "$T/rnoca.out"
if grep -q "certificate" "$T/rca.out"; then fail "coldchainctl report with ca_file: $(cat "$T/rca.out")"; else
	pass "coldchainctl report with ca_file has no certificate error"; fi

"$COLDCHAIND" -p -c "$DAEMON_CONF" >"$T/printed.conf" 2>&1
check "coldchaind -p prints the configuration" grep -q 'token_file = ' "$T/printed.conf"
for s in pw-s3cret-1 tok-s3cret-2 "$(printf 'u:pw-s3cret-1' | base64)"; do
	if grep -q -- "$s" "$DAEMON_LOG" "$T/printed.conf"; then
		fail "a secret ($s) appears in the log or in coldchaind -p"
	else
		pass "the secret $s is in neither the log nor coldchaind -p"
	fi
done
finish
