#!/bin/bash
# Every interval of every unit records something, however far behind the
# bus falls: four units behind one gateway that takes 40 ms a request,
# polled every 100 ms (a cycle needs 160 ms: the bus is saturated and each
# unit misses slots every poll), and then the daemon stopped (SIGSTOP) for
# 8 s, so that on SIGCONT each unit has some 80 slots to catch up, more than
# one hand-over to the pipeline holds (CATCH_UP_CHUNK, 64).  Each missed slot
# records one `stale` sample stamped at the slot's time: per unit, the
# records (readings and stale samples) number one per 100 ms over the
# window, none twice, no gap of three intervals, 75 or more stale samples in
# the stop.  Read back from the daemon's file output.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

UNITS="1 2 3 4"
for u in $UNITS; do echo "$u input 0 int16 ABCD $((40 + u))"; done >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map" --turnaround-ms 40

OUT=$T/points.lp
{
	config_head
	echo "modbus = ( { name = \"busy\"; tcp = { host = \"127.0.0.1\"; port = $SIM_PORT; };"
	echo "  timeout = \"1s\"; interval = \"100ms\"; devices = ("
	for u in $UNITS; do
		[ "$u" = 1 ] || echo ","
		echo "    { name = \"u$u\"; unit = $u; points = ( { channel = \"t\"; quantity = \"temperature\"; unit = \"C\";"
		echo "      table = \"input\"; address = 0; type = \"int16\"; } ); }"
	done
	echo "  ); } );"
	echo "outputs = { file = ( { name = \"f\"; path = \"$OUT\"; } ); };"
} >"$DAEMON_CONF"
start_daemon

# records UNIT [AFTER_NS]: "TS good|stale" of the unit's temperature lines
records() {
	"$PY" - "$OUT" "$1" "${2:-0}" <<'PY'
import sys
path, unit, after = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    for line in open(path, errors="replace"):
        parts = line.rstrip("\n").split(" ")
        if len(parts) != 3 or not parts[0].startswith("temperature,") or ",sensor=u%s," % unit not in parts[0] + ",":
            continue
        ts = int(parts[2])
        if ts <= after:
            continue
        kind = "good" if parts[1].startswith("value=") else "stale" if 'quality="stale"' in parts[1] else "other"
        print(ts, kind)
except FileNotFoundError:
    pass
PY
}
goods_after() { # goods_after NS N: every unit has N good readings after NS
	local u
	for u in $UNITS; do
		[ "$(records "$u" "$1" | grep -c ' good$')" -ge "$2" ] || return 1
	done
}
wait_for "ten readings of every unit" -t 60 goods_after 0 10 || die "the units were not read"
grep -q "poll(s) missed, the bus was busy" "$DAEMON_LOG" &&
	pass "a saturated bus: missed polls logged as stale" || fail "no 'poll(s) missed' in the log: is the bus saturated?"

t_stop=$(date +%s%N)
kill -STOP "$DAEMON_PID"
sleep 8 # the scenario: a stopped daemon (a debugger, a suspended VM), 80 intervals
kill -CONT "$DAEMON_PID"
t_cont=$(date +%s%N)
wait_for "readings 3 s past the stop" -t 60 goods_after $((t_cont + 3000000000)) 3 || die "no readings after SIGCONT"
stop_daemon >/dev/null

# The window: from 1 s into the first readings to 2 s after SIGCONT.
first=$(for u in $UNITS; do records "$u" | awk '$2 == "good" { print $1; exit }'; done | sort -n | tail -n 1)
w0=$((first + 1000000000)) w1=$((t_cont + 2000000000))
for u in $UNITS; do
	read -r n dup gap stale_in_stop other < <(records "$u" | "$PY" -c '
import sys
w0, w1, s0, s1 = (int(x) for x in sys.argv[1:5])
recs = [(int(t), k) for t, k in (l.split() for l in sys.stdin)]
win = sorted(t for t, k in recs if w0 <= t < w1)
gap = max((b - a for a, b in zip(win, win[1:])), default=0) // 1000000
stale_stop = sum(1 for t, k in recs if k == "stale" and s0 <= t < s1)
print(len(win), len(win) - len(set(win)), gap, stale_stop, sum(1 for t, k in recs if k == "other"))
' "$w0" "$w1" "$t_stop" "$t_cont")
	want=$(((w1 - w0) / 100000000))
	if [ "$n" -ge $((want - 3)) ] && [ "$n" -le $((want + 3)) ]; then
		pass "u$u: $n records in $(((w1 - w0) / 1000000)) ms at a 100 ms interval (want $want +- 3)"
	else
		fail "u$u: $n records in $(((w1 - w0) / 1000000)) ms at a 100 ms interval (want $want +- 3)"
	fi
	expect_eq "u$u: records stamped twice" "$dup" 0
	[ "$gap" -lt 300 ] && pass "u$u: longest gap $gap ms (< 3 intervals) through the 8 s stop" ||
		fail "u$u: a gap of $gap ms (want < 300 ms: every interval recorded)"
	[ "$stale_in_stop" -ge 75 ] && pass "u$u: $stale_in_stop stale samples stamped within the 8 s stop" ||
		fail "u$u: only $stale_in_stop stale samples stamped within the 8 s stop (want >= 75)"
	expect_eq "u$u: records neither good nor stale" "$other" 0
done
finish
