#!/bin/bash
# Issue 16, e-mail end to end: the real daemon with an outputs.email and a
# route; an MQTT sample (mosquitto_pub) raises room A's temp_high and the
# mail arrives once at a real SMTP server (python3-aiosmtpd, STARTTLS with a
# test CA, AUTH), in Vietnamese; with the server stopped the clear waits and
# arrives once the server is back; after kill -9 of the daemon nothing is
# sent twice; `coldchainctl notify test` sends a test mail.
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd is missing (tests/deps.sh)"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub missing (apt-get install mosquitto-clients)"

(
	cd "$T" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
		-days 2 -subj /CN=coldchaind-test-ca &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr \
		-subj /CN=127.0.0.1 &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.ext
) >"$T/openssl.log" 2>&1 || { show_log "$T/openssl.log"; die "openssl could not make the test CA"; }
printf 's3cret-pa55\n' >"$T/password"
chmod 600 "$T/password"

SMTP_PORT=$(free_port)
SMTP_PID=
# start_smtp RUN: the server on SMTP_PORT, its mail in $T/mail-RUN.
start_smtp() {
	mkdir -p "$T/mail-$1"
	start_bg "smtp $1" "$T/smtp-$1.log" "$PY" "$TESTS_DIR/integration/smtp_server.py" --dir "$T/mail-$1" \
		--port-file "$T/smtp-$1.port" --port "$SMTP_PORT" --cert "$T/srv.pem" --key "$T/srv.key" \
		--user alarms --password-file "$T/password"
	SMTP_PID=$LAST_PID
	wait_for "SMTP server $1" test -s "$T/smtp-$1.port" || { show_log "$T/smtp-$1.log"; die "smtp $1 did not start"; }
}
# mails: every message received so far, in all runs of the server.
mails() { ls "$T"/mail-*/*.eml 2>/dev/null; }
nmails() { mails | wc -l; }
has_mails() { [ "$(nmails)" -ge "$1" ]; }
# mail_with WORD: how many received messages hold WORD in their decoded subject.
subjects() {
	"$PY" - "$T" <<'PYEOF'
import email, email.policy, glob, sys
for f in sorted(glob.glob(sys.argv[1] + "/mail-*/*.eml")):
    m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    print("%s\t%s\t%s\t%s" % (f.split("/")[-2] + "/" + f.split("/")[-1], m["To"], m["X-Coldchaind-Alarm"], m["Subject"]))
PYEOF
}

start_mosquitto
start_smtp 1
{
	config_head
	cat <<CONF
timezone = "Asia/Ho_Chi_Minh";
web = { listen = "127.0.0.1:$(free_port)"; public_url = "https://kho.example.vn:8470/"; };
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "0s"; }; } );
rooms = ( { name = "A"; profile = "lychee"; temperature = "th-a1/temperature"; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-email"; };
  subscriptions = ( { topic = "esp/{sensor}/state"; format = "json"; room = "A"; fields = { temperature = "t"; }; qos = 1; } );
};
outputs = {
  file = ( { path = "$T/points.lp"; } );
  email = ( { name = "mail"; url = "smtp://127.0.0.1:$SMTP_PORT"; from = "Kho lạnh Cần Thơ <alarms@farm.example.vn>";
              user = "alarms"; password_file = "$T/password"; ca_file = "$T/ca.pem"; backoff_max = "2s"; timeout = "10s"; } );
};
recipients = ( { name = "an"; email = "an@farm.example.vn"; } );
routes = ( { name = "all"; min_severity = "info"; to = [ "an" ]; via = [ "mail" ]; } );
CONF
} >"$DAEMON_CONF"
start_daemon_mqtt

# ---- raise: one mail, over TLS, in Vietnamese
mqtt_pub esp/th-a1/state '{"t": 11.0}'
wait_for "the raise mail" -t ${CC_MAIL_WAIT:-60} has_mails 1 || die "no mail for the raise"
out=$(subjects)
echo "$out" | sed 's/^/  | /'
check "the raise mail went to an@ about A/temp_high" grep -q "an@farm.example.vn	A/temp_high	" <<<"$out"
check "its subject is Vietnamese, decoded intact" "$PY" -c 'import sys; s = sys.argv[1]; sys.exit(0 if any(c in s for c in "ạảãáàâầấậăắằặêếềệệôốồộơớờợưứừựđ") else 1)' "$out"
check "it came over TLS with AUTH" grep -q '"tls": true, "auth": true' "$T"/mail-1/1.json
check "its body links to the alarm on the page (web.public_url)" "$PY" -c 'import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
sys.exit(0 if "Xác nhận trên trang: https://kho.example.vn:8470/alarms#alarm-A_temp_high" in m.get_body(("plain",)).get_content() else 1)' "$T"/mail-1/1.eml

# ---- the receiver stopped: the clear waits, then arrives once when it is back
stop_pid "$SMTP_PID" 10
mqtt_pub esp/th-a1/state '{"t": 5.0}'
if wait_for "the daemon failing to send the clear" -t 60 file_has "warning: output mail: .*[Cc]onnect" "$DAEMON_LOG"; then
	pass "with the receiver down the clear fails and is retried: $(grep -m1 'warning: output mail: ' "$DAEMON_LOG" | cut -d' ' -f3-)"
else
	fail "no failed attempt logged while the receiver was down"
fi
start_smtp 2
wait_for "the clear mail after the outage" -t 60 has_mails 2 || die "no mail after the receiver came back"
check "recovery logged once the receiver is back" wait_for "recovery line" file_has "output mail: delivering again" "$DAEMON_LOG"

# ---- kill -9, restart, a new raise: its mail arrives and nothing earlier is sent again
kill -9 "$DAEMON_PID"
wait_for "coldchaind gone" bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
forget_pid "$DAEMON_PID"
DAEMON_LOG=$T/coldchaind-2.log
start_daemon_mqtt
mqtt_pub esp/th-a1/state '{"t": 12.0}'
wait_for "the mail of the raise after kill -9" -t 60 has_mails 3 || die "no mail after the restart"
# The last mail is a barrier: the channel sends in journal order, so a
# duplicate of an earlier event would have arrived before it.
out=$(subjects)
echo "$out" | sed 's/^/  | /'
expect_eq "mails in all: raise, clear, raise (no duplicate)" "$(nmails)" 3
expect_eq "the raise at 11,0 °C: one mail" "$(grep -c 'nhiệt độ cao 11,0' <<<"$out")" 1
expect_eq "the clear, sent after the outage: one mail" "$(grep -c 'mail-2/.*trở lại bình thường' <<<"$out")" 1
expect_eq "the raise after kill -9: one mail" "$(grep -c 'nhiệt độ cao 12,0' <<<"$out")" 1
# ---- coldchainctl notify test: a test mail through the same route
if ctl notify test all >"$T/nt.out" 2>"$T/nt.err"; then
	pass "notify test all: exit 0 ($(head -c 200 "$T/nt.out"))"
else
	fail "notify test all failed: $(cat "$T/nt.err" "$T/nt.out")"
fi
check "the test mail arrives" wait_for "the test mail" has_mails 4
check "the password is never logged" bash -c "! grep -q s3cret-pa55 '$T'/coldchaind*.log"

finish
