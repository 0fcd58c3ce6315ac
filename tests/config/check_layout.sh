#!/bin/bash
# tests/config/check_layout.sh [BUILD_DIR] - the layering rules of the
# README's "Layout" table hold: every `#include "..."` under daemon/,
# daemon/models/, codec/, drivers/, outputs/ and ctl/ names a file of a directory the
# including directory may include, and <libconfig.h> is included only by
# daemon/config* files.  BUILD_DIR is accepted (tests/run.sh passes it) and
# not used: the check reads the sources.  Change RULES with the README.
set -u
ROOT=${CC_LAYOUT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2

# Directory -> what its files may include besides their own directory:
# directories end in "/", single files are named in full.
declare -A RULES=(
	[daemon]="daemon/models/ codec/ drivers/ outputs/"
	[daemon/models]=""
	[codec]="daemon/util.h"
	[drivers]="codec/ daemon/ outputs/"
	[outputs]="codec/ daemon/"
	[ctl]="codec/ daemon/ drivers/ outputs/"
)

fail=0
nfiles=0
for dir in daemon daemon/models codec drivers outputs ctl; do
	for f in "$dir"/*.c "$dir"/*.h "$dir"/*.inc; do
		[ -f "$f" ] || continue
		nfiles=$((nfiles + 1))
		while IFS= read -r inc; do
			# The included file, relative to the root (as the compiler
			# finds it: next to the including file).
			target=$(realpath -m --relative-to="$ROOT" "$dir/$inc")
			tdir=$(dirname "$target")
			[ "$tdir" = "$dir" ] && continue
			ok=0
			for allowed in ${RULES[$dir]}; do
				case $allowed in
				*/) [ "$tdir/" = "$allowed" ] && ok=1 ;;
				*) [ "$target" = "$allowed" ] && ok=1 ;;
				esac
			done
			if [ "$ok" = 0 ]; then
				echo "FAIL docs/layout: $f includes $target, which $dir/ may not include"
				fail=1
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
		if grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<libconfig\.h>' "$f"; then
			case $f in
			daemon/config*) ;;
			*)
				echo "FAIL docs/layout: $f includes <libconfig.h>, which only daemon/config* may include"
				fail=1
				;;
			esac
		fi
	done
done

if [ "$nfiles" = 0 ]; then
	echo "FAIL docs/layout: no sources found under $ROOT"
	exit 1
fi
[ "$fail" = 0 ] || exit 1
echo "PASS docs/layout: the $nfiles files under daemon/, codec/, drivers/, outputs/ and ctl/ include only what the README's Layout table allows, and only daemon/config* includes <libconfig.h>"
