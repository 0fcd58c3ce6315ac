#!/bin/bash
# QoS 1 with a persistent session: messages published while coldchaind is
# stopped all arrive once it is back; a broker restart mid-stream is
# survived (reconnect, resubscribe) and every message published around it
# arrives.  Each message carries its own timestamp, so a duplicate would
# overwrite, never add, and a loss shows as a missing point.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

start_influxd
start_mosquitto
write_conf() {
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-persist"; protocol = "$1";
             reconnect_max = "2s"; };
  subscriptions = (
    { topic = "cold/{room}/{sensor}"; format = "json"; time = "ts"; time_unit = "ms";
      fields = { temperature = "v"; }; }
  );
};
CONF
		config_outputs
	} >"$DAEMON_CONF"
}
base=$((($(date +%s) - 600) * 1000))
# pub_range SENSOR FROM TO: one QoS 1 message per i, value i, time base+i ms.
pub_range() {
	local i
	for ((i = $2; i <= $3; i++)); do
		mqtt_pub "cold/A/$1" "{\"v\": $i, \"ts\": $((base + i))}" || return 1
	done
}
count_of() { influx_count "SELECT count(value) FROM temperature WHERE sensor='$1'"; }
has_count() { [ "$(count_of "$1")" = "$2" ]; }

for proto in 5 3.1.1; do
	s=p${proto//./}
	write_conf "$proto"
	start_daemon
	wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
	pub_range "$s" 1 5
	wait_for "first 5 of $s" has_count "$s" 5 || fail "MQTT $proto: first 5 messages did not arrive ($(count_of "$s"))"
	stop_daemon || fail "MQTT $proto: coldchaind exit status on SIGTERM"
	pub_range "$s" 6 105 || fail "mosquitto_pub failed"
	: >"$DAEMON_LOG"
	start_daemon
	if wait_for "all 105 of $s" has_count "$s" 105; then
		pass "MQTT $proto persistent session: 100 QoS 1 messages published while coldchaind was stopped all arrived"
	else
		fail "MQTT $proto persistent session: $(count_of "$s") of 105 messages arrived"
	fi
	grep -q "session resumed" "$DAEMON_LOG" && pass "MQTT $proto: the log says the session was resumed" ||
		fail "MQTT $proto: no 'session resumed' in the log"
	stop_daemon || fail "coldchaind exit status"
done

# Broker restart mid-stream.
write_conf 5
: >"$DAEMON_LOG"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
pub_range br 1 20
stop_mosquitto
start_mosquitto
pub_range br 21 60 || fail "mosquitto_pub after the broker restart failed"
check "coldchaind reconnected after the broker restart" wait_for "reconnect" daemon_mqtt_connected 2
if wait_for "all 60 of br" has_count br 60; then
	pass "broker restart: all 60 QoS 1 messages (20 before, 40 after the restart) arrived"
else
	fail "broker restart: $(count_of br) of 60 messages arrived"
fi
check "connection loss logged once" test "$(grep -c 'connection lost' "$DAEMON_LOG")" -eq 1
check "coldchaind_mqtt counts the reconnect" wait_for "reconnects" influx_has \
	"SELECT reconnects FROM coldchaind_mqtt WHERE reconnects >= 1"
finish
