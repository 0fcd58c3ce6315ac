# tests/integration/victoria_lib.sh - Debian's victoria-metrics as a test
# peer (sourced after tests/lib.sh): a single-node server on a free loopback
# port with its data in the test's temp dir, stopped by PID.
# shellcheck shell=bash

VM_PORT=
VM_PID=
VM_DIR=$T/victoria
VM_LOG=$T/victoria.log

vm_url() { echo "http://127.0.0.1:$VM_PORT"; }
vm_ready() { [ "$(curl -s --max-time 2 "$(vm_url)/health")" = OK ]; }

# start_vm: a fresh server (or, after stop_vm, the same one again: same port,
# same data).  -dedup.minScrapeInterval=1ms makes a point delivered twice
# (QoS 1 is at-least-once) one point, as InfluxDB overwrites it.
start_vm() {
	command -v victoria-metrics >/dev/null ||
		skip "victoria-metrics not installed (apt-get install victoria-metrics)"
	[ -n "$VM_PORT" ] || VM_PORT=$(free_port)
	mkdir -p "$VM_DIR"
	start_bg victoria-metrics "$VM_LOG" victoria-metrics -httpListenAddr "127.0.0.1:$VM_PORT" \
		-storageDataPath "$VM_DIR" -retentionPeriod 1y -dedup.minScrapeInterval 1ms -loggerLevel WARN
	VM_PID=$LAST_PID
	wait_for "victoria-metrics /health on port $VM_PORT" vm_ready || {
		show_log "$VM_LOG"
		die "victoria-metrics did not answer /health on 127.0.0.1:$VM_PORT"
	}
}

stop_vm() {
	stop_pid "$VM_PID" 30
	VM_PID=
}

# vm_export MATCH: every sample of the series MATCH selects, one JSON object
# per series and line (/api/v1/export: raw samples, no staleness, no lookback).
vm_export() {
	curl -sS --max-time 30 "$(vm_url)/api/v1/export" --data-urlencode "match[]=$1"
}

# vm_stats MATCH: "SAMPLES DISTINCT" - samples exported, and distinct
# (series, timestamp) pairs among them.
vm_stats() {
	vm_export "$1" | "$PY" -c 'import json, sys
n, seen = 0, set()
for line in sys.stdin:
    if not line.strip():
        continue
    d = json.loads(line)
    key = tuple(sorted(d["metric"].items()))
    n += len(d["timestamps"])
    seen.update((key, t) for t in d["timestamps"])
print(n, len(seen))'
}

# vm_distinct MATCH: distinct (series, timestamp) pairs, 0 when none.
vm_distinct() { vm_stats "$1" | cut -d' ' -f2; }

# vm_timestamps MATCH: the ms timestamps of the samples, sorted, unique.
vm_timestamps() {
	vm_export "$1" | "$PY" -c 'import json, sys
ts = set()
for line in sys.stdin:
    if line.strip():
        ts.update(json.loads(line)["timestamps"])
print("\n".join(str(t) for t in sorted(ts)))'
}

# vm_last MATCH: the newest value of the first series MATCH selects.
vm_last() {
	vm_export "$1" | "$PY" -c 'import json, sys
best = None
for line in sys.stdin:
    if line.strip():
        d = json.loads(line)
        for t, v in zip(d["timestamps"], d["values"]):
            if best is None or t > best[0]:
                best = (t, v)
print("" if best is None else "%g" % best[1])'
}
