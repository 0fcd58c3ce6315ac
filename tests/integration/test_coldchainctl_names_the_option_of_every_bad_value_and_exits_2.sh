#!/bin/bash
# Every coldchainctl command given every kind of bad option value (0 where
# it is not allowed, negative, huge, not a number, empty, missing, a
# malformed --tcp/--rtu spec, an option the command does not take) exits 2
# (usage) with a message that names the option, and never shows memory past
# its arguments (a canary in the environment must not appear).  --rtu checks
# baud, data bits, parity and stop bits as the configuration's modbus.rtu
# does: the test takes the allowed values from `coldchaind -S`.  Under
# `make check` (BUILD_DIR=build-asan) every run is under ASan + UBSan and
# any sanitizer report fails the test.  Nothing here needs a daemon: the
# control-socket commands point at a socket that does not exist, so a value
# that slipped through would end in exit 3, not 2.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CTL=$BUILD_DIR/coldchainctl
need_bin "$CTL" "$COLDCHAIND"
NOSOCK=$T/nonesuch.sock
CANARY=cc-canary-4f1d9e
export CC_TEST_CANARY="CANARY=$CANARY"
# ASan's own defaults when run alone (make check sets them too)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

HUGE=99999999999999999999
LONG=$(printf 'x%.0s' $(seq 1 200))
NOTE_LONG=$(printf 'n%.0s' $(seq 1 1025))
USER_LONG=$(printf 'u%.0s' $(seq 1 65))
N=0
BAD=0

# bad NAME CMD...: coldchainctl CMD... must exit 2 and name NAME.
bad() {
	local name=$1 st problems=
	shift
	N=$((N + 1))
	timeout 120 "$CTL" "$@" </dev/null >"$T/out" 2>"$T/err"
	st=$?
	[ "$st" -eq 2 ] || problems="exit status $st, not 2;"
	grep -q -F -- "$name" "$T/err" || problems="$problems the message does not name $name;"
	grep -q -F -- "$CANARY" "$T/err" "$T/out" && problems="$problems it printed the environment;"
	grep -q -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$T/err" && problems="$problems sanitizer report;"
	if [ -n "$problems" ]; then
		BAD=$((BAD + 1))
		echo "FAIL integration/$TEST_NAME: coldchainctl $* :$problems"
		head -n 3 "$T/err" | sed 's/^/  | /'
		grep -E -A 12 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$T/err" | head -n 30 | sed 's/^/  | /'
		FAILS=$((FAILS + 1))
	fi
}

# summary DESC: one PASS for the cases since the last summary when all held.
summary() {
	if [ "$BAD" -eq 0 ] && [ "$N" -gt 0 ]; then
		pass "$1: $N bad values, each refused with exit 2 naming the option"
	fi
	N=0
	BAD=0
}

# --- modbus read / scan: numbers (the bad value last: the reported bug read past it)
READ=(modbus read --tcp 127.0.0.1:9 --unit 1 --table holding --address 0)
for v in -1 256 "$HUGE" abc 1x "" " 1"; do bad --unit modbus read --tcp 127.0.0.1:9 --table holding --address 0 --unit "$v"; done
bad --unit modbus read --tcp 127.0.0.1:9 --table holding --address 0 --unit
for v in -1 65536 "$HUGE" abc 0x "" 0xZZ; do bad --address modbus read --tcp 127.0.0.1:9 --unit 1 --table holding --address "$v"; done
bad --address modbus read --tcp 127.0.0.1:9 --unit 1 --table holding --address
for v in 0 -1 2001 "$HUGE" abc ""; do bad --count "${READ[@]}" --count "$v"; done
bad --count "${READ[@]}" --count
for v in 0 -0 abc nan inf 1e999 ""; do bad --scale "${READ[@]}" --scale "$v"; done
bad --scale "${READ[@]}" --scale
for v in 0 0ms -1s "${HUGE}s" 2h abc ""; do bad --timeout "${READ[@]}" --timeout "$v"; done
bad --timeout "${READ[@]}" --timeout
for v in holdings "" 3; do bad --table modbus read --tcp 127.0.0.1:9 --unit 1 --address 0 --table "$v"; done
bad --table modbus read --tcp 127.0.0.1:9 --unit 1 --address 0 --table
bad --bogus "${READ[@]}" --bogus
bad "give --tcp" modbus read --unit 1 --table holding --address 0
summary "modbus read: numbers and names"

for v in -1 256 "$HUGE" abc ""; do
	bad --from modbus scan --tcp 127.0.0.1:9 --from "$v"
	bad --to modbus scan --tcp 127.0.0.1:9 --to "$v"
done
bad --from modbus scan --tcp 127.0.0.1:9 --from
bad --to modbus scan --tcp 127.0.0.1:9 --to
bad --from modbus scan --tcp 127.0.0.1:9 --from 9 --to 3
bad --timeout modbus scan --tcp 127.0.0.1:9 --timeout 0
summary "modbus scan: unit range and timeout"

# --- malformed --tcp specs
for v in nocolon ":502" "127.0.0.1:" "127.0.0.1:0" "127.0.0.1:65536" "127.0.0.1:-1" "127.0.0.1:abc" \
	"127.0.0.1:$HUGE" "[]:502" "" "$LONG$LONG$LONG:502"; do
	bad --tcp modbus read --unit 1 --table holding --address 0 --tcp "$v"
	bad --tcp modbus scan --tcp "$v"
done
bad --tcp modbus scan --tcp
bad --rtu modbus scan --tcp 127.0.0.1:9 --rtu /dev/ttyUSB0:9600
summary "--tcp HOST:PORT: malformed specs"

# --- --rtu: the values the configuration refuses, from its own schema
# `coldchaind -S`: the schema as a Markdown table (key, type, default, range, ...)
"$COLDCHAIND" -S >"$T/schema.md" || die "coldchaind -S failed"
range_of() {
	"$PY" - "$T/schema.md" "$1" <<'PYEOF'
import re, sys
for line in open(sys.argv[1]):
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)]
    if len(cells) > 4 and cells[1] == "`modbus.rtu.%s`" % sys.argv[2]:
        print(cells[4].replace("\\|", " "))
PYEOF
}
BAUDS=$(range_of baud)
BITS=$(range_of data_bits)
STOPS=$(range_of stop_bits)
PARITIES=$(range_of parity)
[ -n "$BAUDS" ] && [ -n "$BITS" ] && [ -n "$STOPS" ] && [ -n "$PARITIES" ] ||
	die "coldchaind -S shows no range for modbus.rtu baud/data_bits/stop_bits/parity"
# the configuration's allowed values pass the spec parser (exit 1: no such device, not 2)
allowed=0
for b in $BAUDS; do
	for d in $BITS; do
		for p in $PARITIES; do
			for s in $STOPS; do
				P=$(printf '%s' "${p:0:1}" | tr '[:lower:]' '[:upper:]')
				timeout 60 "$CTL" modbus scan --rtu "$T/no-such-tty:$b:$d$P$s" >/dev/null 2>"$T/err"
				st=$?
				if [ "$st" -ne 1 ] || grep -q -E 'Sanitizer|runtime error:' "$T/err"; then
					fail "--rtu $T/no-such-tty:$b:$d$P$s (allowed by the config schema): exit $st, not 1"
					sed 's/^/  | /' "$T/err" | head -n 3
				else
					allowed=$((allowed + 1))
				fi
			done
		done
	done
done
check "every baud/data bits/parity/stop bits the configuration allows is accepted by --rtu ($allowed)" test "$allowed" -gt 0
for v in 0 -9600 9601 1 2147483648 "$HUGE" abc; do bad --rtu modbus scan --rtu "/dev/ttyUSB0:$v"; done
for v in 5 6 9; do bad --rtu modbus scan --rtu "/dev/ttyUSB0:9600:${v}N1"; done
for v in 0 3; do bad --rtu modbus scan --rtu "/dev/ttyUSB0:9600:8N$v"; done
for v in X M S n; do bad --rtu modbus scan --rtu "/dev/ttyUSB0:9600:8${v}1"; done
for v in /dev/ttyUSB0 "/dev/ttyUSB0:" /dev/ttyUSB0:9600: /dev/ttyUSB0:9600:8N /dev/ttyUSB0:9600:8N1x \
	/dev/ttyUSB0:8N1 ttyUSB0:9600 ":9600" "" "/dev/$LONG$LONG:9600"; do
	bad --rtu modbus read --unit 1 --table holding --address 0 --rtu "$v"
done
bad --rtu modbus scan --rtu
summary "--rtu DEVICE:BAUD[:8N1]: what the configuration refuses"
# a device path may hold ':' (/dev/serial/by-path/...): parsed from the right
timeout 60 "$CTL" modbus scan --rtu "$T/pci-0000:00:14.0-usb-0:1:1.0-port0:19200:8E1" >/dev/null 2>"$T/err"
expect_eq "--rtu with ':' in the device path: parsed (no such device: exit 1)" "$?" 1
check "--rtu with ':' in the device path: the error names the whole device" \
	grep -q -F "pci-0000:00:14.0-usb-0:1:1.0-port0" "$T/err"

# --- control-socket commands: common options and each command's own
for cmd in status alarms reload; do
	bad --count "$cmd" --socket "$NOSOCK" --count 0
	bad --count "$cmd" --socket "$NOSOCK" --count 5
	bad --note "$cmd" --socket "$NOSOCK" --note hi
	bad --at "$cmd" --socket "$NOSOCK" --at 2026-06-12T08:00:00Z
	bad --user "$cmd" --socket "$NOSOCK" --user ""
	bad --user "$cmd" --socket "$NOSOCK" --user "$USER_LONG"
	bad --user "$cmd" --socket "$NOSOCK" --user "$(printf 'a\tb')"
	bad --user "$cmd" --socket "$NOSOCK" --user
	bad --socket "$cmd" --socket ""
	bad --socket "$cmd" --socket "/tmp/$LONG"
	bad --socket "$cmd" --socket
	bad --config "$cmd" --config ""
	bad --config "$cmd" --config
	bad "-c" "$cmd" -c
	bad --json "$cmd" --socket "$NOSOCK" --json=1
	bad --bogus "$cmd" --socket "$NOSOCK" --bogus
done
for cmd in ack unshelve reset; do
	bad --note "$cmd" A/temp_high --socket "$NOSOCK" --note "$NOTE_LONG"
	bad --note "$cmd" A/temp_high --socket "$NOSOCK" --note
	bad --count "$cmd" A/temp_high --socket "$NOSOCK" --count -1
	bad --at "$cmd" A/temp_high --socket "$NOSOCK" --at now
done
for v in 0 "${HUGE}d" soon ""; do bad duration shelve A/temp_high "$v" --socket "$NOSOCK"; done
bad "option -5" shelve A/temp_high -5m --socket "$NOSOCK" # a negative duration reads as an option
bad --note shelve A/temp_high 30m --socket "$NOSOCK" --note "$NOTE_LONG"
for v in soon 0 -1 "$HUGE" 2026-13-45T99:00:00Z ""; do bad --at lot load A LOT-1 lychee --socket "$NOSOCK" --at "$v"; done
bad --at lot load A LOT-1 lychee --socket "$NOSOCK" --at
bad --note lot load A LOT-1 lychee --socket "$NOSOCK" --note hi
bad --count lot unload LOT-1 --socket "$NOSOCK" --count 3
bad --at lot move LOT-1 B --socket "$NOSOCK" --at now
summary "status, alarms, reload, ack, shelve, unshelve, reset, lot: options"

# --- mqtt watch
for v in 0 -1 "$HUGE" abc 1.5 ""; do bad --count mqtt watch '#' -c /nonexistent.conf --count "$v"; done
bad --count mqtt watch '#' -c /nonexistent.conf --count
bad --socket mqtt watch '#' -c /nonexistent.conf --socket /tmp/x.sock
bad --user mqtt watch '#' -c /nonexistent.conf --user op
bad --bogus mqtt watch '#' -c /nonexistent.conf --bogus
summary "mqtt watch: --count and options it does not take"

# --- report (times, format; no InfluxDB needed: refused before)
for o in --from --to; do
	for v in yesterday "$HUGE" abc ""; do bad "$o" report --lot L1 --influx http://127.0.0.1:9 --db x "$o" "$v"; done
	bad "$o" report --lot L1 "$o"
done
for v in pdf ""; do bad --format report --lot L1 --format "$v"; done
bad --lot report --lot
bad --lot report
bad --influx report --lot L1 --influx
bad --db report --lot L1 --db
bad --output report --lot L1 --output
bad --bogus report --lot L1 --bogus
bad "-x" report --lot L1 -x
summary "report: times, format, missing values"

finish
