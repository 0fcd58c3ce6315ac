# tests/integration/lychee_data.sh - sourced after tests/lib.sh by the
# dashboard and report tests: real data written by coldchaind.  Starts
# influxd, mosquitto (so the MQTT self-metrics exist), the Modbus simulator's
# lychee scenario (1 s = 1 simulated minute: pull-down from field heat, door
# openings, CO2, a compressor fault in room B at 30 s) and coldchaind on
# config/demo.conf with the ports substituted (as tests/demo.sh does), the
# lot loaded now and short intervals.
# shellcheck shell=bash

LYCHEE_LOADED=
LYCHEE_CONF=$T/demo.conf

lychee_start() {
	need_bin "$COLDCHAIND" "$MODBUS_SIM"
	start_influxd coldchain
	start_mosquitto
	start_sim modbus_sim --tcp 127.0.0.1:0 --scenario lychee
	LYCHEE_LOADED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	local out="influxdb = ( { name = \"local\"; url = \"$(influx_url)\"; database = \"coldchain\"; batch = 1000; flush = \"1s\"; } );"
	sed -e "s|port = 15020;|port = $SIM_PORT;|" \
		-e "s|loaded = \"[^\"]*\"|loaded = \"$LYCHEE_LOADED\"|" \
		-e "s|state_dir = \"[^\"]*\";|state_dir = \"$T/state\";|" \
		-e "s|stats_interval = \"[^\"]*\";|stats_interval = \"2s\";|" \
		-e "s|shelf_life_interval = \"[^\"]*\";|shelf_life_interval = \"2s\";|" \
		-e "s|template_dir = \"[^\"]*\";||" \
		-e "/^outputs = {/,/^};/c\\
outputs = { $out };" \
		"$ROOT_DIR/config/demo.conf" >"$LYCHEE_CONF" || die "cannot write $LYCHEE_CONF"
	cat >>"$LYCHEE_CONF" <<EOF
template_dir = "$ROOT_DIR/config/devices";
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-lychee"; };
  subscriptions = ( { topic = "sensors/{room}/{sensor}/temperature"; quantity = "temperature"; unit = "C";
                      min = -40.0; max = 60.0; } );
};
EOF
	cp "$ROOT_DIR/config/profiles.conf" "$T/profiles.conf"
	cp "$ROOT_DIR/config/processes.conf" "$T/processes.conf"
	start_daemon "$LYCHEE_CONF"
	wait_for "coldchaind connected to mosquitto" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
	mqtt_pub sensors/C/probe-c1/temperature 4.2 || die "mosquitto_pub failed"
}

# lychee_wait_for MEASUREMENT...: polls InfluxDB until each has a point.
lychee_wait_for() {
	local m
	for m in "$@"; do
		wait_for "measurement $m in InfluxDB" -t 120 influx_has "SELECT * FROM \"$m\" LIMIT 1" ||
			die "no $m point reached InfluxDB"
	done
}
