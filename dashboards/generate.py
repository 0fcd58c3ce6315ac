#!/usr/bin/python3
"""dashboards/generate.py - writes the Grafana dashboards of coldchaind
(dashboards/*.json) from the panel list below, so every panel follows the
same conventions: InfluxQL raw queries on the data source provisioned as
uid "coldchaind-influxdb", variables site/room/lot, UTC.  Edit this file and
run it (`dashboards/generate.py`); `--check` exits 1 when a JSON file differs
from what it would write (the dashboard test runs it).

The queries follow the schema in the top-level README ("Data model", "Models
and alarms"); tests/integration/test_dashboards_queries_return_rows.sh runs
every one of them on data coldchaind wrote."""
import json
import os
import sys

DS = {"type": "influxdb", "uid": "coldchaind-influxdb"}
HERE = os.path.dirname(os.path.abspath(__file__))
SITE = '"site" =~ /^$site$/'
ROOM = '"room" =~ /^$room$/'
LOT = '"lot" =~ /^$lot$/'


def var_query(name, label, query, multi=True):
    return {
        "name": name, "label": label, "type": "query", "datasource": DS,
        "query": query, "definition": query, "refresh": 2, "sort": 1,
        "includeAll": multi, "multi": multi, "current": {}, "options": [],
        "hide": 0,
    }


def var_text(name, label, value, desc):
    return {
        "name": name, "label": label, "type": "textbox", "query": value, "description": desc,
        "current": {"text": value, "value": value}, "options": [{"selected": True, "text": value, "value": value}],
        "hide": 0,
    }


V_SITE = var_query("site", "site", 'SHOW TAG VALUES FROM "temperature" WITH KEY = "site"')
V_ROOM = var_query("room", "room", 'SHOW TAG VALUES FROM "temperature" WITH KEY = "room" WHERE ' + SITE)
V_LOT = var_query("lot", "lot", 'SHOW TAG VALUES FROM "shelf_life" WITH KEY = "lot" WHERE ' + SITE + ' AND ' + ROOM)
V_LOT1 = var_query("lot", "lot", 'SHOW TAG VALUES FROM "shelf_life" WITH KEY = "lot" WHERE ' + SITE, multi=False)
V_BAND_LO = var_text("band_low", "band low °C", "2",
                     "lower end of the storage band of the product in these rooms (profile limits.band_low; lychee 2)")
V_BAND_HI = var_text("band_high", "band high °C", "5",
                     "upper end of the storage band (profile limits.band_high; lychee 5)")


def target(query, ref="A", fmt="time_series", alias=None):
    t = {"refId": ref, "datasource": DS, "query": query, "rawQuery": True, "resultFormat": fmt}
    if alias:
        t["alias"] = alias
    return t


class Layout:
    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.rowh = 0

    def add(self, ptype, title, targets, w=12, h=8, unit=None, desc=None, thresholds=None, extra=None,
            options=None, overrides=None, transformations=None):
        if self.x + w > 24:
            self.x = 0
            self.y += self.rowh
            self.rowh = 0
        p = {
            "id": len(self.panels) + 1, "type": ptype, "title": title, "datasource": DS,
            "gridPos": {"h": h, "w": w, "x": self.x, "y": self.y},
            "targets": targets,
            "fieldConfig": {"defaults": {}, "overrides": overrides or []},
            "options": options or {},
        }
        if desc:
            p["description"] = desc
        if unit:
            p["fieldConfig"]["defaults"]["unit"] = unit
        if thresholds:
            p["fieldConfig"]["defaults"]["thresholds"] = {"mode": "absolute", "steps": thresholds}
        if transformations:
            p["transformations"] = transformations
        if extra:
            for k, v in extra.items():
                p["fieldConfig"]["defaults"][k] = v
        self.panels.append(p)
        self.x += w
        self.rowh = max(self.rowh, h)
        return p


def steps(*pairs):
    out = []
    for i, (color, value) in enumerate(pairs):
        out.append({"color": color, "value": None if i == 0 else value})
    return out


def dashboard(uid, title, desc, panels, variables, annotations=None, time_from="now-6h"):
    ann = [{
        "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
    }] + (annotations or [])
    return {
        "uid": uid, "title": title, "description": desc, "tags": ["coldchaind"],
        "timezone": "browser", "schemaVersion": 38, "version": 1, "editable": True,
        "graphTooltip": 1, "refresh": "30s", "time": {"from": time_from, "to": "now"},
        "templating": {"list": variables}, "annotations": {"list": ann}, "panels": panels,
        "links": [{"title": "coldchaind", "type": "dashboards", "tags": ["coldchaind"], "asDropdown": True}],
    }


# ------------------------------------------------------------ warehouse overview

def overview():
    L = Layout()
    W = SITE + " AND " + ROOM
    L.add("stat", "Air temperature now", [target(
        'SELECT last("value") FROM "temperature" WHERE ' + W + ' AND $timeFilter GROUP BY "room", "sensor"',
        alias="$tag_room $tag_sensor")], w=8, h=5, unit="celsius",
        thresholds=steps(("blue", None), ("green", 2), ("orange", 7), ("red", 10)),
        desc="Last air temperature of every sensor, per room.")
    L.add("stat", "Relative humidity now", [target(
        'SELECT last("value") FROM "humidity" WHERE ' + W + ' AND $timeFilter GROUP BY "room", "sensor"',
        alias="$tag_room $tag_sensor")], w=8, h=5, unit="percent",
        thresholds=steps(("red", None), ("orange", 85), ("green", 88)))
    L.add("stat", "Status: active alarms per room", [target(
        'SELECT count("state") FROM (SELECT last("state") AS "state" FROM "alert" WHERE ' + W +
        ' AND time > now() - 30d GROUP BY "room", "rule", "sensor") WHERE "state" = \'active\' OR '
        '"state" = \'acked\' OR "state" = \'shelved\' GROUP BY "room"', alias="$tag_room")],
        w=8, h=5, thresholds=steps(("green", None), ("red", 1)), extra={"noValue": "0 (OK)"},
        desc="Alarms whose last event (over 30 days) leaves them active, acknowledged-but-active or shelved.")
    L.add("table", "Active alarms", [target(
        'SELECT last("state") AS "state", last("message") AS "message", last("value") AS "value", '
        'last("limit") AS "limit", last("id") AS "id" FROM "alert" WHERE ' + W +
        ' AND time > now() - 30d GROUP BY "room", "rule", "sensor"', fmt="table")], w=24, h=7,
        transformations=[{"id": "filterByValue", "options": {
            "type": "exclude", "match": "any",
            "filters": [{"fieldName": "state", "config": {"id": "equal", "options": {"value": "inactive"}}}]}}],
        desc="Last state of every alarm (30 days); inactive ones are filtered out. Acknowledge with "
             "`coldchainctl ack ID`.")
    L.add("bargauge", "Remaining shelf life per lot", [target(
        'SELECT last("remaining_h") / 24 AS "remaining_d" FROM "shelf_life" WHERE ' + W +
        ' AND $timeFilter GROUP BY "room", "lot"', alias="$tag_room / $tag_lot")], w=12, h=7, unit="d",
        thresholds=steps(("red", None), ("orange", 3), ("green", 7)),
        options={"displayMode": "gradient", "orientation": "horizontal"},
        desc="At the current product temperature (shelf_life.remaining_h); the profile and its version are tags "
             "of the same points.")
    L.add("bargauge", "Consumed shelf life per lot", [target(
        'SELECT last("consumed") * 100 AS "consumed" FROM "shelf_life" WHERE ' + W +
        ' AND $timeFilter GROUP BY "room", "lot"', alias="$tag_room / $tag_lot")], w=12, h=7, unit="percent",
        thresholds=steps(("green", None), ("orange", 60), ("red", 85)),
        options={"displayMode": "gradient", "orientation": "horizontal"}, extra={"min": 0, "max": 100})
    L.add("timeseries", "Air temperature by room", [target(
        'SELECT mean("value") FROM "temperature" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "room", "sensor" fill(null)',
        alias="$tag_room $tag_sensor")], w=12, h=8, unit="celsius")
    L.add("state-timeline", "Doors and compressors", [
        target('SELECT last("value") FROM "door" WHERE ' + W +
               ' AND $timeFilter GROUP BY time($__interval), "room" fill(previous)', "A", alias="door $tag_room"),
        target('SELECT last("value") FROM "compressor" WHERE ' + W +
               ' AND $timeFilter GROUP BY time($__interval), "room" fill(previous)', "B",
               alias="compressor $tag_room")], w=12, h=8,
        extra={"mappings": [{"type": "value", "options": {
            "0": {"text": "closed / off", "color": "green"}, "1": {"text": "open / on", "color": "orange"}}}]})
    return dashboard("coldchaind-overview", "coldchaind: warehouse overview",
                     "Every room at a glance: temperature, RH, alarms, lots and their remaining shelf life.",
                     L.panels, [V_SITE, V_ROOM], time_from="now-6h")


# ------------------------------------------------------------ room history

def room():
    L = Layout()
    W = SITE + " AND " + ROOM
    band = [{"matcher": {"id": "byName", "options": "band high"}, "properties": [
        {"id": "custom.fillBelowTo", "value": "band low"}, {"id": "color", "value": {"mode": "fixed",
                                                                                      "fixedColor": "green"}},
        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]},
        {"matcher": {"id": "byName", "options": "band low"}, "properties": [
            {"id": "color", "value": {"mode": "fixed", "fixedColor": "green"}},
            {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]}]
    L.add("timeseries", "Air temperature against the product band", [
        target('SELECT mean("value") FROM "temperature" WHERE ' + W +
               ' AND $timeFilter GROUP BY time($__interval), "sensor", "channel" fill(null)', "A",
               alias="$tag_sensor/$tag_channel"),
        target('SELECT mean("value") * 0 + $band_low AS "band low", mean("value") * 0 + $band_high AS "band high" '
               'FROM "temperature" WHERE ' + W + ' AND $timeFilter GROUP BY time($__interval) fill(previous)', "B",
               alias="$col")], w=24, h=9, unit="celsius", overrides=band,
        desc="The band (variables band_low/band_high: the profile's limits.band_low/band_high) is shaded; "
             "alarms are annotations.")
    L.add("timeseries", "Relative humidity", [target(
        'SELECT mean("value") FROM "humidity" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(null)', alias="$tag_sensor")],
        w=12, h=8, unit="percent", thresholds=steps(("red", None), ("orange", 85), ("green", 88)),
        extra={"custom": {"thresholdsStyle": {"mode": "line+area"}}})
    L.add("timeseries", "Product temperature and dew point (model)", [target(
        'SELECT mean("product_c") AS "product", mean("dew_point_c") AS "dew point" FROM "shelf_life" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "lot" fill(null)', alias="$tag_lot $col")],
        w=12, h=8, unit="celsius")
    L.add("state-timeline", "Door openings", [target(
        'SELECT max("value") FROM "door" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(previous)', alias="door $tag_sensor")],
        w=12, h=5, extra={"mappings": [{"type": "value", "options": {
            "0": {"text": "closed", "color": "green"}, "1": {"text": "open", "color": "orange"}}}]})
    L.add("timeseries", "Evaporator temperature and compressor", [
        target('SELECT mean("value") FROM "evaporator_temperature" WHERE ' + W +
               ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(null)', "A", alias="evaporator $tag_sensor"),
        target('SELECT max("value") FROM "compressor" WHERE ' + W +
               ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(previous)', "B",
               alias="compressor $tag_sensor")], w=12, h=5)
    L.add("timeseries", "CO2", [target(
        'SELECT mean("value") FROM "co2" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(null)', alias="$tag_sensor")],
        w=12, h=7, unit="ppm", thresholds=steps(("green", None), ("red", 5000)))
    L.add("table", "Alarm events", [target(
        'SELECT "id", "event", "state", "value", "limit", "message", "user", "note" FROM "alert" WHERE ' + W +
        ' AND $timeFilter GROUP BY "severity"', fmt="table")], w=12, h=7,
        desc="Every transition and operator action (ack, shelve: user and note).")
    ann = [{
        "name": "Alarms", "datasource": DS, "enable": True, "iconColor": "red", "type": "tags",
        "query": 'SELECT "message" AS "text", "event" AS "event", "rule" AS "rule" FROM "alert" WHERE ' + W +
                 ' AND $timeFilter',
        "textColumn": "text", "tagsColumn": "event,rule",
    }]
    return dashboard("coldchaind-room", "coldchaind: room history",
                     "One room over time: temperature and RH against the product band, doors, compressor, CO2, "
                     "alarms as annotations.", L.panels, [V_SITE, V_ROOM, V_BAND_LO, V_BAND_HI], ann,
                     time_from="now-24h")


# ------------------------------------------------------------ lot history

def lot():
    L = Layout()
    W = SITE + " AND " + LOT
    L.add("table", "Lot", [target(
        'SELECT last("consumed") * 100 AS "consumed %", last("remaining_h") / 24 AS "remaining d", '
        'last("remaining_h_at_plan") / 24 AS "remaining d at plan", last("mkt_c") AS "MKT °C", '
        'last("degree_hours") AS "degree-hours K·h", last("chill_hours") AS "chilling K·h", '
        'last("weight_loss_pct") AS "weight loss %", last("no_data_h") AS "no data h" FROM "shelf_life" WHERE ' +
        W + ' AND $timeFilter GROUP BY "lot", "product", "profile", "profile_version", "room"', fmt="table")],
        w=24, h=5, desc="The model's accumulators since loading; profile and version say what the estimate rests "
                        "on. `coldchainctl report --lot ID` writes the full storage history.")
    L.add("timeseries", "Consumed shelf life", [target(
        'SELECT last("consumed") * 100 FROM "shelf_life" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "lot" fill(null)', alias="$tag_lot")],
        w=12, h=8, unit="percent", extra={"min": 0, "max": 100})
    L.add("timeseries", "Remaining shelf life", [target(
        'SELECT last("remaining_h") / 24 AS "now", last("remaining_h_at_plan") / 24 AS "at plan" FROM "shelf_life" '
        'WHERE ' + W + ' AND $timeFilter GROUP BY time($__interval), "lot" fill(null)', alias="$tag_lot $col")],
        w=12, h=8, unit="d")
    L.add("stat", "Mean kinetic temperature", [target(
        'SELECT last("mkt_c") FROM "shelf_life" WHERE ' + W + ' AND $timeFilter GROUP BY "lot"',
        alias="$tag_lot")], w=6, h=5, unit="celsius")
    L.add("stat", "Degree-hours above the band", [target(
        'SELECT last("degree_hours") FROM "shelf_life" WHERE ' + W + ' AND $timeFilter GROUP BY "lot"',
        alias="$tag_lot")], w=6, h=5, extra={"unit": "suffix: K·h", "decimals": 1})
    L.add("stat", "Chilling degree-hours", [target(
        'SELECT last("chill_hours") FROM "shelf_life" WHERE ' + W + ' AND $timeFilter GROUP BY "lot"',
        alias="$tag_lot")], w=6, h=5, extra={"unit": "suffix: K·h", "decimals": 1},
        thresholds=steps(("green", None), ("orange", 24), ("red", 72)))
    L.add("stat", "Weight loss", [target(
        'SELECT last("weight_loss_pct") FROM "shelf_life" WHERE ' + W + ' AND $timeFilter GROUP BY "lot"',
        alias="$tag_lot")], w=6, h=5, unit="percent", extra={"decimals": 2},
        thresholds=steps(("green", None), ("orange", 3), ("red", 5)))
    L.add("timeseries", "MKT, degree-hours and chilling degree-hours", [target(
        'SELECT last("mkt_c") AS "MKT °C", last("degree_hours") AS "degree-hours", '
        'last("chill_hours") AS "chilling degree-hours" FROM "shelf_life" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "lot" fill(null)', alias="$tag_lot $col")], w=12, h=8)
    L.add("timeseries", "Weight loss and product temperature", [target(
        'SELECT last("weight_loss_pct") AS "weight loss %", mean("product_c") AS "product °C" FROM "shelf_life" '
        'WHERE ' + W + ' AND $timeFilter GROUP BY time($__interval), "lot" fill(null)', alias="$tag_lot $col")],
        w=12, h=8)
    return dashboard("coldchaind-lot", "coldchaind: lot history",
                     "One lot: consumed life over time, MKT, degree-hours, chilling, weight loss.",
                     L.panels, [V_SITE, V_LOT1], time_from="now-7d")


# ------------------------------------------------------------ daemon health

def health():
    L = Layout()
    S = SITE
    L.add("timeseries", "Modbus requests per minute", [target(
        'SELECT non_negative_derivative(max("requests"), 1m) FROM "coldchaind_modbus" WHERE ' + S +
        ' AND $timeFilter GROUP BY time($__interval), "bus", "sensor" fill(none)', alias="$tag_bus $tag_sensor")],
        w=12, h=8)
    L.add("timeseries", "Modbus errors per minute (timeouts, exceptions)", [target(
        'SELECT non_negative_derivative(max("errors"), 1m) AS "errors", '
        'non_negative_derivative(max("timeouts"), 1m) AS "timeouts", '
        'non_negative_derivative(max("exceptions"), 1m) AS "exceptions" FROM "coldchaind_modbus" WHERE ' + S +
        ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(none)', alias="$tag_sensor $col")], w=12, h=8)
    L.add("timeseries", "Modbus round-trip time", [target(
        'SELECT mean("rtt_ms") FROM "coldchaind_modbus" WHERE ' + S +
        ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(null)', alias="$tag_sensor")],
        w=12, h=8, unit="ms")
    L.add("table", "Modbus units", [target(
        'SELECT last("down") AS "down", last("polls") AS "polls", last("requests") AS "requests", '
        'last("errors") AS "errors", last("rtt_ms") AS "rtt ms" FROM "coldchaind_modbus" WHERE ' + S +
        ' AND $timeFilter GROUP BY "bus", "sensor", "unit_id"', fmt="table")], w=12, h=8)
    L.add("timeseries", "Output: lines pending and oldest age", [target(
        'SELECT max("pending") AS "pending", max("oldest_age_s") AS "oldest age s" FROM "coldchaind_output" '
        'WHERE ' + S + ' AND $timeFilter GROUP BY time($__interval), "output" fill(null)',
        alias="$tag_output $col")], w=12, h=8)
    L.add("timeseries", "Output: lines per minute", [target(
        'SELECT non_negative_derivative(max("written"), 1m) AS "written", '
        'non_negative_derivative(max("retried"), 1m) AS "retried", '
        'non_negative_derivative(max("rejected"), 1m) AS "rejected (quarantined)", '
        'non_negative_derivative(max("dropped"), 1m) AS "dropped" FROM "coldchaind_output" WHERE ' + S +
        ' AND $timeFilter GROUP BY time($__interval), "output" fill(none)', alias="$tag_output $col")], w=12, h=8)
    L.add("table", "Outputs", [target(
        'SELECT last("unauthorised") AS "unauthorised", last("pending") AS "pending", '
        'last("rejected") AS "rejected", last("dropped") AS "dropped", last("last_error") AS "last error" '
        'FROM "coldchaind_output" WHERE ' + S + ' AND $timeFilter GROUP BY "output"', fmt="table")], w=12, h=6)
    L.add("timeseries", "Journal size", [target(
        'SELECT max("bytes") AS "bytes" FROM "coldchaind_journal" WHERE ' + S +
        ' AND $timeFilter GROUP BY time($__interval) fill(null)', alias="$col")], w=12, h=6, unit="bytes")
    L.add("timeseries", "Journal: lines and fsyncs per minute", [target(
        'SELECT non_negative_derivative(max("lines"), 1m) AS "lines", '
        'non_negative_derivative(max("fsyncs"), 1m) AS "fsyncs" FROM "coldchaind_journal" WHERE ' + S +
        ' AND $timeFilter GROUP BY time($__interval) fill(none)', alias="$col")], w=12, h=6)
    L.add("stat", "Journal problems (since start)", [target(
        'SELECT last("corrupt_skipped") AS "corrupt skipped", last("torn_bytes") AS "torn bytes", '
        'last("lines_lost") AS "lines lost (gaps)", '
        'last("files_set_aside") AS "files set aside", last("dropped_oldest") AS "dropped oldest", '
        'last("write_errors") AS "write errors", last("not_journaled") AS "not journaled" '
        'FROM "coldchaind_journal" WHERE ' + S + ' AND $timeFilter', alias="$col")], w=12, h=6,
        thresholds=steps(("green", None), ("red", 1)))
    L.add("state-timeline", "MQTT broker connected", [target(
        'SELECT last("connected") FROM "coldchaind_mqtt" WHERE ' + S + ' AND "subscription" = \'\' AND '
        '$timeFilter GROUP BY time($__interval), "broker" fill(previous)', alias="$tag_broker")], w=12, h=5,
        extra={"mappings": [{"type": "value", "options": {
            "false": {"text": "down", "color": "red"}, "true": {"text": "connected", "color": "green"}}}]})
    L.add("timeseries", "MQTT messages per minute", [
        target('SELECT non_negative_derivative(max("messages"), 1m) AS "messages", '
               'non_negative_derivative(max("unmatched"), 1m) AS "unmatched" FROM "coldchaind_mqtt" WHERE ' + S +
               ' AND "subscription" = \'\' AND $timeFilter GROUP BY time($__interval), "broker" fill(none)', "A",
               alias="$tag_broker $col"),
        target('SELECT non_negative_derivative(max("accepted"), 1m) AS "accepted", '
               'non_negative_derivative(max("rejected"), 1m) AS "rejected" FROM "coldchaind_mqtt" WHERE ' + S +
               ' AND "subscription" != \'\' AND $timeFilter GROUP BY time($__interval), "subscription" fill(none)',
               "B", alias="$tag_subscription $col")], w=12, h=5)
    return dashboard("coldchaind-health", "coldchaind: daemon health",
                     "Self-metrics every stats_interval: Modbus units, outputs, the journal, MQTT.",
                     L.panels, [V_SITE], time_from="now-6h")


# ------------------------------------------------------------ processing

PROC = '"process" =~ /^$process$/'
BATCH = '"batch" =~ /^$batch$/'
V_PROC = var_query("process", "process line", 'SHOW TAG VALUES FROM "process" WITH KEY = "process" WHERE ' + SITE)
V_BATCH = var_query("batch", "batch", 'SHOW TAG VALUES FROM "process" WITH KEY = "batch" WHERE ' + SITE + ' AND ' +
                    PROC)


def processing():
    """Per process line and batch: the `process` points (README "Processing
    batches") and the batch alarms (alert ids PROCESS/BATCH/RULE)."""
    L = Layout()
    W = SITE + " AND " + PROC + " AND " + BATCH
    G = ' AND $timeFilter GROUP BY time($__interval), "process", "batch" fill(null)'
    L.add("timeseries", "Slowest probe and medium temperature", [target(
        'SELECT last("slowest_c") AS "slowest probe", last("medium_c") AS "medium" FROM "process" WHERE ' + W + G,
        alias="$tag_process $tag_batch $col")], w=12, h=8, unit="celsius",
        desc="The warmest pulp (or core) probe of the batch, which compliance uses, and the cooling medium.")
    L.add("timeseries", "Fitted C and j", [target(
        'SELECT last("C") AS "C /h", last("j") AS "j", last("r2") AS "R²" FROM "process" WHERE ' + W + G,
        alias="$tag_batch $col")], w=12, h=8,
        desc="Least squares on ln Y of the slowest probe after the lag (processing.md §1.2); "
             "the fit is reported reliable only past the profile's gates.")
    L.add("stat", "Half and 7/8 cooling time", [target(
        'SELECT last("half_h") AS "half-cooling Z", last("seven_eighths_h") AS "7/8 cooling" FROM "process" '
        'WHERE ' + W + ' AND $timeFilter GROUP BY "batch"', alias="$tag_batch $col")], w=8, h=5, unit="h",
        extra={"decimals": 2})
    L.add("stat", "Remaining time to target", [target(
        'SELECT last("remaining_h") FROM "process" WHERE ' + W + ' AND $timeFilter GROUP BY "batch"',
        alias="$tag_batch")], w=8, h=5, unit="h", extra={"decimals": 2})
    L.add("table", "ETA and fit", [target(
        'SELECT last("eta") / 1000000 AS "ETA", last("fit") AS "fit", last("n") AS "points", '
        'last("probe_faults") AS "probe faults" FROM "process" WHERE ' + W + ' AND $timeFilter GROUP BY "process", '
        '"batch"', fmt="table")], w=8, h=5,
        overrides=[{"matcher": {"id": "byName", "options": "ETA"},
                    "properties": [{"id": "unit", "value": "dateTimeAsIso"}]}])
    L.add("state-timeline", "Verdict flags", [target(
        'SELECT last("pull_early") AS "pulled early", last("underperforming") AS "underperforming", '
        'last("unreachable") AS "target unreachable", last("late_start") AS "late start", '
        'last("over_cooling") AS "over-cooling", last("stopped") AS "stopped" FROM "process" WHERE ' + W +
        ' AND $timeFilter GROUP BY time($__interval), "batch" fill(previous)', alias="$tag_batch $col")],
        w=24, h=7, extra={"mappings": [{"type": "value", "options": {
            "false": {"text": "no", "color": "green"}, "true": {"text": "yes", "color": "red"}}}]})
    L.add("timeseries", "Remaining time over the batch", [target(
        'SELECT last("remaining_h") AS "remaining" FROM "process" WHERE ' + W + G, alias="$tag_batch $col")],
        w=12, h=7, unit="h")
    # fumigation (README "Fumigation and drying lines and batches"): the
    # chamber's points have no sensor tag, the outside sensors' have one
    CH = W + ' AND "sensor" = \'\''
    OUTS = W + ' AND "sensor" != \'\''
    L.add("timeseries", "Fumigation: chamber SO2 and dose CT", [target(
        'SELECT last("chamber_ppm") AS "chamber ppm", last("ct_ppmh") AS "CT ppm·h" FROM "process" WHERE ' + CH +
        ' AND "kind" = \'fumigation\' AND $timeFilter GROUP BY time($__interval), "batch" fill(null)',
        alias="$tag_batch $col")], w=12, h=8,
        desc="Chamber concentration and CT = ∫c dt (trapezoid; steps longer than max_gap not integrated).")
    L.add("stat", "Fumigation: CT, peak, unmonitored, purge", [target(
        'SELECT last("ct_ppmh") AS "CT ppm·h", last("ct_g_h_m3") AS "CT g·h/m³", max("peak_ppm") AS "peak ppm", '
        'last("unmonitored_h") AS "unmonitored h", last("purge_h") AS "purge h", '
        'last("purge_estimate_h") AS "purge estimate h" FROM "process" WHERE ' + CH +
        ' AND "kind" = \'fumigation\' AND $timeFilter GROUP BY "batch"', alias="$tag_batch $col")], w=12, h=8,
        extra={"decimals": 2})
    L.add("timeseries", "Fumigation: worker exposure outside (TWA, STEL) per sensor", [target(
        'SELECT last("twa_ppm") AS "TWA", last("stel_ppm") AS "STEL", last("projected_twa_ppm") AS "projected TWA" '
        'FROM "process" WHERE ' + OUTS + ' AND $timeFilter GROUP BY time($__interval), "sensor" fill(null)',
        alias="$tag_sensor $col")], w=12, h=8,
        desc="Per outside sensor: TWA over the limit set's period (unmonitored time counted conservatively), "
             "the rolling 15-min STEL and the projected shift TWA, in ppm.")
    L.add("table", "Fumigation: maximum STEL and TWA per sensor", [target(
        'SELECT max("stel_max_ppm") AS "STEL max", last("twa_ppm") AS "TWA", last("twa_upper_ppm") AS "TWA upper", '
        'last("unmonitored_h") AS "unmonitored h" FROM "process" WHERE ' + OUTS +
        ' AND $timeFilter GROUP BY "batch", "sensor"', fmt="table")], w=12, h=8)
    L.add("timeseries", "Drying: moisture and mass ratio", [target(
        'SELECT last("mc_wb") AS "MC % wb", last("mass_ratio") AS "m/m0" FROM "process" WHERE ' + W +
        ' AND "kind" = \'drying\' AND $timeFilter GROUP BY time($__interval), "batch" fill(null)',
        alias="$tag_batch $col")], w=12, h=8,
        desc="Moisture on a wet basis from the load cell and the batch's dry solids, and m/m0.")
    L.add("stat", "Drying: MC, m/m0, k", [target(
        'SELECT last("mc_wb") AS "MC % wb", last("mc_db") AS "MC db", last("mass_ratio") AS "m/m0", '
        'last("k") AS "k /h" FROM "process" WHERE ' + W + ' AND "kind" = \'drying\' AND $timeFilter '
        'GROUP BY "batch"', alias="$tag_batch $col")], w=12, h=8, extra={"decimals": 3})
    L.add("table", "Batch alarms", [target(
        'SELECT "id", "event", "state", "severity", "value", "limit", "message" FROM "alert" WHERE ' + SITE +
        ' AND "id" =~ /^$process\\/$batch\\// AND time > now() - 30d', fmt="table")], w=12, h=7,
        desc="Every event of the batch's alarms (ids PROCESS/BATCH/RULE) over the last 30 days.")
    return dashboard("coldchaind-processing", "coldchaind: processing",
                     "Processing lines (issue 14): per batch the slowest probe and the medium, the fitted C and j, "
                     "half and 7/8 cooling times, ETA and remaining time, the verdict flags; fumigation dose and "
                     "worker exposure per outside sensor; drying moisture; the batch alarms.",
                     L.panels, [V_SITE, V_PROC, V_BATCH], time_from="now-12h")


DASHBOARDS = {
    "warehouse-overview.json": overview,
    "room-history.json": room,
    "lot-history.json": lot,
    "daemon-health.json": health,
    "processing.json": processing,
}


def main():
    check = "--check" in sys.argv[1:]
    bad = 0
    for name, fn in DASHBOARDS.items():
        text = json.dumps(fn(), indent=2, ensure_ascii=False) + "\n"
        path = os.path.join(HERE, name)
        if check:
            try:
                cur = open(path, encoding="utf-8").read()
            except OSError:
                cur = None
            if cur != text:
                print("%s: differs from dashboards/generate.py (run it)" % path)
                bad = 1
        else:
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write(text)
            os.rename(path + ".tmp", path)
    return bad


if __name__ == "__main__":
    sys.exit(main())
