#!/bin/bash
# tests/config/check_po.sh [BUILD_DIR] - the translations are complete and
# current: po/coldchaind.pot is what xgettext extracts from the sources now
# (make pot; its creation date aside), po/vi.po holds every msgid of it
# (msgcmp), and no entry of vi.po is untranslated or fuzzy and every one
# passes msgfmt's format checks (msgfmt --statistics -c).  BUILD_DIR is
# accepted (tests/run.sh passes it) and not used.
set -u
ROOT=${CC_PO_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
fail=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

if ! make -s --no-print-directory pot POT_OUT="$tmp/new.pot" >"$tmp/xgettext.log" 2>&1; then
	echo "FAIL config/po: xgettext failed:"
	cat "$tmp/xgettext.log"
	exit 1
fi
if ! diff -u <(grep -v '^"POT-Creation-Date:' po/coldchaind.pot) <(grep -v '^"POT-Creation-Date:' "$tmp/new.pot") >"$tmp/pot.diff"; then
	echo "FAIL config/po: po/coldchaind.pot is out of date with the sources (run make pot, then msgmerge -U po/vi.po po/coldchaind.pot and translate):"
	head -40 "$tmp/pot.diff"
	fail=1
fi
if ! msgcmp po/vi.po po/coldchaind.pot >"$tmp/msgcmp.log" 2>&1; then
	echo "FAIL config/po: po/vi.po lacks msgids of po/coldchaind.pot:"
	head -20 "$tmp/msgcmp.log"
	fail=1
fi
if ! msgfmt --statistics -c -o /dev/null po/vi.po >"$tmp/stats" 2>&1; then
	echo "FAIL config/po: msgfmt -c po/vi.po:"
	cat "$tmp/stats"
	fail=1
elif grep -Eq 'untranslated|fuzzy' "$tmp/stats"; then
	echo "FAIL config/po: po/vi.po: $(cat "$tmp/stats")"
	fail=1
fi
[ "$fail" = 0 ] || exit 1
echo "PASS config/po: po/coldchaind.pot matches the sources; po/vi.po: $(cat "$tmp/stats")"
