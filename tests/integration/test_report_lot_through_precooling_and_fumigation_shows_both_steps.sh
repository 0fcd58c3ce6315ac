#!/bin/bash
# The lot report of a lot that went through precooling and fumigation
# (issue 14): batch P1 (the lagged exponential curve C 0.5 /h, j 1.15 of
# test_precool_batch_*.sh) and batch F1 (processing.md S3's chamber readings
# and S2's leak on the outside sensor) are fed over MQTT with explicit
# timestamps to a real mosquitto; coldchaind writes their `process` points
# to a real influxd; P1 is released into room CS1 as lot L-PF and F1 goes
# on into the same lot.  `coldchainctl report --lot L-PF` (no --batch) finds
# both batches by the points' `lot` field and shows them in the order they
# started, with C and j equal to P1's last process point in InfluxDB
# (queried independently here), CT 3750 ppm.h and the outside sensor's
# maximum STEL 85/15 ppm; the HTML renders in Debian's headless Chromium.
# The lot's history, from its lot_step points: harvest, precool (P1),
# fumigation (F1), then the room CS1 from F1's end, at the times InfluxDB
# holds, as CSV rows and as the "Lot history" table above the Processing
# section.
# A drying batch D1 on a kiln runs beside them so that every fumigation and
# drying query of the Grafana dashboard "Processing" is run on influxd.
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
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-procreport2"; };
  subscriptions = (
    { topic = "pc1/state"; format = "json"; sensor = "pc1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; };
                 pulp1 = { path = "p1"; quantity = "temperature"; unit = "C"; };
                 pulp2 = { path = "p2"; quantity = "temperature"; unit = "C"; }; }; },
    { topic = "fc1/chamber"; format = "json"; sensor = "fc1"; time = "ts"; time_unit = "s";
      fields = { so2 = { path = "so2"; quantity = "so2"; unit = "ppm"; }; }; },
    { topic = "fc1/door"; format = "json"; sensor = "fc1"; time = "ts"; time_unit = "s";
      fields = { door_so2 = { path = "so2"; quantity = "so2"; unit = "ppm"; }; }; },
    { topic = "k1/state"; format = "json"; sensor = "k1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; };
                 mass = { path = "mass"; quantity = "mass"; unit = "kg"; }; }; },
    { topic = "cs1/state"; format = "json"; sensor = "cs1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; }; }; }
  );
};
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "CS1"; profile = "lychee"; temperature = "cs1/air"; } );
process_profiles = (
  { name = "lychee-fa"; version = "itest-1"; kind = "precool";
    precool = { target = (5.0, "A: Sargent"); target_margin = (1.0, "D"); harvest_limit = "4h"; }; },
  { name = "lychee-so2"; version = "itest-1"; kind = "fumigation";
    fumigation = { entry_limit = (2.0, "D"); exposure_max_gap = "2m"; worker_limit = "niosh-rel";
      worker_limits = ( { name = "niosh-rel"; twa = (2.0, "A: NIOSH REL"); twa_period = ("10h", "A: NIOSH REL");
        stel = (5.0, "A: NIOSH REL"); } ); }; },
  { name = "kiln"; version = "itest-1"; kind = "drying";
    drying = { target_mc_wb = (22.5, "D"); mass_ratio = (0.3333, "B: Luc Ngan"); scorch_limit = (80.0, "A: x");
      schedule = ( { name = "kiln"; duration = ("4d", "B: x"); air_min = (45.0, "D"); air_max = (65.0, "B: x"); } ); }; } );
processes = (
  { name = "precooler-1"; kind = "precool"; medium = "pc1/air"; probes = [ "pc1/pulp1", "pc1/pulp2" ];
    c_ref = (0.5, "D: commissioning"); set_point = (2.0, "D"); },
  { name = "chamber-1"; kind = "fumigation"; chamber = "fc1/so2"; outside = [ "fc1/door_so2" ];
    free_volume = (60.0, "D"); sulphur_dose = (1.25, "A: Kremer-Koehne 1993"); air_changes = (10.0, "D"); },
  { name = "kiln-1"; kind = "drying"; air = "k1/air"; loadcell = "k1/mass"; } );
alarms = { stale_after = "1d"; };
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon_mqtt

now=$(date +%s)
START=$((now - 5 * 3600))  # P1: 3 h of precooling
FSTART=$((now - 100 * 60)) # F1: fumigation, 40 min
DSTART=$((now - 60 * 60))  # D1: drying, 40 min (not this lot)

# --- P1: precooling, in chunks of 30 min (each chunk's point at its own time)
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
ctl batch start precooler-1 P1 --profile lychee-fa --start "$(iso $START)" --harvest "$(iso $((START - 3600)))" \
	>"$T/start.out" 2>&1
expect_eq "batch start P1 exit status" "$?" 0
newest_at_least() { # BATCH SECONDS: a process point at or after that time
	influx_has "SELECT \"start\" FROM \"process\" WHERE \"batch\" = '$1' AND \"sensor\" = '' AND time >= ${2}s LIMIT 1"
}
for m in 0 30 60 90 120 150; do
	curve "$m" $((m + 30)) | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pc1/state -l
	wait_for "a P1 process point at minute $((m + 29))" newest_at_least P1 $((START + (m + 29) * 60)) ||
		die "no P1 process point at minute $((m + 29))"
done
ctl batch stop P1 --at "$(iso $((START + 180 * 60)))" >"$T/stop.out" 2>&1
expect_eq "batch stop P1 exit status" "$?" 0
ctl batch release P1 --lot L-PF --room CS1 >"$T/release.out" 2>&1
expect_eq "batch release P1 exit status" "$?" 0

# --- F1: S3 in the chamber, S2's leak outside, then purge, stop, release
ctl batch start chamber-1 F1 --profile lychee-so2 --start "$(iso $FSTART)" --tonnes 2 >"$T/fstart.out" 2>&1
expect_eq "batch start F1 exit status" "$?" 0
ctl batch phase F1 burning --at "$(iso $FSTART)" >/dev/null 2>&1
# one reading at a time: each one's process point lands at its own time.
# The engine writes a batch's point once a tick, at its newest reading's
# time, so the next reading goes only once this one's point is in: one
# with the chamber's reading (the start and phase points at FSTART carry
# none, and a reading fed in the same tick as the next has no point).
chamber_point_at() { # SECONDS
	influx_has "SELECT \"chamber_ppm\" FROM \"process\" WHERE \"batch\" = 'F1' AND \"sensor\" = '' AND time = ${1}s LIMIT 1"
}
i=0
for ppm in 0 4000 9000 11000 10000 8000 6000; do
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t fc1/chamber -m "{\"ts\": $((FSTART + i * 300)), \"so2\": $ppm}"
	wait_for "F1's chamber point at minute $((i * 5))" chamber_point_at $((FSTART + i * 300)) ||
		die "no F1 process point at minute $((i * 5))"
	i=$((i + 1))
done
for m in $(seq 0 19); do
	if [ "$m" -ge 5 ] && [ "$m" -lt 15 ]; then ppm=8; else ppm=1; fi
	printf '{"ts": %d, "so2": %s}\n' $((FSTART + m * 60)) "$ppm"
done | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t fc1/door -l
ct_in_db() { influx_has "SELECT \"ct_ppmh\" FROM \"process\" WHERE \"batch\" = 'F1' AND \"ct_ppmh\" > 3749.999 LIMIT 1"; }
wait_for "F1's CT 3750 ppm.h in InfluxDB" ct_in_db || die "F1 CT never reached 3750 ppm.h in InfluxDB"
outside_at_end() { influx_has "SELECT \"stel_max_ppm\" FROM \"process\" WHERE \"batch\" = 'F1' AND \"sensor\" != '' AND time >= $((FSTART + 19 * 60))s LIMIT 1"; }
wait_for "F1's outside sensor at minute 19" outside_at_end || die "no outside-sensor point at minute 19"
ctl batch phase F1 purge --at "$(iso $((FSTART + 1800)))" >/dev/null 2>&1
ctl batch stop F1 --at "$(iso $((FSTART + 40 * 60)))" >"$T/fstop.out" 2>&1
expect_eq "batch stop F1 exit status" "$?" 0
ctl batch release F1 --lot L-PF --room CS1 >"$T/frelease.out" 2>&1
expect_eq "batch release F1 into the lot P1 went into: exit status" "$?" 0
hist() { ctl status --json | json_eval "','.join(s['batch'] for r in d['rooms'] for l in r['lots'] if l['id'] == 'L-PF' for s in l['history'])"; }
expect_eq "the lot's history: P1 then F1" "$(hist)" "P1,F1"
lot_of() { influx_has "SELECT \"lot\" FROM \"process\" WHERE \"batch\" = '$1' AND \"lot\" = 'L-PF' LIMIT 1"; }
wait_for "P1's process points name the lot" lot_of P1 || fail "no process point of P1 with lot L-PF"
wait_for "F1's process points name the lot" lot_of F1 || fail "no process point of F1 with lot L-PF"
start_f=$(influx_scalar "SELECT first(\"start\") FROM \"process\" WHERE \"batch\" = 'F1'")
# the lot's history as lot_step points (issue 14): the room's step starts
# when F1, the last processing step, ended
room_after_f1() {
	influx_has "SELECT \"start\" FROM \"lot_step\" WHERE \"lot\" = 'L-PF' AND \"step\" = 'room' AND \"start\" = $(((FSTART + 40 * 60) * 1000000000))"
}
wait_for "the room's lot_step after F1 in InfluxDB" room_after_f1 || fail "no lot_step of the room starting at F1's end"
expect_eq "F1's points carry its start (ns)" "$start_f" "${FSTART}000000000"

# --- D1: a kiln, 100 kg at 82 % wb losing 0.5 kg/min (for the dashboard)
ctl batch start kiln-1 D1 --profile kiln --start "$(iso $DSTART)" --mass 100 --moisture 82 >"$T/dstart.out" 2>&1
expect_eq "batch start D1 exit status" "$?" 0
for m in $(seq 0 40); do
	printf '{"ts": %d, "air": 60.0, "mass": %s}\n' $((DSTART + m * 60)) "$((100 * 10 - m * 5))e-1"
done | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t k1/state -l
dry_mc() { influx_has "SELECT \"mc_wb\" FROM \"process\" WHERE \"batch\" = 'D1' AND \"mc_wb\" > 0 LIMIT 1"; }
wait_for "D1's moisture in InfluxDB" dry_mc || fail "no mc_wb of D1 in InfluxDB"

# --- the lot in storage: a few cold-room readings (shelf_life points)
room_pub() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t cs1/state -m "{\"ts\": $(date +%s), \"air\": 4.0}"; }
sl() { room_pub; influx_has "SELECT \"observed_h\" FROM \"shelf_life\" WHERE \"lot\" = 'L-PF' LIMIT 1"; }
wait_for "shelf_life points of lot L-PF" sl || die "lot L-PF has no shelf_life point"

# --- the dashboard: the cooling panels on P1, fumigation on F1, drying on D1
check "dashboards/*.json are what dashboards/generate.py writes" "$PY" "$ROOT_DIR/dashboards/generate.py" --check
dq() { # PREFER PANELS
	DASHBOARD_RANGE=6h DASHBOARD_PREFER="$1" DASHBOARD_PANELS="$2" "$PY" "$TESTS_DIR/integration/dashboard_queries.py" \
		"$(influx_url)" "$INFLUX_DB" "$ROOT_DIR/dashboards/processing.json" 2>"$T/queries.err" ||
		{ cat "$T/queries.err"; die "dashboard_queries.py failed"; }
}
{
	dq "process=chamber-1,batch=F1" '^Fumigation'
	dq "process=kiln-1,batch=D1" '^Drying'
} >"$T/queries.out"
nq=0
while IFS=$'\t' read -r st desc; do
	case $desc in *panel*) nq=$((nq + 1)) ;; esac
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/queries.out"
expect_eq "fumigation and drying panel queries run" "$nq" 6

# --- CSV, without --batch
ctl report --lot L-PF --format csv -o "$T/lot.csv" 2>"$T/csv.err"
expect_eq "report --lot L-PF (no --batch) --format csv exits" "$?" 0
[ -s "$T/lot.csv" ] || die "no CSV written: $(cat "$T/csv.err")"
expect_eq "CSV steps in the order they started" "$(grep '^step,' "$T/lot.csv" | cut -d, -f2 | tr '\n' ,)" "batch,P1,F1,"
c_db=$(INFLUX_EPOCH=ms influx_scalar "SELECT last(\"C\") FROM \"process\" WHERE \"batch\" = 'P1'")
j_db=$(INFLUX_EPOCH=ms influx_scalar "SELECT last(\"j\") FROM \"process\" WHERE \"batch\" = 'P1'")
[ -n "$c_db" ] && [ -n "$j_db" ] || die "no C or j in P1's process points"
expect_eq "CSV step P1 C (InfluxDB last process C)" "$(csv_get "$T/lot.csv" step batch P1 C_per_h)" "$(round "$c_db" 4)"
expect_eq "CSV step P1 j (InfluxDB last process j)" "$(csv_get "$T/lot.csv" step batch P1 j)" "$(round "$j_db" 3)"
expect_eq "CSV step F1 kind" "$(csv_get "$T/lot.csv" step batch F1 kind)" fumigation
ct_db=$(influx_scalar "SELECT last(\"ct_ppmh\") FROM \"process\" WHERE \"batch\" = 'F1' AND \"sensor\" = ''")
expect_eq "CSV F1 CT (InfluxDB last ct_ppmh)" "$(csv_get "$T/lot.csv" step_fumigation batch F1 ct_ppmh)" "$(round "$ct_db" 1)"
expect_eq "CSV F1 CT is S3's 3750 ppm.h" "$(csv_get "$T/lot.csv" step_fumigation batch F1 ct_ppmh)" 3750.0
expect_eq "CSV F1 the report's own CT of the recorded chamber points (S3)" \
	"$(csv_get "$T/lot.csv" step_fumigation batch F1 refit_ct_ppmh)" 3750.0
expect_eq "CSV F1 CT in g.h/m3 (S3: 9.826)" "$(csv_get "$T/lot.csv" step_fumigation batch F1 ct_g_h_m3)" 9.826
expect_eq "CSV F1 CT verdict without a window" "$(csv_get "$T/lot.csv" step_fumigation batch F1 ct_verdict)" "no window set"
expect_eq "CSV F1 verdict in the step row" "$(csv_get "$T/lot.csv" step batch F1 verdict)" "no window set"
stel_db=$(influx_scalar "SELECT max(\"stel_max_ppm\") FROM \"process\" WHERE \"batch\" = 'F1' AND \"sensor\" = 'fc1/door_so2'")
expect_eq "CSV F1 outside STEL max (InfluxDB max stel_max_ppm)" \
	"$(csv_get "$T/lot.csv" step_sensor sensor fc1/door_so2 stel_max_ppm)" "$(round "$stel_db" 4)"
expect_eq "CSV F1 outside STEL max is S2's 85/15 ppm" "$(csv_get "$T/lot.csv" step_sensor sensor fc1/door_so2 stel_max_ppm)" 5.6667
expect_eq "CSV F1 STEL against NIOSH 5 ppm" "$(csv_get "$T/lot.csv" step_sensor sensor fc1/door_so2 stel_grade)" "above the limit"
expect_eq "CSV F1 limit set" "$(csv_get "$T/lot.csv" step_sensor sensor fc1/door_so2 limit_set)" niosh-rel
expect_eq "CSV F1 the fumigation start" "$(csv_get "$T/lot.csv" step_fumigation batch F1 start_utc)" "$(iso "$FSTART")"
expect_eq "CSV the F1 stel alarm is listed" "$(csv_get "$T/lot.csv" step_alarm id chamber-1/F1/stel batch)" F1
expect_eq "CSV the D-graded entry limit is an estimate" \
	"$(csv_get "$T/lot.csv" step_grade parameter fumigation.entry_limit grade)" "D (estimate)"
check "the drying batch D1 is not in the lot's report" bash -c "! grep -q '^step,D1,' '$T/lot.csv'"

# --- the Lot history table: the steps of InfluxDB's lot_step points, in order
expect_eq "CSV lot history: harvest, precool, fumigation, then the room" \
	"$(csv_column "$T/lot.csv" lot_step step)" "harvest,precool,fumigation,room"
expect_eq "CSV lot history: the batches" "$(csv_column "$T/lot.csv" lot_step batch)" "P1,P1,F1,"
expect_eq "CSV lot history: the room" "$(csv_get "$T/lot.csv" lot_step step room room)" CS1
step_t() { # STEP FIELD: InfluxDB's lot_step time field, as the report prints it
	local ns
	ns=$(influx_scalar "SELECT \"$2\" FROM \"lot_step\" WHERE \"lot\" = 'L-PF' AND \"step\" = '$1'")
	[ -n "$ns" ] && iso $((ns / 1000000000))
}
for st in harvest:start precool:start precool:end fumigation:start fumigation:end room:start; do
	IFS=: read -r s f <<<"$st"
	expect_eq "CSV lot history: $s $f (InfluxDB lot_step $f)" "$(csv_get "$T/lot.csv" lot_step step "$s" "${f}_utc")" \
		"$(step_t "$s" "$f")"
done
expect_eq "CSV lot history: the harvest is P1's" "$(csv_get "$T/lot.csv" lot_step step harvest start_utc)" "$(iso $((START - 3600)))"
expect_eq "CSV lot history: precool from P1's start" "$(csv_get "$T/lot.csv" lot_step step precool start_utc)" "$(iso "$START")"
expect_eq "CSV lot history: precool to P1's stop" "$(csv_get "$T/lot.csv" lot_step step precool end_utc)" "$(iso $((START + 180 * 60)))"
expect_eq "CSV lot history: fumigation from F1's start" "$(csv_get "$T/lot.csv" lot_step step fumigation start_utc)" "$(iso "$FSTART")"
expect_eq "CSV lot history: the room from F1's stop" "$(csv_get "$T/lot.csv" lot_step step room start_utc)" "$(iso $((FSTART + 40 * 60)))"
expect_eq "CSV lot history: P1's verdict" "$(csv_get "$T/lot.csv" lot_step step precool verdict)" \
	"$(influx_scalar "SELECT \"verdict\" FROM \"lot_step\" WHERE \"lot\" = 'L-PF' AND \"step\" = 'precool'")"

# --- HTML in headless Chromium
ctl report --lot L-PF --format html -o "$T/lot.html" 2>"$T/html.err"
expect_eq "report --lot L-PF --format html exits" "$?" 0
# A document for buyers (issue 17 item 8): every row label (the first cell
# of the tables whose rows are labelled: the header, figures and steps
# (class kv) and the grades tables) is for people, no raw key ("model.ea",
# "profile_version", "precool.fit.r2_min"); the key stays in the grades
# rows' title. (The alarm, sensor and room tables start with data: ids.)
"$PY" - "$T/lot.html" >"$T/labels.check" <<'PYEOF'
import re, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.rows, s.cell, s.labelled, s.titles = [], None, False, 0
    def handle_starttag(s, tag, a):
        a = dict(a)
        if tag == "table":
            cls = (a.get("class") or "").split()
            s.labelled = "kv" in cls or "step-grades" in cls or a.get("id") == "grades"
        if tag == "tr" and s.labelled: s.rows.append(None)
        if tag in ("td", "th") and s.labelled and s.rows and s.rows[-1] is None and s.cell is None:
            s.cell = ""
            s.titles += 1 if a.get("title") else 0
    def handle_endtag(s, tag):
        if tag in ("td", "th") and s.cell is not None:
            s.rows[-1] = s.cell.strip(); s.cell = None
        if tag == "table": s.labelled = False
    def handle_data(s, d):
        if s.cell is not None: s.cell += d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
raw = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z][a-z0-9_]*(?:\[\d+\])?\.[a-z][a-z0-9_.]*\b")
bad = [r for r in p.rows if r and raw.search(r)]
print("%d labelled rows, %d grades with their key as title, %d raw: %s" % (len(p.rows), p.titles, len(bad),
      "; ".join(bad[:8])))
sys.exit(1 if bad or p.titles == 0 else 0)
PYEOF
rc=$?
check "HTML: no row of the report is labelled with a raw key ($(cat "$T/labels.check"))" [ "$rc" = 0 ]

# --- older data (no lot_step points; the HTML is written): the steps found by the process points' lot field
influx_post_q() { curl -sS --max-time 30 -XPOST "$(influx_url)/query" --data-urlencode "db=$INFLUX_DB" --data-urlencode "q=$1" >/dev/null; }
influx_post_q "DROP MEASUREMENT \"lot_step\""
ctl report --lot L-PF --format csv -o "$T/old.csv" 2>"$T/old.err"
expect_eq "report on data without lot_step exits" "$?" 0
expect_eq "without lot_step: no Lot history rows" "$(csv_count "$T/old.csv" lot_step)" 0
expect_eq "without lot_step: the steps by the process points' lot, in start order" \
	"$(grep '^step,' "$T/old.csv" | cut -d, -f2 | tr '\n' ,)" "batch,P1,F1,"
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
"$PY" - "$T/dom.html" "$(round "$c_db" 4)" "$(round "$j_db" 3)" "$(date -d "@$((FSTART + 40 * 60))" +%Y-%m-%dT%H:%M:%S%:z)" >"$T/dom.check" <<'PYEOF'
import sys
from html.parser import HTMLParser
dom, c, j = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2], sys.argv[3]
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.ids = {}; self.cur = None; self.h3 = []; self.inh3 = False; self.svg = None; self.poly = {}
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "svg": self.svg = a.get("id")
        if tag == "polyline" and self.svg: self.poly[self.svg] = len(a.get("points", "").split())
        if tag == "h3": self.inh3 = True; self.h3.append("")
        if "id" in a: self.cur = a["id"]; self.ids[self.cur] = ""
    def handle_data(self, d):
        if self.cur: self.ids[self.cur] += d
        if self.inh3: self.h3[-1] += d
    def handle_endtag(self, tag):
        self.cur = None
        if tag == "h3": self.inh3 = False
        if tag == "svg": self.svg = None
p = P(); p.feed(dom)
def say(ok, what): print("%s\t%s" % ("ok" if ok else "fail", what))
steps = [h for h in p.h3 if h.startswith("Step ")]
say(steps == ["Step 1: precool batch P1", "Step 2: fumigation batch F1"], "rendered DOM: the steps in order (%s)" % steps)
say(p.ids.get("step-P1-C", "").startswith(c + " /h"), "rendered DOM: P1 C %r shows InfluxDB's %s" % (p.ids.get("step-P1-C"), c))
say(p.ids.get("step-P1-j", "") == j, "rendered DOM: P1 j %r shows InfluxDB's %s" % (p.ids.get("step-P1-j"), j))
say(p.ids.get("step-F1-ct", "").startswith("3750.0 ppm·h = 9.826 g·h/m³"), "rendered DOM: F1 CT %r" % p.ids.get("step-F1-ct"))
say(p.ids.get("step-F1-verdict", "") == "no window set", "rendered DOM: F1 CT verdict %r" % p.ids.get("step-F1-verdict"))
st = p.ids.get("stel-F1-fc1/door_so2", "")
say(st.startswith("5.667 ppm / 5.000 ppm: above the limit"), "rendered DOM: F1 outside STEL max %r" % st)
say(p.poly.get("series-F1", 0) == 7, "rendered DOM: the chamber concentration chart has %d points" % p.poly.get("series-F1", 0))
say(p.poly.get("cool-P1", 0) >= 2, "rendered DOM: P1's cooling curve is drawn")
hist = [p.ids.get("lot-step-%d-step" % i, "") for i in range(1, 5)]
say(hist == ["harvest", "precool", "fumigation", "room"], "rendered DOM: the Lot history table in order (%s)" % hist)
say([p.ids.get("lot-step-%d-where" % i, "") for i in range(2, 5)] == ["P1", "F1", "CS1"], "rendered DOM: the Lot history's batches and room")
say(dom.find('<h2>Lot history</h2>') >= 0 and dom.find('<h2>Lot history</h2>') < dom.find('<h2>Processing</h2>'), "rendered DOM: the Lot history is above the Processing section")
say(p.ids.get("lot-step-4-start", "") == sys.argv[4], "rendered DOM: the room from F1's stop (%r)" % p.ids.get("lot-step-4-start"))
PYEOF
while IFS=$'\t' read -r st desc; do
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/dom.check"
[ -n "${KEEP_REPORT:-}" ] && cp "$T/lot.html" "$T/lot.csv" "$KEEP_REPORT"/
finish
