#!/bin/bash
# coldchaind publishes a runtime file (daemon/runfile.c) naming its control
# socket and every configuration file it read; coldchainctl -c CONF takes the
# socket from it, without parsing CONF, only while CONF and each file it
# @includes are unchanged (device, inode, size, mtime, ctime).  Shown with an
# operator who cannot read the configuration (mode 0600, root's) but is in
# control.group: the runtime file is all that lets them in.  A stale runtime
# file (the daemon killed, the include edited to name another socket, a
# second daemon now on the old socket; another configuration's file copied
# under this one's name) never sends coldchainctl to the wrong daemon; a
# reload rewrites it and keeps naming the socket the daemon still listens on
# (control.socket needs a restart); a clean stop removes it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"
[ "$(id -u)" = 0 ] || skip "needs root (runs coldchainctl as nobody with setpriv)"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null || skip "needs user nobody and group nogroup"

export COLDCHAIND_RUNTIME_DIR=$T/run
mkdir -m 0755 "$COLDCHAIND_RUNTIME_DIR"
chmod 0711 "$T" # nobody may pass, not list
mkdir -m 0755 "$T/bin" && cp "$CTL" "$T/bin/coldchainctl" && chmod 0755 "$T/bin/coldchainctl"
NCTL=$T/bin/coldchainctl

# the socket is named in an @include'd file: an edit there must count too
write_inc() { printf 'control = { socket = "%s"; group = "nogroup"; };\n' "$1" >"$T/control.conf"; }
(
	umask 077
	write_inc "$T/s1/ctl.sock"
	{
		config_head
		echo '@include "control.conf"'
		echo "outputs = { file = ( { name = \"f\"; path = \"$T/out.lp\"; } ); };"
	} >"$DAEMON_CONF"
)
expect_eq "the configuration is root's alone" "$(stat -c '%a %U' "$DAEMON_CONF") $(stat -c '%a' "$T/control.conf")" \
	"600 root 600"

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$NCTL" "$@"; }
site_of() { json_eval 'd["site"]' <"$1" 2>/dev/null; }
runfiles() { find "$COLDCHAIND_RUNTIME_DIR" -name 'conf-*.run' | sort; }

start_daemon
RF=$(runfiles)
expect_eq "one runtime file" "$(echo "$RF" | grep -c .)" 1
expect_eq "runtime file: mode, group" "$(stat -c '%a %G' "$RF")" "640 nogroup"
check "it names the socket" grep -qx "socket $T/s1/ctl.sock" "$RF"
check "it lists the configuration and its include" \
	test "$(grep -c "^src .* \($DAEMON_CONF\|$T/control.conf\)$" "$RF")" = 2

# fast path: nobody cannot read the configuration, the runtime file leads
as_nobody status -c "$DAEMON_CONF" --json >"$T/n1.json" 2>"$T/n1.err"
expect_eq "nobody in control.group, config unreadable: status exit" "$?" 0
expect_eq "  it reached this daemon" "$(site_of "$T/n1.json")" itest

# stale: the daemon dies (its runtime file and socket file stay), the include
# is edited to another socket, another daemon takes the old one
kill -KILL "$DAEMON_PID" && wait "$DAEMON_PID" 2>/dev/null
forget_pid "$DAEMON_PID"
DAEMON_PID=
check "a kill -9 leaves the runtime file behind" test -f "$RF"
write_inc "$T/s2/ctl.sock"
mkdir -p "$T/other"
{
	SITE=other config_head | sed "s|$T/state|$T/other/state|"
	echo "control = { socket = \"$T/s1/ctl.sock\"; };"
	echo "outputs = { file = ( { name = \"f\"; path = \"$T/other/out.lp\"; } ); };"
} >"$T/other.conf"
mkdir -p "$T/other/state"
start_bg other "$T/other.log" "$COLDCHAIND" -c "$T/other.conf"
OTHER_PID=$LAST_PID
other_up() { "$CTL" status --socket "$T/s1/ctl.sock" --json >"$T/o.json" 2>/dev/null && [ "$(site_of "$T/o.json")" = other ]; }
wait_for "the other daemon answers on the old socket" other_up || { show_log "$T/other.log"; die "the other daemon did not start"; }

"$CTL" status -c "$DAEMON_CONF" --json >"$T/r2.json" 2>"$T/r2.err"
expect_eq "include edited after the daemon died: status exit (no daemon on the new socket)" "$?" 3
check "  it went to the socket the edited configuration names" grep -q "at $T/s2/ctl.sock:" "$T/r2.err"
check "  not to the other daemon on the old one" test "$(site_of "$T/r2.json")" != other
as_nobody status -c "$DAEMON_CONF" --json >"$T/n2.json" 2>"$T/n2.err"
check "nobody (who cannot parse) is refused, not sent to the other daemon" \
	test "$?" != 0 -a "$(site_of "$T/n2.json")" != other

# the other configuration's runtime file copied under this one's name
cp "$(runfiles | grep -v "^$RF$" | head -n 1)" "$RF"
"$CTL" status -c "$DAEMON_CONF" --json >"$T/r3.json" 2>"$T/r3.err"
check "another configuration's runtime file under this one's name is not taken" \
	test "$(site_of "$T/r3.json")" != other
rm -f "$RF"

# this configuration's daemon again, on the new socket: its runtime file leads
mv "$DAEMON_LOG" "$T/coldchaind.1.log" # start_daemon waits for a new "started"
start_daemon
as_nobody status -c "$DAEMON_CONF" --json >"$T/n4.json" 2>"$T/n4.err"
expect_eq "restarted on the new socket: nobody's status exit" "$?" 0
expect_eq "  it reached this daemon" "$(site_of "$T/n4.json")" itest

# a reload with control.socket edited: the daemon keeps its socket (restart
# only) and the runtime file says so; parsing would name the new path
write_inc "$T/s3/ctl.sock"
kill -HUP "$DAEMON_PID"
nobody_reaches() { as_nobody status -c "$DAEMON_CONF" --json >"$T/n5.json" 2>/dev/null && [ "$(site_of "$T/n5.json")" = itest ]; }
if wait_for "after the reload nobody reaches the daemon on the socket it kept" nobody_reaches; then
	pass "the runtime file follows a reload and names the socket in use"
else
	fail "after the reload the runtime file no longer leads to the daemon"
fi
check "  the runtime file names $T/s2/ctl.sock" grep -qx "socket $T/s2/ctl.sock" "$(runfiles | head -n 1)"

stop_daemon 20
stop_pid "$OTHER_PID" 20
expect_eq "a clean stop removes each runtime file" "$(runfiles | grep -c .)" 0
finish
