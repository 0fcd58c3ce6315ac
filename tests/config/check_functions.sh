#!/bin/bash
# tests/config/check_functions.sh [BUILD_DIR] [FILE...] - no function of the
# daemon, the codecs, the drivers, the outputs, the report or coldchainctl is longer than
# a screen (issue 13, point 5) unless it says why.  A function is measured
# from the `{` at column 0 that opens its body to the `}` at column 0 that
# closes it (the project's style puts a function's braces there); one longer
# than CC_FUNC_MAX lines (80) fails unless a comment `/* long: REASON */`
# sits in the comment just above its first line or in its first three lines.
# Functions written on one line are not counted (they are short).
# And no .c file is longer than CC_FILE_MAX lines (1,500): split it by
# purpose (as daemon/journal*.c are), a private NAME_int.h holding what its
# files share.  Files in FILE_EXEMPT are not measured (each says why).
# With FILE arguments only those files are checked (to check one's own files
# while others are still being shortened).  BUILD_DIR is accepted, as
# tests/run.sh passes it, and not used: the check reads the sources.
set -u
ROOT=${CC_FUNC_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
MAX=${CC_FUNC_MAX:-80}
FILE_MAX=${CC_FILE_MAX:-1500}
FILE_EXEMPT=()
cd "$ROOT" || exit 2

# A first argument that is a directory (here or where we were called) is
# the build directory, not a source.
if [ $# -gt 0 ] && { [ -d "$1" ] || [ -d "$OLDPWD/$1" ]; }; then
	shift
fi
if [ $# -gt 0 ]; then
	files=("$@")
	what="$*"
else
	files=()
	for dir in daemon codec drivers outputs report ctl util; do
		[ -d "$dir" ] || continue
		while IFS= read -r f; do
			files+=("$f")
		done < <(find "$dir" -name '*.c' -o -name '*.inc' | sort)
	done
	what="daemon/, codec/, drivers/, outputs/, report/, ctl/ and util/"
fi
if [ ${#files[@]} = 0 ]; then
	echo "FAIL style/functions: no sources found under $ROOT"
	exit 1
fi
for f in "${files[@]}"; do
	if [ ! -f "$f" ]; then
		echo "FAIL style/functions: $f: no such file"
		exit 1
	fi
done

# One line per function: FILE:LINE NAME LENGTH EXCUSED(0/1).  LINE is the
# line of the signature's first line; LENGTH counts the body's lines, braces
# included.  The signature runs back from the `{` line to the line after a
# blank line, a comment's end, a `}`, a `;` or a preprocessor line.
measure() {
	awk -v max="$MAX" '
	FNR == 1 { n = 0; inbody = 0 }
	{ line[FNR] = $0 }
	!inbody && /^\{/ {
		start = FNR - 1
		while (start > 1 && line[start - 1] !~ /^[[:space:]]*$/ &&
		       line[start - 1] !~ /\*\/[[:space:]]*$/ && line[start - 1] !~ /^[};#]/ &&
		       line[start - 1] !~ /;[[:space:]]*$/)
			start--
		sig = ""
		for (i = start; i < FNR; i++)
			sig = sig " " line[i]
		# The name before the first "(": none for a brace that opens
		# something else (an initialiser).
		name = sig
		gsub(/__attribute__ *\(\([^()]*(\([^()]*\))?[^()]*\)\)/, "", name)
		sub(/\(.*/, "", name)
		sub(/.*[^A-Za-z0-9_]/, "", name)
		if (sig !~ /\(/)
			name = ""
		# The comment just above the signature: the contiguous comment
		# lines before it.
		excused = 0
		for (i = start - 1; i >= 1 && line[i] ~ /^[[:space:]]*(\/\*|\*)|\*\/[[:space:]]*$/; i--)
			if (line[i] ~ /\/\* *long: *[^ *]/) excused = 1
		open = FNR
		inbody = 1
		next
	}
	inbody && FNR <= open + 3 && /\/\* *long: *[^ *]/ { excused = 1 }
	inbody && /^\}/ {
		inbody = 0
		if (name != "")
			printf "%s:%d %s %d %d\n", FILENAME, start, name, FNR - open + 1, excused
	}
	' "$@"
}

fail=0
nfun=0
nlong=0
nfiles=0
for f in "${files[@]}"; do
	case $f in *.c) ;; *) continue ;; esac
	exempt=0
	for x in "${FILE_EXEMPT[@]}"; do
		[ "$f" = "$x" ] && exempt=1
	done
	[ "$exempt" = 1 ] && continue
	nfiles=$((nfiles + 1))
	n=$(wc -l <"$f")
	if [ "$n" -gt "$FILE_MAX" ]; then
		echo "FAIL style/functions: $f is $n lines (over $FILE_MAX: split it by purpose)"
		fail=1
	fi
done
while read -r where name len excused; do
	nfun=$((nfun + 1))
	[ "$len" -gt "$MAX" ] || continue
	if [ "$excused" = 1 ]; then
		nlong=$((nlong + 1))
		continue
	fi
	echo "FAIL style/functions: $where: $name is $len lines (over $MAX, and no /* long: REASON */ comment says why)"
	fail=1
done < <(measure "${files[@]}")

if [ "$nfun" = 0 ]; then
	echo "FAIL style/functions: no function found in $what"
	exit 1
fi
[ "$fail" = 0 ] || exit 1
echo "PASS style/functions: the $nfun functions of $what are at most $MAX lines long, or say why ($nlong do); its $nfiles .c files at most $FILE_MAX lines (${#FILE_EXEMPT[@]} exempt)"
