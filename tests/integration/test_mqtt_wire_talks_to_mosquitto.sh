#!/bin/bash
# codec/mqtt_wire against a stock broker, MQTT 3.1.1 and 5: mqtt_raw_sub
# (all its packets built and parsed by the codec) connects to Debian's
# mosquitto with a persistent session, subscribes at QoS 1 and receives
# what mosquitto_pub sends: numbers, JSON, UTF-8 topics, a 200 KB payload
# and a burst of 50; every topic, size and FNV-1a matches what was sent.
# Then the broker's own view: the same client reconnects, mosquitto says
# its session is present (CONNACK), redelivers nothing (every PUBACK was
# taken), and the next message published is the first one it gets.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
SUB=$BUILD_DIR/bench/mqtt_raw_sub
need_bin "$SUB"
command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null || skip "mosquitto or mosquitto_pub missing"

start_mosquitto

"$PY" -c 'import os, sys; open(sys.argv[1], "wb").write(bytes((i * 131 + 7) % 256 for i in range(200 * 1024)))' "$T/big.bin"
seq 1 50 | sed 's/^/{"t": 4.5, "rh": 91, "n": /; s/$/}/' >"$T/burst.txt"

# expected_lines V: the "msg TOPIC SIZE FNV1A" lines mqtt_raw_sub -v must print
expected_lines() {
	"$PY" - "$1" "$T" <<'PYEOF'
import sys
v, t = sys.argv[1], sys.argv[2]
def fnv(b):
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xffffffff
    return "%08x" % h
msgs = [("wire/v%s/kho-lạnh/nhiệt-độ" % v, b"3.5"),
        ("wire/v%s/a" % v, b'{"t": 2.25, "time": 1700000000000000}'),
        ("wire/v%s/phòng/ẩm" % v, b"91"),
        ("wire/v%s/big" % v, open(t + "/big.bin", "rb").read())]
msgs += [("wire/v%s/burst" % v, l.rstrip(b"\n")) for l in open(t + "/burst.txt", "rb")]
for topic, p in msgs:
    print("msg %s %d %s" % (topic, len(p), fnv(p)))
PYEOF
}

publish_all() {
	local v=$1 pv=mqttv311
	[ "$v" = 5 ] && pv=mqttv5
	local P=(mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -V "$pv")
	"${P[@]}" -t "wire/v$v/kho-lạnh/nhiệt-độ" -m 3.5 &&
		"${P[@]}" -t "wire/v$v/a" -m '{"t": 2.25, "time": 1700000000000000}' &&
		"${P[@]}" -t "wire/v$v/phòng/ẩm" -m 91 &&
		"${P[@]}" -t "wire/v$v/big" -f "$T/big.bin" &&
		"${P[@]}" -t "wire/v$v/burst" -l <"$T/burst.txt"
}

sub_exited() { ! pid_alive "$1"; }
suback_or_exited() { grep -q '^suback 1' "$1" || ! pid_alive "$2"; }

for V in 4 5; do
	log1=$T/sub-v$V-1.log log2=$T/sub-v$V-2.log id=wire-itest-v$V
	expected_lines "$V" >"$T/expected-v$V"
	n=$(wc -l <"$T/expected-v$V")

	# run 1: a new persistent session; everything published is received and acked
	start_bg "mqtt_raw_sub v$V" "$log1" "$SUB" -p "$MQTT_PORT" -V "$V" -c -v -q 1 -i "$id" -t "wire/v$V/#" \
		-n "$n" -b 1048576 -T 60
	pid=$LAST_PID
	wait_for "v$V SUBACK" grep -q '^suback 1' "$log1" || die "v$V: no SUBACK: $(tail -3 "$log1")"
	publish_all "$V" || die "v$V: mosquitto_pub failed"
	wait_for "v$V subscriber done" sub_exited "$pid" || fail "v$V: the subscriber did not get $n messages"
	stop_pid "$pid" 5
	expect_eq "v$V subscriber exit status" "$?" 0
	expect_eq "v$V first CONNACK of a new session" "$(grep -m1 '^connack' "$log1")" "connack session_present=0"
	if diff <(sort "$T/expected-v$V") <(grep '^msg ' "$log1" | sort) >"$T/diff-v$V"; then
		pass "v$V: $n messages (UTF-8 topics, 200 KB, a burst of 50) with the topics, sizes and bytes sent"
	else
		fail "v$V: received messages differ from those sent:"
		head -20 "$T/diff-v$V"
	fi

	# run 2: the same session again; the broker must have nothing left unacked
	start_bg "mqtt_raw_sub v$V again" "$log2" "$SUB" -p "$MQTT_PORT" -V "$V" -c -v -q 1 -i "$id" \
		-t "wire/v$V/#" -n 1 -b 1048576 -T 60
	pid=$LAST_PID
	# (a redelivered message would end it before its SUBACK: -n 1)
	wait_for "v$V second SUBACK" suback_or_exited "$log2" "$pid" || die "v$V: no second SUBACK: $(tail -3 "$log2")"
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "wire/v$V/marker" -m after || die "marker publish failed"
	wait_for "v$V second subscriber done" sub_exited "$pid" || fail "v$V: the marker never came"
	stop_pid "$pid" 5
	expect_eq "v$V CONNACK of the resumed session" "$(grep -m1 '^connack' "$log2")" "connack session_present=1"
	expect_eq "v$V first message after reconnecting (nothing redelivered)" \
		"$(grep -m1 '^msg ' "$log2" | cut -d' ' -f2)" "wire/v$V/marker"
done
finish
