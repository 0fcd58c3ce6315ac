#!/bin/bash
# bench_channels.sh - alerts to people (issue 16), against the same peers as
# the tests: e-mail to aiosmtpd (STARTTLS, a test CA, AUTH), Telegram and Zalo
# to their fakes, SMS to the modem simulator on a socat pty.  One recipient
# on all four channels; samples come by MQTT (mosquitto_pub), events are
# also published by outputs.alerts_mqtt for their time_ns.
#  1. latency: BENCH_EVENTS (default 200) raise/clear events of one room,
#     one at a time; per channel p50/p99/max of arrival - the event's time
#     (the sample's arrival at the daemon).
#  2. flood: BENCH_FLOOD (default 1000) events (20 rooms raised and cleared
#     in rounds, under the engine's flood threshold) into a fresh daemon
#     with rate_per_min = 600 (the maximum): per channel the achieved rate
#     (overall, and after the initial burst), lost and duplicated messages;
#     the daemon's RSS before, its peak during, and after.
# Figures only, never pass/fail.  Not part of make test.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
need_bin "$COLDCHAIND"
for c in mosquitto mosquitto_pub mosquitto_sub socat openssl; do
	command -v "$c" >/dev/null || die "$c missing (tests/deps.sh)"
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || die "python3-aiosmtpd missing (tests/deps.sh)"
EVENTS=${BENCH_EVENTS:-200}
FLOOD=${BENCH_FLOOD:-1000}
ROOMS=20

# --- peers
(
	cd "$T" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
		-days 2 -subj /CN=coldchaind-bench-ca &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr \
		-subj /CN=127.0.0.1 &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.ext
) >"$T/openssl.log" 2>&1 || die "openssl could not make the test CA"
install -m 600 /dev/null "$T/password"
printf 'bench-pa55\n' >"$T/password"
install -m 600 /dev/null "$T/tg.token"
printf '%s\n' 555:bench-Token >"$T/tg.token"
install -m 600 /dev/null "$T/zalo.secret"
printf '%s\n' zsecret >"$T/zalo.secret"
install -m 600 /dev/null "$T/zalo.refresh"
printf '%s\n' RT0 >"$T/zalo.refresh"
SMTP_PORT=$(free_port)
mkdir -p "$T/mail"
start_bg smtp "$T/smtp.log" "$PY" "$TESTS_DIR/integration/smtp_server.py" --dir "$T/mail" \
	--port-file "$T/smtp.port" --port "$SMTP_PORT" --cert "$T/srv.pem" --key "$T/srv.key" \
	--user alarms --password-file "$T/password"
wait_for "SMTP server" test -s "$T/smtp.port" || die "smtp_server did not start"
TG_PORT=$(free_port)
start_bg fake_telegram "$T/tg.log" "$PY" "$TESTS_DIR/integration/fake_telegram.py" "$TG_PORT" 555:bench-Token "$T/tg.jsonl"
ZA_PORT=$(free_port)
start_bg fake_zalo "$T/za.log" "$PY" "$TESTS_DIR/integration/fake_zalo.py" "$ZA_PORT" 4242 zsecret RT0 "$T/za.jsonl" 0
wait_for "fake Telegram" port_open "$TG_PORT" || die "fake Telegram did not start"
wait_for "fake Zalo" port_open "$ZA_PORT" || die "fake Zalo did not start"
: >"$T/inbox.jsonl"
start_bg socat "$T/socat.log" socat -d -d "pty,raw,echo=0,link=$T/modem" "pty,raw,echo=0,link=$T/sim"
wait_for "socat pty links" bash -c "[ -e '$T/modem' ] && [ -e '$T/sim' ]" || die "socat did not start"
start_bg modem_sim "$T/modem_sim.log" "$PY" "$TESTS_DIR/modem_sim.py" --port "$T/sim" \
	--record "$T/sms.jsonl" --inbox "$T/inbox.jsonl" --ready-file "$T/sim.ready"
wait_for "modem simulator" test -e "$T/sim.ready" || die "modem_sim did not start"
start_mosquitto

rooms() {
	local i
	for ((i = 1; i <= ROOMS; i++)); do
		printf '  { name = "P%02d"; profile = "lychee"; temperature = "s%02d/temperature"; },\n' "$i" "$i"
	done
}
{
	config_head
	cat <<CONF
profiles = ( { name = "lychee"; version = "b1"; limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "0s"; }; } );
rooms = (
$(rooms | sed '$ s/,$//')
);
alarms = { rate_limit = 0.0; stuck_after = "0s"; off_delay = "0s"; on_delay = "0s"; renotify = "0s"; escalate = "0s";
  notify = { burst = 10000; interval = "0s"; }; flood = { start = 60; end = 1; window = "1s"; }; };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-bench-ch"; };
  subscriptions = ( { topic = "esp/{sensor}/state"; format = "json"; fields = { temperature = "t"; }; qos = 1; } );
};
outputs = {
  file = ( { path = "$T/points.lp"; } );
  alerts_mqtt = { prefix = "bench"; broker = { host = "127.0.0.1"; port = $MQTT_PORT; }; };
  email = ( { name = "mail"; url = "smtp://127.0.0.1:$SMTP_PORT"; from = "coldchaind <alarms@bench.example.vn>";
              user = "alarms"; password_file = "$T/password"; ca_file = "$T/ca.pem"; rate_per_min = 600; } );
  telegram = ( { name = "tg"; api_url = "http://127.0.0.1:$TG_PORT"; token_file = "$T/tg.token";
                 rate_per_min = 600; replies = false; } );
  zalo = ( { name = "oa"; api_url = "http://127.0.0.1:$ZA_PORT"; oauth_url = "http://127.0.0.1:$ZA_PORT";
             app_id = "4242"; secret_key_file = "$T/zalo.secret"; refresh_token_file = "$T/zalo.refresh";
             rate_per_min = 600; } );
  sms = ( { name = "modem"; device = "$T/modem"; rate_per_min = 600; replies = false; } );
};
recipients = ( { name = "p"; email = "p@bench.example.vn"; telegram = "111"; zalo = "8801"; phone = "+84987654321"; } );
routes = ( { name = "all"; min_severity = "info"; to = [ "p" ]; via = [ "mail", "tg", "oa", "modem" ]; } );
CONF
} >"$DAEMON_CONF"

# counts: messages received per channel so far, "MAIL TG ZALO SMS"
counts() {
	echo "$(find "$T/mail" -name '*.eml' | wc -l) $(grep -c '"status": 200.*sendMessage\|sendMessage.*"status": 200' "$T/tg.jsonl" 2>/dev/null || echo 0)" \
		"$(grep -c '/v3.0/oa/message/cs.*"status": 200\|"status": 200.*/v3.0/oa/message/cs' "$T/za.jsonl" 2>/dev/null || echo 0)" \
		"$(grep -cE '"event": "sms".*"text": "(\(([0-9]+)/\2\) |[^(])' "$T/sms.jsonl" 2>/dev/null || echo 0)"
}
all_at_least() { local c; for c in $(counts); do [ "$c" -ge "$1" ] || return 1; done; }
export -f counts all_at_least
export T

start_bg mosquitto_sub "$T/sub.err" bash -c "exec mosquitto_sub -h 127.0.0.1 -p $MQTT_PORT -q 1 -i bench-peer \
	-t bench/events -F '%U %p' >'$T/sub.out'"
wait_for "peer connected" file_has "bench-peer" "$MQTT_LOG" || die "mosquitto_sub did not connect"
start_daemon_mqtt

# --- 1. latency, one event at a time
for ((n = 1; n <= EVENTS; n++)); do
	if ((n % 2)); then v=9.5; else v=4.0; fi
	mqtt_pub esp/s01/state "{\"t\": $v}" || break
	wait_for "event $n on every channel" -t 30 all_at_least "$n" || { echo "  event $n: only $(counts) arrived"; break; }
done
sleep 1 # a figure, not a synchronisation: anything extra that arrives late is counted below
echo "  latency phase: $((n - 1)) events published; messages received (mail tg zalo sms): $(counts)"
"$PY" - "$T" <<'PYEOF'
import email, email.policy, glob, json, os, re, sys
T = sys.argv[1]
def sms_messages(path):
    """(arrival ns, text) per SMS message: a text in parts "(k/n) ..." arrives with its last part"""
    out, parts = [], []
    for r in map(json.loads, open(path)):
        if r.get("event") != "sms":
            continue
        m = re.match(r"\((\d+)/(\d+)\) ", r["text"])
        if not m:
            out.append((int(r["t"] * 1e9), r["text"]))
            continue
        parts.append(r["text"][m.end():])
        if m.group(1) == m.group(2):
            out.append((int(r["t"] * 1e9), "".join(parts)))
            parts = []
    return out
ev = []
seen = set()
for line in open(T + "/sub.out"):
    t, _, p = line.strip().partition(" ")
    if p in seen:
        continue
    seen.add(p)
    e = json.loads(p)
    if e.get("id") == "P01/temp_high":
        ev.append(int(e["time_ns"]))
arr = {"e-mail (aiosmtpd, STARTTLS)": sorted(os.stat(f).st_mtime_ns for f in glob.glob(T + "/mail/*.eml")),
       "Telegram (fake Bot API)": [int(r["t"] * 1e9) for r in map(json.loads, open(T + "/tg.jsonl"))
                                   if r["status"] == 200 and r["path"].endswith("/sendMessage")],
       "Zalo (fake OA API)": [int(r["t"] * 1e9) for r in map(json.loads, open(T + "/za.jsonl"))
                              if r["status"] == 200 and "/message/" in r["path"]],
       "SMS (modem simulator, pty)": [t for t, _ in sms_messages(T + "/sms.jsonl")]}
for name, a in arr.items():
    k = min(len(a), len(ev))
    lat = sorted((a[i] - ev[i]) / 1e6 for i in range(k))
    if not lat:
        print("  %-30s no messages" % name)
        continue
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("  sample -> %-30s %d events, p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (name, k, pick(.5), pick(.99), lat[-1]))
PYEOF
stop_daemon >/dev/null

# --- 2. flood, a fresh daemon (a full rate bucket)
for f in "$T"/mail/*.eml; do rm -f "$f" "${f%.eml}.json"; done
: >"$T/tg.jsonl"
: >"$T/za.jsonl"
: >"$T/sms.jsonl"
start_daemon_mqtt
rss() { proc_status_kb "$DAEMON_PID" VmRSS; }
RSS0=$(rss)
t0=$(date +%s%N)
rounds=$((FLOOD / (2 * ROOMS)))
for ((k = 0; k < rounds; k++)); do
	for half in hot cold; do
		# a value of its own per round (one decimal, as the messages show it): every text distinct
		if [ $half = hot ]; then v="$((8 + k / 10)).$((k % 10))"; else v="$((2 + k / 10)).$((k % 10))"; fi
		for ((i = 1; i <= ROOMS; i++)); do
			printf -v s '%02d' "$i"
			mqtt_pub "esp/s$s/state" "{\"t\": $v}" || break 3
		done
	done
	RSS_SAMPLES+=" $(rss)"
done
expect=$((rounds * 2 * ROOMS))
pub_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
peak=$RSS0
while ! all_at_least "$expect"; do
	r=$(rss)
	[ "$r" -gt "$peak" ] && peak=$r
	[ $(( ($(date +%s%N) - t0) / 1000000000 )) -gt 600 ] && { echo "  flood: gave up after 600 s: $(counts)"; break; }
	sleep 1 # a sampling interval for RSS, not a synchronisation
done
for r in $RSS_SAMPLES; do [ "$r" -gt "$peak" ] && peak=$r; done
sleep 2 # anything duplicated that arrives late is counted below
RSS1=$(rss)
echo "  flood: $expect events in $ROOMS rooms published in $pub_ms ms; rate_per_min 600 (a burst of 150, then 10/s) per channel"
"$PY" - "$T" "$expect" "$t0" <<'PYEOF'
import email, email.policy, glob, json, os, re, sys
from collections import Counter
T, expect, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def sms_messages(path):
    """(arrival ns, text) per SMS message: a text in parts "(k/n) ..." arrives with its last part"""
    out, parts = [], []
    for r in map(json.loads, open(path)):
        if r.get("event") != "sms":
            continue
        m = re.match(r"\((\d+)/(\d+)\) ", r["text"])
        if not m:
            out.append((int(r["t"] * 1e9), r["text"]))
            continue
        parts.append(r["text"][m.end():])
        if m.group(1) == m.group(2):
            out.append((int(r["t"] * 1e9), "".join(parts)))
            parts = []
    return out
def mails():
    for f in glob.glob(T + "/mail/*.eml"):
        m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
        yield os.stat(f).st_mtime_ns, m.get_body(("plain",)).get_content()
def jl(path, ok, text):
    for r in map(json.loads, open(path)):
        if ok(r):
            yield int(r["t"] * 1e9), text(r)
ch = {"e-mail": list(mails()),
      "Telegram": list(jl(T + "/tg.jsonl", lambda r: r["status"] == 200 and r["path"].endswith("/sendMessage"),
                          lambda r: r["body"]["text"])),
      "Zalo": list(jl(T + "/za.jsonl", lambda r: r["status"] == 200 and "/message/" in r["path"],
                      lambda r: r["body"]["message"]["text"])),
      "SMS": sms_messages(T + "/sms.jsonl")}
for name, msgs in ch.items():
    msgs.sort()
    keys = Counter()
    for _, text in msgs:
        room = re.search(r"P\d\d", text)
        val = re.search(r"(\d+[,.]\d) ?°C", text)
        keys[(room.group(0) if room else "?", val.group(1) if val else "?", text.split()[0] if text else "")] += 1
    dups = sum(c - 1 for c in keys.values() if c > 1)
    if not msgs:
        print("  %-9s nothing received" % name)
        continue
    span = (msgs[-1][0] - msgs[0][0]) / 1e9
    after = [t for t, _ in msgs[150:]]
    steady = (len(after) - 1) / ((after[-1] - after[0]) / 1e9) if len(after) > 1 and after[-1] > after[0] else 0
    print("  %-9s %4d of %d received (%d missing), %d distinct texts, %d repeated; last %.1f s after the first "
          "publish; achieved %.2f/s overall, %.2f/s after the burst (limit 10/s)"
          % (name, len(msgs), expect, max(0, expect - len(msgs)), len(keys), dups, (msgs[-1][0] - t0) / 1e9,
             (len(msgs) - 1) / span if span > 0 else 0, steady))
PYEOF
echo "  daemon RSS: before the flood $((RSS0 / 1024)) MiB ($RSS0 kB), peak during $((peak / 1024)) MiB ($peak kB), after $((RSS1 / 1024)) MiB ($RSS1 kB); growth during $(((peak - RSS0))) kB"
stop_daemon >/dev/null
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
