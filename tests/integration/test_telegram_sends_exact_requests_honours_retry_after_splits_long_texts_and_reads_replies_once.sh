#!/bin/bash
# The Telegram transport (outputs/telegram.c) against a fake Bot API
# (fake_telegram.py) on a loopback port, driven by tests/transport_cli: the
# exact sendMessage request; 429 with retry_after waited, then delivered
# once; a blocked chat refused and the next chat still served; 401 is an
# auth failure; a hung server is a retry at the timeout; a long text split
# at line ends under 4096 characters; "OK <id>" replies read once through
# getUpdates, the offset kept across a restart; the token never printed.
. "$(dirname "$0")/../lib.sh"

CLI=$BUILD_DIR/tests/transport_cli
[ -x "$CLI" ] || die "no $CLI (make all)"
PORT=$(free_port)
TOK=123456:ABC-def_XYZ987tok
REC=$T/rec.jsonl
OUT=$T/cli.log
printf '%s\n' "$TOK" >"$T/token"
start_bg fake_telegram "$T/fake.log" "$PY" "$TESTS_DIR/integration/fake_telegram.py" "$PORT" "$TOK" "$REC"
FAKE=$LAST_PID
wait_for "fake Telegram on $PORT" port_open "$PORT" || die "fake Telegram did not start"
ctl_fake() { curl -sf -X POST -d "$1" "http://127.0.0.1:$PORT/_control" >/dev/null; }
tg() { "$CLI" telegram --api "http://127.0.0.1:$PORT" --token-file "$T/token" --state "$T" "$@" 2>&1 | tee -a "$OUT"; }
# rec PYEXPR: evaluated with R = the recorded requests (list of dicts)
rec() { "$PY" -c 'import json,sys; R=[json.loads(l) for l in open(sys.argv[1])]; print(eval(sys.argv[2]))' "$REC" "$1"; }

# --- exact request, 429 honoured, delivered once
ctl_fake '{"fail": [["429", 2]]}'
res=$(tg --retry 3 send 111 "Kho A: nhiệt độ 9,5 °C vượt ngưỡng 8 °C")
expect_eq "first attempt answered 429 and the transport says wait 2000 ms" \
	"$(echo "$res" | grep -c 'SEND 111 RETRY attempt=1 retry_after_ms=2000')" 1
expect_eq "second attempt delivered" "$(echo "$res" | grep -c 'SEND 111 OK attempt=2')" 1
expect_eq "the exact request: POST /bot<token>/sendMessage, JSON, numeric chat_id, text, no preview" \
	"$(rec 'R[-1]["method"], R[-1]["path"], R[-1]["content_type"], R[-1]["body"]')" \
	"('POST', '/bot$TOK/sendMessage', 'application/json', {'chat_id': 111, 'text': 'Kho A: nhiệt độ 9,5 °C vượt ngưỡng 8 °C', 'disable_web_page_preview': True})"
expect_eq "delivered exactly once" "$(rec 'sum(1 for r in R if r["status"] == 200 and r["body"]["chat_id"] == 111)')" 1
check "the retry came no sooner than retry_after (2 s)" \
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 1.95 else 1)' "$(rec 'R[1]["t"] - R[0]["t"]')"

# --- blocked chat refused, the next one served; 401; 500 then OK
ctl_fake '{"blocked": ["222"]}'
res=$(tg send 222 "a" 333 "b" -1001234567890 "c")
check "blocked chat refused" grep -q 'SEND 222 REFUSED attempt=1 .*bot was blocked by the user' <<<"$res"
check "the next chat still served" grep -q 'SEND 333 OK' <<<"$res"
check "a group id (-100...) sent as a number and served" grep -q 'SEND -1001234567890 OK' <<<"$res"
ctl_fake '{"fail": [["401"]]}'
check "401 is an auth failure" grep -q 'SEND 444 AUTH' <<<"$(tg send 444 x)"
ctl_fake '{"fail": [["500"]]}'
res=$(tg --retry 2 send 555 x)
check "500 is a retry, then delivered" grep -q 'SEND 555 RETRY attempt=1.*SEND 555 OK attempt=2' <<<"$(echo $res)"

# --- a hung server: a retry at the timeout, the token nowhere in the error
ctl_fake '{"hang": 4}'
res=$(tg --timeout-ms 1000 send 666 x)
ctl_fake '{"hang": 0}'
check "a hung server is a retry at the timeout" grep -q 'SEND 666 RETRY attempt=1 .*timed out' <<<"$res"
ctl_fake '{"fail": [["echo"]]}'
check "a peer's error that names the URL is shown with the token masked" \
	grep -qF 'SEND 667 RETRY attempt=1 retry_after_ms=0 error=HTTP 502: Bad Gateway: upstream failed for /bot***/sendMessage' <<<"$(tg send 667 x)"

# --- a long text: parts under 4096 characters, cut at line ends, nothing lost
"$PY" -c 'print("\n".join("Dòng %03d: phòng lạnh B, 4,2 °C" % i for i in range(300)), end="")' >"$T/long.txt"
n0=$(rec 'len(R)')
check "a long text is delivered" grep -q 'SEND 777 OK' <<<"$(tg sendfile 777 "$T/long.txt")"
expect_eq "in 3 parts" "$(rec "len(R) - $n0")" 3
expect_eq "each part at most 4096 UTF-16 units and ending at a whole line" \
	"$(rec "all(len(r['body']['text'].encode('utf-16-le')) // 2 <= 4096 and r['body']['text'].endswith('4,2 °C') for r in R[$n0:])")" True
expect_eq "the parts joined by line ends are the text" \
	"$(rec "'\n'.join(r['body']['text'] for r in R[$n0:]) == open('$T/long.txt').read()")" True

# --- a part refused for a while: the retry sends only the parts not yet delivered
ctl_fake '{"fail": [["ok"], ["500"]]}'
n0=$(rec 'len(R)')
res=$(tg --retry 2 sendfile 778 "$T/long.txt")
check "the second part fails, then the message is delivered" \
	grep -q 'SEND 778 RETRY attempt=1 .*HTTP 500.*SEND 778 OK attempt=2' <<<"$(echo $res)"
expect_eq "each of the 3 parts delivered exactly once, in order" \
	"$(rec "'\n'.join(r['body']['text'] for r in R[$n0:] if r['status'] == 200) == open('$T/long.txt').read() and sum(1 for r in R[$n0:] if r['status'] == 200)")" 3

# --- replies: each once, across a restart
ctl_fake '{"updates": [{"update_id": 41, "message": {"chat": {"id": 111}, "text": "OK 7f3a"}},
	{"update_id": 42, "message": {"chat": {"id": 333}, "sticker": {}}},
	{"update_id": 43, "message": {"chat": {"id": 333}, "text": "ok 9c1d"}}]}'
res=$(tg poll)
expect_eq "both text replies reach the callback with their chat ids" \
	"$(echo "$res" | grep REPLY | tr '\n' '|')" "REPLY 111 OK 7f3a|REPLY 333 ok 9c1d|"
expect_eq "the next update id is kept in the state dir" "$(cat "$T/telegram-tg.offset")" 44
res=$(tg poll)
expect_eq "after a restart no old reply is read again" "$res" "POLLED 0"
expect_eq "getUpdates asked with offset 44 and timeout 0" \
	"$(rec '[(r["body"]["offset"], r["body"]["timeout"]) for r in R if r["path"].endswith("getUpdates")][-1]')" "(44, 0)"

check "the token appears in no output of the transport" bash -c "! grep -qF '$TOK' '$OUT'"
stop_pid "$FAKE"
finish
