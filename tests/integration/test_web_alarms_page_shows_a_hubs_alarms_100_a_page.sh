#!/bin/bash
# A hub's alarms page: 120 rooms whose sensors never report raise 120
# loss-of-monitoring alarms (stale_after 1 s).  GET /alarms shows 100 of them
# and a pager ("Page 1 / 2"), page 2 the other 20, a page past the end the
# last, and the two pages together every alarm once (the engine builds only
# the page's alarms under its lock: a hub's thousands were a 1.9 MB page and
# 10 MB of peak RSS).  A room's page asks for that room only.  The real
# daemon; python3 (urllib, html.parser) as the browser.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"

WEB_PORT=$(free_port)
{
	config_head
	cat <<CONF
control = { group = "$(id -gn)"; };
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; }; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; stale_after = "1s"; };
outputs = { file = ( { path = "$T/out.lp"; } ); };
web = { listen = "127.0.0.1:$WEB_PORT"; public_status = true; };
CONF
	awk 'BEGIN {
		print "rooms = ("
		for (i = 0; i < 120; i++)
			printf "  { name = \"s%02d/r%03d\"; profile = \"lychee\"; temperature = \"th-%03d/temperature\"; }%s\n",
				int(i / 10), i, i, i < 119 ? "," : ""
		print ");"
	}'
} >"$DAEMON_CONF"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"
all_stale() { [ "$("$CTL" alarms -c "$DAEMON_CONF" --json | json_eval 'sum(1 for a in d["alarms"] if a["state"] == "active")')" = 120 ]; }
wait_for "120 loss-of-monitoring alarms active" -t 30 all_stale || die "the 120 stale alarms never became active"

"$PY" - "http://127.0.0.1:$WEB_PORT" >"$T/web.out" 2>&1 <<'PY'
import sys, urllib.request
from html.parser import HTMLParser

class Alarms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.alarms, self.pages, self.links = [], [], []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-alarm" in a:
            self.alarms.append(a["data-alarm"])
        if tag == "span" and "data-pages" in a:
            self.pages.append((int(a["data-page"]), int(a["data-pages"])))
        if tag == "a" and a.get("rel") in ("next", "prev"):
            self.links.append((a["rel"], a["href"]))

def get(path):
    p = Alarms()
    with urllib.request.urlopen(sys.argv[1] + path) as r:
        p.feed(r.read().decode())
    return p

def check(cond, what):
    print(("ok " if cond else "bad ") + what)

p1 = get("/alarms")
check(len(p1.alarms) == 100, "GET /alarms with 120 alarms: 100 on the page (got %d)" % len(p1.alarms))
check(p1.pages[:1] == [(1, 2)] and ("next", "/alarms?page=2") in p1.links,
      "a pager: page 1 of 2, a link to the next (got %r, %r)" % (p1.pages, p1.links))
p2 = get("/alarms?page=2")
both = p1.alarms + p2.alarms
check(len(p2.alarms) == 20 and len(set(both)) == 120 and all(a.endswith(":stale") for a in both),
      "page 2 holds the other 20: every alarm once on the two pages (got %d, %d distinct)" % (len(p2.alarms), len(set(both))))
check(("prev", "/alarms?page=1") in p2.links, "page 2 links back to page 1 (got %r)" % (p2.links,))
p9 = get("/alarms?page=99")
check(p9.pages[:1] == [(2, 2)] and p9.alarms == p2.alarms, "a page past the end shows the last (got %r)" % (p9.pages,))
pr = get("/room/s03/r031")
check(pr.alarms == ["th-031/temperature:stale"] and pr.pages == [],
      "a room's page: its own sensor's alarm only, no pager (got %r)" % (pr.alarms,))
print("ok client ran to its end")
PY
client_verdicts "$T/web.out"
finish
