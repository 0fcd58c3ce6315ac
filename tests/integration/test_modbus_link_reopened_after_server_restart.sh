#!/bin/bash
# The daemon reopens a broken TCP link itself: the Modbus server goes away
# (killed by PID), polls in the meantime land as comm_error samples (the gap
# is recorded, not hidden), and once a server listens again on the same
# port good readings resume without restarting the daemon.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

printf '%s\n' '1 input 0 int16 ABCD 41' >"$T/sim.map"
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
PORT=$SIM_PORT
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1";
    tcp = { host = "127.0.0.1"; port = $PORT; };
    timeout = "500ms";
    interval = "1s";
    backoff_max = "2s";
    devices = (
      { name = "u1"; unit = 1; room = "A";
        points = ( { channel = "t"; quantity = "temperature"; table = "input"; address = 0; type = "int16"; } ); }
    ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

wait_for "a good reading" influx_has "SELECT value FROM temperature WHERE sensor='u1'" ||
	die "no reading before the outage"
stop_pid "$SIM_PID" 10 >/dev/null
SIM_PID=
down_at=$(date +%s)

wait_for "comm_error samples during the outage" influx_has \
	"SELECT quality FROM temperature WHERE sensor='u1' AND quality='comm_error' AND time >= ${down_at}s" &&
	pass "while the server is away, polls land as quality=comm_error" ||
	fail "no comm_error sample while the Modbus server was down"
check "the daemon logged the lost link" grep -qE "link to 127.0.0.1:$PORT lost|cannot open 127.0.0.1:$PORT" "$DAEMON_LOG"

# The same map now answers 42, so a reading after the restart is unambiguous.
printf '%s\n' '1 input 0 int16 ABCD 42' >"$T/sim.map"
start_sim sim2 --tcp "127.0.0.1:$PORT" --map "$T/sim.map"
[ "$SIM_PORT" = "$PORT" ] || die "the simulator did not get port $PORT back (got $SIM_PORT)"
wait_for "readings from the restarted server" influx_has \
	"SELECT value FROM temperature WHERE sensor='u1' AND value = 42" &&
	pass "readings resume after the server comes back, without restarting the daemon" ||
	fail "no reading from the restarted server"
check "recovery is logged once" grep -q "connected to 127.0.0.1:$PORT again after" "$DAEMON_LOG"
check "the daemon is still running" pid_alive "$DAEMON_PID"
finish
