#!/bin/bash
# The real daemon with a Telegram channel output (outputs/channel.c +
# outputs/telegram.c) against the fake Bot API: an alarm raised by MQTT
# samples reaches the recipient's chat once; its clear, sent while the fake
# is down, arrives once after it is back; after a kill -9 nothing is sent
# again and the next alarm arrives once.  The token is in no log.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub missing (apt-get install mosquitto-clients)"

TOK=987654:itest-Token_abc
REC=$T/rec.jsonl
TG_PORT=$(free_port)
install -m 600 /dev/null "$T/tg.token"
printf '%s\n' "$TOK" >"$T/tg.token"
start_fake() {
	start_bg fake_telegram "$T/fake.log" "$PY" "$TESTS_DIR/integration/fake_telegram.py" "$TG_PORT" "$TOK" "$REC"
	FAKE=$LAST_PID
	wait_for "fake Telegram on $TG_PORT" port_open "$TG_PORT" || die "fake Telegram did not start"
}
start_fake
start_mosquitto
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "1s"; }; } );
rooms = ( { name = "A"; profile = "lychee"; temperature = "th-a1/temperature"; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-tg"; };
  subscriptions = (
    { topic = "esp/{sensor}/state"; format = "json"; time = "ts"; time_unit = "ms"; room = "A";
      fields = { temperature = "t"; }; qos = 1; }
  );
};
outputs = {
  file = ( { path = "$T/points.lp"; } );
  telegram = ( { name = "tg"; api_url = "http://127.0.0.1:$TG_PORT"; token_file = "$T/tg.token";
                 timeout = "2s"; backoff_max = "1s"; replies = true; } );
};
recipients = ( { name = "minh"; lang = "vi"; telegram = "111"; } );
routes = ( { name = "ops"; to = [ "minh" ]; via = [ "tg" ]; } );
CONF
} >"$DAEMON_CONF"
start_daemon_mqtt

sent() { "$PY" -c 'import json,sys
n = 0
try:
    for l in open(sys.argv[1]):
        r = json.loads(l)
        n += r["status"] == 200 and r["path"].endswith("/sendMessage") and r["body"]["chat_id"] == 111
except FileNotFoundError:
    pass
print(n)' "$REC"; }
sent_is() { [ "$(sent)" = "$1" ]; }
pub_temp() { # pub_temp VALUE: readings 3 s, 2 s, 1 s ago and now
	local now i
	now=$(date +%s%3N)
	for i in 3 2 1 0; do
		mqtt_pub esp/th-a1/state "{\"ts\": $((now - i * 1000)), \"t\": $1}" || return 1
	done
}

# --- raise: one message to the chat
pub_temp 9.5
wait_for "the raise in the chat" sent_is 1 || fail "no message for the raise (sent $(sent))"
check "the message names room A" "$PY" -c 'import json,sys
R = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any("A" in r["body"]["text"] for r in R if r["status"] == 200 and r["path"].endswith("/sendMessage")) else 1)' "$REC"

# --- outage: the clear happens while the fake is down, arrives once after
stop_pid "$FAKE"
pub_temp 4.0
wait_for "the daemon retrying against the stopped fake" grep -q "output tg" "$DAEMON_LOG" ||
	fail "no retry logged while the fake was down"
start_fake
wait_for "the clear after the outage" sent_is 2 || fail "the clear did not arrive after the outage (sent $(sent))"

# --- kill -9, restart: nothing again; the next alarm once.  The kill comes
# once the daemon has recorded the delivery (its journal position for tg
# written after the fake's 200): the Bot API has no idempotency key, so a
# kill in the moment between the API's answer and that write sends that one
# message again on restart (at least once, never lost).
recorded() { "$PY" -c 'import glob,json,os,sys
last = [r["t"] for r in map(json.loads, open(sys.argv[2])) if r["path"].endswith("/sendMessage")][-1]
sys.exit(0 if any(os.stat(p).st_mtime >= last for p in glob.glob(sys.argv[1] + "/journal/pos-tg-*.pos")) else 1)' "$T/state" "$REC"; }
wait_for "the clear's delivery recorded" recorded || fail "the journal position of tg never moved past the delivery"
kill -9 "$DAEMON_PID"
wait_for "coldchaind gone" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
forget_pid "$DAEMON_PID"
start_daemon_mqtt
pub_temp 10.5
wait_for "the next raise after kill -9" sent_is 3 || fail "the raise after kill -9 did not arrive (sent $(sent))"
expect_eq "each event exactly once: raise, clear, raise" "$(sent)" 3
expect_eq "three different texts" "$("$PY" -c 'import json,sys
R = [json.loads(l) for l in open(sys.argv[1])]
print(len({r["body"]["text"] for r in R if r["status"] == 200 and r["path"].endswith("/sendMessage")}))' "$REC")" 3

# --- the recipient answers "OK <id>" in the chat: the alarm is acknowledged as minh
sid=$("$PY" -c 'import json,re,sys
R = [json.loads(l) for l in open(sys.argv[1])]
t = [r["body"]["text"] for r in R if r["status"] == 200 and r["path"].endswith("/sendMessage")][-1]
print(re.search(r"OK ([0-9a-f]+)", t).group(1))' "$REC")
curl -sf -X POST -d "{\"updates\": [{\"update_id\": 900, \"message\": {\"chat\": {\"id\": 111}, \"text\": \"OK $sid\"}}]}" \
	"http://127.0.0.1:$TG_PORT/_control" >/dev/null
acked() { ctl alarms 2>/dev/null | grep -qE '^A/temp_high +acked '; }
if wait_for "the alarm acknowledged by minh" acked; then
	pass "the reply 'OK $sid' acknowledged the alarm (coldchainctl alarms: acked)"
	check "as minh, by the Telegram reply" grep -q 'alarm A/temp_high: ack -> acked .* by minh: by TELEGRAM reply' "$DAEMON_LOG"
else
	fail "the reply did not acknowledge the alarm"; ctl alarms | sed 's/^/  | /'
fi
check "the token is in no log" bash -c "! grep -qF '$TOK' '$DAEMON_LOG' '$T/check.out'"
stop_pid "$FAKE"
finish
