#!/bin/bash
# Modbus RTU end to end over a serial line: socat joins two ptys, the
# simulator serves RTU on one end, the daemon's RTU bus polls the other.
# Unit 1 answers with exact values; unit 2 is silent (declared dead in the
# map, as an absent address on a serial line is) and lands as comm_error.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
command -v socat >/dev/null || die "socat not installed (tests/deps.sh)"

printf '%s\n' \
	'1 holding 0 float32 CDAB 3.5' \
	'1 input 0 int16 ABCD -185' \
	'1 coil 0 bool - 1' \
	'2 dead' >"$T/sim.map"

start_influxd
start_bg socat "$T/socat.log" socat -d -d \
	"pty,raw,echo=0,link=$T/ttyA" "pty,raw,echo=0,link=$T/ttyB"

links_ready() { [ -e "$T/ttyA" ] && [ -e "$T/ttyB" ]; }
wait_for "socat pty links" links_ready || {
	show_log "$T/socat.log"
	die "socat did not create $T/ttyA and $T/ttyB"
}

start_sim sim --rtu "$T/ttyA" --baud 9600 --parity N --map "$T/sim.map"

{
	config_head
	cat <<CONF
modbus = (
  { name = "rs485-1";
    rtu = { device = "$T/ttyB"; baud = 9600; parity = "none"; data_bits = 8; stop_bits = 1; };
    timeout = "500ms";
    interval = "1s";
    backoff_max = "5s";
    devices = (
      { name = "th-1"; unit = 1; room = "A";
        points = (
          { channel = "evap_temp"; quantity = "temperature"; unit = "C";
            table = "holding"; address = 0; type = "float32"; order = "CDAB"; },
          { channel = "air_temp"; quantity = "temperature"; unit = "C";
            table = "input"; address = 0; type = "int16"; scale = 0.1; },
          { channel = "fan"; quantity = "fan"; table = "coil"; address = 0; type = "bool"; }
        ); },
      { name = "th-2"; unit = 2; room = "A";
        points = (
          { channel = "air_temp"; quantity = "temperature"; unit = "C";
            table = "holding"; address = 0; type = "int16"; }
        ); }
    ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

expect_channel() { # MEAS SENSOR CHANNEL EXPECTED
	local w="WHERE site='itest' AND room='A' AND sensor='$2' AND channel='$3'" row n min max
	if ! wait_for "$2/$3 over RTU" influx_has "SELECT value FROM \"$1\" $w"; then
		fail "$1 $2/$3: no value read over RTU"
		return
	fi
	row=$(influx_query "SELECT count(value), min(value), max(value) FROM \"$1\" $w" | influx_rows | cut -f4-6)
	read -r n min max <<<"$row"
	if num_eq "$min" "$4" && num_eq "$max" "$4"; then
		pass "RTU $1 $2/$3 = $4 ($n points)"
	else
		fail "RTU $1 $2/$3: expected every value = $4, got count=$n min=$min max=$max"
	fi
}
expect_channel temperature th-1 evap_temp 3.5
expect_channel temperature th-1 air_temp -18.5
expect_channel fan th-1 fan 1

w="WHERE sensor='th-2' AND channel='air_temp'"
if wait_for "comm_error for silent unit 2" influx_has "SELECT quality FROM temperature $w"; then
	q=$(influx_query "SELECT distinct(quality) FROM temperature $w" | influx_rows | cut -f4 | sort -u | tr '\n' ' ')
	expect_eq "RTU silent unit 2: quality" "${q% }" comm_error
	nv=$(influx_scalar "SELECT count(value) FROM temperature $w")
	expect_eq "RTU silent unit 2: points with a value" "${nv:-0}" 0
else
	fail "RTU silent unit 2: no comm_error sample"
fi

# The silent unit did not stop unit 1: it still gets fresh values.
last=$(influx_query "SELECT last(value) FROM temperature WHERE sensor='th-1' AND channel='air_temp'" | influx_rows | cut -f3)
check "RTU unit 1 keeps polling beside the silent unit 2" \
	wait_for "fresh th-1 point" influx_has \
	"SELECT value FROM temperature WHERE sensor='th-1' AND channel='air_temp' AND time > $((${last:-0} + 2))s"

finish
