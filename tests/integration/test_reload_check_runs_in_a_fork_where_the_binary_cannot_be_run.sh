#!/bin/bash
# A reload checks the new file in a child before it touches anything
# (daemon/main.c, config_precheck): the daemon's own binary run as
# `coldchaind -n` through /proc/self/exe, or, where that cannot be run (no
# /proc: a container, a hardened mount), a fork of the daemon doing the same
# check.  Here the daemon runs in a mount namespace whose /proc is an empty
# tmpfs: a broken file is refused with its error at its line and the old
# configuration keeps running, a good one is applied, and the log says the
# check ran in a fork.  (Runs as root: unshare -m; skipped otherwise.)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"
[ "$(id -u)" = 0 ] || skip "needs root for a mount namespace (unshare -m)"
command -v unshare >/dev/null || skip "unshare missing (util-linux)"
unshare -m --propagation private true 2>/dev/null || skip "unshare -m is not permitted here"

POINTS=$T/points.lp
write_config() { # FILE STATS_INTERVAL
	{
		STATS_INTERVAL=$2 config_head
		echo "outputs = { file = ( { path = \"$POINTS\"; } ); };"
	} >"$1.tmp" && mv "$1.tmp" "$1"
}
write_config "$DAEMON_CONF" 1s
"$COLDCHAIND" -n -c "$DAEMON_CONF" >"$T/check.out" 2>&1 || die "coldchaind -n rejects the test config: $(cat "$T/check.out")"
mkdir -p "$T/state"
# exec keeps the PID: the daemon is the process started here
start_bg coldchaind "$DAEMON_LOG" unshare -m --propagation private \
	sh -c 'mount -t tmpfs none /proc && exec "$0" -c "$1"' "$COLDCHAIND" "$DAEMON_CONF"
DAEMON_PID=$LAST_PID
wait_for "coldchaind started" daemon_started || die "coldchaind did not log 'started'"
pid_alive "$DAEMON_PID" || die "coldchaind exited at start-up"
stats_in_file() { grep -q '^coldchaind_' "$POINTS" 2>/dev/null; }
wait_for "the daemon's own stats in the file output" stats_in_file || die "no stats points"

# a broken file: refused, with the error at its line, the daemon runs on
cp "$DAEMON_CONF" "$T/good.conf"
{ cat "$T/good.conf"; echo 'no_such_key = 1;'; } >"$DAEMON_CONF.tmp" && mv "$DAEMON_CONF.tmp" "$DAEMON_CONF"
kill -HUP "$DAEMON_PID"
reload_failed() { grep -q "reload failed, keeping previous configuration" "$DAEMON_LOG"; }
check "a broken file is refused" wait_for "reload failure" reload_failed
check "the check ran in a fork (no /proc/self/exe)" grep -q "reload: cannot run /proc/self/exe (.*): checking in a fork" "$DAEMON_LOG"
check "the refusal names the unknown key at its line" \
	grep -q "error: reload: .*coldchaind.conf:$(($(wc -l <"$T/good.conf") + 1)): .*no_such_key" "$DAEMON_LOG"
check "the daemon runs on after the refused reload" pid_alive "$DAEMON_PID"

# a good, changed file: applied
write_config "$DAEMON_CONF" 2s
kill -HUP "$DAEMON_PID"
reloaded() { grep -q "configuration reloaded" "$DAEMON_LOG"; }
check "a good file is applied after the fork's check" wait_for "reload" reloaded
check "the daemon is still running" pid_alive "$DAEMON_PID"
stop_daemon
expect_eq "coldchaind exits 0 on SIGTERM" "$?" 0
finish
