#!/bin/bash
# bench_lib.sh - shell functions the bench scripts share (sourced after
# tests/lib.sh, which stays the tests' own): a median, a process's CPU and
# memory from /proc, and the Modbus units the footprint, idle and polling
# benches put behind tests/modbus_sim.  Functions only; nothing runs when sourced.

# median: the median of the numbers on stdin, one a line (of an even
# count, the lower of the middle two: the conservative one); a "-" (a
# failed run) counts as the lowest, and prints as "-" when it is the median
median() { sed 's/^-$/-1/' | sort -n | awk '{ v[NR] = $1 } END { if (NR) { m = v[int((NR + 1) / 2)]; print m < 0 ? "-" : m } }'; }

# proc_cpu_ticks PID: utime + stime of PID (all its threads) in clock ticks
# (getconf CLK_TCK); 0 once it is gone.  Fields 14 and 15 of /proc/PID/stat,
# counted after the "(comm)" field, which may hold spaces.
proc_cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 } END { if (!NR) print 0 }'
}

# thread_ticks PID: "name:ticks" of each of PID's threads (utime + stime,
# counted after the "(comm)" field, which may hold spaces), space-separated.
thread_ticks() {
	local t
	for t in /proc/"$1"/task/*; do
		awk -v n="$(tr ' :' '_.' <"$t/comm")" '{ sub(/^.*\) /, ""); printf "%s:%d ", n, $12 + $13 }' "$t/stat" 2>/dev/null
	done
}

# proc_status_kb PID FIELD: a kB figure of /proc/PID/status (VmRSS, VmHWM,
# RssAnon, ...), the number alone.
proc_status_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# proc_status_mib PID FIELD: the same figure in MiB, one decimal.
proc_status_mib() {
	proc_status_kb "$1" "$2" | awk '{ printf "%.1f", $1 / 1024 }'
}

# schedstat_sum PID [COMM-PREFIX]: "CPU_NS WAIT_NS" summed over PID's
# threads (those whose name starts with COMM-PREFIX)
schedstat_sum() {
	local t c=0 w=0 a b
	for t in /proc/"$1"/task/*; do
		[ -z "${2:-}" ] || [[ "$(cat "$t/comm" 2>/dev/null)" == "$2"* ]] || continue
		read -r a b _ <"$t/schedstat" 2>/dev/null || continue
		c=$((c + a)) w=$((w + b))
	done
	echo "$c $w"
}

# A refrigeration unit on Modbus: a T/RH transmitter block, controller
# floats, a status word, coils and discrete inputs (10 points); "sparse"
# adds a far-away float and an int32 (12 points, 6 of them mergeable across
# small gaps: bench_modbus.sh's planner case).
# bench_unit_map UNIT [sparse]: the unit's registers, in tests/modbus_sim's
# --map format.
bench_unit_map() {
	local u=$1
	printf '%s\n' "$u input 1 int16 ABCD 41" "$u input 2 int16 ABCD 915" \
		"$u holding 0 float32 CDAB 3.5" "$u holding 2 float32 CDAB -2.5" "$u holding 10 uint16 ABCD 5"
	[ "${2:-}" = sparse ] && printf '%s\n' "$u holding 256 float32 ABCD 1.25" "$u holding 300 int32 ABCD 7"
	printf '%s\n' "$u coil 0 bool - 1" "$u coil 3 bool - 0" "$u discrete 0 bool - 1" "$u discrete 1 bool - 0"
}

# bench_unit_points INDENT [sparse]: the unit's points for coldchaind's
# config, each line indented by INDENT spaces.
bench_unit_points() {
	local pad
	pad=$(printf '%*s' "$1" '')
	{
		cat <<'P'
{ channel = "t"; quantity = "temperature"; table = "input"; address = 1; type = "int16"; scale = 0.1; },
{ channel = "rh"; quantity = "humidity"; table = "input"; address = 2; type = "int16"; scale = 0.1; },
{ channel = "air"; quantity = "temperature"; table = "holding"; address = 0; type = "float32"; order = "CDAB"; },
{ channel = "evap"; quantity = "evaporator_temperature"; table = "holding"; address = 2; type = "float32"; order = "CDAB"; },
{ channel = "status"; quantity = "status"; table = "holding"; address = 10; type = "uint16"; },
{ channel = "comp"; quantity = "compressor"; table = "holding"; address = 10; type = "bool"; bit = 3; overlap = true; },
P
		[ "${2:-}" = sparse ] && cat <<'P'
{ channel = "setp"; quantity = "setpoint"; table = "holding"; address = 256; type = "float32"; },
{ channel = "hours"; quantity = "run_hours"; table = "holding"; address = 300; type = "int32"; },
P
		cat <<'P'
{ channel = "fan"; quantity = "fan"; table = "coil"; address = 0; type = "bool"; },
{ channel = "defrost"; quantity = "defrost"; table = "coil"; address = 3; type = "bool"; },
{ channel = "door"; quantity = "door"; table = "discrete"; address = 0; type = "bool"; },
{ channel = "alarm"; quantity = "alarm_input"; table = "discrete"; address = 1; type = "bool"; }
P
	} | sed "s/^/$pad/"
}

# bench_start_units UNITS: UNITS 10-point units (1..UNITS) on one
# tests/modbus_sim gateway on a free loopback port, answering at once;
# its map is $T/map, its port SIM_PORT (lib.sh's start_sim).
bench_start_units() {
	local u
	: >"$T/map"
	for ((u = 1; u <= $1; u++)); do bench_unit_map "$u" >>"$T/map"; done
	start_sim sim --tcp 127.0.0.1:0 --map "$T/map" --turnaround-ms 0
}

# bench_gateway_conf UNITS INTERVAL: coldchaind's modbus group for that
# gateway: units u1..uUNITS polled every INTERVAL (a config duration).
bench_gateway_conf() {
	local u
	echo "modbus = ( { name = \"gw\"; tcp = { host = \"127.0.0.1\"; port = $SIM_PORT; };"
	echo "  timeout = \"1s\"; interval = \"$2\"; devices = ("
	for ((u = 1; u <= $1; u++)); do
		[ "$u" -gt 1 ] && echo ","
		echo "    { name = \"u$u\"; unit = $u; points = ("
		bench_unit_points 6
		echo "    ); }"
	done
	echo "  ); } );"
}

# bench_raw_publisher FILE: FILE becomes a python3 script, tests/bench/mqtt_raw.py
# (rl, s, publish0, connect: a raw-socket QoS 0 publisher's start) followed
# by the script's own part from stdin.
bench_raw_publisher() {
	cat "$(dirname "${BASH_SOURCE[0]}")/mqtt_raw.py" - >"$1"
}
