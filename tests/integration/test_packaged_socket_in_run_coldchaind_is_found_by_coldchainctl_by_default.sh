#!/bin/bash
# The packaged setup: the installed configuration puts the control socket in
# /run/coldchaind (the unit's RuntimeDirectory=, mode 0755), and
# `coldchainctl status` with no -c and no --socket finds it there even when
# it cannot read the configuration; the socket is 0660 and owned by
# control.group, so an account in that group (and not in the daemon's)
# gets in and one outside it is refused.  Touches /run/coldchaind: runs only
# as root, and only where no coldchaind owns that directory already.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"
RUN_DIR=/run/coldchaind
SOCK=$RUN_DIR/coldchaind.sock

[ "$(id -u)" = 0 ] || skip "needs root (creates $RUN_DIR as systemd would)"
[ -e "$RUN_DIR" ] && skip "$RUN_DIR exists: a coldchaind may be installed here; not touching it"
DEFAULT_CONF=$("$COLDCHAIND" -h 2>&1 | sed -n 's/.*configuration file (default \(.*\))$/\1/p')
[ -n "$DEFAULT_CONF" ] || die "cannot tell coldchaind's default configuration path from -h"
[ -e "$DEFAULT_CONF" ] && skip "$DEFAULT_CONF exists: coldchainctl would read it rather than its default"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
getent passwd nobody >/dev/null && getent group adm >/dev/null || skip "needs user nobody and group adm"

# lib.sh's cleanup runs on exit; /run/coldchaind goes too, once our daemon
# has stopped.
cleanup_run_dir() {
	local st=$?
	[ -n "$DAEMON_PID" ] && stop_daemon 20
	rm -rf "$RUN_DIR"
	(exit "$st")
	cleanup
}
trap cleanup_run_dir EXIT

# the shipped configuration names the socket (what `make install` installs)
"$COLDCHAIND" -p -c "$ROOT_DIR/config/coldchaind.conf.example" >"$T/example.p" 2>&1
check "the installed configuration puts the socket in $RUN_DIR" \
	grep -q "socket = \"$SOCK\";" "$T/example.p"

# as systemd would, with the unit's mode (owner root here, coldchaind there:
# either way the operator is not in the directory's group)
mode=$(sed -n 's/^RuntimeDirectoryMode=//p' "$ROOT_DIR/config/coldchaind.service.in")
grep -q '^RuntimeDirectory=coldchaind$' "$ROOT_DIR/config/coldchaind.service.in" && [ -n "$mode" ] ||
	die "the unit has no RuntimeDirectory=coldchaind with a RuntimeDirectoryMode="
mkdir -m "$mode" "$RUN_DIR"
{
	config_head
	cat <<CONF
control = { socket = "$SOCK"; group = "adm"; };
outputs = { file = ( { name = "f"; path = "$T/out.lp"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon
expect_eq "socket mode, group and type" "$(stat -c '%a %G %F' "$SOCK")" "660 adm socket"

# the binary where nobody can run it ($T is 0700)
chmod 0711 "$T"
mkdir -m 0755 "$T/bin" && cp "$CTL" "$T/bin/coldchainctl" && chmod 0755 "$T/bin/coldchainctl"
"$T/bin/coldchainctl" status --json >"$T/root.json" 2>"$T/root.err"
expect_eq "coldchainctl status with no -c and no --socket: exit status" "$?" 0
expect_eq "it reached this daemon" "$(json_eval 'd["site"]' <"$T/root.json")" itest
setpriv --reuid=nobody --regid=nogroup --groups=adm "$T/bin/coldchainctl" status >"$T/member.out" 2>&1
expect_eq "a member of control.group (not of the daemon's group): exit status" "$?" 0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/bin/coldchainctl" status >"$T/other.out" 2>&1
expect_eq "an account outside control.group: exit status" "$?" 3
check "the refusal names the socket" grep -q "cannot reach coldchaind at $SOCK: Permission denied" "$T/other.out"
finish
