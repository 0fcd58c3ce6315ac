#!/bin/bash
# A precooling batch end to end (issue 14): a lagged exponential pulp curve
# (C 0.5 /h, j 1.15, T0 30 C, medium 2 C) and its medium are published over
# MQTT to a real mosquitto with explicit timestamps (three hours of process
# time in a few seconds: the batch starts in the past with --start), so
# `coldchainctl batch status` shows C and j within 2 % of the curve's and an
# ETA; kill -9 in the middle of the batch and a restart resume the fit where
# the snapshot left it (same n, same C within 1e-6); `batch stop` with the
# slowest probe above target raises pulled_early (alert record in the file
# output, and coldchainctl alarms); `batch release` loads the lot with its
# history.
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
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-precool"; };
  subscriptions = (
    { topic = "pc1/state"; format = "json"; sensor = "pc1"; time = "ts"; time_unit = "s";
      fields = { air = { path = "air"; quantity = "temperature"; unit = "C"; };
                 pulp1 = { path = "p1"; quantity = "temperature"; unit = "C"; };
                 pulp2 = { path = "p2"; quantity = "temperature"; unit = "C"; }; }; }
  );
};
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "CS1"; profile = "lychee"; temperature = "cs1/air"; } );
process_profiles = ( { name = "lychee-fa"; version = "itest-1"; kind = "precool";
  precool = { target = (5.0, "A: Sargent"); target_margin = (1.0, "D"); harvest_limit = "4h"; }; } );
processes = ( { name = "precooler-1"; kind = "precool"; medium = "pc1/air"; probes = [ "pc1/pulp1", "pc1/pulp2" ];
  c_ref = (0.5, "D: commissioning"); set_point = (2.0, "D"); } );
alarms = { stale_after = "1d"; };
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon_mqtt

bstat() { ctl batch status B1 --json | json_eval "d['batches'][0]$1"; }

# The curve, one reading a minute of process time: flat at T0 through the
# lag, then Tm + (T0 - Tm) j e^(-C t); pulp2 cools faster.
now=$(date +%s)
START=$((now - 4 * 3600))
curve() { # FROM TO (minutes)
	"$PY" - "$START" "$1" "$2" <<'PYEOF'
import math, sys
start, a, b = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def T(c, j, t):
    return 2.0 + 28.0 * min(1.0, j * math.exp(-c * t))
for m in range(a, b):
    t = m / 60.0
    print('{"ts": %d, "air": 2.0, "p1": %.3f, "p2": %.3f}' % (start + m * 60, T(0.5, 1.15, t), T(0.6, 1.1, t)))
PYEOF
}
ctl batch start precooler-1 B1 --profile lychee-fa --start "$(iso $START)" --harvest "$(iso $((START - 3600)))" \
	>"$T/start.out" 2>&1
expect_eq "batch start exit status" "$?" 0
ctl batch start precooler-1 B2 --profile lychee-fa >"$T/busy.out" 2>&1
expect_eq "a second batch on a busy process: exit status" "$?" 1
ctl batch start nope B3 --profile lychee-fa >/dev/null 2>&1
expect_eq "an unknown process: exit status" "$?" 1

# --- the first 90 minutes, then kill -9
curve 0 91 | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pc1/state -l
has_n() { [ "$(bstat "['n']" 2>/dev/null)" -ge "$1" ] 2>/dev/null; }
wait_for "the first half fitted" has_n 60 || die "batch B1 has too few fitted readings: $(bstat "['n']")"
n_at() { ctl batch status B1 --json | json_eval "d['batches'][0]['n']"; }
settled() { local a; a=$(n_at); sleep 0.5; [ "$a" = "$(n_at)" ]; }
wait_for "B1 settled" settled
n1=$(bstat "['n']")
c1=$(bstat "['C']")
saved_n() { json_eval "[p['n'] for b in d['batches'] if b['id'] == 'B1' for p in b['probes']][0]" <"$T/state/engine.state"; }
in_snapshot() { [ "$(saved_n 2>/dev/null)" = "$n1" ]; }
wait_for "the snapshot holds n=$n1" in_snapshot || fail "the snapshot never held n=$n1"
kill -9 "$DAEMON_PID"
wait_for "coldchaind gone" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
forget_pid "$DAEMON_PID"
: >"$DAEMON_LOG" # start_daemon waits for the new "started" line
start_daemon
expect_eq "after kill -9: the same n" "$(bstat "['n']")" "$n1"
check "after kill -9: the same C within 1e-6 ($c1)" \
	"$PY" -c "import sys; sys.exit(0 if abs($(bstat "['C']") - $c1) < 1e-6 else 1)"

# --- the rest of the three hours
wait_for "mqtt connected again" daemon_mqtt_connected || die "coldchaind did not reconnect to mosquitto"
curve 91 181 | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t pc1/state -l
wait_for "all fitted" has_n 150 || die "batch B1 has too few fitted readings: $(bstat "['n']")"
ctl batch status B1 --json >"$T/status.json"
c=$(json_eval "d['batches'][0]['C']" <"$T/status.json")
j=$(json_eval "d['batches'][0]['j']" <"$T/status.json")
check "C within 2 % of 0.5 ($c)" "$PY" -c "import sys; sys.exit(0 if abs($c / 0.5 - 1) < 0.02 else 1)"
check "j within 2 % of 1.15 ($j)" "$PY" -c "import sys; sys.exit(0 if abs($j / 1.15 - 1) < 0.02 else 1)"
expect_eq "the slowest probe" "$(json_eval "d['batches'][0]['slowest']" <"$T/status.json")" pc1/pulp1
eta=$(json_eval "d['batches'][0]['eta_ns']" <"$T/status.json")
check "an ETA: start + 4.745 h within 2 %" \
	"$PY" -c "import sys; sys.exit(0 if abs(($eta / 1e9 - $START) / 3600 / 4.745 - 1) < 0.02 else 1)"
ctl batch status >"$T/status.txt" 2>&1
check "batch status (table) shows B1, C, R2 and an ETA" \
	grep -q "B1 .*precooler-1 .*lychee-fa .*running" "$T/status.txt" && grep -q "ETA 20" "$T/status.txt"
wait_for "a process point in the file output" file_has "^process,batch=B1,kind=precool,process=precooler-1" "$OUT" ||
	fail "no process point in $OUT"

# --- pulled at 3 h: the slowest probe is at 9.2 C, above 5 + 1
ctl batch stop B1 >"$T/stop.out" 2>&1
expect_eq "batch stop exit status" "$?" 0
check "batch stop says pull_early" grep -q "pull_early" "$T/stop.out"
wait_for "the pulled_early alert record" file_has "^alert,rule=pulled_early.*event=\"raise\"" "$OUT" ||
	fail "no pulled_early raise in $OUT"
expect_eq "one pulled_early raise" "$(grep -c '^alert,rule=pulled_early.*event="raise"' "$OUT")" 1
expect_eq "pulled_early is an active alarm" \
	"$(ctl alarms --json | json_eval "[a['state'] for a in d['alarms'] if a['id'] == 'precooler-1/B1/pulled_early'][0]")" active

# --- release into storage: the lot keeps the batch in its history
ctl batch release B1 --lot L-B1 --room CS1 >"$T/release.out" 2>&1
expect_eq "batch release exit status" "$?" 0
lotj() { ctl status --json | json_eval "[l for r in d['rooms'] for l in r['lots'] if l['id'] == 'L-B1'][0]$1"; }
expect_eq "the lot's history names the batch" "$(lotj "['history'][0]['batch']")" B1
expect_eq "the lot's history verdict" "$(lotj "['history'][0]['verdict']")" pulled_early
check "the lot's pre-monitoring temperature is the final pulp temperature" \
	"$PY" -c "import sys; sys.exit(0 if abs($(lotj "['pre_c']") - 9.18) < 0.05 else 1)"
finish
