#!/bin/bash
# GET /lot/ID/report and /lot/ID/report.csv served by the real daemon from
# a real influxd holding a lot's history (replayed as coldchaind records
# it: shelf_life, temperature, humidity, alert): without a session 303 to
# /login (401 for a fragment); a viewer reads it; the CSV is the CLI's
# `coldchainctl report --lot ID --from F --to T --format csv` byte for byte
# apart from generated_utc, the HTML's tables hold the CLI's values; the
# default period starts at the lot's first shelf_life point like the CLI's;
# the HTML's CSP allows its one <style> block by hash and nothing inline
# else; a second request while one runs gets 503 with Retry-After (counted
# in coldchaind_web); with InfluxDB stopped 502 with the message in the
# user's language (vi and en).
. "$(dirname "$0")/../lib.sh"

CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"
LOT=LN-W-0001

start_influxd coldchain
U=$T/users
VI_PW=viewer-pass-5678
printf '%s\n' "$VI_PW" | "$CTL" user add vi --role viewer --file "$U" >/dev/null || die "user add vi"
WEB_PORT=$(free_port)
STATS_INTERVAL=1s
{
	config_head
	config_outputs
	echo "web = { listen = \"127.0.0.1:$WEB_PORT\"; users_file = \"$U\"; };"
} >"$DAEMON_CONF"

BASE=1781222400 # 2026-06-12T00:00:00Z
FROM=$BASE
TO=$((BASE + 36000))
"$PY" - "$BASE" "$LOT" >"$T/history.lp" <<'PYEOF'
import math, sys
base, lot = int(sys.argv[1]), sys.argv[2]
M, H = 60, 3600
for k in range(11):
    print("shelf_life,lot=%s,room=A,product=lychee,profile=lychee,profile_version=2025.1,site=itest "
          "consumed=%s,remaining_h=%s,observed_h=%s,mkt_c=%s %d" % (lot, 0.01 * k, 200 - k, k, 4 + 0.1 * k, base + 60 + k * H))
for i in range(0, 10 * H, 5 * M):
    if 3 * H <= i < 4 * H:
        continue  # a gap in the record
    t = 4.0 + 3.0 * math.sin(i / 7000.0)
    print("temperature,room=A,sensor=th-a1,channel=temperature,site=itest value=%.3f %d" % (t, base + i))
    print("humidity,room=A,sensor=th-a1,channel=humidity,site=itest value=%.2f %d" % (90 + math.cos(i / 5000.0), base + i))
def alert(t, aid, event, state, user=None):
    f = 'state="%s",event="%s",value=8.5,limit=7.0,message="room A",id="%s",annunciated=true' % (state, event, aid)
    if user: f += ',user="%s"' % user
    print("alert,room=A,rule=%s,sensor=th-a1,severity=warning,site=itest %s %d" % (aid.split("/")[1], f, base + t))
alert(2 * H, "A/temp_high", "raise", "active")
alert(2 * H + 20 * M, "A/temp_high", "ack", "acked", "qa")
alert(2 * H + 50 * M, "A/temp_high", "clear", "inactive")
PYEOF
curl -sS --fail --max-time 30 -XPOST "$(influx_url)/write?db=coldchain&precision=s" --data-binary @"$T/history.lp" \
	>"$T/write.out" 2>&1 || die "writing the history failed: $(cat "$T/write.out")"

start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"

"$CTL" report --lot "$LOT" --from "$FROM" --to "$TO" --format csv -c "$DAEMON_CONF" -o "$T/cli.csv" 2>"$T/cli.err"
expect_eq "coldchainctl report --format csv exits" "$?" 0
"$CTL" report --lot "$LOT" --from "$FROM" --to "$TO" --format html -c "$DAEMON_CONF" -o "$T/cli.html" 2>"$T/cli.err"
expect_eq "coldchainctl report --format html exits" "$?" 0
"$CTL" report --lot "$LOT" --format csv -c "$DAEMON_CONF" -o "$T/cli-default.csv" 2>"$T/cli.err"
expect_eq "coldchainctl report (default period) exits" "$?" 0

# Phase 1 (InfluxDB up): the python peer below; phase 2 after stopping it.
client() {
	"$PY" - "http://127.0.0.1:$WEB_PORT" "$LOT" "$VI_PW" "$FROM" "$TO" "$T" "$1" <<'PYEOF'
import csv, hashlib, base64, html.parser, http.cookiejar, io, re, sys, threading, time, urllib.error, urllib.parse, urllib.request
url, lot, pw, frm, to, T, phase = sys.argv[1:8]
def say(ok, what): print("%s\t%s" % ("ok" if ok else "fail", what)); sys.stdout.flush()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a): return None
class Client:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
    def req(self, path, data=None, headers=None):
        r = urllib.request.Request(url + path, data=urllib.parse.urlencode(data).encode() if data else None, headers=headers or {})
        try:
            resp = self.op.open(r, timeout=90)
        except urllib.error.HTTPError as e:
            resp = e
        return resp.status if hasattr(resp, "status") else resp.code, resp.headers, resp.read().decode("utf-8", "replace")
def login(c):
    st, h, body = c.req("/login")
    tok = re.search(r'name="csrf" value="([0-9a-f]+)"', body) or re.search(r'value="([0-9a-f]{32,})"', body)
    st, h, body = c.req("/login", {"csrf": tok.group(1), "next": "/", "user": "vi", "password": pw})
    return st == 303
seg = urllib.parse.quote(lot, safe="")
def csv_rows(text):
    return [r for r in csv.reader(io.StringIO(text))]
def tables(html_text):
    class P(html.parser.HTMLParser):
        def __init__(s):
            super().__init__(); s.t = []; s.cell = None
        def handle_starttag(s, tag, a):
            if tag == "table": s.t.append([])
            elif tag == "tr" and s.t: s.t[-1].append([])
            elif tag in ("td", "th"): s.cell = ""
        def handle_endtag(s, tag):
            if tag in ("td", "th") and s.cell is not None and s.t and s.t[-1]:
                s.t[-1][-1].append(s.cell.strip()); s.cell = None
        def handle_data(s, d):
            if s.cell is not None: s.cell += d
    p = P(); p.feed(html_text); return p.t
anon = Client()
vi = Client()
if phase == "up":
    st, h, _ = anon.req("/lot/%s/report" % seg)
    say(st == 303 and h.get("Location", "").startswith("/login"), "no session: 303 to /login (%s %s)" % (st, h.get("Location")))
    st, h, _ = anon.req("/lot/%s/report.csv" % seg, headers={"X-Fragment": "main"})
    say(st in (303, 401), "no session, CSV: %s" % st)
    say(login(vi), "the viewer logs in")
    q = "?from=%s&to=%s" % (frm, to)
    t0 = time.monotonic()
    st, h, body = vi.req("/lot/%s/report.csv%s" % (seg, q))
    say(st == 200 and h.get("Content-Type", "").startswith("text/csv"), "viewer: report.csv 200 text/csv (%s %s) in %.0f ms"
        % (st, h.get("Content-Type"), (time.monotonic() - t0) * 1000))
    cli = open(T + "/cli.csv", encoding="utf-8").read()
    strip = lambda s: "\n".join(l for l in s.split("\n") if "generated_utc" not in l)
    say(strip(body) == strip(cli) and len(body) > 500, "the web CSV is the CLI's byte for byte apart from generated_utc (%d vs %d bytes)" % (len(body), len(cli)))
    open(T + "/web.csv", "w", encoding="utf-8").write(body)
    st, h, body = vi.req("/lot/%s/report%s" % (seg, q))
    say(st == 200 and h.get("Content-Type", "").startswith("text/html"), "viewer: report 200 text/html")
    wt, ct = tables(body), tables(open(T + "/cli.html", encoding="utf-8").read())
    norm = lambda ts: [[r for r in tb if not (r and r[0] in ("generated_utc", "Generated"))] for tb in ts]
    say(len(wt) >= 3 and norm(wt) == norm(ct), "the HTML's %d tables hold the CLI's values" % len(wt))
    csp = h.get("Content-Security-Policy", "")
    m = re.search(r"<style>(.*?)</style>", body, re.S)
    want = "'sha256-%s'" % base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode() if m else "?"
    say(want in csp and "unsafe-inline" not in csp and "script-src" not in csp and "<script" not in body,
        "CSP allows the <style> block by its hash, nothing inline else: %s" % csp)
    st, h, body = vi.req("/lot/%s/report.csv" % seg)
    rows = csv_rows(body)
    web_from = [r for r in rows if len(r) >= 3 and r[:2] == ["report", "period_from_utc"]]
    cli_from = [r for r in csv_rows(open(T + "/cli-default.csv", encoding="utf-8").read()) if len(r) >= 3 and r[:2] == ["report", "period_from_utc"]]
    say(st == 200 and web_from and web_from == cli_from, "default period: from %s, as the CLI's --lot default (%s)" % (web_from, cli_from))
    st, h, body = vi.req("/lot/NO-SUCH-LOT/report")
    say(st == 404, "a lot with no history: 404 (%s)" % st)
    # Two at once: the second, while the first runs, gets 503.
    res = {}
    def one(k): res[k] = vi.req("/lot/%s/report" % seg)
    a = threading.Thread(target=one, args=("a",)); a.start()
    time.sleep(0.05)  # not synchronisation: the check below accepts either order and retries
    busy = None
    for i in range(200):
        st, h, _ = vi.req("/lot/%s/report.csv" % seg)
        if st == 503:
            busy = (st, h.get("Retry-After")); break
        if not a.is_alive():
            a.join(); a = threading.Thread(target=one, args=("a",)); a.start()
    a.join()
    say(busy is not None and busy[1], "a second request while one runs: 503 with Retry-After %s" % (busy,))
    say(res["a"][0] == 200, "the first one still succeeds (%s)" % res["a"][0])
elif phase == "reload":
    say(login(vi), "the viewer logs in after the reload")
    st, h, body = vi.req("/lot/%s/report.csv?from=%s&to=%s" % (seg, frm, to))
    cli = open(T + "/cli.csv", encoding="utf-8").read()
    strip = lambda s: "\n".join(l for l in s.split("\n") if "generated_utc" not in l)
    say(st == 200 and strip(body) == strip(cli), "after a reload the report uses the reloaded configuration's copy: the CLI's CSV (%s)" % st)
else:
    say(login(vi), "the viewer logs in")
    st, h, body = vi.req("/lot/%s/report" % seg, headers={"Accept-Language": "en"})
    say(st == 502 and "needs the time-series database (InfluxDB)" in body and 'id="report-error"' in body,
        "InfluxDB down: 502 with the message (en): %s" % st)
    say("not since the daemon started" not in body and re.search(r"Last reached by a report: <time datetime=", body),
        "the page says when a report last reached InfluxDB")
    say("/query" not in body and "database coldchain" not in body, "the page does not show the InfluxDB URL and database")
    c2 = Client(); login(c2)
    st, h, body = c2.req("/lot/%s/report" % seg, headers={"Accept-Language": "vi"})
    say(st == 502 and "cần cơ sở dữ liệu chuỗi thời gian" in body, "InfluxDB down: 502 with the message (vi): %s" % st)
PYEOF
}
client up >"$T/up.out" 2>&1
while IFS=$'\t' read -r res what; do
	case $res in ok) pass "$what" ;; fail) fail "$what" ;; *) fail "client: $res $what" ;; esac
done <"$T/up.out"
grep -q "^ok" "$T/up.out" || die "the client checked nothing: $(tail -20 "$T/up.out")"

busy_counted() { curl -s "http://127.0.0.1:$WEB_PORT/metrics" | grep -Eq 'reports_refused_busy(\{[^}]*\})? [1-9]'; }
if wait_for "the 503 counted in coldchaind_web" -t 20 busy_counted; then
	pass "the refused report is counted (reports_refused_busy)"
else
	fail "reports_refused_busy not counted: $(curl -s "http://127.0.0.1:$WEB_PORT/metrics" | grep -o 'report[a-z_]*[ =][0-9]*' | head)"
fi
check "the refusal is logged" grep -q "refused a report: one is being made" "$DAEMON_LOG"

# A reload hands the report the new configuration (the daemon's own, by
# reference); the old one is freed once no report uses it.
kill -HUP "$DAEMON_PID"
wait_for "the reload" -t 20 grep -q "configuration reloaded" "$DAEMON_LOG" || fail "no reload logged"
client reload >"$T/reload.out" 2>&1
while IFS=$'\t' read -r res what; do
	case $res in ok) pass "$what" ;; fail) fail "$what" ;; *) fail "client: $res $what" ;; esac
done <"$T/reload.out"
grep -q "^ok" "$T/reload.out" || die "the client checked nothing after the reload: $(tail -20 "$T/reload.out")"

stop_influxd
client down >"$T/down.out" 2>&1
while IFS=$'\t' read -r res what; do
	case $res in ok) pass "$what" ;; fail) fail "$what" ;; *) fail "client: $res $what" ;; esac
done <"$T/down.out"
pid_alive "$DAEMON_PID" || fail "coldchaind exited"
finish
