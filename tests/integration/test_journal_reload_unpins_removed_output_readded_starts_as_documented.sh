#!/bin/bash
# Outputs come and go with SIGHUP, and the journal follows:
# 1. An output that cannot deliver (`remote`: its database does not exist
#    and create_database = false,
#    404, data kept) pins every segment; a reload that removes it drops its
#    position file (logged with what it had not sent) and the segments the
#    remaining outputs are past get deleted.
# 2. Re-added later (same name and destination) it is a new output: by
#    default it starts at the end of the journal (only what is journaled
#    from then on); another one added with start = "oldest" replays what the
#    journal still holds first — not the segments deleted meanwhile.
# Readings are numbered MQTT values: phase A 0.., B 100000.., C 200000...
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
need_bin "$COLDCHAIND"

NA=30000
JDIR=$T/state/journal
SHUTDOWN_TIMEOUT=2s
start_influxd
start_mosquitto

# write_conf OUTPUT-ENTRIES...: the config with these extra influxdb outputs
write_conf() {
	local extra=""
	for e in "$@"; do extra="$extra $e,"; done
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-reload"; };
  subscriptions = ( { topic = "rl/{room}/{sensor}/temperature"; quantity = "temperature"; } );
};
outputs = {
  influxdb = ( $extra
    { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 2000; flush = "200ms"; } );
};
journal = { max_size = "64M"; segment_size = "1M"; fsync = "200ms"; };
CONF
	} >"$DAEMON_CONF"
}
remote() { echo "{ name = \"remote\"; url = \"$(influx_url)\"; database = \"remote\"; backoff_max = \"1s\"; create_database = false; }"; }

segments() { find "$JDIR" -name '*.seg' | wc -l; }
# publish FIRST COUNT: readings FIRST..FIRST+COUNT-1, QoS 1
publish() { seq "$1" $(($1 + $2 - 1)) | mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t rl/A/s1/temperature -l; }
# count DB LO HI: readings with LO <= value <= HI in DB
scalar_in() { influx_query "$2" "$1" | json_eval 'd["results"][0]["series"][0]["values"][0][1]' 2>/dev/null; }
count() {
	local v
	v=$(scalar_in "$1" "SELECT count(value) FROM temperature WHERE sensor='s1' AND value >= $2 AND value <= $3")
	echo "${v:-0}"
}
count_is() { [ "$(count "$1" "$2" "$3")" = "$4" ]; }
reloaded() { [ "$(grep -c 'configuration reloaded' "$DAEMON_LOG")" -ge "$1" ]; }

# ---- 1. `remote` pins the journal; removing it unpins it
write_conf "$(remote)"
start_daemon
wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
publish 0 "$NA" || fail "mosquitto_pub failed"
wait_for "phase A in InfluxDB (itest)" -t 120 count_is "$INFLUX_DB" 0 $((NA - 1)) "$NA" ||
	fail "itest did not deliver phase A: $(count "$INFLUX_DB" 0 $((NA - 1)))"
n_pinned=$(segments)
check "the undeliverable output pins the journal: $n_pinned segments of 1 MiB kept" [ "$n_pinned" -ge 3 ]
check "remote has a position file" bash -c "compgen -G '$JDIR/pos-remote-*.pos' >/dev/null"

write_conf
kill -HUP "$DAEMON_PID"
wait_for "reload 1" reloaded 1 || fail "no 'configuration reloaded' after removing remote"
check "the log names the removed output and what it had not sent" \
	grep -q -E "journal: output remote is no longer configured: its position is dropped, with [0-9]+ points it had not sent" "$DAEMON_LOG"
unsent=$(grep -o -E 'output remote is no longer configured: its position is dropped, with [0-9]+' "$DAEMON_LOG" | grep -o -E '[0-9]+$')
check "what it had not sent covers phase A ($unsent >= $NA)" [ "${unsent:-0}" -ge "$NA" ]
check "its position file is gone" bash -c "! compgen -G '$JDIR/pos-remote-*.pos' >/dev/null"
unpinned() { [ "$(segments)" -le 2 ]; }
if wait_for "segments deleted once itest is past them" -t 30 unpinned; then
	pass "segments deleted once the remaining output passed them: $n_pinned -> $(segments)"
else
	fail "segments still pinned after the reload: $(segments)"
fi

# ---- 2. re-added outputs
publish 100000 1000 || fail "mosquitto_pub failed"
wait_for "phase B in InfluxDB (itest)" -t 60 count_is "$INFLUX_DB" 100000 100999 1000 || fail "itest lacks phase B"
influx_post 'CREATE DATABASE "remote"' >/dev/null || die "cannot create database remote"
influx_post 'CREATE DATABASE "remote_old"' >/dev/null || die "cannot create database remote_old"
write_conf "$(remote)" "{ name = \"remote_old\"; url = \"$(influx_url)\"; database = \"remote_old\"; start = \"oldest\"; }"
kill -HUP "$DAEMON_PID"
wait_for "reload 2" reloaded 2 || fail "no 'configuration reloaded' after re-adding remote"
publish 200000 1000 || fail "mosquitto_pub failed"
wait_for "phase C in remote" -t 60 count_is remote 200000 200999 1000 || fail "re-added remote lacks phase C"
wait_for "phase C in remote_old" -t 60 count_is remote_old 200000 200999 1000 || fail "remote_old lacks phase C"
expect_eq "re-added remote (default start = end): phase C readings" "$(count remote 200000 200999)" 1000
expect_eq "re-added remote (default start = end): no history from phase A" "$(count remote 0 $((NA - 1)))" 0
expect_eq "re-added remote (default start = end): no history from phase B" "$(count remote 100000 100999)" 0
# Phase B was journaled before remote_old existed: it gets what the journal
# still holds of it.  Normally all 1000; but when the active segment filled
# up during phase B, the segment holding B's first readings was closed and
# deleted (itest was past it) - then remote_old starts later in B, and so
# holds nothing of A.  Either way: one contiguous run ending at 100999.
b_old=$(count remote_old 100000 100999)
b_min=$(scalar_in remote_old "SELECT min(value) FROM temperature WHERE sensor='s1' AND value >= 100000 AND value <= 100999")
echo "  (remote_old replayed $b_old of phase B's 1000 readings, from ${b_min:-none})"
check "remote_old (start = oldest): phase B replayed from the journal ($b_old readings)" [ "$b_old" -gt 0 ]
check "what it replayed of phase B is contiguous up to the last (${b_min:-none}..100999)" \
	bash -c "[ \$(( 100999 - ${b_min%.*} + 1 )) = '$b_old' ]"
a_old=$(count remote_old 0 $((NA - 1)))
a_min=$(scalar_in remote_old "SELECT min(value) FROM temperature WHERE sensor='s1' AND value < $NA")
a_max=$(scalar_in remote_old "SELECT max(value) FROM temperature WHERE sensor='s1' AND value < $NA")
echo "  (remote_old replayed $a_old phase A readings: ${a_min:-none}..${a_max:-none}, the ones still in the journal)"
check "remote_old (start = oldest) does not get the deleted segments back ($a_old of $NA phase A readings)" \
	[ "$a_old" -lt "$NA" ]
if [ "$b_old" -lt 1000 ]; then
	expect_eq "phase B's head was deleted with its segment, so nothing of phase A is replayed" "$a_old" 0
fi
if [ "$a_old" -gt 0 ]; then
	check "what it replayed of phase A is its tail, contiguous (${a_min}..${a_max})" \
		bash -c "[ '$a_max' = $((NA - 1)) ] && [ \$(( $NA - ${a_min%.*} )) = '$a_old' ]"
fi
check "both re-added outputs have a position file" \
	bash -c "compgen -G '$JDIR/pos-remote-*.pos' >/dev/null && compgen -G '$JDIR/pos-remote_old-*.pos' >/dev/null"

finish
