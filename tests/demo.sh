#!/bin/bash
# tests/demo.sh BUILD_DIR - `make demo`: a lychee cold room with no hardware.
# Starts a local influxd and the Modbus test server replaying a cold room
# (pull-down from field heat, door openings, a compressor fault in room B;
# one real second is one simulated minute) and a forced-air precooler (on a
# clock of its own, DEMO_PROCESS_SCALE simulated seconds a second, default
# 180), runs coldchaind on config/demo.conf, prints readings per room as they
# arrive; precools a batch of lychee to 5 C (coldchainctl batch start, its
# status with C, j and the ETA, stop when the slowest probe is at target,
# release into room A as a lot with its history), and stops cleanly on Ctrl-C
# or after DEMO_SECONDS.  The rooms' lots run on lychee-demo, lychee on the
# rooms' clock (tests/demo_profile.py shelf), so consumed shelf life moves
# at the demo's pace.  The data stays in build/demo/ (DEMO_DIR).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${1:-build}
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"

DEMO_DIR=${DEMO_DIR:-$BUILD_DIR/demo}
DEMO_SECONDS=${DEMO_SECONDS:-0}
PRINT_EVERY=${DEMO_PRINT_EVERY:-5}
PSCALE=${DEMO_PROCESS_SCALE:-180}
# The rooms' clock: the simulator's lychee rooms run 1 s = 1 simulated
# minute (fixed in tests/modbus_sim); the lots' profile is derived for it.
RSCALE=60
need_bin "$COLDCHAIND" "$MODBUS_SIM"

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
INFLUX_DIR=$DEMO_DIR/influxdb
INFLUX_LOG=$DEMO_DIR/influxd.log
DAEMON_LOG=$DEMO_DIR/coldchaind.log

stopping=0
trap 'stopping=1' INT TERM

echo "coldchaind demo: Lục Ngạn lychee cold rooms (1 s = 1 simulated minute) and a precooler (1 s = $PSCALE simulated s), simulated"
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
	--process-scale "$PSCALE" --ready-file "$DEMO_DIR/sim.port"
SIM_PID=$LAST_PID
wait_for "the Modbus simulator" sim_ready "$DEMO_DIR/sim.port" "$SIM_PID" "$DEMO_DIR/modbus_sim.log" &&
	pid_alive "$SIM_PID" || { show_log "$DEMO_DIR/modbus_sim.log"; die "the Modbus simulator did not start"; }
SIM_PORT=$(cat "$DEMO_DIR/sim.port")
echo "  Modbus simulator on 127.0.0.1:$SIM_PORT (units 1-5: two rooms, controller, CO2 probe; unit 6: a precooler"
echo "                   on its own clock, 1 s = $PSCALE simulated s)"

# config/demo.conf with the ports picked here and a state dir of its own.
sed -e "s|port = 15020;|port = $SIM_PORT;|" \
	-e "s|loaded = \"[^\"]*\"|loaded = \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"|" \
	-e "s|state_dir = \"[^\"]*\";|state_dir = \"$DEMO_DIR/state\";|" \
	-e "s|template_dir = \"[^\"]*\";||" \
	-e "/^outputs = {/,/^};/c\\
outputs = { $OUTPUT };" \
	"$ROOT/config/demo.conf" >"$DEMO_DIR/demo.conf"
echo "template_dir = \"$ROOT/config/devices\";" >>"$DEMO_DIR/demo.conf"
# profiles.conf plus lychee-demo (@include is relative to the file): lychee
# with its durations, rates and doses on the rooms' clock (DEMO_ROOM_SCALE,
# the simulator's 1 s = 1 simulated minute), and the rooms' lots on it, so
# the shelf-life, water and chilling models, which integrate over the wall
# clock, run at the demo's pace.
sed -i -e 's|product = "lychee";|product = "lychee-demo";|' "$DEMO_DIR/demo.conf"
"$PY" "$ROOT/tests/demo_profile.py" shelf "$ROOT/config/profiles.conf" "$RSCALE" >"$DEMO_DIR/profiles.conf" ||
	die "cannot derive the demo's shelf-life profile"
echo "  shelf-life figures run on the demo clock (×$RSCALE): 1 s here = $((RSCALE / 60)) min of storage"
echo "                   (profile lychee-demo: lychee's durations /$RSCALE, rates ×$RSCALE; tests/demo_profile.py)"
echo "                   (coldchainctl status and the web page count in wall-clock days: ×$RSCALE for storage days)"
# processes.conf plus lychee-fa-demo: lychee-forced-air with its
# rates and durations on the precooler's clock (coldchaind stamps readings at
# the wall clock, so it sees C x PSCALE).
"$PY" "$ROOT/tests/demo_profile.py" "$ROOT/config/processes.conf" "$PSCALE" >"$DEMO_DIR/processes.conf" ||
	die "cannot derive the demo's precooling profile"
# The web page on 127.0.0.1 only, with a demo operator whose password is
# made now and printed below (the users file is the demo's own, mode 0600).
WEB_PORT=$(free_port)
WEB_USERS=$DEMO_DIR/users
WEB_PASS=$(head -c 9 /dev/urandom | base64 | tr -d '/+=')
rm -f "$WEB_USERS"
printf '%s\n' "$WEB_PASS" | "$BUILD_DIR/coldchainctl" user add demo --role operator --file "$WEB_USERS" >/dev/null ||
	die "cannot write the demo's users file $WEB_USERS"
{
	echo "timezone = \"Asia/Ho_Chi_Minh\";"
	echo "web = { listen = \"127.0.0.1:$WEB_PORT\"; users_file = \"$WEB_USERS\"; };"
} >>"$DEMO_DIR/demo.conf"
DAEMON_CONF=$DEMO_DIR/demo.conf
start_daemon "$DAEMON_CONF"
echo "  coldchaind   running (pid $DAEMON_PID, log $DAEMON_LOG, config $DAEMON_CONF)"
echo "  web page     http://127.0.0.1:$WEB_PORT/  (user demo, password $WEB_PASS: an operator)"
[ -t 1 ] && echo "               open it in a browser on this machine; from another one: ssh -L $WEB_PORT:127.0.0.1:$WEB_PORT THIS-HOST"
echo
echo "Readings per room every ${PRINT_EVERY}s; Ctrl-C to stop${DEMO_SECONDS:+ (or after ${DEMO_SECONDS}s)}."

print_rooms() {
	if [ -n "${INFLUX_PORT:-}" ]; then
		influx_query 'SELECT last("value") AS v FROM "temperature","evaporator_temperature","humidity","co2","door","compressor" WHERE time > now() - 2m GROUP BY "room","sensor","channel","unit"; SELECT count("quality") FROM /.*/ WHERE "quality" = '"'"'comm_error'"'"' AND time > now() - 2m GROUP BY "room"; SELECT last("consumed"), last("remaining_h"), last("product_c") FROM "shelf_life" GROUP BY "room","lot","product"; SELECT last("state"), last("severity_f") FROM "alert" WHERE time > now() - 1h GROUP BY "room","rule"' 2>/dev/null
	else
		tail -n 400 "$DEMO_DIR/points.lp" 2>/dev/null
	fi | DEMO_ROOM_SCALE=$RSCALE "$PY" "$ROOT/tests/demo_rooms.py" "${INFLUX_PORT:+influx}"
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

# The processor's part: a batch of lychee through the precooler, then into
# room A.  pc_stage: 0 not loaded, 1 cooling, 2 released (or given up).
BATCH=LN-P-0612
pc_stage=0
pc_json() { "$CTL" batch status "$BATCH" -c "$DAEMON_CONF" --json 2>/dev/null; }
say_run() { # shows a command, runs it, indents its output
	echo "  \$ coldchainctl $*"
	"$CTL" "$@" -c "$DAEMON_CONF" 2>&1 | sed 's/^/    /'
}
pc_load() {
	local line t0 iso
	pc_stage=2
	if ! command -v mbpoll >/dev/null 2>&1; then
		echo "(mbpoll is not installed: the precooler part of the demo is skipped; tests/deps.sh installs it)"
		return
	fi
	mbpoll -m tcp -p "$SIM_PORT" -a 6 -0 -t 4 -r 10 -1 127.0.0.1 1 >/dev/null 2>&1 || return
	wait_for "the precooler's batch" -t 10 file_has "batch 1 loaded" "$DEMO_DIR/modbus_sim.log" || return
	line=$(grep -m1 "batch 1 loaded" "$DEMO_DIR/modbus_sim.log")
	t0=$(sed -n 's/.*t0 \([0-9]*\);.*/\1/p' <<<"$line")
	[ -n "$t0" ] || return
	iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
	echo
	echo "Precooler-1: a batch of lychee is loaded (harvested 3 simulated hours ago); its fans start at $(date -d "@$t0" +%H:%M:%S)."
	echo "  (its clock: 1 s = $((PSCALE / 60)) simulated min; the simulator's slowest probe, the centre one:" \
		"$(sed -n 's/.*slowest probe \([0-9]*\) C \([0-9.]*\) j \([0-9.]*\).*/probe \1, C \2 \/h, j \3/p' <<<"$line"))"
	say_run batch start precooler-1 "$BATCH" --profile lychee-fa-demo --start "$(iso "$t0")" \
		--harvest "$(iso $((t0 - 3 * 3600 / PSCALE)))" | head -n 3
	pc_stage=1
}
pc_show() {
	local j
	j=$(pc_json) || return
	echo "  \$ coldchainctl batch status $BATCH"
	"$CTL" batch status "$BATCH" -c "$DAEMON_CONF" 2>&1 | sed 's/^/    /'
	printf '  %s\n' "$("$PY" "$ROOT/tests/demo_rooms.py" batch "$PSCALE" <<<"$j")"
}
# At target: the slowest probe is at or below the profile's target and a
# pull now would not be early (7/8 cooled too), so pull the batch, stop the
# fans, and hand it to room A as a lot.
pc_at_target() {
	local b="d['batches'][0]"
	[ "$(pc_json | json_eval "$b.get('slowest_c', 99) <= $b['target_c'] and not $b['verdict'].get('pull_early')")" = True ]
}
pc_release() {
	echo
	echo "Precooler-1: the slowest probe has reached the target: pull the batch, then into cold room A."
	say_run batch stop "$BATCH"
	mbpoll -m tcp -p "$SIM_PORT" -a 6 -0 -t 4 -r 10 -1 127.0.0.1 2 >/dev/null 2>&1
	say_run batch release "$BATCH" --lot "$BATCH" --room A
	echo "  \$ coldchainctl status   (the lots)"
	"$CTL" status -c "$DAEMON_CONF" 2>&1 | sed -n '/^LOT /,/^$/p' | sed 's/^/    /'
	echo "  \$ coldchainctl status --json   (lot $BATCH: its history)"
	"$CTL" status -c "$DAEMON_CONF" --json 2>/dev/null | "$PY" "$ROOT/tests/demo_rooms.py" lot "$BATCH" | sed 's/^/    /'
	echo
	pc_stage=2
}

start=$SECONDS
last_print=$SECONDS
while [ "$stopping" = 0 ]; do
	if ! pid_alive "$DAEMON_PID"; then
		show_log "$DAEMON_LOG"
		die "coldchaind exited"
	fi
	sleep 1 &
	wait $! 2>/dev/null || true
	[ "$stopping" = 1 ] && break
	[ "$pc_stage" = 0 ] && [ $((SECONDS - start)) -ge 2 ] && pc_load
	[ "$pc_stage" = 1 ] && pc_at_target && pc_release
	if [ $((SECONDS - last_print)) -ge "$PRINT_EVERY" ]; then
		last_print=$SECONDS
		printf '[%s] ' "$(date +%H:%M:%S)"
		print_rooms
		[ "$pc_stage" = 1 ] && pc_show
		ack_room_b
	fi
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
