#!/bin/bash
# The control socket cannot be locked up: with every slot
# (CONTROL_MAX_CLIENTS, 16) held by idle connections, `coldchainctl status`
# still answers, again and again: the longest-idle connection is closed for
# the new one, told why in a JSON reply, and the daemon logs it; a flood of
# connections is logged once a minute, not once per connection.  Another
# member of the socket's group (nobody, in group adm) holding 15 idle
# connections cannot push out an operator's older one: the connection closed
# is the longest-idle one of the account holding the most.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"
# The socket where `nobody` (in group adm) can reach it.
chmod 711 "$T"
mkdir -m 755 "$T/run"
SOCK=$T/run/cc.sock

{
	config_head
	cat <<CONF
control = { socket = "$SOCK";$([ "$(id -u)" -eq 0 ] && echo ' group = "adm";') };
outputs = { file = ( { name = "f"; path = "$T/out.lp"; } ); };
rooms = ( { name = "A"; temperature = "th-a1/temperature"; } );
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "the control socket" test -S "$SOCK" || die "no control socket at $SOCK"

# Python holds the idle connections while coldchainctl runs; every step
# prints one RESULT line that the checks below read.
"$PY" - "$SOCK" "$CTL" >"$T/lockout.out" 2>&1 <<'PYEOF'
import json, os, socket, subprocess, sys
sys.path.insert(0, os.environ["CC_ITEST_DIR"])
from ctl_client import conn, read_line
path, ctl = sys.argv[1:]
MAX = 16

# Every slot taken: each connection has had a reply, so the daemon holds it.
held = []
for i in range(MAX):
    s = conn(path)
    s.sendall(b'{"cmd":"ping"}\n')
    r = json.loads(read_line(s))
    assert r["ok"] is True, r
    held.append(s)
print("RESULT held", len(held))

ok = 0
for i in range(5):
    p = subprocess.run([ctl, "status", "--socket", path, "--json"], capture_output=True, timeout=120)
    try:
        d = json.loads(p.stdout)
    except ValueError:
        d = {}
    if p.returncode == 0 and d.get("ok") is True and [r["name"] for r in d.get("rooms", [])] == ["A"]:
        ok += 1
    else:
        print("status failed: exit %d, stdout %r, stderr %r" % (p.returncode, p.stdout[:200], p.stderr[:300]))
print("RESULT status_ok", ok)

# The connections closed for coldchainctl's were told why, as JSON, then closed.
evicted = 0
for s in held:
    s.settimeout(0.5)
    try:
        line = read_line(s)
    except socket.timeout:
        continue
    if line:
        r = json.loads(line.split(b"\n")[0].decode("utf-8", "strict"))
        assert r["ok"] is False and r["code"] == "unavailable" and "full" in r["error"], r
        evicted += 1
print("RESULT evicted_told", evicted)

# A flood: 40 more connections one after another, each held open.
flood = []
for i in range(40):
    s = conn(path)
    s.sendall(b'{"cmd":"ping"}\n')
    r = json.loads(read_line(s))
    assert r["ok"] is True, r
    flood.append(s)
print("RESULT flood_connected", len(flood))
p = subprocess.run([ctl, "status", "--socket", path], capture_output=True, timeout=120)
print("RESULT status_after_flood", p.returncode)
PYEOF
sed 's/^/  | /' "$T/lockout.out" | grep -v RESULT
res() { sed -n "s/^RESULT $1 //p" "$T/lockout.out"; }

expect_eq "idle connections holding every slot" "$(res held)" 16
expect_eq "coldchainctl status answers 5 times out of 5 with every slot held" "$(res status_ok)" 5
check "the connections closed for a new one were told why in JSON ($(res evicted_told))" \
	test "$(res evicted_told)" -ge 1
expect_eq "40 more connections after them were all served" "$(res flood_connected)" 40
expect_eq "status after the flood: exit status" "$(res status_after_flood)" 0
check "the daemon logged that it closed the longest-idle connection" \
	grep -q "connections (the limit): closed the longest-idle one (user .*, idle [0-9]* s) for a new one from" "$DAEMON_LOG"
n=$(grep -c "closed the longest-idle one" "$DAEMON_LOG")
check "the 41 closings (one, then the flood of 40) are logged at most once a minute ($n lines)" test "$n" -ge 1 -a "$n" -le 2
# --- another account's idle connections do not push out an operator's
# One connection of ours, the oldest; then 15 of nobody's fill the socket.
# (Only root can run a process as nobody: the rest of the test holds without.)
if [ "$(id -u)" -ne 0 ]; then
	echo "  (not root: the check with another account's connections is left out)"
	check "the daemon is still alive" pid_alive "$DAEMON_PID"
	finish
fi
"$PY" - "$SOCK" "$T/go" "$T/root_conn.ready" >"$T/root_conn.out" 2>&1 <<'PYEOF' &
import json, os, socket, sys, time
path, go, ready = sys.argv[1:]
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(path)
s.sendall(b'{"cmd":"ping"}\n')
assert json.loads(s.recv(65536))["ok"] is True
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.2)
s.sendall(b'{"cmd":"ping"}\n')
try:
    r = json.loads(s.recv(65536).split(b"\n")[0])
    print("RESULT root_conn_alive", 1 if r.get("ok") is True else 0)
except (ValueError, OSError):
    print("RESULT root_conn_alive 0")
PYEOF
ROOT_CONN_PID=$!
PIDS+=("$ROOT_CONN_PID")
wait_for "our connection held" test -e "$T/root_conn.ready" || die "our held connection did not start"
start_bg nobody-holder "$T/nobody.log" setpriv --reuid=65534 --regid=65534 --groups=4 "$PY" -u -c '
import json, select, socket, sys
path = sys.argv[1]
held = []
for i in range(15):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    s.sendall(b"{\"cmd\":\"ping\"}\n")
    assert json.loads(s.recv(65536))["ok"] is True
    held.append(s)
print("held", len(held))
while held:
    r, _, _ = select.select(held, [], [], 5)
    for s in r:
        data = s.recv(65536)
        print("RESULT nobody_closed", "told" if b"unavailable" in data else "silently")
        held.remove(s)
' "$SOCK"
NOBODY_PID=$LAST_PID
wait_for "nobody holds 15 connections" grep -q "^held 15" "$T/nobody.log" || {
	show_log "$T/nobody.log"
	die "nobody could not open 15 connections to the socket"
}
"$CTL" status --socket "$SOCK" >"$T/status3.out" 2>&1
expect_eq "status with 1 of ours and 15 of nobody's idle connections: exit status" "$?" 0
touch "$T/go"
wait "$ROOT_CONN_PID"
forget_pid "$ROOT_CONN_PID"
expect_eq "our older idle connection still answers" "$(sed -n 's/^RESULT root_conn_alive //p' "$T/root_conn.out")" 1
nobody_told() { grep -q "^RESULT nobody_closed told" "$T/nobody.log"; }
check "one of nobody's connections was closed instead, and told why" wait_for "nobody told" nobody_told
stop_pid "$NOBODY_PID" 10

check "the daemon is still alive" pid_alive "$DAEMON_PID"

finish
