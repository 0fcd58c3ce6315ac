#!/bin/bash
# The Zalo transport (outputs/zalo.c) against a fake OA API + OAuth server
# (fake_zalo.py), driven by tests/transport_cli: the exact message and
# refresh requests; the first send refreshes with the configured refresh
# token; an expired access token is refreshed and the message delivered
# once; the new pair is kept 0600 in the state dir and used after a
# restart (the configured, spent token is never sent again); a refused
# refresh is an auth failure; a non-follower is refused and the next user
# served; rate limits and 5xx are retries; no secret in any output.
. "$(dirname "$0")/../lib.sh"

CLI=$BUILD_DIR/tests/transport_cli
[ -x "$CLI" ] || die "no $CLI (make all)"
PORT=$(free_port)
REC=$T/rec.jsonl
OUT=$T/cli.log
SECRET=s3cr3t-key-value
printf '%s\n' "$SECRET" >"$T/secret"
printf '%s\n' RT0-first >"$T/refresh"
mkdir -p "$T/state"
start_bg fake_zalo "$T/fake.log" "$PY" "$TESTS_DIR/integration/fake_zalo.py" "$PORT" app42 "$SECRET" RT0-first "$REC"
FAKE=$LAST_PID
wait_for "fake Zalo on $PORT" port_open "$PORT" || die "fake Zalo did not start"
ctl_fake() { curl -sf -X POST -d "$1" "http://127.0.0.1:$PORT/_control" >/dev/null; }
za() { "$CLI" zalo --api "http://127.0.0.1:$PORT" --oauth "http://127.0.0.1:$PORT/" --app-id app42 \
	--secret-file "$T/secret" --refresh-file "$T/refresh" --state "$T/state" "$@" 2>&1 | tee -a "$OUT"; }
rec() { "$PY" -c 'import json,sys; R=[json.loads(l) for l in open(sys.argv[1])]; print(eval(sys.argv[2]))' "$REC" "$1"; }

# --- first send: refresh with the configured token, then the message
res=$(za send 8801 "Phòng lạnh A: 9,5 °C")
check "the first message is delivered" grep -q 'SEND 8801 OK attempt=1' <<<"$res"
expect_eq "the refresh request: form, secret_key header, the configured refresh token" \
	"$(rec 'R[0]["method"], R[0]["path"], R[0]["content_type"], R[0]["secret_ok"], R[0]["form"]')" \
	"('POST', '/v4/oa/access_token', 'application/x-www-form-urlencoded', True, {'refresh_token': 'RT0-first', 'app_id': 'app42', 'grant_type': 'refresh_token'})"
expect_eq "the message request: JSON, access_token header, recipient and text" \
	"$(rec 'R[1]["path"], R[1]["content_type"], R[1]["access_token"], R[1]["body"]')" \
	"('/v3.0/oa/message/cs', 'application/json', 'AT1', {'recipient': {'user_id': '8801'}, 'message': {'text': 'Phòng lạnh A: 9,5 °C'}})"
expect_eq "the new pair is kept in the state dir, 0600" \
	"$(stat -c %a "$T/state/zalo-oa.tokens") $(cat "$T/state/zalo-oa.tokens")" \
	'600 {"access_token":"AT1","refresh_token":"RT1"}'

# --- an expired token: refreshed once, delivered once
ctl_fake '{"expire": true}'
n0=$(rec 'len(R)')
res=$(za send 8801 "lần hai")
check "delivered after the refresh, in one send" grep -q 'SEND 8801 OK attempt=1' <<<"$res"
expect_eq "requests: message (-216), refresh with RT1, message with AT2" \
	"$(rec "[(r['path'], r.get('access_token') or r['form']['refresh_token']) for r in R[$n0:]]")" \
	"[('/v3.0/oa/message/cs', 'AT1'), ('/v4/oa/access_token', 'RT1'), ('/v3.0/oa/message/cs', 'AT2')]"
expect_eq "delivered once" "$(rec "sum(1 for r in R[$n0:] if r.get('access_token') == 'AT2')")" 1
expect_eq "the newest pair kept" "$(cat "$T/state/zalo-oa.tokens")" '{"access_token":"AT2","refresh_token":"RT2"}'

# --- a restart uses the kept pair, never the spent configured token
n0=$(rec 'len(R)')
res=$(za send 8802 "sau khi khởi động lại")
check "after a restart delivered with the kept access token" grep -q 'SEND 8802 OK' <<<"$res"
expect_eq "no refresh, AT2 used" "$(rec "[r.get('access_token') for r in R[$n0:]]")" "['AT2']"
expect_eq "the spent configured refresh token was sent only once in all" \
	"$(rec "sum(1 for r in R if r.get('form', {}).get('refresh_token') == 'RT0-first')")" 1

# --- non-follower refused, next user served; rate limit and 5xx retried
ctl_fake '{"not_following": ["9999"], "fail": [["-32"], ["500"]]}'
res=$(za --retry 3 send 8803 "a" 9999 "b" 8804 "c")
check "a rate-limit answer (-32) is a retry" grep -q 'SEND 8803 RETRY attempt=1 .*error -32' <<<"$res"
check "a 500 is a retry" grep -q 'SEND 8803 RETRY attempt=2 .*HTTP 500' <<<"$res"
check "then delivered" grep -q 'SEND 8803 OK attempt=3' <<<"$res"
check "a user who does not follow the OA is refused" grep -q 'SEND 9999 REFUSED attempt=1 .*-213' <<<"$res"
check "the next user is still served" grep -q 'SEND 8804 OK attempt=1' <<<"$res"

# --- a refused refresh is an auth failure, and the kept pair is untouched
ctl_fake '{"expire": true, "refuse_refresh": true}'
res=$(za --retry 3 send 8805 x)
check "a refused refresh is an auth failure, not retried" grep -q 'SEND 8805 AUTH attempt=1 .*refresh refused' <<<"$res"
expect_eq "the kept pair is untouched" "$(cat "$T/state/zalo-oa.tokens")" '{"access_token":"AT2","refresh_token":"RT2"}'

check "no secret, access or refresh token in any output" \
	bash -c "! grep -qE '$SECRET|RT0-first|AT[12]\\b|RT[12]\\b' '$OUT'"
stop_pid "$FAKE"
finish
