#!/bin/bash
# The simulator's precooler drives a precooling batch over Modbus TCP (issue
# 14): tests/modbus_sim --scenario lychee serves a forced-air precooler (unit
# 6: supply air and three pulp probes, the centre one slower, each
# T = Tm + (T0 - Tm) min(1, j e^(-C t))) on a clock SCALE times faster than
# the wall clock; coldchaind polls it every 200 ms and stamps the readings at
# wall-clock time, so it sees C x SCALE per hour.  A batch loaded through the
# simulator's command register (written by mbpoll, an independent Modbus
# client) and started with `batch start --start t0` at the fans' start is
# fitted to the slowest probe's C and j within 2 %, with an ETA within 2 %
# of the curve's time to 5 C; stopped with that probe still above target +
# margin, it raises pulled_early.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL" "$MODBUS_SIM"
command -v mbpoll >/dev/null || die "mbpoll not installed (tests/deps.sh)"

SCALE=200 # simulated seconds per wall-clock second
start_sim sim --tcp 127.0.0.1:0 --scenario lychee --process-scale "$SCALE" --seed 14
OUT=$T/out.lp
{
	config_head
	cat <<CONF
template_dir = "$ROOT_DIR/config/devices";
modbus = ( { name = "gw"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "200ms"; timeout = "1s";
  devices = ( { name = "pc1"; unit = 6; template = "sim-precooler"; } ); } );
# lychee-forced-air's target and margins; the fit's C gates are on the
# simulator's clock, so on the wall clock they are SCALE times wider.
process_profiles = ( { name = "lychee-fa-sim"; version = "itest-1"; kind = "precool";
  precool = { target = (5.0, "A: Sargent"); target_margin = (1.0, "D"); harvest_limit = "4h";
    fit = { c_min = ($((SCALE / 100)).0, "C: 0.01 1/h x $SCALE"); c_max = ($((20 * SCALE)).0, "C: 20 1/h x $SCALE"); }; }; } );
processes = ( { name = "precooler-1"; kind = "precool"; medium = "pc1/air";
  probes = [ "pc1/pulp1", "pc1/pulp2", "pc1/pulp3" ]; set_point = (2.0, "D"); } );
alarms = { stale_after = "1d"; };
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon

ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
bstat() { ctl batch status S1 --json | json_eval "d['batches'][0]$1"; }

# Load a batch: the simulator starts the fans at a whole second >= 2 s ahead
# and logs t0, T0 per probe and the slowest probe's C and j.
mbpoll -m tcp -p "$SIM_PORT" -a 6 -0 -t 4 -r 10 -1 127.0.0.1 1 >"$T/mbpoll.out" 2>&1 ||
	{ show_log "$T/mbpoll.out"; die "mbpoll could not write the load command"; }
wait_for "the simulator loaded a batch" file_has "batch 1 loaded" "$T/sim.log" || die "no batch loaded"
line=$(grep "batch 1 loaded" "$T/sim.log")
T0S=$(sed -n 's/.*t0 \([0-9]*\);.*/\1/p' <<<"$line")
P3_T0=$(sed -n 's/.*; T0 [0-9.]* [0-9.]* \([0-9.]*\) C;.*/\1/p' <<<"$line")
AIR=$(sed -n 's/.* C; air \([0-9.]*\) C;.*/\1/p' <<<"$line")
SIM_C=$(sed -n 's/.*slowest probe 3 C \([0-9.]*\) j.*/\1/p' <<<"$line")
SIM_J=$(sed -n 's/.*slowest probe 3 C [0-9.]* j \([0-9.]*\).*/\1/p' <<<"$line")
[ -n "$T0S" ] && [ -n "$P3_T0" ] && [ -n "$AIR" ] && [ -n "$SIM_C" ] && [ -n "$SIM_J" ] || die "cannot parse: $line"
ctl batch start precooler-1 S1 --profile lychee-fa-sim --start "$(date -u -d "@$T0S" +%Y-%m-%dT%H:%M:%SZ)" \
	>"$T/start.out" 2>&1
expect_eq "batch start at the fans' start: exit status" "$?" 0

# Fit: the centre probe's lag ends (Y 0.9) 0.245 simulated h in, i.e. 4.4 s
# at x200; 25 fitted readings are 5 s more, well before it reaches 6 C (26 s).
has_n() { [ "$(bstat "['n']" 2>/dev/null)" -ge "$1" ] 2>/dev/null; }
wait_for "25 fitted readings" has_n 25 || die "batch S1 has too few fitted readings: $(bstat "['n']")"
ctl batch status S1 --json >"$T/status.json"
ctl batch stop S1 >"$T/stop.out" 2>&1
expect_eq "batch stop exit status" "$?" 0
mbpoll -m tcp -p "$SIM_PORT" -a 6 -0 -t 4 -r 10 -1 127.0.0.1 2 >/dev/null 2>&1

st() { json_eval "d['batches'][0]$1" <"$T/status.json"; }
c=$(st "['C']")
j=$(st "['j']")
echo "  simulator: slowest probe C $SIM_C /h j $SIM_J (simulated clock); fitted: C $c /h (wall clock) = $($PY -c "print('%.4f' % ($c / $SCALE))") /h simulated, j $j, fit $(st "['fit']"), n $(st "['n']")"
expect_eq "the slowest probe is the centre probe" "$(st "['slowest']")" pc1/pulp3
expect_eq "the fit is reliable" "$(st "['fit']")" reliable
check "C / $SCALE within 2 % of the simulator's $SIM_C ($c)" \
	"$PY" -c "import sys; sys.exit(0 if abs($c / $SCALE / $SIM_C - 1) < 0.02 else 1)"
check "j within 2 % of the simulator's $SIM_J ($j)" "$PY" -c "import sys; sys.exit(0 if abs($j / $SIM_J - 1) < 0.02 else 1)"
# The curve reaches 5 C at t0 + ln(j (T0 - Tm) / (5 - Tm)) / C simulated hours.
eta=$(st "['eta_ns']")
check "the ETA within 2 % of the curve's time to 5 C" "$PY" -c "
import math, sys
want = math.log($SIM_J * ($P3_T0 - $AIR) / (5.0 - $AIR)) / $SIM_C * 3600 / $SCALE
got = $eta / 1e9 - $T0S
print('  ETA: %.2f s after t0, the curve: %.2f s' % (got, want))
sys.exit(0 if abs(got / want - 1) < 0.02 else 1)"

check "batch stop says pull_early" grep -q "pull_early" "$T/stop.out"
wait_for "the pulled_early alert record" file_has "^alert,rule=pulled_early.*event=\"raise\"" "$OUT" ||
	fail "no pulled_early raise in $OUT"
expect_eq "pulled_early is an active alarm" \
	"$(ctl alarms --json | json_eval "[a['state'] for a in d['alarms'] if a['id'] == 'precooler-1/S1/pulled_early'][0]")" active
finish
