#!/bin/bash
# The real daemon with a Zalo channel output (outputs/channel.c +
# outputs/zalo.c) against the fake OA API + OAuth server: an alarm raised
# by MQTT samples reaches the follower once (after the first token
# refresh); its clear, while the fake is down, arrives once after it is
# back; an expired access token is refreshed and the next message arrives
# once; after a kill -9 the kept token pair is used (the spent configured
# refresh token never again) and nothing is sent twice.  No secret in the log.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub missing (apt-get install mosquitto-clients)"

REC=$T/rec.jsonl
ZA_PORT=$(free_port)
SECRET=itest-s3cr3t
install -m 600 /dev/null "$T/zalo.secret"
install -m 600 /dev/null "$T/zalo.refresh"
printf '%s\n' "$SECRET" >"$T/zalo.secret"
printf '%s\n' RT0-first >"$T/zalo.refresh"
start_fake() { # the fake keeps its token state in memory: a restart gets the current refresh token
	start_bg fake_zalo "$T/fake.log" "$PY" "$TESTS_DIR/integration/fake_zalo.py" "$ZA_PORT" 4242 "$SECRET" "$1" "$REC" "$2"
	FAKE=$LAST_PID
	wait_for "fake Zalo on $ZA_PORT" port_open "$ZA_PORT" || die "fake Zalo did not start"
}
start_fake RT0-first 0
start_mosquitto
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "1s"; }; } );
rooms = ( { name = "A"; profile = "lychee"; temperature = "th-a1/temperature"; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-za"; };
  subscriptions = (
    { topic = "esp/{sensor}/state"; format = "json"; time = "ts"; time_unit = "ms"; room = "A";
      fields = { temperature = "t"; }; qos = 1; }
  );
};
outputs = {
  file = ( { path = "$T/points.lp"; } );
  zalo = ( { name = "oa"; api_url = "http://127.0.0.1:$ZA_PORT"; oauth_url = "http://127.0.0.1:$ZA_PORT";
             app_id = "4242"; secret_key_file = "$T/zalo.secret"; refresh_token_file = "$T/zalo.refresh";
             timeout = "2s"; backoff_max = "1s"; } );
};
recipients = ( { name = "lan"; lang = "vi"; zalo = "8801"; } );
routes = ( { name = "ops"; to = [ "lan" ]; via = [ "oa" ]; } );
CONF
} >"$DAEMON_CONF"
start_daemon_mqtt

# delivered messages to 8801 (the fake answered error 0)
sent() { "$PY" -c 'import json,sys
n = 0
try:
    for l in open(sys.argv[1]):
        r = json.loads(l)
        n += r["path"] == "/v3.0/oa/message/cs" and r["status"] == 200 and r["api_error"] == 0 \
            and r["body"]["recipient"]["user_id"] == "8801"
except FileNotFoundError:
    pass
print(n)' "$REC"; }
sent_is() { [ "$(sent)" = "$1" ]; }
pub_temp() {
	local now i
	now=$(date +%s%3N)
	for i in 3 2 1 0; do
		mqtt_pub esp/th-a1/state "{\"ts\": $((now - i * 1000)), \"t\": $1}" || return 1
	done
}
kept_rt() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["refresh_token"])' "$T/state/zalo-oa.tokens"; }

pub_temp 9.5
wait_for "the raise at the follower" sent_is 1 || fail "no message for the raise (sent $(sent))"
expect_eq "the token pair kept 0600 after the first refresh" "$(stat -c %a "$T/state/zalo-oa.tokens") $(kept_rt)" "600 RT1"

# --- outage: the clear arrives once after the fake is back (it comes back
# knowing the current refresh token, and with the access token expired)
stop_pid "$FAKE"
pub_temp 4.0
wait_for "the daemon retrying against the stopped fake" grep -q "output oa" "$DAEMON_LOG" ||
	fail "no retry logged while the fake was down"
start_fake "$(kept_rt)" 1
wait_for "the clear after the outage" sent_is 2 || fail "the clear did not arrive after the outage (sent $(sent))"
expect_eq "the expired token refreshed with the kept refresh token: the newest pair kept" "$(kept_rt)" RT2
recorded() { "$PY" -c 'import glob,json,os,sys
last = [r["t"] for r in map(json.loads, open(sys.argv[2])) if r["path"] == "/v3.0/oa/message/cs"][-1]
sys.exit(0 if any(os.stat(p).st_mtime >= last for p in glob.glob(sys.argv[1] + "/journal/pos-oa-*.pos")) else 1)' "$T/state" "$REC"; }
wait_for "the clear's delivery recorded" recorded || fail "the journal position of oa never moved past the delivery"

# --- kill -9: the kept pair is used, nothing is sent twice, the next alarm once
kill -9 "$DAEMON_PID"
wait_for "coldchaind gone" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
forget_pid "$DAEMON_PID"
start_daemon_mqtt
pub_temp 10.5
wait_for "the next raise after kill -9" sent_is 3 || fail "the raise after kill -9 did not arrive (sent $(sent))"
expect_eq "each event exactly once: raise, clear, raise" "$(sent)" 3
expect_eq "three different texts" "$("$PY" -c 'import json,sys
R = [json.loads(l) for l in open(sys.argv[1])]
print(len({r["body"]["message"]["text"] for r in R if r["path"] == "/v3.0/oa/message/cs" and r["api_error"] == 0}))' "$REC")" 3
expect_eq "after the restart the kept access token AT2 was used, no refresh" \
	"$("$PY" -c 'import json,sys
R = [json.loads(l) for l in open(sys.argv[1])]
print(R[-1]["access_token"], sum(1 for r in R if r["path"] == "/v4/oa/access_token"))' "$REC")" "AT2 2"
expect_eq "the configured refresh token was spent once only" \
	"$("$PY" -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("form", {}).get("refresh_token") == "RT0-first"))' "$REC")" 1
check "no secret nor token in the log" bash -c "! grep -qE '$SECRET|RT0-first|AT[12]\\b|RT[12]\\b' '$DAEMON_LOG' '$T/check.out'"
stop_pid "$FAKE"
finish
