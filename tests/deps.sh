#!/bin/sh
# Debian packages needed to build coldchaind and run its whole test suite.
# Quiet when everything is present.  Otherwise prints the exact apt-get
# line and exits 1, or, when run as root, installs what is missing (the
# README's two commands work on a fresh Debian 12 machine as root).
# python3-serial-asyncio: pymodbus imports it (a Recommends, so
# --no-install-recommends leaves it out and the pymodbus peer cannot start).
# CC_INSTALL_DEPS=0 asks root to print the line instead of installing.
set -u

PKGS="build-essential pkg-config libmodbus-dev libcurl4-openssl-dev libconfig-dev
zlib1g-dev libcjson-dev libmosquitto-dev libmicrohttpd-dev libcrypt-dev nettle-dev mosquitto mosquitto-clients influxdb
influxdb-client socat mbpoll python3-pymodbus python3-serial-asyncio python3-prometheus-client curl chromium
gettext python3-aiosmtpd"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
missing=${missing# }
[ -z "$missing" ] && exit 0

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
