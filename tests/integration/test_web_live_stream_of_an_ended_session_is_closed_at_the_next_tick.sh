#!/bin/bash
# An open /events stream ends with its session: with web.session_idle =
# "2s", a stream whose session is left unused is closed by the daemon at
# the next 5 s tick (curl sees the end), and the session's pages then go to
# /login; a stream whose session is kept in use stays open over two more
# ticks, and is closed at the next tick once its session logs out.  The
# real daemon, the Modbus simulator and curl.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"
printf '1 input 0 int16 ABCD 40\n' >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
WEB_PORT=$(free_port)
URL=http://127.0.0.1:$WEB_PORT
PW=op-pass-1234
printf '%s\n' "$PW" | "$CTL" user add op --role operator --file "$T/users" >/dev/null || die "user add op"
{
	config_head
	cat <<CONF
rooms = ( { name = "A"; temperature = "th-a1/temperature"; } );
modbus = ( { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "500ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); } ); } );
outputs = { file = ( { path = "$T/out.lp"; } ); };
web = { listen = "127.0.0.1:$WEB_PORT"; users_file = "$T/users"; session_idle = "2s"; };
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "web port open" port_open "$WEB_PORT" || die "the listener did not open port $WEB_PORT"

# login NAME: a session cookie value (the login form's CSRF pair first)
login() {
	local jar=$T/$1.jar tok
	tok=$(curl -s -c "$jar" "$URL/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
	curl -s -o /dev/null -b "$jar" -c "$jar" --data-urlencode "user=op" --data-urlencode "password=$PW" \
		--data-urlencode "csrf=$tok" --data-urlencode "next=/" "$URL/login"
	awk '$6 == "cc_session" { print $7 }' "$jar"
}
stream() { start_bg "stream-$1" "$T/$1.err" curl -s -N --max-time 120 -b "cc_session=$2" -o "$T/$1.out" "$URL/events"; }
ticks() { grep -c '^event: tick' "$T/$1.out" 2>/dev/null || echo 0; }
ended() { ! pid_alive "$1"; }

IDLE=$(login idle)
USED=$(login used)
[ -n "$IDLE" ] && [ -n "$USED" ] || die "login failed"
stream idle "$IDLE"
IDLE_PID=$LAST_PID
stream used "$USED"
USED_PID=$LAST_PID
wait_for "both streams open" sh -c "grep -q 'retry: 3000' '$T/idle.out' && grep -q 'retry: 3000' '$T/used.out'" ||
	die "the streams did not open"
t0=$SECONDS
# keep the second session in use (a page's fetches), not the first
start_bg keeper "$T/keeper.out" sh -c "while :; do curl -s -o /dev/null -b 'cc_session=$USED' '$URL/'; sleep 0.5; done"
KEEPER=$LAST_PID

wait_for "the idle session's stream closed" -t 15 ended "$IDLE_PID" &&
	pass "the idle session's stream was closed by the daemon after $((SECONDS - t0)) s (session_idle 2 s + the 5 s tick at most)" ||
	fail "the idle session's stream is still open after $((SECONDS - t0)) s"
[ $((SECONDS - t0)) -le 9 ] && pass "closed within idle + one tick" || fail "closed only after $((SECONDS - t0)) s"
file_has "live-update stream closed: the session ended" "$DAEMON_LOG" && pass "the closing is logged" ||
	fail "no log line for the closed stream"
st=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "cc_session=$IDLE" "$URL/alarms")
[ "$st" = "303 $URL/login?next=/alarms" ] && pass "the ended session's page goes to /login ($st)" || fail "the ended session's page: $st"

n=$(ticks used)
wait_for "two more ticks on the used session's stream" -t 15 sh -c "[ \$(grep -c '^event: tick' '$T/used.out') -ge $((n + 2)) ]" &&
	pid_alive "$USED_PID" && pass "a session in use keeps its stream open ($(ticks used) ticks)" ||
	fail "the used session's stream ended or got no ticks ($(ticks used) ticks)"
stop_pid "$KEEPER" 2
csrf=$(curl -s -b "cc_session=$USED" "$URL/" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//; s/"//')
t1=$SECONDS
st=$(curl -s -o /dev/null -w '%{http_code}' -b "cc_session=$USED" --data-urlencode "csrf=$csrf" "$URL/logout")
[ "$st" = 303 ] && pass "logout: 303" || fail "logout: $st"
wait_for "the logged-out session's stream closed" -t 10 ended "$USED_PID" &&
	pass "the logged-out session's stream was closed after $((SECONDS - t1)) s (the next tick)" ||
	fail "the logged-out session's stream is still open after $((SECONDS - t1)) s"
finish
