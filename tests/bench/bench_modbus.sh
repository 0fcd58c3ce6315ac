#!/bin/bash
# bench_modbus.sh - Modbus polling: 50 units with realistic, partly sparse
# register maps behind 1 and behind 4 TCP gateways (tests/modbus_sim with a
# fixed turnaround per request).  Reports transactions per cycle against
# the planner's minimum, and cycle time against transactions x turnaround
# (the bound: a gateway answers one request at a time).  Then the RTU view:
# bytes per cycle and the time 9600 8N1 makes the minimum.
# Where the time above the bound goes (issue 18 target 6), from
# /proc/.../schedstat over the run: the bus threads' CPU and their wait for
# a core, the simulators' the same, per cycle and per transaction; and the
# turnarounds the simulators delivered.  A simulator stands in for a
# gateway on its own hardware: its turnaround runs from the request's
# arrival (the kernel's stamp), and it spins the last BENCH_SIM_SPIN_US of
# it (300 us) instead of sleeping them, because this machine's timers wake
# ~100 us late (wake_probe measures that first) and a gateway's do not.
# BENCH_SIM_SPIN_US=0 shows the figures with the late wake-ups in.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/bench/bench_lib.sh
. "$(dirname "$0")/bench_lib.sh"
need_bin "$COLDCHAIND" "$MODBUS_SIM"

UNITS=${BENCH_UNITS:-50}
TURN=${BENCH_TURNAROUND_MS:-5}
RUN=${BENCH_SECONDS:-15}
SPIN=${BENCH_SIM_SPIN_US:-300}

# Per unit: bench_lib.sh's unit with its sparse registers (12 points, 6 of
# them mergeable across small gaps).
run_case() {
	local gws=$1 g u per ports=() sims=() conf lp bus0 bus1 sim0 sim1 p
	per=$(((UNITS + gws - 1) / gws)) conf=$T/bench-$gws.conf lp=$T/points-$gws.lp
	for ((g = 0; g < gws; g++)); do
		: >"$T/map-$g"
		for ((u = 1; u <= per && g * per + u <= UNITS; u++)); do bench_unit_map "$u" sparse >>"$T/map-$g"; done
		start_sim "sim$gws-$g" --tcp 127.0.0.1:0 --map "$T/map-$g" --turnaround-ms "$TURN" --turnaround-spin-us "$SPIN"
		ports+=("$SIM_PORT")
		sims+=("$SIM_PID")
		# A gateway is a device with its own CPU: the simulator standing in
		# for it runs at a real-time priority where allowed, so that what is
		# measured is coldchaind's share of the cycle, not the simulator's
		# wait for a core on a shared machine (it sleeps through its
		# turnarounds but for their spun end: ~6 % of a core, which it
		# takes from coldchaind when four share the two cores).  Printed
		# either way.
		chrt -f -p "${BENCH_SIM_RTPRIO:-10}" "$SIM_PID" >/dev/null 2>&1 && SIM_RT=yes || SIM_RT=no
	done
	{
		echo "site = \"bench\"; state_dir = \"$T/state-$gws\"; stats_interval = \"1s\";"
		echo "log = { level = \"info\"; };"
		echo "modbus = ("
		for ((g = 0; g < gws; g++)); do
			[ "$g" -gt 0 ] && echo ","
			echo "  { name = \"gw$g\"; tcp = { host = \"127.0.0.1\"; port = ${ports[$g]}; };"
			echo "    timeout = \"1s\"; interval = \"100ms\"; devices = ("
			for ((u = 1; u <= per && g * per + u <= UNITS; u++)); do
				[ "$u" -gt 1 ] && echo ","
				echo "      { name = \"g$g-u$u\"; unit = $u; points = ("
				bench_unit_points 10 sparse
				echo "      ); }"
			done
			echo "    ); }"
		done
		echo ");"
		echo "outputs = { file = ( { name = \"f\"; path = \"$lp\"; } ); };"
	} >"$conf"
	"$COLDCHAIND" -p -c "$conf" >"$T/plan-$gws" 2>&1 || { cat "$T/plan-$gws"; return 1; }
	minimum=$(grep -cE '^ *#   (input|holding|coil|discrete) ' "$T/plan-$gws")
	DAEMON_LOG=$T/daemon-$gws.log
	start_daemon "$conf"
	bus0=$(schedstat_sum "$DAEMON_PID" mb:) sim0=$(for p in "${sims[@]}"; do schedstat_sum "$p"; done | awk '{ c += $1; w += $2 } END { printf "%.0f %.0f\n", c, w }')
	sleep "$RUN" # a benchmark's measuring window, not synchronisation
	bus1=$(schedstat_sum "$DAEMON_PID" mb:) sim1=$(for p in "${sims[@]}"; do schedstat_sum "$p"; done | awk '{ c += $1; w += $2 } END { printf "%.0f %.0f\n", c, w }')
	stop_daemon >/dev/null
	# the turnarounds the simulators delivered (they print them at exit)
	for p in "${sims[@]}"; do stop_pid "$p" 5 >/dev/null 2>&1; done
	delivered=$(for ((g = 0; g < gws; g++)); do cat "$T/sim$gws-$g.log"; done |
		awk '/^turnaround asked/ { s += $7 * $13; n += $13 } END { if (n) printf "%.1f\n", s / n; else print "-" }')
	"$PY" - "$lp" "$UNITS" "$minimum" "$TURN" "$gws" "$T/plan-$gws" "$bus0 $bus1 $sim0 $sim1" "$RUN" "$SIM_RT" "$delivered" "$SPIN" <<'PY'
import re, sys
lp, units, minimum, turn, gws, planf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
ss = [int(x) for x in sys.argv[7].split()]
run_s = float(sys.argv[8])
sim_rt = sys.argv[9]
delivered_us = None if sys.argv[10] == "-" else float(sys.argv[10])
spin_us = int(sys.argv[11])
snaps = {}  # time -> {sensor: (requests, polls)}
for line in open(lp):
    if not line.startswith("coldchaind_modbus,"):
        continue
    head, fields, ts = line.rsplit(" ", 2)[0], line.split(" ")[1], int(line.rsplit(" ", 1)[1])
    sensor = re.search(r",sensor=([^,]+)", head).group(1)
    f = dict(kv.split("=") for kv in fields.split(","))
    snaps.setdefault(ts, {})[sensor] = (int(f["requests"].rstrip("i")), int(f["polls"].rstrip("i")))
times = sorted(t for t in snaps if len(snaps[t]) == units)
a, b = times[1], times[-2]   # skip start-up and the shutdown snapshot
req = sum(snaps[b][s][0] - snaps[a][s][0] for s in snaps[b])
polls = sum(snaps[b][s][1] - snaps[a][s][1] for s in snaps[b])
secs = (b - a) / 1e9
cycles = polls / units
tx_per_cycle = req / cycles
cycle_ms = secs * 1000 / cycles
bound_ms = tx_per_cycle * turn / gws
print("  %d gateway(s), %d units, turnaround %.0f ms: %.1f transactions/cycle (planner minimum %d), "
      "cycle %.1f ms vs bound %.1f ms = %.2fx (%d cycles in %.1f s)"
      % (gws, units, turn, tx_per_cycle, minimum, cycle_ms, bound_ms, cycle_ms / bound_ms, cycles, secs))
# per gateway and cycle: CPU and wait for a core of its bus thread and its
# simulator (schedstat over the whole run; cycles at the measured rate)
per = lambda a, b: (b - a) / 1e6 / gws / (run_s * 1000 / cycle_ms)
# The bound again with the turnarounds the simulator delivered, request
# arrived to reply sent: what is left of this machine's late timers after
# the spin, and the reply's send, are the simulator's, not coldchaind's.
if delivered_us:
    dbound_ms = tx_per_cycle * delivered_us / 1000 / gws
    print("  the simulator's turnarounds as delivered: mean %.3f ms for the %.0f ms asked (spinning the last %d us;"
          " the rest is the reply's send and this machine's timers); the bound with them %.1f ms: cycle %.3fx it"
          " (the bound as asked: %.3fx)"
          % (delivered_us / 1000, turn, spin_us, dbound_ms, cycle_ms / dbound_ms, cycle_ms / bound_ms))
print("  modbus cycle %.2fx the bound (target <= 1.05x), %d gateway(s), load average %s: above the bound %.1f ms a cycle;"
      " bus thread on CPU %.1f ms, waiting for a core %.1f ms; simulator (real-time priority: %s) on CPU %.1f ms, waiting for a core %.1f ms"
      % (cycle_ms / bound_ms, gws, open("/proc/loadavg").read().split()[0], cycle_ms - bound_ms,
         per(ss[0], ss[2]), per(ss[1], ss[3]), sim_rt, per(ss[4], ss[6]), per(ss[5], ss[7])))
# the same per transaction, beside what this machine charges any of them
# (wake_probe, printed before the cases): where the excess goes
tx_gw = tx_per_cycle / gws
over_us = (cycle_ms - bound_ms) * 1000 / tx_gw
parts = [per(ss[0], ss[2]) * 1000 / tx_gw, per(ss[4], ss[6]) * 1000 / tx_gw, (per(ss[1], ss[3]) + per(ss[5], ss[7])) * 1000 / tx_gw]
# the simulator's CPU is mostly its spin, inside the turnaround; with
# several gateways the times overlap on the two cores
print("    per transaction: %.0f us above the turnaround; bus thread on CPU %.0f us, simulator on CPU %.0f us"
      " (its spin included), waiting for a core %.0f us%s" % (over_us, parts[0], parts[1], parts[2],
      "" if gws == 1 else " (%d gateways share the cores: these overlap)" % gws))
# what the simulator's own lateness (delivered - asked, request arrived to
# reply sent) is of it, and what is left: the request's send and the
# reply's way back, the bus thread's wake-up, and coldchaind's work
if delivered_us:
    late_us = delivered_us - turn * 1000
    print("    of the %.0f us: the simulator's turnaround %.0f us late (delivered - asked); the other %.0f us are"
          " the request's send, the reply's way back and coldchaind" % (over_us, late_us, over_us - late_us))
if gws == 1:
    # RTU at 9600 8N1: 10 bits a byte on the wire (11 with parity), 3.5
    # character times of silence around each frame.
    byt = 0
    frames = 0
    for line in open(planf):
        m = re.match(r"\s*#\s+(input|holding|coil|discrete) \d+\.\.\d+ \((\d+) (reg|regs|bit|bits)", line)
        if not m:
            continue
        n = int(m.group(2))
        data = 2 * n if m.group(1) in ("input", "holding") else (n + 7) // 8
        byt += 8 + 5 + data
        frames += 2
    char_s = 10 / 9600
    t = byt * char_s + frames * 3.5 * char_s
    print("  RTU view: %d bytes per cycle in %d frames; at 9600 8N1 the line alone needs %.0f ms per cycle"
          % (byt, frames, t * 1000))
PY
}

# What this machine charges a transaction whoever makes it: a sleep of the
# turnaround overshoots, and a byte's round trip between two processes
# blocked on a socket (tests/bench/wake_probe.c).
if [ -x "$BUILD_DIR/bench/wake_probe" ]; then
	echo "  this machine, $TURN ms sleeps then a socket round trip (wake_probe, 200 rounds): $("$BUILD_DIR/bench/wake_probe" "$TURN" 200)"
else
	echo "  SKIP the machine's wake-up figures: no $BUILD_DIR/bench/wake_probe (make bench builds it)"
fi
run_case 1
run_case 4
