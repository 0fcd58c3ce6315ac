#!/bin/bash
# The control socket cannot be locked up: with every slot
# (CONTROL_MAX_CLIENTS, 16) held by idle connections, `coldchainctl status`
# still answers, again and again: the longest-idle connection is closed for
# the new one, told why in a JSON reply, and the daemon logs it; a flood of
# connections is logged once a minute, not once per connection.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"
SOCK=$T/state/coldchaind.sock

{
	config_head
	cat <<CONF
outputs = { file = ( { name = "f"; path = "$T/out.lp"; } ); };
rooms = ( { name = "A"; temperature = "th-a1/temperature"; } );
CONF
} >"$DAEMON_CONF"
start_daemon
wait_for "the control socket" test -S "$SOCK" || die "no control socket at $SOCK"

# Python holds the idle connections while coldchainctl runs; every step
# prints one RESULT line that the checks below read.
"$PY" - "$SOCK" "$CTL" >"$T/lockout.out" 2>&1 <<'PYEOF'
import json, socket, subprocess, sys
path, ctl = sys.argv[1:]
MAX = 16

def connect():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    return s

def read_line(s):
    buf = b""
    while b"\n" not in buf:
        c = s.recv(65536)
        if not c:
            break
        buf += c
    return buf

# Every slot taken: each connection has had a reply, so the daemon holds it.
held = []
for i in range(MAX):
    s = connect()
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
    s = connect()
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
check "the daemon is still alive" pid_alive "$DAEMON_PID"

finish
