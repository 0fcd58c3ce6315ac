#!/bin/bash
# tests/bench/run.sh BUILD_DIR - `make bench`: runs every benchmark and
# prints its figures, after the machine they ran on.  Never pass/fail: a
# benchmark that cannot run says why and the next one runs.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export BUILD_DIR=$BUILD

echo "=== machine"
echo "  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "  $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  compiler: $(${CC:-cc} --version | head -n 1)"
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "=== $(basename "$b")"
	"$b" || { st=$?; echo "  ($(basename "$b") exited with status $st)"; }
done
for s in "$ROOT"/tests/bench/bench_*.sh; do
	[ -f "$s" ] || continue
	echo "=== $(basename "$s" .sh)"
	bash "$s" || { st=$?; echo "  ($(basename "$s") exited with status $st)"; }
done
