#!/usr/bin/python3
"""tests/integration/dashboard_queries.py INFLUX_URL DB DASHBOARD.json... -
extracts every InfluxQL query of Grafana dashboards (panels' targets, nested
row panels, templating variables, annotations), substitutes Grafana's macros
and the variables the way Grafana does, runs each on InfluxDB and prints one
line per query: "ok<TAB>description" or "fail<TAB>description: why".

Variables are resolved by running their own queries in dependency order
(site, then room with $site, then lot ...), preferring room A and its first
lot; textbox variables take their default."""
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

url, db, files = sys.argv[1], sys.argv[2], sys.argv[3:]
PREFER = {"room": "A"}
# DASHBOARD_PREFER="process=chamber-1,batch=F1": the variables' values to use;
# DASHBOARD_PANELS=REGEX: only the panels whose title matches (searched)
PREFER.update(kv.split("=", 1) for kv in os.environ.get("DASHBOARD_PREFER", "").split(",") if "=" in kv)
PANELS = re.compile(os.environ.get("DASHBOARD_PANELS", ""))
RANGE = os.environ.get("DASHBOARD_RANGE", "1h")  # $timeFilter: the last RANGE


def run(q):
    u = url + "/query?" + urllib.parse.urlencode({"db": db, "q": q, "epoch": "ms"})
    with urllib.request.urlopen(u, timeout=30) as r:
        d = json.load(r)
    if "error" in d:
        raise RuntimeError(d["error"])
    rows, values = 0, []
    for res in d.get("results", []):
        if "error" in res:
            raise RuntimeError(res["error"])
        for s in res.get("series", []):
            rows += len(s.get("values", []))
            cols = s.get("columns", [])
            vi = cols.index("value") if "value" in cols else len(cols) - 1
            values += [v[vi] for v in s.get("values", [])]
    return rows, values


def substitute(q, variables):
    now_ms = int(time.time() * 1000)
    rep = {
        "timeFilter": "time > now() - %s" % RANGE,
        "__timeFilter": "time > now() - %s" % RANGE,
        "__interval_ms": "10000",
        "__interval": "10s",
        "__from": str(now_ms - 3600 * 1000),
        "__to": str(now_ms),
        "__rate_interval": "40s",
    }
    rep.update(variables)

    def one(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name not in rep:
            raise KeyError("unknown variable or macro $%s" % name)
        return rep[name]
    # longest names first: $__interval_ms before $__interval
    return re.sub(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)", one, q)


def walk_panels(panels):
    for p in panels or []:
        yield p
        yield from walk_panels(p.get("panels"))


def var_query(v):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query")
    return q


out = []
for path in files:
    name = os.path.basename(path)
    try:
        dash = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        out.append(("fail", "%s: not JSON: %s" % (name, e)))
        continue
    sv = dash.get("schemaVersion", 0)
    out.append(("ok" if sv >= 36 else "fail", "%s: schemaVersion %s >= 36" % (name, sv)))
    variables = {}
    for v in dash.get("templating", {}).get("list", []):
        desc = "%s / variable $%s" % (name, v["name"])
        if v.get("type") in ("textbox", "constant", "custom"):
            variables[v["name"]] = str(v.get("query", "")).split(",")[0]
            continue
        q = var_query(v)
        try:
            rows, values = run(substitute(q, variables))
        except Exception as e:  # noqa: BLE001 - reported as a failure
            out.append(("fail", "%s: %s (query: %s)" % (desc, e, q)))
            variables[v["name"]] = "none"
            continue
        if rows == 0:
            out.append(("fail", "%s: no rows (query: %s)" % (desc, q)))
            variables[v["name"]] = "none"
            continue
        pick = PREFER.get(v["name"]) if PREFER.get(v["name"]) in values else values[0]
        variables[v["name"]] = re.escape(str(pick)) if "=~" in q or True else str(pick)
        out.append(("ok", "%s: %d rows, using %s (query: %s)" % (desc, rows, pick, q)))
    queries = []
    for p in walk_panels(dash.get("panels")):
        if not PANELS.search(p.get("title") or ""):
            continue
        for t in p.get("targets", []) or []:
            q = t.get("query")
            if not q:
                out.append(("fail", "%s / panel \"%s\" [%s]: target without a query" %
                            (name, p.get("title"), t.get("refId"))))
                continue
            if not t.get("rawQuery"):
                out.append(("fail", "%s / panel \"%s\" [%s]: not a raw InfluxQL query" %
                            (name, p.get("title"), t.get("refId"))))
            queries.append(("%s / panel \"%s\" [%s]" % (name, p.get("title"), t.get("refId")), q))
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("builtIn"):
            continue
        queries.append(("%s / annotation \"%s\"" % (name, a.get("name")), a.get("query") or a.get("target", {}).get("query")))
    for desc, q in queries:
        try:
            sq = substitute(q, variables)
            rows, _ = run(sq)
        except Exception as e:  # noqa: BLE001
            out.append(("fail", "%s: %s (query: %s)" % (desc, e, q)))
            continue
        if rows:
            out.append(("ok", "%s: %d rows" % (desc, rows)))
        else:
            out.append(("fail", "%s: no rows (query: %s)" % (desc, sq)))

for st, d in out:
    print("%s\t%s" % (st, d.replace("\n", " ")))
