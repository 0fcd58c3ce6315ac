#!/bin/bash
# A TLS listener with a CA made here (openssl) and password auth
# (mosquitto_passwd): coldchaind with the right CA and password connects
# and its messages arrive; with a wrong CA it refuses the broker (and says
# why); a password file readable by others is refused at load.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

P=$T/pki
mkdir -p "$P"
mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.crt" \
		>/dev/null 2>&1
}
mkca test-ca || die "openssl: cannot make the CA"
mkca wrong-ca || die "openssl: cannot make the wrong CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$P/server.key" -out "$P/server.csr" \
	>/dev/null 2>&1 || die "openssl: server key"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$P/ext"
openssl x509 -req -in "$P/server.csr" -CA "$P/test-ca.crt" -CAkey "$P/test-ca.key" -CAcreateserial -days 2 \
	-extfile "$P/ext" -out "$P/server.crt" >/dev/null 2>&1 || die "openssl: server certificate"
mosquitto_passwd -c -b "$P/passwd" coldchain 's3cret pass' || die "mosquitto_passwd failed"
printf 's3cret pass\n' >"$T/mqtt.password"
chmod 600 "$T/mqtt.password"

start_influxd
start_mosquitto "cafile $P/test-ca.crt
certfile $P/server.crt
keyfile $P/server.key
password_file $P/passwd
allow_anonymous false"
sed -i 's/^allow_anonymous true$//' "$MQTT_DIR/mosquitto.conf"
stop_mosquitto
start_mosquitto

tls_conf() { # CA_FILE STATE_SUFFIX
	config_head | sed "s|state\";|state$2\";|"
	cat <<CONF
mqtt = {
  broker = { host = "localhost"; port = $MQTT_PORT; client_id = "cc-itest-tls$2"; ca_file = "$1";
             username = "coldchain"; password_file = "$T/mqtt.password"; reconnect_max = "2s"; };
  subscriptions = ( { topic = "secure/{sensor}"; quantity = "temperature"; room = "S"; } );
};
CONF
	config_outputs
}
tls_conf "$P/test-ca.crt" "" >"$DAEMON_CONF"
start_daemon
check "TLS with the right CA and password: connected" wait_for "connected" daemon_mqtt_connected
mosquitto_pub -h localhost -p "$MQTT_PORT" --cafile "$P/test-ca.crt" -u coldchain -P 's3cret pass' -q 1 \
	-t secure/tls-1 -m 5.5 || fail "mosquitto_pub over TLS failed"
check "a message over TLS arrives" wait_for "tls point" influx_has "SELECT value FROM temperature WHERE sensor='tls-1' AND value = 5.5"
if grep -q 's3cret' "$DAEMON_LOG"; then fail "the password appears in the log"; else pass "the password is not logged"; fi

# The wrong CA: a second daemon (own state dir), never connects.
tls_conf "$P/wrong-ca.crt" "-wrong" >"$T/wrong.conf"
mkdir -p "$T/state-wrong"
start_bg coldchaind-wrong "$T/wrong.log" "$COLDCHAIND" -c "$T/wrong.conf"
WRONG_PID=$LAST_PID
refused() { grep -q -i "certificate verify failed\|cannot connect" "$T/wrong.log"; }
check "TLS with a wrong CA: the broker is refused, and the log says why" wait_for "refusal" refused
if grep -q "connected as" "$T/wrong.log"; then fail "connected despite the wrong CA"; else pass "never connected with the wrong CA"; fi
stop_pid "$WRONG_PID" 30 || fail "daemon with the wrong CA: exit status on SIGTERM"

chmod 644 "$T/mqtt.password"
out=$("$COLDCHAIND" -n -c "$DAEMON_CONF" 2>&1)
case $out in *"password file"*"readable by others"*) pass "a password file readable by others is refused: $out" ;;
*) fail "password file mode 644 not refused: $out" ;; esac
chmod 600 "$T/mqtt.password"
finish
