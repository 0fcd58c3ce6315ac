#!/bin/bash
# Issue 16, routing end to end in the real daemon against the fake Telegram
# Bot API, alarms raised by MQTT samples:
#  - a route with chain = [owner, boss] and alarms.renotify = 3s: the raise
#    reaches `to` (minh) only; the 1st re-notification, unacknowledged, adds
#    owner (chain[0]); the 2nd adds boss (chain[1]); minh's reply "OK <id>"
#    acknowledges it: all three are told ("đã xác nhận bởi minh") and no
#    further re-notification comes.
#  - quiet hours with `timezone` set so that now is inside them: a warning
#    raise is held (held_now 1 in the self-metrics, nothing sent), a
#    critical raise is sent at once.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub missing (apt-get install mosquitto-clients)"

TOK=777:chain-Token
REC=$T/rec.jsonl
TG_PORT=$(free_port)
install -m 600 /dev/null "$T/tg.token"
printf '%s\n' "$TOK" >"$T/tg.token"
start_bg fake_telegram "$T/fake.log" "$PY" "$TESTS_DIR/integration/fake_telegram.py" "$TG_PORT" "$TOK" "$REC"
wait_for "fake Telegram on $TG_PORT" port_open "$TG_PORT" || die "fake Telegram did not start"
start_mosquitto

# conf EXTRA_TOP RECIPIENTS ROUTES
conf() {
	config_head
	cat <<CONF
$1
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "0s"; }; } );
rooms = ( { name = "A"; profile = "lychee"; temperature = "sa/temperature"; },
          { name = "B"; profile = "lychee"; temperature = "sb/temperature"; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; renotify = "3s"; escalate = "0s"; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-chain"; };
  subscriptions = ( { topic = "esp/{sensor}/state"; format = "json"; fields = { temperature = "t"; }; qos = 1; } );
};
outputs = {
  file = ( { path = "$T/points.lp"; } );
  telegram = ( { name = "tg"; api_url = "http://127.0.0.1:$TG_PORT"; token_file = "$T/tg.token";
                 timeout = "2s"; backoff_max = "1s"; replies = true; } );
};
recipients = ( $2 );
routes = ( $3 );
CONF
}
# texts CHAT: the texts sent to CHAT, one a line
texts() { "$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["status"] == 200 and r["path"].endswith("/sendMessage") and str(r["body"]["chat_id"]) == sys.argv[2]:
        print(r["body"]["text"].replace("\n", " | "))' "$REC" "$1" 2>/dev/null; }
n() { texts "$1" | wc -l; }
n_is() { [ "$(n "$1")" -ge "$2" ]; }
texts_has() { texts "$1" | grep -q -- "$2"; }
counts() { echo "minh $(n 111), owner $(n 222), boss $(n 333)"; }

# ---- 1. the chain
conf "" '{ name = "minh"; telegram = "111"; }, { name = "owner"; telegram = "222"; }, { name = "boss"; telegram = "333"; }' \
	'{ name = "ops"; min_severity = "warning"; to = [ "minh" ]; chain = [ "owner", "boss" ]; via = [ "tg" ]; }' >"$DAEMON_CONF"
start_daemon_mqtt
mqtt_pub esp/sa/state '{"t": 9.5}'
wait_for "the raise to minh" n_is 111 1 || die "no raise for minh ($(counts))"
expect_eq "the raise: to minh only" "$(counts)" "minh 1, owner 0, boss 0"
wait_for "the 1st re-notification reaches chain[0]" n_is 222 1 || fail "owner never told ($(counts))"
expect_eq "1st re-notification: minh again and owner, not boss" "$(counts)" "minh 2, owner 1, boss 0"
check "owner is told it is still not acknowledged" texts_has 222 'chưa có ai xác nhận'
wait_for "the 2nd re-notification reaches chain[1]" n_is 333 1 || fail "boss never told ($(counts))"
expect_eq "2nd re-notification: minh, owner and boss" "$(counts)" "minh 3, owner 2, boss 1"
sid=$(texts 111 | head -n 1 | grep -oE 'OK [0-9a-f]{4,6}' | head -n 1 | cut -d' ' -f2)
[ -n "$sid" ] || die "no short id in minh's message: $(texts 111 | head -n 1)"
before=$(counts)
curl -sf -X POST -d "{\"updates\": [{\"update_id\": 500, \"message\": {\"chat\": {\"id\": 111}, \"text\": \"OK $sid\"}}]}" \
	"http://127.0.0.1:$TG_PORT/_control" >/dev/null || die "fake control failed"
acked_all() { texts 111 | grep -q 'đã xác nhận bởi minh' && texts 222 | grep -q 'đã xác nhận bởi minh' &&
	texts 333 | grep -q 'đã xác nhận bởi minh'; }
wait_for "the ack told to minh, owner and boss" acked_all ||
	{ fail "the ack did not reach all three (before the reply: $before; now $(counts))"; texts 222 | sed 's/^/  | /'; }
check "acknowledged as minh by the Telegram reply" grep -q 'A/temp_high: ack -> acked .* by minh: by TELEGRAM reply' "$DAEMON_LOG"
after=$(counts)
# absence over two re-notification periods (a bounded wait that should time out)
changed() { [ "$(counts)" != "$after" ]; }
wait_for "no re-notification after the ack" -t 7 changed >/dev/null 2>&1
expect_eq "the ack stops the chain: nothing more in two re-notification periods" "$(counts)" "$after"
stop_daemon >/dev/null

# ---- 2. quiet hours: now (UTC) is inside lan's quiet hours
: >"$REC"
rm -rf "$T/state"
curl -sf -X POST -d '{"updates": []}' "http://127.0.0.1:$TG_PORT/_control" >/dev/null || die "fake control failed"
h=$(date -u +%H)
from=$(printf '%02d:00' $(((10#$h + 23) % 24)))
to=$(printf '%02d:00' $(((10#$h + 2) % 24)))
conf 'timezone = "UTC";' "{ name = \"lan\"; telegram = \"444\"; quiet_hours = \"$from-$to\"; }" \
	'{ name = "ops"; min_severity = "warning"; to = [ "lan" ]; via = [ "tg" ]; }' >"$DAEMON_CONF"
start_daemon_mqtt
mqtt_pub esp/sa/state '{"t": 9.5}'
held() { grep -q '^coldchaind_channel,.*output=tg.* .*held_now=1i' "$T/points.lp"; }
wait_for "the warning held (held_now 1 in the self-metrics)" held ||
	fail "the warning was not held: $(grep '^coldchaind_channel' "$T/points.lp" | tail -n 1)"
expect_eq "during quiet hours $from-$to UTC the warning is not sent" "$(n 444)" 0
mqtt_pub esp/sb/state '{"t": 31.0}'
wait_for "the critical raise sent at once" n_is 444 1 || fail "the critical raise did not arrive"
check "what arrived is room B's critical alarm" texts_has 444 'KHẨN CẤP.*B'
expect_eq "only the critical one was sent" "$(n 444)" 1
check "the daemon is alive" pid_alive "$DAEMON_PID"
finish
