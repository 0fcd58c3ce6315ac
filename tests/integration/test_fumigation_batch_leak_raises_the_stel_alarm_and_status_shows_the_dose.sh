#!/bin/bash
# A fumigation batch end to end (issue 14): processing.md's S3 chamber
# readings (every 5 min, 0-30 min) and S2's leak on the outside sensor (1-min
# samples 5 x 1, 10 x 8, 5 x 1 ppm) are published over MQTT to a real
# mosquitto with explicit timestamps (the batch starts in the past with
# --start), so `coldchainctl batch status` shows CT 3750 ppm.h and the
# outside sensor's STEL 5.667 ppm, the leak raises the stel alarm once
# (alert record in the file output; critical, latched), the operator marks
# the phases, and `batch release` hands the lot the dose in its history.
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
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-fumigation"; };
  subscriptions = (
    { topic = "fc1/chamber"; format = "json"; sensor = "fc1"; time = "ts"; time_unit = "s";
      fields = { so2 = { path = "so2"; quantity = "so2"; unit = "ppm"; }; }; },
    { topic = "fc1/door"; format = "json"; sensor = "fc1"; time = "ts"; time_unit = "s";
      fields = { door_so2 = { path = "so2"; quantity = "so2"; unit = "ppm"; }; }; }
  );
};
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "CS1"; profile = "lychee"; temperature = "cs1/air"; } );
process_profiles = ( { name = "lychee-so2"; version = "itest-1"; kind = "fumigation";
  fumigation = { entry_limit = (2.0, "D"); exposure_max_gap = "2m"; worker_limit = "niosh-rel";
    worker_limits = ( { name = "niosh-rel"; twa = (2.0, "A: NIOSH REL"); twa_period = ("10h", "A: NIOSH REL");
      stel = (5.0, "A: NIOSH REL"); } ); }; } );
processes = ( { name = "chamber-1"; kind = "fumigation"; chamber = "fc1/so2"; outside = [ "fc1/door_so2" ];
  free_volume = (60.0, "D"); sulphur_dose = (1.25, "A: Kremer-Koehne 1993"); air_changes = (10.0, "D"); } );
alarms = { stale_after = "1d"; };
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"

ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
bstat() { ctl batch status F1 --json | json_eval "d['batches'][0]$1"; }
now=$(date +%s)
START=$((now - 2 * 3600))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

ctl batch start chamber-1 F1 --profile lychee-so2 --start "$(iso $START)" --tonnes 2 >"$T/start.out" 2>&1
expect_eq "batch start exit status" "$?" 0
ctl batch phase F1 burning --at "$(iso $START)" >"$T/phase.out" 2>&1
expect_eq "batch phase burning exit status" "$?" 0
ctl batch phase F1 smoking >"$T/badphase.out" 2>&1
expect_eq "an unknown phase: exit status" "$?" 1
ctl batch start chamber-1 F2 --profile lychee-so2 --mass 10 >"$T/badopt.out" 2>&1
expect_eq "--mass on a fumigation line: exit status" "$?" 1

# S3 in the chamber, S2's leak outside
i=0
for ppm in 0 4000 9000 11000 10000 8000 6000; do
	printf '{"ts": %d, "so2": %s}\n' $((START + i * 300)) "$ppm"
	i=$((i + 1))
done | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t fc1/chamber -l
for m in $(seq 0 19); do
	if [ "$m" -ge 5 ] && [ "$m" -lt 15 ]; then ppm=8; else ppm=1; fi
	printf '{"ts": %d, "so2": %s}\n' $((START + m * 60)) "$ppm"
done | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t fc1/door -l

ct_is() { "$PY" -c "import sys; sys.exit(0 if abs($(bstat "['ct_ppmh']" 2>/dev/null || echo 0) - 3750) < 1e-6 else 1)"; }
wait_for "CT 3750 ppm.h" ct_is || fail "batch F1 CT is $(bstat "['ct_ppmh']"), not 3750"
stel_max() { bstat "['outside'][0]['stel_max_ppm']"; }
check "the outside sensor's STEL max is 5.667 ppm ($(stel_max))" \
	"$PY" -c "import sys; sys.exit(0 if abs($(stel_max) - 85 / 15) < 1e-6 else 1)"
wait_for "the stel alert record" file_has "^alert,rule=stel,.*event=\"raise\"" "$OUT" ||
	fail "no stel raise in $OUT"
expect_eq "one stel raise" "$(grep -c '^alert,rule=stel,.*event="raise"' "$OUT")" 1
check "the stel alarm is critical" grep -q '^alert,rule=stel,.*severity=critical' "$OUT"
expect_eq "stel is an active alarm" \
	"$(ctl alarms --json | json_eval "[a['state'] for a in d['alarms'] if a['id'] == 'chamber-1/F1/stel'][0]")" active
ctl batch status >"$T/status.txt" 2>&1
check "batch status (table) shows the CT and the STEL" \
	grep -q "CT 3750.0 ppm" "$T/status.txt" && grep -q "outside fc1/door_so2: STEL .*max 5.667" "$T/status.txt"
wait_for "a process point per outside sensor" \
	file_has "^process,batch=F1,kind=fumigation,process=chamber-1,.*sensor=fc1/door_so2" "$OUT" ||
	fail "no outside-sensor process point in $OUT"

# --- purge, stop, release: the lot carries the dose
ctl batch phase F1 purge --at "$(iso $((START + 1800)))" >/dev/null 2>&1
expect_eq "batch phase purge exit status" "$?" 0
expect_eq "the phase" "$(bstat "['phase']")" purge
ctl batch release F1 --lot L-F1 --room CS1 >"$T/release.out" 2>&1
expect_eq "batch release exit status" "$?" 0
lotj() { ctl status --json | json_eval "[l for r in d['rooms'] for l in r['lots'] if l['id'] == 'L-F1'][0]$1"; }
expect_eq "the lot's history names the batch" "$(lotj "['history'][0]['batch']")" F1
check "the lot's history carries the dose" \
	"$PY" -c "import sys; sys.exit(0 if abs($(lotj "['history'][0]['ct_ppmh']") - 3750) < 1e-6 else 1)"
finish
