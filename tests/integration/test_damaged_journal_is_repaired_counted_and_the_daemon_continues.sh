#!/bin/bash
# A journal segment with a flipped byte and one with a torn tail: the daemon
# starts, logs and counts both (coldchaind_journal), and keeps delivering;
# the records around the damage are still delivered.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

FILE_OUT=$T/points.lp
printf '%s\n' '1 input 0 int16 ABCD 37' >"$T/sim.map"
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
STATS_INTERVAL=1s
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "100ms";
    devices = ( { name = "dev-1"; unit = 1; points = (
      { channel = "t"; quantity = "temperature"; table = "input"; address = 0; type = "int16"; } ); } ); }
);
outputs = {
  influxdb = ( { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 1000; flush = "200ms"; } );
};
journal = { segment_size = "1M"; max_size = "64M"; };
CONF
} >"$DAEMON_CONF"
start_daemon
# Hold the data in the journal: InfluxDB away.
stop_influxd
J=$T/state/journal
wait_for "some records journaled" -t 60 bash -c "[ \$(stat -c %s $J/0000000000000000.seg 2>/dev/null || echo 0) -gt 20000 ]" ||
	die "nothing journaled"
stop_daemon || fail "coldchaind did not exit 0 on SIGTERM"
seg=$(ls "$J"/*.seg | sort | head -n 1)
size=$(stat -c %s "$seg")
# flip a byte in the middle (inside some record), then a torn half-record at the end
"$PY" - "$seg" "$((size / 2))" <<'PYEOF'
import sys
p, at = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0x55]))
with open(p, "ab") as f:
    f.write(b"JCCJ\x40\x00\x00\x00torn-by-a-power-cut")
PYEOF
DAEMON_LOG=$T/coldchaind-2.log
start_influxd
start_daemon
check "the daemon starts on the damaged journal" pid_alive "$DAEMON_PID"
check "it logs the corrupt record it skipped" grep -q "corrupt record(s) skipped" "$DAEMON_LOG"
check "it logs the torn tail it cut" grep -q "torn tail of 27 bytes truncated" "$DAEMON_LOG"
counted() {
	local c
	c=$(influx_scalar "SELECT last(corrupt_skipped) FROM coldchaind_journal")
	[ -n "$c" ] && [ "$c" -ge 1 ]
}
check "coldchaind_journal.corrupt_skipped counts it" wait_for "corrupt_skipped >= 1" counted
t_now=$(date +%s)
fresh() { influx_has "SELECT value FROM temperature WHERE time > ${t_now}s"; }
check "new readings keep arriving" wait_for "fresh readings" fresh
old_ones() {
	local n
	n=$(influx_scalar "SELECT count(value) FROM temperature WHERE time < ${t_now}s")
	[ -n "$n" ] && [ "$n" -gt 50 ]
}
check "the readings journaled before the damage are delivered" wait_for "old readings" old_ones
finish
