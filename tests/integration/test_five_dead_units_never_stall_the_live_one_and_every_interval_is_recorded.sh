#!/bin/bash
# One answering unit and five silent ones on one TCP gateway, polled every
# 1 s with a 500 ms timeout, for 60 s: the silent units are probed only in
# the bus's slack (or once a cycle), so the live unit keeps its cadence -
# at least 59 readings and no gap over 1.5 s - and every interval of every
# silent unit still records one comm_error sample (58..62 in 60 s, no gap of
# two intervals).  Measured in the daemon's timestamps read back from
# InfluxDB; the window starts at the live unit's first reading.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

WINDOW=60
DEAD="2 3 4 5 6"

{
	echo '1 input 0 int16 ABCD 41'
	for u in $DEAD; do echo "$u dead"; done
} >"$T/sim.map"

start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

dev() { # dev NAME UNIT
	printf '      { name = "%s"; unit = %s; room = "A";\n' "$1" "$2"
	printf '        points = ( { channel = "t"; quantity = "temperature"; unit = "C"; table = "input"; address = 0; type = "int16"; } ); }'
}
{
	config_head
	echo 'modbus = ('
	echo "  { name = \"gw\"; tcp = { host = \"127.0.0.1\"; port = $SIM_PORT; };"
	echo '    timeout = "500ms"; interval = "1s";'
	echo '    devices = ('
	dev live 1
	for u in $DEAD; do
		echo ','
		dev "d$u" "$u"
	done
	echo
	echo '    ); }'
	echo ');'
	config_outputs
} >"$DAEMON_CONF"
start_daemon

wait_for "first reading of the live unit" influx_has "SELECT value FROM temperature WHERE sensor='live'" ||
	die "no reading from the live unit"
t0=$(influx_timestamps "SELECT value FROM temperature WHERE sensor='live'" | head -n 1)
t1=$((t0 + WINDOW * 1000000000))
in_window="time >= ${t0} AND time < ${t1}"

window_done() {
	influx_has "SELECT value FROM temperature WHERE sensor='live' AND time >= ${t1}" || return 1
	for u in $DEAD; do
		influx_has "SELECT quality FROM temperature WHERE sensor='d$u' AND quality='comm_error' AND time >= ${t1}" ||
			return 1
	done
}
wait_for "data past the ${WINDOW}s window" -t $((WINDOW + 120)) window_done ||
	fail "no data past the window's end from every unit"

# gaps FILE: count, then the longest gap in ms between consecutive ns timestamps.
gaps() {
	"$PY" -c 'import sys
ts = [int(l) for l in open(sys.argv[1]) if l.strip()]
g = max((b - a for a, b in zip(ts, ts[1:])), default=0)
print(len(ts), g // 1000000)' "$1"
}

influx_timestamps "SELECT value FROM temperature WHERE sensor='live' AND $in_window" >"$T/live.ts"
read -r n gap < <(gaps "$T/live.ts")
if [ "$n" -ge $((WINDOW - 1)) ]; then
	pass "live unit: $n readings in ${WINDOW}s at 1s beside five silent units (>= $((WINDOW - 1)))"
else
	fail "live unit: only $n readings in ${WINDOW}s at 1s beside five silent units (want >= $((WINDOW - 1)))"
fi
if [ "$gap" -le 1500 ]; then
	pass "live unit: longest gap between readings $gap ms (<= 1500)"
else
	fail "live unit: a gap of $gap ms between readings (want <= 1500)"
fi
nq=$(influx_count "SELECT count(quality) FROM temperature WHERE sensor='live' AND $in_window")
expect_eq "live unit: non-good samples in the window" "$nq" 0

for u in $DEAD; do
	influx_timestamps "SELECT quality FROM temperature WHERE sensor='d$u' AND quality='comm_error' AND $in_window" \
		>"$T/d$u.ts"
	read -r n gap < <(gaps "$T/d$u.ts")
	if [ "$n" -ge $((WINDOW - 2)) ] && [ "$n" -le $((WINDOW + 2)) ] && [ "$gap" -lt 2000 ]; then
		pass "silent unit $u: $n comm_error samples in ${WINDOW}s (one per interval), longest gap $gap ms"
	else
		fail "silent unit $u: $n comm_error samples in ${WINDOW}s, longest gap $gap ms" \
			"(want $((WINDOW - 2))..$((WINDOW + 2)), one per interval, no gap >= 2000 ms)"
	fi
	ngood=$(influx_count "SELECT count(value) FROM temperature WHERE sensor='d$u'")
	expect_eq "silent unit $u: readings with a value" "$ngood" 0
done
check "the daemon is still running" pid_alive "$DAEMON_PID"
finish
