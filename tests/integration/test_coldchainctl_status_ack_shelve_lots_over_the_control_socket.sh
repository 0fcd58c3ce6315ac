#!/bin/bash
# The control socket and coldchainctl against a real daemon, the Modbus
# simulator and a real InfluxDB: the socket is 0660 and owned by the
# configured group; status/alarms --json carry rooms, readings, lots and the
# active alarm; an ack with a note lands as an `alert` event with user and
# note; a shelve expires by itself; lots are loaded, moved (keeping their
# consumed life) and unloaded, and survive kill -9; unknown names are
# refused (exit 1) with the valid ones listed; garbage, oversized and
# half-written requests never hurt the daemon; a reload keeps the lots and
# alarms as they were (handed over in memory), and a kill -9 right after it
# finds them too; a stopped daemon is exit 3.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$COLDCHAIND" "$MODBUS_SIM" "$CTL"

printf '1 input 0 int16 ABCD 80\n1 input 1 int16 ABCD 920\n2 input 0 int16 ABCD 30\n' >"$T/sim.map" # A 8.0 C, B 3.0 C
start_influxd
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"
SOCK=$T/state/coldchaind.sock

{
	config_head
	cat <<CONF
control = { group = "adm"; };
profiles = ( { name = "lychee"; version = "itest-1";
  limits = { warn_high = 7.0; alarm_high = 30.0; on_delay = "1s"; };
  model = { type = "arrhenius"; t_ref = 3.5; shelf_life = "28d"; ea = 75.0; valid_min = 1.0; valid_max = 35.0; }; },
  { name = "longan"; version = "itest-1"; limits = { warn_high = 7.0; };
  model = { type = "q10"; t_ref = 2.0; shelf_life = "21d"; q10 = 3.0; valid_min = 0.0; valid_max = 35.0; }; } );
rooms = ( { name = "A"; temperature = "th-a1/temperature"; humidity = "th-a1/humidity";
            lots = ( { id = "LOT-1"; product = "lychee"; loaded = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } ); },
          { name = "B"; temperature = "th-b1/temperature"; profile = "lychee"; } );
alarms = { shelf_life_interval = "1s"; rate_limit = 0.0; stuck_after = "0s"; };
modbus = (
  { name = "tcp-1"; tcp = { host = "127.0.0.1"; port = $SIM_PORT; }; interval = "300ms";
    devices = ( { name = "th-a1"; unit = 1; room = "A";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; },
                 { channel = "humidity"; table = "input"; address = 1; type = "int16"; scale = 0.1; unit = "%"; } ); },
                { name = "th-b1"; unit = 2; room = "B";
      points = ( { channel = "temperature"; table = "input"; address = 0; type = "int16"; scale = 0.1; unit = "C"; } ); } ); }
);
CONF
	config_outputs
} >"$DAEMON_CONF"
start_daemon

# --- the socket: mode 0660, group adm
expect_eq "control socket mode and group" "$(stat -c '%a %G %F' "$SOCK")" "660 adm socket"

ctl() { local c=$1; shift; "$CTL" "$c" -c "$DAEMON_CONF" "$@"; }
status_json() { ctl status --json >"$T/status.json" 2>"$T/status.err"; }
jq_status() { json_eval "$1" <"$T/status.json"; }
alarm_listed() { ctl alarms --json | json_eval '[a for a in d["alarms"] if a["id"] == "A/temp_high"][0]["id"]'; }

wait_for "A/temp_high active" alarm_listed || die "A/temp_high never became active"
status_json || die "status --json failed: $(cat "$T/status.err")"
expect_eq "status: rooms" "$(jq_status '",".join(r["name"] for r in d["rooms"])')" "A,B"
expect_eq "status: room A temperature channel" \
	"$(jq_status '[x for x in d["rooms"][0]["readings"] if x["role"] == "temperature"][0]["channel"]')" "th-a1/temperature"
expect_num "status: room A temperature value" \
	"$(jq_status '[x for x in d["rooms"][0]["readings"] if x["role"] == "temperature"][0]["value"]')" 8
expect_eq "status: room A temperature quality" \
	"$(jq_status '[x for x in d["rooms"][0]["readings"] if x["role"] == "temperature"][0]["quality"]')" good
check "status: reading age is a small number of seconds" \
	"$PY" -c "import sys; sys.exit(0 if 0 <= $(jq_status 'd["rooms"][0]["readings"][0]["age_s"]') < 30 else 1)"
expect_eq "status: lot LOT-1 in room A" "$(jq_status 'd["rooms"][0]["lots"][0]["id"]')" LOT-1
check "status: LOT-1 has a consumed fraction and remaining hours" \
	"$PY" -c "import sys; sys.exit(0 if 0 <= $(jq_status 'd["rooms"][0]["lots"][0]["consumed"]') < 1 and $(jq_status 'd["rooms"][0]["lots"][0]["remaining_h"]') > 0 else 1)"
expect_eq "status: the active alarm" "$(jq_status '[a["state"] for a in d["alarms"] if a["id"] == "A/temp_high"][0]')" active
ctl status >"$T/status.txt" 2>&1
check "status (table) names the room, the lot and the alarm" \
	grep -q "LOT-1" "$T/status.txt" && grep -q "A/temp_high" "$T/status.txt" && grep -q "th-a1/temperature" "$T/status.txt"

# --- ack with a note: an alert event with user and note in InfluxDB
ctl ack A/temp_high --note "technician called" >"$T/ack.out" 2>&1
expect_eq "ack exit status" "$?" 0
expect_eq "alarm state after ack" "$(ctl alarms --json | json_eval '[a["state"] for a in d["alarms"] if a["id"] == "A/temp_high"][0]')" acked
wait_for "the ack event in InfluxDB" influx_has "SELECT note FROM alert WHERE event='ack' AND rule='temp_high' AND room='A'" ||
	fail "no ack event in InfluxDB"
expect_eq "ack event user" "$(influx_query "SELECT \"user\" FROM alert WHERE event='ack'" | json_eval 'd["results"][0]["series"][0]["values"][0][1]')" "$(id -un)"
expect_eq "ack event note" "$(influx_scalar "SELECT note FROM alert WHERE event='ack'")" "technician called"

# --- errors: unknown alarm, room, product, lot (exit 1, valid names listed)
ctl ack A/nonesuch >"$T/e1.out" 2>&1
expect_eq "ack of an unknown alarm: exit status" "$?" 1
check "unknown alarm: the active ids are listed" grep -q "active alarms: .*A/temp_high" "$T/e1.out"
ctl lot load Z LOT-9 lychee >"$T/e2.out" 2>&1
expect_eq "lot load into an unknown room: exit status" "$?" 1
check "unknown room: the rooms are listed" grep -q "rooms: A, B" "$T/e2.out"
ctl lot load B LOT-9 mango >"$T/e3.out" 2>&1
expect_eq "lot load of an unknown product: exit status" "$?" 1
check "unknown product: the profiles are listed" grep -q "profiles: lychee, longan" "$T/e3.out"
ctl lot move NOLOT A >"$T/e4.out" 2>&1
expect_eq "lot move of an unknown lot: exit status" "$?" 1
check "unknown lot: the lots are listed" grep -q "lots: LOT-1" "$T/e4.out"
ctl shelve A/temp_high soon >/dev/null 2>&1
expect_eq "shelve with a bad duration: exit status (usage)" "$?" 2

# --- shelve expires by itself
ctl shelve A/temp_high 2s --note "maintenance" >/dev/null 2>&1
expect_eq "shelve exit status" "$?" 0
shelved() { ctl alarms --json | json_eval '[a for a in d["alarms"] if a["id"] == "A/temp_high"][0]["shelved"]'; }
expect_eq "shelved right after shelve" "$(shelved)" True
not_shelved() { [ "$(shelved)" = False ]; }
check "the shelve expired by itself" wait_for "shelve expiry" -t 30 not_shelved
wait_for "the unshelve event (user system)" influx_has "SELECT state FROM alert WHERE event='unshelve' AND \"user\"='system'" ||
	fail "no unshelve event by system in InfluxDB"

# --- lots: load (in the past), move (keeps consumed), survive kill -9, unload
ctl lot load B LOT-2 longan --at 2020-06-01T00:00:00Z >/dev/null 2>&1
expect_eq "lot load exit status" "$?" 0
ctl lot load A LOT-2 lychee >/dev/null 2>&1
expect_eq "loading a lot id twice: exit status" "$?" 1
lot_field() { ctl status --json | json_eval "[l[\"$2\"] for r in d[\"rooms\"] for l in r[\"lots\"] if l[\"id\"] == \"$1\"][0]"; }
lot_room() { ctl status --json | json_eval "[r[\"name\"] for r in d[\"rooms\"] for l in r[\"lots\"] if l[\"id\"] == \"$1\"][0]"; }
expect_eq "LOT-2 is in room B" "$(lot_room LOT-2)" B
lot2_observed() { "$PY" -c "import sys; sys.exit(0 if float('$(lot_field LOT-2 observed_h)' or 0) > 0 else 1)"; }
wait_for "LOT-2 observes room B" lot2_observed || fail "LOT-2 never observed a reading"
c_before=$(lot_field LOT-1 consumed)
ctl lot move LOT-1 B >/dev/null 2>&1
expect_eq "lot move exit status" "$?" 0
expect_eq "LOT-1 is in room B" "$(lot_room LOT-1)" B
c_after=$(lot_field LOT-1 consumed)
check "the moved lot keeps its consumed fraction ($c_before -> $c_after)" \
	"$PY" -c "import sys; sys.exit(0 if $c_after >= $c_before > 0 else 1)"
ctl lot move LOT-1 B >/dev/null 2>&1
expect_eq "moving a lot to its own room: exit status" "$?" 1

# the snapshot is written within a second of a change: wait for it, not a time
snap_has_move() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if any(l["id"] == "LOT-1" and l["room"] == "B" for l in d["lots"])
         and any(l["id"] == "LOT-2" and l.get("runtime") for l in d["lots"]) else 1)' "$T/state/engine.state"
}
wait_for "the snapshot holds the move" snap_has_move || fail "engine.state never showed LOT-1 in room B"
c_kill=$(lot_field LOT-1 consumed)
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
forget_pid "$DAEMON_PID"
ctl status >"$T/down.out" 2>&1
expect_eq "daemon down: exit status" "$?" 3
check "daemon down: the message names the socket" grep -q "cannot reach coldchaind at $SOCK" "$T/down.out"
: >"$DAEMON_LOG"
start_daemon
expect_eq "after kill -9: LOT-1 still in room B" "$(lot_room LOT-1)" B
expect_eq "after kill -9: LOT-2 still in room B" "$(lot_room LOT-2)" B
expect_eq "after kill -9: LOT-2 still a longan lot" "$(lot_field LOT-2 product)" longan
check "after kill -9: LOT-1 resumes its consumed fraction (>= $c_kill)" \
	"$PY" -c "import sys; sys.exit(0 if $(lot_field LOT-1 consumed) >= $c_kill else 1)"
ctl lot unload LOT-2 >/dev/null 2>&1
expect_eq "lot unload exit status" "$?" 0
check "LOT-2 is gone" test -z "$(lot_room LOT-2 2>/dev/null)"

# --- hostile clients: garbage, oversized, half a line held open
"$PY" - "$SOCK" >"$T/hostile.out" 2>&1 <<'PYEOF'
import json, os, socket, sys
sys.path.insert(0, os.environ["CC_ITEST_DIR"])
from ctl_client import exchange
path = sys.argv[1]
def ask(data):
    return json.loads(exchange(path, data, timeout=30).split(b"\n")[0])
# a client that sends half a request and waits: it must block no one
held = socket.socket(socket.AF_UNIX)
held.connect(path)
held.sendall(b'{"cmd":"sta')
for data in [b"garbage\n", b"{}\n", b"[1,2]\n", b'{"cmd":42}\n', b'{"cmd":"nonesuch"}\n',
             b'{"cmd":"ack"}\n', b'{"cmd":"ack","id":"A/temp_high","user":""}\n',
             b'{"cmd":"shelve","id":"A/temp_high","duration":"-5s"}\n', b"\xff\xfe\x00\n",
             b"x" * 70000 + b"\n"]:
    r = ask(data)
    assert r["ok"] is False and r["error"], (data[:40], r)
r = ask(b'{"cmd":"status"}\n{"cmd":"alarms"}\n')
assert r["ok"] is True, r
held.sendall(b'tus"}\n')
buf = b""
while b"\n" not in buf:
    buf += held.recv(65536)
assert json.loads(buf)["ok"] is True
print("hostile requests answered")
PYEOF
check "garbage, oversized and held-open requests are answered with errors" grep -q "hostile requests answered" "$T/hostile.out" ||
	sed 's/^/  | /' "$T/hostile.out"
check "the daemon is still alive after hostile requests" pid_alive "$DAEMON_PID"

# --- reload through the socket: the engine's state is handed over in
# memory (issue 18), as the state file would have it: the moved configured
# lot stays moved, a lot loaded at run time stays with its product, the
# alarms keep their states; and the state file gets the new engine's
# state right after, so a kill -9 then loses none of it
ctl lot load A LOT-3 longan --at 2020-06-01T00:00:00Z >/dev/null 2>&1
expect_eq "lot load before the reload: exit status" "$?" 0
lot3_consumed() { "$PY" -c "import sys; sys.exit(0 if float('$(lot_field LOT-3 consumed)' or 0) > 0 else 1)"; }
wait_for "LOT-3 observes room A" lot3_consumed || fail "LOT-3 never observed a reading"
ctl ack A/temp_high --user an --note "before the reload" >/dev/null 2>&1
alarm_states() { ctl alarms --json | json_eval '" ".join(sorted(a["id"] + "=" + a["state"] for a in d["alarms"]))'; }
states_before=$(alarm_states)
c3_before=$(lot_field LOT-3 consumed)
: >"$DAEMON_LOG"
ctl reload >"$T/reload.out" 2>&1
expect_eq "reload exit status" "$?" 0
check "reload: the daemon logged it" grep -q "configuration reloaded" "$DAEMON_LOG"
check "reload: the state was kept in memory, not read back from the file" \
	grep -q "state kept over the reload: restored [1-9][0-9]* alarms\?, 2 lots" "$DAEMON_LOG"
ctl status --json >/dev/null 2>&1
expect_eq "status after reload" "$?" 0
expect_eq "after the reload: LOT-1 still in room B" "$(lot_room LOT-1)" B
expect_eq "after the reload: LOT-3 still in room A" "$(lot_room LOT-3)" A
expect_eq "after the reload: LOT-3 still a longan lot" "$(lot_field LOT-3 product)" longan
check "after the reload: LOT-3 keeps its consumed fraction (>= $c3_before)" \
	"$PY" -c "import sys; sys.exit(0 if $(lot_field LOT-3 consumed) >= $c3_before > 0 else 1)"
expect_eq "after the reload: the alarms' states" "$(alarm_states)" "$states_before"
wait_for "the state file written after the reload" grep -q "reload: state file written" "$DAEMON_LOG" ||
	fail "no 'reload: state file written' line"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
forget_pid "$DAEMON_PID"
: >"$DAEMON_LOG"
start_daemon
expect_eq "kill -9 after the reload: LOT-3 still in room A" "$(lot_room LOT-3)" A
expect_eq "kill -9 after the reload: LOT-1 still in room B" "$(lot_room LOT-1)" B
"$CTL" status --socket "$T/nonesuch.sock" >/dev/null 2>&1
expect_eq "a socket that does not exist: exit status" "$?" 3

# --- a clean stop removes the socket; a file that is not a socket is never replaced
stop_daemon
expect_eq "stop exit status" "$?" 0
check "the socket is removed at a clean stop" test ! -e "$SOCK"
echo "precious" >"$SOCK"
timeout 60 "$COLDCHAIND" -c "$DAEMON_CONF" >"$T/refuse.log" 2>&1
expect_eq "start with a regular file at the socket path: exit status" "$?" 1
check "the refusal says why" grep -q "exists and is not a socket" "$T/refuse.log"
expect_eq "the file is untouched" "$(cat "$SOCK")" precious

finish
