#!/bin/bash
# tests/cross/test_cross.sh - the small gateway (issue 18 target 4): cross-
# builds coldchaind, coldchainctl and every unit test for arm64 and armhf
# (`make cross ARCH=...`, Debian's cross compilers and multiarch -dev
# packages) and runs every unit test binary under qemu-user-static
# (explicit qemu-ARCH-static -L /: no binfmt_misc needed, the target's
# shared libraries are the multiarch ones under /usr/lib/TRIPLET), then the
# daemon's -V and -n (config check) there.
# Missing packages: root installs them (tests/cross/deps.sh); anyone else
# gets a SKIP line with the exact install command.
# CC_CROSS_ARCHES="arm64 armhf" (default) narrows the set; CC_CROSS_JOBS=2;
# CC_CROSS=0 skips it (e.g. `make check`, whose sanitizers it does not use).
# No unit test needs a smaller count under emulation: the slowest
# (test_auth, password hashing) takes about a minute on a 2-core machine.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
ARCHES=${CC_CROSS_ARCHES:-arm64 armhf}
JOBS=${CC_CROSS_JOBS:-2}
UNIT_TIMEOUT=${CC_CROSS_UNIT_TIMEOUT:-600}
fails=0
pass() { echo "PASS cross/$1"; }
fail() { echo "FAIL cross/$1"; fails=$((fails + 1)); }

if [ "${CC_CROSS:-1}" = 0 ]; then
	echo "SKIP cross: CC_CROSS=0"
	exit 0
fi
declare -A QEMU=([arm64]=qemu-aarch64-static [armhf]=qemu-arm-static)
# One architecture at a time: a mirror whose index for one of them is
# mid-sync ("File has unexpected size") skips that one, not both.
have=""
for a in $ARCHES; do
	if [ -z "${QEMU[$a]:-}" ]; then
		fail "$a: unknown architecture (arm64 or armhf)"
		continue
	fi
	if deps_out=$(CC_CROSS_ARCHES=$a sh tests/cross/deps.sh 2>&1); then
		have="$have $a"
		[ -n "$deps_out" ] && echo "$deps_out" | tail -n 3 | sed 's/^/  /'
		continue
	fi
	echo "$deps_out" | tail -n 5 | sed 's/^/  /'
	line=$(echo "$deps_out" | sed -n 's/^  //p' | tail -n 1)
	echo "SKIP cross $a: the cross toolchain or the target libraries are missing; as root: $line"
done
[ -n "$have" ] || exit $((fails > 0))
ARCHES=${have# }

# With the targets' -dev packages beside the native ones (one dpkg entry per
# architecture), the native check (tests/deps.sh, what `make test` and
# `make demo` run first) must still find everything it needs, and say
# nothing: it once read the run-together statuses as missing, and a user who
# is not root could not run the tests after a cross build.
if native_out=$(CC_INSTALL_DEPS=0 sh tests/deps.sh 2>&1) && ! echo "$native_out" | grep -q missing; then
	pass "native: tests/deps.sh finds every package beside the targets' ($(dpkg --print-foreign-architectures | tr '\n' ' ' | sed 's/ $//'))"
else
	fail "native: tests/deps.sh says packages are missing beside the targets':"
	echo "$native_out" | head -n 3 | sed 's/^/  | /'
fi

LOG=$(mktemp -d "${TMPDIR:-/tmp}/cc-cross.XXXXXX") || exit 2
trap 'rm -rf "$LOG"' EXIT

for a in $ARCHES; do
	q=${QEMU[$a]}
	if ! make --no-print-directory -j"$JOBS" cross ARCH="$a" >"$LOG/build-$a.log" 2>&1; then
		fail "$a: make cross ARCH=$a failed"
		grep -E 'error|Error' "$LOG/build-$a.log" | head -n 20 | sed 's/^/  | /'
		continue
	fi
	pass "$a: make cross ARCH=$a built coldchaind, coldchainctl and $(ls build-"$a"/tests/test_* | wc -l) unit tests"
	n=0
	for t in build-"$a"/tests/test_*; do
		[ -x "$t" ] || continue
		n=$((n + 1))
		b=$(basename "$t")
		s=$(date +%s%N)
		timeout -k 10 "$UNIT_TIMEOUT" "$q" -L / "$t" >"$LOG/$a-$b.log" 2>&1 </dev/null
		st=$?
		ms=$((($(date +%s%N) - s) / 1000000))
		np=$(grep -c '^PASS ' "$LOG/$a-$b.log")
		nf=$(grep -c '^FAIL ' "$LOG/$a-$b.log")
		if [ "$st" -eq 0 ] && [ "$nf" -eq 0 ]; then
			pass "$a: unit/$b under $q: $np passed (${ms} ms)"
		else
			fail "$a: unit/$b under $q: exit $st, $nf failed, $np passed (${ms} ms)"
			# indented: the unit test's own PASS/FAIL lines are not counted twice
			grep -v '^PASS ' "$LOG/$a-$b.log" | tail -n 25 | sed 's/^/  | /'
		fi
	done
	[ "$n" -gt 0 ] || fail "$a: no unit test binaries in build-$a/tests"
	v=$(timeout 120 "$q" -L / build-"$a"/coldchaind -V 2>&1 </dev/null)
	if echo "$v" | grep -q "$(sed -n 's/^VERSION *= *//p' Makefile)"; then
		pass "$a: coldchaind -V under $q: $(echo "$v" | head -n 1)"
	else
		fail "$a: coldchaind -V under $q printed: $v"
	fi
	c=$(timeout 120 "$q" -L / build-"$a"/coldchaind -n -c config/coldchaind.conf.example 2>&1 </dev/null)
	st=$?
	if [ "$st" -eq 0 ]; then
		pass "$a: coldchaind -n -c config/coldchaind.conf.example under $q: config OK"
	else
		fail "$a: coldchaind -n -c config/coldchaind.conf.example under $q: exit $st"
		echo "$c" | tail -n 10 | sed 's/^/  | /'
	fi
done
[ "$fails" -eq 0 ]
