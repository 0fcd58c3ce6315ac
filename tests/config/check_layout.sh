#!/bin/bash
# tests/config/check_layout.sh [BUILD_DIR] - the layering rules of the
# README's "Layout" table hold: every `#include "..."` under daemon/,
# daemon/config/, daemon/engine/, daemon/models/, codec/, drivers/, outputs/
# report/, ctl/ and util/ names a file of a directory the including directory may include,
# and <libconfig.h> is included only by files under daemon/config/; and the
# include graph has no cycle, between files or between modules (see below).
# BUILD_DIR is accepted (tests/run.sh passes it) and not used: the check
# reads the sources.  Change RULES with the README.
set -u
ROOT=${CC_LAYOUT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2

# Directory -> what its files may include besides their own directory:
# directories end in "/", single files are named in full.
declare -A RULES=(
	[daemon]="daemon/models/ daemon/web/ codec/ drivers/ outputs/ util/"
	[daemon/web]="daemon/ codec/ report/ util/"
	[daemon/config]="daemon/ codec/ daemon/models/ util/"
	[daemon/engine]="daemon/ daemon/models/ codec/ util/"
	[daemon/models]="util/"
	[codec]="daemon/util.h util/"
	[drivers]="codec/ daemon/ outputs/ util/"
	[outputs]="codec/ daemon/ util/"
	[ctl]="codec/ daemon/ daemon/models/ daemon/web/ drivers/ outputs/ report/ util/"
	[report]="codec/ daemon/ daemon/models/ outputs/ util/"
	[util]=""
)

fail=0
nfiles=0
# The include graph, for the cycle checks below: EDGES[file]="targets".
declare -A EDGES=()
for dir in daemon daemon/config daemon/engine daemon/models daemon/web codec drivers outputs report ctl util; do
	for f in "$dir"/*.c "$dir"/*.h "$dir"/*.inc; do
		[ -f "$f" ] || continue
		nfiles=$((nfiles + 1))
		while IFS= read -r inc; do
			# The included file, relative to the root (as the compiler
			# finds it: next to the including file).
			target=$(realpath -m --relative-to="$ROOT" "$dir/$inc")
			[ -f "$target" ] && EDGES[$f]+=" $target"
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
			daemon/config/*) ;;
			*)
				echo "FAIL docs/layout: $f includes <libconfig.h>, which only daemon/config/ may include"
				fail=1
				;;
			esac
		fi
	done
done

# No include cycle, at two levels:
# - files: a header including a header that includes it back (directly or
#   through others);
# - modules: a module is a .c/.h pair by basename (daemon/pipeline.c and
#   daemon/pipeline.h), or a directory with a header of its name beside it
#   (daemon/engine/ and daemon/engine.h); module A depends on B when a file
#   of A includes a header of B.  A header with no .c of its name (a
#   contract such as outputs/backend.h, or plain types such as
#   daemon/sample.h) is no module of its own: who includes it depends on
#   what it includes.  A cycle (pipeline.c includes engine.h while
#   the engine's files include pipeline.h) means neither can be built, tested or
#   understood without the other.
module_of() {
	local m=${1%.*} d
	d=$(dirname "$1")
	if [ -f "$d.h" ]; then
		m=$d
	elif [ "${1##*.}" = h ] && [ ! -f "$m.c" ] && [ ! -d "$m" ]; then
		m="-" # a lone header: no module, see above
	fi
	echo "$m"
}
declare -A MEDGES=() MODULE=()
for f in "${!EDGES[@]}"; do
	MODULE[$f]=$(module_of "$f")
	for t in ${EDGES[$f]}; do
		[ -n "${MODULE[$t]:-}" ] || MODULE[$t]=$(module_of "$t")
	done
done
# The modules file $2 stands for, as seen from module $1: its own, or for a
# lone header the modules of what it includes (followed through lone
# headers; $3 holds the lone headers already seen).
modules_via() {
	local from=$1 t=$2 seen=$3 u
	if [ "${MODULE[$t]}" != "-" ]; then
		echo "${MODULE[$t]}"
		return
	fi
	case " $seen " in *" $t "*) return ;; esac
	for u in ${EDGES[$t]:-}; do
		modules_via "$from" "$u" "$seen $t"
	done
}
for f in "${!EDGES[@]}"; do
	[ "${MODULE[$f]}" = "-" ] && continue
	for t in ${EDGES[$f]}; do
		for m in $(modules_via "${MODULE[$f]}" "$t" ""); do
			[ "${MODULE[$f]}" = "$m" ] && continue
			case " ${MEDGES[${MODULE[$f]}]:-} " in
			*" $m "*) ;;
			*) MEDGES[${MODULE[$f]}]+=" $m" ;;
			esac
		done
	done
done

# Depth-first search for a cycle in the graph named by $1 (an associative
# array of node -> successors); prints each cycle found as a -> b -> a.
declare -A COLOR=()
STACK=()
dfs() {
	local -n g=$1
	local n=$2 t i
	COLOR[$n]=grey
	STACK+=("$n")
	for t in ${g[$n]:-}; do
		if [ "${COLOR[$t]:-white}" = grey ]; then
			local path="" on=0
			for i in "${STACK[@]}"; do
				[ "$i" = "$t" ] && on=1
				[ "$on" = 1 ] && path+="$i -> "
			done
			echo "$path$t"
		elif [ "${COLOR[$t]:-white}" = white ]; then
			dfs "$1" "$t"
		fi
	done
	unset 'STACK[${#STACK[@]}-1]'
	COLOR[$n]=black
}
find_cycles() {
	local -n graph=$1
	local n
	COLOR=()
	STACK=()
	for n in $(printf '%s\n' "${!graph[@]}" | sort); do
		[ "${COLOR[$n]:-white}" = white ] && dfs "$1" "$n"
	done
}
while IFS= read -r c; do
	[ -n "$c" ] || continue
	echo "FAIL docs/layout: include cycle between files: $c"
	fail=1
done < <(find_cycles EDGES)
while IFS= read -r c; do
	[ -n "$c" ] || continue
	echo "FAIL docs/layout: include cycle between modules (a .c/.h pair, or a directory beside its header): $c"
	fail=1
done < <(find_cycles MEDGES)

if [ "$nfiles" = 0 ]; then
	echo "FAIL docs/layout: no sources found under $ROOT"
	exit 1
fi
[ "$fail" = 0 ] || exit 1
echo "PASS docs/layout: the $nfiles files under daemon/, codec/, drivers/, outputs/, report/, ctl/ and util/ include only what the README's Layout table allows, with no include cycle between files or modules, and only daemon/config/ includes <libconfig.h>"
