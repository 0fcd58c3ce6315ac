#!/bin/bash
# `coldchainctl report --from/--to` read times with the program's one ISO 8601
# parser (time_parse_iso8601): a UTC offset no zone has (+15:00, +99:00), a
# sign inside a date field or a year past what nanoseconds hold is refused
# with the option, the value and the accepted forms named, before any
# configuration or InfluxDB is read.  The report used to take them (its own
# parser never checked the offset), and queried a shifted period.
. "$(dirname "$0")/../lib.sh"

CTL=$BUILD_DIR/coldchainctl
need_bin "$CTL"

for bad in 2026-06-12T08:00:00+99:00 2026-06-12T08:00:00+15:00 2026-06-12T08:00:00-23:59 \
	2026-+6-12T08:00Z 3000-01-01T00:00:00Z; do
	for opt in --from --to; do
		if [ "$opt" = --from ]; then other=(--to now); else other=(--from 1781222400); fi
		"$CTL" report --lot LN-T-0001 -c "$T/none.conf" "$opt" "$bad" "${other[@]}" >"$T/out" 2>"$T/err"
		st=$?
		if [ "$st" -eq 2 ] && grep -qF -- "$opt '$bad' is not a time (ISO 8601 with a zone" "$T/err"; then
			pass "$opt $bad is refused (exit 2) with the value and the accepted forms named"
		else
			fail "$opt $bad: exit $st, stderr: $(head -c 300 "$T/err")"
		fi
	done
done

# The accepted forms still pass the time check (the run then stops at the
# missing configuration, which proves the times were read).
for good in 2026-06-12T08:00:00+07:00 2026-06-12T08:00+14:00 2026-06-12T01:00:00.5Z 1781222400 now; do
	"$CTL" report --lot LN-T-0001 -c "$T/none.conf" --from "$good" --to now >"$T/out" 2>"$T/err"
	if grep -q "is not a time" "$T/err"; then
		fail "--from $good refused: $(head -c 300 "$T/err")"
	else
		pass "--from $good is read as a time"
	fi
done

finish
