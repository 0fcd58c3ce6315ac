#!/bin/bash
# The durability contract end to end, against a real influxd.
# 1. InfluxDB stopped for 30 s while 500 points/s flow (one Modbus device,
#    50 points every 100 ms: >= 10,000 points journaled meanwhile), then
#    started: every point read is in InfluxDB, once (count and spot values).
# 2. InfluxDB down again, coldchaind killed with SIGKILL mid-stream and
#    restarted: every point read before the kill reaches InfluxDB.
# The reference is the daemon's own file output (it reads the same journal
# but never waits for InfluxDB); the counts compare unique (series, time).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

OUTAGE=30
NPTS=50
FILE_OUT=$T/points.lp
: >"$T/sim.map"
for i in $(seq 0 $((NPTS - 1))); do echo "1 input $i int16 ABCD $((i * 10 + 1))" >>"$T/sim.map"; done

start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
points=""
for i in $(seq 0 $((NPTS - 1))); do
	points="$points{ channel = \"p$i\"; quantity = \"temperature\"; table = \"input\"; address = $i; type = \"int16\"; },"
done
STATS_INTERVAL=2s
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; timeout = "1s"; interval = "100ms";
    devices = ( { name = "dev-1"; unit = 1; room = "A"; points = ( ${points%,} ); } ); }
);
outputs = {
  influxdb = ( { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 5000; flush = "500ms";
                 backoff_max = "2s"; } );
  file = ( { name = "archive"; path = "$FILE_OUT"; } );
};
journal = { max_size = "256M"; segment_size = "4M"; fsync = "1s"; };
CONF
} >"$DAEMON_CONF"
start_daemon

# count_file LIMIT_NS: unique readings of dev-1 in the file output up to LIMIT_NS.
count_file() {
	"$PY" - "$FILE_OUT" "$1" <<'PYEOF'
import sys
path, limit = sys.argv[1], int(sys.argv[2])
seen = set()
for line in open(path, errors="replace"):
    parts = line.rstrip("\n").split(" ")
    if len(parts) < 3 or not parts[0].startswith("temperature,") or "sensor=dev-1" not in parts[0]:
        continue
    if parts[1].startswith("value=") and int(parts[-1]) <= limit:
        seen.add((parts[0], parts[-1]))
print(len(seen))
PYEOF
}
# dup_file LIMIT_NS: good readings of dev-1 in the file output up to
# LIMIT_NS written more than once (same series and ns time).
dup_file() {
	"$PY" - "$FILE_OUT" "$1" <<'PYEOF'
import sys, collections
path, limit = sys.argv[1], int(sys.argv[2])
n = collections.Counter()
for line in open(path, errors="replace"):
    parts = line.rstrip("\n").split(" ")
    if len(parts) < 3 or not parts[0].startswith("temperature,") or "sensor=dev-1" not in parts[0]:
        continue
    if parts[1].startswith("value=") and int(parts[-1]) <= limit:
        n[(parts[0], parts[-1])] += 1
dups = [(k, c) for k, c in n.items() if c > 1]
for (series, ts), c in sorted(dups, key=lambda x: x[0][1])[:5]:
    print("  %s %s: %d times" % (series, ts, c), file=sys.stderr)
print(len(dups))
PYEOF
}
count_influx() {
	local n
	n=$(influx_scalar "SELECT count(value) FROM temperature WHERE sensor='dev-1' AND time <= $1")
	echo "${n:-0}"
}
all_landed() { [ "$(count_influx "$1")" = "$(count_file "$1")" ]; }

wait_for "points in InfluxDB" influx_has "SELECT value FROM temperature WHERE sensor='dev-1'" ||
	die "no points before the outage"
pass "points flow before the outage"

# ---- 1. a 30 s outage with >= 10,000 points
t_down=$(date +%s%N)
stop_influxd
outage_done() {
	local now
	now=$(date +%s%N)
	[ $(((now - t_down) / 1000000000)) -ge "$OUTAGE" ] &&
		[ $(($(count_file "$now") - $(count_file "$t_down"))) -ge 10000 ]
}
wait_for "${OUTAGE}s and 10,000 points during the outage" -t $((OUTAGE + 120)) outage_done ||
	fail "fewer than 10,000 points read during the outage"
t_up=$(date +%s%N)
n_outage=$(($(count_file "$t_up") - $(count_file "$t_down")))
start_influxd
if wait_for "every point read up to the restart in InfluxDB" -t 180 all_landed "$t_up"; then
	pass "after a $(((t_up - t_down) / 1000000000))s outage every point is in InfluxDB: $(count_file "$t_up") in all, $n_outage read during the outage"
else
	fail "points lost across the outage: InfluxDB has $(count_influx "$t_up"), the file output $(count_file "$t_up")"
fi
expect_num "spot value p7" "$(influx_scalar "SELECT last(value) FROM temperature WHERE sensor='dev-1' AND channel='p7'")" 71
expect_num "spot value p49" "$(influx_scalar "SELECT first(value) FROM temperature WHERE sensor='dev-1' AND channel='p49' AND time >= $t_down")" 491
# "Once": no reading is in the journal twice.  InfluxDB would merge two
# copies of one point (same series and ns time), so they are counted in the
# file output, which writes every journaled point once.  Two readings of a
# channel less than 1 ms apart are legitimate and not checked against: a
# slot whose answer comes after the next slot fell due (a busy machine, a
# slow peer) is followed at once by that next slot's poll, one round trip
# later; two requests, two readings, one per interval.  A copy resent with
# another time would be in InfluxDB but not in the file: all_landed (equal
# counts) catches it.
expect_num "no reading twice in the journal (file output, same channel and ns time)" "$(dup_file "$t_up")" 0

# ---- 2. SIGKILL mid-stream (InfluxDB down, so much is pending), restart
stop_influxd
t_k0=$(date +%s%N)
grown() { [ $(($(count_file "$(date +%s%N)") - $(count_file "$t_k0"))) -ge 2000 ]; }
wait_for "2000 more points read" -t 120 grown || fail "the daemon stopped reading"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
forget_pid "$DAEMON_PID"
DAEMON_PID=
t_kill=$(date +%s%N)
DAEMON_LOG=$T/coldchaind-after-kill.log
start_daemon
start_influxd
read_before=$(count_file "$t_kill")
if wait_for "every point read before the SIGKILL in InfluxDB" -t 180 all_landed "$t_kill"; then
	pass "after SIGKILL and restart every point read before the kill is in InfluxDB ($read_before)"
else
	fail "points lost to SIGKILL: InfluxDB has $(count_influx "$t_kill"), the file output $(count_file "$t_kill")"
fi
check "the restarted daemon found no damage in the journal" bash -c "! grep -q -E 'corrupt|torn' '$DAEMON_LOG'"
dropped=$(influx_scalar "SELECT max(dropped_oldest) FROM coldchaind_journal")
expect_num "coldchaind_journal dropped_oldest" "${dropped:-missing}" 0

finish
