#!/usr/bin/env python3
"""What the web pages' test peers share (web_pages_client.py,
web_words_client.py, the alarms-page test's client): a cookie-keeping HTTP client (urllib, no redirects
followed), an html.parser that keeps elements, text and forms, the login
through the page's own form (its CSRF token), and the "ok"/"bad" line
each check prints for the shell script to count."""
import html.parser, http.cookiejar, urllib.error, urllib.parse, urllib.request


def say(ok, msg):
    print(("ok " if ok else "bad ") + msg, flush=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


class Client:
    def __init__(self, base, lang=None):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.lang = lang

    def req(self, path, data=None, headers=None):
        h = dict(headers or {})
        if self.lang:
            h["Accept-Language"] = self.lang
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        r = urllib.request.Request(self.base + path, data=body, headers=h, method="POST" if data is not None else "GET")
        try:
            resp = self.op.open(r, timeout=20)
        except urllib.error.HTTPError as e:
            resp = e
        return resp.status, dict(resp.headers.items()), resp.headers.get_all("Set-Cookie") or [], resp.read().decode()

    def stream(self, path):
        """GET path, the status and headers only (a stream stays open)."""
        r = urllib.request.Request(self.base + path, headers={"Accept-Language": self.lang or ""})
        try:
            resp = self.op.open(r, timeout=20)
        except urllib.error.HTTPError as e:
            return e.status, dict(e.headers.items()), ""
        st, h = resp.status, dict(resp.headers.items())
        resp.close()
        return st, h, ""

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)


class Page(html.parser.HTMLParser):
    """Elements with their attributes, text inside <main>, forms with fields."""

    def __init__(self, text):
        super().__init__()
        self.els, self.stack, self.forms, self.labels_for, self.text = [], [], [], set(), []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        el = {"tag": tag, "a": a, "text": ""}
        self.els.append(el)
        if tag not in ("input", "meta", "link", "br", "img"):
            self.stack.append(el)
        if tag == "form":
            self.forms.append({"a": a, "fields": {}})
        if tag in ("input", "textarea", "select") and self.forms:
            self.forms[-1]["fields"][a.get("name")] = a
        if tag == "label" and "for" in a:
            self.labels_for.add(a["for"])

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, d):
        for el in self.stack:
            el["text"] += d
        self.text.append(d)

    def find(self, tag=None, **kw):
        return [e for e in self.els if (tag is None or e["tag"] == tag)
                and all(e["a"].get(k.replace("_", "-")) == v for k, v in kw.items())]

    def cls(self, c):
        return [e for e in self.els if c in (e["a"].get("class") or "").split()]


def login(c, user, pw, next_="/"):
    st, h, ck, body = c.req("/login?next=" + urllib.parse.quote(next_))
    p = Page(body)
    f = [f for f in p.forms if f["a"].get("id") == "login"][0]
    return c.req("/login", {"csrf": f["fields"]["csrf"]["value"], "next": next_, "user": user, "password": pw})
