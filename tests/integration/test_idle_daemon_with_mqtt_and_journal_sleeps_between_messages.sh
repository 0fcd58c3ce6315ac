#!/bin/bash
# An idle coldchaind (MQTT subscription, journal, file output, one room;
# nothing arriving) sleeps between messages: its threads together wake at
# most 2 times a second (the main loop's 1 s timer tick; the MQTT thread
# waits a quarter of the keepalive, the journal's sync thread until there is
# something to sync).  Before issue 18 it was about 4/s (the MQTT poll every
# 500 ms, the sync thread every journal.fsync).  And it still reacts at once:
# a message published after the quiet spell lands in the file output.
# Wake-ups: voluntary context switches of every thread, /proc/PID/task/*/status.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto >/dev/null || skip "mosquitto missing (tests/deps.sh)"
QUIET=${CC_IDLE_SECONDS:-8}

start_mosquitto
{
	STATS_INTERVAL=1h config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-idle-test"; };
  subscriptions = ( { topic = "sensors/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 1; } );
};
profiles = ( { name = "cold"; version = "t1"; limits = { warn_high = 7.0; alarm_high = 10.0; }; } );
rooms = ( { name = "R1"; profile = "cold"; temperature = "s1/temperature"; } );
outputs = { file = ( { name = "f"; path = "$T/points.lp"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon_mqtt
mqtt_pub sensors/s1/temperature 3.5 || die "mosquitto_pub failed"
wait_for "the first reading in the file output" file_has 'value=3.5' "$T/points.lp" ||
	die "the first reading did not reach the file output"

switches() {
	local f s=0 v
	for f in /proc/"$DAEMON_PID"/task/*/status; do
		v=$(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$f" 2>/dev/null) && s=$((s + ${v:-0}))
	done
	echo "$s"
}
perthread() {
	local d
	for d in /proc/"$DAEMON_PID"/task/*; do
		echo "$(basename "$d"):$(tr -d ' ' <"$d/comm") $(awk '/^voluntary_ctxt_switches:/ { print $2 }' "$d/status" 2>/dev/null)"
	done
}
# the reading's journal sync and flush are over within a second or two
sleep 3 # a quiet spell is what is measured: nothing to wait for
perthread >"$T/before"
a=$(switches)
sleep "$QUIET" # the measured quiet spell
b=$(switches)
perthread >"$T/after"
rate=$(awk -v d=$((b - a)) -v s="$QUIET" 'BEGIN { printf "%.2f", d / s }')
if awk -v r="$rate" 'BEGIN { exit !(r <= 2.0) }'; then
	pass "idle for ${QUIET} s: $((b - a)) wake-ups, $rate/s (at most 2/s)"
else
	fail "idle for ${QUIET} s: $((b - a)) wake-ups, $rate/s (more than 2/s); per thread (tid:name before after):"
	join "$T/before" "$T/after" | sed 's/^/  | /'
fi

mqtt_pub sensors/s1/temperature 4.5 || die "mosquitto_pub failed"
if wait_for "the reading after the quiet spell" -t 10 file_has 'value=4.5' "$T/points.lp"; then
	pass "a reading published after the quiet spell reaches the file output"
else
	fail "the reading published after the quiet spell did not reach the file output within 10 s"
fi
finish
