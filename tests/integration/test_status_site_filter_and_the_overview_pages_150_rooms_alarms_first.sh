#!/bin/bash
# A hub-sized configuration in small: 150 rooms named SITE/ROOM over 15
# sites, one of them (s12/r123, 123rd in the file) too warm from the Modbus
# simulator.  `coldchainctl status` finds the socket from the configuration
# (only its control and state_dir keys are read) and, past 100 rooms, prints
# the summary line and only the room with an alarm; --site and --room filter
# in the daemon (the JSON has just those rooms and their alarms).  The web
# overview (public_status) is a table of 100 rooms a page with the alarmed
# room first, page 2 holds the other 50, a page past the end shows the last,
# and ?site= keeps one site's rooms.  The real daemon, the libmodbus
# simulator, python3 (urllib, html.parser) as the browser.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"

printf '1 input 0 int16 ABCD 95\n' >"$T/sim.map" # 9.5 C: above warn_high 7
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
WEB_PORT=$(free_port)
{
	config_head
	cat <<CONF
control = { group = "$(id -gn)"; };
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "1s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; stale_after = "1d"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "300ms";
    devices = ( { name = "th-hot"; unit = 1;
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); } ); }
);
outputs = { file = ( { path = "$T/out.lp"; } ); };
web = { listen = "127.0.0.1:$WEB_PORT"; public_status = true; };
CONF
	awk 'BEGIN {
		print "rooms = ("
		for (i = 0; i < 150; i++)
			printf "  { name = \"s%02d/r%03d\"; profile = \"lychee\"; temperature = \"%s/temperature\";\n    lots = ( { id = \"L%03d\"; product = \"lychee\"; loaded = \"2026-12-01T08:00:00+07:00\"; } ); }%s\n",
				int(i / 10), i, i == 123 ? "th-hot" : sprintf("th-%03d", i), i, i < 149 ? "," : ""
		print ");"
	}'
} >"$DAEMON_CONF"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"
hot_active() { "$CTL" alarms -c "$DAEMON_CONF" --room s12/r123 --json | json_eval '[a["state"] for a in d["alarms"] if a["id"] == "s12/r123/temp_high"][0]' | grep -qx active; }
wait_for "s12/r123/temp_high active" hot_active || die "s12/r123/temp_high never became active"

# --- coldchainctl status
"$CTL" status -c "$DAEMON_CONF" >"$T/status.txt" 2>&1 || fail "status exited $?: $(head -3 "$T/status.txt")"
grep -qE '^150 rooms, 150 lots; alarms: 1 active \(0 critical\), 0 acknowledged, 0 shelved$' "$T/status.txt" &&
	pass "status prints the summary line: 150 rooms, 150 lots, 1 alarm active" ||
	fail "no summary line: $(sed -n 2p "$T/status.txt")"
rows=$(grep -cE '^s[0-9]{2}/r[0-9]{3} |^L[0-9]{3} ' "$T/status.txt")
expect_eq "past 100 rooms, status lists only the room with an alarm (its reading and its lot)" "$rows" 2
grep -q '^s12/r123 *temperature *th-hot/temperature' "$T/status.txt" && grep -q '^(the 1 room of 150 with an active or acknowledged alarm' "$T/status.txt" &&
	pass "that room is s12/r123, and a line says how many others there are" || fail "status: $(head -12 "$T/status.txt")"

"$CTL" status -c "$DAEMON_CONF" --site s03 --json >"$T/s03.json" || fail "status --site s03 exited $?"
expect_eq "status --site s03: the daemon sends that site's 10 rooms" \
	"$(json_eval 'len(d["rooms"]) == 10 and all(r["name"].startswith("s03/") for r in d["rooms"])' <"$T/s03.json")" True
expect_eq "status --site s03: no alarm of another site" "$(json_eval 'len(d["alarms"])' <"$T/s03.json")" 0
"$CTL" status -c "$DAEMON_CONF" --site s03 >"$T/s03.txt"
expect_eq "status --site s03 lists its 10 rooms in full (readings and lots)" "$(grep -cE '^s03/r[0-9]{3} |^L03[0-9] ' "$T/s03.txt")" 20
"$CTL" status -c "$DAEMON_CONF" --room s12/r123 --json >"$T/r123.json"
expect_eq "status --room s12/r123: that room and its alarms only" \
	"$(json_eval '[r["name"] for r in d["rooms"]] == ["s12/r123"] and {a["room"] for a in d["alarms"]} == {"s12/r123"}' <"$T/r123.json")" True
"$CTL" status -c "$DAEMON_CONF" --json >"$T/all.json"
expect_eq "status --json without a filter: all 150 rooms" "$(json_eval 'len(d["rooms"])' <"$T/all.json")" 150
"$CTL" status -c "$DAEMON_CONF" --site "" >/dev/null 2>"$T/bad.err"
expect_eq "an empty --site is a usage error (exit 2)" "$?" 2

# --- the web overview
"$PY" - "http://127.0.0.1:$WEB_PORT" >"$T/web.out" 2>&1 <<'PY'
import sys, urllib.request
from html.parser import HTMLParser

class Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.pages, self.summary, self.tiles = [], [], None, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-room" in a:
            self.rows.append((a["data-room"], a.get("data-state")))
        if tag == "span" and "data-pages" in a:
            self.pages.append((int(a["data-page"]), int(a["data-pages"])))
        if tag == "p" and a.get("class") == "summary":
            self.summary = int(a["data-rooms"])
        if tag == "section" and a.get("class") == "tile":
            self.tiles += 1

def get(path):
    p = Rows()
    with urllib.request.urlopen(sys.argv[1] + path) as r:
        p.feed(r.read().decode())
    return p

def check(cond, what):
    print(("ok " if cond else "bad ") + what)

p1 = get("/")
check(len(p1.rows) == 100 and p1.tiles == 0, "GET / with 150 rooms: a table of 100 rooms, no tiles (got %d rows, %d tiles)" % (len(p1.rows), p1.tiles))
check(p1.rows and p1.rows[0] == ("s12/r123", "warning"), "the room with the alarm comes first (got %r)" % (p1.rows[:1],))
check(p1.pages and p1.pages[0] == (1, 2) and p1.summary == 150, "page 1 of 2, 150 rooms counted (got %r, %r)" % (p1.pages, p1.summary))
p2 = get("/?page=2")
names = {r[0] for r in p1.rows} | {r[0] for r in p2.rows}
check(len(p2.rows) == 50 and len(names) == 150, "page 2 holds the other 50: every room on one page (got %d, %d distinct)" % (len(p2.rows), len(names)))
p9 = get("/?page=99")
check(p9.pages and p9.pages[0] == (2, 2), "a page past the end shows the last (got %r)" % (p9.pages,))
ps = get("/?site=s03")
check(len(ps.rows) == 10 and all(r[0].startswith("s03/") for r in ps.rows), "?site=s03 keeps that site's 10 rooms (got %d)" % len(ps.rows))
print("ok client ran to its end")
PY
client_verdicts "$T/web.out"
finish
