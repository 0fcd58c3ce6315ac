#!/bin/bash
# Scale-out: two coldchaind in one MQTT 5 shared subscription
# ($share/hub/...), QoS 1, persistent sessions, each with its own journal,
# both writing to one VictoriaMetrics.  20,000 messages at a steady rate; one
# member is killed with SIGKILL midway.  What stock mosquitto does with the
# dead member's messages (its src/subs.c: a plain round robin over the
# group's sessions, connected or not): the survivor keeps its own half and no
# more, the dead member's half is queued in its session.  So the test checks
# that those messages are missing while it is down (held, not redistributed),
# restarts it with the same client id and journal, and then that every
# published message is in the database exactly once (a point delivered twice
# is the same series, time and value, which VictoriaMetrics de-duplicates).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/integration/victoria_lib.sh
. "$(dirname "$0")/victoria_lib.sh"
need_bin "$COLDCHAIND"

N=${CC_SHARE_N:-20000}
RATE=${CC_SHARE_RATE:-1000} # messages per second
STATS_INTERVAL=1s
start_vm
start_mosquitto
member_conf() { # NAME
	SITE=site-$1 config_head | sed "s|state\";|state-$1\";|"
	cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-hub-$1"; protocol = "5";
             clean_session = false; };
  subscriptions = (
    { topic = "\$share/hub/coop/{room}/{sensor}"; qos = 1; format = "json"; time = "ts"; time_unit = "ms";
      fields = { temperature = "v"; }; }
  );
};
outputs = {
  influxdb = ( { name = "vm"; url = "$(vm_url)"; database = "hub"; batch = 2000; flush = "200ms";
                 backoff_max = "1s"; } );
};
journal = { fsync = "200ms"; };
CONF
}
for m in a b; do
	member_conf $m >"$T/$m.conf"
	mkdir -p "$T/state-$m"
	"$COLDCHAIND" -n -c "$T/$m.conf" >"$T/check-$m.out" 2>&1 || {
		sed 's/^/  | /' "$T/check-$m.out"
		die "config $m rejected"
	}
done
conn() { [ "$(grep -c 'mqtt broker .*: connected as' "$1")" -ge "${2:-1}" ]; }
declare -A MEMBER_PID
start_member() { # NAME
	start_bg "coldchaind-$1" "$T/$1.log" "$COLDCHAIND" -c "$T/$1.conf"
	MEMBER_PID[$1]=$LAST_PID
}
start_member a
start_member b
wait_for "a connected" conn "$T/a.log" || die "member a did not connect"
wait_for "b connected" conn "$T/b.log" || die "member b did not connect"

# A steady publisher: message i carries value i and time base+i ms; its
# progress goes to a file so the kill can come midway.
base=$(($(date +%s) * 1000 - 600000))
"$PY" - "$N" "$RATE" "$base" "$T/published" <<'PYEOF' |
import sys, time
n, rate, base, prog = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()
for i in range(1, n + 1):
    ahead = t0 + i / rate - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)
    sys.stdout.write('{"v": %d, "ts": %d}\n' % (i, base + i))
    if i % 100 == 0 or i == n:
        sys.stdout.flush()
        open(prog, "w").write(str(i))
PYEOF
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -i cc-itest-hub-pub -t coop/R1/th-1 -l >"$T/pub.log" 2>&1 &
PUB_PID=$!
PIDS+=("$PUB_PID")
published() { cat "$T/published" 2>/dev/null || echo 0; }
half() { [ "$(published)" -ge $((N / 2)) ]; }
wait_for "half of the messages published" -t 300 half || die "the publisher stalled at $(published)"
kill -KILL "${MEMBER_PID[a]}"
wait "${MEMBER_PID[a]}" 2>/dev/null
forget_pid "${MEMBER_PID[a]}"
echo "  (member a killed with SIGKILL after $(published) of $N messages)"
wait "$PUB_PID" || fail "mosquitto_pub failed: $(cat "$T/pub.log")"
forget_pid "$PUB_PID"
expect_eq "messages published at QoS 1" "$(published)" "$N"

M='temperature_value{room="R1",sensor="th-1"}'
of() { echo "temperature_value{room=\"R1\",sensor=\"th-1\",site=\"site-$1\"}"; }
B_SAMPLES='coldchaind_mqtt_samples{site="site-b",subscription!=""}'
b_samples() { v=$(vm_last "$B_SAMPLES"); echo "${v:-0}"; }
# The survivor takes every second message (round robin): its half, once.
b_half() { [ "$(b_samples)" -ge $((N / 2)) ]; }
wait_for "member b took its half" -t 120 b_half || fail "member b took $(b_samples) of $N"
b_in_db() { [ "$(vm_distinct "$(of b)")" -ge $((N / 2)) ]; }
wait_for "member b's half in the database" -t 120 b_in_db
held=$((N - $(vm_distinct "$M")))
# About half of what came after the kill (a quarter of N) waits for member a;
# a broker that moved them to member b would leave only the few in flight.
if [ "$held" -ge $((N / 8)) ]; then
	pass "while member a is down, $held messages are held in its session, not given to member b (b took $(b_samples))"
else
	fail "only $held of $N messages missing without member a (b took $(b_samples)): the broker gave member b the dead member's share"
fi

# The dead member comes back with its client id and journal.
start_member a
wait_for "a connected again" conn "$T/a.log" 2 ||
	die "member a did not reconnect"
all() { [ "$(vm_distinct "$M")" = "$N" ]; }
wait_for "all $N messages in the database" -t 180 all || fail "$(vm_distinct "$M") of $N messages in the database"
read -r samples distinct < <(vm_stats "$M")
echo "  (database: $samples samples exported, $distinct distinct times)"
# Every time base+i holds value i, and only the times 1..N exist.
vm_export "$M" | "$PY" -c 'import json, sys
n, base = int(sys.argv[1]), int(sys.argv[2])
bad, seen = [], set()
for line in sys.stdin:
    if not line.strip():
        continue
    d = json.loads(line)
    for t, v in zip(d["timestamps"], d["values"]):
        seen.add(t)
        if v != t - base:
            bad.append((t, v))
missing = set(range(base + 1, base + n + 1)) - seen
extra = seen - set(range(base + 1, base + n + 1))
print("missing %d extra %d wrong %d" % (len(missing), len(extra), len(bad)))
sys.exit(1 if missing or extra or bad else 0)' "$N" "$base" >"$T/verify.out"
st=$?
if [ "$st" = 0 ]; then
	pass "every one of the $N QoS 1 messages is in the database once, with its value ($(cat "$T/verify.out"))"
else
	fail "database against what was published: $(cat "$T/verify.out")"
fi
a_db=$(vm_distinct "$(of a)")
b_db=$(vm_distinct "$(of b)")
echo "  (stored by member a: $a_db, by member b: $b_db)"
# A figure, not a check: the survivor's CPU (user + system, since its start).
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }
echo "  (member b: $(cpu_s "${MEMBER_PID[b]}") s CPU for its $b_db messages; load average $(cut -d' ' -f1-3 /proc/loadavg))"
stop_pid "${MEMBER_PID[a]}" 30 || fail "member a exit status on SIGTERM"
stop_pid "${MEMBER_PID[b]}" 30 || fail "member b exit status on SIGTERM"
finish
