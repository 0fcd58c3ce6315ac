#!/bin/bash
# The Modbus simulator stands in for a gateway in bench_modbus.sh (issue 18
# target 6), whose bound is transactions x turnaround: a reply that left
# before its turnaround would make coldchaind look faster than it is.  The
# simulator's turnaround runs from the request's arrival (the kernel's stamp
# of its last segment, moved from the wall clock onto the monotonic one)
# and spins its last --turnaround-spin-us.  A Python client (plain sockets,
# not our code) checks, from its own clock:
#   - 100 whole requests: no reply comes sooner than the turnaround after
#     the request was sent, and each holds the served register;
#   - 20 requests sent in two parts 40 ms apart (the kernel stamps the first
#     part alone): no reply comes sooner than the turnaround after the last
#     part, so the turnaround did not start at the first;
# and the simulator's own account at exit covers all 120 replies, none
# delivered under the turnaround asked.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$MODBUS_SIM"

TURN_MS=50
printf '1 holding 0 uint16 - 4242\n' >"$T/map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/map" --turnaround-ms "$TURN_MS" --turnaround-spin-us 300

"$PY" - "$SIM_PORT" "$TURN_MS" >"$T/client.out" 2>&1 <<'PY'
import socket, struct, sys, time

port, turn_ns = int(sys.argv[1]), int(sys.argv[2]) * 1000000
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

def reply(tid):
    r = b""
    while len(r) < 11:
        part = s.recv(64)
        if not part:
            raise SystemExit("bad the simulator closed the connection")
        r += part
    t = time.monotonic_ns()
    got_tid, _, _, _, fc, n, value = struct.unpack(">HHHBBBH", r)
    return t, (got_tid, fc, n, value) == (tid, 3, 2, 4242)

def run(label, count, split_s):
    early, wrong, least = 0, 0, None
    for i in range(count):
        tid = (len(label) * 1000 + i) & 0xFFFF
        req = struct.pack(">HHHBBHH", tid, 0, 6, 1, 3, 0, 1)
        if split_s:
            s.sendall(req[:5])
            time.sleep(split_s)  # the pause between the request's two parts
        t0 = time.monotonic_ns()
        s.sendall(req[5:] if split_s else req)
        t1, ok = reply(tid)
        wrong += not ok
        early += t1 - t0 < turn_ns
        least = t1 - t0 if least is None else min(least, t1 - t0)
    print("%s %s: %d replies, none sooner than the turnaround after the %s (shortest %.3f ms)"
          % ("ok" if early == 0 else "bad", label, count, "last part" if split_s else "request", least / 1e6))
    print("%s %s: every reply holds register 0 = 4242 for its transaction" % ("ok" if wrong == 0 else "bad", label))

run("whole requests", 100, 0)
run("requests in two parts 40 ms apart", 20, 0.040)
print("ok client ran to its end")
PY
client_verdicts "$T/client.out"

stop_pid "$SIM_PID" 5 >/dev/null 2>&1
forget_pid "$SIM_PID"
acct=$(grep '^turnaround asked' "$T/sim.log")
[ -n "$acct" ] || fail "the simulator printed no turnaround account: $(tail -n 3 "$T/sim.log")"
expect_eq "the simulator's account: turnaround asked (us)" "$(echo "$acct" | awk '{ print $3 }')" $((TURN_MS * 1000))
expect_eq "the simulator's account: replies" "$(echo "$acct" | awk '{ print $13 }')" 120
check "the simulator's account: mean delivered at least the turnaround ($acct)" \
	awk -v a="$(echo "$acct" | awk '{ print $7 }')" -v t=$((TURN_MS * 1000)) 'BEGIN { exit !(a >= t) }'

finish
