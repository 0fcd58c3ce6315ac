#!/bin/bash
# Live updates (GET /events, Server-Sent Events) against the real daemon,
# with curl -N as the browser: the stream's headers (text/event-stream,
# no-store, X-Accel-Buffering: no, retry:), a `tick` within the tick
# period, the simulator drives room A above its limit and the alarm's raise
# arrives as `event: alarm` whose data is the engine's event JSON (parsed by
# python3); without public_status and without a session the stream is
# refused; 64 streams at most: the 65th gets 503, counted in /metrics
# (coldchaind_web_live_refused) and logged; SIGTERM with 64 streams open
# ends them all and the daemon exits 0, quickly.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

map() { printf '1 input 0 int16 ABCD %s\n1 input 1 int16 ABCD 920\n' "$1" >"$T/sim.map"; }
map 40
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
WEB_PORT=$(free_port)
STATS_INTERVAL=1s
write_conf() { # $1: extra keys of group web
	{
		config_head
		cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "2s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature"; humidity = "th-a1/humidity";
  lots = ( { id = "LOT-1"; product = "lychee"; loaded = "2020-01-01T00:00:00Z"; } ); } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "500ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; },
                 { channel = "humidity"; table = "input"; address = 1; type = "int16"; scale = 0.1; unit = "%"; } ); } ); }
);
outputs = { file = ( { name = "f"; path = "$T/out.lp"; } ); };
web = { listen = "127.0.0.1:$WEB_PORT"; per_ip_connections = 100; max_connections = 200; $1 };
CONF
	} >"$DAEMON_CONF"
}
URL=http://127.0.0.1:$WEB_PORT

# ---- no public_status, no session: no stream
write_conf ""
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/events")
case $c in 303 | 401 | 403) pass "/events without a session: $c, no stream" ;; *) fail "/events without a session got $c" ;; esac
stop_daemon || fail "daemon exit status on SIGTERM"

# ---- public_status: the stream
write_conf "public_status = true;"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not reopen"
start_bg curl-sse "$T/curl.err" curl -s -N --max-time 120 -D "$T/sse.h" -o "$T/sse.out" "$URL/events"
CURL_PID=$LAST_PID
wait_for "stream headers" file_has "^retry: 3000" "$T/sse.out" || fail "no retry: line on the stream: $(cat "$T/sse.out")"
head -n 1 "$T/sse.h" | grep -q ' 200' || fail "status: $(head -n 1 "$T/sse.h")"
ok=1
for h in "Content-Type: text/event-stream" "Cache-Control: no-store" "X-Accel-Buffering: no" \
	"X-Content-Type-Options: nosniff"; do
	grep -qiF "$h" "$T/sse.h" || { fail "stream header missing: $h"; ok=0; }
done
[ "$ok" = 1 ] && pass "stream headers: text/event-stream, no-store, X-Accel-Buffering: no, security headers"
wait_for "a tick" -t 15 file_has "^event: tick" "$T/sse.out" && pass "a tick event within the tick period" ||
	fail "no tick on the stream"

map 80
kill -HUP "$SIM_PID"
alarm_data() { grep -A1 '^event: alarm' "$T/sse.out" | grep '^data: ' | grep '"id":"A/temp_high"' | grep -m1 '"event":"raise"'; }
if wait_for "alarm on the stream" -t 60 alarm_data; then
	d=$(alarm_data | sed 's/^data: //')
	expect_eq "alarm event state" active "$(json_eval 'd["state"]' <<<"$d")"
	expect_eq "alarm event room" A "$(json_eval 'd["room"]' <<<"$d")"
	expect_eq "alarm event carries the sample time as integer ns" True "$(json_eval 'isinstance(d["time_ns"], int)' <<<"$d")"
else
	fail "no alarm event on the stream"
	show_log "$DAEMON_LOG"
fi

# ---- a page that went away; the cap: 64 streams, the 65th refused (503),
# counted and logged
stop_pid "$CURL_PID" 5
# a closed page is noticed at the next write to it (a tick, at most 5 s)
live_streams_zero() { curl -s --max-time 5 "$URL/metrics" | grep -q '^coldchaind_web_live_streams{site="itest"} 0 '; }
wait_for "the closed stream ended" -t 20 live_streams_zero && pass "a page that went away is dropped at the next write" ||
	fail "the closed stream is still counted: $(curl -s --max-time 5 "$URL/metrics" | grep live_streams)"
start_bg streams "$T/streams.log" "$PY" -c '
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks, codes = [], []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(4096)
    codes.append(buf.split(b" ")[1].decode())
    socks.append(s)
print("codes", " ".join(codes), flush=True)
time.sleep(600)' "$WEB_PORT" 66
STREAMS_PID=$LAST_PID
wait_for "66 streams tried" file_has "^codes" "$T/streams.log" || fail "stream opener: $(cat "$T/streams.log")"
n200=$(grep '^codes' "$T/streams.log" | tr ' ' '\n' | grep -c '^200$')
n503=$(grep '^codes' "$T/streams.log" | tr ' ' '\n' | grep -c '^503$')
if [ "$n200" = 64 ] && [ "$n503" = 2 ]; then
	pass "66 streams: 64 served, 2 refused with 503"
else
	fail "66 streams: $n200 served, $n503 refused (want 64, 2)"
fi
live_refused() { curl -s --max-time 5 "$URL/metrics" | grep -q '^coldchaind_web_live_refused{site="itest"} 2'; }
wait_for "refusals counted" live_refused && pass "refused streams counted in coldchaind_web_live_refused" ||
	fail "live_refused: $(curl -s --max-time 5 "$URL/metrics" | grep live_)"
file_has "refused a live-update stream" "$DAEMON_LOG" && pass "the refusal is logged" || fail "refusal not logged"
expect_eq "healthz with 64 streams open" "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/healthz")" 200

# ---- SIGTERM with every stream open: all ended, exit 0, quickly
t0=$SECONDS
stop_daemon 20 && pass "SIGTERM with 64 streams open: exit 0 in $((SECONDS - t0)) s" || fail "exit status with streams open"
[ $((SECONDS - t0)) -le 10 ] || fail "stopping took $((SECONDS - t0)) s"
file_has "live-update streams still open at stop" "$DAEMON_LOG" && fail "streams were left open at stop"
stop_pid "$STREAMS_PID" 5
finish
