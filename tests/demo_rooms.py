"""demo_rooms.py - formats the demo's latest readings, one line per room.
stdin: an InfluxDB /query reply (argv[1] == "influx") or line protocol.
`demo_rooms.py batch SCALE`: one line on a precooling batch from
`coldchainctl batch status BATCH --json`, its figures on the precooler's
simulated clock (the daemon fits on the wall clock, SCALE times faster).
`demo_rooms.py lot LOT`: a lot and its history from `coldchainctl status --json`.
DEMO_ROOM_SCALE (environment): the rooms' clock, simulated seconds a real
second, to print a lot's remaining shelf life in simulated days."""
import json
import os
import sys
import time


def batch_line(scale):
    b = json.load(sys.stdin)["batches"][0]
    C, j, n = b.get("C"), b.get("j"), b.get("n", 0)
    if b.get("fit") != "reliable" or not C:
        return "fit %s (n %d): the centre probe is still in its lag" % (b.get("fit"), n)
    txt = "on the precooler's clock: C %.3f /h, j %.3f (coldchaind fits on the wall clock: C %.0f /h)" % (
        C / scale, j, C)
    if b["state"] == "running" and b.get("eta_ns") and b.get("eta_status") == "ok":
        t = float(b["eta_ns"]) / 1e9
        left = max(0.0, t - time.time())
        txt += "; ETA %s, in %.0f s = %.0f simulated min" % (
            time.strftime("%H:%M:%S", time.localtime(t)), left, left * scale / 60)
    return txt


def lot_lines(lot):
    d = json.load(sys.stdin)
    for r in d.get("rooms", []):
        for l in r.get("lots", []):
            if l.get("id") != lot:
                continue
            out = ["lot %s in room %s (%s), loaded %s, pre-monitoring %.1f °C" % (
                lot, r["name"], l.get("product"), l.get("loaded"), l.get("pre_c") or float("nan"))]
            for h in l.get("history", []):
                out.append("  history: %s %s %s on %s (profile %s %s), %s -> %s, final pulp %.1f °C, "
                           "C %.1f /h j %.3f (wall clock), fit %s, verdict %s" % (
                               h.get("kind"), "batch", h.get("batch"), h.get("process"), h.get("profile"),
                               h.get("profile_version"), h.get("start"), h.get("end"), h.get("final_c") or 0,
                               h.get("C") or 0, h.get("j") or 0, h.get("fit"), h.get("verdict")))
            return "\n".join(out)
    return "lot %s not found" % lot


if len(sys.argv) > 2 and sys.argv[1] == "batch":
    print(batch_line(float(sys.argv[2])))
    sys.exit(0)
if len(sys.argv) > 2 and sys.argv[1] == "lot":
    print(lot_lines(sys.argv[2]))
    sys.exit(0)

# Simulated seconds per real second of the rooms (tests/demo.sh: 60).
ROOM_SCALE = float(os.environ.get("DEMO_ROOM_SCALE") or 1)
UNITS = {"C": "°C", "%RH": "%", "%": "%", "ppm": "ppm"}
ORDER = ["temperature", "evaporator_temperature", "humidity", "co2", "door", "compressor"]
SHORT = {"temperature": "T", "evaporator_temperature": "evap", "humidity": "RH", "co2": "CO2",
         "door": "door", "compressor": "compressor"}


def fmt(meas, val, unit):
    if meas == "door":
        return "OPEN" if val else "closed"
    if meas == "compressor":
        return "on" if val else "OFF"
    return "%.1f %s" % (val, UNITS.get(unit or "", unit or ""))


rooms, errors, lots, alerts = {}, {}, {}, {}
if len(sys.argv) > 1 and sys.argv[1] == "influx":
    try:
        d = json.load(sys.stdin)
    except ValueError:
        print("(no answer from InfluxDB)")
        sys.exit(0)
    res = d.get("results", [])
    for s in (res[0].get("series", []) if res else []):
        t = s.get("tags", {})
        v = s["values"][0][1]
        if v is not None and t.get("room"):  # the precooler's air has no room: its batch has its own line
            rooms.setdefault(t.get("room") or "-", []).append((s["name"], t.get("sensor"), v, t.get("unit")))
    for s in (res[1].get("series", []) if len(res) > 1 else []):
        room = s.get("tags", {}).get("room") or "-"
        errors[room] = errors.get(room, 0) + sum(int(v[1]) for v in s["values"])
    for s in (res[2].get("series", []) if len(res) > 2 else []):
        t, v = s.get("tags", {}), s["values"][0]
        if v[1] is not None:
            lots.setdefault(t.get("room") or "-", []).append((t.get("lot"), t.get("product"), v[1], v[2], v[3]))
    for s in (res[3].get("series", []) if len(res) > 3 else []):
        t, v = s.get("tags", {}), s["values"][0]
        if v[1] in ("active", "acked", "cleared_unacked", "shelved"):
            alerts.setdefault(t.get("room") or "-", []).append("%s %s" % (t.get("rule"), v[1]))
else:
    last = {}
    for line in sys.stdin:
        head, _, rest = line.partition(" ")
        key = head.split(",")
        tags = dict(kv.split("=", 1) for kv in key[1:] if "=" in kv)
        fields = rest.rsplit(" ", 1)[0]
        for f in fields.split(","):
            if f.startswith("value="):
                last[(key[0], tags.get("room", "-"), tags.get("sensor"))] = (float(f[6:]), tags.get("unit"))
            if f.startswith('quality="comm_error"'):
                errors[tags.get("room", "-")] = errors.get(tags.get("room", "-"), 0) + 1
    for (meas, room, sensor), (v, unit) in last.items():
        if room == "-" or meas not in ORDER:
            continue
        rooms.setdefault(room, []).append((meas, sensor, v, unit))

if not rooms:
    print("(waiting for the first readings)")
    sys.exit(0)
parts = []
for room in sorted(rooms):
    items = sorted(rooms[room], key=lambda r: (ORDER.index(r[0]) if r[0] in ORDER else 99, r[1] or ""))
    by_meas = {}
    for m, sensor, v, u in items:
        by_meas.setdefault(m, []).append((sensor, v, u))
    txt = ", ".join(
        "%s %s" % (SHORT.get(m, m), " / ".join(
            fmt(m, v, u) + (" (%s)" % s if len(vals) > 1 else "") for s, v, u in vals))
        for m, vals in by_meas.items())
    if errors.get(room):
        txt += " [%d failed reads in 2 min]" % errors[room]
    for lot, product, consumed, rem_h, prod_c in lots.get(room, []):
        # The product lags the air by hours (packed cartons): the model runs
        # on the estimated product temperature, on the demo clock (the lots'
        # profile is lychee-demo, tests/demo_profile.py): its remaining hours
        # are wall-clock hours, ROOM_SCALE times fewer than simulated ones.
        txt += "\n             lot %s (%s): product %s, %.3f %% of shelf life used, %.1f d left at that temperature" % (
            lot, product, "%.1f °C" % prod_c if prod_c is not None else "?", 100 * consumed,
            (rem_h or 0) * ROOM_SCALE / 24)
    if alerts.get(room):
        txt += "\n             ALARMS: " + ", ".join(sorted(alerts[room]))
    parts.append("room %s: %s" % (room, txt))
print(("\n" + " " * 11).join(parts))
