#!/bin/bash
# `coldchainctl report --lot ID` on data coldchaind wrote (the Modbus
# simulator's lychee scenario: lot LN-A-0612 in room A, pull-down from field
# heat raises temperature alarms): the CSV's figures are InfluxDB's own
# aggregates over the same period (queried independently here), every alarm
# raised in the room is listed, the data section holds every sample; the HTML
# opened in Debian's headless Chromium shows the chart (polylines with
# points, the band) and the figures, renders to a screenshot and paginates
# to an A4 PDF.  Exit codes: 2 usage, 1 InfluxDB unreachable.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lychee_data.sh"

CTL=$BUILD_DIR/coldchainctl
need_bin "$CTL"
LOT=LN-A-0612

lychee_start
lychee_wait_for temperature humidity shelf_life alert
enough() { [ "$(influx_count 'SELECT count("lines") FROM "coldchaind_journal"')" -ge 15 ]; }
wait_for "30 s of data" -t 120 enough || die "data did not accumulate"

# An operator acknowledges the critical alarm through the control socket.
raised_hh() { influx_has "SELECT \"state\" FROM \"alert\" WHERE \"room\" = 'A' AND \"rule\" = 'temp_high_high' LIMIT 1"; }
wait_for "A/temp_high_high raised" -t 120 raised_hh || die "the pull-down raised no A/temp_high_high"
"$CTL" ack A/temp_high_high --note "door checked, fruit pre-cooled" --user qa-lan -c "$LYCHEE_CONF" >"$T/ack.out" 2>&1
expect_eq "coldchainctl ack A/temp_high_high exits" "$?" 0
acked() { influx_has "SELECT \"user\" FROM \"alert\" WHERE \"event\" = 'ack' LIMIT 1"; }
wait_for "the ack event in InfluxDB" -t 60 acked || fail "the ack event did not reach InfluxDB: $(cat "$T/ack.out")"

FROM=$(date -u -d "$LYCHEE_LOADED" +%s)
# the next whole second: the ack may be in this one (a truncated "now"
# would end the period a few ms before it)
TO=$(($(date -u +%s) + 1))
W="time >= ${FROM}000ms AND time <= ${TO}000ms"
# The daemon keeps writing: the reports and the InfluxDB queries below must
# all see the same period, so wait until InfluxDB holds a shelf_life point
# past TO (the output delivers the journal in order: every line up to TO is
# then there too). Without this a point stamped before TO could land between
# the CSV and the HTML run, and the two would disagree.
past_to() {
	[ "$(influx_count "SELECT count(\"consumed\") FROM \"shelf_life\" WHERE \"lot\" = '$LOT' AND time > ${TO}000ms")" -ge 1 ]
}
wait_for "InfluxDB to hold the lot's shelf_life past the report period" -t 120 past_to ||
	die "no shelf_life point of lot $LOT after the report period reached InfluxDB"

# --- usage and failure exit codes
"$CTL" report --format csv -c "$LYCHEE_CONF" >/dev/null 2>"$T/err"
expect_eq "report without --lot exits" "$?" 2
"$CTL" report --lot "$LOT" --format pdf -c "$LYCHEE_CONF" >/dev/null 2>"$T/err"
expect_eq "report --format pdf exits" "$?" 2
"$CTL" report --lot "$LOT" --influx "http://127.0.0.1:$(free_port)" --db coldchain -c "$LYCHEE_CONF" \
	>/dev/null 2>"$T/err"
expect_eq "report with InfluxDB unreachable exits" "$?" 1
check "the error names the InfluxDB it could not read" grep -q "InfluxDB http://127.0.0.1" "$T/err"

# --- CSV
"$CTL" report --lot "$LOT" --from "$FROM" --to "$TO" --format csv -c "$LYCHEE_CONF" -o "$T/lot.csv" 2>"$T/csv.err"
expect_eq "report --format csv exits" "$?" 0
[ -s "$T/lot.csv" ] || die "no CSV written: $(cat "$T/csv.err")"

# close A B: equal to 1e-6 (the mean is a sum of a few thousand samples).
close() { "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= 1e-6 * max(1, abs(b)) else 1)' "$1" "$2"; }
expect_close() { if [ -n "$2" ] && close "$2" "$3"; then pass "$1 = $3"; else fail "$1: expected $3, got '$2'"; fi; }

for q in temperature:th-a1:temperature humidity:th-a1:humidity; do
	IFS=: read -r meas sensor chan <<<"$q"
	agg=$(influx_query "SELECT min(\"value\"), max(\"value\"), mean(\"value\"), count(\"value\") FROM \"$meas\" WHERE \"sensor\" = '$sensor' AND \"channel\" = '$chan' AND $W" |
		influx_rows | cut -f4-)
	read -r imin imax imean icount <<<"$agg"
	[ -n "$icount" ] || die "no $meas aggregates from InfluxDB"
	expect_eq "CSV room A $meas channel" "$(csv_get "$T/lot.csv" stay room A "${meas}_channel")" "$sensor/$chan"
	expect_num "CSV room A $meas samples (InfluxDB count)" "$(csv_get "$T/lot.csv" stay room A "${meas}_samples")" "$icount"
	u=$([ "$meas" = temperature ] && echo c || echo pct)
	expect_num "CSV room A $meas min (InfluxDB min)" "$(csv_get "$T/lot.csv" stay room A "${meas}_min_$u")" "$imin"
	expect_num "CSV room A $meas max (InfluxDB max)" "$(csv_get "$T/lot.csv" stay room A "${meas}_max_$u")" "$imax"
	expect_close "CSV room A $meas mean (InfluxDB mean)" "$(csv_get "$T/lot.csv" stay room A "${meas}_mean_$u")" "$imean"
done
expect_eq "CSV product" "$(csv_get "$T/lot.csv" report key product value)" lychee
# The version the shipped profile carries (bumped whenever one of its numbers changes).
lychee_version=$(sed -n '/name = "lychee";/{n;s/.*version = "\(.*\)";.*/\1/p;}' "$ROOT_DIR/config/profiles.conf")
expect_eq "CSV profile version (config/profiles.conf)" "$(csv_get "$T/lot.csv" report key profile_version value)" "$lychee_version"
check "CSV header names the site" [ "$(csv_get "$T/lot.csv" report key site value)" = demo-lucngan ]
check "CSV carries the profile's grades (band_low graded A)" grep -q '^report,grade:band_low,A = 2.0' "$T/lot.csv"
consumed=$(influx_scalar "SELECT last(\"consumed\") * 100 FROM \"shelf_life\" WHERE \"lot\" = '$LOT' AND $W")
expect_close "CSV consumed shelf life (InfluxDB last consumed)" "$(csv_get "$T/lot.csv" figure key consumed_pct value)" \
	"$("$PY" -c "print(round($consumed, 4))")"
mkt=$(influx_scalar "SELECT last(\"mkt_c\") FROM \"shelf_life\" WHERE \"lot\" = '$LOT' AND $W")
expect_close "CSV MKT (InfluxDB last mkt_c)" "$(csv_get "$T/lot.csv" figure key mkt_c value)" "$("$PY" -c "print(round($mkt, 4))")"
raises=$(influx_count "SELECT count(\"state\") FROM \"alert\" WHERE \"room\" = 'A' AND \"event\" = 'raise' AND $W")
[ "$raises" -ge 1 ] || fail "the scenario raised no alarm in room A"
expect_num "CSV alarms (InfluxDB raise events in room A)" "$(csv_count "$T/lot.csv" alarm)" "$raises"
expect_eq "CSV A/temp_high_high acknowledged by" "$(csv_get "$T/lot.csv" alarm id A/temp_high_high acked_by)" qa-lan
expect_eq "CSV A/temp_high_high acknowledgement note" "$(csv_get "$T/lot.csv" alarm id A/temp_high_high ack_note)" \
	"door checked, fruit pre-cooled"
check "CSV A/temp_high_high acknowledgement time is UTC" \
	bash -c "[[ '$(csv_get "$T/lot.csv" alarm id A/temp_high_high acked_utc)' =~ ^20[0-9-]+T[0-9:]+Z\$ ]]"
all=$(influx_count "SELECT count(\"value\") FROM \"temperature\" WHERE \"sensor\" = 'th-a1' AND \"channel\" = 'temperature' AND $W")
bad=$(influx_count "SELECT count(\"quality\") FROM /^(temperature|humidity)\$/ WHERE \"sensor\" = 'th-a1' AND $W")
rh=$(influx_count "SELECT count(\"value\") FROM \"humidity\" WHERE \"sensor\" = 'th-a1' AND \"channel\" = 'humidity' AND $W")
expect_num "CSV data rows (every temperature and RH sample)" "$(csv_count "$T/lot.csv" data)" "$((all + rh + bad))"

# --- HTML in headless Chromium
"$CTL" report --lot "$LOT" --from "$FROM" --to "$TO" --format html -c "$LYCHEE_CONF" -o "$T/lot.html" 2>"$T/html.err"
expect_eq "report --format html exits" "$?" 0
check "the HTML loads nothing from the network" bash -c "! grep -E -q '(src|href)=\"(https?:)?//' '$T/lot.html'"
check "the HTML asks for A4 pages" grep -q '@page { size: A4' "$T/lot.html"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP integration/$TEST_NAME: chromium is not installed (apt-get install -y chromium; tests/deps.sh lists it): the HTML was not rendered"
	finish
fi
chrome() {
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage \
		--user-data-dir="$T/chromium-profile" "$@" 2>>"$T/chromium.log"
}
chrome --dump-dom "file://$T/lot.html" >"$T/dom.html"
[ -s "$T/dom.html" ] || die "chromium --dump-dom produced nothing: $(tail -5 "$T/chromium.log")"
"$PY" - "$T/dom.html" "$LOT" >"$T/dom.check" <<'PYEOF'
import re, sys
from html.parser import HTMLParser
dom, lot = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.poly = {}; self.band = 0; self.ids = {}; self.cur = None; self.alarms = 0
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "polyline":
            self.poly[a.get("class")] = self.poly.get(a.get("class"), 0) + len(a.get("points", "").split())
        if tag == "rect" and a.get("class") == "band": self.band += 1
        if tag == "path" and a.get("class") == "alarm": self.alarms += 1
        if "id" in a: self.cur = a["id"]; self.ids[self.cur] = ""
    def handle_data(self, d):
        if self.cur: self.ids[self.cur] += d
    def handle_endtag(self, tag): self.cur = None
p = P(); p.feed(dom)
def say(ok, what): print("%s\t%s" % ("ok" if ok else "fail", what))
say(p.poly.get("temp", 0) >= 10, "rendered DOM: the temperature polyline has %d points" % p.poly.get("temp", 0))
say(p.poly.get("rh", 0) >= 10, "rendered DOM: the RH polyline has %d points" % p.poly.get("rh", 0))
say(p.band >= 1, "rendered DOM: the storage band is drawn")
say(p.alarms >= 2, "rendered DOM: alarm markers on the chart (%d, legend included)" % p.alarms)
say(p.ids.get("lot") == lot, "rendered DOM: the title names lot %s" % lot)
for k in ("consumed_pct", "mkt_c", "degree_hours_kh", "chill_hours_kh", "weight_loss_pct"):
    v = p.ids.get("fig-" + k, "")
    say(re.match(r"^-?[0-9]+\.[0-9]+ ", v) is not None, "rendered DOM: figure %s shows a number (%r)" % (k, v))
say("alarms" in p.ids, "rendered DOM: the alarms table is there")
say("qa-lan" in dom and "door checked, fruit pre-cooled" in dom, "rendered DOM: the acknowledgement's user and note are shown")
PYEOF
while IFS=$'\t' read -r st desc; do
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/dom.check"
consumed_html=$(grep -o 'id="fig-consumed_pct">[^<]*' "$T/dom.html" | sed 's/.*>//; s/ .*//')
# The HTML shows the figure to 2 decimals, the CSV to 4, both rounded from
# the same value: they agree to half a unit of the 2nd decimal plus half of
# the 4th (re-rounding the CSV's 4 decimals to 2 can differ from the HTML's
# own rounding, e.g. 0.024951 -> CSV 0.0250 -> 0.03, HTML 0.02).
consumed_csv=$(csv_get "$T/lot.csv" figure key consumed_pct value)
if [ -n "$consumed_html" ] && "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= 0.00505 else 1)' \
	"$consumed_html" "$consumed_csv"; then
	pass "HTML consumed shelf life $consumed_html = CSV $consumed_csv to the HTML's 2 decimals"
else
	fail "HTML consumed shelf life: expected CSV $consumed_csv to 2 decimals, got '$consumed_html'"
fi

chrome --screenshot="$T/lot.png" --window-size=1240,1754 "file://$T/lot.html" >/dev/null
check "chromium --screenshot renders the report to a PNG" \
	"$PY" -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(0 if d[:8] == b"\x89PNG\r\n\x1a\n" and len(d) > 20000 else 1)' "$T/lot.png"
chrome --print-to-pdf="$T/lot.pdf" --no-pdf-header-footer "file://$T/lot.html" >/dev/null
"$PY" - "$T/lot.pdf" >"$T/pdf.check" <<'PYEOF'
import re, sys
d = open(sys.argv[1], "rb").read() if __import__("os").path.exists(sys.argv[1]) else b""
pages = len(re.findall(rb"/Type\s*/Page[^s]", d))
boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", d)
a4 = bool(boxes) and all(abs(float(w) - 595.9) < 2 and abs(float(h) - 842.9) < 2 for w, h in boxes)
print("%s\tchromium --print-to-pdf paginates the report (%d pages)" % ("ok" if d[:5] == b"%PDF-" and pages >= 2 else "fail", pages))
print("%s\tthe PDF pages are A4 (%s)" % ("ok" if a4 else "fail", b" ".join(b"x".join(b) for b in boxes[:2]).decode()))
PYEOF
while IFS=$'\t' read -r st desc; do
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/pdf.check"
finish
