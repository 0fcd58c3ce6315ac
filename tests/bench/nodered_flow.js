// tests/bench/nodered_flow.js DIR UI_PORT MQTT_PORT INFLUX_PORT SITE DB FLOW
// Writes a headless Node-RED user directory for bench_nodered.sh: settings.js
// (no editor, no admin API, no HTTP nodes: nothing reachable), flows.json and
// flows_cred.json.  The flow: mqtt in (QoS 1, the bench's two topics) -> json
// -> function "points" (the same points as coldchaind writes: measurement,
// tags channel/sensor/site/unit, field value, time from the payload's "time"
// (us) or of arrival) -> InfluxDB 1.x database DB.  FLOW:
//   batch: the function batches like coldchaind's output (5,000 points or
//          200 ms) into one "influxdb batch" node write: the fastest flow;
//   out:   one "influxdb out" message per point (the flow most users draw).
"use strict";
const fs = require("fs");
const [dir, port, mqttPort, influxPort, site, db, mode] = process.argv.slice(2);
if (mode !== "batch" && mode !== "out") {
	console.error("nodered_flow.js: FLOW must be batch or out");
	process.exit(2);
}

fs.writeFileSync(dir + "/settings.js", `module.exports = {
  uiHost: "127.0.0.1", uiPort: ${Number(port)}, httpAdminRoot: false, httpNodeRoot: false, disableEditor: true,
  flowFile: "flows.json", credentialSecret: false, telemetry: { enabled: false },
  diagnostics: { enabled: false }, externalModules: { autoInstall: false },
  logging: { console: { level: "info", metrics: false, audit: false } }
};\n`);

// the function's common head: readiness probe, timestamp, payload -> points
const head = `
const st = context.get("st");
const topic = msg.topic.split("/"), p = msg.payload, sensor = topic[1];
if (p === "ready" || (p && p.ready)) { node.warn("bench ready " + topic[0]); return null; }
// time of arrival in us, kept unique as coldchaind's (ns) are: InfluxDB
// keeps one point per series and time
const ts = (p !== null && typeof p === "object" && typeof p.time === "number") ? p.time
    : (st.last = Math.max(Date.now() * 1000, st.last + 1));
const pts = [];
const pt = (q, v, unit) => pts.push([q, v, { channel: q, sensor: sensor, site: ${JSON.stringify(site)}, unit: unit }]);
if (topic[0] === "bench") {
    if (typeof p === "number") pt("temperature", p, "C");
} else if (p !== null && typeof p === "object") {
    if (typeof p.t === "number") pt("temperature", p.t, "C");
    if (typeof p.rh === "number") pt("humidity", p.rh, "%");
}
`;
const tail = {
	batch: `
for (const [q, v, tags] of pts)
    st.buf.push({ measurement: q, fields: { value: v }, tags: tags, timestamp: ts });
const flush = () => {
    if (st.timer) { clearTimeout(st.timer); st.timer = null; }
    const b = st.buf;
    st.buf = [];
    if (b.length) node.send({ payload: b, precision: "u" });
};
if (st.buf.length >= 5000) flush();
else if (!st.timer) st.timer = setTimeout(flush, 200);
return null;`,
	out: `
return [pts.map(([q, v, tags]) => ({ measurement: q, precision: "u", payload: [{ value: v, time: ts }, tags] }))];`,
};

const flow = [
	{ id: "tab1", type: "tab", label: "bench" },
	{ id: "n_broker", type: "mqtt-broker", name: "bench", broker: "127.0.0.1", port: mqttPort,
	  clientid: "nr-bench", autoConnect: true, usetls: false, protocolVersion: "4", keepalive: "60",
	  cleansession: true, autoUnsubscribe: true },
	{ id: "n_influx", type: "influxdb", hostname: "127.0.0.1", port: influxPort, protocol: "http",
	  database: db, name: db, usetls: false, influxdbVersion: "1.x" },
	{ id: "n_in1", type: "mqtt in", z: "tab1", name: "", topic: "bench/+/temperature", qos: "1",
	  datatype: "utf8", broker: "n_broker", nl: false, rap: false, inputs: 0, wires: [["n_json"]] },
	{ id: "n_in2", type: "mqtt in", z: "tab1", name: "", topic: "benchj/+", qos: "1",
	  datatype: "utf8", broker: "n_broker", nl: false, rap: false, inputs: 0, wires: [["n_json"]] },
	{ id: "n_json", type: "json", z: "tab1", property: "payload", action: "obj", pretty: false, wires: [["n_fn"]] },
	{ id: "n_fn", type: "function", z: "tab1", name: "points", func: head + tail[mode], outputs: 1,
	  initialize: 'context.set("st", { buf: [], timer: null, last: 0 });', finalize: "", libs: [],
	  wires: [["n_out"]] },
	{ id: "n_out", type: mode === "batch" ? "influxdb batch" : "influxdb out", z: "tab1", influxdb: "n_influx",
	  measurement: "", precision: "", retentionPolicy: "", name: "", wires: [] },
];
fs.writeFileSync(dir + "/flows.json", JSON.stringify(flow, null, 1));
fs.writeFileSync(dir + "/flows_cred.json", JSON.stringify({ n_influx: { username: "", password: "" } }));
