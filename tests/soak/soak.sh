#!/bin/bash
# tests/soak/soak.sh BUILD_DIR [DURATION] - the reliability run (issue 8),
# `make soak DURATION=SECONDS` (default 3600); not part of `make test`.
#
# Load, for DURATION seconds, on real servers on loopback ports in a temp dir:
#  - MQTT: soak_pub publishes SOAK_RATE (200) QoS 1 messages/s through
#    Debian's mosquitto (persistence on), each with its own seq number and a
#    microsecond timestamp in the payload; coldchaind keeps a persistent
#    session.  Sent = what the broker acknowledged (soak_pub keeps every
#    unacknowledged message across broker restarts and waits for all at the
#    end).  In InfluxDB each seq must be one row: none = lost, more =
#    duplicated.  (A QoS 1 redelivery carries the same timestamp, so it
#    overwrites its own point: exactly once in the database, as documented.)
#  - Modbus: SOAK_UNITS (4) units on modbus_sim, polled every second, each
#    with a counter register that the simulator advances on every read, so
#    every reading has its own value.  Sent = what coldchaind read: every
#    counter value in its file output (written from the same journal as the
#    InfluxDB output, but never waiting for InfluxDB) or in InfluxDB.  Lost =
#    read and not in InfluxDB, duplicated = a value in more than one row.
#    The simulator's own counts cross-check that nothing is missing from
#    the journal itself: a value it served that coldchaind never read must be
#    a reply in flight when a bus stopped, or a failed read.
#
# Faults, in cycles of about 10 minutes (one cycle when DURATION < 20 min),
# at these fractions of a cycle: 5 % influxd stopped, 12 % coldchaind
# killed with SIGKILL and restarted (InfluxDB still down: the journal holds
# the backlog), 20 % influxd started, 30 % mosquitto restarted, 40 % Modbus
# unit 3 removed from the simulator's map (SIGHUP), 50 % restored, 55 %
# SIGHUP to coldchaind with a broken config (it must log the error and keep
# running), 60 % SIGHUP with the good config, 70 % SIGKILL and restart
# under full load.  Each fault is checked (the daemon says so, data flows
# again) by polling, never by sleeping.
#
# Every SOAK_SAMPLE (10) seconds coldchaind's VmRSS, VmHWM, RssAnon, open
# fds, CPU time and the journal's size go to soak.csv (the pid changes at
# each restart).  At the end: sent / stored / lost / duplicated for MQTT and
# Modbus, peak RSS, and RSS, fds and CPU per tenth of the run.  Exit 1 on a
# lost or duplicated point, an unexpected exit of coldchaind, or a failed
# fault check.
#
# `set -u` without -e, as every script here: one stray non-zero status must
# not end an hour's run unreported; each step checks its own result.
# shellcheck source=tests/lib.sh
export BUILD_DIR=${1:-${BUILD_DIR:-build}}
DURATION=${2:-${DURATION:-3600}}
. "$(dirname "$0")/../lib.sh"
SOAK_DIR=$TESTS_DIR/soak
PUB=$BUILD_DIR/soak/soak_pub
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$PUB"

RATE=${SOAK_RATE:-200}
UNITS=${SOAK_UNITS:-4}
SAMPLE=${SOAK_SAMPLE:-10}
SITE=soak
case $UNITS in '' | *[!0-9]* | [01]) die "SOAK_UNITS must be 2 or more, got '$UNITS'" ;; esac
# the unit removed and restored; unit-1 stays, to show the others go on
REMOVED_UNIT=$((UNITS >= 3 ? 3 : 2))
case $DURATION in '' | *[!0-9]*) die "DURATION must be a number of seconds, got '$DURATION'" ;; esac
[ "$DURATION" -ge 120 ] || die "DURATION must be at least 120 s (one fault cycle), got $DURATION"
NCYCLES=$((DURATION / 600))
[ "$NCYCLES" -ge 1 ] || NCYCLES=1
CYCLE=$((DURATION / NCYCLES))

# Results of the fault checks and the run, reported at the end.
FAILS=0
CHECKS=0
CRASHES=0
KILLS=0   # kill -9 restarts
RELOADS=0 # successful reloads (they restart the buses too)
T0=$(date +%s)
elapsed() { echo $(($(date +%s) - T0)); }
say() { printf '  [%5ss] %s\n' "$(elapsed)" "$*"; }
# lib.sh's fail() names integration tests; the soak reports its own way.
fail() {
	FAILS=$((FAILS + 1))
	say "FAILED: $*"
	show_log "$DAEMON_LOG" 15
}
ok() {
	CHECKS=$((CHECKS + 1))
	say "ok: $*"
}
# verify DESC CMD...: counts a fault check.
verify() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}

# ---------------------------------------------------------------- set-up

sim_map() { # [UNIT to leave out]
	local u
	for ((u = 1; u <= UNITS; u++)); do
		[ "$u" = "${1:-}" ] && continue
		printf '%d counter input 0\n%d input 10 int16 - %d\n%d input 11 int16 - %d\n' \
			"$u" "$u" $((30 + u)) "$u" $((900 + u))
	done
}
# Replaced atomically: the simulator never reads half a file.
write_map() { sim_map "$@" >"$T/sim.map.tmp" && mv "$T/sim.map.tmp" "$T/sim.map"; }

write_conf() {
	local u sep=""
	{
		config_head
		echo "modbus = ( { name = \"tcp-1\"; tcp = { host = \"127.0.0.1\"; port = $SIM_PORT; };"
		echo "  timeout = \"1s\"; interval = \"1s\"; devices = ("
		for ((u = 1; u <= UNITS; u++)); do
			cat <<CONF
    $sep{ name = "unit-$u"; unit = $u; room = "$([ $((u % 2)) = 1 ] && echo A || echo B)";
      points = ( { channel = "counter"; quantity = "soak_counter"; table = "input"; address = 0; type = "uint32"; },
                 { channel = "temperature"; quantity = "temperature"; unit = "C"; table = "input"; address = 10;
                   type = "int16"; scale = 0.1; },
                 { channel = "humidity"; quantity = "humidity"; unit = "%"; table = "input"; address = 11;
                   type = "int16"; scale = 0.1; } ); }
CONF
			sep=","
		done
		cat <<CONF
  ); } );
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-soak"; reconnect_max = "2s"; };
  subscriptions = (
    { topic = "soak/{sensor}"; format = "json"; room = "M"; time = "ts"; time_unit = "us";
      fields = { seq = { path = "seq"; quantity = "soak_seq"; }; temperature = { path = "t"; unit = "C"; }; }; }
  );
};
outputs = {
  influxdb = ( { name = "soak"; url = "$(influx_url)"; database = "$INFLUX_DB"; flush = "500ms"; backoff_max = "2s"; } );
  file = ( { name = "archive"; path = "$T/points.lp"; } );
};
CONF
	} >"$DAEMON_CONF.tmp" && mv "$DAEMON_CONF.tmp" "$DAEMON_CONF"
}

# The sampler reads the current pid from here (it changes at each restart).
note_pid() { echo "$DAEMON_PID" >"$T/daemon.pid"; }

sampler() {
	local pid rss hwm anon fds cpu jkb tick
	tick=$(getconf CLK_TCK)
	echo "elapsed_s,pid,rss_kb,hwm_kb,fds,cpu_s,journal_kb,anon_kb" >"$T/soak.csv"
	while :; do
		pid=$(cat "$T/daemon.pid" 2>/dev/null)
		if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
			rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
			cpu=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk -v t="$tick" '{ printf "%.2f", ($12 + $13) / t }')
			jkb=$(du -sk "$T/state/journal" 2>/dev/null | cut -f1)
			# a sample of a process that exited meanwhile is dropped
			[ -n "$rss" ] && [ -n "$hwm" ] && echo "$(elapsed),$pid,$rss,$hwm,$fds,$cpu,${jkb:-0},${anon:-0}" >>"$T/soak.csv"
		fi
		sleep "$SAMPLE"
	done
}

start_coldchaind() {
	start_daemon
	note_pid
}

# Checks the daemon is still there; an exit we did not cause is a crash:
# counted, its log shown, and it is started again so the run goes on.
daemon_check() {
	local st
	pid_alive "$DAEMON_PID" && return 0
	wait "$DAEMON_PID" 2>/dev/null
	st=$?
	forget_pid "$DAEMON_PID"
	CRASHES=$((CRASHES + 1))
	fail "coldchaind (pid $DAEMON_PID) exited by itself, status $st; restarting it"
	start_coldchaind
}

# pace_until SECONDS: the schedule's clock (sleeping here only paces the
# faults; every condition is polled with wait_for).
pace_until() {
	while [ "$(elapsed)" -lt "$1" ]; do
		daemon_check
		sleep 1
	done
	daemon_check
}

count_lines() { grep -c -- "$1" "$DAEMON_LOG" 2>/dev/null; }
lines_grew() { [ "$(count_lines "$1")" -gt "$2" ]; }
# newer_than NS MEASUREMENT: a row newer than NS.
newer_than() { influx_has "SELECT * FROM \"$2\" WHERE time > $1 LIMIT 1"; }
# flows_since NS: coldchaind runs and both MQTT and Modbus points newer
# than NS are in InfluxDB.
flows_since() { pid_alive "$DAEMON_PID" && newer_than "$1" soak_seq && newer_than "$1" soak_counter; }
now_ns() { date +%s%N; }

# ---------------------------------------------------------------- faults

fault_influx_down() {
	stop_influxd
	say "influxd stopped"
}

fault_influx_up() {
	local t
	t=$(now_ns)
	start_influxd
	say "influxd started"
	verify "after the InfluxDB outage new MQTT and Modbus points arrive" \
		wait_for "points after the restart" -t 120 flows_since "$t"
}

fault_broker_restart() {
	local n
	n=$(count_lines 'mqtt broker .*: connected as')
	stop_mosquitto
	start_mosquitto
	say "mosquitto restarted"
	verify "coldchaind reconnected to the restarted broker" \
		wait_for "reconnect" -t 90 lines_grew 'mqtt broker .*: connected as' "$n"
}

fault_unit_removed() {
	local t
	t=$(now_ns)
	write_map "$REMOVED_UNIT"
	kill -HUP "$SIM_PID"
	say "Modbus unit $REMOVED_UNIT removed from the simulator's map"
	verify "the removed unit's failed reads are recorded (comm_error)" \
		wait_for "comm_error of unit-$REMOVED_UNIT" -t 60 \
		influx_has "SELECT quality FROM soak_counter WHERE sensor='unit-$REMOVED_UNIT' AND quality='comm_error' AND time > $t"
	verify "the other units are still read" \
		wait_for "unit-1 readings" -t 60 \
		influx_has "SELECT value FROM soak_counter WHERE sensor='unit-1' AND time > $(now_ns)"
}

fault_unit_restored() {
	local t
	t=$(now_ns)
	write_map
	kill -HUP "$SIM_PID"
	say "Modbus unit $REMOVED_UNIT restored"
	verify "the restored unit is read again" \
		wait_for "unit-$REMOVED_UNIT readings" -t 90 \
		influx_has "SELECT value FROM soak_counter WHERE sensor='unit-$REMOVED_UNIT' AND time > $t"
}

fault_hup_broken() {
	local n t
	n=$(count_lines 'reload failed, keeping previous configuration')
	{
		cat "$DAEMON_CONF"
		echo 'modbus_typo = ( { name = ; } );' # a syntax error
	} >"$T/broken.conf"
	cp "$T/broken.conf" "$DAEMON_CONF"
	kill -HUP "$DAEMON_PID"
	say "SIGHUP to coldchaind with a broken config"
	verify "the broken config is refused: 'reload failed, keeping previous configuration'" \
		wait_for "reload failed" -t 60 lines_grew 'reload failed, keeping previous configuration' "$n"
	t=$(now_ns)
	verify "coldchaind keeps running on the old config (MQTT and Modbus points still arrive)" \
		wait_for "points after the failed reload" -t 60 flows_since "$t"
}

fault_hup_fixed() {
	local n t
	n=$(count_lines 'configuration reloaded')
	write_conf
	kill -HUP "$DAEMON_PID"
	RELOADS=$((RELOADS + 1))
	say "SIGHUP to coldchaind with the fixed config"
	verify "the fixed config is loaded: 'configuration reloaded'" \
		wait_for "configuration reloaded" -t 60 lines_grew 'configuration reloaded' "$n"
	t=$(now_ns)
	verify "after the reload MQTT and Modbus points arrive" \
		wait_for "points after the reload" -t 60 flows_since "$t"
}

fault_kill9() {
	local old=$DAEMON_PID n
	n=$(count_lines 'mqtt broker .*: connected as')
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	forget_pid "$DAEMON_PID"
	KILLS=$((KILLS + 1))
	start_coldchaind
	say "coldchaind killed with SIGKILL (pid $old) and restarted (pid $DAEMON_PID)"
	verify "the restarted coldchaind resumed its MQTT session" \
		wait_for "mqtt connected" -t 90 lines_grew 'mqtt broker .*: connected as' "$n"
}

# ---------------------------------------------------------------- run

echo "=== soak: ${DURATION}s, $NCYCLES fault cycle(s) of ${CYCLE}s; MQTT $RATE msg/s QoS 1, Modbus $UNITS units every 1 s"
echo "  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  temp dir $T (CC_KEEP_TMP=1 keeps it)"
write_map
start_influxd
start_mosquitto
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
STATS_INTERVAL=10s SHUTDOWN_TIMEOUT=60s
write_conf
start_coldchaind
wait_for "coldchaind connected to the broker" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
start_bg soak_pub "$T/soak_pub.log" "$PUB" -p "$MQTT_PORT" -r "$RATE" -i soak-pub -W 300
PUB_PID=$LAST_PID
wait_for "first MQTT and Modbus points in InfluxDB" flows_since 0 || die "no points reached InfluxDB"
T0=$(date +%s) # the schedule starts with the load
note_pid
start_bg sampler "$T/sampler.log" sampler
SAMPLER_PID=$LAST_PID
say "load running"

for ((c = 0; c < NCYCLES; c++)); do
	b=$((c * CYCLE))
	pace_until $((b + CYCLE * 5 / 100)); fault_influx_down
	pace_until $((b + CYCLE * 12 / 100)); fault_kill9
	pace_until $((b + CYCLE * 20 / 100)); fault_influx_up
	pace_until $((b + CYCLE * 30 / 100)); fault_broker_restart
	pace_until $((b + CYCLE * 40 / 100)); fault_unit_removed
	pace_until $((b + CYCLE * 50 / 100)); fault_unit_restored
	pace_until $((b + CYCLE * 55 / 100)); fault_hup_broken
	pace_until $((b + CYCLE * 60 / 100)); fault_hup_fixed
	pace_until $((b + CYCLE * 70 / 100)); fault_kill9
done
pace_until "$DURATION"

# ---------------------------------------------------------------- the end

say "stopping the load"
stop_pid "$PUB_PID" 330
pub_st=$?
read -r _ MQTT_PUBLISHED _ MQTT_SENT < <(grep '^published ' "$T/soak_pub.log" | tail -n 1)
if [ -z "${MQTT_SENT:-}" ]; then
	fail "soak_pub printed no summary (status $pub_st)"
	show_log "$T/soak_pub.log"
	MQTT_SENT=0
elif [ "$pub_st" -ne 0 ]; then
	fail "soak_pub: the broker acknowledged $MQTT_SENT of $MQTT_PUBLISHED messages"
fi
say "published $MQTT_PUBLISHED MQTT messages, $MQTT_SENT acknowledged by the broker ($(grep '^connects' "$T/soak_pub.log" | tail -n 1))"

# Caught up: every acknowledged message has a row (or the count stands
# still for 30 s, when something is missing: the check below says what).
mqtt_rows() { influx_count 'SELECT count(value) FROM soak_seq'; }
LAST_ROWS=-1
STILL_SINCE=$SECONDS
caught_up() {
	local n
	n=$(mqtt_rows)
	[ "$n" -ge "$MQTT_SENT" ] && return 0
	if [ "$n" != "$LAST_ROWS" ]; then
		LAST_ROWS=$n
		STILL_SINCE=$SECONDS
	fi
	[ $((SECONDS - STILL_SINCE)) -ge 30 ]
}
wait_for "coldchaind caught up" -t 900 caught_up || say "still catching up after 900 s"
say "InfluxDB has $(mqtt_rows) MQTT rows"
daemon_check
stop_pid "$SAMPLER_PID" 1 >/dev/null # before the daemon closes its files
stop_daemon 90
st=$?
if [ "$st" -eq 0 ]; then say "coldchaind stopped (SIGTERM): exit 0"; else
	CRASHES=$((CRASHES + 1))
	fail "coldchaind exited with status $st on SIGTERM"
fi
stop_pid "$SIM_PID" 15

echo "=== result (${DURATION}s; $NCYCLES cycle(s); $KILLS kill -9 restart(s), $RELOADS reload(s); fault checks: $CHECKS ok, $FAILS failed)"
"$PY" "$SOAK_DIR/soak_check.py" "$(influx_url)" "$INFLUX_DB" "$MQTT_SENT" "$T/points.lp" "$T/sim.log" \
	"$((KILLS + CRASHES + RELOADS + 1))" # each stops the bus, maybe mid-read (+1: the final stop)
check_st=$?

# Peak and over time, from the samples: per tenth of the run the largest
# RSS, the fewest and most fds, CPU use (from utime+stime between samples
# of one process) and the journal's size on disk at its end.  VmHWM counts
# file pages too: at start-up the journal's segments are mapped to be
# scanned, so a restart with a big journal raises it for a moment; RssAnon
# (heap and stacks) is what a leak would grow.
awk -F, -v d="$DURATION" '
NR == 1 { next }
{
	n++; b = int($1 * 10 / d); if (b > 9) b = 9
	if ($3 > rss[b]) rss[b] = $3
	if ($8 > an[b]) an[b] = $8
	if (!(b in fmax) || $5 > fmax[b]) fmax[b] = $5
	if (!(b in fmin) || $5 < fmin[b]) fmin[b] = $5
	if (!((b, $2) in bp)) { bp[b, $2] = 1; pid[b] = pid[b] (pid[b] == "" ? "" : " ") $2 }
	if ($2 == ppid && $1 > pt) { dcpu[b] += $6 - pcpu; dt[b] += $1 - pt }
	ppid = $2; pcpu = $6; pt = $1
	jkb[b] = $7
	if ($4 > hwm) hwm = $4
	if ($8 > anon) anon = $8
	if ($3 > rssmax) rssmax = $3
	if (!(($2) in seen)) { seen[$2] = 1; npids++ }
	if (n == 1) { first_fds = $5; first_rss = $3 }
	last_fds = $5; last_rss = $3
}
END {
	if (n == 0) { print "  no RSS samples"; exit }
	printf "  coldchaind: peak RSS (VmHWM) %.1f MiB (%d processes: the pid changes at each restart); %d samples\n", hwm / 1024, npids, n
	printf "  largest samples: RSS %.1f MiB, anonymous (RssAnon: heap, stacks) %.1f MiB\n", rssmax / 1024, anon / 1024
	printf "  first sample: RSS %.1f MiB, %d fds; last: RSS %.1f MiB, %d fds\n", first_rss / 1024, first_fds, last_rss / 1024, last_fds
	printf "  %-11s %8s %9s %8s %6s %12s  %s\n", "time (s)", "RSS MiB", "anon MiB", "fds", "CPU %", "journal MiB", "pid"
	for (b = 0; b < 10; b++) {
		if (!(b in rss)) continue
		cpu = dt[b] > 0 ? sprintf("%.0f", 100 * dcpu[b] / dt[b]) : "-"
		printf "  %5d-%-5d %8.1f %9.1f %8s %6s %12.1f  %s\n", b * d / 10, (b + 1) * d / 10, rss[b] / 1024, an[b] / 1024, fmin[b] "-" fmax[b], cpu, jkb[b] / 1024, pid[b]
	}
}' "$T/soak.csv"
echo "  (every sample: soak.csv in the temp dir)"

rc=0
[ "$check_st" -eq 0 ] || rc=1
[ "$FAILS" -eq 0 ] || rc=1
[ "$CRASHES" -eq 0 ] || rc=1
if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$DAEMON_LOG"; then
	echo "  sanitizer report in the coldchaind log"
	rc=1
fi
if [ "$rc" -eq 0 ]; then
	echo "=== soak PASSED: nothing lost, nothing duplicated, no crash, every fault check ok"
else
	echo "=== soak FAILED: $CRASHES unexpected exit(s) of coldchaind, $FAILS failed check(s), points check status $check_st"
	CC_KEEP_TMP=1
fi
exit "$rc"
