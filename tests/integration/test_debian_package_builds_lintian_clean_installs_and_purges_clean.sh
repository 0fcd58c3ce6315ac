#!/bin/bash
# The Debian package, as root: a clean tree of HEAD (git archive: no build/
# leaks in), dpkg-buildpackage -b, lintian on the .deb and .changes (any E:
# or W: not overridden fails), apt-get install ./coldchaind_*.deb, the files
# (dpkg -L), --version and -n on the installed config, systemd-analyze
# verify, the user, the unit enabled (symlink) but not started, then purge:
# nothing left but the system user policy keeps.  Purges even on failure.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (installs and purges the package)"
for b in dpkg-buildpackage lintian dh git apt-get; do
	command -v "$b" >/dev/null || skip "needs $b (apt-get install debhelper dpkg-dev lintian)"
done
dpkg-query -W -f='${db:Status-Status}' coldchaind 2>/dev/null | grep -q installed &&
	skip "coldchaind is already installed as a package on this machine: not touching it"
for p in /etc/coldchaind /var/lib/coldchaind /usr/sbin/coldchaind /usr/bin/coldchainctl; do
	[ -e "$p" ] && skip "$p exists (a make install?): not touching this machine's coldchaind"
done
git -C "$ROOT_DIR" rev-parse HEAD >/dev/null 2>&1 || skip "not a git checkout"
echo "  (packages HEAD of $ROOT_DIR: commit first)"

# On any exit: purge, and remove what a broken postrm would leave (none of
# it existed before: checked above), so the machine is left as found.
purge() { apt-get purge -y coldchaind >"$T/purge.log" 2>&1; }
trap 'purge; rm -rf /etc/coldchaind /var/lib/coldchaind /run/coldchaind; cleanup' EXIT

start=$SECONDS
mkdir -p "$T/src"
git -C "$ROOT_DIR" archive --prefix=coldchaind/ HEAD | tar -x -C "$T/src" || die "git archive failed"
(cd "$T/src/coldchaind" && dpkg-buildpackage -us -uc -b -j2) >"$T/build.log" 2>&1 ||
	{ show_log "$T/build.log" 40; die "dpkg-buildpackage failed"; }
DEB=$(ls "$T"/src/coldchaind_*_*.deb)
pass "dpkg-buildpackage -us -uc -b builds $(basename "$DEB") in $((SECONDS - start)) s"
check "the package build ran the unit tests" grep -q '^unit tests: all [0-9]* passed' "$T/build.log"

lintian "$DEB" "$T"/src/coldchaind_*.changes >"$T/lintian.log" 2>&1
bad=$(grep -E '^[EW]: ' "$T/lintian.log")
check "lintian: no error or warning not overridden${bad:+ ($bad)}" [ -z "$bad" ]

apt-get install -y "$DEB" >"$T/install.log" 2>&1 || { show_log "$T/install.log"; die "apt-get install failed"; }
dpkg -L coldchaind | sort >"$T/files"
for f in /usr/sbin/coldchaind /usr/bin/coldchainctl /usr/libexec/coldchaind/coldchainctl-full /etc/coldchaind/coldchaind.conf \
	/etc/coldchaind/devices/xy-md02.conf /usr/share/coldchaind/profiles.conf /usr/share/coldchaind/processes.conf \
	/usr/share/coldchaind/devices/xy-md02.conf /usr/share/coldchaind/dashboards/provisioning/dashboards/coldchaind.yaml \
	/lib/systemd/system/coldchaind.service /usr/lib/sysusers.d/coldchaind.conf \
	/usr/share/man/man8/coldchaind.8.gz /usr/share/man/man1/coldchainctl.1.gz /usr/share/man/man5/coldchaind.conf.5.gz \
	/usr/share/doc/coldchaind/README.Debian /usr/share/doc/coldchaind/copyright; do
	grep -qx "$f" "$T/files" || fail "dpkg -L coldchaind lacks $f"
done
for f in coldchainctl coldchaind; do
	[ -f "$ROOT_DIR/contrib/bash-completion/$f" ] && ! grep -qx "/usr/share/bash-completion/completions/$f" "$T/files" &&
		fail "dpkg -L coldchaind lacks the bash completion of $f"
done
check "conffiles: the config and templates under /etc/coldchaind" \
	bash -c "dpkg-query -W -f='\${Conffiles}' coldchaind | grep -q ' /etc/coldchaind/coldchaind.conf '"
check "coldchaind --version (-V) runs" bash -c '/usr/sbin/coldchaind -V | grep -q "^coldchaind "'
check "coldchainctl --version runs (through /usr/libexec/coldchaind/coldchainctl-full)" \
	bash -c '/usr/bin/coldchainctl --version | grep -q "^coldchainctl "'
out=$(/usr/sbin/coldchaind -n 2>&1)
check "the installed config passes coldchaind -n ($out)" [ "$out" = "configuration OK" ]
check "the user coldchaind exists, in group dialout" bash -c 'id coldchaind | grep -q dialout'
check "the config is 0640 root:coldchaind" [ "$(stat -c '%a %U:%G' /etc/coldchaind/coldchaind.conf)" = "640 root:coldchaind" ]
check "the unit is enabled (multi-user.target.wants symlink)" \
	[ -L /etc/systemd/system/multi-user.target.wants/coldchaind.service ]
# Not started: no daemon from the package runs, its RuntimeDirectory= was
# never made, and the maintainer scripts hold no start.
check "the service was not started" bash -c '! pgrep -f "^/usr/sbin/coldchaind" >/dev/null && [ ! -e /run/coldchaind ] &&
	! grep -q "deb-systemd-invoke.*start" /var/lib/dpkg/info/coldchaind.postinst'
if command -v systemd-analyze >/dev/null; then
	# Without a running systemd (a container), verify still loads and
	# checks the unit; --man=no: no man page lookups.
	systemd-analyze verify --man=no /usr/lib/systemd/system/coldchaind.service >"$T/verify.log" 2>&1
	check "systemd-analyze verify accepts the installed unit$(head -3 "$T/verify.log" | tr '\n' ' ')" [ ! -s "$T/verify.log" ]
fi

# What a running service and its admin leave: a journal segment, a users
# file (coldchainctl user add), an edited config.  Purge removes them too.
mkdir -p /var/lib/coldchaind/journal && echo x >/var/lib/coldchaind/journal/seg-test
echo 'admin:$y$test' >/etc/coldchaind/users
echo '# edited' >>/etc/coldchaind/coldchaind.conf
purge || { show_log "$T/purge.log"; fail "apt-get purge failed"; }
left=""
for p in /etc/coldchaind /var/lib/coldchaind /usr/share/coldchaind /usr/sbin/coldchaind /usr/bin/coldchainctl /usr/libexec/coldchaind \
	/lib/systemd/system/coldchaind.service /etc/systemd/system/multi-user.target.wants/coldchaind.service \
	/usr/share/doc/coldchaind; do
	[ -e "$p" ] || [ -L "$p" ] && left="$left $p"
done
check "purge leaves nothing behind${left:+ (left:$left)}" [ -z "$left" ]
check "purge keeps the system user, as policy advises" bash -c 'id coldchaind >/dev/null'
echo "  (build, lintian, install and purge took $((SECONDS - start)) s)"
finish
