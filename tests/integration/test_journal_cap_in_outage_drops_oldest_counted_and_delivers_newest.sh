#!/bin/bash
# Journal cap reached during an outage: influxd is stopped (by PID) and
# 40,000 numbered MQTT readings (value = 0..39999) are published into a
# journal capped at 2 MiB (1 MiB segments), far more than it holds.  The
# oldest segments go; once influxd is back:
# - the newest readings are all there, the oldest are not, and the ones that
#   landed are one contiguous run ending at the last one published;
# - what InfluxDB lacks is exactly what the daemon says it dropped: the
#   `itest lost N points` log line(s), coldchaind_output.dropped and
#   coldchaind_journal.dropped_oldest all agree with the number of lines the
#   file output (which never falls behind, so loses nothing) has and
#   InfluxDB has not — and those lines are one run, the oldest of the outage.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

N=40000
FILE_OUT=$T/archive.lp
STATS_INTERVAL=1s
start_outage_daemon cap 2M "$FILE_OUT"
pass "points flow before the outage"

stop_influxd
seq 0 $((N - 1)) | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t cap/A/s1/temperature -l ||
	fail "mosquitto_pub could not publish the $N readings"
in_file() { [ "$(grep -c '^temperature,.*sensor=s1.* value=' "$FILE_OUT" 2>/dev/null)" -ge "$N" ]; }
wait_for "all $N readings journaled (file output)" -t 180 in_file || fail "the file output lacks readings"
check "the cap was reached: a log line names the output and the points it lost" \
	grep -q -E "journal: max_size 2M reached: .*itest lost [0-9]+ points" "$DAEMON_LOG"
check "the file output, never behind, lost nothing" bash -c "! grep -q 'archive lost' '$DAEMON_LOG'"
segs=$(find "$T/state/journal" -name '*.seg' | wc -l)
bytes=$(du -cb "$T/state/journal"/*.seg | tail -n 1 | cut -f1)
check "the journal stayed within max_size ($segs segments, $bytes bytes)" [ "$bytes" -le $((2 * 1024 * 1024)) ]

start_influxd
last_in() { influx_has "SELECT value FROM temperature WHERE sensor='s1' AND value = $((N - 1))"; }
wait_for "the last reading in InfluxDB" -t 180 last_in || fail "the newest reading was not delivered"
# the daemon's own count of what itest lost, once it has stopped moving
dropped_now() {
	influx_scalar "SELECT last(dropped) FROM coldchaind_output WHERE output='itest'"
}
settled() {
	local a
	a=$(dropped_now)
	[ -n "$a" ] && [ "$a" != 0 ] && sleep 2.5 && [ "$(dropped_now)" = "$a" ]
}
wait_for "coldchaind_output.dropped settles" -t 60 settled || fail "no dropped self-metric for itest"
dropped=$(dropped_now)
journal_dropped=$(influx_scalar "SELECT last(dropped_oldest) FROM coldchaind_journal")
# The log is rate-limited (one line per 30 s): what it held back is summed
# up once it allows, so its last line carries the full running total.
log_total() { grep -o -E '[0-9]+ points dropped in all so far' "$DAEMON_LOG" | tail -n 1 | cut -d' ' -f1; }
log_total_is() { [ "$(log_total)" = "$1" ]; }
wait_for "the log's running total reaches $dropped" -t 90 log_total_is "$dropped"
total_logged=$(log_total)
expect_num "the log's running total = coldchaind_output.dropped" "${total_logged:-none}" "$dropped"
check "the last cap log line names the output and its total" \
	grep -q -E "itest lost $dropped points in all; $dropped points dropped in all so far" "$DAEMON_LOG"

# The readings as values: the ones InfluxDB lacks must be one run [lo, hi]
# at the start of the outage; everything after it landed; before it only
# what the output had already read into its batch (in memory, delivered).
INFLUX_EPOCH=s influx_query "SELECT value FROM temperature WHERE sensor='s1'" | influx_rows | cut -f4 >"$T/values"
read -r cnt lo hi before after <<<"$("$PY" - "$T/values" "$N" <<'PYEOF'
import sys
vals = {int(float(x)) for x in open(sys.argv[1]) if x.strip()}
n = int(sys.argv[2])
miss = [v for v in range(n) if v not in vals]
lo, hi = (miss[0], miss[-1]) if miss else (-1, -1)
contiguous = miss == list(range(lo, hi + 1))
print(len(vals), lo, hi if contiguous else "gaps", lo, n - 1 - hi)
PYEOF
)"
echo "  ($N published, $cnt landed: readings 0..$((lo - 1)) were in the output's batch at the outage, $lo..$hi dropped, the last $after delivered; itest dropped $dropped, journal dropped_oldest $journal_dropped)"
check "the oldest readings were dropped ($((N - cnt)) of $N)" [ "$cnt" -lt "$N" ]
check "the dropped readings are one run ($lo..$hi)" [ "$hi" != gaps ]
# The read-ahead holds two batches (2 x 1000) but takes whole journal
# records, and one record holds every message of an MQTT read burst (at most
# 1024, drivers/mqtt.c BATCH_MSGS): the last record read may carry it past.
check "at most two batches and one record read before the outage landed ($before)" [ "$before" -le $((2000 + 1024)) ]
check "the newest readings all landed ($after after the dropped run, at least a 1 MiB segment of them)" [ "$after" -ge 8000 ]
expect_num "the newest reading landed: max(value)" "$(influx_scalar "SELECT max(value) FROM temperature WHERE sensor='s1'")" $((N - 1))
n_first=$(influx_count "SELECT count(value) FROM temperature WHERE sensor='s1' AND value >= $lo AND value <= $hi")
expect_eq "readings $lo..$hi in InfluxDB" "$n_first" 0
n_last=$(influx_count "SELECT count(value) FROM temperature WHERE sensor='s1' AND value >= $((N - 1000))")
expect_eq "readings $((N - 1000))..$((N - 1)) in InfluxDB" "$n_last" 1000

# Every line of the file output looked up in InfluxDB: the missing ones must
# be one run (in journal order) and as many as the daemon counted.
INFLUX_EPOCH=ns
for m in $(cut -d, -f1 "$FILE_OUT" | cut -d' ' -f1 | sort -u); do
	influx_query "SELECT * FROM \"$m\" GROUP BY *" >"$T/q-$m.json"
done
read -r missing runs first_missing_val <<<"$("$PY" - "$FILE_OUT" "$T" $((N - 1)) <<'PYEOF'
import glob, json, sys
path, tdir, n = sys.argv[1:]
have = set()
for f in glob.glob(tdir + "/q-*.json"):
    d = json.load(open(f))
    for r in d.get("results", []):
        for s in r.get("series", []):
            tags = ",".join("%s=%s" % kv for kv in sorted((s.get("tags") or {}).items()) if kv[1] != "")
            for v in s["values"]:
                have.add((s["name"], tags, int(v[0])))
missing, runs, prev_missing, first = 0, 0, False, "-"
lines = open(path).read().splitlines()
# up to the last reading published: what was journaled after it (self-metrics)
# may still be on its way to InfluxDB
last = max(i for i, l in enumerate(lines) if " value=%s " % n in l or " value=%s.0 " % n in l)
for line in lines[:last + 1]:
    parts = line.split(" ")
    key = parts[0].split(",")
    k = (key[0], ",".join(sorted(key[1:])), int(parts[-1]))
    if k in have:
        prev_missing = False
        continue
    missing += 1
    if first == "-" and parts[1].startswith("value="):
        first = parts[1][6:]
    if not prev_missing:
        runs += 1
    prev_missing = True
print(missing, runs, first)
PYEOF
)"
expect_num "coldchaind_output.dropped for itest = lines the file output has and InfluxDB lacks" "$dropped" "$missing"
expect_num "coldchaind_journal.dropped_oldest = coldchaind_output.dropped (only itest lost)" "$journal_dropped" "$dropped"
expect_eq "the missing lines are one run in journal order" "$runs" 1
expect_num "the first missing reading is the first of the dropped run" "$first_missing_val" "$lo"
check "the dropped lines are the dropped readings plus the self-metrics between them" \
	[ "$missing" -ge $((hi - lo + 1)) ] && [ "$missing" -le $((hi - lo + 1 + 200)) ]

finish
