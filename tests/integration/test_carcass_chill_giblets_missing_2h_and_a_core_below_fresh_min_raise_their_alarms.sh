#!/bin/bash
# A carcass-chilling batch judged on the profile's min_probes, giblets_deadline
# and fresh_min (processing.md §2.1-2.2): a 1.6 kg carcass with one core probe
# (min_probes 3) in a -6 C air chiller (C 1.0 /h, j 1.3, core 38 C) and one
# giblet probe that stays at 10 C, readings over MQTT with explicit
# timestamps (the batch started 4 hours ago with --start).  The giblets miss
# their 2 h deadline: giblets_missed is raised once, critical, latched, and
# survives a restart; the core passes below fresh_min (-3.333 C at ~3.1 h):
# not_fresh is raised; only 1 of the required 3 core probes reports: the
# few_probes warning says so and the compliance is "not_proven", not
# "compliant"; batch status and the process measurement show the verdicts.
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
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-chill-gib"; };
  subscriptions = (
    { topic = "ch1/state"; format = "json"; sensor = "ch1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; };
                 core1 = { path = "c1"; quantity = "temperature"; unit = "C"; };
                 giblet1 = { path = "g1"; quantity = "temperature"; unit = "C"; }; }; }
  );
};
process_profiles = ( { name = "us-chill"; version = "itest-1"; kind = "carcass_chill";
  carcass_chill = { target = (4.444, "A: FSIS 40 F"); max_gap = "5m"; min_probes = (3, "D: processing.md 2.2");
    fresh_min = (-3.333, "A: US fresh label 26 F"); giblets_deadline = ("2h", "A: FSIS Q&A");
    weight_bands = ( { max_kg = 1.814; deadline = "4h"; }, { max_kg = 3.629; deadline = "6h"; }, { deadline = "8h"; } ); }; } );
processes = ( { name = "chiller-1"; kind = "carcass_chill"; medium = "ch1/air"; probes = [ "ch1/core1" ];
  giblets = [ "ch1/giblet1" ]; } );
alarms = { stale_after = "1d"; };
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"

ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
bstat() { ctl batch status G1 --json | json_eval "d['batches'][0]$1"; }
alarm() { ctl alarms --json | json_eval "[a['$2'] for a in d['alarms'] if a['id'] == 'chiller-1/G1/$1'][0]"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date +%s)
START=$((now - 4 * 3600))

ctl batch start chiller-1 G1 --profile us-chill --start "$(iso $START)" --weight 1.6 >/dev/null 2>&1
expect_eq "batch start --weight 1.6: exit status" "$?" 0

# four hours of readings, one a minute
"$PY" - "$START" <<'PYEOF' | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t ch1/state -l
import math, sys
start = int(sys.argv[1])
for m in range(0, 241):
    t = m / 60.0
    c1 = -6.0 + 44.0 * min(1.0, 1.3 * math.exp(-1.0 * t))
    print('{"ts": %d, "air": -6.0, "c1": %.3f, "g1": 10.0}' % (start + m * 60, c1))
PYEOF
has_all() { [ "$(bstat "['probes'][0]['n']" 2>/dev/null)" -ge 200 ] 2>/dev/null && [ "$(bstat "['verdict']['not_fresh']")" = True ]; }
wait_for "the readings taken" has_all || die "batch G1 has not taken the readings: $(ctl batch status G1 --json)"

gib() { alarm giblets_missed severity >/dev/null 2>&1; }
wait_for "giblets_missed active" gib || fail "no giblets_missed alarm"
expect_eq "giblets_missed is critical" "$(alarm giblets_missed severity)" critical
expect_eq "giblets_missed is active" "$(alarm giblets_missed state)" active
expect_eq "the giblets' verdict" "$(bstat "['verdict']['giblets']")" missed
expect_eq "not_fresh is active" "$(alarm not_fresh state)" active
check "the not_fresh message names the fresh limit" sh -c "echo '$(alarm not_fresh message)' | grep -q 'below -3.333 °C, the fresh limit: cannot be sold as fresh'"
expect_eq "few_probes is active" "$(alarm few_probes state)" active
check "the few_probes message counts the probes" sh -c "echo '$(alarm few_probes message)' | grep -q 'only 1 of the required 3 core probes report: compliance not proven'"
expect_eq "compliance with 1 of 3 core probes" "$(bstat "['verdict']['compliance']")" not_proven
raised() { grep -c '^alert,rule=giblets_missed.*event="raise"' "$OUT"; }
has_point() { file_has '^process,.*batch=G1.*giblets="missed"' "$OUT" && file_has '^process,.*batch=G1.*not_fresh=true' "$OUT"; }
wait_for "a process point with the verdicts" has_point || fail "no process point with giblets=\"missed\" and not_fresh=true"
check "the process point's status is not_proven" file_has '^process,.*batch=G1.*status="not_proven"' "$OUT"
expect_eq "giblets_missed raised once" "$(raised)" 1
check "the not_fresh record in the file output" file_has '^alert,rule=not_fresh.*event="raise"' "$OUT"
ctl batch status >"$T/status.txt" 2>&1
check "batch status (table) shows probes, giblets and fresh" \
	grep -q "core probes reporting 1 of 3; giblets missed; fresh lost" "$T/status.txt"

stop_daemon
: >"$DAEMON_LOG" # start_daemon waits for the new "started" line
start_daemon
expect_eq "after a restart giblets_missed is still active" "$(alarm giblets_missed state)" active
expect_eq "after a restart not_fresh is still active" "$(alarm not_fresh state)" active
expect_eq "after a restart the giblets' verdict" "$(bstat "['verdict']['giblets']")" missed
expect_eq "giblets_missed still raised once" "$(raised)" 1
finish
