#!/bin/bash
# tests/config/check_help.sh BUILD_DIR - help and man pages agree with the
# code: every coldchainctl command of the command table (coldchainctl
# __commands) is in coldchainctl(1)'s SYNOPSIS with each of its options in
# the page, and every command the SYNOPSIS shows exists; each answers --help
# with its usage line and exit 0, a group without its subcommand lists them
# with exit 2; every option of coldchaind's getopt table (daemon/main.c
# long_options) is in coldchaind(8), its --help and its bash completion;
# each page renders with groff -man -ww without a warning.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CTL=$BUILD/coldchainctl
D=$BUILD/coldchaind
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fails=0
pass() { echo "PASS docs/help: $*"; }
fail() { echo "FAIL docs/help: $*"; fails=1; }
render() { MANWIDTH=200 man -l "$1" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g'; }

# --- the pages render without warnings
# (coldchaind.conf(5) is generated; check_man.sh renders it with man -l: its
# Vietnamese examples hold composed characters groff's ps fonts lack.)
for page in "$ROOT/daemon/man/coldchaind.8" "$ROOT/daemon/man/coldchainctl.1"; do
	# -k: preconv, as man(1) does (a page may hold UTF-8: °C, ², —)
	if groff -k -man -ww -z "$page" >"$tmp/groff" 2>&1 && [ ! -s "$tmp/groff" ]; then
		pass "$(basename "$page") renders with groff -man -ww without warnings"
	else
		fail "$(basename "$page"): groff -man -ww warns:"
		sed 's/^/  | /' "$tmp/groff" | head
	fi
done

# --- coldchainctl: the command table against coldchainctl(1)
"$CTL" __commands >"$tmp/cmds" || fail "coldchainctl __commands failed"
render "$ROOT/daemon/man/coldchainctl.1" >"$tmp/ctl.txt"
sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' "$tmp/ctl.txt" | sed 's/^ *//' | grep '^coldchainctl ' >"$tmp/synopsis"
n=0
missing=0
while IFS=$'\t' read -r kind path opts; do
	[ "$kind" = leaf ] || continue
	n=$((n + 1))
	grep -qE "^coldchainctl $path( |$)" "$tmp/synopsis" ||
		{ echo "  not in the SYNOPSIS of coldchainctl(1): $path"; missing=$((missing + 1)); }
	for o in $opts; do
		o=${o%%=*}
		grep -qE -- "(^|[^-a-z])$o([^-a-z]|$)" "$tmp/ctl.txt" ||
			{ echo "  option $o of $path not in coldchainctl(1)"; missing=$((missing + 1)); }
	done
done <"$tmp/cmds"
[ "$missing" = 0 ] && [ "$n" -gt 20 ] && pass "coldchainctl(1) shows all $n commands of the command table and their options" ||
	fail "$missing commands or options of the command table are not in coldchainctl(1)"
# every command the page shows exists: the longest known prefix must be a leaf
cut -f2 "$tmp/cmds" >"$tmp/paths"
extra=0
while read -r line; do
	set -- ${line#coldchainctl }
	case $1 in help | --help | --version | -h | -V | '[command]') continue ;; esac # coldchainctl's own
	best="" p=""
	for w in "$@"; do
		p=${p:+$p }$w
		grep -qxF -- "$p" "$tmp/paths" && best=$p
	done
	if [ -z "$best" ] || ! grep -qP "^leaf\t\Q$best\E\t" "$tmp/cmds"; then
		echo "  coldchainctl(1) shows a command that does not exist: $line"
		extra=$((extra + 1))
	fi
done <"$tmp/synopsis"
[ "$extra" = 0 ] && pass "every command in coldchainctl(1)'s SYNOPSIS exists" ||
	fail "$extra commands in coldchainctl(1) do not exist"

# --- coldchainctl: --help of each command, groups without a subcommand
bad=0
while IFS=$'\t' read -r kind path _; do
	# shellcheck disable=SC2086
	out=$("$CTL" $path --help 2>"$tmp/err")
	rc=$?
	if [ "$rc" != 0 ] || ! grep -q "^usage: coldchainctl $path" <<<"$out"; then
		echo "  coldchainctl $path --help: exit $rc, $(head -1 <<<"$out")$(head -1 "$tmp/err")"
		bad=$((bad + 1))
	fi
	if [ "$kind" = group ]; then
		# shellcheck disable=SC2086
		"$CTL" $path >/dev/null 2>"$tmp/err"
		rc=$?
		first=$(grep -P "^group\t|^leaf\t" "$tmp/cmds" | awk -F'\t' -v p="$path " 'index($2, p) == 1 {sub(p, "", $2); print $2; exit}')
		if [ "$rc" != 2 ] || ! grep -q "needs a command: $first" "$tmp/err"; then
			echo "  coldchainctl $path: exit $rc (want 2), $(head -1 "$tmp/err")"
			bad=$((bad + 1))
		fi
	fi
done <"$tmp/cmds"
for a in --help -h help; do
	"$CTL" $a >"$tmp/out" 2>&1 && grep -q "^usage: coldchainctl" "$tmp/out" || { echo "  coldchainctl $a"; bad=$((bad + 1)); }
done
for a in --version -V; do
	[ "$("$CTL" $a)" = "coldchainctl $(sed -n 's/^VERSION *= *//p' "$ROOT/Makefile")" ] || { echo "  coldchainctl $a"; bad=$((bad + 1)); }
done
[ "$bad" = 0 ] && pass "every coldchainctl command answers --help with its usage (exit 0), every group alone lists its commands (exit 2), --version is the Makefile's VERSION" ||
	fail "$bad help answers are wrong"

# --- coldchaind: the getopt table against coldchaind(8), --help, completion
render "$ROOT/daemon/man/coldchaind.8" >"$tmp/d.txt"
"$D" --help >"$tmp/dhelp" 2>&1
rc=$?
grep -oP '\{ "\K[a-z-]+", [a-z_]+, NULL, .[a-zA-Z]' <(sed -n '/long_options\[\] = {/,/^};/p' "$ROOT/daemon/main.c") |
	sed -E 's/^([a-z-]+)", [a-z_]+, NULL, .(.)$/\1 \2/' >"$tmp/dopts"
missing=0
while read -r long short; do
	for o in "--$long" "-$short"; do
		grep -qE -- "(^|[^-a-zA-Z])$o([^-a-zA-Z]|$)" "$tmp/d.txt" || { echo "  $o not in coldchaind(8)"; missing=$((missing + 1)); }
		grep -qE -- "(^|[^-a-zA-Z])$o([^-a-zA-Z]|$)" "$tmp/dhelp" || { echo "  $o not in coldchaind --help"; missing=$((missing + 1)); }
		grep -qE -- "(^|[^-a-zA-Z])$o([^-a-zA-Z]|$)" "$ROOT/contrib/bash-completion/coldchaind" ||
			{ echo "  $o not in contrib/bash-completion/coldchaind"; missing=$((missing + 1)); }
	done
done <"$tmp/dopts"
[ "$rc" = 0 ] && [ "$missing" = 0 ] && [ "$(wc -l <"$tmp/dopts")" -ge 8 ] &&
	[ "$("$D" --version)" = "coldchaind $(sed -n 's/^VERSION *= *//p' "$ROOT/Makefile")" ] &&
	pass "coldchaind(8), --help (exit 0) and the completion name all $(wc -l <"$tmp/dopts") options of the getopt table; --version is the Makefile's VERSION" ||
	fail "coldchaind: --help exit $rc, $missing options undocumented"
exit "$fails"
