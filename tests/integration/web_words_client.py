#!/usr/bin/env python3
"""Peer of test_web_public_status_*.sh: with public_status = true, every
page read without a login shows no action form and every POST without a
session is refused; each page rendered in Vietnamese shows no English word
of the catalogue (its text compared against po/vi.po's msgids); error
replies are a small page in the browser's language (plain text for other
clients); the post-action notice is in the page's language; an ack from a
room page returns to the room page.  One "ok"/"bad" line per check."""
import html.parser, http.cookiejar, re, sys, urllib.error, urllib.parse, urllib.request

BASE, PO, OP_PW = sys.argv[1:4]


import web_client
from web_client import Page, login, say


class Client(web_client.Client):
    def __init__(self, lang=None):
        super().__init__(BASE, lang)




def catalogue(path):
    """msgid -> msgstr of po/vi.po (continuation lines joined)."""
    out, cur, key = {}, {"msgid": "", "msgstr": ""}, None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        m = re.match(r'^(msgid|msgstr) "(.*)"$', line)
        if m:
            if m.group(1) == "msgid" and cur["msgid"]:
                out[cur["msgid"]] = cur["msgstr"]
                cur = {"msgid": "", "msgstr": ""}
            key = m.group(1)
            cur[key] = m.group(2)
        elif line.startswith('"') and key:
            cur[key] += line[1:-1]
    if cur["msgid"]:
        out[cur["msgid"]] = cur["msgstr"]
    return out


def english_left(body, cat):
    """Visible text (not <script>/<style>) that is a msgid whose
    translation differs, or holds an English word found only in msgids."""
    p = Page(body)
    eng = set(w for k, v in cat.items() if v and v != k for w in re.findall(r"[A-Za-z]{4,}", k))
    eng -= set(w for v in cat.values() for w in re.findall(r"[A-Za-z]{4,}", v))
    eng -= {"coldchainctl", "report", "lychee"}  # a command and the product's name are data
    left = []
    for t in p.text:
        t = t.strip()
        if not t or re.fullmatch(r"[\w-]+/[\w-]+", t):  # empty, or an alarm id (data)
            continue
        if t in cat and cat[t] and cat[t] != t:
            left.append(t)
        elif any(w in eng for w in re.findall(r"[A-Za-z]{4,}", t)):
            left.append(t)
    return left


def main():
    cat = catalogue(PO)
    html = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
    anon = Client("vi")
    for path in ("/", "/alarms", "/room/A"):
        st, h, _, body = anon.req(path)
        p = Page(body)
        say(st == 200 and "<main" in body, "public_status: %s readable without a login (got %s)" % (path, st))
        say(not p.find("form", method="post") or all(f["a"].get("action") == "/logout" for f in p.forms),
            "public_status: %s shows no action form to an anonymous reader: %s" % (path, [f["a"].get("action") for f in p.forms]))
        left = english_left(body, cat)
        say(not left, "vi: %s anonymous shows no English word: %s" % (path, left))
    st, h, body = anon.stream("/events")
    say(st == 200 and h.get("Content-Type", "").startswith("text/event-stream"),
        "public_status: /events streams without a login (got %s %s)" % (st, h.get("Content-Type")))
    for path, data in (("/alarms/ack", {"id": "A/temp_high", "note": "x", "csrf": "0" * 64}),
                       ("/alarms/shelve", {"id": "A/temp_high", "duration": "15", "csrf": "0" * 64}),
                       ("/alarms/unshelve", {"id": "A/temp_high", "csrf": "0" * 64}),
                       ("/lot/move", {"lot": "LOT-1", "room": "B", "csrf": "0" * 64}),
                       ("/logout", {"csrf": "0" * 64})):
        st, *_ = anon.req(path, data)
        say(st in (401, 403), "public_status: anonymous POST %s refused (got %s)" % (path, st))

    # error replies: a page in the browser's language, plain text for others
    for lang, want in (("vi", "Không tìm thấy"), ("en", "Not found")):
        c = Client(lang)
        st, h, _, body = c.req("/no/such/page", headers=html)
        say(st == 404 and h.get("Content-Type", "").startswith("text/html") and want in body and 'href="/"' in body
            and '<html lang="%s"' % lang in body, "%s: a browser's 404 is a page in its language with a link back" % lang)
        if lang == "vi":
            say(not english_left(body, cat), "vi: the 404 page shows no English word: %s" % english_left(body, cat))
        st, h, _, body = c.req("/alarms/ack", {"id": "A/temp_high", "csrf": "0" * 64}, headers=html)
        say(st == 401 and h.get("Content-Type", "").startswith("text/html") and (lang == "en" or not english_left(body, cat)),
            "%s: a browser's 401 for a POST without a session is a page in its language (got %s)" % (lang, st))
        st, h, _, body = c.req("/", data={"x": "1"}, headers=html)
        say(st == 405 and (lang == "en" or not english_left(body, cat)), "%s: a 405 page in its language (got %s: %s)" % (lang, st, english_left(body, cat)))
    st, h, _, body = Client("vi").req("/no/such/page")
    say(st == 404 and h.get("Content-Type", "").startswith("text/plain") and body == "404 not found\n",
        "a client without Accept text/html gets the plain-text 404 (got %r)" % body)

    # an operator, in Vietnamese: every page without English, the notice, an ack from the room page
    op = Client("vi")
    st, h, _, _ = login(op, "op", OP_PW, "/room/A")
    say(st == 303 and h.get("Location") == "/room/A", "operator login back to /room/A (got %s %s)" % (st, h.get("Location")))
    for path in ("/", "/alarms", "/room/A", "/room/B", "/login"):
        st, h, _, body = op.req(path)
        left = english_left(body, cat)
        say(st == 200 and not left, "vi: %s (operator, with forms) shows no English word: %s" % (path, left))
    st, h, _, body = op.req("/room/A")
    p = Page(body)
    ack = [f for f in p.forms if f["a"].get("action") == "/alarms/ack"]
    say(bool(ack), "room page A has an ack form for its active alarm: %s" % [(r["a"].get("data-state"), r["a"].get("id")) for r in p.find("tr")])
    if ack:
        f = ack[0]["fields"]
        st, h, _, _ = op.req("/alarms/ack", {"id": f["id"]["value"], "next": f["next"]["value"], "csrf": f["csrf"]["value"], "note": "từ trang kho"})
        say(st == 303 and h.get("Location") == "/room/A", "an ack from the room page returns to the room page (got %s %s)" % (st, h.get("Location")))
        st, h, _, body = op.req("/room/A")
        row = Page(body).find("tr", data_alarm=f["id"]["value"])
        say(row and row[0]["a"].get("data-state") == "acked", "the room page shows the alarm acked")
        st, h, _, body = op.req("/alarms/ack", {"id": f["id"]["value"], "csrf": f["csrf"]["value"]}, headers=html)
        say(st == 409 and not english_left(body, cat), "vi: acking twice is a 409 page in Vietnamese (got %s: %s)" % (st, english_left(body, cat)))
    for lang, word in (("vi", cat["Done"]), ("en", "Done")):
        op.lang = lang
        st, h, _, body = op.req("/alarms?done=1")
        notice = Page(body).cls("notice")
        say(notice and notice[0]["text"].strip() == word and '<html lang="%s"' % lang in body,
            "%s: the post-action notice reads %r (got %r)" % (lang, word, notice and notice[0]["text"]))
    print("ok client ran to its end", flush=True)


main()
