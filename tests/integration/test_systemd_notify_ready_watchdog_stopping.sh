#!/bin/bash
# The sd_notify protocol as systemd speaks it (Type=notify, WatchdogSec=):
# a datagram socket stands in for systemd's NOTIFY_SOCKET and records what
# the daemon sends: READY=1 once polling, WATCHDOG=1 pings at half the
# interval, STOPPING=1 at SIGTERM.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

SOCK=$T/notify.sock
MSGS=$T/notify.log
start_bg notify-listener "$T/listener.log" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    out.write("LISTENING\n")
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$SOCK" "$MSGS"
wait_for "notify listener" file_has LISTENING "$MSGS" || die "the notify listener did not start"

printf '%s\n' '1 input 0 int16 ABCD 41' >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
modbus = ( { name = "b"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "1s";
  devices = ( { name = "u1"; unit = 1; points = ( { channel = "t"; table = "input"; address = 0; type = "int16"; } ); } ); } );
outputs = { file = ( { name = "f"; path = "$T/points.lp"; } ); };
CONF
} >"$DAEMON_CONF"
export NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000
start_daemon
unset NOTIFY_SOCKET WATCHDOG_USEC

wait_for "READY=1" file_has "READY=1" "$MSGS" && pass "READY=1 is sent once the daemon polls" ||
	fail "no READY=1 on NOTIFY_SOCKET"
two_pings() { [ "$(grep -c '^WATCHDOG=1' "$MSGS")" -ge 2 ]; }
wait_for "two watchdog pings" two_pings && pass "WATCHDOG=1 pings arrive (WatchdogSec=1s)" ||
	fail "fewer than two WATCHDOG=1 pings"
kill -HUP "$DAEMON_PID"
wait_for "RELOADING=1" file_has "RELOADING=1" "$MSGS" && pass "SIGHUP sends RELOADING=1 then READY=1" ||
	fail "no RELOADING=1 on SIGHUP"
stop_daemon && st=0 || st=$?
check "SIGTERM exits 0" [ "$st" = 0 ]
check "STOPPING=1 is sent at SIGTERM" file_has "STOPPING=1" "$MSGS"
finish
