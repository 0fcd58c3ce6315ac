/* mqtt.c - group mqtt of the configuration: the broker (its keys serve
 * outputs.alerts_mqtt.broker too), the subscriptions with their topic
 * captures and payload formats, and a JSON subscription's fields. */
#include "config_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../codec/payload.h"
#include "../../codec/topic.h"

/* MQTT: group mqtt (broker, subscriptions) and a subscription's fields. */
static const char *const mqtt_protocols[] = { "3.1.1", "5", NULL };
static const char *const mqtt_formats[] = { "number", "json", "influx", "bool", NULL };
static const char *const mqtt_tunits[] = { "auto", "s", "ms", "us", "ns", NULL };

enum { QK_BROKER, QK_SUBS, QK_MAX_CHANNELS, QK_MAX_FUTURE, QK_MAX_AGE, QK_N };
static const struct key mqtt_keys[] = {
	[QK_BROKER] = { .name = "broker", .kt = KT_GROUP, .flags = KF_REQ, .help = "the broker: see group mqtt.broker" },
	[QK_SUBS] = { .name = "subscriptions", .kt = KT_LIST, .flags = KF_REQ,
		      .help = "topic subscriptions (non-empty): see group mqtt.subscriptions" },
	[QK_MAX_CHANNELS] = { .name = "max_channels", .kt = KT_INT, .off = OFF(cc_mqtt_conf, max_channels),
			      .def = "10000", .min = 1, .max = 1000000,
			      .help = "channels created from topic captures (past it, messages of new channels are "
				      "refused and counted)" },
	[QK_MAX_FUTURE] = { .name = "max_future", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, max_future_ms), .def = "10m",
			    .min = 0, .max = 86400000,
			    .help = "a payload timestamp further ahead of the daemon's clock is refused (time_skew)" },
	[QK_MAX_AGE] = { .name = "max_age", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, max_age_ms), .def = "30d",
			 .min = 60000, .max = 3650.0 * 86400000,
			 .help = "a payload timestamp older than this is refused (time_skew)" },
};

enum { QB_HOST, QB_PORT, QB_CLIENT_ID, QB_PROTOCOL, QB_KEEPALIVE, QB_CLEAN, QB_EXPIRY, QB_USERNAME, QB_PASSWORD_FILE,
       QB_TLS, QB_CA_FILE, QB_CA_DIR, QB_CERT, QB_KEY, QB_INSECURE, QB_RECONNECT_MAX, QB_N };
static const struct key mqtt_broker_keys[] = {
	[QB_HOST] = { .name = "host", .kt = KT_STR, .off = OFF(cc_mqtt_conf, host), .def = "127.0.0.1",
		      .help = "broker host name or address" },
	[QB_PORT] = { .name = "port", .kt = KT_INT, .flags = KF_DYN, .off = OFF(cc_mqtt_conf, port),
		      .def = "1883, 8883 with TLS", .min = 1, .max = 65535, .help = "broker port" },
	[QB_CLIENT_ID] = { .name = "client_id", .kt = KT_STR, .flags = KF_DYN, .off = OFF(cc_mqtt_conf, client_id),
			   .def = "coldchaind-SITE", .check = NULL,
			   .help = "client id: the broker keeps the persistent session under it (unique per daemon)" },
	[QB_PROTOCOL] = { .name = "protocol", .kt = KT_ENUM, .off = OFF(cc_mqtt_conf, protocol), .def = "5",
			  .enums = mqtt_protocols, .store = ES_INT, .help = "MQTT protocol version" },
	[QB_KEEPALIVE] = { .name = "keepalive", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, keepalive_ms), .def = "60s",
			   .min = 5000, .max = 3600000, .help = "keepalive interval (a dead link is noticed after 1.5x)" },
	[QB_CLEAN] = { .name = "clean_session", .kt = KT_BOOL, .off = OFF(cc_mqtt_conf, clean_session), .def = "false",
		       .help = "start a new session at every connect (messages sent while disconnected are lost)" },
	[QB_EXPIRY] = { .name = "session_expiry", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, session_expiry_ms),
			.def = "7d", .min = 0, .max = 4294967295.0 * 1000,
			.help = "MQTT 5: how long the broker keeps the session (and queues QoS 1 messages) while "
				"the daemon is away" },
	[QB_USERNAME] = { .name = "username", .kt = KT_STR, .off = OFF(cc_mqtt_conf, username),
			  .help = "user name; none when unset" },
	[QB_PASSWORD_FILE] = { .name = "password_file", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, password_file),
			       .range = "mode 0600 or stricter",
			       .help = "file whose first line is the password, read at load (requires username)" },
	[QB_TLS] = { .name = "tls", .kt = KT_BOOL, .flags = KF_DYN, .off = OFF(cc_mqtt_conf, tls),
		     .def = "true when ca_file, ca_dir or cert is set",
		     .help = "TLS; without ca_file/ca_dir the system's CAs (/etc/ssl/certs) are used" },
	[QB_CA_FILE] = { .name = "ca_file", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, ca_file),
			 .help = "CA certificate(s) the broker's certificate must chain to" },
	[QB_CA_DIR] = { .name = "ca_dir", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, ca_dir),
			.help = "directory of hashed CA certificates (c_rehash)" },
	[QB_CERT] = { .name = "cert", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, cert),
		      .help = "client certificate (PEM; requires key)" },
	[QB_KEY] = { .name = "key", .kt = KT_PATH, .off = OFF(cc_mqtt_conf, key),
		     .help = "client private key (PEM, unencrypted; requires cert)" },
	[QB_INSECURE] = { .name = "insecure", .kt = KT_BOOL, .off = OFF(cc_mqtt_conf, insecure), .def = "false",
			  .help = "skip verification of the broker's certificate and host name (logged loudly)" },
	[QB_RECONNECT_MAX] = { .name = "reconnect_max", .kt = KT_DUR, .off = OFF(cc_mqtt_conf, reconnect_max_ms),
			       .def = "30s", .min = 1000, .max = 600000,
			       .help = "cap on the reconnect delay (1s, doubling)" },
};

enum { QS_TOPIC, QS_FORMAT, QS_QOS, QS_QUANTITY, QS_CHANNEL, QS_SENSOR, QS_ROOM, QS_UNIT, QS_SCALE, QS_OFFSET,
       QS_MIN, QS_MAX, QS_MAX_PAYLOAD, QS_FIELDS, QS_TIME, QS_TIME_UNIT, QS_N };
static const struct key mqtt_sub_keys[] = {
	[QS_TOPIC] = { .name = "topic", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_mqtt_sub, topic),
		       .help = "topic filter: + and #, named captures {site} {room} {sensor} {channel} {quantity} "
			       "as whole levels, $share/GROUP/ prefix for a shared subscription" },
	[QS_FORMAT] = { .name = "format", .kt = KT_ENUM, .off = OFF(cc_mqtt_sub, format), .def = "number",
			.enums = mqtt_formats, .store = ES_INT, .help = "payload format" },
	[QS_QOS] = { .name = "qos", .kt = KT_INT, .off = OFF(cc_mqtt_sub, qos), .def = "1", .min = 0, .max = 2,
		     .range = "0|1", .help = "subscription QoS (1: nothing acknowledged is lost; 2 is refused)" },
	[QS_QUANTITY] = { .name = "quantity", .kt = KT_NAME, .off = OFF(cc_mqtt_sub, quantity),
			  .help = "measurement (number, bool), unless captured by {quantity}" },
	[QS_CHANNEL] = { .name = "channel", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_mqtt_sub, channel),
			 .def = "the quantity", .help = "channel name (number, bool), unless captured by {channel}" },
	[QS_SENSOR] = { .name = "sensor", .kt = KT_STR, .off = OFF(cc_mqtt_sub, sensor),
			.help = "sensor tag, unless captured by {sensor} (influx: or a sensor tag in the line)" },
	[QS_ROOM] = { .name = "room", .kt = KT_STR, .off = OFF(cc_mqtt_sub, room),
		      .help = "room tag, unless captured by {room}; none when unset" },
	[QS_UNIT] = { .name = "unit", .kt = KT_STR, .off = OFF(cc_mqtt_sub, unit), .help = "unit tag; none when unset" },
	[QS_SCALE] = { .name = "scale", .kt = KT_DBL, .flags = KF_NONZERO, .off = OFF(cc_mqtt_sub, scale), .def = "1.0",
		       .range = "finite, non-zero", .help = "value = payload * scale + offset (not for bool)" },
	[QS_OFFSET] = { .name = "offset", .kt = KT_DBL, .off = OFF(cc_mqtt_sub, offset), .def = "0.0",
			.range = "finite", .help = "value = payload * scale + offset (not for bool)" },
	[QS_MIN] = { .name = "min", .kt = KT_DBL, .off = OFF(cc_mqtt_sub, valid_min), .def = "-inf",
		     .range = "finite, < max", .help = "lowest physically valid value (else quality out_of_range)" },
	[QS_MAX] = { .name = "max", .kt = KT_DBL, .off = OFF(cc_mqtt_sub, valid_max), .def = "inf",
		     .range = "finite, > min", .help = "highest physically valid value (else quality out_of_range)" },
	[QS_MAX_PAYLOAD] = { .name = "max_payload", .kt = KT_INT, .off = OFF(cc_mqtt_sub, max_payload), .def = "65536",
			     .min = 16, .max = 268435455, .help = "bytes; a larger message is refused (too_large)" },
	[QS_FIELDS] = { .name = "fields", .kt = KT_GROUP, .flags = KF_NOPRINT,
			.help = "json (required): CHANNEL = \"path\" or CHANNEL = { ... }: see group "
				"mqtt.subscriptions.fields.CHANNEL" },
	[QS_TIME] = { .name = "time", .kt = KT_STR, .off = OFF(cc_mqtt_sub, time_path),
		      .help = "json: path of the timestamp (epoch number or RFC 3339); time of arrival when unset" },
	[QS_TIME_UNIT] = { .name = "time_unit", .kt = KT_ENUM, .off = OFF(cc_mqtt_sub, time_unit), .def = "auto",
			   .enums = mqtt_tunits, .store = ES_INT,
			   .help = "json: unit of an epoch timestamp (auto: by magnitude)" },
};

enum { QF_PATH, QF_QUANTITY, QF_UNIT, QF_SCALE, QF_OFFSET, QF_MIN, QF_MAX, QF_N };
static const struct key mqtt_field_keys[] = {
	[QF_PATH] = { .name = "path", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_mqtt_field, path),
		      .help = "dotted path of the value (\"env.rh\", \"sensors.0.t\")" },
	[QF_QUANTITY] = { .name = "quantity", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_mqtt_field, quantity),
			  .def = "the channel name", .help = "measurement" },
	[QF_UNIT] = { .name = "unit", .kt = KT_STR, .flags = KF_DYN, .off = OFF(cc_mqtt_field, unit),
		      .def = "the subscription's", .help = "unit tag" },
	[QF_SCALE] = { .name = "scale", .kt = KT_DBL, .flags = KF_DYN | KF_NONZERO, .off = OFF(cc_mqtt_field, scale),
		       .def = "the subscription's", .range = "finite, non-zero", .help = "value = raw * scale + offset" },
	[QF_OFFSET] = { .name = "offset", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_mqtt_field, offset),
			.def = "the subscription's", .range = "finite", .help = "value = raw * scale + offset" },
	[QF_MIN] = { .name = "min", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_mqtt_field, valid_min),
		     .def = "the subscription's", .range = "finite, < max", .help = "lowest physically valid value" },
	[QF_MAX] = { .name = "max", .kt = KT_DBL, .flags = KF_DYN, .off = OFF(cc_mqtt_field, valid_max),
		     .def = "the subscription's", .range = "finite, > min", .help = "highest physically valid value" },
};

const struct group g_mqtt = GROUP("mqtt", mqtt_keys, "MQTT ingestion (optional)");
const struct group g_mqtt_broker = GROUP("mqtt.broker", mqtt_broker_keys, "the MQTT broker");
const struct group g_mqtt_sub = GROUP("mqtt.subscriptions", mqtt_sub_keys, "one subscription (list element)");
const struct group g_mqtt_field = GROUP("mqtt.subscriptions.fields.CHANNEL", mqtt_field_keys,
					"one JSON field (or just its path as a string)");
_Static_assert(ARRAY_SIZE(mqtt_keys) == QK_N, "mqtt_keys");
_Static_assert(ARRAY_SIZE(mqtt_broker_keys) == QB_N && QB_N <= 16, "mqtt_broker_keys");
_Static_assert(ARRAY_SIZE(mqtt_sub_keys) == QS_N && QS_N <= 16, "mqtt_sub_keys");
_Static_assert(ARRAY_SIZE(mqtt_field_keys) == QF_N, "mqtt_field_keys");

static void mqtt_field_free(struct cc_mqtt_field *f)
{
	free(f->name);
	free(f->path);
	free(f->quantity);
	free(f->unit);
}

static void mqtt_sub_free(struct cc_mqtt_sub *s)
{
	free(s->topic);
	free(s->quantity);
	free(s->channel);
	free(s->sensor);
	free(s->room);
	free(s->unit);
	free(s->time_path);
	for (size_t i = 0; i < s->nfields; i++)
		mqtt_field_free(&s->fields[i]);
	free(s->fields);
}

void free_mqtt(struct cc_mqtt_conf *m)
{
	if (!m)
		return;
	free(m->host);
	free(m->client_id);
	free(m->username);
	free(m->password_file);
	free_secret(m->password);
	free(m->ca_file);
	free(m->ca_dir);
	free(m->cert);
	free(m->key);
	for (size_t i = 0; i < m->nsubs; i++)
		mqtt_sub_free(&m->subs[i]);
	free(m->subs);
	free(m);
}

/* A key of subscription path set where it makes no sense: one message per key. */
static void err_key_not_for(struct ctx *c, const struct seen *sn, int k, const char *path, const char *why)
{
	if (sn[k].s)
		err_key(c, sn, k, mqtt_sub_keys, NULL, path, "%s", why);
}

static void load_mqtt_field(struct ctx *c, const config_setting_t *fs, const struct cc_mqtt_sub *s,
			    struct cc_mqtt_field *f, const char *path)
{
	struct seen sn[MAX_KEYS];

	f->name = xstrdup(config_setting_name(fs));
	f->line = src_line(fs);
	if (!schema_name_ok(f->name))
		err_at(c, fs, path, "channel name \"%s\" may only contain letters, digits, '.', '_' and '-'", f->name);
	if (config_setting_type(fs) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(fs);
		if (!*v)
			err_at(c, fs, path, "must not be empty");
		f->path = xstrdup(v);
		memset(sn, 0, sizeof(sn));
	} else if (config_setting_type(fs) == CONFIG_TYPE_GROUP) {
		schema_apply(c, fs, fs, &g_mqtt_field, f, path, sn);
	} else {
		err_at(c, fs, path, "expected a path string or a group { path = ...; ... }, got %s",
		       lc_type_name(config_setting_type(fs)));
		memset(sn, 0, sizeof(sn));
	}
	if (!ok(&sn[QF_QUANTITY]))
		f->quantity = xstrdup(f->name);
	if (!sn[QF_UNIT].s && s->unit)
		f->unit = xstrdup(s->unit);
	if (!ok(&sn[QF_SCALE]))
		f->scale = s->scale;
	if (!ok(&sn[QF_OFFSET]))
		f->offset = s->offset;
	if (!ok(&sn[QF_MIN]))
		f->valid_min = s->valid_min;
	if (!ok(&sn[QF_MAX]))
		f->valid_max = s->valid_max;
	if (!(f->valid_min < f->valid_max) && (ok(&sn[QF_MIN]) || ok(&sn[QF_MAX]))) {
		char *kp = key_path(path, ok(&sn[QF_MAX]) ? "max" : "min");
		err_at(c, ok(&sn[QF_MAX]) ? sn[QF_MAX].s : sn[QF_MIN].s, kp, "max %g must be greater than min %g",
		       f->valid_max, f->valid_min);
		free(kp);
	}
}

/* A fixed key and a capture of the same tag: which one would win is a guess. */
static void err_key_and_capture(struct ctx *c, const struct seen *sn, int k, const char *path,
				const struct topic_pat *tp, enum topic_cap cap)
{
	if (sn[k].s && tp->has_cap[cap])
		err_key(c, sn, k, mqtt_sub_keys, NULL, path, "set either %s or a {%s} capture in topic, not both",
			mqtt_sub_keys[k].name, mqtt_sub_keys[k].name);
}

/* The subscription's topic: a valid filter, subscribed once.  1 when it
 * parsed into tp. */
static int sub_topic(struct ctx *c, const config_setting_t *ss, const struct seen *sn, const struct cc_mqtt_sub *s,
		     const char *path, struct names *topics, struct topic_pat *tp)
{
	const config_setting_t *first;
	const char *why;
	char *kp, *w;
	int tp_ok = 0;

	if (!ok(&sn[QS_TOPIC]))
		return 0;
	kp = key_path(path, "topic");
	if (topic_parse(s->topic, tp, &why) < 0) {
		err_at(c, sn[QS_TOPIC].s, kp, "\"%s\" %s", s->topic, why);
	} else {
		tp_ok = 1;
		if ((first = names_add(topics, s->topic, ss))) {
			w = err_where(c, first, ss);
			err_at(c, sn[QS_TOPIC].s, kp, "topic \"%s\" is already subscribed at %s", s->topic, w);
			free(w);
		}
	}
	free(kp);
	return tp_ok;
}

/* Keys set that the subscription's format does not use, QoS 2, min < max. */
static void sub_check_format(struct ctx *c, const struct seen *sn, const struct cc_mqtt_sub *s, const char *path)
{
	int json = s->format == CC_MQTT_JSON, influx = s->format == CC_MQTT_INFLUX;

	if (ok(&sn[QS_QOS]) && s->qos == 2)
		err_key(c, sn, QS_QOS, mqtt_sub_keys, NULL, path,
			"QoS 2 is not offered: libmosquitto 2.0 acknowledges a QoS 2 message (PUBREC) before the daemon "
			"has it; use 1 (QoS 2 publications arrive as QoS 1)");
	if (!json) {
		err_key_not_for(c, sn, QS_FIELDS, path, "only valid with format json");
		err_key_not_for(c, sn, QS_TIME, path, "only valid with format json");
		err_key_not_for(c, sn, QS_TIME_UNIT, path, "only valid with format json");
	} else if (sn[QS_TIME_UNIT].s && !sn[QS_TIME].s) {
		err_key_not_for(c, sn, QS_TIME_UNIT, path, "only valid with time");
	}
	if (json || influx) {
		const char *w = json ? "not valid with format json (each field names its quantity and channel)"
				     : "not valid with format influx (the measurement is the quantity)";
		err_key_not_for(c, sn, QS_QUANTITY, path, w);
		err_key_not_for(c, sn, QS_CHANNEL, path, w);
	}
	if (s->format == CC_MQTT_BOOL) {
		err_key_not_for(c, sn, QS_SCALE, path, "not valid with format bool");
		err_key_not_for(c, sn, QS_OFFSET, path, "not valid with format bool");
		err_key_not_for(c, sn, QS_MIN, path, "not valid with format bool");
		err_key_not_for(c, sn, QS_MAX, path, "not valid with format bool");
	}
	if (ok(&sn[QS_MIN]) && ok(&sn[QS_MAX]) && !(s->valid_min < s->valid_max))
		err_key(c, sn, QS_MAX, mqtt_sub_keys, NULL, path, "%g must be greater than min %g", s->valid_max,
			s->valid_min);
}

/* The topic's captures against the fixed keys and the format. */
static void sub_check_captures(struct ctx *c, const config_setting_t *ss, const struct seen *sn,
			       const struct cc_mqtt_sub *s, const char *path, const struct topic_pat *tp)
{
	int json = s->format == CC_MQTT_JSON, influx = s->format == CC_MQTT_INFLUX;
	char *kp = key_path(path, "topic");

	err_key_and_capture(c, sn, QS_SENSOR, path, tp, TOPIC_CAP_SENSOR);
	err_key_and_capture(c, sn, QS_ROOM, path, tp, TOPIC_CAP_ROOM);
	err_key_and_capture(c, sn, QS_QUANTITY, path, tp, TOPIC_CAP_QUANTITY);
	err_key_and_capture(c, sn, QS_CHANNEL, path, tp, TOPIC_CAP_CHANNEL);
	if ((json || influx) && (tp->has_cap[TOPIC_CAP_QUANTITY] || tp->has_cap[TOPIC_CAP_CHANNEL]))
		err_at(c, sn[QS_TOPIC].s, kp, "{quantity} and {channel} captures are not used by format %s (%s)",
		       json ? "json" : "influx", json ? "each field names its channel" : "the measurement and fields do");
	if (!json && !influx && !sn[QS_QUANTITY].s && !tp->has_cap[TOPIC_CAP_QUANTITY])
		err_at(c, ss, path, "format %s needs a quantity: set quantity or capture {quantity} in topic",
		       mqtt_formats[s->format]);
	if (!influx && !sn[QS_SENSOR].s && !tp->has_cap[TOPIC_CAP_SENSOR])
		err_at(c, ss, path, "needs a sensor: set sensor or capture {sensor} in topic");
	free(kp);
}

/* fields = { CHANNEL = "path"; CHANNEL = { path = ...; ... }; ... } */
static void sub_load_fields(struct ctx *c, const config_setting_t *fg, struct cc_mqtt_sub *s, const char *path)
{
	size_t n = (size_t)config_setting_length(fg);
	char *base = key_path(path, "fields");

	if (n == 0)
		err_at(c, fg, base, "must name at least one field");
	s->fields = xcalloc(n + 1, sizeof(*s->fields));
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(fg, (unsigned)i);
		char *fp = key_path(base, config_setting_name(el));
		load_mqtt_field(c, el, s, &s->fields[s->nfields++], fp);
		free(fp);
	}
	free(base);
}

static void load_mqtt_sub(struct ctx *c, const config_setting_t *ss, struct cc_mqtt_sub *s, const char *path,
			  struct names *topics)
{
	struct seen sn[MAX_KEYS];
	struct topic_pat tp;
	int json, influx;

	s->line = src_line(ss);
	schema_apply(c, ss, ss, &g_mqtt_sub, s, path, sn);
	memset(&tp, 0, sizeof(tp));
	json = s->format == CC_MQTT_JSON;
	influx = s->format == CC_MQTT_INFLUX;
	int tp_ok = sub_topic(c, ss, sn, s, path, topics, &tp);
	sub_check_format(c, sn, s, path);
	if (tp_ok)
		sub_check_captures(c, ss, sn, s, path, &tp);
	if (!ok(&sn[QS_CHANNEL]) && !json && !influx && s->quantity && !tp.has_cap[TOPIC_CAP_CHANNEL])
		s->channel = xstrdup(s->quantity);
	if (json && !sn[QS_FIELDS].s)
		err_at(c, ss, path, "format json needs fields = { CHANNEL = \"path\"; ... }");
	if (json && ok(&sn[QS_FIELDS]))
		sub_load_fields(c, sn[QS_FIELDS].s, s, path);
	topic_free(&tp);
}

/* --- the broker (mqtt.broker and outputs.alerts_mqtt.broker) ----------- */

/* The defaults that depend on other keys, and the client id's check;
 * suffix goes on the default client id. */
static void broker_defaults(struct ctx *c, const struct seen *sb, struct cc_mqtt_conf *m, const char *path,
			    const char *suffix)
{
	if (!ok(&sb[QB_TLS]))
		m->tls = sb[QB_CA_FILE].s || sb[QB_CA_DIR].s || sb[QB_CERT].s;
	if (!ok(&sb[QB_PORT]))
		m->port = m->tls ? 8883 : 1883;
	if (!ok(&sb[QB_CLIENT_ID])) {
		m->client_id = xasprintf("coldchaind-%s%s", c->cfg->site ? c->cfg->site : "", suffix);
	} else if (strlen(m->client_id) > 65535 || payload_utf8_check(m->client_id, strlen(m->client_id)) < 0) {
		err_key(c, sb, QB_CLIENT_ID, mqtt_broker_keys, NULL, path, "must be valid UTF-8 of at most 65535 bytes");
	}
}

/* password_file (with username; the password is read now), cert with key. */
static void broker_auth(struct ctx *c, const struct seen *sb, struct cc_mqtt_conf *m, const char *path)
{
	char *kp;

	read_password(c, &sb[QB_PASSWORD_FILE], &sb[QB_USERNAME], m->password_file, &m->password, path);
	if ((sb[QB_CERT].s != NULL) != (sb[QB_KEY].s != NULL)) {
		int k = sb[QB_CERT].s ? QB_CERT : QB_KEY;
		kp = key_path(path, mqtt_broker_keys[k].name);
		err_at(c, sb[k].s, kp, "requires %s", k == QB_CERT ? "key" : "cert");
		free(kp);
	}
}

/* The TLS files of mqtt.broker: only with tls, readable, of the right kind. */
static void broker_files(struct ctx *c, const struct seen *sb, const struct cc_mqtt_conf *m)
{
	static const int tls_keys[] = { QB_CA_FILE, QB_CA_DIR, QB_CERT, QB_KEY, QB_INSECURE };
	static const int files[] = { QB_CA_FILE, QB_CERT, QB_KEY, QB_CA_DIR };
	char *kp;

	for (size_t i = 0; !m->tls && i < ARRAY_SIZE(tls_keys); i++)
		if (sb[tls_keys[i]].s) {
			kp = key_path("mqtt.broker", mqtt_broker_keys[tls_keys[i]].name);
			err_at(c, sb[tls_keys[i]].s, kp, "only valid with tls = true");
			free(kp);
		}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		const struct key *k = &mqtt_broker_keys[files[i]];
		const char *v;
		struct stat st;

		if (!ok(&sb[files[i]]))
			continue;
		v = *(char **)(void *)((char *)m + k->off);
		kp = key_path("mqtt.broker", k->name);
		if (stat(v, &st) < 0 || access(v, R_OK) < 0) {
			char *disp = path_join(c->dir, config_setting_get_string(sb[files[i]].s));
			err_at(c, sb[files[i]].s, kp, "cannot read %s: %s", disp, strerror(errno));
			free(disp);
		} else if (files[i] == QB_CA_DIR && !S_ISDIR(st.st_mode)) {
			err_at(c, sb[files[i]].s, kp, "is not a directory");
		} else if (files[i] != QB_CA_DIR && !S_ISREG(st.st_mode)) {
			err_at(c, sb[files[i]].s, kp, "is not a regular file");
		}
		free(kp);
	}
}

/* outputs.alerts_mqtt.broker: the keys and checks of mqtt.broker, a clean
 * session by default; its TLS files need tls and must be readable. */
void load_alerts_broker(struct ctx *c, const config_setting_t *bs, struct cc_mqtt_conf *m, const char *path)
{
	static const int files[] = { QB_CA_FILE, QB_CERT, QB_KEY, QB_CA_DIR };
	struct seen sb[MAX_KEYS];

	schema_apply(c, bs, bs, &g_mqtt_broker, m, path, sb);
	m->line = src_line(bs);
	m->clean_session = ok(&sb[QB_CLEAN]) ? m->clean_session : 1;
	broker_defaults(c, sb, m, path, "-alerts");
	broker_auth(c, sb, m, path);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		const struct key *k = &mqtt_broker_keys[files[i]];

		if (!ok(&sb[files[i]]))
			continue;
		if (!m->tls) {
			char *kp = key_path(path, k->name);
			err_at(c, sb[files[i]].s, kp, "only valid with tls = true");
			free(kp);
			continue;
		}
		check_readable(c, *(char **)(void *)((char *)m + k->off), sb[files[i]].s, path, k->name);
	}
}

static void sub_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_mqtt_conf *m = c->cfg->mqtt;

	load_mqtt_sub(c, el, &m->subs[m->nsubs++], path, arg);
}

void load_mqtt(struct ctx *c, const config_setting_t *ms, const config_setting_t *root)
{
	struct cc_mqtt_conf *m = xcalloc(1, sizeof(*m));
	struct seen sn[MAX_KEYS], sb[MAX_KEYS];
	struct names topics = { 0 };

	c->cfg->mqtt = m;
	m->line = src_line(ms);
	schema_apply(c, ms, root, &g_mqtt, m, "mqtt", sn);
	schema_apply(c, ok(&sn[QK_BROKER]) ? sn[QK_BROKER].s : NULL, ms, &g_mqtt_broker, m, "mqtt.broker", sb);
	broker_defaults(c, sb, m, "mqtt.broker", "");
	if (sb[QB_EXPIRY].s && m->protocol == CC_MQTT_V311)
		err_at(c, sb[QB_EXPIRY].s, "mqtt.broker.session_expiry",
		       "only with protocol \"5\" (a 3.1.1 session lasts until clean_session)");
	broker_auth(c, sb, m, "mqtt.broker");
	broker_files(c, sb, m);
	if (ok(&sn[QK_SUBS])) {
		const config_setting_t *list = sn[QK_SUBS].s;
		size_t n = (size_t)config_setting_length(list);

		if (n == 0)
			err_at(c, list, "mqtt.subscriptions", "must list at least one subscription");
		m->subs = xcalloc(n + 1, sizeof(*m->subs));
		schema_each_group(c, list, "mqtt.subscriptions", "topic", sub_elem, &topics);
	}
	names_free(&topics);
}

void print_mqtt(const struct cc_mqtt_conf *m, FILE *f)
{
	fputs("\nmqtt = {\n", f);
	schema_print_keys(f, "  ", &g_mqtt, m, 0);
	fputs("  broker = {\n", f);
	for (size_t i = 0; i < g_mqtt_broker.nkeys; i++) {
		const struct key *k = &mqtt_broker_keys[i];
		if (i == QB_EXPIRY && m->protocol == CC_MQTT_V311)
			continue;
		if (!m->tls && (i == QB_INSECURE))
			continue;
		if (schema_print_key(f, "    ", k, m)) {
			if (i == QB_PASSWORD_FILE)
				fputs(" # password: (from the file)", f);
			fputc('\n', f);
		}
	}
	fputs("  };\n  subscriptions = (\n", f);
	for (size_t i = 0; i < m->nsubs; i++) {
		const struct cc_mqtt_sub *s = &m->subs[i];
		int json = s->format == CC_MQTT_JSON, boolean = s->format == CC_MQTT_BOOL;

		fputs("    {\n", f);
		for (size_t j = 0; j < g_mqtt_sub.nkeys; j++) {
			if (!json && (j == QS_TIME || j == QS_TIME_UNIT))
				continue;
			if (json && j == QS_TIME_UNIT && !s->time_path)
				continue;
			if (boolean && (j == QS_SCALE || j == QS_OFFSET || j == QS_MIN || j == QS_MAX))
				continue;
			if (schema_print_key(f, "      ", &mqtt_sub_keys[j], s))
				fputc('\n', f);
		}
		if (json) {
			fputs("      fields = {\n", f);
			for (size_t j = 0; j < s->nfields; j++) {
				fprintf(f, "        %s = { ", s->fields[j].name);
				schema_print_keys(f, "", &g_mqtt_field, &s->fields[j], 1);
				fputs(" };\n", f);
			}
			fputs("      };\n", f);
		}
		fprintf(f, "    }%s\n", i + 1 < m->nsubs ? "," : "");
	}
	fputs("  );\n};\n", f);
}

/* outputs.alerts_mqtt's broker group (no session_expiry with a clean
 * session or protocol 3.1.1, insecure only with tls). */
void print_alerts_broker(const struct cc_mqtt_conf *b, FILE *f)
{
	fputs("    broker = {\n", f);
	for (size_t i = 0; i < g_mqtt_broker.nkeys; i++) {
		if (i == QB_EXPIRY && (b->protocol == CC_MQTT_V311 || b->clean_session))
			continue;
		if (!b->tls && i == QB_INSECURE)
			continue;
		if (schema_print_key(f, "      ", &mqtt_broker_keys[i], b))
			fputc('\n', f);
	}
	fputs("    };\n", f);
}

