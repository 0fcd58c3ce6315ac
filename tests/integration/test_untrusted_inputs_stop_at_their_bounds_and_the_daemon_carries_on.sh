#!/bin/bash
# Every external input has a named bound, and hitting it costs the sender,
# never the daemon: over the control socket the 17th client is served and
# the longest-idle of the CONTROL_MAX_CLIENTS is told why and closed; a client that never reads its
# replies is disconnected once CONTROL_MAX_REPLY bytes wait for it, while
# others are still served; coldchainctl refuses a "reply" longer than
# CONTROL_MAX_REPLY from something that is not coldchaind; and MQTT payloads
# nested too deep or with too many JSON values, over max_payload, or with a
# captured topic level over 128 bytes are refused with their reason (seen
# through `coldchainctl mqtt watch`, the daemon's own decoding).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$CTL"
start_mosquitto
SOCK=$T/state/coldchaind.sock

# 200 rooms with long names: a status lists them all, so each reply is ~30
# KiB and a few hundred fill CONTROL_MAX_REPLY (8 MiB); an "unknown room"
# refusal names only the 20 nearest.
X50=$(printf 'x%.0s' $(seq 1 50))
{
	config_head
	echo 'rooms = ('
	for i in $(seq 1 200); do
		printf '  { name = "room-%s-%03d"; },\n' "$X50" "$i"
	done | sed '$ s/,$//'
	echo ');'
	cat <<CONF
profiles = ( { name = "lychee"; version = "itest-1"; limits = { warn_high = 7.0; }; } );
outputs = { file = ( { name = "f"; path = "$T/out.lp"; } ); };
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-bounds"; };
  subscriptions = (
    { topic = "b/{sensor}/json"; format = "json"; fields = { temperature = "v"; }; max_payload = 1000000; },
    { topic = "b/{sensor}/num"; quantity = "temperature"; max_payload = 64; }
  );
};
CONF
} >"$DAEMON_CONF"
start_daemon

# --- the control socket: client count and a client that does not read
"$PY" - "$SOCK" >"$T/clients.out" 2>&1 <<'PYEOF'
import json, os, sys, time
sys.path.insert(0, os.environ["CC_ITEST_DIR"])
from ctl_client import conn, line, ask
path = sys.argv[1]
held = []
for i in range(16):                       # CONTROL_MAX_CLIENTS
    s = conn(path)
    assert ask(s, {"cmd": "ping"})["ok"] is True
    held.append(s)
extra = conn(path)
r = ask(extra, {"cmd": "ping"})
assert r["ok"] is True, r
print("17th client served")
# the longest-idle of the 16 (the first) was told why and closed for it
r = json.loads(line(held[0]))
assert r["ok"] is False and "longest idle" in r["error"] and r["code"] == "unavailable", r
assert held[0].recv(10) == b"", "the longest-idle client was not closed"
print("longest-idle client closed")
extra.close()
for s in held:
    s.close()
# a slot frees when a client goes: poll for it, no sleep
deadline = time.time() + 60
while True:
    s = conn(path)
    try:
        if ask(s, {"cmd": "ping"})["ok"] is True:
            s.close()
            break
    except (ValueError, OSError):
        pass
    s.close()
    assert time.time() < deadline, "no slot came free after the held clients closed"
    time.sleep(0.1)
print("slots free again")
# never reads: ~1000 statuses of ~30 KiB each are far past 8 MiB
lazy = conn(path)
req = json.dumps({"cmd": "status"}).encode() + b"\n"
try:
    for i in range(1000):
        lazy.sendall(req)
except OSError as e:
    print("lazy client cut off while sending:", e.__class__.__name__)
s = conn(path)
r = ask(s, {"cmd": "status"})
assert r["ok"] is True and len(r["rooms"]) == 200, "status after the lazy client"
print("others still served")
PYEOF
check "the 17th client is served" grep -q "17th client served" "$T/clients.out"
check "the longest-idle client is told why and closed for it" grep -q "longest-idle client closed" "$T/clients.out"
check "a slot frees when a client disconnects" grep -q "slots free again" "$T/clients.out"
lazy_logged() { grep -q "control: client .* does not read its replies (.* bytes queued): disconnected" "$DAEMON_LOG"; }
check "a client that never reads is disconnected at CONTROL_MAX_REPLY (logged)" wait_for "the lazy client logged" lazy_logged
check "the daemon still serves other clients" grep -q "others still served" "$T/clients.out" ||
	sed 's/^/  | /' "$T/clients.out"
check "the daemon is alive" pid_alive "$DAEMON_PID"

# --- a name that is not there: the reply names the 20 nearest, not all 200
"$PY" - "$SOCK" "$X50" >"$T/near.out" 2>&1 <<'PYEOF'
import os, sys
sys.path.insert(0, os.environ["CC_ITEST_DIR"])
from ctl_client import conn, ask, read_line
import json
path, x50 = sys.argv[1], sys.argv[2]
s = conn(path)
want = "room-%s-123" % x50
s.sendall((json.dumps({"cmd": "lot_load", "room": "R" + want[1:], "lot": "L", "product": "lychee"}) + "\n").encode())
raw = read_line(s)
r = json.loads(raw)
assert r["ok"] is False and r["code"] == "not_found", r
assert len(r["rooms"]) == 20 and r["rooms"][0] == want and r["hint_total"] == 200, (r["rooms"][:3], r.get("hint_total"))
assert r["hint"].startswith("rooms (the 20 nearest of 200): " + want + ", "), r["hint"][:120]
print("unknown room: the 20 nearest of 200, %s first, %d bytes" % (want[-3:], len(raw)))
for i in range(1, 26):                    # 25 lots: past the 20 a hint lists
    r = ask(s, {"cmd": "lot_load", "room": "room-%s-%03d" % (x50, i), "lot": "LOT-%03d" % i, "product": "lychee"})
    assert r["ok"] is True, r
r = ask(s, {"cmd": "lot_unload", "lot": "LOT-017x"})
assert r["ok"] is False and r["code"] == "not_found", r
assert len(r["lots"]) == 20 and r["lots"][0] == "LOT-017" and r["hint_total"] == 25, (r["lots"][:3], r.get("hint_total"))
print("unknown lot: the 20 nearest of 25, LOT-017 first")
r = ask(s, {"cmd": "lot_unload", "lot": "LOT-003"})
assert r["ok"] is True, r
r = ask(s, {"cmd": "lot_unload", "lot": "LOT-003"})
assert r["ok"] is False and len(r["lots"]) == 20 and r["hint_total"] == 24 and "LOT-003" not in r["lots"], r
print("unloaded: gone from the hint")
PYEOF
check "an unknown room's refusal names the 20 nearest of the 200 rooms, the one meant first" \
	grep -q "unknown room: the 20 nearest of 200, 123 first" "$T/near.out"
check "an unknown lot's refusal names the 20 nearest of the 25 lots, the one meant first" \
	grep -q "unknown lot: the 20 nearest of 25, LOT-017 first" "$T/near.out"
check "  an unloaded lot is gone from it" grep -q "unloaded: gone from the hint" "$T/near.out" ||
	sed 's/^/  | /' "$T/near.out"

# --- coldchainctl against something that is not coldchaind
"$PY" - "$T/fake.sock" >"$T/fake.out" 2>&1 <<'PYEOF' &
import os, socket, sys
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1])
srv.listen(1)
print("listening", flush=True)
c, _ = srv.accept()
c.recv(65536)
try:
    chunk = b"x" * (1 << 20)
    for i in range(64):                    # 64 MiB, never a newline
        c.sendall(chunk)
    print("sent it all (the client kept reading)", flush=True)
except OSError:
    print("client stopped reading", flush=True)
PYEOF
FAKE_PID=$!
PIDS+=("$FAKE_PID")
wait_for "the fake server" file_has listening "$T/fake.out" || die "the fake server did not start"
timeout 60 "$CTL" status --socket "$T/fake.sock" >/dev/null 2>"$T/ctl.err"
expect_eq "coldchainctl on an endless reply: exit status" "$?" 3
check "coldchainctl names the bound" grep -q "reply longer than 8388608 bytes without a newline: refused" "$T/ctl.err"
wait "$FAKE_PID" 2>/dev/null
forget_pid "$FAKE_PID"
check "coldchainctl stopped reading (not 64 MiB)" grep -q "client stopped reading" "$T/fake.out"

# --- MQTT payloads and topics (retained: the watcher gets them on subscribe)
pub() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -r -t "$1" -f "$2"; }
"$PY" -c 'print("{\"v\":" + "[" * 32 + "1" + "]" * 32 + "}")' >"$T/deep"
"$PY" -c 'print("{\"v\":1,\"a\":[" + ",".join(["0"] * 10000) + "]}")' >"$T/wide"
printf '{"v": 2.5}' >"$T/ok"
printf '%070d' 1 >"$T/big"
printf '1' >"$T/one"
long=$(printf 's%.0s' $(seq 1 129))
pub b/deep/json "$T/deep"
pub b/wide/json "$T/wide"
pub b/ok/json "$T/ok"
pub b/big/num "$T/big"
pub "b/$long/num" "$T/one"
# 2 MiB: past the MQTT 5 Maximum Packet Size coldchaind announces (largest
# max_payload, 1000000 here, + 68 KiB), so the broker keeps it from coldchaind (and from the
# watch, which connects the same way) - libmosquitto would otherwise read all
# of it before max_payload could refuse it
head -c 2097152 /dev/zero | tr '\0' '1' >"$T/huge"
pub b/huge/num "$T/huge"
expect_eq "a client without a limit gets the 2 MiB message" \
	"$(timeout 30 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t b/huge/num -C 1 | wc -c)" 2097153
timeout 60 "$CTL" mqtt watch 'b/#' -c "$DAEMON_CONF" --count 5 --json >"$T/watch.json" 2>"$T/watch.err"
expect_eq "mqtt watch exit status" "$?" 0
w() { grep -F "\"topic\":\"$1\"" "$T/watch.json" | json_eval "$2"; }
expect_eq "JSON 33 levels deep: reason" "$(w b/deep/json 'd["reason"]')" parse_error
expect_eq "JSON 33 levels deep: why" "$(w b/deep/json 'd["why"]')" "JSON nested deeper than 32 levels"
expect_eq "JSON with over 10000 values: why" "$(w b/wide/json 'd["why"]')" "JSON with more than 10000 values"
expect_num "a JSON payload within the bounds is read" "$(w b/ok/json 'd["samples"][0]["value"]')" 2.5
expect_eq "a payload over max_payload: reason" "$(w b/big/num 'd["reason"]')" too_large
expect_eq "a captured level of 129 bytes: reason" "$(w "b/$long/num" 'd["reason"]')" bad_topic
expect_eq "a captured level of 129 bytes: why" "$(w "b/$long/num" 'd["why"]')" "a captured topic level is too long"
if grep -qF '"topic":"b/huge/num"' "$T/watch.json"; then
	fail "a message past the MQTT 5 maximum packet size reached the client"
else
	pass "the broker keeps a message past coldchaind's maximum packet size from it"
fi
finish
