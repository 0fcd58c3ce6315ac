#!/bin/bash
# `coldchainctl notify test ROUTE` runs on a worker thread (daemon/control.c):
# against a fake Telegram that holds every request for 4 s, `coldchainctl
# status` still answers at once while the test waits; a second notify test
# meanwhile is refused (busy, logged); a reload asked for meanwhile waits
# for the test and then answers; the test's own reply arrives once the
# server answers ("accepted").
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"

TOK=424242:hang-Token
TG_PORT=$(free_port)
install -m 600 /dev/null "$T/tg.token"
printf '%s\n' "$TOK" >"$T/tg.token"
start_bg fake_telegram "$T/fake.log" "$PY" "$TESTS_DIR/integration/fake_telegram.py" "$TG_PORT" "$TOK" "$T/rec.jsonl"
wait_for "fake Telegram on $TG_PORT" port_open "$TG_PORT" || die "fake Telegram did not start"
{
	config_head
	cat <<CONF
outputs = {
  file = ( { path = "$T/points.lp"; } );
  telegram = ( { name = "tg"; api_url = "http://127.0.0.1:$TG_PORT"; token_file = "$T/tg.token";
                 timeout = "10s"; replies = false; } );
};
recipients = ( { name = "minh"; lang = "vi"; telegram = "111"; } );
routes = ( { name = "ops"; to = [ "minh" ]; via = [ "tg" ]; } );
CONF
} >"$DAEMON_CONF"
start_daemon
curl -sf -X POST -d '{"hang": 4}' "http://127.0.0.1:$TG_PORT/_control" >/dev/null || die "fake control failed"

start_bg notify_test "$T/nt.out" "$CTL" notify test ops -c "$DAEMON_CONF"
NT=$LAST_PID
wait_for "the notify test under way" grep -q "notify test of route ops" "$DAEMON_LOG" || fail "notify test not logged"
t0=$(date +%s%3N)
ctl status >"$T/status.out" 2>&1
st=$?
t1=$(date +%s%3N)
expect_eq "status during a notify test: exit status" "$st" 0
check "status answered while the notify test still waits for the server" pid_alive "$NT"
check "status answered within 1 s during the test (took $((t1 - t0)) ms)" test $((t1 - t0)) -lt 1000
ctl notify test ops >"$T/nt2.out" 2>&1
expect_eq "a second notify test meanwhile: exit status" "$?" 1
check "a second notify test meanwhile is refused: busy" grep -q "already running" "$T/nt2.out"
check "the refusal is logged" grep -q "notify test of route ops by .* refused" "$DAEMON_LOG"
start_bg reload "$T/reload.out" "$CTL" reload -c "$DAEMON_CONF"
RL=$LAST_PID
wait "$NT"
expect_eq "the notify test: exit status once the server answered" "$?" 0
forget_pid "$NT"
check "the notify test says accepted" grep -q "minh tg accepted" "$T/nt.out"
wait "$RL"
expect_eq "a reload asked for during the test: exit status" "$?" 0
forget_pid "$RL"
check "the reload answered after the test" grep -q "configuration reloaded" "$DAEMON_LOG"
check "the daemon is alive" pid_alive "$DAEMON_PID"

# SIGTERM while a test waits for the server: the daemon waits for it (the
# test uses the outputs), then stops cleanly (exit 0; under ASan, no leak)
start_bg notify_test3 "$T/nt3.out" "$CTL" notify test ops -c "$DAEMON_CONF"
tests_logged() { [ "$(grep -c "notify test of route ops by" "$DAEMON_LOG")" -ge 3 ]; }
wait_for "the third notify test under way" tests_logged || fail "third notify test not logged"
stop_daemon
expect_eq "SIGTERM during a notify test: the daemon's exit status" "$?" 0
check "the daemon said it stopped" grep -q "stopped" "$DAEMON_LOG"
finish
