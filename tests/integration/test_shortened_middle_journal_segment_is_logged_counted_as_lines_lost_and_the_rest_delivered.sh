#!/bin/bash
# Damage in the middle of the journal: during an InfluxDB outage 40,000
# numbered MQTT readings (value = 0..39999) fill several 1 MiB segments; with
# the daemon stopped, a segment that is not the newest is cut 47 bytes into a
# record about half-way through it.  At the next start:
# - the log says how many lines were lost, which ones (by the records'
#   sequence numbers) and from when to when (the append times of the records
#   on both sides of the gap), exactly as the segments on disk show them, and
#   that the InfluxDB output had not delivered them;
# - coldchaind_journal.lines_lost and .gaps count it;
# - every reading that was not in the cut-off part reaches InfluxDB, and only
#   the cut-off ones are missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

N=40000
FILE_OUT=$T/archive.lp
STATS_INTERVAL=1s
start_outage_daemon gap 64M "$FILE_OUT"
stop_influxd
seq 0 $((N - 1)) | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t gap/A/s1/temperature -l ||
	die "mosquitto_pub could not publish the $N readings"
in_file() { [ "$(grep -c '^temperature,.*sensor=s1.* value=' "$FILE_OUT" 2>/dev/null)" -ge "$N" ]; }
wait_for "all $N readings journaled (file output)" -t 180 in_file || die "the file output lacks readings"
stop_daemon || fail "coldchaind did not exit 0 on SIGTERM"

# Read the segments as they are on disk (the format of daemon/journal.h),
# cut the second one 47 bytes into its middle record, and say what that lost.
J=$T/state/journal
read -r nsegs lost seq_lo seq_hi t1 t2 vals <<<"$("$PY" - "$J" <<'PYEOF'
import datetime, glob, os, re, struct, sys
segs = sorted(glob.glob(sys.argv[1] + "/*.seg"))
def records(path):
    b = open(path, "rb").read()
    off, out = 16, []
    while off + 36 <= len(b):
        magic, ln, crc, typ, nl, seq, t = struct.unpack_from("<IIIIIQq", b, off)
        if magic != 0x4a43434a:
            break
        out.append((off, seq, nl, t, b[off + 36:off + 36 + ln]))
        off += 36 + ln
    return out
def iso(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)
if len(segs) < 3:
    print(len(segs), "- - - - - -")
    sys.exit(0)
mid, nxt = records(segs[1]), records(segs[2])
k = len(mid) // 2
first = nxt[0][1]
assert first == mid[-1][1] + mid[-1][2], "the seqs of adjacent segments do not meet"
vals = []
for (_, _, _, _, payload) in mid[k:]:
    for line in payload.decode().splitlines():
        m = re.match(r"temperature,.*sensor=s1.* value=([-0-9.e+]+)[ ,]", line)
        if m:
            vals.append(int(float(m.group(1))))
os.truncate(segs[1], mid[k][0] + 47)
print(len(segs), first - mid[k][1], mid[k][1], first - 1, iso(mid[k - 1][3]), iso(nxt[0][3]),
      ",".join(map(str, vals)) or "-")
PYEOF
)"
[ "$nsegs" -ge 3 ] 2>/dev/null || die "the readings filled only ${nsegs:-no} segments: none in the middle to damage"
nvals=$(tr ',' '\n' <<<"$vals" | grep -c .)
echo "  ($nsegs segments; the 2nd cut: $lost lines lost, seq $seq_lo..$seq_hi, $nvals of them readings, journaled between $t1 and $t2)"
check "the cut lost some readings" [ "$nvals" -gt 0 ]

DAEMON_LOG=$T/coldchaind-2.log
start_influxd
start_daemon
check "the daemon starts on the damaged journal" pid_alive "$DAEMON_PID"
check "the log says how many lines were lost and which ($lost, seq $seq_lo to $seq_hi)" \
	grep -q "journal .*: $lost line(s) lost (seq $seq_lo to $seq_hi, " "$DAEMON_LOG"
check "the log says from when to when ($t1 to $t2)" grep -q "journaled between $t1 and $t2" "$DAEMON_LOG"
check "the log says InfluxDB (itest) had not delivered any of them" \
	grep -q "journaled between $t1 and $t2; not yet delivered by: .*itest ($lost)" "$DAEMON_LOG"
check "the log sums it up" grep -q "$lost line(s) lost in 1 gap(s) in all" "$DAEMON_LOG"
counted() { [ "$(influx_scalar "SELECT last(lines_lost) FROM coldchaind_journal")" = "$lost" ]; }
check "coldchaind_journal.lines_lost = $lost" wait_for "lines_lost = $lost" -t 60 counted
expect_num "coldchaind_journal.gaps" "$(influx_scalar "SELECT last(gaps) FROM coldchaind_journal")" 1

# Everything else is delivered: the missing readings are exactly the cut ones.
last_in() { influx_has "SELECT value FROM temperature WHERE sensor='s1' AND value = $((N - 1))"; }
wait_for "the last reading in InfluxDB" -t 180 last_in || fail "the newest reading was not delivered"
INFLUX_EPOCH=s influx_query "SELECT value FROM temperature WHERE sensor='s1'" | influx_rows | cut -f4 >"$T/values"
read -r landed extra missing_not_cut <<<"$("$PY" - "$T/values" "$N" "$vals" <<'PYEOF'
import sys
have = {int(float(x)) for x in open(sys.argv[1]) if x.strip()}
n = int(sys.argv[2])
cut = {int(v) for v in sys.argv[3].split(",") if v not in ("", "-")}
print(len(have), len(have & cut), len(set(range(n)) - have - cut))
PYEOF
)"
expect_num "readings in InfluxDB ($N published, $nvals cut)" "$landed" $((N - nvals))
expect_num "cut readings that appear anyway" "$extra" 0
expect_num "readings missing that were not cut" "$missing_not_cut" 0
finish
