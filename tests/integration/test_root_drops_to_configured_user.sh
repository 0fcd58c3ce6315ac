#!/bin/bash
# Started as root with `user = "nobody"`, the daemon locks its state dir,
# hands it over, switches to that account and keeps polling: every thread
# runs unprivileged and root cannot be regained.  (Skipped when the suite
# does not run as root: there is nothing to drop.)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"
if [ "$(id -u)" != 0 ]; then
	skip "not root: there is no privilege to drop"
fi
NOBODY_UID=$(id -u nobody) || die "no user nobody"

# nobody must reach its state dir and output file: open up a path for it.
chmod 0711 "$T"
mkdir -p "$T/out" && chmod 0777 "$T/out"
printf '%s\n' '1 input 0 int16 ABCD 41' >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
{
	config_head
	cat <<CONF
user = "nobody";
group = "nogroup";
modbus = ( { name = "b"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "1s";
  devices = ( { name = "u1"; unit = 1; points = ( { channel = "t"; table = "input"; address = 0; type = "int16"; } ); } ); } );
outputs = { file = ( { name = "f"; path = "$T/out/points.lp"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
check "the daemon logs the switch" grep -q "running as user nobody" "$DAEMON_LOG"
uids() { awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$DAEMON_PID/status"; }
check "real, effective, saved and fs uid are all nobody's" [ "$(uids)" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ]
all_threads_unprivileged() {
	local t
	for t in /proc/"$DAEMON_PID"/task/*; do
		[ "$(awk '/^Uid:/ {print $3}' "$t/status")" = "$NOBODY_UID" ] || return 1
	done
}
check "every thread runs as nobody" all_threads_unprivileged
check "the state dir now belongs to nobody" [ "$(stat -c %u "$T/state")" = "$NOBODY_UID" ]
wait_for "readings after the switch" file_has "value=41" "$T/out/points.lp" &&
	pass "the unprivileged daemon keeps polling and writing" || fail "no readings after dropping privileges"
stop_daemon && st=0 || st=$?
check "SIGTERM exits 0" [ "$st" = 0 ]
finish
