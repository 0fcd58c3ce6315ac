#!/usr/bin/env python3
"""The web pages' peer for test_web_pages_*.sh: a cookie-keeping HTTP
client (urllib, no redirects followed) and html.parser.  Prints one
"ok MESSAGE" or "bad MESSAGE" line per check; the shell script counts them."""
import html.parser, http.cookiejar, json, subprocess, sys, urllib.error, urllib.parse, urllib.request

BASE, CTL, CONF, OUT, OP_PW, VI_PW = sys.argv[1:7]


import web_client
from web_client import Page, login, say


class Client(web_client.Client):
    def __init__(self, lang=None):
        super().__init__(BASE, lang)


def main():
    anon = Client()
    st, h, _, _ = anon.req("/")
    say(st == 303 and h.get("Location") == "/login?next=/", "no session: / is 303 to /login?next=/ (got %s %s)" % (st, h.get("Location")))
    for path in ("/alarms", "/room/A", "/lot/LOT-1", "/events"):
        st, h, _, _ = anon.req(path)
        say(st == 303 and h.get("Location") == "/login?next=" + path,
            "public_status false: %s is 303 to /login (got %s %s)" % (path, st, h.get("Location")))
    st, *_ = anon.req("/", headers={"X-Fragment": "main"})
    say(st == 401, "no session: a fragment request is 401 (got %s)" % st)
    st, *_ = anon.req("/alarms/ack", {"id": "A/temp_high", "note": "x", "csrf": "0" * 64})
    say(st == 401, "no session: POST /alarms/ack is 401 (got %s)" % st)

    # the login page and its CSRF pair
    st, h, ck, body = anon.req("/login")
    p = Page(body)
    f = [f for f in p.forms if f["a"].get("id") == "login"]
    say(st == 200 and f and set(f[0]["fields"]) >= {"user", "password", "csrf"}, "login page has form#login with user, password, csrf")
    say({"user", "password"} <= p.labels_for, "login inputs are labelled")
    say(any("cc_login=" in c and "HttpOnly" in c and "SameSite=Strict" in c for c in ck), "pre-session CSRF cookie is HttpOnly, SameSite=Strict: %s" % ck)
    st, *_ = anon.req("/login", {"user": "op", "password": OP_PW, "next": "/"})
    say(st == 403, "login without its CSRF token is refused 403 (got %s)" % st)
    st, *_ = anon.req("/login", {"user": "op", "password": OP_PW, "next": "/", "csrf": "f" * 64})
    say(st == 403, "login with a forged CSRF token is refused 403 (got %s)" % st)

    tok = f[0]["fields"]["csrf"]["value"]
    st, *_ = anon.req("/login", {"user": "op", "password": OP_PW, "next": "/", "csrf": tok},
                      {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    say(st == 403, "login from another site (Origin, Sec-Fetch-Site) is refused 403 (got %s)" % st)

    op = Client()
    st, h, ck, _ = login(op, "op", OP_PW, "/alarms")
    say(st == 303 and h.get("Location") == "/alarms", "operator login: 303 to where the user was going (got %s %s)" % (st, h.get("Location")))
    say(any(c.startswith("cc_session=") and "HttpOnly" in c and "SameSite=Strict" in c for c in ck), "session cookie HttpOnly, SameSite=Strict")

    # overview in Vietnamese (the default), then English by the switch
    st, h, _, body = op.req("/")
    p = Page(body)
    say(body.startswith("<!doctype html>") and p.find("html")[0]["a"].get("lang") == "vi", "overview: doctype, lang=vi by default")
    tile = p.find("section", id="tile-A")
    say(tile and tile[0]["a"].get("data-room") == "A" and tile[0]["a"].get("data-state") == "warning",
        "tile-A data-state=warning from the active warning alarm: %s" % (tile and tile[0]["a"]))
    temp = [e for e in p.cls("temp") if e["tag"] == "span"]
    say(temp and temp[0]["a"].get("data-value") == "8.0" and temp[0]["text"] == "8,0 °C",
        "vi: temperature data-value=8.0 shown as '8,0 °C' (got %r)" % (temp and temp[0]["text"]))
    rh = [e for e in p.cls("rh") if e["tag"] == "span"]
    say(rh and rh[0]["a"].get("data-value") == "92" and "92 %" in rh[0]["text"], "vi: RH data-value=92 with its unit: %r" % (rh and rh[0]["text"]))
    say(p.find("li", data_lot="LOT-1") and "Hạn sử dụng còn lại" in body, "vi: lot LOT-1 with its remaining shelf life in Vietnamese")
    say(p.find("main", id="main") and p.find("script", src="/static/app.js") and p.find("link", href="/static/app.css"),
        "main#main, app.js and app.css on the page")
    times = [e for e in p.find("time")]
    say(times and times[0]["text"].endswith("(+07)") and times[0]["a"]["datetime"].endswith("+07:00"),
        "times in the site's zone: %r %r" % (times and times[0]["text"], times and times[0]["a"].get("datetime")))
    st, h, ck, _ = op.req("/lang?l=en&next=/alarms")
    say(st == 303 and h.get("Location") == "/alarms" and any(c.startswith("lang=en") for c in ck), "the switch sets lang=en and goes back")
    st, h, _, _ = op.req("/lang?l=en&next=//evil.example/")
    say(st == 303 and h.get("Location") == "/", "the switch never redirects off the site (got %s)" % h.get("Location"))
    st, h, _, body = op.req("/")
    p = Page(body)
    temp = [e for e in p.cls("temp") if e["tag"] == "span"]
    say(p.find("html")[0]["a"].get("lang") == "en" and temp and temp[0]["text"] == "8.0 °C" and "Overview" in body,
        "en after the switch: lang=en, '8.0 °C' (got %r)" % (temp and temp[0]["text"]))
    st, h, _, frag = op.req("/", headers={"X-Fragment": "main"})
    say(st == 200 and not frag.lstrip().startswith("<!doctype") and 'id="tile-A"' in frag and "<header" not in frag,
        "X-Fragment: main gets only the inside of main")

    en = Client(lang="en-GB,en;q=0.9")
    login(en, "vi", VI_PW)
    st, h, _, body = en.req("/alarms")
    p = Page(body)
    say(p.find("html")[0]["a"].get("lang") == "en" and "Alarms" in body, "Accept-Language en-GB gives English")
    row = p.find("tr", id="alarm-A_temp_high")
    say(row and row[0]["a"].get("data-state") == "active" and row[0]["a"].get("data-severity") == "warning", "alarms: row alarm-A_temp_high active, warning")
    say(not p.cls("ack"), "a viewer gets no ack form")
    vcsrf = [f for f in p.forms if f["a"].get("action") == "/logout"][0]["fields"]["csrf"]["value"]
    st, *_ = en.req("/alarms/ack", {"id": "A/temp_high", "note": "viewer", "csrf": vcsrf})
    say(st == 403, "a viewer's ack (with its own CSRF token) is refused 403 (got %s)" % st)

    st, h, _, body = op.req("/alarms")
    p = Page(body)
    forms = [f for f in p.forms if f["a"].get("class") == "ack" and f["fields"]["id"]["value"] == "A/temp_high"]
    say(forms and "note" in forms[0]["fields"] and "duration" in [f for f in p.forms if f["a"].get("class") == "shelve"][0]["fields"],
        "operator: ack form with a note and a shelve form with a duration")
    ids = [e["a"].get("id") for e in p.find("textarea")] + [e["a"].get("id") for e in p.find("select")]
    say(all(i in p.labels_for for i in ids), "every note and duration control is labelled")
    csrf = forms[0]["fields"]["csrf"]["value"]
    st, *_ = op.req("/alarms/ack", {"id": "A/temp_high", "note": "forged"})
    say(st == 403, "operator's ack without the CSRF token is refused 403 (got %s)" % st)
    st, *_ = op.req("/alarms/ack", {"id": "A/temp_high", "note": "x", "csrf": csrf}, {"Origin": "http://evil.example"})
    say(st == 403, "an ack from another Origin is refused 403 (got %s)" % st)
    st, h, _, _ = op.req("/alarms/ack", {"id": "A/temp_high", "note": "đã gọi kỹ thuật", "csrf": csrf})
    say(st == 303, "operator's ack with a note: 303 (got %s)" % st)
    st, h, _, body = op.req("/alarms")
    row = Page(body).find("tr", id="alarm-A_temp_high")
    say(row and row[0]["a"].get("data-state") == "acked", "the alarm row is acked on the page")
    j = json.loads(subprocess.run([CTL, "alarms", "-c", CONF, "--json"], capture_output=True, text=True).stdout)
    say([a["state"] for a in j["alarms"] if a["id"] == "A/temp_high"] == ["acked"], "coldchainctl alarms: acked")

    st, h, _, body = op.req("/room/A")
    say(st == 200 and "<svg" in body and "Last 24 hours" in body, "room page: inline SVG of the last 24 hours")
    st, h, _, body = op.req("/lot/LOT-1")
    p = Page(body)
    say(st == 200 and "coldchainctl report --lot LOT-1" in body and 'href="/lot/LOT-1/report"' in body
        and [f for f in p.forms if f["a"].get("action") == "/lot/move"],
        "lot page: the report's link, its command and a move form")
    mf = [f for f in p.forms if f["a"].get("action") == "/lot/move"][0]
    opts = [e["a"].get("value") for e in p.find("option")]
    say(opts == ["B"], "the move form offers every other room, not the lot's own (got %s)" % opts)
    st, h, _, _ = op.req("/lot/move", {"lot": "LOT-1", "room": "B", "csrf": mf["fields"]["csrf"]["value"]})
    st2, _, _, body = op.req("/room/B")
    say(st == 303 and 'data-lot="LOT-1"' in body, "lot move by the form: LOT-1 now in room B (got %s)" % st)

    st, h, _, _ = op.req("/static/app.css")
    etag = h.get("ETag")
    st2, *_ = op.req("/static/app.css", headers={"If-None-Match": etag or "x"})
    say(st == 200 and etag and st2 == 304, "app.css: 200 with ETag %s, then 304" % etag)

    lcsrf = [f for f in Page(op.req("/")[3]).forms if f["a"].get("action") == "/logout"][0]["fields"]["csrf"]["value"]
    st, h, *_ = op.req("/logout", {"csrf": lcsrf})
    st2, h2, *_ = op.req("/")
    say(st == 303 and st2 == 303 and h2.get("Location", "").startswith("/login"), "logout ends the session")

    bad = Client()
    codes = [login(bad, "op", "wrong-%d" % i)[0] for i in range(6)]
    st, h, _, body = login(bad, "op", OP_PW)
    say(codes[:5] == [401] * 5 and codes[5] == 429 and st == 429 and int(h.get("Retry-After", "0")) > 0 and 'role="alert"' in body,
        "wrong passwords: 401 x5, then 429 with Retry-After (even the right one): %s, %s %s" % (codes, st, h.get("Retry-After")))


main()
