#!/bin/bash
# A hub's alarms page: 120 rooms whose sensors never report raise 120
# loss-of-monitoring alarms (stale_after 1 s).  GET /alarms shows 100 of them
# and a pager ("Page 1 / 2"), page 2 the other 20, a page past the end the
# last, and the two pages together every alarm once (the engine builds only
# the page's alarms under its lock: a hub's thousands were a 1.9 MB page and
# 10 MB of peak RSS).  A room's page asks for that room only.  The real
# daemon; python3 as the browser (tests/integration/web_client.py).
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

"$PY" - "http://127.0.0.1:$WEB_PORT" "$(dirname "$0")" >"$T/web.out" 2>&1 <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from web_client import Client, Page, say

c = Client(sys.argv[1])

def get(path):
    """The page's alarm ids, its pager's (page, pages) and its next/prev links."""
    st, _, _, body = c.req(path)
    p = Page(body)
    return (st, [e["a"]["data-alarm"] for e in p.find("tr") if "data-alarm" in e["a"]],
            [(int(e["a"]["data-page"]), int(e["a"]["data-pages"])) for e in p.find("span") if "data-pages" in e["a"]],
            [(e["a"]["rel"], e["a"]["href"]) for e in p.find("a") if e["a"].get("rel") in ("next", "prev")])

st, a1, pg1, l1 = get("/alarms")
say(st == 200 and len(a1) == 100, "GET /alarms with 120 alarms: 100 on the page (got %s, %d)" % (st, len(a1)))
say(pg1[:1] == [(1, 2)] and ("next", "/alarms?page=2") in l1,
    "a pager: page 1 of 2, a link to the next (got %r, %r)" % (pg1, l1))
_, a2, _, l2 = get("/alarms?page=2")
both = a1 + a2
say(len(a2) == 20 and len(set(both)) == 120 and all(a.endswith(":stale") for a in both),
    "page 2 holds the other 20: every alarm once on the two pages (got %d, %d distinct)" % (len(a2), len(set(both))))
say(("prev", "/alarms?page=1") in l2, "page 2 links back to page 1 (got %r)" % (l2,))
_, a9, pg9, _ = get("/alarms?page=99")
say(pg9[:1] == [(2, 2)] and a9 == a2, "a page past the end shows the last (got %r)" % (pg9,))
_, ar, pgr, _ = get("/room/s03/r031")
say(ar == ["th-031/temperature:stale"] and pgr == [],
    "a room's page: its own sensor's alarm only, no pager (got %r)" % (ar,))
say(True, "client ran to its end")
PY
client_verdicts "$T/web.out"
finish
