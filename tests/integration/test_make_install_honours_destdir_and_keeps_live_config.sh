#!/bin/bash
# make install/uninstall into a DESTDIR, as a packager would: binary, example
# config, device templates; the installed binary accepts the installed
# config; a second install and an uninstall never touch a config the site
# has edited.
. "$(dirname "$0")/../lib.sh"

D=$T/root
# A build of its own: install compiles with SYSCONFDIR=/etc, which must not
# change the binaries the rest of the suite runs.
mk() { make -s -C "$ROOT_DIR" BUILD="$T/build" PREFIX=/usr SYSCONFDIR=/etc DESTDIR="$D" "$@" >"$T/make.log" 2>&1; }

mk install || { sed 's/^/  | /' "$T/make.log"; die "make install failed"; }
for f in usr/sbin/coldchaind etc/coldchaind/coldchaind.conf.example etc/coldchaind/coldchaind.conf \
	etc/coldchaind/devices/xy-md02.conf usr/share/coldchaind/devices/xy-md02.conf; do
	[ -e "$D/$f" ] || fail "install did not create /$f"
done
[ "$(stat -c %a "$D/etc/coldchaind/coldchaind.conf")" = 640 ] ||
	fail "the live config is not installed mode 0640"
out=$("$D/usr/sbin/coldchaind" -n -c "$D/etc/coldchaind/coldchaind.conf" 2>&1)
check "the installed binary accepts the installed config and its templates" [ "$out" = "configuration OK" ]

echo '# edited by the site' >>"$D/etc/coldchaind/coldchaind.conf"
echo '# local fix' >>"$D/etc/coldchaind/devices/xy-md02.conf"
mk install || die "second make install failed"
check "a second install keeps the edited config" grep -q 'edited by the site' "$D/etc/coldchaind/coldchaind.conf"
check "a second install keeps an edited device template" grep -q 'local fix' "$D/etc/coldchaind/devices/xy-md02.conf"

mk uninstall || die "make uninstall failed"
check "uninstall removes the binary" [ ! -e "$D/usr/sbin/coldchaind" ]
check "uninstall removes the shared data" [ ! -e "$D/usr/share/coldchaind" ]
check "uninstall keeps the edited config and template" \
	grep -q 'local fix' "$D/etc/coldchaind/devices/xy-md02.conf"
check "uninstall removes unedited templates" [ ! -e "$D/etc/coldchaind/devices/vaisala-gmp252.conf" ]
finish
