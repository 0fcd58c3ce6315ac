#!/bin/sh
# Debian packages needed to build coldchaind and run its whole test suite.
# Quiet when everything is present.  Otherwise prints the exact apt-get
# line and exits 1, or, when run as root, installs what is missing (the
# README's two commands work on a fresh Debian 12 machine as root).
# python3-serial-asyncio: pymodbus imports it (a Recommends, so
# --no-install-recommends leaves it out and the pymodbus peer cannot start).
# debhelper, dpkg-dev, lintian: test_debian_package_* builds and checks the .deb.
# CC_INSTALL_DEPS=0 asks root to print the line instead of installing.
set -u

PKGS="build-essential pkg-config libmodbus-dev libcurl4-openssl-dev libconfig-dev
zlib1g-dev libcjson-dev libmosquitto-dev libssl-dev libmicrohttpd-dev libcrypt-dev nettle-dev mosquitto mosquitto-clients influxdb victoria-metrics
influxdb-client socat mbpoll python3-pymodbus python3-serial-asyncio python3-prometheus-client curl chromium
gettext nodejs python3-aiosmtpd debhelper dpkg-dev lintian man-db groff-base iproute2"

# npm: puppeteer-core (the version pinned in tests/web/package.json) into
# tests/web/node_modules, for the browser tests; it drives Debian's
# chromium, never a browser of its own (PUPPETEER_SKIP_DOWNLOAD=1).
WEB_DIR=$(cd "$(dirname "$0")/web" && pwd)
npm_missing() {
	want=$(sed -n 's/.*"puppeteer-core": "\([^"]*\)".*/\1/p' "$WEB_DIR/package.json")
	grep -q "\"version\": \"$want\"" "$WEB_DIR/node_modules/puppeteer-core/package.json" 2>/dev/null && return 1
	return 0
}
npm_line="cd $WEB_DIR && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-save --no-audit --no-fund"
npm_deps() {
	npm_missing || return 0
	if [ "$(id -u)" -ne 0 ] || [ "${CC_INSTALL_DEPS:-1}" = 0 ]; then
		echo "deps: missing npm package puppeteer-core (browser tests); install it with:" >&2
		echo "  $npm_line" >&2
		return 1
	fi
	echo "deps: installing puppeteer-core into $WEB_DIR/node_modules"
	(cd "$WEB_DIR" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-save --no-audit --no-fund) || return 1
}

# Installed for this machine's architecture (or for all): once `make cross`
# has added arm64 and armhf, a -dev package has one entry per architecture,
# and only the native one builds and runs the tests.
NATIVE=$(dpkg --print-architecture)
installed() {
	dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$1" 2>/dev/null |
		awk -v a="$NATIVE" '($1 == a || $1 == "all") && $2 == "installed" { ok = 1 } END { exit !ok }'
}
missing=""
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done
# npm: Debian's package, unless the installed nodejs brings its own
# (a nodejs from elsewhere conflicts with Debian's npm)
command -v npm >/dev/null 2>&1 || missing="$missing npm"
missing=${missing# }
if [ -z "$missing" ]; then
	npm_deps
	exit $?
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: $missing" >&2
	echo "deps: install them with:" >&2
	echo "  sudo apt-get install -y --no-install-recommends $missing" >&2
	exit 1
fi
if [ "${CC_INSTALL_DEPS:-1}" = 0 ]; then
	echo "deps: missing Debian packages: $missing" >&2
	echo "deps: install them with:" >&2
	echo "  apt-get install -y --no-install-recommends $missing" >&2
	exit 1
fi

echo "deps: installing missing Debian packages: $missing"
export DEBIAN_FRONTEND=noninteractive
# Tests never talk to the services these packages may start (they run
# their own instances on free loopback ports), so a postinst that starts or
# fails to start a system service is harmless.  On a container without an
# init system, policy-rc.d may refuse service starts; that is fine too.
# shellcheck disable=SC2086 # word splitting of the package list is intended
if ! apt-get install -y --no-install-recommends $missing; then
	echo "deps: install failed; refreshing package lists and retrying"
	apt-get update || exit 1
	apt-get install -y --no-install-recommends $missing || exit 1
fi
npm_deps
