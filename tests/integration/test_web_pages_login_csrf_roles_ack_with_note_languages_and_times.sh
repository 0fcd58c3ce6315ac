#!/bin/bash
# The web pages against the real daemon, the Modbus simulator, curl-like
# HTTP (python3 urllib) and python3's html.parser: no page without a
# session (303 to /login, 401 for a fragment or a POST); the login form is
# CSRF-protected before any session (403 without or with a forged token);
# a viewer's ack is 403; an operator's ack without the token or from
# another Origin is 403, with it and a note it acks: the page, `coldchainctl
# alarms` and the file output's alert event (with user and note) agree; the
# overview follows the markup contract in Vietnamese (decimal comma) and
# English (Accept-Language and the switch); times carry the site's offset
# (+07); room page SVG, lot page report command and move form; assets with
# ETag/304; logout; 5 wrong passwords then 429 with Retry-After; refusals
# counted in coldchaind_web; SIGHUP re-reads the users file (a broken one is
# refused, the users before kept).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"

printf '1 input 0 int16 ABCD 80\n1 input 1 int16 ABCD 920\n2 input 0 int16 ABCD 30\n' >"$T/sim.map" # A 8.0 C 92 %, B 3.0 C
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
OUT=$T/out.lp
U=$T/users
OP_PW=op-pass-1234
VI_PW=viewer-pass-5678
printf '%s\n' "$OP_PW" | "$CTL" user add op --role operator --file "$U" >/dev/null || die "user add op"
printf '%s\n' "$VI_PW" | "$CTL" user add vi --role viewer --file "$U" >/dev/null || die "user add vi"
WEB_PORT=$(free_port)
STATS_INTERVAL=1s
{
	config_head
	cat <<CONF
timezone = "Asia/Ho_Chi_Minh";
control = { group = "$(id -gn)"; };
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "1s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature"; humidity = "th-a1/humidity"; profile = "lychee";
            lots = ( { id = "LOT-1"; product = "lychee"; loaded = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } ); },
          { name = "B"; temperature = "th-b1/temperature"; profile = "lychee"; } );
alarms = { shelf_life_interval = "1s"; rate_limit = 0.0; stuck_after = "0s"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "300ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; },
                 { channel = "humidity"; table = "input"; address = 1; type = "int16"; scale = 0.1; unit = "%"; } ); },
                { name = "th-b1"; unit = 2; room = "B";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); } ); }
);
outputs = { file = ( { path = "$OUT"; } ); };
web = { listen = "127.0.0.1:$WEB_PORT"; users_file = "$U"; };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"
alarm_active() { "$CTL" alarms -c "$DAEMON_CONF" --json | json_eval '[a["state"] for a in d["alarms"] if a["id"] == "A/temp_high"][0]' | grep -qx active; }
wait_for "A/temp_high active" alarm_active || die "A/temp_high never became active"

"$PY" "$(dirname "$0")/web_pages_client.py" "http://127.0.0.1:$WEB_PORT" "$CTL" "$DAEMON_CONF" "$OUT" "$OP_PW" "$VI_PW" \
	>"$T/client.out" 2>&1
client_verdicts "$T/client.out" "wrong passwords"

ack_in_file() { grep '^alert,' "$OUT" 2>/dev/null | grep 'event="ack"' | grep 'user="op"' | grep -q 'note="đã gọi kỹ thuật"'; }
wait_for "the ack event in the file output" ack_in_file && pass "file output: the ack's alert event carries user op and the note" ||
	fail "no ack event with user and note in $OUT: $(grep 'event="ack"' "$OUT")"
grep -q "refused POST /alarms/ack by vi: an operator's action" "$DAEMON_LOG" && pass "the viewer's refusal is logged" ||
	fail "the viewer's refusal is not logged"
grep -q "$OP_PW" "$DAEMON_LOG" && fail "a password is in the log" || pass "no password in the log"
metrics_counted() {
	curl -s --max-time 10 "http://127.0.0.1:$WEB_PORT/metrics" >"$T/metrics.txt"
	grep -Eq '^coldchaind_web_refused_csrf(_total)?\{[^}]*\} [3-9]' "$T/metrics.txt" &&
		grep -Eq '^coldchaind_web_refused_role(_total)?\{[^}]*\} [1-9]' "$T/metrics.txt" &&
		grep -Eq '^coldchaind_web_login_locked(_total)?\{[^}]*\} [1-9]' "$T/metrics.txt"
}
wait_for "refusals in /metrics" metrics_counted && pass "refusals counted: $(grep -E 'refused_(csrf|role|origin)|login_(ok|failed|locked)' "$T/metrics.txt" | tr '\n' ' ')" ||
	fail "refusals not counted in /metrics: $(grep coldchaind_web "$T/metrics.txt" | tr '\n' ' ')"
# SIGHUP re-reads the users file: a third user appears; a broken file keeps the three
printf '%s\n' "new-pass-9012" | "$CTL" user add lan --role viewer --file "$U" >/dev/null || die "user add lan"
kill -HUP "$DAEMON_PID"
wait_for "3 users after SIGHUP" file_has "web: 3 users from $U" "$DAEMON_LOG" && pass "SIGHUP re-reads the users file (3 users)" ||
	fail "the users file was not re-read on SIGHUP"
echo 'broken line' >>"$U"
kill -HUP "$DAEMON_PID"
wait_for "users file refused" file_has "users_file $U not loaded, keeping the users before" "$DAEMON_LOG" &&
	pass "a broken users file on SIGHUP is refused, the users before kept" || fail "a broken users file was not refused"
finish
