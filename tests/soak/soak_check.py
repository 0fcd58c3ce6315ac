"""soak_check.py - the end of tests/soak/soak.sh: every point sent against
InfluxDB, as sent / stored / lost / duplicated, for MQTT and for Modbus.

usage: soak_check.py INFLUX_URL DB MQTT_SENT FILE_OUTPUT SIM_LOG INTERRUPTS

MQTT: message i carries seq = i (1..MQTT_SENT, all acknowledged by the
broker); a seq with no row is lost, one with n > 1 rows is duplicated n - 1
times (its own redelivery cannot be: it carries its own timestamp and
overwrites).  Modbus: each unit's counter register gives every read a new
value; "sent" is every value coldchaind read (journaled: in its file output,
or in InfluxDB); the simulator's final counters say how many it served, and
a served value never read is explained only by a reply in flight when the
bus was stopped (INTERRUPTS: kill -9s, reloads, the final stop) or by a failed
read (a comm_error row).  Prints the result lines; exit 1 on a lost or
duplicated point or an unexplained unread one, 2 when it cannot check."""
import json
import re
import sys
import urllib.parse
import urllib.request


def query_rows(url, db, q):
    """Yields (tags, row) for every row, reading InfluxDB's chunked reply
    (one JSON object per line) so a million rows never sit in one document."""
    params = urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns", "chunked": "true", "chunk_size": "20000"})
    with urllib.request.urlopen(url + "/query?" + params, timeout=600) as r:
        for line in r:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            for res in d.get("results", []):
                if "error" in res:
                    raise RuntimeError("influx: " + res["error"])
                for s in res.get("series", []):
                    tags = s.get("tags") or {}
                    for v in s.get("values", []):
                        yield tags, v
            if "error" in d:
                raise RuntimeError("influx: " + d["error"])


def ranges(nums, limit=8):
    """'3, 10-12, ...' for a sorted list."""
    out, i = [], 0
    while i < len(nums) and len(out) < limit:
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else "%d-%d" % (nums[i], nums[j]))
        i = j + 1
    return ", ".join(out) + (", ..." if i < len(nums) else "")


def check_mqtt(url, db, sent):
    counts = bytearray(sent + 1)
    extra = 0
    rows = 0
    for _, v in query_rows(url, db, 'SELECT "value" FROM "soak_seq"'):
        rows += 1
        seq = int(round(v[1]))
        if 1 <= seq <= sent:
            if counts[seq] < 255:
                counts[seq] += 1
        else:
            extra += 1
    lost = [i for i in range(1, sent + 1) if counts[i] == 0]
    dup = sum(c - 1 for c in counts[1:] if c > 1)
    stored = sent - len(lost)
    print("  MQTT    sent %d  stored %d  lost %d  duplicated %d" % (sent, stored, len(lost), dup))
    if lost:
        print("          lost seq: %s" % ranges(lost))
    if extra:
        # published but not acknowledged before the publisher stopped
        print("          %d rows with a seq the broker never acknowledged (not counted as sent)" % extra)
    return len(lost) + dup


def check_modbus(url, db, file_output, sim_log, interrupts):
    served = {}
    for line in open(sim_log, errors="replace"):
        m = re.match(r"counter unit (\d+) input 0: (\d+)$", line.strip())
        if m:
            served["unit-" + m.group(1)] = int(m.group(2))
    if not served:
        print("  Modbus: no counters in %s (did the simulator stop cleanly?)" % sim_log)
        return None
    # the file output: every line the journal held, possibly repeated
    # after a kill -9 (the batch in flight): a set
    in_file = {u: set() for u in served}
    pat = re.compile(r"^soak_counter,(\S+) value=([-0-9.e+]+) (\d+)$")
    for line in open(file_output, errors="replace"):
        if not line.startswith("soak_counter,"):
            continue
        m = pat.match(line.rstrip("\n"))
        if not m:
            continue
        tags = dict(kv.split("=", 1) for kv in m.group(1).split(",") if "=" in kv)
        u = tags.get("sensor")
        if u in in_file:
            in_file[u].add(int(float(m.group(2))))
    stored = {u: {} for u in served}
    comm_errors = 0
    for tags, v in query_rows(url, db, 'SELECT "value", "quality" FROM "soak_counter" GROUP BY "sensor"'):
        u = tags.get("sensor")
        if u not in stored:
            continue
        if v[1] is None:
            comm_errors += v[2] == "comm_error"
            continue
        k = int(round(v[1]))
        stored[u][k] = stored[u].get(k, 0) + 1
    t_sent = t_stored = t_lost = t_dup = t_served = t_unread = t_notfile = 0
    lost_desc = []
    for u in sorted(served):
        read = in_file[u] | set(stored[u])
        lost = sorted(read - set(stored[u]))
        t_sent += len(read)
        t_stored += len(stored[u])
        t_lost += len(lost)
        t_dup += sum(c - 1 for c in stored[u].values())
        t_served += served[u]
        t_unread += sum(1 for k in range(1, served[u] + 1) if k not in read)
        t_notfile += len(set(stored[u]) - in_file[u])
        if lost:
            lost_desc.append("%s: %s" % (u, ranges(lost)))
    print("  Modbus  sent %d  stored %d  lost %d  duplicated %d" % (t_sent, t_stored, t_lost, t_dup))
    for d in lost_desc:
        print("          lost counter values of %s" % d)
    allowed = interrupts * len(served) + comm_errors
    unexplained = t_unread > allowed
    print("          (%d units; the simulator served %d counter reads, %d never read by coldchaind: at most %d"
          " expected from %d bus interruptions x %d units + %d failed reads%s)"
          % (len(served), t_served, t_unread, allowed, interrupts, len(served), comm_errors,
             "; UNEXPLAINED" if unexplained else ""))
    if t_notfile:
        print("          %d stored readings missing from the file output (the reference)" % t_notfile)
    return t_lost + t_dup + (1 if unexplained else 0)


def main():
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    url, db, sent, file_output, sim_log, interrupts = sys.argv[1:]
    try:
        bad = check_mqtt(url, db, int(sent))
        m = check_modbus(url, db, file_output, sim_log, int(interrupts))
    except (OSError, RuntimeError, ValueError) as e:
        print("  cannot check: %s" % e)
        return 2
    if m is None:
        return 2
    return 1 if bad + m else 0


if __name__ == "__main__":
    sys.exit(main())
