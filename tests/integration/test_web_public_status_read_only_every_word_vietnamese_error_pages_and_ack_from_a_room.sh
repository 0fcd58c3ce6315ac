#!/bin/bash
# public_status = true: the overview, alarms and room pages and /events are
# readable without a login, with no action form, and every POST without a
# session is refused (401/403); every page rendered in Vietnamese shows no
# English word of the catalogue (po/vi.po's msgids); error replies are a
# small page in the browser's language with a link back (plain text for
# other clients); the post-action notice is in the page's language; an ack
# from a room page returns to the room page.  The real daemon, the Modbus
# simulator and python3 (urllib, html.parser) as the browser.
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
web = { listen = "127.0.0.1:$WEB_PORT"; users_file = "$U"; public_status = true; };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"
alarm_active() { "$CTL" alarms -c "$DAEMON_CONF" --json | json_eval '[a["state"] for a in d["alarms"] if a["id"] == "A/temp_high"][0]' | grep -qx active; }
wait_for "A/temp_high active" alarm_active || die "A/temp_high never became active"

"$PY" "$(dirname "$0")/web_words_client.py" "http://127.0.0.1:$WEB_PORT" "$(dirname "$0")/../../po/vi.po" "$OP_PW" \
	>"$T/client.out" 2>&1
client_verdicts "$T/client.out"
grep -q "refused POST /alarms/ack: no session" "$DAEMON_LOG" && pass "the anonymous POST's refusal is logged" ||
	fail "the anonymous POST's refusal is not logged"
finish
