#!/bin/bash
# VictoriaMetrics (Debian's victoria-metrics) as a second line-protocol
# server: one daemon writes the same MQTT readings through the v1 /write
# API (outputs.influxdb, a database nobody created) and the v2 API
# (outputs.influxdb2, org, bucket and a token).  Every reading becomes the
# metric temperature_value with its tags as labels and its payload time to
# the millisecond; CREATE DATABASE is never sent (VictoriaMetrics never says
# "database not found"); VictoriaMetrics stopped mid-run and started again
# loses nothing: its count equals the daemon's own count, exactly.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/integration/victoria_lib.sh
. "$(dirname "$0")/victoria_lib.sh"
need_bin "$COLDCHAIND"

STATS_INTERVAL=1s
start_vm
start_mosquitto
printf 'vm-ignores-but-needs-a-token\n' >"$T/token"
chmod 600 "$T/token"
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-vm"; };
  subscriptions = (
    { topic = "vmt/{room}/{sensor}"; format = "json"; time = "ts"; time_unit = "ms";
      fields = { temperature = "v"; }; }
  );
};
outputs = {
  influxdb = ( { name = "vm1"; url = "$(vm_url)"; database = "coldchain"; batch = 500; flush = "200ms";
                 backoff_max = "1s"; } );
  influxdb2 = ( { name = "vm2"; url = "$(vm_url)"; org = "coop"; bucket = "hub"; token_file = "$T/token";
                  batch = 500; flush = "200ms"; backoff_max = "1s"; } );
};
CONF
} >"$DAEMON_CONF"
start_daemon_mqtt

# Payload times in ms, not on a round second, within VictoriaMetrics's
# retention (older points are dropped by it with a 204).
base=$(($(date +%s) * 1000 - 600000 + 7))
publish() { # FIRST LAST
	local i
	for ((i = $1; i <= $2; i++)); do
		echo "{\"v\": $i.5, \"ts\": $((base + i))}"
	done | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t vmt/R1/th-1 -l || fail "mosquitto_pub failed"
}
V1='temperature_value{db="coldchain",room="R1",sensor="th-1"}'
V2='temperature_value{db!="coldchain",room="R1",sensor="th-1"}'
has() { [ "$(vm_distinct "$1")" = "$2" ]; }

N1=500
publish 1 "$N1"
if wait_for "$N1 points through v1" has "$V1" "$N1"; then
	pass "v1 /write (db=coldchain, never created) stored $N1 points as temperature_value"
else
	fail "v1 /write: $(vm_distinct "$V1") of $N1 points"
fi
if wait_for "$N1 points through v2" has "$V2" "$N1"; then
	pass "v2 /api/v2/write (org, bucket, token) stored $N1 points as temperature_value"
else
	fail "v2 /api/v2/write: $(vm_distinct "$V2") of $N1 points"
fi
vm_export "$V2" | head -n 1 | json_eval 'sorted(d["metric"].items())' >"$T/v2.labels"
echo "  (v2 series labels: $(cat "$T/v2.labels"))"
seq $((base + 1)) $((base + N1)) >"$T/want.ts"
vm_timestamps "$V1" >"$T/v1.ts"
vm_timestamps "$V2" >"$T/v2.ts"
check "v1 timestamps are the payload times to the millisecond" cmp -s "$T/want.ts" "$T/v1.ts"
check "v2 timestamps are the payload times to the millisecond" cmp -s "$T/want.ts" "$T/v2.ts"
expect_eq "value of reading 17 (the field, a label-free number)" \
	"$(vm_export "$V1" | json_eval 'd["values"][d["timestamps"].index('$((base + 17))')]')" "17.5"
if grep -q -E 'CREATE DATABASE|not found' "$DAEMON_LOG"; then
	fail "the daemon tried to create a database on VictoriaMetrics (or saw 'not found')"
else
	pass "no CREATE DATABASE sent: VictoriaMetrics takes any db= and never answers 404"
fi

# Outage: VictoriaMetrics stops, readings keep coming, it starts again on
# the same port and data.
stop_vm
N2=1500
publish $((N1 + 1)) $((N1 + N2))
refused() { grep -q -E "output vm1: .*(refused|connect)" "$DAEMON_LOG"; }
wait_for "vm1 failing while VictoriaMetrics is down" refused || fail "no output error logged during the outage"
start_vm
N=$((N1 + N2))
wait_for "$N points through v1 after the restart" -t 120 has "$V1" "$N" ||
	fail "v1 after restart: $(vm_distinct "$V1") of $N points"
wait_for "$N points through v2 after the restart" -t 120 has "$V2" "$N" ||
	fail "v2 after restart: $(vm_distinct "$V2") of $N points"
# The daemon's own count of what it took from the broker (its self-metric,
# stored in VictoriaMetrics too) against what VictoriaMetrics holds.
S='coldchaind_mqtt_samples{db="coldchain",subscription!=""}'
own_is_n() { [ "$(vm_last "$S")" = "$N" ]; }
wait_for "self-metric samples = $N" own_is_n
own=$(vm_last "$S")
expect_eq "daemon's own samples count" "$own" "$N"
expect_eq "v1 points in VictoriaMetrics = daemon's count" "$(vm_distinct "$V1")" "$own"
expect_eq "v2 points in VictoriaMetrics = daemon's count" "$(vm_distinct "$V2")" "$own"
seq $((base + 1)) $((base + N)) >"$T/want.ts"
vm_timestamps "$V1" >"$T/v1.ts"
check "every timestamp 1..$N present once (v1)" cmp -s "$T/want.ts" "$T/v1.ts"
retried=$(vm_last 'coldchaind_output_retried{db="coldchain",output="vm1"}')
if [ "${retried:-0}" != 0 ]; then
	pass "the daemon counted its retries during the outage (vm1 retried $retried)"
else
	fail "vm1 retried = '${retried}' after an outage"
fi
# The README's MetricsQL for the dashboards' temperature panels answer.
# (VictoriaMetrics's /api/v1/query hides the last 30 s: the points are
# minutes old.)
vm_query() { # ENDPOINT QUERY [ARGS...]
	local ep=$1 q=$2
	shift 2
	curl -sS --max-time 30 "$(vm_url)/api/v1/$ep" --data-urlencode "query=$q" "$@"
}
now_is=$(vm_query query 'last_over_time(temperature_value{site=~"itest", room=~"R1", db="coldchain"}[1h])' |
	json_eval 'd["data"]["result"][0]["value"][1]')
expect_eq "MetricsQL 'air temperature now' (last_over_time)" "$now_is" "$N.5"
series=$(vm_query query_range 'avg by (sensor, channel) (avg_over_time(temperature_value{site=~"itest", room=~"R1"}[1m]))' \
	--data-urlencode "start=$(($(date +%s) - 900))" --data-urlencode "end=$(date +%s)" --data-urlencode step=60 |
	json_eval 'len(d["data"]["result"][0]["values"])')
if [ "${series:-0}" -ge 1 ]; then
	pass "MetricsQL 'air temperature' panel returns $series steps"
else
	fail "MetricsQL 'air temperature' panel returns nothing"
fi
finish
