#!/bin/bash
# A full disk never acknowledges what it did not journal.  The journal lives
# on a 2 MiB tmpfs; a filler file takes the rest of it, so appends fail with
# ENOSPC.  100 QoS 1 messages published then are not acknowledged (the
# persistent session keeps them on the broker, and each reconnect while the
# disk is still full gets them back unacknowledged); once the filler is removed
# every one of them arrives, each exactly once (own timestamps and values,
# counted in a file output, which would show a duplicate as a second line).
# Then the same with a clean session, where the broker would forget what a
# disconnect leaves unacknowledged: the burst is held, unread, and lands
# once space returns (within 1.5 x keepalive, 90 s here, of the broker's
# patience).
# Needs root for the tmpfs mount (CI runs as root); skipped otherwise.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
mount_journal_tmpfs 2m

FILE_OUT=$T/out.lp
start_mosquitto
write_conf() {
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-fulldisk"; reconnect_max = "2s";
             clean_session = $1; };
  subscriptions = (
    { topic = "cold/{room}/{sensor}"; format = "json"; time = "ts"; time_unit = "ms";
      fields = { temperature = "v"; }; }
  );
};
journal = { dir = "$J"; segment_size = "1M"; max_size = "64M"; };
outputs = { file = ( { name = "archive"; path = "$FILE_OUT"; } ); };
CONF
	} >"$DAEMON_CONF"
}
write_conf false
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"

base=$((($(date +%s) - 600) * 1000))
# pub_range FROM TO: one QoS 1 message per i (value i, time base+i ms), one connection.
pub_range() {
	"$PY" -c 'import sys
b, lo, hi = (int(a) for a in sys.argv[1:])
for i in range(lo, hi + 1):
    print("{\"v\": %d, \"ts\": %d}" % (i, b + i))' "$base" "$1" "$2" |
		mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "cold/A/${SENSOR:-full}" -l
}
# stats: "LINES DISTINCT" of the test's readings in the file output
stats() { lp_value_stats "$FILE_OUT" "${SENSOR:-full}"; }
has() { [ "$(stats)" = "$1 $1" ]; }

# segments: how many journal segments the daemon keeps.
segments() { find "$J" -maxdepth 1 -name '*.seg' | wc -l; }
one_segment() { [ "$(segments)" = 1 ]; }
# fill_disk: the filler takes all the space left, once the journal has no
# segment left to delete (only the active one: every output is past the
# others).  Filled earlier, the journal frees the space of delivered
# segments under the filler (the restarted daemon of the second half holds
# those of the first) and its appends fit there for longer than the test
# waits.  dd stops at ENOSPC.
fill_disk() {
	wait_for "the journal to delete its delivered segments" -t 120 one_segment ||
		die "the journal kept $(segments) segments: it cannot fill up"
	dd if=/dev/zero of="$J/filler" bs=64k >/dev/null 2>&1
}

pub_range 1 5 || die "mosquitto_pub failed"
wait_for "the first 5 messages" has 5 || die "the first 5 messages did not arrive ($(stats))"

fill_disk
wait_for "the journal to hit ENOSPC" grep -q "cannot append" "$DAEMON_LOG" ||
	die "the journal never reported a failed append"
pub_range 6 105 || fail "mosquitto_pub failed while the disk was full"
wait_for "coldchaind to withhold the PUBACKs" grep -q "the journal cannot take" "$DAEMON_LOG" &&
	pass "the log says the messages are not acknowledged while the journal cannot take them" ||
	fail "no withholding in the log"
# While the disk stays full, each reconnect gets the messages again and
# withholds them again (nothing journaled twice, nothing acknowledged).
wait_for "two reconnects while the disk is full" daemon_mqtt_connected 3 ||
	fail "coldchaind did not try again while the disk was full"
check "the daemon keeps running on a full disk" pid_alive "$DAEMON_PID"

rm -f "$J/filler"
if wait_for "all 105 messages" -t 120 has 105; then
	pass "all 100 QoS 1 messages published while the disk was full arrived once space returned, none twice"
else
	fail "after the disk freed up: (lines, distinct values) = ($(stats)), expected (105 105)"
fi
check "the log says acknowledging resumed" grep -q "the journal takes messages again" "$DAEMON_LOG"
# The daemon ends a withholding connection with a FIN after the PUBACKs it
# wrote.  A reset instead (mosquitto logs "disconnected: Broken pipe" or
# "Connection reset") makes the broker drop the PUBACKs it has not read yet
# and send those journaled messages again: a duplicate above only when the
# timing is unlucky, the reset itself nearly every run.
no_reset() { ! grep -Eq "cc-itest-fulldisk disconnected: (Broken pipe|Connection reset)" "$MQTT_LOG"; }
check "the broker read each of the daemon's connections to its end (no reset)" no_reset
withheld() {
	"$PY" - "$FILE_OUT" <<'PYEOF'
import re, sys
m = 0
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("coldchaind_mqtt,") and ",subscription=" not in line.split(" ")[0]:
        x = re.search(r"[ ,]withheld=([0-9]+)i", line)
        if x:
            m = max(m, int(x.group(1)))
sys.exit(0 if m > 0 else 1)
PYEOF
}
check "coldchaind_mqtt.withheld counts the unacknowledged messages" wait_for "withheld > 0" withheld
stop_daemon && st=0 || st=$?
check "SIGTERM exits 0" [ "$st" = 0 ]

# A clean session: the broker would forget what a disconnect left
# unacknowledged, so the burst is held and the connection left unread
# until the journal takes it.
SENSOR=clean
write_conf true
: >"$DAEMON_LOG"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect (clean session)"
pub_range 1 5 || die "mosquitto_pub failed"
wait_for "the first 5 messages (clean session)" has 5 || die "clean session: the first 5 did not arrive ($(stats))"
fill_disk
wait_for "the journal to hit ENOSPC" grep -q "cannot append" "$DAEMON_LOG" ||
	die "the journal never reported a failed append (clean session)"
pub_range 6 105 || fail "mosquitto_pub failed while the disk was full (clean session)"
wait_for "coldchaind to hold the messages" grep -q "holding them" "$DAEMON_LOG" &&
	pass "clean session: the messages are held, not acknowledged, while the journal cannot take them" ||
	fail "clean session: no holding in the log"
rm -f "$J/filler"
if wait_for "all 105 messages (clean session)" -t 120 has 105; then
	pass "clean session: all 100 QoS 1 messages published while the disk was full arrived once space returned, none twice"
else
	fail "clean session, after the disk freed up: (lines, distinct values) = ($(stats)), expected (105 105)"
fi
stop_daemon && st=0 || st=$?
check "SIGTERM exits 0 (clean session)" [ "$st" = 0 ]
umount_journal
finish
