#!/bin/bash
# Operations contract: SIGHUP with a broken config keeps the running one
# (and says so); SIGHUP with a valid changed config applies it; a second
# daemon on the same state_dir is refused; SIGTERM exits 0 within the
# shutdown timeout after flushing what was queued, and the lock is released.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

printf '%s\n' \
	'1 input 0 int16 ABCD 215' \
	'2 input 0 int16 ABCD 42' >"$T/sim.map"

start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

device() { # NAME UNIT
	cat <<CONF
      { name = "$1"; unit = $2; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 0; type = "int16"; scale = 0.1; } ); }
CONF
}
# modbus_config DEVICES...: DEVICES are "name:unit".
modbus_config() {
	local d sep=""
	printf 'modbus = (\n  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = %s; };\n' "$SIM_PORT"
	printf '    timeout = "500ms"; interval = "1s";\n    devices = (\n'
	for d in "$@"; do
		printf '%s' "$sep"
		device "${d%%:*}" "${d##*:}"
		sep=","
	done
	printf '    ); }\n);\n'
}
# outputs_config FLUSH FILE: InfluxDB plus a file output that records every
# line the daemon produced, the reference for "nothing lost".
outputs_config() {
	cat <<CONF
outputs = {
  influxdb = (
    { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB";
      batch = 100000; flush = "$1"; }
  );
  file = ( { name = "archive"; path = "$2"; } );
};
CONF
}
# write_config FILE DEVICES...: replaced atomically (a reload never reads
# a half-written file).
write_config() {
	local f=$1
	shift
	{
		config_head
		modbus_config "$@"
		outputs_config 1s "$T/points-a.lp"
	} >"$f.tmp" && mv "$f.tmp" "$f"
}
# all_in_influx FILE SENSOR: every reading of SENSOR in the file output is
# in InfluxDB with the same timestamp; prints the missing ones.
all_in_influx() {
	comm -23 <(lp_timestamps "$1" temperature "$2" | sort) \
		<(influx_timestamps "SELECT value FROM temperature WHERE sensor='$2'" | sort)
}

write_config "$DAEMON_CONF" dev-1:1
start_daemon
has_point() { # SENSOR [AFTER_EPOCH_S]
	influx_has "SELECT value FROM temperature WHERE sensor='$1' AND time > ${2:-0}s"
}
wait_for "points from dev-1" has_point dev-1 || die "no points from dev-1 at start"
pass "daemon writes points (dev-1)"

# ---- a second instance on the same state_dir is refused
timeout 30 "$COLDCHAIND" -c "$DAEMON_CONF" >"$T/second.log" 2>&1
st=$?
if [ "$st" -eq 1 ] && grep -q "already running" "$T/second.log"; then
	pass "second instance on the same state_dir exits 1: $(grep -m1 'already running' "$T/second.log")"
else
	fail "second instance: exit status $st (want 1 with 'already running')"
	sed 's/^/  | /' "$T/second.log"
fi
pid_alive "$DAEMON_PID" || fail "the first daemon died when a second one was started"

# ---- SIGHUP with a broken config: keep running with the old one
cp "$DAEMON_CONF" "$T/good.conf"
{
	cat "$T/good.conf"
	echo 'stats_interval = "not a duration";'
	echo 'no_such_key = 1;'
} >"$T/broken.conf"
cp "$T/broken.conf" "$DAEMON_CONF.tmp" && mv "$DAEMON_CONF.tmp" "$DAEMON_CONF"
kill -HUP "$DAEMON_PID"
reload_failed() { grep -q "reload failed, keeping previous configuration" "$DAEMON_LOG"; }
if wait_for "reload failure logged" reload_failed; then
	pass "SIGHUP with a broken config logs: reload failed, keeping previous configuration"
else
	fail "SIGHUP with a broken config: no 'reload failed, keeping previous configuration' line"
fi
# the checker's messages (coldchaind -n run by the daemon) come to the
# daemon's log with the file and line (libconfig's: the config sets
# stats_interval already, so the appended one is a duplicate)
n=$(wc -l <"$T/good.conf")
check "the broken reload's error names the file and line" \
	grep -q "error: reload: .*coldchaind.conf:$((n + 1)): duplicate setting name" "$DAEMON_LOG"
check "the check ran this binary as coldchaind -n, not a fork" sh -c "! grep -q 'checking in a fork' '$DAEMON_LOG'"
now=$(date +%s)
if pid_alive "$DAEMON_PID" && wait_for "dev-1 points after failed reload" has_point dev-1 "$((now + 1))"; then
	pass "after the failed reload the daemon still writes points"
else
	fail "after the failed reload: daemon alive? $(pid_alive "$DAEMON_PID" && echo yes || echo no), no new points"
fi

# ---- SIGHUP with a valid, changed config: the new device appears
write_config "$DAEMON_CONF" dev-1:1 dev-2:2
kill -HUP "$DAEMON_PID"
if wait_for "points from dev-2 after reload" has_point dev-2; then
	v=$(influx_scalar "SELECT last(value) FROM temperature WHERE sensor='dev-2'")
	expect_num "SIGHUP with an added device: dev-2 value" "$v" 4.2
else
	fail "SIGHUP with an added device: no points from dev-2"
fi
now=$(date +%s)
check "after the reload dev-1 is still polled" wait_for "dev-1 after reload" has_point dev-1 "$((now + 1))"

# ---- SIGTERM: exit 0 within the shutdown timeout
t_start=$SECONDS
stop_daemon 40
st=$?
elapsed=$((SECONDS - t_start))
# shutdown_timeout is 10 s; the margin is for a loaded machine.
if [ "$st" -eq 0 ] && [ "$elapsed" -le 25 ]; then
	pass "SIGTERM: exit status 0 after ${elapsed}s (shutdown_timeout 10s)"
else
	fail "SIGTERM: exit status $st after ${elapsed}s (want 0 within shutdown_timeout 10s + margin)"
fi
# Across both reloads and the exit, nothing queued was lost.
for s in dev-1 dev-2; do
	n=$(lp_timestamps "$T/points-a.lp" temperature "$s" | grep -c .)
	missing=$(all_in_influx "$T/points-a.lp" "$s")
	if [ "$n" -gt 0 ] && [ -z "$missing" ]; then
		pass "$s: all $n readings (across two SIGHUPs and SIGTERM) are in InfluxDB"
	else
		fail "$s: $n readings in the file output; missing from InfluxDB: ${missing//$'\n'/ }"
	fi
done

# ---- SIGTERM flushes queued points.  A fresh daemon (the lock must be
# free again) with a 60 s InfluxDB flush, so points sit in its queue, and a
# file output that records every line it produced: after SIGTERM every
# reading in the file must be in InfluxDB.
FILE_OUT=$T/points.lp
mv "$DAEMON_LOG" "$T/coldchaind.1.log"
{
	config_head
	modbus_config dev-9:1
	outputs_config 60s "$FILE_OUT"
} >"$DAEMON_CONF"
start_daemon
pass "a new daemon starts on the same state_dir after a clean exit"
three_in_file() { [ "$(lp_timestamps "$FILE_OUT" temperature dev-9 | grep -c .)" -ge 3 ]; }
wait_for "3 dev-9 readings in the file output" three_in_file ||
	fail "file output: fewer than 3 dev-9 readings in $FILE_OUT"
before=$(influx_scalar "SELECT count(value) FROM temperature WHERE sensor='dev-9'")
stop_daemon 40
st=$?
expect_eq "SIGTERM with queued points: exit status" "$st" 0
n_file=$(lp_timestamps "$FILE_OUT" temperature dev-9 | grep -c .)
missing=$(all_in_influx "$FILE_OUT" dev-9)
if [ "$n_file" -ge 3 ] && [ -z "$missing" ]; then
	pass "SIGTERM flushed the queue: all $n_file readings of the file output are in InfluxDB (${before:-0} were before TERM)"
else
	fail "SIGTERM flush: $n_file readings in the file output, missing from InfluxDB: ${missing//$'\n'/ }"
fi

finish
