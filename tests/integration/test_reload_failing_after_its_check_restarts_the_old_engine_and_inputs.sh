#!/bin/bash
# The reload's fallback (daemon/main.c, reload_parse): the new file passes
# the check (a child process: /proc/self/exe -n), the inputs and the engine
# stop, and then the daemon's own parse of the file fails (the file changed
# or went unreadable meanwhile, memory), so the old engine and inputs start
# again on the old configuration.  The trigger is deterministic: an
# LD_PRELOAD shim (tests/integration/fail_open_preload.c) refuses the
# configuration file to the daemon's own process once the test arms it,
# while the checker, another process, reads it.  (The trigger was a Telegram
# token the transport refuses; the configuration refuses it now, so
# `coldchaind -n` says it: checked here too.)  After it: the daemon runs,
# the old inputs poll again (new readings in the file output), the engine
# is the old configuration's (room A only, a lot loaded at run time kept,
# the new room absent), and a good reload afterwards still applies.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"
command -v cc >/dev/null || skip "no C compiler for the open shim"
SHIM=$T/fail_open.so
cc -shared -fPIC -O1 -o "$SHIM" "$TESTS_DIR/integration/fail_open_preload.c" -ldl ||
	die "cannot build the open shim"

printf '1 input 0 int16 ABCD 45\n2 input 0 int16 ABCD 52\n' >"$T/sim.map" # A 4.5 C, B 5.2 C
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
POINTS=$T/points.lp

device() { # NAME UNIT ROOM
	printf '      { name = "%s"; unit = %s; room = "%s";\n' "$1" "$2" "$3"
	printf '        points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16";'
	printf ' scale = 0.1; unit = "C"; } ); }'
}
# write_config FILE ROOMS [telegram]: ROOMS "A" or "A B"; atomically.
write_config() {
	local f=$1 rooms=$2 tg=${3:-} r sep="" u=0
	{
		config_head
		cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; } );
alarms = { rate_limit = 0.0; stuck_after = "0s"; };
CONF
		printf 'rooms = ('
		for r in $rooms; do
			printf '%s { name = "%s"; temperature = "th-%s/temperature"; profile = "lychee"; }' "$sep" "$r" "$r"
			sep=","
		done
		printf ' );\nmodbus = ( { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = %s; };' "$SIM_PORT"
		printf ' interval = "300ms";\n    devices = (\n'
		sep=""
		for r in $rooms; do
			u=$((u + 1))
			printf '%s' "$sep"
			device "th-$r" "$u" "$r"
			sep=$',\n'
		done
		printf ' ); } );\noutputs = {\n  file = ( { name = "archive"; path = "%s"; } );\n' "$POINTS"
		if [ -n "$tg" ]; then
			printf '  telegram = ( { name = "tg"; api_url = "http://127.0.0.1:9"; token_file = "%s"; } );\n' \
				"$T/tg.token"
		fi
		printf '};\n'
		if [ -n "$tg" ]; then
			printf 'recipients = ( { name = "minh"; lang = "vi"; telegram = "111"; } );\n'
			printf 'routes = ( { name = "ops"; to = [ "minh" ]; via = [ "tg" ]; } );\n'
		fi
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

write_config "$DAEMON_CONF" "A"
# the shim: while $T/arm holds the daemon's pid, it cannot open its config
export FAIL_OPEN_PATH=$DAEMON_CONF FAIL_OPEN_ARM=$T/arm FAIL_OPEN_MARK=$T/refused LD_PRELOAD=$SHIM
# an ASan build wants its runtime first in the list; the shim has no ASan
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
start_daemon
unset LD_PRELOAD
ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
n_readings() { lp_timestamps "$POINTS" temperature "$1" | grep -c .; }
more_readings_than() { [ "$(n_readings "$2")" -gt "$1" ]; }
# readings_since NS SENSOR: how many were read at or after NS (epoch ns).
readings_since() { lp_timestamps "$POINTS" temperature "$2" | awk -v t="$1" '$1 >= t' | grep -c .; }
readings_since_at_least() { [ "$(readings_since "$1" "$3")" -ge "$2" ]; }
wait_for "readings from th-A" more_readings_than 0 th-A || die "no readings from th-A at start"
ctl lot load A LOT-9 lychee >"$T/lot.out" 2>&1 || die "lot load failed: $(cat "$T/lot.out")"
pass "daemon polls th-A and took lot LOT-9 in room A"

# ---- a Telegram token its transport would refuse: the check refuses it now
printf 'not a bot token!\n' >"$T/tg.token"
chmod 600 "$T/tg.token"
write_config "$T/tg.conf" "A B" telegram
"$COLDCHAIND" -n -c "$T/tg.conf" >"$T/tg.check" 2>&1
expect_eq "a Telegram token file whose first line is no bot token: coldchaind -n exit status" "$?" 1
check "  it names the file, not the token" bash -c "grep -q 'token_file: bot token file .*tg.token: the first line is not a bot token' '$T/tg.check' &&
	! grep -q 'not a bot token!' '$T/tg.check'"

# ---- the new file: room B; it passes the check, the daemon cannot read it
write_config "$T/new.conf" "A B"
if "$COLDCHAIND" -n -c "$T/new.conf" >"$T/new.check" 2>&1 && grep -q "configuration OK" "$T/new.check"; then
	pass "the new file passes the check (coldchaind -n: configuration OK), as the reload's check will"
else
	fail "the new file does not pass coldchaind -n, so the reload would stop at its check: $(cat "$T/new.check")"
fi
cp "$T/new.conf" "$DAEMON_CONF.tmp" && mv "$DAEMON_CONF.tmp" "$DAEMON_CONF"
echo "$DAEMON_PID" >"$T/arm"
kill -HUP "$DAEMON_PID"
reload_failed() { grep -q "reload failed, keeping previous configuration" "$DAEMON_LOG"; }
wait_for "reload failure logged" reload_failed || die "no 'reload failed, keeping previous configuration' line"
rm -f "$T/arm"
# the checker read the file (another pid: nothing refused to it) and passed;
# the daemon's own parse was refused it (only the daemon: every refusal in
# its pid), and said so
if [ -s "$T/refused" ] && ! grep -qvx "refused $DAEMON_CONF in $DAEMON_PID" "$T/refused" &&
	grep -q "reload: .*cannot read.*Permission denied" "$DAEMON_LOG" && ! grep -q "checking in a fork" "$DAEMON_LOG"; then
	pass "the reload failed after its check, at the daemon's own parse: $(grep -m1 'reload: .*cannot read' "$DAEMON_LOG" | sed 's/^[^ ]* //')"
else
	fail "the reload did not fail where this test means it to (after the check, at the daemon's parse)"
	sed 's/^/  | /' "$T/refused" 2>/dev/null
	grep "reload" "$DAEMON_LOG" | sed 's/^/  | /'
fi

# ---- the old configuration runs again: readings taken after the failure
# was logged (the inputs were stopped before the parse) are the restarted
# inputs' own.
after=$(date +%s%N)
if pid_alive "$DAEMON_PID" && wait_for "th-A readings after the failed reload" readings_since_at_least "$after" 3 th-A; then
	pass "the old inputs poll again: $(readings_since "$after" th-A) th-A readings since the failed reload"
else
	fail "after the failed reload: daemon alive? $(pid_alive "$DAEMON_PID" && echo yes || echo no), th-A readings since: $(readings_since "$after" th-A)"
fi
ctl status --json >"$T/status.json" 2>"$T/status.err" || fail "status after the failed reload: $(cat "$T/status.err")"
expect_eq "the engine is the old configuration's: rooms" \
	"$(json_eval '",".join(r["name"] for r in d["rooms"])' <"$T/status.json")" "A"
expect_eq "the lot loaded at run time is still in room A" \
	"$(json_eval '",".join(l["id"] for r in d["rooms"] for l in r.get("lots", []))' <"$T/status.json")" "LOT-9"
expect_eq "no readings from the new file's device th-B" "$(n_readings th-B)" 0

# ---- and a good reload still applies
write_config "$DAEMON_CONF" "A B"
kill -HUP "$DAEMON_PID"
if wait_for "th-B readings after a good reload" more_readings_than 0 th-B; then
	pass "a good reload after the failed one applies: th-B polled"
else
	fail "a good reload after the failed one: no th-B readings"
fi
ctl status --json >"$T/status.json" 2>"$T/status.err"
expect_eq "after the good reload: rooms" "$(json_eval '",".join(r["name"] for r in d["rooms"])' <"$T/status.json")" "A,B"
finish
