#!/bin/bash
# End to end through coldchaind: a room's temperature (Modbus simulator)
# rises past its limit, the notification core routes the alarm to a
# recipient by SMS, the simulated GSM modem (tests/modem_sim.py on a socat
# pty pair) receives it in Vietnamese as UCS-2 with the reply hint
# "OK <id>"; the recipient's reply "OK <id>", read from the SIM, acknowledges
# the alarm as that recipient.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
command -v socat >/dev/null || die "socat not installed (tests/deps.sh)"

REC=$T/sms.jsonl
INBOX=$T/inbox.jsonl
PHONE=+84987654321
: >"$INBOX"
links_ready() { [ -e "$T/modem" ] && [ -e "$T/sim" ]; }
start_bg socat "$T/socat.log" socat -d -d "pty,raw,echo=0,link=$T/modem" "pty,raw,echo=0,link=$T/sim"
wait_for "socat pty links" links_ready || die "socat did not create $T/modem and $T/sim"
start_bg modem_sim "$T/modem_sim.log" "$PY" "$TESTS_DIR/modem_sim.py" --port "$T/sim" \
	--record "$REC" --inbox "$INBOX" --ready-file "$T/sim.ready" --noisy
wait_for "modem simulator" test -e "$T/sim.ready" || die "modem_sim did not start"

map() { printf '1 input 0 int16 ABCD %s\n' "$1" >"$T/sim.map"; }
map 40 # 4.0 C
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "0s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature";
  lots = ( { id = "LOT-1"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; } ); } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "500ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); } ); }
);
outputs = { file = ( { path = "$T/out.lp"; } ); sms = ( { name = "modem"; device = "$T/modem"; } ); };
recipients = ( { name = "owner"; phone = "$PHONE"; } );
routes = ( { name = "all"; min_severity = "warning"; to = [ "owner" ]; via = [ "modem" ]; } );
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "modem ready" file_has "modem $T/modem ready" "$DAEMON_LOG" || die "the daemon never got the modem ready"

map 80 # 8.0 C: above warn_high
kill -HUP "$SIM_PID"
alarm_sms() {
	"$PY" -c 'import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(l)
    if m.get("event") == "sms":
        print(json.dumps(m, ensure_ascii=False))' "$REC" 2>/dev/null | grep -q .
}
wait_for "the alarm's SMS" alarm_sms || die "no SMS reached the modem"
"$PY" - "$REC" "$PHONE" >"$T/sms.out" <<'PYEOF'
import json, re, sys
sms = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if json.loads(l).get("event") == "sms"]
m = sms[0]
# the hint must be whole in one part: a phone shows the parts as separate messages
ident = next((re.search(r"OK ([0-9a-fA-F]{4,6})", x["text"]) for x in sms if re.search(r"OK [0-9a-fA-F]{4,6}", x["text"])), None)
print(m["number"] == sys.argv[2], m["charset"], bool(re.search("[ạảãấầẩẫậắằẳẵặẹẻẽếềểễệịỉĩọỏõốồổỗộớờởỡợụủũứừửữựỳỷỹỵđ]", m["text"].lower())))
print(ident.group(1) if ident else "")
PYEOF
expect_eq "the alarm reached the owner's phone, in Vietnamese, as UCS-2" "$(head -n 1 "$T/sms.out")" "True UCS2 True"
ID=$(sed -n 2p "$T/sms.out")
[ -n "$ID" ] || { sed 's/^/  | /' "$REC"; die "the SMS has no \"OK <id>\" hint"; }
pass "the SMS says how to acknowledge: OK $ID"

echo "{\"number\": \"$PHONE\", \"text\": \"OK $ID\"}" >>"$INBOX"
acked() { [ "$(ctl alarms --json | json_eval '[a["state"] for a in d["alarms"] if a["id"] == "A/temp_high"][0]')" = acked ]; }
wait_for "the alarm acknowledged by the reply" acked
check "the reply \"OK $ID\" acknowledged the alarm" acked
check "the ack is logged as the recipient's, by SMS reply" file_has "alarm A/temp_high: ack -> acked .* by owner: by SMS reply" "$DAEMON_LOG"
check "the reply was deleted from the SIM" file_has '"event": "deleted"' "$REC"
finish
