#!/bin/bash
# A CA file that is readable (so `coldchaind -n` passes) but not a PEM
# certificate OpenSSL can load is a connection failure like any other: the
# daemon starts, says which file and why once, keeps retrying with its
# backoff, and connects as soon as the file holds the right CA, with no
# reload or restart; its messages then arrive over TLS.  Then the reloads
# (drivers/mqtt.h, mqtt_same_connection): one with the TLS files as they
# were keeps the connection; one after the CA file was written again (a
# renewed CA or certificate, under the same name) reconnects, reading it,
# and messages arrive over the new connection.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

P=$T/pki
test_pki "$P"

start_influxd
start_mosquitto "cafile $P/ca.crt
certfile $P/server.crt
keyfile $P/server.key"

printf 'this is not a certificate\n' >"$T/broker-ca.crt"
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "localhost"; port = $MQTT_PORT; client_id = "cc-itest-badca"; ca_file = "$T/broker-ca.crt";
             reconnect_max = "1s"; };
  subscriptions = ( { topic = "secure/{sensor}"; quantity = "temperature"; room = "S"; } );
};
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon
said() { grep -q "mqtt broker localhost:$MQTT_PORT: cannot connect: TLS setup (ca_file, ca_dir, cert, key): TLS CA $T/broker-ca.crt: " "$DAEMON_LOG"; }
check "the unreadable CA file is named in the log" wait_for "the TLS setup error" said
check "the daemon keeps running" pid_alive "$DAEMON_PID"
if daemon_mqtt_connected; then fail "connected with a CA file that is no certificate"; else pass "not connected meanwhile"; fi

cp "$P/ca.crt" "$T/broker-ca.crt"
check "connected once the file holds the CA, without a reload" wait_for "connected" daemon_mqtt_connected
expect_eq "the error was said once" "$(grep -c 'cannot connect: TLS setup' "$DAEMON_LOG")" 1
mosquitto_pub -h localhost -p "$MQTT_PORT" --cafile "$P/ca.crt" -q 1 -t secure/ca-1 -m 6.5 || fail "mosquitto_pub over TLS failed"
check "a message over TLS arrives" wait_for "tls point" influx_has "SELECT value FROM temperature WHERE sensor='ca-1' AND value = 6.5"

reloads() { [ "$(grep -c 'configuration reloaded' "$DAEMON_LOG")" -ge "$1" ]; }
kill -HUP "$DAEMON_PID"
wait_for "the first reload" reloads 1 || die "no 'configuration reloaded'"
check "a reload with the TLS files unchanged keeps the connection" file_has 'connection kept across the reload:' "$DAEMON_LOG"
expect_eq "connections after it" "$(grep -c 'connected as' "$DAEMON_LOG")" 1
cp "$P/ca.crt" "$T/broker-ca.crt.new" && mv "$T/broker-ca.crt.new" "$T/broker-ca.crt" # renewed: a new file
kill -HUP "$DAEMON_PID"
wait_for "the second reload" reloads 2 || die "no second 'configuration reloaded'"
check "a reload after the CA file was renewed reconnects" wait_for "a new connection" daemon_mqtt_connected 2
check "and says why" file_has 'the connection settings changed: reconnecting' "$DAEMON_LOG"
mosquitto_pub -h localhost -p "$MQTT_PORT" --cafile "$P/ca.crt" -q 1 -t secure/ca-2 -m 7.5 || fail "mosquitto_pub over TLS failed"
check "a message over the new TLS connection arrives" wait_for "tls point 2" influx_has "SELECT value FROM temperature WHERE sensor='ca-2' AND value = 7.5"
finish
