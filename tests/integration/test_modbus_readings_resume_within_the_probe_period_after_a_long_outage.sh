#!/bin/bash
# Recovery is prompt whatever the outage's length: with the default
# backoff_max (max(interval, 5 s)), a unit that fell silent for 45 s and a
# gateway that was gone for 45 s are probed at least every 5 s, so readings
# return within that probe period (bound checked: 5 s + 2.5 s of tolerance
# for a loaded machine; a 5 min cap, as before, took 15 s or more here).
# Times: from the moment the simulator answers again (wall clock, taken
# after it is listening) to the first new reading's own timestamp in InfluxDB.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

OUTAGE=45
BOUND_MS=7500

printf '%s\n' '1 input 0 int16 ABCD 41' >"$T/sim.map"
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
PORT=$SIM_PORT
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1";
    tcp = { host = "127.0.0.1"; port = $PORT; };
    timeout = "500ms";
    interval = "1s";
    devices = (
      { name = "u1"; unit = 1; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; table = "input"; address = 0; type = "int16"; } ); }
    ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon
check "backoff_max defaults to max(interval, 5s)" grep -q 'backoff_max = "5s"' <("$COLDCHAIND" -p -c "$DAEMON_CONF")

wait_for "a good reading" influx_has "SELECT value FROM temperature WHERE sensor='u1'" ||
	die "no reading before the outages"

now_ns() { date +%s%N; }
# comm_errors_since NS: the outage has lasted OUTAGE intervals (the backoff has grown).
long_outage() {
	[ "$(influx_count "SELECT count(quality) FROM temperature WHERE sensor='u1' AND quality='comm_error' AND time >= $1")" \
		-ge "$OUTAGE" ]
}
# resumed_within DESC VALUE SINCE_NS: the first reading of VALUE came within BOUND_MS.
resumed_within() {
	local desc=$1 value=$2 since=$3 first ms
	wait_for "reading $value" -t 400 influx_has "SELECT value FROM temperature WHERE sensor='u1' AND value = $value" ||
		{ fail "$desc: no reading $value after it came back"; return; }
	first=$(influx_timestamps "SELECT value FROM temperature WHERE sensor='u1' AND value = $value" | head -n 1)
	ms=$(((first - since) / 1000000))
	if [ "$ms" -le "$BOUND_MS" ]; then
		pass "$desc: readings resumed $ms ms after it came back (<= $BOUND_MS)"
	else
		fail "$desc: readings resumed only $ms ms after it came back (want <= $BOUND_MS)"
	fi
}

# 1. The unit falls silent behind a gateway that stays up (requests time out).
silent_at=$(now_ns)
printf '%s\n' '1 dead' >"$T/sim.map"
kill -HUP "$SIM_PID"
wait_for "a ${OUTAGE}s silence" -t $((OUTAGE * 3 + 60)) long_outage "$silent_at" ||
	die "no ${OUTAGE} comm_error samples while the unit was silent"
printf '%s\n' '1 input 0 int16 ABCD 42' >"$T/sim.map"
back_at=$(now_ns)
kill -HUP "$SIM_PID"
resumed_within "silent unit" 42 "$back_at"

# 2. The gateway goes away (connection refused) and comes back.
stop_pid "$SIM_PID" 10 >/dev/null
SIM_PID=
down_at=$(now_ns)
wait_for "a ${OUTAGE}s outage" -t $((OUTAGE * 3 + 60)) long_outage "$down_at" ||
	die "no ${OUTAGE} comm_error samples while the gateway was gone"
printf '%s\n' '1 input 0 int16 ABCD 43' >"$T/sim.map"
start_sim sim2 --tcp "127.0.0.1:$PORT" --map "$T/sim.map"
back_at=$(now_ns)
[ "$SIM_PORT" = "$PORT" ] || die "the simulator did not get port $PORT back (got $SIM_PORT)"
resumed_within "gateway" 43 "$back_at"
check "the daemon is still running" pid_alive "$DAEMON_PID"
finish
