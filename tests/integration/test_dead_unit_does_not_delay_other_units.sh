#!/bin/bash
# A unit that never answers must not starve the healthy units on the same
# bus: units 1 and 2 keep their 1 s interval while unit 3 times out, and the
# dead unit costs at most one timeout per backoff step, not one per interval.
# Counted over a 20 s window of point timestamps in InfluxDB; the bounds are
# generous (80 % of the expected polls) so a loaded machine still passes.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

WINDOW=20

printf '%s\n' \
	'1 input 0 int16 ABCD 41' \
	'2 input 0 int16 ABCD 52' \
	'3 dead' >"$T/sim.map"

start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

STATS_INTERVAL=1s
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1";
    tcp = { host = "127.0.0.1"; port = $SIM_PORT; };
    timeout = "500ms";
    interval = "1s";
    backoff_max = "8s";
    devices = (
      { name = "u1"; unit = 1; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 0; type = "int16"; } ); },
      { name = "u2"; unit = 2; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 0; type = "int16"; } ); },
      { name = "u3"; unit = 3; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 0; type = "int16"; } ); }
    ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

# The window starts 3 s after the first good point (start-up settled) and is
# measured in the daemon's own timestamps.
wait_for "first point of u1" influx_has "SELECT value FROM temperature WHERE sensor='u1'" ||
	die "no point from unit 1"
first=$(influx_query "SELECT first(value) FROM temperature WHERE sensor='u1'" | influx_rows | cut -f3)
t0=$((first + 3))
t1=$((t0 + WINDOW))

# Wait for data past the window's end: points and a self-metrics sample.
window_done() {
	influx_has "SELECT value FROM temperature WHERE sensor='u1' AND time >= ${t1}s" &&
		influx_has "SELECT value FROM temperature WHERE sensor='u2' AND time >= ${t1}s" &&
		influx_has "SELECT timeouts FROM coldchaind_modbus WHERE sensor='u3' AND time >= ${t1}s"
}
wait_for "data past the ${WINDOW}s window" -t $((WINDOW + 60)) window_done ||
	fail "no points or self-metrics after the window end (t1=$t1)"

in_window="time >= ${t0}s AND time < ${t1}s"
min_good=$((WINDOW * 8 / 10))
for u in u1 u2; do
	n=$(influx_scalar "SELECT count(value) FROM temperature WHERE sensor='$u' AND $in_window")
	n=${n:-0}
	if [ "$n" -ge "$min_good" ]; then
		pass "$u: $n good points in ${WINDOW}s at a 1s interval (>= $min_good) beside a dead unit"
	else
		fail "$u: only $n good points in ${WINDOW}s at a 1s interval (want >= $min_good)"
	fi
	nq=$(influx_scalar "SELECT count(quality) FROM temperature WHERE sensor='$u' AND $in_window")
	expect_eq "$u: non-good samples in the window" "${nq:-0}" 0
done

# Polls counter of the healthy units grows with the interval, too.
counter_at() { # counter_at FIELD SENSOR EPOCH_S: last value at or before it
	influx_scalar "SELECT last($1) FROM coldchaind_modbus WHERE sensor='$2' AND time <= ${3}s"
}
for u in u1 u2; do
	a=$(counter_at polls "$u" "$t0")
	b=$(counter_at polls "$u" "$t1")
	if [ -n "$a" ] && [ -n "$b" ] && [ $((b - a)) -ge "$min_good" ]; then
		pass "$u: polls counter grew by $((b - a)) in ${WINDOW}s (>= $min_good)"
	else
		fail "$u: polls counter from '${a}' to '${b}' in ${WINDOW}s (want +$min_good)"
	fi
done

# Backoff 1, 2, 4, 8, 8 s... allows about 5 attempts in 20 s; one attempt
# per interval would be 20 (or more, with retries).  Half of that is the bound.
a=$(counter_at timeouts u3 "$t0")
b=$(counter_at timeouts u3 "$t1")
max_timeouts=$((WINDOW / 2))
if [ -z "$a" ] || [ -z "$b" ]; then
	fail "u3: no coldchaind_modbus timeouts counter (got '${a}', '${b}')"
elif [ $((b - a)) -ge 1 ] && [ $((b - a)) -le "$max_timeouts" ]; then
	pass "u3 (dead): $((b - a)) timeouts in ${WINDOW}s (1..$max_timeouts: backoff, not one per interval)"
else
	fail "u3 (dead): $((b - a)) timeouts in ${WINDOW}s, want 1..$max_timeouts"
fi
nq=$(influx_scalar "SELECT count(quality) FROM temperature WHERE sensor='u3' AND quality='comm_error'")
if [ "${nq:-0}" -ge 1 ]; then
	pass "u3 (dead): its gap is recorded ($nq comm_error samples)"
else
	fail "u3 (dead): no comm_error sample recorded"
fi

finish
