#!/bin/bash
# Counts people read ("1 buses", "1 registers") take plural() (daemon/util.h)
# when the count can be 1: fails on a format string with an integer
# conversion followed by a plural noun ("%zu buses", "%" PRIu64 " lines")
# outside the allow-list below.  The allow-list holds counts that are never
# 1 (limits from constants) and files other engineers own while they finish
# them (the web pages, the report); every entry says why.
set -u
cd "$(dirname "$0")/../.." || exit 2
# file:noun  why
ALLOW='
daemon/control.c:connections   CONTROL_MAX_CLIENTS, a constant > 1
daemon/config/process.c:stages DRYING_STAGES_MAX, a constant > 1
daemon/config/process.c:characters DRYING_STAGE_NAME - 1, a constant > 1
daemon/config/modbus.c:registers only types of 2 or 4 words can run past 65535
daemon/engine/eval.c:alarms    flood_start / flood_end, "more than N alarms" reads right for N = 1
daemon/i18n.c:lots             ngettext picks the form
daemon/web/web.c:users         issue 15 files, owned by the web engineer
daemon/web/web.c:connections   issue 15 files, owned by the web engineer
daemon/web/auth.c:users        issue 15 files, owned by the web engineer
daemon/web/auth.c:sessions     issue 15 files, owned by the web engineer
ctl/report_html.c:points       the report, moving to report/ (another engineer)
'
# units and verbs after a number are not counted nouns
NOT_NOUNS='ms|s|bytes|seconds|minutes|hours|days|is|does|closes|needs|answers|runs'
bad=0
while IFS=: read -r file line noun; do
	case "|$NOT_NOUNS|" in *"|$noun|"*) continue ;; esac
	if printf '%s\n' "$ALLOW" | grep -q "^$file:$noun "; then
		continue
	fi
	echo "FAIL check_plurals: $file:$line: \"N $noun\" without plural() (daemon/util.h)"
	bad=$((bad + 1))
done < <(grep -rnoE '%[-0-9.]*(zu|d|u|ld|lu|llu|" PRI[ud](32|64) ")[ ]+[a-z_]+s\b' --include=*.c \
	daemon drivers outputs codec ctl | sed -E 's/^([^:]+):([0-9]+):.* ([a-z_]+)$/\1:\2:\3/')
if [ "$bad" -gt 0 ]; then
	echo "check_plurals: $bad count(s) need plural(n, \"one\", \"many\")"
	exit 1
fi
echo "PASS check_plurals: every counted noun in a format takes plural() or is allow-listed"
