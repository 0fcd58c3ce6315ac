#!/bin/bash
# The lot report's Processing section (issue 14): a precooling batch (the
# lagged exponential curve C 0.5 /h, j 1.15, T0 30 C, medium 2 C of
# test_precool_batch_*.sh) is fed over MQTT with explicit timestamps to a
# real mosquitto, coldchaind writes its `process` points and alarms to a
# real influxd, the batch is pulled at 3 h (9.2 C: pulled_early) and
# released into room CS1 as lot L-B1; `coldchainctl report --lot L-B1
# --batch B1` then shows the step: C and j equal to the last process point
# in InfluxDB (queried independently here), the verdict "pulled early", the
# batch's alarm, the profile's numbers with their grades (D marked as an
# estimate), the curve's points; its own fit of the recorded points gives C
# within 2 % of the curve's; the HTML renders in Debian's headless Chromium
# with the cooling-curve SVG (points, fitted curve, target line).  Every
# cooling query of the Grafana dashboard "Processing" returns rows on this
# batch (the fumigation and drying panels: test_report_lot_*_precooling_and_fumigation*).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"

start_influxd
start_mosquitto
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-procreport"; };
  subscriptions = (
    { topic = "pc1/state"; format = "json"; sensor = "pc1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; };
                 pulp1 = { path = "p1"; quantity = "temperature"; unit = "C"; };
                 pulp2 = { path = "p2"; quantity = "temperature"; unit = "C"; }; }; },
    { topic = "cs1/state"; format = "json"; sensor = "cs1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; }; }; }
  );
};
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "CS1"; profile = "lychee"; temperature = "cs1/air"; } );
process_profiles = ( { name = "lychee-fa"; version = "itest-1"; kind = "precool";
  precool = { target = (5.0, "A: Sargent"); target_margin = (1.0, "D"); harvest_limit = "4h"; }; } );
processes = ( { name = "precooler-1"; kind = "precool"; medium = "pc1/air"; probes = [ "pc1/pulp1", "pc1/pulp2" ];
  c_ref = (0.5, "D: commissioning"); set_point = (2.0, "D"); } );
alarms = { stale_after = "1d"; };
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon_mqtt

now=$(date +%s)
START=$((now - 4 * 3600))
curve() { # FROM TO (minutes)
	"$PY" - "$START" "$1" "$2" <<'PYEOF'
import math, sys
start, a, b = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def T(c, j, t):
    return 2.0 + 28.0 * min(1.0, j * math.exp(-c * t))
for m in range(a, b):
    t = m / 60.0
    print('{"ts": %d, "air": 2.0, "p1": %.3f, "p2": %.3f}' % (start + m * 60, T(0.5, 1.15, t), T(0.6, 1.1, t)))
PYEOF
}
ctl batch start precooler-1 B1 --profile lychee-fa --start "$(iso $START)" --harvest "$(iso $((START - 3600)))" \
	>"$T/start.out" 2>&1
expect_eq "batch start exit status" "$?" 0

# Three hours in chunks of 15 minutes: each chunk's process point lands at
# its own process time (the batch is judged at its newest reading).
bn() { ctl batch status B1 --json | json_eval "d['batches'][0]['n']" 2>/dev/null; }
newest_at_least() { # MINUTES: a process point at or after START + MINUTES
	influx_has "SELECT \"slowest_c\" FROM \"process\" WHERE \"batch\" = 'B1' AND time >= $((START + $1 * 60))s LIMIT 1"
}
for m in 0 15 30 45 60 75 90 105 120 135 150 165; do
	curve "$m" $((m + 15)) | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pc1/state -l
	wait_for "a process point at minute $((m + 14))" newest_at_least $((m + 14)) ||
		die "no process point at minute $((m + 14)) (batch n=$(bn))"
done
curve 180 181 | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pc1/state -l
wait_for "a process point at minute 180" newest_at_least 180 || die "no process point at minute 180"

ctl batch stop B1 >"$T/stop.out" 2>&1
expect_eq "batch stop exit status" "$?" 0
ctl batch release B1 --lot L-B1 --room CS1 >"$T/release.out" 2>&1
expect_eq "batch release exit status" "$?" 0
pulled() { influx_has "SELECT \"state\" FROM \"alert\" WHERE \"id\" = 'precooler-1/B1/pulled_early' AND \"event\" = 'raise'"; }
wait_for "the pulled_early raise in InfluxDB" pulled || fail "no pulled_early raise in InfluxDB"
stopped() { influx_has "SELECT \"stopped\" FROM \"process\" WHERE \"batch\" = 'B1' AND \"stopped\" = true LIMIT 1"; }
wait_for "the stopped process point in InfluxDB" stopped || fail "no stopped process point"

# The lot in storage: a few cold-room readings, so it has shelf_life points.
room_pub() {
	local t
	t=$(date +%s)
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t cs1/state -m "{\"ts\": $t, \"air\": 4.0}"
}
sl() { room_pub; influx_has "SELECT \"observed_h\" FROM \"shelf_life\" WHERE \"lot\" = 'L-B1' LIMIT 1"; }
wait_for "shelf_life points of lot L-B1" sl || die "lot L-B1 has no shelf_life point"

# --- the Grafana dashboard "Processing": every query returns rows on this batch
check "dashboards/*.json are what dashboards/generate.py writes" "$PY" "$ROOT_DIR/dashboards/generate.py" --check
DASHBOARD_PANELS='^(?!Fumigation|Drying)' "$PY" "$TESTS_DIR/integration/dashboard_queries.py" "$(influx_url)" "$INFLUX_DB" "$ROOT_DIR/dashboards/processing.json" \
	>"$T/queries.out" 2>"$T/queries.err" || { cat "$T/queries.err"; die "dashboard_queries.py failed"; }
nq=0
while IFS=$'\t' read -r st desc; do
	nq=$((nq + 1))
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/queries.out"
[ "$nq" -ge 12 ] || fail "only $nq queries found in dashboards/processing.json (expected at least 12)"

# --- CSV
ctl report --lot L-B1 --batch B1 --format csv -o "$T/lot.csv" 2>"$T/csv.err"
expect_eq "report --batch B1 --format csv exits" "$?" 0
[ -s "$T/lot.csv" ] || die "no CSV written: $(cat "$T/csv.err")"
lastf() { INFLUX_EPOCH=ms influx_scalar "SELECT last(\"$1\") FROM \"process\" WHERE \"batch\" = 'B1'"; }
c_db=$(lastf C)
j_db=$(lastf j)
[ -n "$c_db" ] && [ -n "$j_db" ] || die "no C or j in the process points"
expect_eq "CSV step B1 C (InfluxDB last process C)" "$(csv_get "$T/lot.csv" step batch B1 C_per_h)" "$(round "$c_db" 4)"
expect_eq "CSV step B1 j (InfluxDB last process j)" "$(csv_get "$T/lot.csv" step batch B1 j)" "$(round "$j_db" 3)"
expect_eq "CSV step B1 R² (InfluxDB last process r2)" "$(csv_get "$T/lot.csv" step batch B1 r2)" "$(round "$(lastf r2)" 4)"
expect_eq "CSV step B1 final pulp temperature (InfluxDB last slowest_c)" "$(csv_get "$T/lot.csv" step batch B1 final_c)" \
	"$(round "$(lastf slowest_c)" 2)"
expect_eq "CSV step B1 process" "$(csv_get "$T/lot.csv" step batch B1 process)" precooler-1
expect_eq "CSV step B1 profile version" "$(csv_get "$T/lot.csv" step batch B1 profile_version)" itest-1
expect_eq "CSV step B1 verdict" "$(csv_get "$T/lot.csv" step batch B1 verdict)" "pulled early"
expect_eq "CSV step B1 target" "$(csv_get "$T/lot.csv" step batch B1 target_c)" 5.0
expect_eq "CSV the batch's pulled_early alarm" "$(csv_get "$T/lot.csv" step_alarm id precooler-1/B1/pulled_early batch)" B1
expect_eq "CSV the target's grade" "$(csv_get "$T/lot.csv" step_grade parameter precool.target grade)" A
expect_eq "CSV a D-graded number is an estimate" "$(csv_get "$T/lot.csv" step_grade parameter precool.target_margin grade)" \
	"D (estimate)"
expect_eq "CSV the line's c_ref graded D" "$(csv_get "$T/lot.csv" step_grade parameter processes.c_ref grade)" "D (estimate)"
# the curve: the running batch's points (a stopped batch's fall at its stop time)
npts=$(INFLUX_EPOCH=ms influx_scalar "SELECT count(\"slowest_c\") FROM \"process\" WHERE \"batch\" = 'B1' AND \"stopped\" = false")
expect_eq "CSV curve points (InfluxDB count of slowest_c while running)" "$(grep -c '^step_point,B1,' "$T/lot.csv")" "$npts"
refit=$(csv_get "$T/lot.csv" step batch B1 refit_C_per_h)
check "the report's own fit of the recorded points: C within 2 % of 0.5 ($refit)" \
	"$PY" -c "import sys; sys.exit(0 if abs(float('$refit') / 0.5 - 1) < 0.02 else 1)"

# --- HTML in headless Chromium
ctl report --lot L-B1 --batch B1 --format html -o "$T/lot.html" 2>"$T/html.err"
expect_eq "report --batch B1 --format html exits" "$?" 0
ctl report --lot L-B1 --batch NOPE --format html -o "$T/nope.html" 2>"$T/nope.err"
expect_eq "report --batch of a batch with no process point exits" "$?" 1
check "the error names the batch" grep -q "batch NOPE: no process points" "$T/nope.err"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP integration/$TEST_NAME: chromium is not installed (apt-get install -y chromium): the HTML was not rendered"
	finish
fi
chrome() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage \
		--user-data-dir="$T/chromium-profile" "$@" 2>>"$T/chromium.log"
}
chrome --dump-dom "file://$T/lot.html" >"$T/dom.html"
[ -s "$T/dom.html" ] || die "chromium --dump-dom produced nothing: $(tail -5 "$T/chromium.log")"
"$PY" - "$T/dom.html" "$(round "$c_db" 4)" "$(round "$j_db" 3)" "$npts" >"$T/dom.check" <<'PYEOF'
import sys
from html.parser import HTMLParser
dom, c, j, npts = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], sys.argv[3], int(sys.argv[4])
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.poly = {}; self.lines = {}; self.ids = {}; self.cur = None; self.h2 = []; self.inh2 = False
        self.svg = None
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "svg": self.svg = a.get("id")
        if tag == "polyline" and self.svg == "cool-B1":
            self.poly[a.get("class")] = len(a.get("points", "").split())
        if tag == "line" and self.svg == "cool-B1": self.lines[a.get("class")] = self.lines.get(a.get("class"), 0) + 1
        if tag == "h2": self.inh2 = True; self.h2.append("")
        if "id" in a: self.cur = a["id"]; self.ids[self.cur] = ""
    def handle_data(self, d):
        if self.cur: self.ids[self.cur] += d
        if self.inh2: self.h2[-1] += d
    def handle_endtag(self, tag):
        self.cur = None
        if tag == "h2": self.inh2 = False
        if tag == "svg": self.svg = None
p = P(); p.feed(dom)
def say(ok, what): print("%s\t%s" % ("ok" if ok else "fail", what))
say("Processing" in p.h2 and p.h2.index("Processing") < min(i for i, h in enumerate(p.h2) if h.startswith("Time in each room")),
    "rendered DOM: the Processing section comes before the stays (%s)" % p.h2)
say(p.poly.get("cool-obs", 0) == npts, "rendered DOM: the slowest probe's polyline has %d points (%d process points)" % (p.poly.get("cool-obs", 0), npts))
say(p.poly.get("cool-fit", 0) >= 50, "rendered DOM: the fitted curve's polyline has %d points" % p.poly.get("cool-fit", 0))
say(p.lines.get("cool-target", 0) >= 1, "rendered DOM: the target line is drawn")
say(p.ids.get("step-B1-C", "").startswith(c + " /h"), "rendered DOM: C %r shows InfluxDB's %s" % (p.ids.get("step-B1-C"), c))
say(p.ids.get("step-B1-j", "") == j, "rendered DOM: j %r shows InfluxDB's %s" % (p.ids.get("step-B1-j"), j))
say(p.ids.get("step-B1-verdict", "").startswith("pulled early"), "rendered DOM: verdict %r" % p.ids.get("step-B1-verdict"))
say("(estimate)" in p.ids.get("step-B1-target_c", ""), "rendered DOM: the D-graded pull margin is an estimate (%r)" % p.ids.get("step-B1-target_c"))
say("precooler-1/B1/pulled_early" in dom, "rendered DOM: the batch's pulled_early alarm is listed")
PYEOF
while IFS=$'\t' read -r st desc; do
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/dom.check"
chrome --screenshot="$T/lot.png" --window-size=1240,1754 "file://$T/lot.html" >/dev/null
check "chromium --screenshot renders the report to a PNG" \
	"$PY" -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(0 if d[:8] == b"\x89PNG\r\n\x1a\n" and len(d) > 20000 else 1)' "$T/lot.png"
[ -n "${KEEP_REPORT:-}" ] && cp "$T/lot.html" "$T/lot.png" "$T/lot.csv" "$KEEP_REPORT"/
finish
