#!/bin/bash
# The simulator's kiln drives a drying batch over Modbus TCP (issue 14,
# processing.md §4): tests/modbus_sim --scenario lychee serves a drying
# kiln (unit 8: staged air 70/60/55 C, a load cell of 100 kg dry solids
# holding X = 0.1 + 3.9 e^(-0.12 t) db, t simulated h) on a clock SCALE
# times faster than the wall clock; coldchaind polls it every 200 ms.  A
# batch loaded through the simulator's command register (written by mbpoll,
# an independent Modbus client) and started at the burner's t0 with --mass
# 500 --moisture 80 (X0 4.0: dry solids 100 kg) reports MC wet basis within
# 0.2 points of the curve at the filtered mass's time; then the simulator
# freezes its load cell (command 2) with the air at 70 C, and after the
# profile's loadcell_flat the loadcell_fault alarm raises, the status
# verdict being loadcell_stuck.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL" "$MODBUS_SIM"
command -v mbpoll >/dev/null || die "mbpoll not installed (tests/deps.sh)"

SCALE=600 # simulated seconds per wall-clock second: 1 s = 10 simulated min
start_sim sim --tcp 127.0.0.1:0 --scenario lychee --process-scale "$SCALE" --seed 14
OUT=$T/out.lp
{
	config_head
	cat <<CONF
template_dir = "$ROOT_DIR/config/devices";
modbus = ( { name = "gw"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "200ms"; timeout = "1s";
  devices = ( { name = "k1"; unit = 8; template = "sim-kiln"; } ); } );
# Durations are on the wall clock, SCALE times shorter than the simulator's:
# the load cell is averaged over 1 s (10 simulated min: a short window keeps
# the filter's lag small), and "no change" for 5 s (50 simulated min) is a
# stuck cell: before the freeze
# the curve loses 2.5 kg (0.5 % of 500 kg) in well under 5 s for the first
# 16 simulated hours, so only the frozen cell can raise it.
process_profiles = ( { name = "lychee-kiln-sim"; version = "itest-1"; kind = "drying";
  drying = { target_mc_wb = (22.5, "D: processing.md 4.1"); xe = (0.10, "C: the simulator's Xe");
    scorch_limit = (80.0, "A: VN study"); scorch_on_delay = ("10m", "D");
    loadcell_filter = ("1s", "D: test, x$SCALE"); loadcell_flat = ("5s", "D: test, x$SCALE");
    loadcell_flat_above = (50.0, "D: processing.md 4.3"); loadcell_rise_pct = (0.5, "D: processing.md 4.3");
    loadcell_flat_band = (0.5, "D: no change = < 0.5 % of m0");
    schedule = ( { name = "hot"; duration = ("1h", "D: test"); air_min = (20.0, "D: test"); air_max = (80.0, "D: test"); } ); }; } );
processes = ( { name = "kiln-1"; kind = "drying"; air = "k1/air"; loadcell = "k1/mass"; } );
alarms = { stale_after = "1d"; };
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon

ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
bstat() { ctl batch status K1 --json | json_eval "d['batches'][0]$1"; }

# Load a batch: the simulator starts the burner at a whole second >= 2 s
# ahead and logs t0.
mbpoll -m tcp -p "$SIM_PORT" -a 8 -0 -t 4 -r 10 -1 127.0.0.1 1 >"$T/mbpoll.out" 2>&1 ||
	{ show_log "$T/mbpoll.out"; die "mbpoll could not write the load command"; }
wait_for "the simulator loaded a kiln batch" file_has "kiln: batch 2 loaded" "$T/sim.log" || die "no kiln batch loaded"
T0S=$(sed -n 's/.*kiln: batch 2 loaded, burner starts at t0 \([0-9]*\);.*/\1/p' "$T/sim.log")
[ -n "$T0S" ] || die "cannot parse t0: $(grep 'kiln:' "$T/sim.log")"
ctl batch start kiln-1 K1 --profile lychee-kiln-sim --start "$(date -u -d "@$T0S" +%Y-%m-%dT%H:%M:%SZ)" \
	--mass 500 --moisture 80 >"$T/start.out" 2>&1
expect_eq "batch start at the burner's start: exit status" "$?" 0

# Two simulated hours in (12 s): X 2.852, MC 74.04 % wb, the air at 70 C.
past_2h() { "$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) * $SCALE >= 2.0 else 1)" "$(bstat "['mass_t_h']" 2>/dev/null || echo 0)"; }
wait_for "the filtered mass 2 simulated h in" past_2h || die "batch K1 mass_t_h is $(bstat "['mass_t_h']")"
ctl batch status K1 --json >"$T/status.json"
st() { json_eval "d['batches'][0]$1" <"$T/status.json"; }
check "dry solids (1 - 0.80) x 500 kg = 100 kg ($(st "['dry_solids_kg']"))" \
	"$PY" -c "import sys; sys.exit(0 if abs($(st "['dry_solids_kg']") - 100) < 1e-9 else 1)"
# Tolerance 0.2 points: the mean of the readings in the 1-s window stands
# at their mean time (mass_t_h) to within the curve's bend (5.6 kg/h^2 over
# 1/6 simulated h: < 0.02 kg); noise +-0.05 kg and float32 are < 0.01
# point; what is left is the skew between the simulator computing a value
# and coldchaind stamping it: at 7.8 e^(-0.12 t) kg per wall second, 0.2
# point at ~385 kg (dMC = 100 x 100 / m^2 per kg) is ~300 ms of skew, room
# for a loaded 2-core machine.
check "MC wb within 0.2 points of the simulator's curve at the filtered mass's time" "$PY" -c "
import math, sys
t = $(st "['mass_t_h']") * $SCALE
x = 0.1 + 3.9 * math.exp(-0.12 * t)
want, got = 100 * x / (1 + x), $(st "['mc_wb']")
print('  at %.3f simulated h: the curve %.3f %% wb, coldchaind %.3f %% wb (%+.3f points); mass %.3f kg' % (t, want, got, got - want, $(st "['mass_kg']")))
sys.exit(0 if abs(got - want) < 0.2 else 1)"
check "no load-cell verdict before the freeze" bash -c "! grep -q loadcell '$T/status.json'"

# Freeze the load cell: the mass stands still with the air at 70 C.
mbpoll -m tcp -p "$SIM_PORT" -a 8 -0 -t 4 -r 10 -1 127.0.0.1 2 >>"$T/mbpoll.out" 2>&1 ||
	{ show_log "$T/mbpoll.out"; die "mbpoll could not write the freeze command"; }
wait_for "the simulator froze its load cell" file_has "kiln: batch 2 load cell frozen" "$T/sim.log" || die "no freeze"
frozen_at=$(date +%s.%N)
wait_for "the loadcell_fault alert record" file_has '^alert,rule=loadcell_fault,.*event="raise"' "$OUT" ||
	fail "no loadcell_fault raise in $OUT"
raised_after=$("$PY" -c "import time; print('%.1f' % (time.time() - $frozen_at))")
echo "  loadcell_fault raised ${raised_after} s after the freeze (loadcell_flat 5 s + the 1-s filter)"
check "the fault waited about loadcell_flat (5 s; >= 4 s measured from the log poll) after the freeze" "$PY" -c "import sys; sys.exit(0 if $raised_after >= 4.0 else 1)"
check "the alert names the no-change band, the duration, the air and its D-graded keys" \
	grep -q '^alert,rule=loadcell_fault,.*moving < 0.5 % in .* h above 50 .*D-graded, an estimate: .*loadcell_flat_band' "$OUT"
# (the unload verdict "wet" is there too: the lot is far from its target)
expect_eq "the status's load-cell verdict is loadcell_stuck, not a rise" \
	"$(bstat "['verdicts']" | tr -d "[]' " | tr ',' '\n' | grep loadcell)" loadcell_stuck
expect_eq "loadcell_fault is an active alarm" \
	"$(ctl alarms --json | json_eval "[a['state'] for a in d['alarms'] if a['id'] == 'kiln-1/K1/loadcell_fault'][0]")" active
ctl batch stop K1 >/dev/null 2>&1
finish
