#!/bin/bash
# A line a real influxd refuses (field type conflict: "value" is already a
# string in measurement temperature) goes to the quarantine file with
# InfluxDB's reason; the lines around it (humidity, same batches) land, and
# the output keeps delivering: one bad line never stalls it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

QUAR=$T/quarantine.lp
printf '%s\n' '1 input 0 int16 ABCD 215' '1 input 1 int16 ABCD 880' >"$T/sim.map"
start_influxd
# the conflict: temperature.value is a string in this shard
curl -sS --fail -XPOST "$(influx_url)/write?db=$INFLUX_DB" \
	--data-binary "temperature,sensor=seed value=\"text\" $(date +%s%N)" || die "cannot seed the conflict"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "500ms";
    devices = ( { name = "dev-1"; unit = 1; room = "A"; points = (
      { channel = "t"; quantity = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; },
      { channel = "rh"; quantity = "humidity"; table = "input"; address = 1; type = "int16"; scale = 0.1; } ); } ); }
);
outputs = {
  influxdb = ( { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 1000; flush = "1s";
                 quarantine = "$QUAR"; } );
};
CONF
} >"$DAEMON_CONF"
start_daemon

q_rh="SELECT count(value) FROM humidity WHERE sensor='dev-1'"
wait_for "humidity in InfluxDB" influx_has "$q_rh" || fail "the good lines did not land"
wait_for "a quarantined line" file_has "field type conflict" "$QUAR" || fail "nothing quarantined"
check "the quarantine holds the refused temperature line after InfluxDB's reason" \
	grep -q -A1 "^# .* output itest: HTTP 400: .*field type conflict" "$QUAR"
check "only refused lines are quarantined (no humidity)" bash -c "! grep -q '^humidity' '$QUAR'"
check "a quarantined line is the reading itself" grep -q '^temperature,channel=t,room=A,sensor=dev-1,site=itest value=21.5 ' "$QUAR"
n1=$(influx_scalar "$q_rh")
more_rh() { [ "$(influx_scalar "$q_rh")" -gt "$((n1 + 2))" ]; }
check "the output keeps delivering after refusals" wait_for "more humidity" more_rh
check "no temperature reading from dev-1 in InfluxDB" bash -c "[ -z \"\$(influx_scalar \"SELECT count(value) FROM temperature WHERE sensor='dev-1'\")\" ]"
rejected_counted() {
	local r
	r=$(influx_scalar "SELECT max(rejected) FROM coldchaind_output WHERE \"output\"='itest'")
	[ -n "$r" ] && [ "$r" -gt 0 ]
}
check "coldchaind_output.rejected counts them" wait_for "rejected self-metric" rejected_counted
finish
