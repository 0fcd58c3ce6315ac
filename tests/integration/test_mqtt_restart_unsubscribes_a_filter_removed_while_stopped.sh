#!/bin/bash
# A persistent session outlives the daemon, subscriptions included, and
# MQTT cannot list them: a subscription removed from the file while the
# daemon was stopped stayed in the broker's session, which kept sending its
# messages (counted unmatched) and queued them while the daemon was away.
# The daemon keeps the filters it subscribed to in its state directory
# (mqtt.subscriptions, sealed with a CRC; drivers/mqtt_subs.c), so the next
# start unsubscribes from those no longer configured once the session is
# resumed, with Debian's mosquitto:
#   - after the restart, `unsubscribed from dropped/+/temperature` is
#     logged, and a message on it no longer reaches the daemon (unmatched 0)
#     while the kept filter's messages are stored;
#   - a restart with the same file unsubscribes from nothing;
#   - a state file that is not the daemon's (its CRC) is said and ignored:
#     the daemon starts and connects.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto >/dev/null || skip "mosquitto not installed"

POINTS=$T/points.lp
STATS_INTERVAL=1s
start_mosquitto

# write_config FILTERS...: one subscription per topic pattern
write_config() {
	local sep="" t
	{
		config_head
		printf 'mqtt = {\n  broker = { host = "127.0.0.1"; port = %s; client_id = "cc-restart-unsub"; };\n' "$MQTT_PORT"
		printf '  subscriptions = ('
		for t in "$@"; do
			printf '%s { topic = "%s"; quantity = "temperature"; unit = "C"; qos = 1; }' "$sep" "$t"
			sep=","
		done
		printf ' );\n};\noutputs = { file = ( { name = "archive"; path = "%s"; } ); };\n' "$POINTS"
	} >"$DAEMON_CONF"
}
values() { grep "^temperature,.*sensor=$1[,\ ]" "$POINTS" 2>/dev/null | grep -o ' value=[^ ]*' | cut -d= -f2; }
has() { [ -n "$(values "$1")" ]; }
stats_after() { [ "$(mqtt_self_lines "$POINTS" | wc -l)" -gt "$1" ]; }

write_config "kept/{sensor}/temperature" "dropped/{sensor}/temperature"
start_daemon_mqtt
check "the filters subscribed to are kept in the state directory" \
	wait_for "mqtt.subscriptions" file_has 'dropped/+/temperature' "$T/state/mqtt.subscriptions"
stop_daemon

write_config "kept/{sensor}/temperature"
DAEMON_LOG=$T/coldchaind-2.log
start_daemon_mqtt
check "after the restart the removed filter is unsubscribed" \
	wait_for "the UNSUBACK" file_has 'unsubscribed from dropped/+/temperature' "$DAEMON_LOG"
mqtt_pub dropped/d1/temperature 7.5
mqtt_pub kept/k1/temperature 8.5
wait_for "the kept filter's message" has k1 || die "the kept filter's message never arrived"
n=$(mqtt_self_lines "$POINTS" | wc -l)
wait_for "self-metrics after it" stats_after "$n" || die "no self-metrics"
expect_eq "the removed filter's message: unmatched, stored" "$(mqtt_self_stat unmatched "$POINTS") $(values d1 | wc -l)" "0 0"
stop_daemon

DAEMON_LOG=$T/coldchaind-3.log
start_daemon_mqtt
mqtt_pub kept/k2/temperature 9.5
wait_for "a message after the third start" has k2 || die "nothing after the third start"
if grep -qE 'unsubscribed from|unsubscribing from|no longer configured: unsubscribing' "$DAEMON_LOG"; then fail "a restart with the same file unsubscribed"; else pass "a restart with the same file unsubscribes from nothing"; fi
stop_daemon

printf 'broker 127.0.0.1:%s\nclient_id cc-restart-unsub\nfilter kept/+/temperature\n' "$MQTT_PORT" >"$T/state/mqtt.subscriptions"
DAEMON_LOG=$T/coldchaind-4.log
start_daemon_mqtt
check "a state file without the daemon's CRC is said and ignored" \
	file_has 'mqtt.subscriptions not read: its CRC does not match' "$DAEMON_LOG"
finish
