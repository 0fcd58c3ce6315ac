#!/bin/bash
# Every register type and byte order the daemon decodes, read from the
# Modbus TCP simulator, lands in a real InfluxDB with the exact value and
# tags; a range that raises a Modbus exception and a unit that never answers
# land as quality="comm_error" samples without a value.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

cat >"$T/map" <<'MAP'
1 holding 0 float32 CDAB 3.5
1 holding 10 int32 BADC -123456
1 input 0 int16 ABCD 915
1 input 1 uint16 ABCD 65000
# 40 = 0b101000: bit 3 and bit 5 set, bit 4 clear
1 holding 20 uint16 ABCD 40
1 exception holding 200 2 2
2 coil 0 bool - 1
2 coil 1 bool - 0
3 dead
MAP
# The map format has no comments: drop them.
grep -v '^#' "$T/map" >"$T/sim.map"

STATS_INTERVAL=1s
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1";
    tcp = { host = "127.0.0.1"; port = $SIM_PORT; };
    timeout = "500ms";
    interval = "1s";
    backoff_max = "5s";
    devices = (
      { name = "ctl-1"; unit = 1; room = "A";
        points = (
          { channel = "evap_temp"; quantity = "temperature"; unit = "C";
            table = "holding"; address = 0; type = "float32"; order = "CDAB"; },
          { channel = "energy"; quantity = "energy"; unit = "Wh";
            table = "holding"; address = 10; type = "int32"; order = "BADC"; },
          { channel = "air_temp"; quantity = "temperature"; unit = "C";
            table = "input"; address = 0; type = "int16"; scale = 0.1; },
          { channel = "fan"; quantity = "fan_speed"; unit = "rpm";
            table = "input"; address = 1; type = "uint16"; },
          { channel = "compressor"; quantity = "compressor";
            table = "holding"; address = 20; type = "bool"; bit = 3; },
          { channel = "defrost"; quantity = "defrost";
            table = "holding"; address = 20; type = "bool"; bit = 4; },
          { channel = "rh"; quantity = "humidity"; unit = "%";
            table = "holding"; address = 200; type = "int16"; }
        ); },
      { name = "door-2"; unit = 2; room = "B";
        points = (
          { channel = "door"; quantity = "door"; table = "coil"; address = 0; type = "bool"; },
          { channel = "light"; quantity = "light"; table = "coil"; address = 1; type = "bool"; }
        ); },
      { name = "dead-3"; unit = 3; room = "C";
        points = (
          { channel = "air_temp"; quantity = "temperature"; unit = "C";
            table = "input"; address = 0; type = "int16"; scale = 0.1; }
        ); }
    ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

# where SENSOR CHANNEL [ROOM]: the WHERE clause selecting one channel by
# every tag the daemon writes (so a wrong tag means no rows).
where() {
	printf "WHERE site='itest' AND room='%s' AND sensor='%s' AND channel='%s'" "${3:-A}" "$1" "$2"
}

# Waits until MEAS has good values for the channel, then checks that every
# value written equals EXPECTED (min = max = EXPECTED, no non-good sample).
expect_values() {
	local meas=$1 sensor=$2 channel=$3 expected=$4 room=${5:-A} unit_tag=${6:-} w row
	w=$(where "$sensor" "$channel" "$room")
	[ -n "$unit_tag" ] && w="$w AND \"unit\"='$unit_tag'"
	if ! wait_for "$meas $sensor/$channel in InfluxDB" influx_has "SELECT value FROM \"$meas\" $w"; then
		fail "$meas $sensor/$channel: no point with value and tags ($w)"
		return
	fi
	row=$(influx_query "SELECT count(value), min(value), max(value) FROM \"$meas\" $w" | influx_rows | cut -f4-6)
	local n min max
	read -r n min max <<<"$row"
	if num_eq "$min" "$expected" && num_eq "$max" "$expected"; then
		pass "$meas $sensor/$channel = $expected ($n points, tags site/room/sensor/channel${unit_tag:+/unit})"
	else
		fail "$meas $sensor/$channel: expected every value = $expected, got count=$n min=$min max=$max"
	fi
	local nq
	nq=$(influx_scalar "SELECT count(quality) FROM \"$meas\" $w")
	[ -z "$nq" ] || fail "$meas $sensor/$channel: $nq samples with a quality field on a healthy register"
}

expect_values temperature ctl-1 evap_temp 3.5 A C
expect_values energy ctl-1 energy -123456 A Wh
expect_values temperature ctl-1 air_temp 91.5 A C
expect_values fan_speed ctl-1 fan 65000 A rpm
expect_values compressor ctl-1 compressor 1
expect_values defrost ctl-1 defrost 0
expect_values door door-2 door 1 B
expect_values light door-2 light 0 B

# A failed read is a sample: quality="comm_error", no value.
expect_comm_error() {
	local meas=$1 sensor=$2 channel=$3 room=$4 what=$5 w q nv
	w=$(where "$sensor" "$channel" "$room")
	if ! wait_for "comm_error for $sensor/$channel" influx_has "SELECT quality FROM \"$meas\" $w"; then
		fail "$what: no quality sample for $meas $sensor/$channel"
		return
	fi
	q=$(influx_query "SELECT distinct(quality) FROM \"$meas\" $w" | influx_rows | cut -f4 | sort -u | tr '\n' ' ')
	expect_eq "$what: quality of $meas $sensor/$channel" "${q% }" comm_error
	nv=$(influx_scalar "SELECT count(value) FROM \"$meas\" $w")
	expect_eq "$what: points with a value for $sensor/$channel" "${nv:-0}" 0
}
expect_comm_error humidity ctl-1 rh A "exception range"
expect_comm_error temperature dead-3 air_temp C "dead unit 3"

# The schema dashboards rely on: tag keys and field types.
tags=$(influx_query 'SHOW TAG KEYS FROM "temperature"' | influx_rows | cut -f3 | sort | tr '\n' ' ')
expect_eq "tag keys of temperature" "${tags% }" "channel room sensor site unit"
fields=$(influx_query 'SHOW FIELD KEYS FROM "temperature"' | influx_rows | cut -f3,4 | sort | tr '\t\n' ':,')
expect_eq "field keys of temperature" "${fields%,}" "quality:string,value:float"

# Self-metrics: per device counters that saw the exception and the timeouts.
# field_types MEAS: "field:type" for each field, sorted, space-separated.
field_types() { influx_query "SHOW FIELD KEYS FROM \"$1\"" | influx_rows | cut -f3,4 | tr '\t' ':' | sort | tr '\n' ' '; }
tag_keys() { influx_query "SHOW TAG KEYS FROM \"$1\"" | influx_rows | cut -f3 | sort | tr '\n' ' '; }
counter_reached() { # FIELD SENSOR MIN
	local v
	v=$(influx_scalar "SELECT max($1) FROM coldchaind_modbus WHERE sensor='$2'")
	[ -n "$v" ] && [ "$v" -ge "$3" ]
}
check "coldchaind_modbus: ctl-1 counts the exception" \
	wait_for "exceptions counter of ctl-1" counter_reached exceptions ctl-1 1
check "coldchaind_modbus: dead-3 counts timeouts" \
	wait_for "timeouts counter of dead-3" counter_reached timeouts dead-3 1
check "coldchaind_modbus: door-2 counts polls, tagged bus, sensor, unit_id, site" \
	wait_for "polls of door-2" influx_has \
	"SELECT polls FROM coldchaind_modbus WHERE bus='tcp-1' AND sensor='door-2' AND unit_id='2' AND site='itest' AND polls >= 1"
wait_for "coldchaind_output sample" influx_has "SELECT * FROM coldchaind_output WHERE \"output\"='itest'" ||
	fail "no coldchaind_output sample for output itest"
t=$(tag_keys coldchaind_modbus)
expect_eq "tag keys of coldchaind_modbus" "${t% }" "bus sensor site unit_id"
f=" $(field_types coldchaind_modbus)"
for k in requests errors timeouts exceptions polls; do
	case $f in *" $k:integer "*) pass "coldchaind_modbus field $k is an integer" ;;
	*) fail "coldchaind_modbus: no integer field $k (fields:$f)" ;; esac
done
t=$(tag_keys coldchaind_output)
expect_eq "tag keys of coldchaind_output" "${t% }" "output site"
f=" $(field_types coldchaind_output)"
for k in written retried rejected dropped pending; do
	case $f in *" $k:integer "*) pass "coldchaind_output field $k is an integer" ;;
	*) fail "coldchaind_output: no integer field $k (fields:$f)" ;; esac
done

finish
