# tests/lib.sh - shared helpers for the integration tests (bash, sourced).
# Real servers on 127.0.0.1, free ports from the kernel, one temp dir per
# test, and only the processes a test started are stopped, by PID.
# shellcheck shell=bash

set -u

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$TESTS_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT_DIR/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT_DIR/$BUILD_DIR ;; esac
COLDCHAIND=$BUILD_DIR/coldchaind
MODBUS_SIM=$BUILD_DIR/tests/modbus_sim
# `python3` on PATH may be a pyenv build without Debian's modules
# (pymodbus); the system interpreter has them.
PY=/usr/bin/python3
# Where the tests' Python heredocs import their helpers from (ctl_client.py).
export CC_ITEST_DIR=$TESTS_DIR/integration
# Generous: a loaded 2-core machine, possibly under ASan.
WAIT_TIMEOUT=${CC_WAIT_TIMEOUT:-60}

TEST_NAME=$(basename "$0" .sh)
# Short: a UNIX socket path (the control socket in the state dir) has a
# 107-byte limit.
T=$(mktemp -d "${TMPDIR:-/tmp}/cc-${TEST_NAME:5:24}.XXXXXX") || exit 1
FAILS=0
PASSES=0
PIDS=()             # every process started by this test, in start order
declare -A PID_NAME # pid -> name, for messages
LAST_PID=
DAEMON_PID=
DAEMON_LOG=$T/coldchaind.log
DAEMON_CONF=$T/coldchaind.conf

# ---------------------------------------------------------------- reporting

pass() { PASSES=$((PASSES + 1)); echo "PASS integration/$TEST_NAME: $*"; }

# A test that cannot run here says so and ends: counted as skipped by
# tests/run.sh, never as passed.
skip() {
	echo "SKIP integration/$TEST_NAME: $*"
	exit 0
}

# Prints the tail of a log, indented so no line can be taken for a result.
show_log() {
	local f=$1 n=${2:-25}
	[ -s "$f" ] || return 0
	echo "  --- last $n lines of $f:"
	tail -n "$n" "$f" | sed 's/^/  | /'
}

fail() {
	FAILS=$((FAILS + 1))
	echo "FAIL integration/$TEST_NAME: $*"
	show_log "$DAEMON_LOG"
}

# A setup step failed: nothing after it can be meaningful.
die() {
	fail "$*"
	exit 1
}

# check DESC CMD...: PASS/FAIL on the command's status.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# Numeric equality of two decimal strings (3.5 == 3.50); exact, no tolerance.
num_eq() {
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) == float(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

# expect_num DESC ACTUAL EXPECTED
expect_num() {
	if [ -n "$2" ] && num_eq "$2" "$3"; then
		pass "$1 = $3"
	else
		fail "$1: expected $3, got '${2}'"
	fi
}

# expect_eq DESC ACTUAL EXPECTED (strings)
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1: expected '$3', got '$2'"; fi
}

# client_verdicts FILE [LAST]: a test client's "ok WHAT" and "bad WHAT" lines
# as passes and failures (any other line fails: a traceback), and a failure
# unless a line begins "ok LAST" (default "client ran to its end").
client_verdicts() {
	local line last=${2:-client ran to its end}
	while IFS= read -r line; do
		case $line in
		"ok "*) pass "${line#ok }" ;;
		"bad "*) fail "${line#bad }" ;;
		*) fail "client: $line" ;;
		esac
	done <"$1"
	grep -q "^ok $last" "$1" || fail "the client did not run to its end"
}

# Ends the test: stops a daemon still running (it must exit 0 on SIGTERM:
# under `make check` that is where LeakSanitizer speaks), looks for
# sanitizer reports in every log, exits 1 when any check failed.
finish() {
	local st f
	if [ -n "$DAEMON_PID" ]; then
		stop_daemon 40
		st=$?
		[ "$st" -eq 0 ] || fail "coldchaind exited with status $st on SIGTERM at the end of the test"
	fi
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		if grep -q -E 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$f"; then
			FAILS=$((FAILS + 1))
			echo "FAIL integration/$TEST_NAME: sanitizer report in $(basename "$f")"
			grep -E -A 30 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" | head -n 60 | sed 's/^/  | /'
		fi
	done
	if [ "$FAILS" -gt 0 ]; then exit 1; fi
	if [ "$PASSES" -eq 0 ]; then
		echo "FAIL integration/$TEST_NAME: no check ran"
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------------- processes

pid_alive() {
	local pid=$1 state
	[ -r "/proc/$pid/stat" ] || return 1
	# Field 3 after the parenthesised command name; Z = exited, not reaped.
	state=$(sed 's/^.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# start_bg NAME LOGFILE CMD...: runs CMD in the background with stdout and
# stderr to LOGFILE; its PID is recorded (and left in LAST_PID).
start_bg() {
	local name=$1 log=$2
	shift 2
	"$@" >>"$log" 2>&1 </dev/null &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	PID_NAME[$LAST_PID]=$name
}

# stop_pid PID [GRACE_SECONDS]: SIGTERM, then SIGKILL once the grace period
# is over.  Returns the process's exit status (128+N for a signal).
stop_pid() {
	local pid=$1 grace=${2:-15} i=0 st=0
	[ -n "$pid" ] || return 0
	if pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		while pid_alive "$pid" && [ "$i" -lt $((grace * 10)) ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if pid_alive "$pid"; then
			echo "  (${PID_NAME[$pid]:-pid $pid} ignored SIGTERM for ${grace}s: SIGKILL)"
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	st=$?
	forget_pid "$pid"
	return "$st"
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

any_alive() {
	local p
	for p in "$@"; do pid_alive "$p" && return 0; done
	return 1
}

# On exit (normal, failed or interrupted): SIGTERM to every process still
# recorded, SIGKILL to what is left after 5 s.  Bounded, so a runner's
# timeout never has to kill us before we have stopped our servers.
cleanup() {
	local st=$? p i=0
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do pid_alive "$p" && kill -TERM "$p" 2>/dev/null; done
	while any_alive "${PIDS[@]}" && [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	for p in "${PIDS[@]}"; do pid_alive "$p" && kill -KILL "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ "${CC_KEEP_TMP:-0}" = 1 ]; then
		echo "  (temp dir kept: $T)"
	else
		rm -rf "$T"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for DESC [-t SECONDS] CMD...: polls CMD until it succeeds.  Returns 1
# (and says what it waited for) after the timeout.
wait_for() {
	local desc=$1 timeout=$WAIT_TIMEOUT deadline
	shift
	if [ "${1:-}" = -t ]; then
		timeout=$2
		shift 2
	fi
	deadline=$((SECONDS + timeout))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "  (timed out after ${timeout}s waiting for: $desc)"
			return 1
		fi
		sleep 0.2
	done
	return 0
}

# test_pki DIR: a test CA (DIR/ca.crt, ca.key) and a server certificate it
# signed for localhost and 127.0.0.1 (DIR/server.crt, server.key), RSA, 2
# days; dies when openssl fails.
test_pki() {
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test-ca" -keyout "$1/ca.key" -out "$1/ca.crt" \
		>/dev/null 2>&1 || die "openssl: cannot make the CA"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$1/server.key" -out "$1/server.csr" \
		>/dev/null 2>&1 || die "openssl: server key"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$1/ext"
	openssl x509 -req -in "$1/server.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" -CAcreateserial -days 2 \
		-extfile "$1/ext" -out "$1/server.crt" >/dev/null 2>&1 || die "openssl: server certificate"
}

# Asks the kernel for a free TCP port on the loopback.  (Another process
# could take it before we bind it; on a test box that is rare enough.)
free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

port_open() {
	"$PY" -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# listens_on PID PORT: process PID holds a TCP socket listening on PORT (its
# own, not another process's that took the port first: a server that could
# not bind is not up because something answers there).
listens_on() {
	local inode hex
	hex=$(printf '%04X' "$2")
	for inode in $(awk -v p=":$hex" '$2 ~ p "$" && $4 == "0A" { print $10 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
		find "/proc/$1/fd" -lname "socket:\[$inode\]" 2>/dev/null | grep -q . && return 0
	done
	return 1
}

file_has() { [ -f "$2" ] && grep -q -- "$1" "$2"; }

# need_bin PATH...: the test cannot run without these (not built yet?).
need_bin() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || die "missing $b (run 'make all' first)"
	done
}

# ---------------------------------------------------------------- JSON

# json_eval EXPR: evaluates a Python expression over the JSON on stdin (as
# `d`) and prints the result ('' for None); exit 1 if the expression fails.
json_eval() {
	"$PY" -c 'import json, sys
try:
    d = json.load(sys.stdin)
    r = eval(sys.argv[1])
except (ValueError, KeyError, IndexError, TypeError):
    sys.exit(1)
print("" if r is None else r)' "$1"
}

# influx_rows: prints every row of every series of an InfluxDB /query reply
# as tab-separated values, preceded by the series' tags as k=v,k=v (or "-")
# and the measurement name.  A query error goes to stderr with exit 1.
influx_rows() {
	"$PY" -c 'import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.stderr.write("influx: no JSON reply\n"); sys.exit(1)
for r in d.get("results", []):
    if "error" in r:
        sys.stderr.write("influx error: %s\n" % r["error"]); sys.exit(1)
    for s in r.get("series", []):
        tags = ",".join("%s=%s" % kv for kv in sorted((s.get("tags") or {}).items())) or "-"
        for v in s.get("values", []):
            print("\t".join([s.get("name", "")] + [tags] + ["" if x is None else str(x) for x in v]))
if "error" in d:
    sys.stderr.write("influx error: %s\n" % d["error"]); sys.exit(1)'
}

# ---------------------------------------------------------------- InfluxDB

INFLUX_PORT=
INFLUX_PID=
INFLUX_DIR=$T/influxdb
INFLUX_LOG=$T/influxd.log
INFLUX_DB=coldchain

# Writes a test instance's config: every listener on the loopback on free
# ports, every directory in the temp dir, no usage reporting, no extra
# listeners, no _internal monitor database (less load).
influxd_configure() {
	INFLUX_PORT=$(free_port)
	local rpc_port
	rpc_port=$(free_port)
	mkdir -p "$INFLUX_DIR"
	influxd config -config /dev/null >"$INFLUX_DIR/default.conf" 2>/dev/null ||
		die "influxd config failed"
	"$PY" - "$INFLUX_DIR/default.conf" "$INFLUX_DIR/influxdb.conf" "$INFLUX_DIR" \
		"$INFLUX_PORT" "$rpc_port" <<'PYEOF' || die "cannot write influxdb.conf"
import re, sys
src, dst, d, http_port, rpc_port = sys.argv[1:]
sect = ""
out = []
def q(s): return '"%s"' % s
for line in open(src):
    m = re.match(r"\s*\[+([^\]]+)\]+\s*$", line)
    if m:
        sect = m.group(1)
        out.append(line); continue
    m = re.match(r"(\s*)([A-Za-z0-9_-]+)\s*=", line)
    if not m:
        out.append(line); continue
    ind, key = m.group(1), m.group(2)
    val = None
    if sect == "":
        if key == "bind-address": val = q("127.0.0.1:" + rpc_port)
        # Upstream spells it reporting-disabled; Debian's build reporting-enabled.
        elif key == "reporting-disabled": val = "true"
        elif key == "reporting-enabled": val = "false"
    elif sect == "meta" and key == "dir": val = q(d + "/meta")
    elif sect == "data" and key == "dir": val = q(d + "/data")
    elif sect == "data" and key == "wal-dir": val = q(d + "/wal")
    elif sect == "data" and key == "query-log-enabled": val = "false"
    elif sect == "monitor" and key == "store-enabled": val = "false"
    elif sect == "http" and key == "bind-address": val = q("127.0.0.1:" + http_port)
    elif sect == "http" and key == "unix-socket-enabled": val = "false"
    elif sect == "http" and key == "bind-socket": val = q(d + "/influxdb.sock")
    elif sect == "http" and key == "log-enabled": val = "false"
    elif sect in ("udp", "graphite", "collectd", "opentsdb", "ifql") and key == "enabled": val = "false"
    if val is not None:
        line = "%s%s = %s\n" % (ind, key, val)
    out.append(line)
open(dst, "w").write("".join(out))
PYEOF
}

influx_url() { echo "http://127.0.0.1:$INFLUX_PORT"; }

influx_ping() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(influx_url)/ping")" = 204 ]
}

# bind_lost NAME PID LOG FRESH TRY: on a first start (FRESH 1) with
# attempts left (TRY < 3), the server exited saying its address was in use:
# a port free_port saw free was taken before the server bound it (another
# process's connection can take one meanwhile).  Reaps PID, says so, and
# succeeds: start again on new ports.  A restart (FRESH 0) keeps its port.
bind_lost() {
	{ [ "$4" = 1 ] && [ "$5" -lt 3 ] && ! pid_alive "$2" && tail -n 3 "$3" | grep -qi "address already in use"; } ||
		return 1
	echo "  ($1: a port was taken before it bound it; new ports, attempt $(($5 + 1)))"
	stop_pid "$2" 1 >/dev/null # its exit status is the failed start's
	return 0
}

influxd_ready() { listens_on "$INFLUX_PID" "$INFLUX_PORT" && influx_ping; }
influxd_up() { influxd_ready || ! pid_alive "$INFLUX_PID"; }
# start_influxd [DB]: starts a fresh instance (or, when called again after
# stop_influxd, the same one again on the same port and data) and creates DB.
start_influxd() {
	local db=${1:-$INFLUX_DB} fresh=0 try
	INFLUX_DB=$db
	[ -f "$INFLUX_DIR/influxdb.conf" ] || fresh=1
	for try in 1 2 3; do
		[ -f "$INFLUX_DIR/influxdb.conf" ] || influxd_configure
		start_bg influxd "$INFLUX_LOG" influxd run -config "$INFLUX_DIR/influxdb.conf"
		INFLUX_PID=$LAST_PID
		wait_for "influxd /ping on port $INFLUX_PORT" influxd_up
		influxd_ready && break
		if bind_lost influxd "$INFLUX_PID" "$INFLUX_LOG" "$fresh" "$try"; then
			rm -f "$INFLUX_DIR/influxdb.conf"
			continue
		fi
		show_log "$INFLUX_LOG"
		die "influxd did not answer /ping on 127.0.0.1:$INFLUX_PORT"
	done
	influx_post "CREATE DATABASE \"$db\"" >/dev/null || die "cannot create database $db"
}

stop_influxd() {
	stop_pid "$INFLUX_PID" 30
	INFLUX_PID=
}

influx_post() {
	curl -sS --fail --max-time 30 -XPOST "$(influx_url)/query" --data-urlencode "q=$1"
}

# influx_query QUERY [DB]: the JSON reply (timestamps in epoch seconds, or
# INFLUX_EPOCH: ns, u, ms, s).
influx_query() {
	curl -sS --max-time 30 -G "$(influx_url)/query" \
		--data-urlencode "db=${2:-$INFLUX_DB}" \
		--data-urlencode "epoch=${INFLUX_EPOCH:-s}" \
		--data-urlencode "q=$1"
}

# influx_scalar QUERY: the second column (the first after time) of the
# first row, or nothing.
influx_scalar() {
	influx_query "$1" | json_eval 'd["results"][0]["series"][0]["values"][0][1]' 2>/dev/null
}

# influx_has QUERY: true when the query returns at least one row.
influx_has() {
	[ -n "$(influx_query "$1" | influx_rows 2>/dev/null)" ]
}

# ---------------------------------------------------------------- Modbus simulator

SIM_PORT=
SIM_PID=

# start_sim NAME SIM-ARGS...: starts build/tests/modbus_sim, waits until it
# listens.  With --tcp 127.0.0.1:0 the chosen port is left in SIM_PORT.
start_sim() {
	local name=$1 ready
	shift
	ready=$T/$name.ready
	rm -f "$ready"
	start_bg "$name" "$T/$name.log" "$MODBUS_SIM" "$@" --ready-file "$ready"
	SIM_PID=$LAST_PID
	if ! wait_for "$name ready" sim_ready "$ready" "$SIM_PID" "$T/$name.log"; then
		show_log "$T/$name.log"
		die "$name did not become ready"
	fi
	pid_alive "$SIM_PID" || {
		show_log "$T/$name.log"
		die "$name exited at start-up"
	}
	SIM_PORT=$(cat "$ready" 2>/dev/null)
	if [ -z "$SIM_PORT" ]; then
		SIM_PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$T/$name.log" | head -n 1)
	fi
}

# Ready: the ready file is written, or it said so, or it is gone.
sim_ready() { [ -s "$1" ] || grep -q "listening on" "$3" 2>/dev/null || ! pid_alive "$2"; }

# ---------------------------------------------------------------- the daemon

# The parts of a config every test shares.  Tests add `modbus = (...);`.
config_head() {
	cat <<EOF
site = "${SITE:-itest}";
state_dir = "$T/state";
stats_interval = "${STATS_INTERVAL:-2s}";
shutdown_timeout = "${SHUTDOWN_TIMEOUT:-10s}";
log = { level = "${LOG_LEVEL:-info}"; };
EOF
}

config_outputs() {
	cat <<EOF
outputs = {
  influxdb = (
    { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB";
      batch = 1000; flush = "${INFLUX_FLUSH:-1s}"; }
  );
};
EOF
}

daemon_started() { grep -q "started" "$DAEMON_LOG" 2>/dev/null || ! pid_alive "$DAEMON_PID"; }

# start_daemon [CONF]: checks CONF with -n (the errors are shown), starts
# the daemon in the foreground with its log in $DAEMON_LOG and waits for
# its "started" line.
start_daemon() {
	local conf=${1:-$DAEMON_CONF}
	mkdir -p "$T/state"
	if ! "$COLDCHAIND" -n -c "$conf" >"$T/check.out" 2>&1; then
		sed 's/^/  | /' "$T/check.out"
		die "coldchaind -n rejects the test config $conf"
	fi
	start_bg coldchaind "$DAEMON_LOG" "$COLDCHAIND" -c "$conf"
	DAEMON_PID=$LAST_PID
	wait_for "coldchaind started" daemon_started || die "coldchaind did not log 'started'"
	pid_alive "$DAEMON_PID" || die "coldchaind exited at start-up"
}

# stop_daemon [GRACE]: SIGTERM; returns the exit status.
stop_daemon() {
	local st=0
	stop_pid "$DAEMON_PID" "${1:-30}" || st=$?
	DAEMON_PID=
	return "$st"
}

# lp_timestamps FILE MEASUREMENT SENSOR: the timestamps (as written, ns) of
# the good readings (with a value field) of one sensor in a line-protocol
# file such as the daemon's file output, one per line, sorted, unique.
lp_timestamps() {
	[ -f "$1" ] || return 0
	"$PY" - "$1" "$2" "$3" <<'PYEOF'
import sys
path, meas, sensor = sys.argv[1:]
ts = set()
for line in open(path, errors="replace"):
    parts = line.rstrip("\n").split(" ")
    if len(parts) < 3:
        continue
    key = parts[0].split(",")
    tags = dict(kv.split("=", 1) for kv in key[1:] if "=" in kv)
    if key[0] == meas and tags.get("sensor") == sensor and any(
            f.startswith("value=") for f in parts[1].split(",")):
        ts.add(int(parts[-1]))
print("\n".join(str(t) for t in sorted(ts)))
PYEOF
}

# lp_value_stats FILE SENSOR: "LINES DISTINCT" of one sensor's temperature
# readings in a line-protocol file such as the daemon's file output: how many
# lines carry a value, and how many different values they carry (a reading
# delivered twice shows as LINES > DISTINCT).  "0 0" while FILE is missing.
lp_value_stats() {
	"$PY" - "$1" "$2" <<'PYEOF'
import sys
lines, vals = 0, set()
try:
    for line in open(sys.argv[1], errors="replace"):
        parts = line.rstrip("\n").split(" ")
        if len(parts) < 3 or not parts[0].startswith("temperature,") or ",sensor=%s," % sys.argv[2] not in parts[0] + ",":
            continue
        for f in parts[1].split(","):
            if f.startswith("value="):
                lines += 1
                vals.add(float(f[6:]))
except FileNotFoundError:
    pass
print(lines, len(vals))
PYEOF
}

# influx_timestamps QUERY: the ns timestamps of a query's rows, sorted, unique.
influx_timestamps() {
	INFLUX_EPOCH=ns influx_query "$1" | influx_rows | cut -f3 | sort -n -u
}

# ---------------------------------------------------------------- MQTT broker

MQTT_PORT=
MQTT_PID=
MQTT_DIR=$T/mosquitto
MQTT_LOG=$T/mosquitto.log

mosquitto_up() { listens_on "$MQTT_PID" "$MQTT_PORT" || ! pid_alive "$MQTT_PID"; }
# start_mosquitto [EXTRA_CONFIG_LINES]: Debian's broker on a free loopback
# port, persistence in the temp dir (user root: Debian's mosquitto would
# drop to a user that cannot write there).  Called again after
# stop_mosquitto, it restarts the same broker (port, persistence).
start_mosquitto() {
	local fresh=0 try
	mkdir -p "$MQTT_DIR"
	[ -f "$MQTT_DIR/mosquitto.conf" ] || fresh=1
	for try in 1 2 3; do
		if [ ! -f "$MQTT_DIR/mosquitto.conf" ]; then
			MQTT_PORT=$(free_port)
			cat >"$MQTT_DIR/mosquitto.conf" <<MQEOF
user root
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $MQTT_DIR/
autosave_interval 1
max_queued_messages 100000
log_dest stderr
log_type error
log_type warning
log_type notice
${1:-}
MQEOF
		fi
		start_bg mosquitto "$MQTT_LOG" mosquitto -c "$MQTT_DIR/mosquitto.conf"
		MQTT_PID=$LAST_PID
		wait_for "mosquitto on port $MQTT_PORT" mosquitto_up
		listens_on "$MQTT_PID" "$MQTT_PORT" && return 0
		if bind_lost mosquitto "$MQTT_PID" "$MQTT_LOG" "$fresh" "$try"; then
			rm -f "$MQTT_DIR/mosquitto.conf"
			continue
		fi
		show_log "$MQTT_LOG"
		die "mosquitto did not listen on 127.0.0.1:$MQTT_PORT"
	done
}

stop_mosquitto() {
	stop_pid "$MQTT_PID" 20
	MQTT_PID=
}

# mqtt_pub TOPIC PAYLOAD [mosquitto_pub options...]: one QoS 1 message.
mqtt_pub() {
	local topic=$1 payload=$2
	shift 2
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "$topic" -m "$payload" "$@"
}

# daemon_mqtt_connected [N]: the daemon's log says it connected (N times).
daemon_mqtt_connected() {
	[ "$(grep -c 'mqtt broker .*: connected as' "$DAEMON_LOG" 2>/dev/null)" -ge "${1:-1}" ]
}

# mqtt_self_lines FILE: the broker connection's coldchaind_mqtt self-metrics
# lines in FILE (a line-protocol capture), one a second; not a
# subscription's (those carry subscription=).
mqtt_self_lines() { grep '^coldchaind_mqtt,' "$1" 2>/dev/null | grep -v 'subscription='; }
# mqtt_self_stat FIELD FILE: FIELD's value in the last of them (empty if none).
mqtt_self_stat() { mqtt_self_lines "$2" | tail -n 1 | grep -o "[, ]$1=[0-9]*" | grep -o '[0-9]*$'; }

# influx_count QUERY: the count a `SELECT count(...)` returns, 0 when none.
influx_count() {
	local v
	v=$(influx_scalar "$1")
	echo "${v:-0}"
}

# ---------------------------------------------------------------- outages

# start_outage_daemon NAME MAX_SIZE FILE: InfluxDB, mosquitto and a daemon
# taking readings from NAME/{room}/{sensor}/temperature (client id
# cc-itest-NAME) into an InfluxDB output (itest, backoff_max 1s) and a file
# output at FILE (archive), through a journal of 1 MiB segments capped at
# MAX_SIZE.  Returns once the daemon's self-metrics reach InfluxDB: the
# test can then stop_influxd for its outage.
start_outage_daemon() {
	local name=$1 max_size=$2 file=$3
	start_influxd
	start_mosquitto
	{
		config_head
		cat <<CONF
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-itest-$name"; };
  subscriptions = ( { topic = "$name/{room}/{sensor}/temperature"; quantity = "temperature"; } );
};
outputs = {
  influxdb = ( { name = "itest"; url = "$(influx_url)"; database = "$INFLUX_DB"; batch = 1000; flush = "200ms";
                 backoff_max = "1s"; } );
  file = ( { name = "archive"; path = "$file"; } );
};
journal = { max_size = "$max_size"; segment_size = "1M"; fsync = "200ms"; };
CONF
	} >"$DAEMON_CONF"
	start_daemon
	wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
	wait_for "self-metrics in InfluxDB" influx_has "SELECT * FROM coldchaind_journal" ||
		die "nothing reached InfluxDB before the outage"
}

# ---------------------------------------------------------------- a small disk

# mount_journal_tmpfs SIZE: a tmpfs of SIZE mounted at $T/journal (left in
# J) for a journal to fill up.  Needs root (CI runs as root): the test is
# skipped otherwise.  Whatever happens, the mount goes before cleanup removes
# $T (lazily: the daemon may still hold files open until cleanup stops it).
mount_journal_tmpfs() {
	if [ "$(id -u)" != 0 ]; then
		skip "not root: cannot mount a small tmpfs"
	fi
	J=$T/journal
	mkdir -p "$J"
	mount -t tmpfs -o "size=$1,mode=0700" cc-test-journal "$J" || die "cannot mount a tmpfs on $J"
	trap 'st=$?; umount -l "$J" 2>/dev/null; (exit $st); cleanup' EXIT
}

umount_journal() { umount "$J" 2>/dev/null || umount -l "$J" 2>/dev/null; }

# --- processing-batch and lot-report tests (shared by the report and
# batch tests; before, each carried its own copy)

# start_daemon_mqtt [CONF]: start_daemon, then wait until it connected to
# the test broker.
start_daemon_mqtt() {
	start_daemon "$@"
	wait_for "mqtt connected" daemon_mqtt_connected || die "coldchaind did not connect to mosquitto"
}

# ctl COMMAND ARGS...: coldchainctl ($CTL, default $BUILD_DIR/coldchainctl)
# with the test's configuration.
ctl() {
	local c=$1
	shift
	"${CTL:-$BUILD_DIR/coldchainctl}" "$c" -c "$DAEMON_CONF" "$@"
}

# iso EPOCH_SECONDS: RFC 3339 UTC, as coldchainctl takes and the report prints.
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# round NUMBER DIGITS: printf-style rounding, as the report's CSV writes.
round() { "$PY" -c "print('%.${2}f' % $1)"; }

# csv_get FILE TYPE KEYCOL KEY COLUMN: a cell of a report CSV (its first
# column is the record type; the first row of a type is that type's header).
# csv_get FILE TYPE '' '' COLUMN: that column of every TYPE record,
# comma-joined (csv_column).
csv_get() {
	"$PY" - "$@" <<'PYEOF'
import csv, sys
path, typ, keycol, key, col = sys.argv[1:]
head, out = None, []
for row in csv.reader(open(path, encoding="utf-8")):
    if not row or row[0] != typ:
        continue
    if head is None:
        head = row
        continue
    if not keycol:
        out.append(row[head.index(col)])
    elif row[head.index(keycol)] == key:
        out.append(row[head.index(col)])
        break
if out or not keycol:
    print(",".join(out))
PYEOF
}

# csv_column FILE TYPE COLUMN: the column of every TYPE record, comma-joined.
csv_column() { csv_get "$1" "$2" '' '' "$3"; }

# csv_count FILE TYPE: how many records of TYPE (its header row not counted).
csv_count() {
	"$PY" - "$1" "$2" <<'PYEOF'
import csv, sys
print(max(0, sum(1 for r in csv.reader(open(sys.argv[1], encoding="utf-8")) if r and r[0] == sys.argv[2]) - 1))
PYEOF
}
