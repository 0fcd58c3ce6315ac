#!/bin/bash
# A full disk: the journal lives on a 1.2 MiB tmpfs while InfluxDB is away, so
# appends fail with ENOSPC.  The daemon logs it (naming the journal), counts
# the lines it could not journal, keeps polling and never crashes; once
# InfluxDB is back the outputs drain, segments are deleted, space frees up,
# journaling resumes on its own ("writing again") and new readings land.
# Needs root for the tmpfs mount (CI runs as root); skipped otherwise.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
mount_journal_tmpfs 1200k

# 50 points every 100 ms: the 1.2 MiB fill up within half a minute.
: >"$T/sim.map"
POINTS=
for i in $(seq 0 49); do
	echo "1 holding $((2 * i)) float32 ABCD $i.5" >>"$T/sim.map"
	POINTS="$POINTS${POINTS:+,}
      { channel = \"p$i\"; quantity = \"temperature\"; table = \"holding\"; address = $((2 * i)); type = \"float32\"; }"
done
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "100ms";
    devices = ( { name = "dev-1"; unit = 1; points = ( $POINTS ); } ); }
);
outputs = {
  influxdb = ( { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 1000; flush = "200ms"; backoff_max = "2s"; } );
};
journal = { dir = "$J"; segment_size = "1M"; max_size = "64M"; };
CONF
} >"$DAEMON_CONF"
start_daemon
stop_influxd

wait_for "the journal to hit ENOSPC" -t 300 grep -q "cannot append" "$DAEMON_LOG" ||
	{ umount_journal; die "the journal never reported a failed append"; }
check "the failure names the journal and the cause" grep -qE "journal $J: cannot append .*No space left on device" "$DAEMON_LOG"
check "the daemon keeps running on a full disk" pid_alive "$DAEMON_PID"

start_influxd
t_back=$(date +%s)
wait_for "journaling to resume" -t 120 grep -q "writing again after" "$DAEMON_LOG" &&
	pass "journaling resumes by itself once the outputs free space" || fail "journaling did not resume"
fresh() { influx_has "SELECT value FROM temperature WHERE time > ${t_back}s"; }
wait_for "readings after the disk freed up" -t 120 fresh &&
	pass "new readings land after the disk was full" || fail "no readings after the disk freed up"
lost() {
	local n
	n=$(influx_scalar "SELECT last(not_journaled) FROM coldchaind_journal")
	[ -n "$n" ] && [ "$n" -gt 0 ]
}
wait_for "not_journaled in the self-metrics" -t 60 lost &&
	pass "coldchaind_journal counts the lines it could not journal" || fail "the loss is not counted"
stop_daemon && st=0 || st=$?
check "SIGTERM exits 0" [ "$st" = 0 ]
umount_journal
finish
