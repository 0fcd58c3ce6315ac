#!/bin/bash
# End to end through the Modbus simulator and a real InfluxDB: room A's air
# temperature rises past the lychee warn limit; the temp_high alert lands in
# InfluxDB only after the on-delay; kill -9 keeps it active (restored, not
# re-raised); the return below limit - deadband clears it.  The loaded lot's
# shelf_life points carry the consumed fraction an independent Arrhenius
# computation expects, and consumed life continues across the kill -9.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

map() { printf '1 input 0 int16 ABCD %s\n1 input 1 int16 ABCD 920\n' "$1" >"$T/sim.map"; }
map 40 # 4.0 C
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

{
	config_head
	cat <<CONF
timezone = "Asia/Ho_Chi_Minh";
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "4s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature"; humidity = "th-a1/humidity";
  lots = ( { id = "LOT-1"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; } ); } );
alarms = { shelf_life_interval = "1s"; rate_limit = 0.0; stuck_after = "0s"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "500ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; },
                 { channel = "humidity"; table = "input"; address = 1; type = "int16"; scale = 0.1; unit = "%"; } ); } ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

W="WHERE room='A' AND rule='temp_high'"
SL="WHERE lot='LOT-1' AND product='lychee' AND profile='lychee' AND profile_version='itest-1' AND room='A'"

# --- shelf life at 4.0 C: consumed = observed_h * r(4) / 672 (independently)
wait_for "shelf_life with observed time" influx_has "SELECT consumed FROM shelf_life $SL AND observed_h > 0.0005" ||
	die "no shelf_life points with observed time"
reply=$(influx_query "SELECT last(consumed), observed_h FROM shelf_life $SL")
consumed=$(json_eval 'd["results"][0]["series"][0]["values"][0][1]' <<<"$reply")
observed=$(json_eval 'd["results"][0]["series"][0]["values"][0][2]' <<<"$reply")
expected=$("$PY" -c "
import math
r = math.exp(-(75000/8.314462618)*(1/(4.0+273.15) - 1/(3.5+273.15)))
print($observed * r / (28*24))")
if "$PY" -c "import sys; sys.exit(0 if abs($consumed - $expected) <= 1e-9 + 1e-6*abs($expected) else 1)"; then
	pass "shelf_life consumed $consumed = observed_h $observed x r(4 C) / 672 h ($expected)"
else
	fail "shelf_life consumed $consumed, expected $expected (observed_h $observed)"
fi

# --- excursion to 8.0 C: alert only after the 4 s on-delay
map 80
kill -HUP "$SIM_PID"
wait_for "a reading of 8 C" influx_has "SELECT value FROM temperature WHERE sensor='th-a1' AND value > 7.9" ||
	die "the simulator did not serve the new value"
INFLUX_EPOCH=ms
first_hot=$(influx_scalar "SELECT first(value) FROM temperature WHERE sensor='th-a1' AND value > 7.9" )
t_hot=$(influx_query "SELECT first(value) FROM temperature WHERE sensor='th-a1' AND value > 7.9" | json_eval 'd["results"][0]["series"][0]["values"][0][0]')
wait_for "temp_high raise in InfluxDB" -t 60 influx_has "SELECT state FROM alert $W AND event='raise'" ||
	die "no temp_high raise in InfluxDB"
t_raise=$(influx_query "SELECT state FROM alert $W AND event='raise'" | json_eval 'd["results"][0]["series"][0]["values"][0][0]')
state=$(influx_scalar "SELECT state FROM alert $W AND event='raise'")
sev=$(influx_query "SELECT state, severity FROM alert $W AND event='raise'" | json_eval 'd["results"][0]["series"][0]["values"][0][2]')
if [ $((t_raise - t_hot)) -ge 4000 ]; then
	pass "temp_high raised $((t_raise - t_hot)) ms after the first reading above 7 C ($first_hot): not before the on-delay"
else
	fail "temp_high raised $((t_raise - t_hot)) ms after the first hot reading: before the 4 s on-delay"
fi
expect_eq "raise state" active "$state"
expect_eq "raise severity" warning "$sev"
INFLUX_EPOCH=s

# --- kill -9: the alarm stays active (restored), is not raised again
consumed_before=$(influx_scalar "SELECT last(consumed) FROM shelf_life $SL")
sleep 1.5 # one snapshot tick after the raise
kill -9 "$DAEMON_PID"
wait_for "coldchaind gone" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
forget_pid "$DAEMON_PID"
: >"$DAEMON_LOG"
start_daemon
if wait_for "restored line" file_has "alarm A/temp_high: restored active" "$DAEMON_LOG"; then
	pass "after kill -9 the alarm is restored active"
else
	fail "after kill -9 no 'alarm A/temp_high: restored active' line"
	show_log "$DAEMON_LOG"
fi
# A time in a line meant for people is the site's (timezone, UTC+7 here)
# with its offset, not UTC or epoch milliseconds (issue 17 item 8).
since=$(sed -n 's/.*alarm A\/temp_high: restored active (active since \(.*\))$/\1/p' "$DAEMON_LOG" | head -1)
check "the restored line gives the raise time in the site's zone with its offset ($since)" "$PY" -c '
import datetime, sys
t = datetime.datetime.fromisoformat(sys.argv[1])
age = (datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()
sys.exit(0 if t.utcoffset() == datetime.timedelta(hours=7) and 0 <= age < 600 else 1)' "$since"
sleep 3
n=$(influx_scalar "SELECT count(state) FROM alert $W AND event='raise'")
expect_eq "raise events after the restart" 1 "$n"
consumed_after=$(influx_scalar "SELECT last(consumed) FROM shelf_life $SL")
if "$PY" -c "import sys; sys.exit(0 if $consumed_after >= $consumed_before else 1)"; then
	pass "consumed life continues across kill -9 ($consumed_before -> $consumed_after)"
else
	fail "consumed life went back across kill -9 ($consumed_before -> $consumed_after)"
fi

# --- back to 6.0 C (below 7 - 0.5 deadband): cleared
map 60
kill -HUP "$SIM_PID"
if wait_for "temp_high clear" -t 60 influx_has "SELECT state FROM alert $W AND event='clear'"; then
	pass "temp_high cleared below limit - deadband: $(influx_scalar "SELECT state FROM alert $W AND event='clear'")"
else
	fail "temp_high not cleared"
	show_log "$DAEMON_LOG"
fi

stop_daemon && pass "SIGTERM: exit 0" || fail "SIGTERM: exit status $?"
finish
