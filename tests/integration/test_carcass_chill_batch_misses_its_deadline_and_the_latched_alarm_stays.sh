#!/bin/bash
# A carcass-chilling batch end to end (issue 14, processing.md K3): a
# 1.6 kg carcass (4 h deadline) in an overloaded chiller (C 0.5 /h, j 1.3,
# core 38 C, air -1 C), readings published over MQTT with explicit
# timestamps (the batch started 6 hours ago with --start): batch status
# shows the weight's deadline and compliance "missed", the chill_missed
# alarm is raised at the deadline (undelayed, critical, judged at the
# readings' own times) and stays active after the core reaches the target
# and across a restart; a batch without --weight is refused.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"

start_mosquitto
OUT=$T/out.lp
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-chill"; };
  subscriptions = (
    { topic = "ch1/state"; format = "json"; sensor = "ch1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; };
                 core1 = { path = "c1"; quantity = "temperature"; unit = "C"; }; }; }
  );
};
process_profiles = ( { name = "air-chill"; version = "itest-1"; kind = "carcass_chill";
  carcass_chill = { target = (4.0, "D"); max_gap = "5m";
    weight_bands = ( { max_kg = 1.814; deadline = "4h"; }, { max_kg = 3.629; deadline = "6h"; }, { deadline = "8h"; } ); }; } );
processes = ( { name = "chiller-1"; kind = "carcass_chill"; medium = "ch1/air"; probes = [ "ch1/core1" ]; } );
alarms = { stale_after = "1d"; };
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"

ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
bstat() { ctl batch status K3 --json | json_eval "d['batches'][0]$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date +%s)
START=$((now - 6 * 3600))

ctl batch start chiller-1 K0 --profile air-chill --start "$(iso $START)" >"$T/noweight.out" 2>&1
expect_eq "a carcass batch without --weight: exit status" "$?" 1
check "the refusal asks for the weight" grep -q "weight" "$T/noweight.out"
ctl batch start chiller-1 K3 --profile air-chill --start "$(iso $START)" --weight 1.6 >/dev/null 2>&1
expect_eq "batch start --weight 1.6: exit status" "$?" 0

# five hours of readings, one a minute
"$PY" - "$START" <<'PYEOF' | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t ch1/state -l
import math, sys
start = int(sys.argv[1])
for m in range(0, 301):
    t = m / 60.0
    print('{"ts": %d, "air": -1.0, "c1": %.3f}' % (start + m * 60, -1.0 + 39.0 * min(1.0, 1.3 * math.exp(-0.5 * t))))
PYEOF
has_n() { [ "$(bstat "['n']" 2>/dev/null)" -ge 200 ] 2>/dev/null; }
wait_for "the readings fitted" has_n || die "batch K3 has too few fitted readings: $(bstat "['n']")"
expect_num "the 1.6 kg carcass's deadline (h)" "$(bstat "['deadline_h']")" 4
check "C within 2 % of 0.5 ($(bstat "['C']"))" "$PY" -c "import sys; sys.exit(0 if abs($(bstat "['C']") / 0.5 - 1) < 0.02 else 1)"
missed() { ctl alarms --json | json_eval "[a['severity'] for a in d['alarms'] if a['id'] == 'chiller-1/K3/chill_missed'][0]"; }
wait_for "chill_missed active" missed || fail "no chill_missed alarm"
expect_eq "chill_missed is critical" "$(missed)" critical
cold() { "$PY" -c "import sys; sys.exit(0 if $(bstat "['slowest_c']") <= 4.0 else 1)" 2>/dev/null; }
check "the core reached the target since (4.0 C at 4.63 h)" wait_for "the core at the target" cold
expect_eq "chill_missed stays active (a missed deadline is never proven afterwards)" \
	"$(ctl alarms --json | json_eval "[a['state'] for a in d['alarms'] if a['id'] == 'chiller-1/K3/chill_missed'][0]")" active
expect_eq "compliance" "$(bstat "['verdict']['compliance']")" missed
check "the chill_missed record in the file output" file_has '^alert,rule=chill_missed.*event="raise"' "$OUT"
ctl batch status >"$T/status.txt" 2>&1
check "batch status (table) shows the deadline and the compliance" grep -q "1.60 kg carcass: deadline .*compliance missed" "$T/status.txt"

stop_daemon
: >"$DAEMON_LOG" # start_daemon waits for the new "started" line
start_daemon
expect_eq "after a restart chill_missed is still active" \
	"$(ctl alarms --json | json_eval "[a['state'] for a in d['alarms'] if a['id'] == 'chiller-1/K3/chill_missed'][0]")" active
expect_eq "after a restart the compliance" "$(bstat "['verdict']['compliance']")" missed
finish
