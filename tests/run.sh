#!/bin/bash
# tests/run.sh BUILD_DIR - runs the whole suite against one build: the unit
# test binaries, the config golden files and the integration scripts.
# Counts the `PASS ...` / `FAIL ...` lines every program prints; a program
# that crashes, times out or exits non-zero without a FAIL line counts as one
# failure.  Last line: `N passed, N failed`; exit status 1 on any failure.
set -u

if [ $# -ne 1 ]; then
	echo "usage: tests/run.sh BUILD_DIR" >&2
	exit 2
fi
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT_DIR" || exit 2
BUILD_DIR=$1
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT_DIR/$BUILD_DIR ;; esac
export BUILD_DIR

UNIT_TIMEOUT=${CC_UNIT_TIMEOUT:-300}
INTEGRATION_TIMEOUT=${CC_INTEGRATION_TIMEOUT:-600}

passed=0
failed=0
skipped=0
OUT=$(mktemp "${TMPDIR:-/tmp}/cc-run.XXXXXX") || exit 2
trap 'rm -f "$OUT"' EXIT

section() { printf '\n=== %s ===\n' "$*"; }

describe_status() {
	local st=$1 limit=$2
	if [ "$st" -eq 124 ]; then
		echo "timed out after ${limit}s"
	elif [ "$st" -eq 137 ] || { [ "$st" -gt 128 ] && [ "$st" -lt 160 ]; }; then
		echo "killed by signal $((st - 128)) (SIG$(kill -l $((st - 128)) 2>/dev/null || echo '?'))"
	else
		echo "exit status $st"
	fi
}

# run_prog LABEL TIMEOUT CMD...: runs one test program with its output shown
# as it comes, then counts its results.
run_prog() {
	local label=$1 limit=$2 st np nf ns
	shift 2
	echo "--- $label"
	# --foreground: Ctrl-C reaches the test (which stops what it started);
	# -k: a program that ignores SIGTERM is killed 30 s later (a test needs
	# a few seconds to stop the servers it started).
	timeout --foreground -k 30 "$limit" "$@" </dev/null 2>&1 | tee "$OUT"
	st=${PIPESTATUS[0]}
	np=$(grep -c '^PASS ' "$OUT")
	nf=$(grep -c '^FAIL ' "$OUT")
	ns=$(grep -c '^SKIP ' "$OUT")
	skipped=$((skipped + ns))
	passed=$((passed + np))
	failed=$((failed + nf))
	if [ "$st" -ne 0 ] && [ "$nf" -eq 0 ]; then
		echo "FAIL $label: $(describe_status "$st" "$limit") without a FAIL line"
		failed=$((failed + 1))
	elif [ "$st" -eq 0 ] && [ "$np" -eq 0 ] && [ "$nf" -eq 0 ] && [ "$ns" -eq 0 ]; then
		echo "FAIL $label: exited 0 but reported no result"
		failed=$((failed + 1))
	elif [ "$st" -ne 0 ] && [ "$st" -ne 1 ]; then
		# It printed FAIL lines, but also crashed or timed out: say so.
		echo "  ($label: $(describe_status "$st" "$limit"))"
	fi
}

section "unit tests ($BUILD_DIR/tests)"
found=0
for t in "$BUILD_DIR"/tests/test_*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
	found=1
	run_prog "unit/$(basename "$t")" "$UNIT_TIMEOUT" "$t"
done
[ "$found" = 1 ] || {
	echo "FAIL unit: no test binaries in $BUILD_DIR/tests (build first: make all)"
	failed=$((failed + 1))
}

section "config golden files and the configuration reference"
run_prog "config/run_golden.sh" "$UNIT_TIMEOUT" bash tests/config/run_golden.sh "$BUILD_DIR"
run_prog "config/check_readme.sh" "$UNIT_TIMEOUT" bash tests/config/check_readme.sh "$BUILD_DIR"
run_prog "config/check_man.sh" "$UNIT_TIMEOUT" bash tests/config/check_man.sh "$BUILD_DIR"
run_prog "config/check_layout.sh" "$UNIT_TIMEOUT" bash tests/config/check_layout.sh "$BUILD_DIR"
run_prog "config/check_functions.sh" "$UNIT_TIMEOUT" bash tests/config/check_functions.sh "$BUILD_DIR"
run_prog "config/check_plurals.sh" "$UNIT_TIMEOUT" bash tests/config/check_plurals.sh
run_prog "config/check_po.sh" "$UNIT_TIMEOUT" bash tests/config/check_po.sh "$BUILD_DIR"
run_prog "config/check_toc.sh" "$UNIT_TIMEOUT" bash tests/config/check_toc.sh

section "fuzz corpus replay"
for t in "$BUILD_DIR"/fuzz/replay_*; do
	[ -x "$t" ] || continue
	n=${t##*/replay_}
	run_prog "fuzz/$n" "$UNIT_TIMEOUT" "$t" "$n" "tests/fuzz/corpus/$n"
done

section "cross builds: arm64 and armhf, unit tests under qemu-user-static"
for t in tests/cross/test_*.sh; do
	[ -f "$t" ] || continue
	run_prog "cross/$(basename "$t" .sh)" "${CC_CROSS_TIMEOUT:-2400}" bash "$t"
done

section "integration tests"
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	run_prog "integration/$(basename "$t" .sh)" "$INTEGRATION_TIMEOUT" bash "$t"
done

echo
if [ "$skipped" -gt 0 ]; then
	echo "$skipped skipped (the SKIP lines above say why)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
