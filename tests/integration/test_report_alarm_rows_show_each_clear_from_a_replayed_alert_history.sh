#!/bin/bash
# `coldchainctl report` on a replayed alert history in a real influxd: a lot
# in room A over a ten-hour period, with alarms cleared then acknowledged,
# acknowledged then cleared, never acknowledged, still active at the end,
# raised before the period, cleared exactly at the end, re-raised after a
# clear, shelved, reset after latching, recorded late (late=true), one
# event=historical record (raised and cleared within a backlog), and a
# neighbouring lot's alarm.  Every CSV alarm row is checked against the
# alert events read back from InfluxDB (an independent reading: raises and
# clears of one alarm alternate, an ack belongs to the latest raise before
# it): the clear time is the clear event's time, never the ack's; the HTML
# says "active at the end" only for the alarm still active.  The HTML is
# for buyers: its times in the configuration's timezone (Asia/Ho_Chi_Minh:
# +07:00) where the CSV keeps UTC, header rows labelled in words (no raw
# key such as profile_version), the InfluxDB URL only with --verbose.
. "$(dirname "$0")/../lib.sh"

CTL=$BUILD_DIR/coldchainctl
need_bin "$CTL"
LOT=LN-T-0001

start_influxd coldchain
{
	config_head
	config_outputs
	echo 'timezone = "Asia/Ho_Chi_Minh";'
} >"$T/report.conf"

BASE=1781222400 # 2026-06-12T00:00:00Z
FROM=$BASE
TO=$((BASE + 36000))

# The history, as coldchaind records it (alert: tags room, rule, sensor,
# severity, site; fields state, event, value, limit, message, id,
# annunciated, user, note; late on historical alarms).
"$PY" - "$BASE" "$LOT" >"$T/history.lp" <<'PYEOF'
import sys
base, lot = int(sys.argv[1]), sys.argv[2]
M = 60
H = 3600
def q(s): return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'
def alert(t, alarm_id, event, state, sev="warning", user=None, note=None, late=None, value=8.5, limit=7.0):
    rule = alarm_id.rsplit("/", 1)[1]
    f = ["state=" + q(state), "event=" + q(event), "value=%s" % value, "limit=%s" % limit,
         "message=" + q("room A: " + rule), "id=" + q(alarm_id), "annunciated=" + ("false" if late else "true")]
    if user: f.append("user=" + q(user))
    if note: f.append("note=" + q(note))
    if late: f.append("late=true")
    print("alert,room=A,rule=%s,sensor=th-a1,severity=%s,site=itest %s %d" % (rule, sev, ",".join(f), base + t))
L = "A/%s/" % lot
ev = [
    # cleared, then acknowledged hours later
    (10*M, "A/temp_high", "raise", "active"), (40*M, "A/temp_high", "clear", "cleared_unacked"),
    (3*H, "A/temp_high", "ack", "inactive", "warning", "qa", "seen late"),
    # acknowledged, then cleared
    (20*M, "A/rh_high", "raise", "active"), (30*M, "A/rh_high", "ack", "acked", "warning", "an", "door shut"),
    (50*M, "A/rh_high", "clear", "inactive"),
    # never acknowledged
    (60*M, "A/temp_low", "raise", "active"), (70*M, "A/temp_low", "clear", "cleared_unacked"),
    # still active at the end (its clear comes after the period)
    (8*H, "A/temp_high_high", "raise", "active", "critical"),
    (8*H + 10*M, "A/temp_high_high", "ack", "acked", "critical", "qa", "compressor tech called"),
    (11*H, "A/temp_high_high", "clear", "inactive", "critical"),
    # raised before the period, cleared in it
    (-1*H, "A/rh_low", "raise", "active"), (15*M, "A/rh_low", "clear", "cleared_unacked"),
    # cleared exactly at the end of the period
    (9*H, "A/co2_high", "raise", "active"), (10*H, "A/co2_high", "clear", "cleared_unacked"),
    # re-raised after its clear: two episodes
    (2*H, L + "chill_warn", "raise", "active"), (2*H + 30*M, L + "chill_warn", "clear", "cleared_unacked"),
    (4*H, L + "chill_warn", "raise", "active"), (4*H + 20*M, L + "chill_warn", "clear", "cleared_unacked"),
    (5*H, L + "chill_warn", "ack", "inactive", "warning", "qa"),
    # shelved before it was raised
    (1*H, "A/temp_rate", "shelve", "shelved", "warning", "tech", "defrost test"),
    (1*H + 5*M, "A/temp_rate", "raise", "shelved"), (1*H + 30*M, "A/temp_rate", "clear", "shelved"),
    (2*H + 5*M, "A/temp_rate", "unshelve", "cleared_unacked", "warning", "system", "shelve expired"),
    # latched: returned, then reset by an operator
    (3*H, "A/co2_latched", "raise", "active"), (3*H + 20*M, "A/co2_latched", "return", "active"),
    (3*H + 40*M, "A/co2_latched", "reset", "cleared_unacked", "warning", "an"),
    # a neighbouring lot's alarm: not this lot's report
    (6*H, "A/LN-T-0002/chill_warn", "raise", "active"),
]
for e in ev:
    t, i, kind, st = e[:4]
    sev = e[4] if len(e) > 4 else "warning"
    user = e[5] if len(e) > 5 else None
    note = e[6] if len(e) > 6 else None
    alert(t, i, kind, st, sev, user, note)
# historical, recorded late
alert(6*H, "A/temp_low_low", "raise", "active", "critical", late=True)
alert(6*H + 30*M, "A/temp_low_low", "clear", "cleared_unacked", "critical", late=True)
# historical: raised and cleared within a backlog of late readings, one
# record at its raise time carrying both times, as the engine writes it
print("alert,room=A,rule=door_open,sensor=th-a1,severity=warning,site=itest "
      "state=\"inactive\",event=\"historical\",value=1,limit=0,message=\"room A: door_open\",id=\"A/door_open\","
      "annunciated=false,late=true,raised_ns=%di,cleared_ns=%di %d"
      % ((base + 5*H) * 10**9, (base + 5*H + 10*M) * 10**9, base + 5*H))
# the lot's shelf_life points: one stay in room A over the whole period
for k in range(11):
    print("shelf_life,lot=%s,room=A,product=lychee,profile=lychee,profile_version=2025.1,site=itest "
          "consumed=%s,remaining_h=%s,observed_h=%s %d" % (lot, 0.01 * k, 200 - k, k, base + 60 + k * H))
PYEOF
curl -sS --fail --max-time 30 -XPOST "$(influx_url)/write?db=coldchain&precision=s" --data-binary @"$T/history.lp" \
	>"$T/write.out" 2>&1 || die "writing the replayed history failed: $(cat "$T/write.out")"

"$CTL" report --lot "$LOT" --from "$FROM" --to "$TO" --format csv -c "$T/report.conf" -o "$T/lot.csv" 2>"$T/csv.err"
expect_eq "report --format csv exits" "$?" 0
[ -s "$T/lot.csv" ] || die "no CSV written: $(cat "$T/csv.err")"
"$CTL" report --lot "$LOT" --from "$FROM" --to "$TO" --format html -c "$T/report.conf" -o "$T/lot.html" 2>"$T/html.err"
expect_eq "report --format html exits" "$?" 0
[ -s "$T/lot.html" ] || die "no HTML written: $(cat "$T/html.err")"
"$CTL" report --lot "$LOT" --from "$FROM" --to "$TO" --format html -c "$T/report.conf" --verbose -o "$T/verbose.html" 2>"$T/verbose.err"
expect_eq "report --format html --verbose exits" "$?" 0
IURL=$(influx_url)
check "the HTML names no InfluxDB URL without --verbose ($IURL)" bash -c "! grep -q -F '$IURL' '$T/lot.html'"
check "the HTML names the InfluxDB URL with --verbose" grep -q -F "$IURL" "$T/verbose.html"
check "the HTML names the InfluxDB database with --verbose" grep -q -F "database coldchain" "$T/verbose.html"
check "the HTML labels the header in words: Profile version" grep -q -F "<th>Profile version</th>" "$T/lot.html"
check "no raw key is a row label of the HTML" bash -c "! grep -q -E '<th>(profile_version|loaded_utc|period_from_utc|period_to_utc|generated_utc|band_c|model_[a-z_]*|mkt_dh_r_k|influxdb)</th>' '$T/lot.html' '$T/verbose.html'"
check "the HTML shows its period in the site's zone (+07:00)" grep -q -E 'id="head-period_from_utc">[0-9T:-]+\+07:00<' "$T/lot.html"
check "the CSV keeps UTC (period_from_utc ...Z)" grep -q -E '^report,period_from_utc,[0-9T:-]+Z.?$' "$T/lot.csv"

# Every alert event of the lot's room, as InfluxDB holds it.
INFLUX_EPOCH=s influx_query "SELECT * FROM \"alert\" WHERE \"room\" = 'A'" >"$T/alerts.json"

"$PY" - "$T/alerts.json" "$T/lot.csv" "$T/lot.html" "$FROM" "$TO" "$LOT" >"$T/check.out" <<'PYEOF'
import csv, datetime, json, sys, time
from html.parser import HTMLParser
alerts, csvp, htmlp, frm, to, lot = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def say(ok, what): print("%s\t%s" % ("ok" if ok else "fail", what))
def utc(t): return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t else ""
ICT = datetime.timezone(datetime.timedelta(hours=7))
def site(u):  # a CSV time (UTC) as the HTML shows it: the site's zone, Asia/Ho_Chi_Minh
    return datetime.datetime.fromisoformat(u.replace("Z", "+00:00")).astimezone(ICT).isoformat()

# --- the expected rows, from the events
s = json.load(open(alerts))["results"][0]["series"][0]
cols = s["columns"]
evs = [dict(zip(cols, v)) for v in s["values"]]
def ours(i):
    p = i.split("/")
    return len(p) < 3 or p[1] == lot
per = {}
order = []
for e in sorted(evs, key=lambda e: e["time"]):
    if e["time"] > to or not ours(e["id"]):
        continue
    a = per.setdefault(e["id"], {"raise": [], "clear": [], "ack": {}, "late": False})
    if e["id"] not in order: order.append(e["id"])
    if e["event"] == "raise":
        a["raise"].append(e["time"])
    elif e["event"] in ("clear", "reset"):
        a["clear"].append(e["time"])
    elif e["event"] == "historical":
        a["raise"].append(int(e["raised_ns"] // 10**9))
        a["clear"].append(int(e["cleared_ns"] // 10**9))
    elif e["event"] == "ack" and a["raise"] and len(a["raise"]) - 1 not in a["ack"]:
        a["ack"][len(a["raise"]) - 1] = (e["time"], e.get("user") or "")
    if e.get("late") is True: a["late"] = True
want = []
for i in order:
    a = per[i]
    for k, r in enumerate(a["raise"]):
        c = a["clear"][k] if k < len(a["clear"]) else None
        if c is not None and c < frm:
            continue
        ack = a["ack"].get(k, (None, ""))
        want.append({"id": i, "raised_utc": utc(r), "cleared_utc": utc(c), "acked_utc": utc(ack[0]),
                     "acked_by": ack[1], "status": ("reset" if c and any(e["id"] == i and e["event"] == "reset" and e["time"] == c for e in evs) else "cleared") if c is not None else "active at the end",
                     "raised_before_period": "yes" if r < frm else "", "historical": "yes" if a["late"] else ""})

# --- the report's rows
head, got = None, []
for row in csv.reader(open(csvp, encoding="utf-8")):
    if not row or row[0] != "alarm":
        continue
    if head is None:
        head = row
        continue
    got.append(dict(zip(head, row)))
say(len(got) == len(want), "CSV has one alarm row per episode of this lot's alarms (%d, events say %d)" % (len(got), len(want)))
key = lambda r: (r["id"], r["raised_utc"])
gotk = {key(r): r for r in got}
for w in want:
    g = gotk.get(key(w))
    if g is None:
        say(False, "CSV row for %s raised %s is missing" % (w["id"], w["raised_utc"] or "?"))
        continue
    for f in ("cleared_utc", "status", "acked_utc", "acked_by", "raised_before_period", "historical"):
        say(g.get(f) == w[f], "CSV %s raised %s: %s = %r (events: %r)" % (w["id"], w["raised_utc"], f, g.get(f), w[f]))
say(not any("LN-T-0002" in r["id"] for r in got), "CSV leaves out the neighbouring lot's alarm")

# The orders the item names, spelled out.
def row(i, n=0):
    rs = [r for r in got if r["id"] == i]
    return rs[n] if len(rs) > n else {}
say(row("A/temp_high").get("cleared_utc") == utc(frm + 40 * 60), "cleared then acked: the clear time is the clear's, not the ack's (%r)" % row("A/temp_high").get("cleared_utc"))
say(row("A/temp_high").get("acked_utc") == utc(frm + 3 * 3600), "cleared then acked: the ack time is shown separately")
say(row("A/rh_high").get("cleared_utc") == utc(frm + 50 * 60), "acked then cleared: cleared at the clear")
say(row("A/temp_low").get("cleared_utc") == utc(frm + 70 * 60) and row("A/temp_low").get("acked_utc") == "", "never acked: cleared at the clear, not acknowledged")
say(row("A/temp_high_high").get("cleared_utc") == "" and row("A/temp_high_high").get("status") == "active at the end", "still active: no clear time, active at the end")
say(row("A/rh_low").get("raised_utc") == utc(frm - 3600) and row("A/rh_low").get("cleared_utc") == utc(frm + 15 * 60), "raised before the period: its raise and its clear")
say(row("A/co2_high").get("cleared_utc") == utc(to), "cleared exactly at the end: cleared")
say(row("A/%s/chill_warn" % lot, 1).get("cleared_utc") == utc(frm + 4 * 3600 + 20 * 60), "re-raised: the second episode has its own clear")
say(row("A/temp_rate").get("shelved_by") == "tech" and row("A/temp_rate").get("cleared_utc") == utc(frm + 90 * 60), "shelved: shelved by, and cleared at the clear")
say(row("A/co2_latched").get("status") == "reset" and row("A/co2_latched").get("cleared_utc") == utc(frm + 3 * 3600 + 40 * 60), "latched: ends at the reset")
say(row("A/temp_low_low").get("historical") == "yes", "late=true: a historical alarm")
say(row("A/door_open").get("raised_utc") == utc(frm + 5 * 3600) and row("A/door_open").get("cleared_utc") == utc(frm + 5 * 3600 + 10 * 60)
    and row("A/door_open").get("historical") == "yes", "event=historical: one row with its own raise and clear times, historical")

# --- the HTML: "active at the end" only in the still-active row
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.intable = False; self.cell = None
    def handle_starttag(self, tag, a):
        if tag == "table" and dict(a).get("id") == "alarms": self.intable = True
        if self.intable and tag == "tr": self.rows.append([])
        if self.intable and tag == "td": self.cell = ""
    def handle_endtag(self, tag):
        if tag == "table": self.intable = False
        if self.intable and tag == "td" and self.rows:
            self.rows[-1].append(self.cell); self.cell = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
p = P(); p.feed(open(htmlp, encoding="utf-8").read())
rows = [r for r in p.rows if r]
active = [r[0] for r in rows if "active at the end" in r[-1]]
say(len(rows) == len(want), "HTML has one alarm row per episode (%d)" % len(rows))
say(len(active) == 1 and active[0].startswith("A/temp_high_high"), "HTML says 'active at the end' only for A/temp_high_high (%r)" % active)
say(open(htmlp, encoding="utf-8").read().count("active at the end") == 1, "HTML says 'active at the end' once")
for r in rows:
    i = r[0].split("room A")[0]
    g = [x for x in got if x["id"] == i]
    if g and g[0]["cleared_utc"]:
        say(any(x["cleared_utc"] and r[-1].startswith(site(x["cleared_utc"])) for x in g), "HTML %s cleared %r = CSV (+07:00)" % (i, r[-1]))
say(any("historical" in r[0] for r in rows if r[0].startswith("A/temp_low_low")), "HTML marks A/temp_low_low historical")
PYEOF
while IFS=$'\t' read -r st desc; do
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/check.out"
[ -s "$T/check.out" ] || fail "the checks did not run"
finish
