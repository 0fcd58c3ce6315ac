"""demo_rooms.py - formats the demo's latest readings, one line per room.
stdin: an InfluxDB /query reply (argv[1] == "influx") or line protocol."""
import json
import sys

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
        if v is not None:
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
        # on the estimated product temperature, in real time.
        txt += "\n             lot %s (%s): product %s, %.2f %% of shelf life used, %.1f d left at that temperature" % (
            lot, product, "%.1f °C" % prod_c if prod_c is not None else "?", 100 * consumed, (rem_h or 0) / 24)
    if alerts.get(room):
        txt += "\n             ALARMS: " + ", ".join(sorted(alerts[room]))
    parts.append("room %s: %s" % (room, txt))
print(("\n" + " " * 11).join(parts))
