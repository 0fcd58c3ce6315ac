#!/bin/bash
# Times meant for people (issue 17 item 8): with the root key timezone =
# "Asia/Ho_Chi_Minh", `coldchainctl status` and `alarms` show a lot's load
# time and an alarm's start in UTC+7 with the offset ("2026-12-01 07:00
# +0700"), never bare UTC, whatever zone coldchainctl itself runs in: the
# daemon names its zone in every reply.  --json keeps RFC 3339 UTC.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"

printf '1 input 0 int16 ABCD 80\n' >"$T/sim.map" # 8.0 C: above warn_high
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
timezone = "Asia/Ho_Chi_Minh";
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; on_delay = "1s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature";
            lots = ( { id = "LOT-1"; product = "lychee"; loaded = "2026-12-01T00:00:00Z"; } ); } );
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "300ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); } ); }
);
outputs = { file = ( { name = "archive"; path = "$T/archive.lp"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon

ctl() { local c=$1; shift; TZ=UTC "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
alarm_listed() { ctl alarms --json | json_eval '[a for a in d["alarms"] if a["id"] == "A/temp_high"][0]["id"]'; }
wait_for "A/temp_high active" alarm_listed || die "A/temp_high never became active"

ctl status --json >"$T/status.json" || die "status --json failed"
expect_eq "the reply names the site's zone" "$(json_eval 'd["timezone"]' <"$T/status.json")" Asia/Ho_Chi_Minh
since_utc=$(json_eval '[a["active_since"] for a in d["alarms"] if a["id"] == "A/temp_high"][0]' <"$T/status.json")
case $since_utc in *Z) pass "--json keeps UTC ($since_utc)" ;; *) fail "--json active_since not UTC: $since_utc" ;; esac
want_since=$("$PY" -c '
import sys, datetime, zoneinfo
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
print(t.astimezone(zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d %H:%M %z"))' "$since_utc")

ctl status >"$T/status.txt" 2>&1 || die "status failed: $(cat "$T/status.txt")"
sed 's/^/  | /' "$T/status.txt"
grep -E '^LOT-1 .* 2026-12-01 07:00 \+0700$' "$T/status.txt" >/dev/null &&
	pass "status: LOT-1 loaded at 2026-12-01 07:00 +0700" || fail "status: LOT-1's load time not in UTC+7 with the offset"
grep -F "A/temp_high" "$T/status.txt" | grep -qF "$want_since" &&
	pass "status: the alarm's start in UTC+7 ($want_since)" || fail "status: alarm start not shown as $want_since"
ctl alarms >"$T/alarms.txt" 2>&1
grep -F "A/temp_high" "$T/alarms.txt" | grep -qF "$want_since" &&
	pass "alarms: the start in UTC+7" || fail "alarms: start not shown as $want_since: $(cat "$T/alarms.txt")"
grep -qE '[0-9]{2}:[0-9]{2}(:[0-9.]+)?Z' "$T/status.txt" "$T/alarms.txt" &&
	fail "a bare UTC time in the people's output" || pass "no bare UTC time in status or alarms"
# line protocol stays UTC epoch nanoseconds
wait_for "a point written" file_has 'sensor=th-a1' "$T/archive.lp" || fail "no point written"
ts=$(grep -m1 'sensor=th-a1' "$T/archive.lp" | awk '{print $NF}')
now=$(date +%s%N)
check "line protocol timestamps are UTC epoch ns (within 60 s of now)" \
	"$PY" -c "import sys; sys.exit(0 if abs($now - $ts) < 60e9 else 1)"
finish
