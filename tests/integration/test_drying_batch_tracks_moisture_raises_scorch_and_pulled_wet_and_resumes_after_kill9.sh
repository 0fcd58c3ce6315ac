#!/bin/bash
# A drying batch end to end (issue 14, processing.md §4): a kiln line with
# air temperature and a load cell; a batch of 100 kg fresh at 82 % wb
# (--mass, --moisture: dry solids 18 kg, D1).  Readings go over MQTT to a
# real mosquitto with explicit timestamps (the batch started 9 h ago):
# the air follows the profile's two stages, the mass a Lewis curve
# (Xe 0.10, k 0.4/h) held flat at 44 kg and at 25 kg for 12 min so the
# 5-min filtered mass is exact.  `batch status --json` shows MC wet basis
# as by hand (44 kg: 26/44 = 59.09 %; 25 kg: 7/25 = 28.00 %, X 0.3889
# db, D1); kill -9 at 44 kg and a restart keep MC and the filtered mass;
# air above scorch_max raises scorch_critical at once (critical, no
# on-delay, while the delayed scorch alarm waits); stopping at 28 % (target
# 22.5 + 2) raises pulled_wet.
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
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-drying"; };
  subscriptions = (
    { topic = "k1/state"; format = "json"; sensor = "k1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; };
                 mass = { path = "mass"; quantity = "mass"; unit = "kg"; }; }; }
  );
};
profiles = ( { name = "dried"; version = "itest-1"; limits = { warn_high = 30.0; };
  model = { type = "arrhenius"; t_ref = 20.0; shelf_life = "180d"; ea = 75.0; valid_min = 1.0; valid_max = 40.0; }; } );
rooms = ( { name = "DS1"; profile = "dried"; temperature = "ds1/air"; } );
process_profiles = ( { name = "lychee-kiln"; version = "itest-1"; kind = "drying";
  drying = { target_mc_wb = (22.5, "D: processing.md 4.1"); incomplete_margin = (2.0, "D");
    xe = (0.10, "D: processing.md 4.2"); initial_phase = ("2h", "D"); scorch_limit = (80.0, "A: VN study");
    scorch_max = (100.0, "D: processing.md 4.3"); scorch_on_delay = ("10m", "D");
    scorch_undelayed = (30.0, "D: wide, so only scorch_max makes 101 C critical");
    stall_fraction = (0.02, "D: quiet for this curve");
    loadcell_filter = ("5m", "D"); rate_span = ("1h", "D"); initial_rate_window = ("6h", "D"); max_gap = ("10m", "D");
    schedule = ( { name = "warm"; duration = ("2h", "D"); air_min = (50.0, "D"); air_max = (60.0, "D"); },
                 { name = "main"; duration = ("46h", "D"); air_min = (60.0, "D"); air_max = (70.0, "D"); } ); }; } );
processes = ( { name = "kiln-1"; kind = "drying"; air = "k1/air"; loadcell = "k1/mass"; } );
alarms = { stale_after = "1d"; };
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"

ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
bstat() { ctl batch status D1 --json | json_eval "d['batches'][0]$1"; }
near() { "$PY" -c "import sys; sys.exit(0 if abs(float(sys.argv[1]) - float(sys.argv[2])) < float(sys.argv[3]) else 1)" "$@"; }
# expect_near DESC ACTUAL EXPECTED TOLERANCE
expect_near() {
	if [ -n "$2" ] && near "$2" "$3" "$4"; then pass "$1 = $3 (got $2)"; else fail "$1: expected $3 within $4, got '$2'"; fi
}
now=$(date +%s)
START=$((now - 9 * 3600))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# One reading every 2 min: air 55 C in "warm" (0-2 h), 65 C in "main"; the
# mass m_ds (1 + Xe + (X0 - Xe) e^(-k t)) down to HOLD, HOLD for 12 min,
# then on along the curve (shifted by the hold).  Writes ts air mass lines.
"$PY" - "$START" >"$T/readings" <<'PYEOF'
import math, sys
start = int(sys.argv[1])
mds, x0, xe, k = 18.0, 82.0 / 18.0, 0.10, 0.4
def m(t_h): return mds * (1 + xe + (x0 - xe) * math.exp(-k * t_h))
t, shift = 0, 0
for hold in (44.0, 25.0):
    while m((t - shift) / 60.0) > hold:
        print(start + t * 60, 55.0 if t < 120 else 65.0, "%.4f" % m((t - shift) / 60.0)); t += 2
    for _ in range(7):
        print(start + t * 60, 55.0 if t < 120 else 65.0, "%.4f" % hold); t += 2
    shift += 14
    print("#", file=sys.stdout)
PYEOF
publish() { awk '$1 != "#" { printf "{\"ts\": %d, \"air\": %s, \"mass\": %s}\n", $1, $2, $3 }' |
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t k1/state -l; }

ctl batch start kiln-1 D1 --profile lychee-kiln --start "$(iso $START)" --mass 100 --moisture 82 >"$T/start.out" 2>&1
expect_eq "batch start exit status" "$?" 0
expect_near "dry solids m0 (1 - 0.82) = 18 kg" "$(bstat "['dry_solids_kg']")" 18 1e-9

# --- to the hold at 44 kg, then kill -9
sed -n '1,/^#/p' "$T/readings" | publish
last1=$(sed -n '1,/^#/p' "$T/readings" | grep -v '^#' | tail -1 | cut -d' ' -f1)
mass_is() { near "$(bstat "['mass_kg']" 2>/dev/null || echo 0)" "$1" 1e-9; }
wait_for "the filtered mass 44 kg" mass_is 44 || fail "batch D1 filtered mass is $(bstat "['mass_kg']"), not 44"
expect_near "MC wb at 44 kg: (44 - 18)/44 = 59.0909 %" "$(bstat "['mc_wb']")" 59.0909090909 1e-6
expect_eq "the stage at 9 h" "$(bstat "['stage']")" main
saved_last() { json_eval "[b['drying']['mass_last_ns'] for b in d['batches'] if b['id'] == 'D1'][0]" <"$T/state/engine.state"; }
in_snapshot() { [ "$(saved_last 2>/dev/null)" = "${last1}000000000" ]; }
wait_for "the snapshot holds the last reading at 44 kg" in_snapshot || fail "the snapshot never held the reading of $last1"
mc1=$(bstat "['mc_wb']")
kill -9 "$DAEMON_PID"
wait_for "coldchaind gone" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
forget_pid "$DAEMON_PID"
: >"$DAEMON_LOG"
start_daemon
expect_near "after kill -9: the same filtered mass" "$(bstat "['mass_kg']")" 44 1e-9
expect_near "after kill -9: the same MC wb ($mc1)" "$(bstat "['mc_wb']")" "$mc1" 1e-9

# --- on to the hold at 25 kg: D1
wait_for "mqtt connected again" daemon_mqtt_connected || die "coldchaind did not reconnect to mosquitto"
sed -n '/^#/,$p' "$T/readings" | sed 1d | publish
wait_for "the filtered mass 25 kg" mass_is 25 || fail "batch D1 filtered mass is $(bstat "['mass_kg']"), not 25"
expect_near "MC wb at 25 kg: 1 - 18/25 = 28.00 % (D1)" "$(bstat "['mc_wb']")" 28 1e-9
expect_near "MC db at 25 kg: 7/18 = 0.3889 (D1)" "$(bstat "['mc_db']")" 0.388888888889 1e-9
expect_near "target mass at 22.5 % wb: 18/0.775" "$(bstat "['target_mass_kg']")" 23.2258064516 1e-6
check "the online Lewis k within 10 % of the curve's 0.4/h (the two holds bend it): $(bstat "['k']")" near "$(bstat "['k']")" 0.4 0.04

# --- scorch: air above scorch_max (100 C) after the curve
t_end=$(grep -v '^#' "$T/readings" | tail -1 | cut -d' ' -f1)
echo "$((t_end + 120)) 101.0 25.0000" | publish
wait_for "the scorch_critical alert record" file_has '^alert,rule=scorch_critical,.*event="raise"' "$OUT" ||
	fail "no scorch_critical raise in $OUT"
check "scorch_critical is critical" grep -q '^alert,rule=scorch_critical,.*severity=critical' "$OUT"
check "scorch_critical names the absolute max" grep -q '^alert,rule=scorch_critical,.*ever above 100' "$OUT"
check "the delayed scorch alarm has not raised (on-delay 10m)" bash -c "! grep -q '^alert,rule=scorch,' '$OUT'"

# --- stopped at 28 % wb: pulled wet (target 22.5 + margin 2)
ctl batch stop D1 >"$T/stop.out" 2>&1
expect_eq "batch stop exit status" "$?" 0
wait_for "the pulled_wet alert record" file_has '^alert,rule=pulled_wet,.*event="raise"' "$OUT" ||
	fail "no pulled_wet raise in $OUT"
expect_eq "one pulled_wet raise" "$(grep -c '^alert,rule=pulled_wet,.*event="raise"' "$OUT")" 1
check "the log says pulled wet at 28.00 %" grep -q "batch D1 on kiln-1 stopped by .*MC 28.00 % wb.*pulled wet" "$DAEMON_LOG"
finish
