#!/bin/bash
# The daemon's Modbus TCP framing (codec/mbap.c, drivers/modbus.c) against
# a gateway that misbehaves on cue (tests/integration/modbus_tcp_faults.py,
# Python's sockets, not our code): a reply in three parts is read whole; an
# exception, a silent unit, a reply of another function, byte count or
# protocol, a reply cut short and a closed connection each fail their own
# request only, counted as such, and the next request reads; a reply that
# comes after its request's timeout is dropped, said once in the log, and
# the request it came in front of still reads (libmodbus fails that one).
# Each good reading holds the number of the request it answered.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

rm -f "$T/gw.ready"
start_bg gateway "$T/gw.log" "$PY" "$TESTS_DIR/integration/modbus_tcp_faults.py" --ready-file "$T/gw.ready"
GW_PID=$LAST_PID
gw_ready() { [ -s "$T/gw.ready" ] || ! pid_alive "$GW_PID"; }
wait_for "fault gateway" gw_ready
[ -s "$T/gw.ready" ] || { show_log "$T/gw.log"; die "the fault gateway did not start"; }
GW_PORT=$(cat "$T/gw.ready")

OUT=$T/points.lp
STATS_INTERVAL=1s
{
	config_head
	cat <<CONF
modbus = (
  { name = "gw";
    tcp = { host = "127.0.0.1"; port = $GW_PORT; };
    timeout = "1s"; byte_timeout = "500ms"; interval = "100ms"; backoff_max = "1s";
    devices = (
      { name = "u1"; unit = 3;
        points = ( { channel = "t"; quantity = "temperature"; unit = "C";
                     table = "holding"; address = 0; type = "uint16"; } ); }
    ); }
);
outputs = { file = ( { name = "f"; path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
start_daemon

# good_values: the values of the good readings, in the order written
good_values() {
	"$PY" - "$OUT" <<'PY'
import sys
vals = []
try:
    for line in open(sys.argv[1], errors="replace"):
        parts = line.rstrip("\n").split(" ")
        if len(parts) == 3 and parts[0].startswith("temperature,") and parts[1].startswith("value="):
            vals.append(int(float(parts[1].split(",")[0][6:])))
except FileNotFoundError:
    pass
print(" ".join(str(v) for v in vals))
PY
}
past_script() { [[ " $(good_values) " == *" 15 "* ]] || ! pid_alive "$DAEMON_PID"; }
wait_for "the readings past the gateway's script (request 15)" -t 60 past_script ||
	{ show_log "$T/gw.log"; show_log "$DAEMON_LOG"; }
pid_alive "$DAEMON_PID" && pass "the daemon runs on through every fault" || fail "the daemon exited"
stop_daemon >/dev/null

vals=$(good_values)
# Requests 1, 2 (split), 5 and 6 (each behind a late reply), 11, 13 (on
# the new connection) and on: one reading each, in order, nothing else.
got=$(echo "$vals" | tr ' ' '\n' | awk '$1 <= 14' | tr '\n' ' ' | sed 's/ $//')
expect_eq "the requests whose answers were read, in order" "$got" "1 2 5 6 11 13 14"
# Each failed request records a comm_error reading in its slot.
nfail=$(grep -c '^temperature,.* quality="comm_error"' "$OUT")
[ "${nfail:-0}" -ge 7 ] && pass "failed requests recorded as comm_error ($nfail)" ||
	fail "only ${nfail:-0} comm_error readings, want >= 7 (requests 3, 4, 7, 8, 9, 10, 12)"

# The unit's counters in its last self-metrics line.
read -r exc tmo err < <("$PY" - "$OUT" <<'PY'
import sys
last = None
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("coldchaind_modbus,") and ",sensor=u1" in line:
        last = line
f = dict(kv.split("=", 1) for kv in last.split(" ")[1].split(","))
print(f["exceptions"].rstrip("i"), f["timeouts"].rstrip("i"), f["errors"].rstrip("i"))
PY
)
expect_eq "exceptions counted (request 3)" "$exc" 1
expect_eq "timeouts counted (request 4 silent, request 10 cut)" "$tmo" 2
expect_eq "errors counted (requests 3, 4, 7, 8, 9, 10, 12)" "$err" 7

# The log names each kind once (repeats of a kind are rate-limited).
check "exception named" file_has "Slave device or server failure" "$DAEMON_LOG"
check "bad replies named" file_has "u1) holding 0..0: Invalid data" "$DAEMON_LOG"
check "the timeout named" file_has "Connection timed out after 1000 ms; backing off" "$DAEMON_LOG"
n=$(grep -c "a reply came after the 1000 ms timeout of its request and was dropped" "$DAEMON_LOG")
expect_eq "the late reply said once (two came within a minute)" "${n:-0}" 1
check "the closed connection reopened" file_has "bus gw: connected to 127.0.0.1:$GW_PORT again" "$DAEMON_LOG"
n=$(grep -c '^connection$' "$T/gw.log")
expect_eq "connections the gateway saw" "$n" 2
[ "$FAILS" -eq 0 ] || { show_log "$T/gw.log"; show_log "$DAEMON_LOG"; }
finish
