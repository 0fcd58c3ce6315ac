#!/bin/bash
# The MQTT thread's user-space instructions per message (issue 18 target 1):
# a steady figure next to bench_mqtt_e2e.sh's CPU time, which moves with the
# machine's load.  coldchaind runs under valgrind's callgrind, collecting
# only inside the MQTT network thread (loop_main: libmosquitto's reads and
# writes, decoding, the topic match, the journal append of each burst); the
# same publisher as bench_mqtt_e2e.sh (mqtt_pub_bench -j: JSON with a time
# field, QoS 1) sends BENCH_CG_N messages (default 20,000) through Debian's
# mosquitto; the points go to a file output.  Prints instructions per
# message and the functions that take most of them.  Figures only.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

N=${BENCH_CG_N:-20000}
PUB=$BUILD_DIR/bench/mqtt_pub_bench
if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
	echo "  SKIP: valgrind (callgrind) not installed (apt-get install valgrind)"
	exit 0
fi
[ -x "$PUB" ] || { echo "  $PUB missing: run 'make bench'"; exit 1; }
need_bin "$COLDCHAIND"
REAL=$COLDCHAIND
# start_daemon runs "$COLDCHAIND -n" first: only the daemon itself under callgrind
COLDCHAIND=$T/coldchaind-cg
cat >"$COLDCHAIND" <<WRAP
#!/bin/sh
[ "\$1" = -n ] && exec "$REAL" "\$@"
exec valgrind -q --tool=callgrind --callgrind-out-file="$T/cg.out" --collect-atstart=no \
	--toggle-collect=loop_main "$REAL" "\$@"
WRAP
chmod +x "$COLDCHAIND"

start_mosquitto "max_inflight_messages 1000"
OUT=$T/points.lp
{
	config_head
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-bench-cg"; };
  subscriptions = (
    { topic = "bench/{sensor}/temperature"; quantity = "temperature"; unit = "C"; qos = 1; },
    { topic = "benchj/{sensor}"; format = "json"; qos = 1; time = "time";
      fields = { temperature = { path = "t"; unit = "C"; }; humidity = { path = "rh"; unit = "%"; }; }; }
  );
};
outputs = { file = ( { path = "$OUT"; } ); };
CONF
} >"$DAEMON_CONF"
WAIT_TIMEOUT=120 start_daemon
WAIT_TIMEOUT=120 wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect"
"$PUB" -p "$MQTT_PORT" -q 1 -n "$N" -w 1000 -i pub-cg -j >"$T/pub.txt" || die "publisher failed"
WAIT_TIMEOUT=300 wait_for "the last point" grep -q 'sensor=last' "$OUT" || die "the last point never arrived"
stop_daemon 120 || true
[ -n "${BENCH_CG_KEEP:-}" ] && cp "$T/cg.out" "$BENCH_CG_KEEP"
ir=$(callgrind_annotate "$T/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
[ -n "$ir" ] || die "no callgrind totals"
echo "  MQTT thread, JSON with a time field at QoS 1, $N messages: $(awk -v i="$ir" -v n="$N" 'BEGIN { printf "%.0f", i / n }') instructions per message (user space)"
# The issue's target is CPU per point (≤ 5 µs, bench_mqtt_e2e.sh measures it,
# kernel included); instructions are not time, so this line gives the user-space
# share of it at one instruction per cycle at the CPU's clock, never a verdict.
# Every message but the last is JSON with two fields: two points.
mhz=$(awk -F: '/^cpu MHz/ { printf "%.0f", $2; exit }' /proc/cpuinfo)
awk -v i="$ir" -v n="$N" -v mhz="${mhz:-0}" 'BEGIN {
	pp = i / n / 2
	printf "  instructions per message %.0f (for the ≤ 5 µs target: %.0f per point in the MQTT thread'"'"'s user space", i / n, pp
	if (mhz > 0) printf ", %.2f µs per point at 1 instruction per cycle at %.0f MHz", pp / mhz, mhz
	print "; the target itself is bench_mqtt_e2e.sh'"'"'s cpu per point, system calls included)"
}'
echo "  where they went (each function's own instructions per message, top 12):"
callgrind_annotate "$T/cg.out" 2>/dev/null | awk '/file:function/ { on = 1; next } on && /^-/ { next } on && NF { print; if (++k == 12) exit }' |
	awk -v n="$N" '{ c = $1; gsub(",", "", c); printf "    %8.0f  %s\n", c / n, $(NF - 1) }'
PASSES=1 # lib.sh's finish wants a result; a bench has none
finish
