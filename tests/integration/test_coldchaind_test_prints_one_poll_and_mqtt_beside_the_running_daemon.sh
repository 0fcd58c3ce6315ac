#!/bin/bash
# `coldchaind --test` (issue 17): every Modbus point read once through the
# daemon's own driver and encoder, MQTT listened to for --duration, the line
# protocol on stdout sorted by time; exit 0 when every read worked, 1 with
# each failed point named on stderr.  It writes nothing (a state dir that
# does not exist is not created) and runs beside the daemon on the same
# config: no lock taken, the daemon's MQTT session and control socket
# untouched.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

printf '%s\n' \
	'1 input 0 int16 ABCD 41' \
	'1 input 1 int16 ABCD -7' \
	'2 holding 10 uint16 ABCD 655' \
	'3 dead' >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
start_mosquitto
# retained: the --test client gets it as soon as it subscribes
mqtt_pub "sensors/B/probe9/temperature" "3.5" -r

modbus_conf() { # modbus_conf WITH_DEAD_UNIT
	cat <<CONF
modbus = (
  { name = "tcp-1";
    tcp = { host = "127.0.0.1"; port = $SIM_PORT; };
    timeout = "500ms"; interval = "1s";
    devices = (
      { name = "u1"; unit = 1; room = "A";
        points = ( { channel = "air"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 0; type = "int16"; scale = 0.1; },
                   { channel = "coil_in"; quantity = "temperature"; unit = "C";
                     table = "input"; address = 1; type = "int16"; } ); },
      { name = "u2"; unit = 2; room = "A";
        points = ( { channel = "rh"; quantity = "humidity"; unit = "%";
                     table = "holding"; address = 10; type = "uint16"; scale = 0.1; } ); }$1
    ); }
);
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-dtest"; };
  subscriptions = ( { topic = "sensors/{room}/{sensor}/temperature"; quantity = "temperature"; unit = "C"; } );
};
outputs = { file = ( { name = "archive"; path = "$T/archive.lp"; } ); };
CONF
}
DEAD=',
      { name = "u5"; unit = 5; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; table = "input"; address = 3; type = "int16"; } ); }'

{ config_head; modbus_conf ""; } >"$DAEMON_CONF"
sed "s|state_dir = \"$T/state\"|state_dir = \"$T/nostate\"|" "$DAEMON_CONF" >"$T/fresh.conf"
{ config_head; modbus_conf "$DEAD"; } | sed "s|state_dir = \"$T/state\"|state_dir = \"$T/nostate\"|" >"$T/dead.conf"
"$COLDCHAIND" -n -c "$T/dead.conf" >/dev/null || die "the dead-unit config is refused by -n"

# 1. Alone, with a state dir that does not exist.
t0=$(date +%s%N)
rc=0
"$COLDCHAIND" --test -c "$T/fresh.conf" --duration 2s >"$T/out1" 2>"$T/err1.log" || rc=$?
t1=$(date +%s%N)
expect_eq "--test exit status with every read working" "$rc" 0
sed 's/^/  out | /' "$T/out1"
sed 's/^/  err | /' "$T/err1.log"
out_has() { grep -qE "$1" "$T/out1" || fail "stdout lacks: $1"; }
out_has '^temperature,channel=air,room=A,sensor=u1,site=itest,unit=C value=4\.1 [0-9]{19}$'
out_has '^temperature,channel=coil_in,room=A,sensor=u1,site=itest,unit=C value=-7 [0-9]{19}$'
out_has '^humidity,channel=rh,room=A,sensor=u2,site=itest,unit=% value=65\.5 [0-9]{19}$'
out_has '^temperature,channel=temperature,room=B,sensor=probe9,site=itest,unit=C value=3\.5 [0-9]{19}$'
expect_eq "lines printed (3 Modbus points + 1 MQTT message)" "$(wc -l <"$T/out1")" 4
sorted=$(awk '{print $NF}' "$T/out1" | sort -n -c 2>&1 && echo yes)
expect_eq "lines sorted by time" "$sorted" yes
"$PY" - "$T/out1" "$t0" "$t1" <<'PY' || fail "a timestamp outside the run"
import sys
lo, hi = int(sys.argv[2]), int(sys.argv[3])
for l in open(sys.argv[1]):
    ts = int(l.split()[-1])
    assert lo <= ts <= hi, l
PY
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -ge 2000 ] && [ "$ms" -lt 8000 ] && pass "listened for --duration 2s (ran ${ms} ms)" ||
	fail "ran ${ms} ms for --duration 2s"
[ ! -e "$T/nostate" ] && pass "the state dir was not created" || fail "--test created $T/nostate: $(ls -la "$T/nostate")"
[ ! -e "$T/archive.lp" ] && pass "the file output was not written" || fail "--test wrote the file output"

# 2. A dead unit: exit 1, its point named on stderr, the others still printed.
rc=0
"$COLDCHAIND" --test -c "$T/dead.conf" --duration 1s >"$T/out2" 2>"$T/err2.log" || rc=$?
expect_eq "--test exit status with a dead unit" "$rc" 1
sed 's/^/  err | /' "$T/err2.log"
grep -q '^bus tcp-1 unit 5 (u5) input 3 (t): Target device failed to respond$' "$T/err2.log" &&
	pass "the dead unit's point is named on stderr" || fail "stderr does not name bus tcp-1 unit 5 input 3"
grep -q 'value=65.5' "$T/out2" && pass "the live units are still printed" || fail "live unit missing beside a dead one"
grep -q '^temperature,channel=t,room=A,sensor=u5,site=itest quality="comm_error" ' "$T/out2" &&
	pass "the dead point is printed as the daemon records it (comm_error)" || fail "no comm_error line for u5"

# 3. Beside the running daemon, same config and state dir.
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
wait_for "archive written" file_has 'sensor=u1' "$T/archive.lp" || die "the daemon wrote no point"
lockpid=$(cat "$T/state/coldchaind.pid")
rc=0
"$COLDCHAIND" --test -c "$DAEMON_CONF" --duration 1s >"$T/out3" 2>"$T/err3.log" || rc=$?
expect_eq "--test beside the daemon: exit status" "$rc" 0
grep -q 'sensor=probe9' "$T/out3" && pass "--test beside the daemon got the MQTT message" || fail "no MQTT line beside the daemon"
pid_alive "$DAEMON_PID" && pass "the daemon still runs" || fail "the daemon died"
expect_eq "the lock file still names the daemon" "$(cat "$T/state/coldchaind.pid")" "$lockpid"
expect_eq "the daemon's MQTT connections (not kicked by --test)" \
	"$(grep -c 'mqtt broker .*: connected as' "$DAEMON_LOG")" 1
ctl status >"$T/status" 2>&1 && pass "the control socket still answers" || fail "status failed: $(cat "$T/status")"
n0=$(grep -c 'sensor=u1' "$T/archive.lp")
wait_for "the daemon keeps polling" -t 10 eval '[ "$(grep -c sensor=u1 "$T/archive.lp")" -gt "$n0" ]' ||
	fail "the daemon stopped writing points"
grep -q 'coldchaind-test' "$T/err3.log" && fail "--test logged its client id at warning level" || true

# 4. Usage errors.
rc=0
"$COLDCHAIND" --test --duration 0s -c "$DAEMON_CONF" >/dev/null 2>&1 || rc=$?
expect_eq "--duration 0s is a usage error" "$rc" 2
finish
