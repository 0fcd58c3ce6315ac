#!/bin/bash
# The test library itself (tests/lib.sh): a port free_port saw free can be
# taken before the server bound it.  start_influxd and start_mosquitto
# must then start again on new ports rather than wait for a server that has
# exited (a clean clone's run once failed so), and must not take another
# process's listener on their port for theirs.  Here free_port's first
# answer is a port another process listens on.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

start_bg holder "$T/holder.log" "$PY" -c 'import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1]); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)' "$T/busy"
HOLDER_PID=$LAST_PID
wait_for "the port holder" test -s "$T/busy" || die "the port holder did not start"
BUSY=$(cat "$T/busy")

eval "real_$(declare -f free_port)"
# while $T/hand exists, free_port's next answer is the held port (once)
free_port() { if rm "$T/hand" 2>/dev/null; then echo "$BUSY"; else real_free_port; fi; }

: >"$T/hand"
start_influxd
check "influxd's first attempt failed to bind the held port" grep -qi "address already in use" "$INFLUX_LOG"
check "influxd answers on a new port ($INFLUX_PORT, not the held $BUSY)" test "$INFLUX_PORT" != "$BUSY"
check "influxd answers /ping" influx_ping

: >"$T/hand"
start_mosquitto
check "mosquitto's first attempt failed to bind the held port" grep -qi "address already in use" "$MQTT_LOG"
check "mosquitto listens on a new port ($MQTT_PORT, not the held $BUSY)" test "$MQTT_PORT" != "$BUSY"
check "mosquitto is running" pid_alive "$MQTT_PID"
# what start_* wait for: the server's own listener, not whatever answers on
# its port (a test that took another's listener for mosquitto's would talk
# to a stranger)
check "listens_on: the holder ($HOLDER_PID) listens on the held port" listens_on "$HOLDER_PID" "$BUSY"
check "listens_on: mosquitto does not listen on the held port" eval '! listens_on "$MQTT_PID" "$BUSY"'
check "listens_on: mosquitto listens on its port" listens_on "$MQTT_PID" "$MQTT_PORT"
check "listens_on: influxd listens on its port, the holder does not" \
	eval 'listens_on "$INFLUX_PID" "$INFLUX_PORT" && ! listens_on "$HOLDER_PID" "$INFLUX_PORT"'
finish
