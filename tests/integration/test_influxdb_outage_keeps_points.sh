#!/bin/bash
# InfluxDB going away for ~15 s loses nothing: the daemon keeps polling at
# 1 s, holds the points, and once the same server is back (same port, same
# data) every reading taken during the outage is there, with its original
# timestamp.  The reference for "every reading" is the daemon's file output,
# which does not depend on InfluxDB; the poll counter is a second witness.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

OUTAGE=15
FILE_OUT=$T/points.lp
printf '%s\n' '1 input 0 int16 ABCD 37' >"$T/sim.map"

start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
STATS_INTERVAL=1s
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; };
    timeout = "500ms"; interval = "1s";
    devices = (
      { name = "dev-1"; unit = 1; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 0; type = "int16"; } ); }
    ); }
);
outputs = {
  influxdb = (
    { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 1000; flush = "1s";
      backoff_max = "2s"; }
  );
  file = ( { name = "archive"; path = "$FILE_OUT"; } );
};
CONF
} >"$DAEMON_CONF"
start_daemon

q_dev="SELECT value FROM temperature WHERE sensor='dev-1'"
wait_for "points in InfluxDB" influx_has "$q_dev" || die "no points before the outage"
wait_for "self-metrics in InfluxDB" influx_has "SELECT polls FROM coldchaind_modbus WHERE sensor='dev-1'" ||
	die "no coldchaind_modbus self-metrics before the outage"
pass "points and self-metrics flow before the outage"

# ---- outage: stop the server by its PID, keep it down until the daemon
# has taken OUTAGE seconds' worth of readings (seen in its file output).
t_down_ns=$(date +%s%N)
t_down=$((t_down_ns / 1000000000))
stop_influxd
influx_ping && die "InfluxDB still answers after it was stopped"
last_file_ts() { lp_timestamps "$FILE_OUT" temperature dev-1 | tail -n 1; }
outage_long_enough() {
	local ts
	ts=$(last_file_ts)
	[ -n "$ts" ] && [ $((ts / 1000000000)) -ge $((t_down + OUTAGE)) ]
}
wait_for "${OUTAGE}s of readings during the outage" -t $((OUTAGE + 60)) outage_long_enough ||
	fail "the daemon stopped reading while InfluxDB was down (file output has nothing past $((t_down + OUTAGE)))"
pid_alive "$DAEMON_PID" || die "the daemon died while InfluxDB was down"

# ---- back: same port, same data directory.
t_up=$(date +%s)
start_influxd
pass "InfluxDB restarted on the same port after a ${OUTAGE}s+ outage"

# Everything the daemon read up to the restart must arrive (it retries with
# its own backoff: allow for it).
file_upto_up() { lp_timestamps "$FILE_OUT" temperature dev-1 | awk -v up="$t_up" '$1 < up * 1000000000'; }
all_arrived() {
	local missing
	missing=$(comm -23 <(file_upto_up | sort) <(influx_timestamps "$q_dev" | sort))
	[ -z "$missing" ]
}
wait_for "every reading taken up to the restart in InfluxDB" -t 120 all_arrived
missing=$(comm -23 <(file_upto_up | sort) <(influx_timestamps "$q_dev" | sort))
n_outage=$(file_upto_up | awk -v d="$t_down" '$1 >= d * 1000000000' | grep -c .)
if [ -z "$missing" ]; then
	pass "no gap: all $n_outage readings taken during the outage reached InfluxDB with their timestamps"
else
	fail "readings lost across the outage ($(echo "$missing" | wc -l) missing), e.g. $(echo "$missing" | head -n 3 | tr '\n' ' ')"
fi
min_outage=$((OUTAGE * 8 / 10))
if [ "$n_outage" -ge "$min_outage" ]; then
	pass "the daemon kept polling during the outage: $n_outage readings in $((t_up - t_down))s (>= $min_outage)"
else
	fail "only $n_outage readings during a $((t_up - t_down))s outage at a 1s interval (want >= $min_outage)"
fi

# The points in InfluxDB match the poll counter over the outage (+-2 for
# the polls in flight at the two counter samples).
counter_at() { # FIELD TIME_NS OP: "TIME_NS VALUE" of the counter sample at/before (<=) or at/after (>=) it
	local fn=last
	[ "$3" = "<=" ] || fn=first
	INFLUX_EPOCH=ns influx_query "SELECT $fn($1) FROM coldchaind_modbus WHERE sensor='dev-1' AND time $3 $2" |
		influx_rows | cut -f3,4
}
t_after_ns=$(((t_up + 1) * 1000000000))
counters_after_up() { [ -n "$(counter_at polls "$t_after_ns" '>=')" ]; }
wait_for "a self-metrics sample after the restart" counters_after_up
read -r ta pa <<<"$(counter_at polls "$t_down_ns" '<=')"
read -r tb pb <<<"$(counter_at polls "$t_after_ns" '>=')"
if [ -n "${pa:-}" ] && [ -n "${pb:-}" ]; then
	npts=$(influx_scalar "SELECT count(value) FROM temperature WHERE sensor='dev-1' AND time > ${ta} AND time <= ${tb}")
	d=$((pb - pa - ${npts:-0}))
	if [ "${d#-}" -le 2 ]; then
		pass "points in InfluxDB (${npts:-0}) match the polls counter (+$((pb - pa))) from ${ta} to ${tb}"
	else
		fail "points in InfluxDB (${npts:-0}) vs polls counter (+$((pb - pa))) from ${ta} to ${tb}: differ by $d"
	fi
else
	fail "no coldchaind_modbus polls counter around the outage (got '${pa:-}', '${pb:-}')"
fi

dropped=$(influx_scalar "SELECT max(dropped) FROM coldchaind_output WHERE \"output\"='itest'")
expect_num "coldchaind_output dropped for the InfluxDB output" "${dropped:-missing}" 0

finish
