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

UNIT=$D/usr/lib/systemd/system/coldchaind.service
check "install puts the systemd unit and sysusers file in place" [ -f "$UNIT" -a -f "$D/usr/lib/sysusers.d/coldchaind.conf" ]
check "the unit names the installed paths" grep -q "^ExecStart=/usr/sbin/coldchaind -c /etc/coldchaind/coldchaind.conf" "$UNIT"
if command -v systemd-analyze >/dev/null; then
	# verify needs the ExecStart binary at its real path: check a copy
	# pointing into DESTDIR.
	sed "s|/usr/sbin/coldchaind|$D/usr/sbin/coldchaind|g" "$UNIT" >"$T/coldchaind.service"
	if systemd-analyze verify --man=no "$T/coldchaind.service" >"$T/verify.log" 2>&1; then
		pass "systemd-analyze verify accepts the unit"
	else
		sed 's/^/  | /' "$T/verify.log"
		fail "systemd-analyze verify rejects the unit"
	fi
	score=$(systemd-analyze security --offline=true "$T/coldchaind.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for coldchaind.service: \([0-9.]*\).*/\1/p')
	echo "  (systemd-analyze security exposure: ${score:-unknown})"
fi
echo '# edited by the site' >>"$D/etc/coldchaind/coldchaind.conf"
echo '# local fix' >>"$D/etc/coldchaind/devices/xy-md02.conf"
mk install || die "second make install failed"
check "a second install keeps the edited config" grep -q 'edited by the site' "$D/etc/coldchaind/coldchaind.conf"
check "a second install keeps an edited device template" grep -q 'local fix' "$D/etc/coldchaind/devices/xy-md02.conf"

mk uninstall || die "make uninstall failed"
check "uninstall removes the binary and the unit" [ ! -e "$D/usr/sbin/coldchaind" -a ! -e "$UNIT" ]
check "uninstall removes the shared data" [ ! -e "$D/usr/share/coldchaind" ]
check "uninstall keeps the edited config and template" \
	grep -q 'local fix' "$D/etc/coldchaind/devices/xy-md02.conf"
check "uninstall removes unedited templates" [ ! -e "$D/etc/coldchaind/devices/vaisala-gmp252.conf" ]
finish
