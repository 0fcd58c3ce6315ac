#!/bin/bash
# tests/config/run_golden.sh BUILD_DIR - configuration golden tests.
#   bad/NAME.conf   `coldchaind -n` must exit 1 and print exactly bad/NAME.expected
#                   on stderr (paths as given on the command line, from the repo root);
#   good/NAME.conf  and every shipped config/*.conf(.example) must pass `-n`;
#   each good one's `-p` output must pass `-n` again and print the same (a
#   fixed point), apart from its header and template comments.
# Prints `PASS config/...` or `FAIL config/...` (with a diff) per check.
set -u

if [ $# -ne 1 ]; then
	echo "usage: tests/config/run_golden.sh BUILD_DIR" >&2
	exit 2
fi
ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT_DIR" || exit 2
BUILD_DIR=$1
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT_DIR/$BUILD_DIR ;; esac
BIN=$BUILD_DIR/coldchaind
if [ ! -x "$BIN" ]; then
	echo "FAIL config/golden: $BIN not built"
	exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cc-golden.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }

# Git keeps no permission bits but x: make the fixture's mode what the test means.
chmod 644 tests/config/bad/secrets/open.password 2>/dev/null
chmod 600 tests/config/good/secrets/channel.secret 2>/dev/null

for conf in tests/config/bad/*.conf; do
	name=config/bad/$(basename "$conf" .conf)
	expected=${conf%.conf}.expected
	if [ ! -f "$expected" ]; then
		fail "$name" "no $expected"
		continue
	fi
	"$BIN" -n -c "$conf" >"$TMP/out" 2>"$TMP/err"
	st=$?
	if [ "$st" -ne 1 ]; then
		fail "$name" "exit status $st, expected 1"
		cat "$TMP/err"
	elif ! diff -u "$expected" "$TMP/err" >"$TMP/diff"; then
		fail "$name" "stderr differs from $expected"
		cat "$TMP/diff"
	elif [ -s "$TMP/out" ]; then
		fail "$name" "unexpected stdout"
		cat "$TMP/out"
	else
		pass "$name"
	fi
done

# Drops what legitimately differs between a config and its -p output's -p.
normalise() { grep -v -e '^# coldchaind effective configuration of ' -e '^ *# template "' "$1"; }

for conf in tests/config/good/*.conf config/*.conf config/*.conf.example; do
	[ -f "$conf" ] || continue
	# A fragment for @include, not a configuration (checked through good/rooms.conf).
	[ "$conf" = config/profiles.conf ] && continue
	[ "$conf" = config/processes.conf ] && continue # through good/processes.conf
	case $conf in config/*) name=$conf ;; *) name=config/good/$(basename "$conf" .conf) ;; esac
	out=$("$BIN" -n -c "$conf" 2>&1)
	st=$?
	if [ "$st" -ne 0 ] || [ "$out" != "configuration OK" ]; then
		fail "$name" "-n exit status $st"
		echo "$out"
		continue
	fi
	pass "$name"

	# Round trip: -p output is itself a valid configuration, and a fixed point.
	if ! "$BIN" -p -c "$conf" >"$TMP/p1.conf" 2>"$TMP/err"; then
		fail "$name -p" "-p failed"
		cat "$TMP/err"
		continue
	fi
	out=$("$BIN" -n -c "$TMP/p1.conf" 2>&1)
	st=$?
	if [ "$st" -ne 0 ] || [ "$out" != "configuration OK" ]; then
		fail "$name -p" "printed configuration does not load"
		echo "$out"
		continue
	fi
	"$BIN" -p -c "$TMP/p1.conf" >"$TMP/p2.conf" 2>&1
	if ! diff -u <(normalise "$TMP/p1.conf") <(normalise "$TMP/p2.conf") >"$TMP/diff"; then
		fail "$name -p" "printing the printed configuration changes it"
		cat "$TMP/diff"
	else
		pass "$name -p"
	fi
done

echo "config golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
