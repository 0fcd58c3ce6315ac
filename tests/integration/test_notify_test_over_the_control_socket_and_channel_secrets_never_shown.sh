#!/bin/bash
# The notification core's plumbing in the real daemon (issue 16), before any
# transport: recipients, routes and a channel output load; `coldchaind -p`
# shows each secret as (from FILE), never its text, nor does the log; a
# channel kind without a transport in this build is said at start;
# `coldchainctl notify test` reaches the daemon over the control socket and
# answers for a route no channel output serves (exit 1, the reason).  The
# transports' own tests (smtp, telegram, zalo, sms) send real messages.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"

SECRET="s3cret-$$-never-printed"
printf '%s\n' "$SECRET" >"$T/zalo.secret"
chmod 600 "$T/zalo.secret"
{
	config_head
	cat <<CONF
outputs = {
  file = ( { path = "$T/points.lp"; } );
  zalo = ( { name = "zalo"; app_id = "1234567890"; secret_key_file = "$T/zalo.secret";
             refresh_token_file = "$T/zalo.secret"; } );
};
rooms = ( { name = "A"; advice = { temp_high = "Kiểm tra máy nén"; }; } );
recipients = ( { name = "lan"; zalo = "8412345678901"; quiet_hours = "21:00-06:00"; } );
routes = ( { name = "ops"; to = [ "lan" ]; via = [ "zalo" ]; } );
CONF
} >"$DAEMON_CONF"

"$COLDCHAIND" -p -c "$DAEMON_CONF" >"$T/p.conf" 2>&1 || die "coldchaind -p failed: $(cat "$T/p.conf")"
check "-p shows the secret file, not the secret" grep -q "# secret key: (from $T/zalo.secret)" "$T/p.conf"
check "-p never prints the secret" bash -c "! grep -q '$SECRET' '$T/p.conf'"
"$COLDCHAIND" -n -c "$T/p.conf" >"$T/pn.out" 2>&1
expect_eq "-p output loads again" "$(cat "$T/pn.out")" "configuration OK"

start_daemon
if grep -q "no zalo transport" "$DAEMON_LOG"; then
	pass "a channel kind without a transport is said at start"
	ctl notify test ops >"$T/nt.out" 2>"$T/nt.err"
	st=$?
	expect_eq "notify test of an unserved route: exit status" "$st" 1
	check "notify test says why" grep -q 'no channel output serves a route "ops"' "$T/nt.err" "$T/nt.out"
fi
ctl notify test nosuch >"$T/nt2.out" 2>"$T/nt2.err"
expect_eq "notify test of an unknown route: exit status" "$?" 1
check "notify test of an unknown route says why" grep -q 'no channel output serves a route "nosuch"' \
	"$T/nt2.err" "$T/nt2.out"
ctl notify test >"$T/nt3.out" 2>"$T/nt3.err"
expect_eq "notify test without a route: usage, exit 2" "$?" 2
check "the daemon is alive" pid_alive "$DAEMON_PID"
check "the log never holds the secret" bash -c "! grep -q '$SECRET' '$DAEMON_LOG'"
finish
