#!/bin/sh
# tests/cross/deps.sh - what `make cross ARCH=arm64|armhf` and
# tests/cross/test_cross.sh need: Debian's cross compilers, qemu-user-static
# and the -dev packages of the libraries for each target architecture
# (multiarch: `dpkg --add-architecture`).  Quiet when everything is
# present.  Otherwise, as tests/deps.sh does: prints the exact commands and
# exits 1, or, when run as root (and CC_INSTALL_DEPS is not 0), adds the
# architectures and installs what is missing.  Exit 0 when all is present.
# CC_CROSS_ARCHES (as in test_cross.sh; default "arm64 armhf") narrows the
# set, e.g. to the one architecture whose mirror index is not mid-sync.
set -u

ARCHES=${CC_CROSS_ARCHES:-arm64 armhf}
HOST_PKGS="qemu-user-static"
for a in $ARCHES; do
	case $a in
	arm64) HOST_PKGS="$HOST_PKGS gcc-aarch64-linux-gnu" ;;
	armhf) HOST_PKGS="$HOST_PKGS gcc-arm-linux-gnueabihf" ;;
	*) echo "cross deps: unknown architecture $a (arm64 or armhf)" >&2; exit 1 ;;
	esac
done
# The libraries of the Makefile's PKGS, for the target.
LIB_PKGS="libmodbus-dev libcurl4-openssl-dev libconfig-dev zlib1g-dev libcjson-dev libssl-dev
libmicrohttpd-dev libcrypt-dev nettle-dev"

want="$HOST_PKGS"
for a in $ARCHES; do
	for p in $LIB_PKGS; do want="$want $p:$a"; done
done
missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
missing=${missing# }
no_arch=""
for a in $ARCHES; do
	dpkg --print-foreign-architectures | grep -qx "$a" || no_arch="$no_arch $a"
done
[ -z "$missing" ] && exit 0

add_line=""
for a in $no_arch; do add_line="${add_line}dpkg --add-architecture $a && "; done
line="${add_line}apt-get update && apt-get install -y --no-install-recommends $missing"
if [ "$(id -u)" -ne 0 ] || [ "${CC_INSTALL_DEPS:-1}" = 0 ]; then
	echo "cross deps: missing Debian packages: $missing" >&2
	echo "cross deps: install them (as root) with:" >&2
	echo "  $line" >&2
	exit 1
fi
echo "cross deps: installing: $missing"
export DEBIAN_FRONTEND=noninteractive
# A failed step ends with the install line as the last indented line, which
# tests/cross/test_cross.sh's SKIP line quotes (a mirror mid-sync fails
# apt-get update: "File has unexpected size").
failed() {
	echo "cross deps: $1 failed (see above); the install, as root:" >&2
	echo "  $line" >&2
	exit 1
}
for a in $no_arch; do dpkg --add-architecture "$a" || failed "dpkg --add-architecture $a"; done
apt-get update || failed "apt-get update"
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y --no-install-recommends $missing || failed "apt-get install"
