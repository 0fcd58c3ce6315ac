#!/bin/bash
# The sms transport against a simulated GSM modem on a socat pty pair
# (tests/modem_sim.py: the AT dialogue of a real modem, with unsolicited
# result codes interleaved): a SIM behind a PIN is unlocked without the PIN
# ever reaching a log; a Vietnamese text arrives intact as UCS-2; a long
# one arrives as "(k/n) " parts in order; +CMS ERROR 331 is retried and the
# message delivered once; a reply "OK <id>" read by AT+CMGL reaches the
# reply callback and is deleted from the SIM; the modem unplugged (the pty
# gone), then back without a SIM (not healthy, with the reason, nothing sent,
# nothing lost), then back whole: reopened and the message delivered once.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
SMS_TOOL=$BUILD_DIR/tests/sms_tool
need_bin "$SMS_TOOL"
command -v socat >/dev/null || die "socat not installed (tests/deps.sh)"

REC=$T/sms.jsonl
INBOX=$T/inbox.jsonl
NUM=+84901234567
SOCAT_PID=
SIM_PID=

links_ready() { [ -e "$T/modem" ] && [ -e "$T/sim" ]; }
links_gone() { [ ! -e "$T/modem" ] && [ ! -e "$T/sim" ]; }

# plug_modem SIM-ARGS...: the pty pair and the simulated modem behind it.
plug_modem() {
	start_bg socat "$T/socat.log" socat -d -d "pty,raw,echo=0,link=$T/modem" "pty,raw,echo=0,link=$T/sim"
	SOCAT_PID=$LAST_PID
	wait_for "socat pty links" links_ready || die "socat did not create $T/modem and $T/sim"
	rm -f "$T/sim.ready"
	: >"$INBOX" # a new modem: the lines for the previous one are not replayed
	start_bg modem_sim "$T/modem_sim.log" "$PY" "$TESTS_DIR/modem_sim.py" --port "$T/sim" \
		--record "$REC" --inbox "$INBOX" --ready-file "$T/sim.ready" --noisy "$@"
	SIM_PID=$LAST_PID
	wait_for "modem simulator" test -e "$T/sim.ready" || die "modem_sim did not start"
}

unplug_modem() {
	stop_pid "$SOCAT_PID"
	stop_pid "$SIM_PID"
	wait_for "pty links removed" links_gone || die "socat left its links behind"
}

tool() { echo "$*" >"$T/tool.fifo"; }
# sms_texts ID-OR-TEXT-FRAGMENT: the texts the modem received containing it, one a line.
sms_texts() {
	"$PY" -c 'import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(l)
    if m.get("event") == "sms" and sys.argv[2] in m["text"]:
        print(json.dumps([m["number"], m["charset"], m["text"]], ensure_ascii=False))' "$REC" "$1" 2>/dev/null
}
controls_taken() { [ "$(grep -c '"event": "control"' "$REC")" -ge "$1" ]; }
health_down() {
	tool health
	grep -q "^health 0 modem $T/modem: $1" "$T/tool.log"
}

printf '%s\n' 2741 >"$T/pin"
mkfifo "$T/tool.fifo"
plug_modem --sim pin --pin 2741
start_bg sms_tool "$T/tool.log" "$SMS_TOOL" --device "$T/modem" --fifo "$T/tool.fifo" \
	--pin-file "$T/pin" --max-parts 3
wait_for "modem ready" file_has "modem $T/modem ready" "$T/tool.log" || die "the modem never became ready"
check "the SIM PIN was sent and accepted" grep -q '"event": "pin", "accepted": true' "$REC"
check "the SIM PIN is in no log" bash -c "! grep -q 2741 '$T/tool.log' '$T/modem_sim.log'"

# 1. Vietnamese: UCS-2, intact.
VI='Phòng lạnh 2: 9,5 °C > 8 °C. Trả lời "OK a1f3" để xác nhận 🥶'
tool "send a1f3 $NUM $VI"
wait_for "result a1f3" file_has "^result a1f3 " "$T/tool.log" || die "no result for a1f3"
check "the Vietnamese text is accepted" file_has "^result a1f3 OK" "$T/tool.log"
expect_eq "the modem received it intact as UCS-2" "$(sms_texts a1f3)" \
	"$("$PY" -c 'import json,sys; print(json.dumps([sys.argv[1], "UCS2", sys.argv[2]], ensure_ascii=False))' "$NUM" "$VI")"

# 2. A long GSM text: three parts, prefixed, in order, nothing lost.
LONG="Room 4 door open 12 min."
for i in $(seq 1 50); do LONG="$LONG word$i"; done
tool "send b7 $NUM $LONG"
wait_for "result b7" file_has "^result b7 " "$T/tool.log" || die "no result for b7"
"$PY" - "$REC" "$LONG" >"$T/parts.out" <<'PYEOF'
import json, sys
texts = [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")
         if json.loads(l).get("event") == "sms" and "/3) " in json.loads(l)["text"]]
ok = [t.startswith("(%d/3) " % (k + 1)) and len(t) <= 160 for k, t in enumerate(texts)]
joined = " ".join(t[6:] for t in texts)
print(len(texts), all(ok), joined == sys.argv[2], [json.loads(l)["charset"] for l in open(sys.argv[1]) if "/3) " in l][0])
PYEOF
expect_eq "the long text came as 3 prefixed GSM parts in order, whole" "$(cat "$T/parts.out")" "3 True True GSM"

# 3. +CMS ERROR 331 (no network service) twice: retried, delivered once.
echo '{"cms_count": 2, "cms_error": 331}' >>"$INBOX"
wait_for "the simulator took the control line" controls_taken 1 || die "modem_sim ignored its control line"
tool "retry c2 $NUM Room 1 temperature high c2"
wait_for "result c2" file_has "^result c2 " "$T/tool.log" || die "no result for c2"
expect_eq "two attempts refused with +CMS ERROR: 331" "$(grep -c '^attempt c2 RETRY +CMS ERROR: 331' "$T/tool.log")" 2
check "then delivered" file_has "^result c2 OK" "$T/tool.log"
expect_eq "the modem accepted it exactly once" "$(sms_texts 'temperature high c2' | wc -l)" 1

# 4. A reply read from the SIM reaches the callback and is deleted.
echo "{\"number\": \"$NUM\", \"text\": \"OK a1f3\"}" >>"$INBOX"
wait_for "reply read" file_has "^reply $NUM OK a1f3\$" "$T/tool.log"
check "the reply \"OK a1f3\" reached the reply callback with its number" file_has "^reply $NUM OK a1f3\$" "$T/tool.log"
wait_for "reply deleted" file_has '"event": "deleted"' "$REC"
check "the reply was deleted from the SIM" file_has '"event": "deleted"' "$REC"

# 5. Self-metrics of the modem.
tool stats
wait_for "stats" file_has "^stats coldchaind_modem" "$T/tool.log"
check "stats show signal, registration, SIM and counters" \
	grep -q '^stats coldchaind_modem,output=sms1,site=test signal_dbm=-73i,registered=true,sim_ready=true,sent=5i,errors=2i' "$T/tool.log"

# 5b. An address that will never work is refused, not retried.
echo '{"cms_count": 1, "cms_error": 21}' >>"$INBOX"
wait_for "the simulator took the control line" controls_taken 2 || die "modem_sim ignored its control line"
tool "retry r21 $NUM Room 3 r21"
wait_for "result r21" file_has "^result r21 " "$T/tool.log" || die "no result for r21"
expect_eq "+CMS ERROR: 21 (transfer rejected) refuses the address at once" \
	"$(grep -c '^attempt r21' "$T/tool.log") $(grep '^result r21' "$T/tool.log")" "1 result r21 REFUSED +CMS ERROR: 21"
tool "send n1 0912-ABC Room 3 n1"
wait_for "result n1" file_has "^result n1 " "$T/tool.log" || die "no result for n1"
check "a phone number with letters is refused without reaching the modem" file_has "^result n1 REFUSED not a phone number" "$T/tool.log"

# 6. Unplugged: not healthy, with the device's error.
unplug_modem
wait_for "health down after unplugging" health_down "" || fail "health never went down"
check "health says the modem is gone" health_down ""
tool "retry u9 $NUM Door open u9"
wait_for "an attempt while unplugged" file_has "^attempt u9 RETRY" "$T/tool.log" || die "no attempt for u9"

# 7. Back without a SIM: not healthy with the reason, nothing sent.
plug_modem --sim absent
wait_for "no SIM reported" file_has "^attempt u9 RETRY modem $T/modem: no SIM (+CME ERROR: 10)" "$T/tool.log"
check "a modem without a SIM is reported as such" file_has "no SIM (+CME ERROR: 10)" "$T/tool.log"
expect_eq "nothing was sent without a SIM" "$(sms_texts 'Door open u9' | wc -l)" 0
unplug_modem

# 8. Back whole: reopened, and the message delivered once.
plug_modem
wait_for "u9 delivered after the modem came back" file_has "^result u9 " "$T/tool.log"
check "the message waiting for the modem is delivered" file_has "^result u9 OK" "$T/tool.log"
expect_eq "exactly once" "$(sms_texts 'Door open u9' | wc -l)" 1
check "the reopening is logged" test "$(grep -c "modem $T/modem ready" "$T/tool.log")" -ge 2

tool quit
finish
