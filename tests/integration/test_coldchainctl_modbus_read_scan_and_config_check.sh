#!/bin/bash
# The technician tools: `coldchainctl modbus read` shows the raw words and
# every decoding, so a float32 CDAB and an int32 BADC are found by eye;
# `modbus scan` lists the units that answer (a dead unit and an unknown one
# behind a gateway do not); `config check` is coldchaind -n.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$CTL" "$MODBUS_SIM"

printf '%s\n' '1 holding 0 float32 CDAB 3.5' '1 holding 2 int32 BADC -123456' \
	'2 input 0 int16 ABCD 915' '3 dead' >"$T/sim.map"
start_sim sim --tcp 127.0.0.1:0 --map "$T/sim.map"

"$CTL" modbus read --tcp "127.0.0.1:$SIM_PORT" --unit 1 --table holding --address 0 --count 4 >"$T/read.out" 2>&1 &&
	pass "modbus read exits 0" || fail "modbus read failed: $(cat "$T/read.out")"
check "the raw words are shown in hex" grep -qE '^ +1 +0x4060 ' "$T/read.out"
check "float32 CDAB at 0 decodes to 3.5" grep -qE '^ +0 +CDAB .* 3\.5$' "$T/read.out"
check "int32 BADC at 2 decodes to -123456" grep -qE '^ +2 +BADC +-123456 ' "$T/read.out"

"$CTL" modbus read --tcp "127.0.0.1:$SIM_PORT" --unit 2 --table input --address 0 --scale 0.1 >"$T/scaled.out" 2>&1
check "--scale applies to the 16-bit view (915 x 0.1 = 91.5)" grep -qE '^ +0 +0x0393 +91\.5 +91\.5' "$T/scaled.out"

"$CTL" modbus read --tcp "127.0.0.1:$SIM_PORT" --unit 3 --table holding --address 0 --timeout 300ms \
	>"$T/dead.out" 2>&1 && st=0 || st=$?
check "reading a dead unit exits 1 with a hint" grep -q "timed out (wrong unit id" "$T/dead.out"
check "reading a dead unit exits 1" [ "$st" = 1 ]

"$CTL" modbus scan --tcp "127.0.0.1:$SIM_PORT" --from 1 --to 6 --timeout 200ms >"$T/scan.out" 2>&1 ||
	fail "modbus scan failed: $(cat "$T/scan.out")"
check "scan finds units 1 and 2" grep -q 'unit   1 answers' "$T/scan.out"
check "scan finds unit 2" grep -q 'unit   2 answers' "$T/scan.out"
check "scan does not report the dead unit 3 nor unknown units" [ "$(grep -c answers "$T/scan.out")" = 2 ]
check "scan says how many answered" grep -q '^2 units answered' "$T/scan.out"

# RTU: the same tool over a serial pty pair.
start_bg socat "$T/socat.log" socat pty,raw,echo=0,link="$T/ttyA" pty,raw,echo=0,link="$T/ttyB"
wait_for "pty pair" test -e "$T/ttyB" || die "socat made no pty pair"
start_sim rtu --rtu "$T/ttyA" --baud 19200 --map "$T/sim.map"
"$CTL" modbus read --rtu "$T/ttyB:19200:8N1" --unit 1 --table holding --address 0 --count 2 >"$T/rtu.out" 2>&1
check "modbus read over RTU decodes float32 CDAB 3.5" grep -qE '^ +0 +CDAB .* 3\.5$' "$T/rtu.out"

"$CTL" config check "$ROOT_DIR/config/coldchaind.conf.example" >"$T/ok.out" 2>&1 && st=0 || st=$?
check "config check on a good file: configuration OK, exit 0" [ "$st" = 0 -a "$(cat "$T/ok.out")" = "configuration OK" ]
"$CTL" config check "$ROOT_DIR/tests/config/bad/many-errors.conf" >"$T/bad.out" 2>&1 && st=0 || st=$?
check "config check on a bad file: the errors, exit 1" [ "$st" = 1 -a "$(wc -l <"$T/bad.out")" -gt 5 ]
"$CTL" modbus read --tcp "127.0.0.1:$SIM_PORT" --unit 1 --table holdings --address 0 >/dev/null 2>&1 && st=0 || st=$?
check "a usage error exits 2" [ "$st" = 2 ]
finish
