#!/bin/bash
# make install PREFIX=/usr DESTDIR=... as a packager runs it: every file
# where FHS puts it (and nothing else), no /usr/etc or /usr/local in any
# installed text, the installed config passes -n and, run against the
# Modbus simulator, shows its room in `coldchainctl status`; a second
# install and an uninstall never touch what the site edited.
. "$(dirname "$0")/../lib.sh"

D=$T/root
# A build of its own: PREFIX=/usr changes the compiled-in paths, which must
# not change the binaries the rest of the suite runs.
mk() { make -s -C "$ROOT_DIR" BUILD="$T/build" PREFIX=/usr DESTDIR="$D" "$@" >"$T/make.log" 2>&1; }

mk install || { sed 's/^/  | /' "$T/make.log"; die "make install failed"; }
EXPECTED="etc/coldchaind/coldchaind.conf
etc/coldchaind/devices/danfoss-ak-cc55-compact.conf
etc/coldchaind/devices/eastron-sdm72d-m.conf
etc/coldchaind/devices/vaisala-gmp252.conf
etc/coldchaind/devices/xy-md02.conf
usr/bin/coldchainctl
usr/lib/systemd/system/coldchaind.service
usr/lib/sysusers.d/coldchaind.conf
usr/libexec/coldchaind/coldchainctl-full
usr/sbin/coldchaind
usr/share/bash-completion/completions/coldchainctl
usr/share/bash-completion/completions/coldchaind
usr/share/coldchaind/dashboards/daemon-health.json
usr/share/coldchaind/dashboards/lot-history.json
usr/share/coldchaind/dashboards/processing.json
usr/share/coldchaind/dashboards/provisioning/dashboards/coldchaind.yaml
usr/share/coldchaind/dashboards/provisioning/datasources/coldchaind.yaml
usr/share/coldchaind/dashboards/room-history.json
usr/share/coldchaind/dashboards/warehouse-overview.json
usr/share/coldchaind/devices/danfoss-ak-cc55-compact.conf
usr/share/coldchaind/devices/eastron-sdm72d-m.conf
usr/share/coldchaind/devices/vaisala-gmp252.conf
usr/share/coldchaind/devices/xy-md02.conf
usr/share/coldchaind/processes.conf
usr/share/coldchaind/profiles.conf
usr/share/doc/coldchaind/examples/coldchaind.conf.example
usr/share/man/man1/coldchainctl.1
usr/share/man/man5/coldchaind.conf.5
usr/share/man/man8/coldchaind.8
usr/share/doc/coldchaind/README.md
$(cd "$ROOT_DIR" && ls docs/*.md | sed 's|^|usr/share/doc/coldchaind/|')"
EXPECTED=$(echo "$EXPECTED" | sort)
(cd "$D" && find . -type f | sed 's|^\./||' | sort) >"$T/files"
if diff <(echo "$EXPECTED") "$T/files" >"$T/files.diff"; then
	pass "make install PREFIX=/usr puts exactly the $(wc -l <"$T/files") expected files where FHS says"
else
	sed 's/^/  | /' "$T/files.diff"
	fail "installed files differ from the FHS list (< expected, > installed)"
fi
[ "$(stat -c %a "$D/etc/coldchaind/coldchaind.conf")" = 640 ] ||
	fail "the live config is not installed mode 0640"

# No installed text (config, unit, man pages, provisioning) and no binary's
# strings name /usr/etc, /usr/local or an unsubstituted @...DIR@.  The
# README and docs/*.md are not: they describe both layouts (PREFIX=/usr/local
# by hand, /usr from the package) as written.
bad=$(cd "$D" && grep -rlE '/usr/etc|/usr/local|@[A-Z]+DIR@' . 2>/dev/null | grep -v '^\./usr/share/doc/coldchaind/.*\.md$')
check "no /usr/etc, /usr/local or @...DIR@ in any installed file${bad:+ (found in: $bad)}" [ -z "$bad" ]
check "coldchaind's compiled-in config path is /etc/coldchaind/coldchaind.conf" \
	grep -qF '/etc/coldchaind/coldchaind.conf' <(strings "$D/usr/sbin/coldchaind")
check "coldchainctl's compiled-in socket and users file follow RUNSTATEDIR and SYSCONFDIR, its full half LIBEXECDIR" \
	bash -c "strings '$D/usr/bin/coldchainctl' | grep -qx '/run/coldchaind/coldchaind.sock' &&
		strings '$D/usr/bin/coldchainctl' | grep -qx '/usr/libexec/coldchaind/coldchainctl-full' &&
		strings '$D/usr/libexec/coldchaind/coldchainctl-full' | grep -qF '/etc/coldchaind/users'"
# the thin coldchainctl runs its full half for every command but the
# control socket's: here the one beside it in the staging (../libexec)
check "the installed coldchainctl runs the installed coldchainctl-full (coldchainctl --version, modbus --help)" \
	bash -c "'$D/usr/bin/coldchainctl' --version | grep -qx 'coldchainctl [0-9.]*' &&
		'$D/usr/bin/coldchainctl' modbus --help | grep -q 'modbus read'"
check "the Grafana provisioning file points at the installed dashboards" \
	grep -q '^      path: /usr/share/coldchaind/dashboards$' \
	"$D/usr/share/coldchaind/dashboards/provisioning/dashboards/coldchaind.yaml"
check "coldchaind(8) names /etc/coldchaind/coldchaind.conf" \
	grep -qF '/etc/coldchaind/coldchaind.conf' "$D/usr/share/man/man8/coldchaind.8"
check "the installed config @includes the shipped profiles from /usr/share/coldchaind" \
	bash -c "grep -qx '@include \"../../usr/share/coldchaind/profiles.conf\"' '$D/etc/coldchaind/coldchaind.conf' &&
		grep -qx '@include \"../../usr/share/coldchaind/processes.conf\"' '$D/etc/coldchaind/coldchaind.conf'"

UNIT=$D/usr/lib/systemd/system/coldchaind.service
check "the unit names the installed paths" grep -q "^ExecStart=/usr/sbin/coldchaind -c /etc/coldchaind/coldchaind.conf$" "$UNIT"
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
fi

# The installed config, its state and run paths moved into $T (the
# simulator's port, a closed InfluxDB port): beside the installed one, so
# its templates and @includes resolve in DESTDIR as they will in place.
start_sim modbus_sim --tcp 127.0.0.1:0 --scenario lychee
IPORT=$(free_port)
CONF=$D/etc/coldchaind/coldchaind.test.conf
sed -e "s|\"/var/lib/coldchaind\"|\"$T/state\"|" \
	-e "s|\"/run/coldchaind/|\"$T/run/|" -e "s|port = 15020;|port = $SIM_PORT;|" \
	-e "s|http://127.0.0.1:8086|http://127.0.0.1:$IPORT|" "$D/etc/coldchaind/coldchaind.conf" >"$CONF"
out=$("$D/usr/sbin/coldchaind" -n -c "$CONF" 2>&1)
check "the installed binary accepts the installed config ($out)" [ "$out" = "configuration OK" ]
COLDCHAIND=$D/usr/sbin/coldchaind
mkdir -p "$T/run"
start_daemon "$CONF"
status_a() {
	"$D/usr/bin/coldchainctl" status --json -c "$CONF" >"$T/status.json" 2>"$T/status.err" &&
		[ -n "$(json_eval '[x["value"] for r in d["rooms"] if r["name"] == "A" for x in r["readings"] if x["role"] == "temperature"][0]' <"$T/status.json")" ]
}
if wait_for "room A's temperature in status" status_a; then
	pass "against the simulator, coldchainctl status shows room A with its temperature ($(json_eval '[x["value"] for x in d["rooms"][0]["readings"] if x["role"] == "temperature"][0]' <"$T/status.json") C)"
else
	cat "$T/status.err" "$T/status.json" 2>/dev/null | head -5 | sed 's/^/  | /'
	show_log "$DAEMON_LOG"
	fail "coldchainctl status does not show room A"
fi
stop_daemon || fail "coldchaind did not exit cleanly"
rm -f "$CONF"

echo '# edited by the site' >>"$D/etc/coldchaind/coldchaind.conf"
echo '# local fix' >>"$D/etc/coldchaind/devices/xy-md02.conf"
mk install || die "second make install failed"
check "a second install keeps the edited config" grep -q 'edited by the site' "$D/etc/coldchaind/coldchaind.conf"
check "a second install keeps an edited device template" grep -q 'local fix' "$D/etc/coldchaind/devices/xy-md02.conf"

mk uninstall || die "make uninstall failed"
left=$(cd "$D" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
check "uninstall leaves only the edited config and template (left: $left)" \
	[ "$left" = "etc/coldchaind/coldchaind.conf etc/coldchaind/devices/xy-md02.conf " ]
finish
