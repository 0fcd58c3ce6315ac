#!/bin/bash
# Every InfluxQL query of every Grafana dashboard in dashboards/ (panels,
# template variables, annotations), with Grafana's macros and variables
# substituted, returns rows on a real influxd holding what coldchaind wrote
# from the Modbus simulator's lychee scenario (rooms, lots, alarms, doors,
# CO2) and one MQTT message (so the MQTT self-metrics exist); the Processing
# dashboard's on a precooling batch (see below).  Grafana itself
# is not in Debian 12: the test is about the queries.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lychee_data.sh"

check "dashboards/*.json are what dashboards/generate.py writes" "$PY" "$ROOT_DIR/dashboards/generate.py" --check
for f in "$ROOT_DIR"/dashboards/provisioning/datasources/*.yaml; do
	check "$(basename "$f"): provisions the data source uid coldchaind-influxdb" grep -q "uid: coldchaind-influxdb" "$f"
done

lychee_start
lychee_wait_for temperature humidity door compressor evaporator_temperature co2 shelf_life alert \
	coldchaind_modbus coldchaind_output coldchaind_journal coldchaind_mqtt
# Rates (non_negative_derivative over 10 s buckets) need two buckets of
# self-metrics: 12 journal points at stats_interval 2s span over 20 s.
journal_points() { [ "$(influx_count 'SELECT count("lines") FROM "coldchaind_journal"')" -ge 12 ]; }
wait_for "12 coldchaind_journal points" -t 120 journal_points || die "self-metrics did not accumulate"
# The dashboards also show the lots' doors: wait for a door opening (10 s in).
door_opened() { influx_has "SELECT \"value\" FROM \"door\" WHERE \"value\" = 1 LIMIT 1"; }
wait_for "a door opening" -t 120 door_opened || die "no door opening recorded"

# processing.json needs a batch's process points: its queries run in
# test_report_processing_section_shows_the_precool_batch_from_influxdb.sh.
storage=()
for f in "$ROOT_DIR"/dashboards/*.json; do
	[ "$(basename "$f")" = processing.json ] || storage+=("$f")
done
"$PY" "$TESTS_DIR/integration/dashboard_queries.py" "$(influx_url)" coldchain "${storage[@]}" \
	>"$T/queries.out" 2>"$T/queries.err" || { cat "$T/queries.err"; die "dashboard_queries.py failed"; }
n=0
while IFS=$'\t' read -r st desc; do
	n=$((n + 1))
	if [ "$st" = ok ]; then pass "$desc"; else fail "$desc"; fi
done <"$T/queries.out"
for f in "$ROOT_DIR"/dashboards/*.json; do
	expect_eq "$(basename "$f"): times in the viewer's zone" \
		"$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["timezone"])' "$f")" browser
done
[ "$n" -ge 40 ] || fail "only $n queries found in dashboards/*.json (expected at least 40)"
finish
