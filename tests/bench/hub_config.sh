#!/bin/bash
# tests/bench/hub_config.sh - writes the configuration of a cooperative hub
# (issue 18 target 2) to stdout, for the sites tests/bench/hub_gen publishes:
#   SITES (2000) sites x CHANNELS (50) MQTT channels, two subscriptions whose
#   topic levels capture the site, room and sensor:
#     hubj/{site}/{room}/{sensor}            JSON {"t":..,"ts":epoch ms}  -> SENSOR/temperature
#     hub/{site}/{room}/{sensor}/humidity    a plain number               -> SENSOR/humidity
#   one room per site (sNNNN/rNNNN, so `status --site sNNNN` and the web
#   page's ?site= find it; air temperature sNNNN-k00/temperature, RH
#   sNNNN-k01/humidity; profiles rotating lychee, longan, bo-ha-orange: room
#   alarms on every room) with LOTS (5) lots each, shelf-life models running.
# Environment: MQTT_PORT, STATE_DIR, OUT (the file output's path; "" = none),
# WEB_PORT ("" = no web page), SITES, CHANNELS, LOTS, QOS; profiles.conf must be
# next to the output file (cp config/profiles.conf).
set -eu
SITES=${SITES:-2000} CHANNELS=${CHANNELS:-50} LOTS=${LOTS:-5} QOS=${QOS:-1}
: "${MQTT_PORT:?}" "${STATE_DIR:?}"

cat <<CONF
site = "hub";
state_dir = "$STATE_DIR";
stats_interval = "10s";
log = { level = "info"; };
journal = { max_size = "${JOURNAL_MAX:-2G}"; };
@include "profiles.conf"
mqtt = {
  broker = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "cc-hub"; };
  max_channels = $((SITES * CHANNELS + 1000));
  subscriptions = (
    { topic = "hubj/{site}/{room}/{sensor}"; format = "json"; time = "ts"; qos = $QOS;
      fields = { temperature = { path = "t"; unit = "C"; }; }; },
    { topic = "hub/{site}/{room}/{sensor}/humidity"; quantity = "humidity"; unit = "%"; qos = $QOS; }
  );
};
CONF
[ -n "${WEB_PORT:-}" ] && echo "web = { listen = \"127.0.0.1:$WEB_PORT\"; public_status = true; };"
[ -n "${OUT:-}" ] && echo "outputs = { file = ( { name = \"hub\"; path = \"$OUT\"; } ); };"
awk -v sites="$SITES" -v lots="$LOTS" 'BEGIN {
	split("lychee longan bo-ha-orange", prof, " ")
	print "rooms = ("
	for (s = 0; s < sites; s++) {
		p = prof[s % 3 + 1]
		printf "  { name = \"s%04d/r%04d\"; temperature = \"s%04d-k00/temperature\"; humidity = \"s%04d-k01/humidity\"; profile = \"%s\";\n    lots = (", s, s, s, s, p
		for (l = 0; l < lots; l++)
			printf "%s\n      { id = \"L%04d-%d\"; product = \"%s\"; loaded = \"2026-12-0%dT08:00:00+07:00\"; plan_temperature = 4.0; }", l ? "," : "", s, l, p, l % 3 + 1
		printf " ); }%s\n", s < sites - 1 ? "," : ""
	}
	print ");"
}'
