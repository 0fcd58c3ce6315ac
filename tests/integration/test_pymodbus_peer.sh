#!/bin/bash
# Interoperability with peers not written here: the daemon reads a pymodbus
# server (Debian's python3-pymodbus, tests/integration/pymodbus_server.py)
# and every value lands exactly in InfluxDB; and mbpoll, an independent
# client, reads the same floats and integers from our simulator that the
# simulator's map says it serves.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
"$PY" -c 'import pymodbus' 2>/dev/null || die "python3-pymodbus not installed for $PY"
command -v mbpoll >/dev/null || die "mbpoll not installed (tests/deps.sh)"

# ---- our simulator, read by mbpoll
printf '%s\n' \
	'1 holding 0 float32 CDAB 3.5' \
	'1 holding 2 float32 ABCD -1.25' \
	'1 input 5 int16 ABCD -185' \
	'1 coil 3 bool - 1' >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

# mbpoll_value ARGS...: one poll, prints the first value it read.
# -0: addresses are 0-based protocol addresses, like our map and config.
mbpoll_value() {
	timeout 30 mbpoll -m tcp -p "$SIM_PORT" -a 1 -0 -1 -o 2 "$@" 127.0.0.1 >"$T/mbpoll.out" 2>&1
	sed -n 's/^\[[0-9]*\]:[[:space:]]*\([^ ]*\).*/\1/p' "$T/mbpoll.out" | head -n 1
}
# mbpoll's float default is the low word first (CDAB); -B reads ABCD.
v=$(mbpoll_value -t 4:float -r 0 -c 1)
expect_num "mbpoll reads sim float32 CDAB holding 0" "$v" 3.5
v=$(mbpoll_value -t 4:float -B -r 2 -c 1)
expect_num "mbpoll reads sim float32 ABCD holding 2" "$v" -1.25
v=$(mbpoll_value -t 3 -r 5 -c 1)
# mbpoll shows a register as unsigned with the signed value in parentheses.
expect_num "mbpoll reads sim int16 input 5 (as uint16)" "$v" $((65536 - 185))
v=$(mbpoll_value -t 0 -r 3 -c 1)
expect_num "mbpoll reads sim coil 3" "$v" 1
[ "$FAILS" -eq 0 ] || sed 's/^/  | /' "$T/mbpoll.out"

# ---- a pymodbus server, read by the daemon
start_influxd
rm -f "$T/pymodbus.ready"
start_bg pymodbus "$T/pymodbus.log" "$PY" "$TESTS_DIR/integration/pymodbus_server.py" \
	--port 0 --ready-file "$T/pymodbus.ready"
PYMB_PID=$LAST_PID
pymodbus_ready() { [ -s "$T/pymodbus.ready" ] || ! pid_alive "$PYMB_PID"; }
wait_for "pymodbus server" pymodbus_ready
if ! pid_alive "$PYMB_PID" || [ ! -s "$T/pymodbus.ready" ]; then
	show_log "$T/pymodbus.log"
	die "pymodbus server did not start"
fi
PYMB_PORT=$(cat "$T/pymodbus.ready")

# Registers as pymodbus_server.py serves them (unit 7).
{
	config_head
	cat <<CONF
modbus = (
  { name = "peer";
    tcp = { host = "127.0.0.1"; port = $PYMB_PORT; };
    timeout = "1s";
    interval = "1s";
    devices = (
      { name = "pm-7"; unit = 7; room = "P";
        points = (
          { channel = "f32"; quantity = "temperature"; unit = "C";
            table = "holding"; address = 0; type = "float32"; order = "ABCD"; },
          { channel = "i16"; quantity = "temperature"; unit = "C";
            table = "holding"; address = 2; type = "int16"; },
          { channel = "u16"; quantity = "counter"; table = "holding"; address = 3; type = "uint16"; },
          { channel = "i32"; quantity = "counter"; table = "holding"; address = 4;
            type = "int32"; order = "CDAB"; },
          { channel = "u32"; quantity = "counter"; table = "holding"; address = 6;
            type = "uint32"; order = "ABCD"; },
          { channel = "scaled"; quantity = "temperature"; unit = "C";
            table = "input"; address = 0; type = "int16"; scale = 0.1; },
          { channel = "coil0"; quantity = "state"; table = "coil"; address = 0; type = "bool"; },
          { channel = "coil1"; quantity = "state"; table = "coil"; address = 1; type = "bool"; },
          { channel = "coil2"; quantity = "state"; table = "coil"; address = 2; type = "bool"; },
          { channel = "di0"; quantity = "state"; table = "discrete"; address = 0; type = "bool"; },
          { channel = "di1"; quantity = "state"; table = "discrete"; address = 1; type = "bool"; }
        ); }
    ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

expect_peer() { # MEAS CHANNEL EXPECTED
	local w="WHERE site='itest' AND room='P' AND sensor='pm-7' AND channel='$2'" row n min max
	if ! wait_for "pymodbus $2" influx_has "SELECT value FROM \"$1\" $w"; then
		fail "pymodbus peer $2: no value in InfluxDB"
		return
	fi
	row=$(influx_query "SELECT count(value), min(value), max(value) FROM \"$1\" $w" | influx_rows | cut -f4-6)
	read -r n min max <<<"$row"
	if num_eq "$min" "$3" && num_eq "$max" "$3"; then
		pass "pymodbus peer $1 $2 = $3 ($n points)"
	else
		fail "pymodbus peer $1 $2: expected every value = $3, got count=$n min=$min max=$max"
	fi
}
expect_peer temperature f32 21.75
expect_peer temperature i16 -42
expect_peer counter u16 65000
expect_peer counter i32 -2000000
expect_peer counter u32 3000000000
expect_peer temperature scaled -18.5
expect_peer state coil0 1
expect_peer state coil1 0
expect_peer state coil2 1
expect_peer state di0 0
expect_peer state di1 1

finish
