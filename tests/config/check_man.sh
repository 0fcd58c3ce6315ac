#!/bin/bash
# tests/config/check_man.sh BUILD_DIR - the man pages render with `man -l`
# without warnings, and coldchaind.conf(5) documents every schema key.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
out=$(mktemp) && keys=$(mktemp) || exit 2
trap 'rm -f "$out" "$keys"' EXIT
fails=0
# The pages as installed: daemon/man/* with @SYSCONFDIR@ etc. substituted by
# the Makefile (BUILD/man/).
for page in "$BUILD/man/coldchaind.8" "$BUILD/man/coldchainctl.1" "$BUILD/coldchaind.conf.5"; do
	if grep -q '@[A-Z]*DIR@' "$page"; then
		echo "FAIL docs/man: $(basename "$page") keeps an unsubstituted @...DIR@"
		fails=1
	fi
	name=$(basename "$page")
	if MANWIDTH=100 man --warnings -l "$page" >"$out" 2>"$out.err" && [ ! -s "$out.err" ] && [ -s "$out" ]; then
		echo "PASS docs/man: $name renders with man -l without warnings"
	else
		echo "FAIL docs/man: $name does not render cleanly:"
		sed 's/^/  | /' "$out.err" | head
		fails=1
	fi
	rm -f "$out.err"
done
MANWIDTH=200 man -l "$BUILD/coldchaind.conf.5" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g' >"$out"
"$BUILD/coldchaind" -S | sed -n 's/^| `\([^`]*\)`.*/\1/p' >"$keys"
missing=0
while read -r k; do
	grep -qF -- "$k (" "$out" || { echo "  undocumented in coldchaind.conf(5): $k"; missing=$((missing + 1)); }
done <"$keys"
if [ "$missing" = 0 ] && [ -s "$keys" ]; then
	echo "PASS docs/man: coldchaind.conf(5) documents all $(wc -l <"$keys") schema keys"
else
	echo "FAIL docs/man: $missing schema keys missing from coldchaind.conf(5)"
	fails=1
fi
exit "$fails"
