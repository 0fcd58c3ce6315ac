#!/bin/bash
# The e-mail transport (outputs/smtp.c, driven by build/tests/smtp_send)
# against a real SMTP server (Debian's python3-aiosmtpd, smtp_server.py) on
# loopback: STARTTLS with a test CA made here by openssl and AUTH required;
# each recipient gets its own mail whose subject, body and headers Python's
# email package reads back intact (Vietnamese, a line starting with ".", a
# long line); the transport reports itself unhealthy while the server fails
# it; a hung server is cut short by wakeup (output_stop); a wrong password is TR_AUTH, 451 is a retry, 550 a refusal, a
# CR/LF in an address or subject is refused before connecting, an untrusted
# CA and a server without STARTTLS fail with a clear TLS error.
. "$(dirname "$0")/../lib.sh"

SEND=$BUILD_DIR/tests/smtp_send
need_bin "$SEND"
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd is missing (tests/deps.sh)"
command -v openssl >/dev/null || die "openssl is missing"

# ---- a test CA, a server certificate for 127.0.0.1, and a CA nobody used
(
	cd "$T" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
		-days 2 -subj /CN=coldchaind-test-ca &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key \
		-out other-ca.pem -days 2 -subj /CN=some-other-ca &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr \
		-subj /CN=127.0.0.1 &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.ext
) >"$T/openssl.log" 2>&1 || { show_log "$T/openssl.log"; die "openssl could not make the test CA"; }

printf 's3cret-pa55\n' >"$T/password"
printf 'wrong-one\n' >"$T/badpassword"

# start_smtp NAME ARGS...: the server with its own mail dir $T/NAME; sets PORT.
start_smtp() {
	local name=$1
	shift
	mkdir -p "$T/$name"
	start_bg "smtp $name" "$T/smtp-$name.log" "$PY" "$TESTS_DIR/integration/smtp_server.py" \
		--dir "$T/$name" --port-file "$T/$name.port" "$@"
	wait_for "SMTP server $name" test -s "$T/$name.port" || { show_log "$T/smtp-$name.log"; die "smtp $name did not start"; }
	PORT=$(cat "$T/$name.port")
}
conns() { cat "$1/connections" 2>/dev/null | wc -l; }

start_smtp tls --cert "$T/srv.pem" --key "$T/srv.key" --user alarms --password-file "$T/password"
TLS_PORT=$PORT
URL=smtp://127.0.0.1:$TLS_PORT
FROM="Kho lạnh Cần Thơ <alarms@farm.example.vn>"
SUBJECT="[NGUY HIỂM] Kho lạnh 1: nhiệt độ cao 9,5 °C — xác nhận bằng OK 7f3a trong 15 phút nhé"
LONG=$(printf 'Dài%.0s' $(seq 1 60))
printf 'Kho lạnh 1 (thanh long): nhiệt độ 9,5 °C vượt ngưỡng 8,0 °C từ 14:05.\n.Dòng bắt đầu bằng dấu chấm\n.\nTrailing space \n%s\nHết.\n' "$LONG" >"$T/text"

send() { "$SEND" --from "$FROM" --subject "$SUBJECT" --text-file "$T/text" "$@" 2>>"$T/send.log"; }

# ---- delivery over STARTTLS with AUTH, one mail per recipient
out=$(send --url "$URL" --ca-file "$T/ca.pem" --user alarms --password-file "$T/password" \
	--to an@farm.example.vn --to binh@farm.example.vn)
check "both recipients accepted over STARTTLS (${out//$'\n'/ | })" test "$(grep -c ' OK ' <<<"$out")" = 2
check "two separate messages arrived" test -s "$T/tls/1.eml" -a -s "$T/tls/2.eml"
if "$PY" - "$T" "$SUBJECT" "$FROM" <<'PYEOF'; then pass "subject, body, From/To/Date/Message-ID read back intact by Python's email package, over TLS, each mail to one recipient"; else fail "message content"; fi
import base64, email, email.policy, email.utils, json, re, sys
t, subject, frm = sys.argv[1:4]
text = open(t + "/text", encoding="utf-8").read()
ok = True
def bad(msg):
    global ok
    ok = False
    print("  " + msg)
for n, rcpt in ((1, "an@farm.example.vn"), (2, "binh@farm.example.vn")):
    raw = open("%s/tls/%d.eml" % (t, n), "rb").read()
    env = json.load(open("%s/tls/%d.json" % (t, n)))
    m = email.message_from_bytes(raw, policy=email.policy.default)
    if env["to"] != [rcpt] or not env["tls"] or env["from"] != "alarms@farm.example.vn":
        bad("envelope %r" % env)
    if str(m["Subject"]) != subject:
        bad("subject %r" % str(m["Subject"]))
    if m["To"].addresses[0].addr_spec != rcpt or str(m["To"]).count("@") != 1:
        bad("To %r" % str(m["To"]))
    if str(m["From"]) != frm:
        bad("From %r" % str(m["From"]))
    if email.utils.parsedate_to_datetime(str(m["Date"])).tzinfo is None:
        bad("Date %r" % str(m["Date"]))
    if not (str(m["Message-ID"]).startswith("<") and str(m["Message-ID"]).endswith("@farm.example.vn>")):
        bad("Message-ID %r" % str(m["Message-ID"]))
    if m.get_content_type() != "text/plain" or m.get_content_charset() != "utf-8":
        bad("content type %r" % m["Content-Type"])
    body = m.get_content()
    if body.replace("\r\n", "\n") != text:
        bad("body %r != %r" % (body, text))
    lines = raw.split(b"\r\n")
    if any(b"\n" in l or b"\r" in l for l in lines):
        bad("a bare LF or CR in the message")
    head, _, rest = raw.partition(b"\r\n\r\n")
    if max(len(l) for l in rest.split(b"\r\n")) > 76 or max(len(l) for l in head.split(b"\r\n")) > 78:
        bad("a line over 76 (body) / 78 (header)")
    if any(b > 127 for b in raw):
        bad("8-bit bytes in the message")
    for w in re.findall(rb"=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=", head):
        try:
            base64.b64decode(w).decode("utf-8")
        except UnicodeDecodeError:
            bad("encoded-word %r splits a character" % w)
ids = {str(email.message_from_bytes(open("%s/tls/%d.eml" % (t, n), "rb").read())["Message-ID"]) for n in (1, 2)}
if len(ids) != 2:
    bad("Message-IDs not unique")
sys.exit(0 if ok else 1)
PYEOF
check "healthy after a mail went through" grep -q '^elapsed_ms [0-9]* healthy 1 $' <<<"$out"
check "the password appears nowhere in the transport's output" bash -c "! grep -q s3cret-pa55 '$T/send.log'"

# ---- a wrong password: TR_AUTH with the server's reply
out=$(send --url "$URL" --ca-file "$T/ca.pem" --user alarms --password-file "$T/badpassword" --to an@farm.example.vn)
check "a wrong password is AUTH (${out//$'\n'/ | })" grep -q '^an@farm.example.vn AUTH .*535' <<<"$out"
check "and the transport is unhealthy, saying why" grep -q '^elapsed_ms [0-9]* healthy 0 last mail not sent: server said "535' <<<"$out"
check "the wrong password appears nowhere either" bash -c "! grep -q wrong-one '$T/send.log' && ! grep -q wrong-one <<<'$out'"

# ---- a recipient the server does not know: refused, with the reply text
out=$(send --url "$URL" --ca-file "$T/ca.pem" --user alarms --password-file "$T/password" --to nobody@farm.example.vn)
check "550 for the recipient is REFUSED with the server's words (${out//$'\n'/ | })" grep -q '^nobody@farm.example.vn REFUSED .*550.*no such user' <<<"$out"

# ---- CR/LF in an address or the subject: refused, no connection made
before=$(conns "$T/tls")
out=$(send --url "$URL" --ca-file "$T/ca.pem" --user alarms --password-file "$T/password" \
	--to $'an@farm.example.vn\r\nRCPT TO:<evil@example.com>')
check "an address with CR/LF is REFUSED (${out//$'\n'/ | })" grep -q ' REFUSED recipient address refused' <<<"$out"
out=$("$SEND" --url "$URL" --ca-file "$T/ca.pem" --user alarms --password-file "$T/password" --from "$FROM" \
	--subject $'hello\r\nBcc: evil@example.com' --text-file "$T/text" --to an@farm.example.vn 2>>"$T/send.log")
check "a subject with CR/LF is REFUSED (${out//$'\n'/ | })" grep -q ' REFUSED message refused: the subject holds CR or LF' <<<"$out"
check "neither made a connection to the server" test "$(conns "$T/tls")" = "$before"
check "no third message arrived" test ! -e "$T/tls/3.eml"

# ---- the server's CA not trusted: a clear TLS error (verification is on by default)
out=$(send --url "$URL" --ca-file "$T/other-ca.pem" --user alarms --password-file "$T/password" --to an@farm.example.vn)
check "an untrusted CA fails with a TLS certificate error (${out//$'\n'/ | })" grep -q '^an@farm.example.vn RETRY TLS: .*certificate' <<<"$out"
out=$(send --url "$URL" --user alarms --password-file "$T/password" --to an@farm.example.vn)
check "the system CAs do not trust the test CA either (${out//$'\n'/ | })" grep -q ' RETRY TLS: .*certificate' <<<"$out"

# ---- a server without STARTTLS: smtp:// refuses to send in clear
start_smtp plain
out=$(send --url "smtp://127.0.0.1:$PORT" --to an@farm.example.vn)
check "no STARTTLS offered: nothing sent in clear (${out//$'\n'/ | })" grep -q ' RETRY TLS: the server offers no STARTTLS' <<<"$out"
check "the plain server received nothing" test ! -e "$T/plain/1.eml"

# ---- 451 at RCPT: a retry, with the reply
start_smtp busy --rcpt-reply "451 4.3.0 mailbox busy, try later"
out=$(send --url "smtp://127.0.0.1:$PORT" --insecure --to an@farm.example.vn)
check "451 is RETRY with the server's words (${out//$'\n'/ | })" grep -q '^an@farm.example.vn RETRY .*451 4.3.0 mailbox busy' <<<"$out"

# ---- nobody listening: a retry
dead=$(free_port)
out=$(send --url "smtp://127.0.0.1:$dead" --to an@farm.example.vn)
check "connection refused is RETRY (${out//$'\n'/ | })" grep -q ' RETRY ' <<<"$out"

# ---- a server that accepts and never answers: wakeup (output_stop) cuts the send short
start_smtp tarpit --tarpit
out=$(send --url "smtp://127.0.0.1:$PORT" --timeout-ms 120000 --wakeup-after-ms 300 --to an@farm.example.vn)
check "a hung send is abandoned at wakeup, as a retry (${out//$'\n'/ | })" grep -q '^an@farm.example.vn RETRY abandoned at shutdown' <<<"$out"
ms=$(sed -n 's/^elapsed_ms \([0-9]*\) .*/\1/p' <<<"$out")
check "well before its 120 s timeout (${ms} ms)" test "${ms:-999999}" -lt 60000
out=$(send --url "smtp://127.0.0.1:$PORT" --timeout-ms 1000 --to an@farm.example.vn)
check "and without wakeup its own timeout ends it, as a retry (${out//$'\n'/ | })" grep -q '^an@farm.example.vn RETRY .*[Tt]imeout\|timed out' <<<"$out"

finish
