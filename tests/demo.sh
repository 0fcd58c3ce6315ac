#!/bin/bash
# tests/demo.sh BUILD_DIR - `make demo`: a lychee cold room with no hardware.
# Starts a local influxd and the Modbus test server replaying a cold room
# (pull-down from field heat, door openings, a compressor fault in room B;
# one real second is one simulated minute), runs coldchaind on
# config/demo.conf, prints readings per room as they arrive, and stops
# cleanly on Ctrl-C or after DEMO_SECONDS.  The data stays in build/demo/.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${1:-build}
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"

DEMO_DIR=$BUILD_DIR/demo
DEMO_SECONDS=${DEMO_SECONDS:-0}
PRINT_EVERY=${DEMO_PRINT_EVERY:-5}
need_bin "$COLDCHAIND" "$MODBUS_SIM"

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
INFLUX_DIR=$DEMO_DIR/influxdb
INFLUX_LOG=$DEMO_DIR/influxd.log
DAEMON_LOG=$DEMO_DIR/coldchaind.log

stopping=0
trap 'stopping=1' INT TERM

echo "coldchaind demo: a Lục Ngạn lychee cold room, simulated (1 s = 1 simulated minute)"
if command -v influxd >/dev/null 2>&1; then
	# setsid: Ctrl-C reaches this script only, which stops everything in order
	# (the daemon flushes to influxd before influxd stops).
	influxd_configure
	start_bg influxd "$INFLUX_LOG" setsid influxd run -config "$INFLUX_DIR/influxdb.conf"
	INFLUX_PID=$LAST_PID
	wait_for "influxd /ping" influx_ping || { show_log "$INFLUX_LOG"; die "influxd did not start"; }
	influx_post 'CREATE DATABASE "coldchain"' >/dev/null || die "cannot create the database"
	OUTPUT="influxdb = ( { name = \"local\"; url = \"$(influx_url)\"; database = \"coldchain\"; batch = 1000; flush = \"1s\"; } );"
	echo "  influxd      on 127.0.0.1:$INFLUX_PORT (data in $INFLUX_DIR)"
else
	# The embedded default where no InfluxDB can be had: line protocol in a file.
	OUTPUT="file = ( { name = \"local\"; path = \"$DEMO_DIR/points.lp\"; } );"
	echo "  influxd not installed: writing line protocol to $DEMO_DIR/points.lp"
fi

start_bg modbus_sim "$DEMO_DIR/modbus_sim.log" setsid "$MODBUS_SIM" --tcp 127.0.0.1:0 --scenario lychee \
	--ready-file "$DEMO_DIR/sim.port"
SIM_PID=$LAST_PID
wait_for "the Modbus simulator" sim_ready "$DEMO_DIR/sim.port" "$SIM_PID" "$DEMO_DIR/modbus_sim.log" &&
	pid_alive "$SIM_PID" || { show_log "$DEMO_DIR/modbus_sim.log"; die "the Modbus simulator did not start"; }
SIM_PORT=$(cat "$DEMO_DIR/sim.port")
echo "  Modbus simulator on 127.0.0.1:$SIM_PORT (units 1-5: two rooms, controller, CO2 probe)"

# config/demo.conf with the ports picked here and a state dir of its own.
sed -e "s|port = 15020;|port = $SIM_PORT;|" \
	-e "s|loaded = \"[^\"]*\"|loaded = \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"|" \
	-e "s|state_dir = \"[^\"]*\";|state_dir = \"$DEMO_DIR/state\";|" \
	-e "s|template_dir = \"[^\"]*\";||" \
	-e "/^outputs = {/,/^};/c\\
outputs = { $OUTPUT };" \
	"$ROOT/config/demo.conf" >"$DEMO_DIR/demo.conf"
echo "template_dir = \"$ROOT/config/devices\";" >>"$DEMO_DIR/demo.conf"
cp "$ROOT/config/profiles.conf" "$DEMO_DIR/profiles.conf" # @include is relative to the file
cp "$ROOT/config/processes.conf" "$DEMO_DIR/processes.conf"
DAEMON_CONF=$DEMO_DIR/demo.conf
start_daemon "$DAEMON_CONF"
echo "  coldchaind   running (pid $DAEMON_PID, log $DAEMON_LOG, config $DAEMON_CONF)"
echo
echo "Readings per room every ${PRINT_EVERY}s; Ctrl-C to stop${DEMO_SECONDS:+ (or after ${DEMO_SECONDS}s)}."

print_rooms() {
	if [ -n "${INFLUX_PORT:-}" ]; then
		influx_query 'SELECT last("value") AS v FROM "temperature","evaporator_temperature","humidity","co2","door","compressor" WHERE time > now() - 2m GROUP BY "room","sensor","channel","unit"; SELECT count("quality") FROM /.*/ WHERE "quality" = '"'"'comm_error'"'"' AND time > now() - 2m GROUP BY "room"; SELECT last("consumed"), last("remaining_h"), last("product_c") FROM "shelf_life" GROUP BY "room","lot","product"; SELECT last("state"), last("severity_f") FROM "alert" WHERE time > now() - 1h GROUP BY "room","rule"' 2>/dev/null
	else
		tail -n 400 "$DEMO_DIR/points.lp" 2>/dev/null
	fi | "$PY" "$ROOT/tests/demo_rooms.py" "${INFLUX_PORT:+influx}"
}

# The operator's part of the story: once room B's compressor fault has
# raised an alarm, acknowledge it through the control socket and show status.
CTL=$BUILD_DIR/coldchainctl
acked=
ack_room_b() {
	local id
	[ -z "$acked" ] || return 0
	id=$("$CTL" alarms -c "$DAEMON_CONF" --json 2>/dev/null | json_eval \
		'([a["id"] for a in d["alarms"] if a.get("room") == "B" and a["state"] == "active"] + [""])[0]') || return 0
	[ -n "$id" ] || return 0
	acked=$id
	echo
	echo "Room B alarm $id is active: the operator acknowledges it:"
	echo "  \$ coldchainctl ack $id --note \"demo: technician called\""
	"$CTL" ack "$id" -c "$DAEMON_CONF" --note "demo: technician called" | sed 's/^/  /'
	echo "  \$ coldchainctl status"
	"$CTL" status -c "$DAEMON_CONF" | sed 's/^/  /'
	echo
}

start=$SECONDS
while [ "$stopping" = 0 ]; do
	if ! pid_alive "$DAEMON_PID"; then
		show_log "$DAEMON_LOG"
		die "coldchaind exited"
	fi
	sleep "$PRINT_EVERY" &
	wait $! 2>/dev/null || true
	[ "$stopping" = 1 ] && break
	printf '[%s] ' "$(date +%H:%M:%S)"
	print_rooms
	ack_room_b
	if [ "$DEMO_SECONDS" -gt 0 ] && [ $((SECONDS - start)) -ge "$DEMO_SECONDS" ]; then
		break
	fi
done

echo
echo "Stopping coldchaind (SIGTERM: it delivers what it holds, then exits)..."
if stop_daemon 30; then echo "  coldchaind exited 0"; else echo "  coldchaind exited with status $?"; fi
grep -E "undelivered|error" "$DAEMON_LOG" | tail -n 5 | sed 's/^/  log: /'
stop_pid "$SIM_PID" 10 >/dev/null 2>&1

if [ -n "${INFLUX_PORT:-}" ]; then
	n=$(influx_scalar 'SELECT count("value") FROM "temperature"')
	echo "InfluxDB holds ${n:-0} temperature readings (database coldchain)."
	# The processor's part: the storage history of room B's lot, for a buyer
	# or an auditor.
	REPORT=$DEMO_DIR/report-LN-B-0612.html
	if "$CTL" report --lot LN-B-0612 --format html -c "$DAEMON_CONF" -o "$REPORT" >"$DEMO_DIR/report.log" 2>&1; then
		"$CTL" report --lot LN-B-0612 --format csv -c "$DAEMON_CONF" -o "${REPORT%.html}.csv" >>"$DEMO_DIR/report.log" 2>&1
		echo "Lot report (storage history of LN-B-0612, prints on A4): $REPORT"
		echo "  and as CSV: ${REPORT%.html}.csv"
	else
		echo "  (the lot report could not be written:)"
		sed 's/^/  | /' "$DEMO_DIR/report.log"
	fi
	stop_influxd >/dev/null 2>&1
	cat <<EOT

To look at the data again:
  influxd run -config $INFLUX_DIR/influxdb.conf &
  influx -port $INFLUX_PORT -database coldchain -execute 'SHOW MEASUREMENTS'
  influx -port $INFLUX_PORT -database coldchain -execute \\
    "SELECT mean(value) FROM temperature WHERE room = 'A' GROUP BY time(1m), sensor"
  influx -port $INFLUX_PORT -database coldchain -execute \\
    "SELECT * FROM temperature WHERE quality = 'comm_error'"
EOT
else
	echo "Points written: $(wc -l <"$DEMO_DIR/points.lp") lines in $DEMO_DIR/points.lp"
fi
