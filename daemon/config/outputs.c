/* outputs.c - group outputs of the configuration: where points go
 * (outputs.influxdb, outputs.influxdb2, outputs.file), the names outputs
 * share (explicit ones unique, derived ones never colliding) and the
 * quarantine files' default.  The alert-event outputs in the same group
 * (webhook, alerts_mqtt) are alerts.c's. */
#include "config_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* An http(s) URL with a host and no spaces or control characters; a query
 * (or fragment) only when query_ok (a webhook's receiver may put its key
 * there; an InfluxDB URL has keys of its own for what a query would say). */
const char *check_http_url(const char *s, int query_ok)
{
	const char *host;

	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else
		return "must start with http:// or https://";
	if (*host == '\0' || *host == '/' || *host == ':' || (query_ok && *host == '?'))
		return "has no host";
	if (!query_ok && strpbrk(s, "?#"))
		return "must not have a query or fragment (database and credentials have their own keys)";
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return "must not contain spaces or control characters";
	return NULL;
}

static const char *check_url(const char *s)
{
	return check_http_url(s, 0);
}

enum { OK_INFLUX, OK_INFLUX2, OK_FILE, OK_WEBHOOK, OK_ALERTS_MQTT, OK_EMAIL, OK_TELEGRAM, OK_ZALO, OK_SMS, OK_N };
static const struct key outputs_keys[] = {
	[OK_INFLUX] = { .name = "influxdb", .kt = KT_LIST,
			.help = "InfluxDB 1.x /write API (also VictoriaMetrics): see group outputs.influxdb" },
	[OK_INFLUX2] = { .name = "influxdb2", .kt = KT_LIST,
			 .help = "InfluxDB 2.x/3.x /api/v2/write API: see group outputs.influxdb2" },
	[OK_FILE] = { .name = "file", .kt = KT_LIST, .help = "line-protocol files: see group outputs.file" },
	[OK_WEBHOOK] = { .name = "webhook", .kt = KT_LIST,
			 .help = "alert events as JSON POSTs: see group outputs.webhook" },
	[OK_ALERTS_MQTT] = { .name = "alerts_mqtt", .kt = KT_GROUP,
			     .help = "alert events to MQTT: see group outputs.alerts_mqtt" },
	[OK_EMAIL] = { .name = "email", .kt = KT_LIST, .help = "alarms to people by e-mail: see group outputs.email" },
	[OK_TELEGRAM] = { .name = "telegram", .kt = KT_LIST,
			  .help = "alarms to people by Telegram: see group outputs.telegram" },
	[OK_ZALO] = { .name = "zalo", .kt = KT_LIST, .help = "alarms to people by Zalo: see group outputs.zalo" },
	[OK_SMS] = { .name = "sms", .kt = KT_LIST, .help = "alarms to people by SMS: see group outputs.sms" },
};

const char *const start_names[] = { "end", "oldest", NULL };
#define START_HELP "a new output (no position in the journal yet) starts with points journaled from now on " \
		   "(end), or replays the whole journal first (oldest)"
#define BATCH_BYTES_HELP "bytes per request (before gzip): a batch leaves at batch lines, batch_bytes or flush age"
#define GZIP_HELP "gzip request bodies (a server refusing them, 415 or 400, gets plain text from then on)"
#define QUARANTINE_HELP "file the lines the server refuses are appended to, each after a '#' line with the reason"

enum { IK_NAME, IK_URL, IK_DATABASE, IK_CREATE_DATABASE, IK_RP, IK_USERNAME, IK_PASSWORD_FILE, IK_CA_FILE, IK_INSECURE, IK_GZIP,
       IK_BATCH, IK_FLUSH, IK_TIMEOUT, IK_CONNECT_TIMEOUT, IK_BACKOFF, IK_BATCH_BYTES, IK_QUARANTINE, IK_START, IK_N };
static const struct key influx_keys[] = {
	[IK_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_influx_conf, name),
		      .def = "influxdb-N (N = position)", .help = "output name, unique among outputs" },
	[IK_URL] = { .name = "url", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, url), .check = check_url,
		     .range = "http:// or https://, no query", .help = "server URL, e.g. http://127.0.0.1:8086" },
	[IK_DATABASE] = { .name = "database", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, database),
			  .help = "database written to" },
	[IK_CREATE_DATABASE] = { .name = "create_database", .kt = KT_BOOL, .off = OFF(cc_influx_conf, create_database),
				.def = "true",
				.help = "on \"database not found\" send CREATE DATABASE once (with this output's "
					"credentials) and write again at once; false: never, and retry every 5s" },
	[IK_RP] = { .name = "retention_policy", .kt = KT_STR, .off = OFF(cc_influx_conf, retention_policy),
		    .help = "retention policy; the database's default when unset" },
	[IK_USERNAME] = { .name = "username", .kt = KT_STR, .off = OFF(cc_influx_conf, username),
			  .help = "user name (requires password_file)" },
	[IK_PASSWORD_FILE] = { .name = "password_file", .kt = KT_PATH, .off = OFF(cc_influx_conf, password_file),
			       .range = "mode 0600 or stricter", .secret = "password",
			       .help = "file whose first line is the password, read at load (requires username)" },
	[IK_CA_FILE] = { .name = "ca_file", .kt = KT_PATH, .off = OFF(cc_influx_conf, ca_file),
			 .help = "CA bundle for https; the system's when unset" },
	[IK_INSECURE] = { .name = "insecure", .kt = KT_BOOL, .off = OFF(cc_influx_conf, insecure), .def = "false",
			  .help = "skip TLS certificate verification (logged loudly)" },
	[IK_GZIP] = { .name = "gzip", .kt = KT_BOOL, .off = OFF(cc_influx_conf, gzip), .def = "false",
		      .help = GZIP_HELP },
	[IK_BATCH] = { .name = "batch", .kt = KT_INT, .off = OFF(cc_influx_conf, batch), .def = "5000", .min = 1,
		       .max = 100000, .help = "lines per request" },
	[IK_FLUSH] = { .name = "flush", .kt = KT_DUR, .off = OFF(cc_influx_conf, flush_ms), .def = "1s", .min = 10,
		       .max = 3600000, .help = "max age of a batch" },
	[IK_TIMEOUT] = { .name = "timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, timeout_ms), .def = "10s",
			 .min = 100, .max = 600000, .help = "total request timeout" },
	[IK_CONNECT_TIMEOUT] = { .name = "connect_timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, connect_timeout_ms),
				 .def = "5s", .min = 100, .max = 300000, .help = "connect timeout" },
	[IK_BACKOFF] = { .name = "backoff_max", .kt = KT_DUR, .off = OFF(cc_influx_conf, backoff_max_ms), .def = "60s",
			 .min = 1000, .max = 86400000, .help = "cap on retry backoff while the server fails" },
	[IK_BATCH_BYTES] = { .name = "batch_bytes", .kt = KT_SIZE, .off = OFF(cc_influx_conf, batch_bytes), .def = "4M",
			     .min = 1024.0, .max = 268435456.0, .help = BATCH_BYTES_HELP },
	[IK_QUARANTINE] = { .name = "quarantine", .kt = KT_PATH, .flags = KF_DYN, .off = OFF(cc_influx_conf, quarantine),
			    .def = "<journal dir>/quarantine-NAME.lp", .help = QUARANTINE_HELP },
	[IK_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_influx_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT, .help = START_HELP },
};

enum { I2_NAME, I2_URL, I2_ORG, I2_BUCKET, I2_TOKEN_FILE, I2_CA_FILE, I2_INSECURE, I2_GZIP, I2_BATCH, I2_BATCH_BYTES,
       I2_FLUSH, I2_TIMEOUT, I2_CONNECT_TIMEOUT, I2_BACKOFF, I2_QUARANTINE, I2_START, I2_N };
static const struct key influx2_keys[] = {
	[I2_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_influx_conf, name),
		      .def = "influxdb2-N (N = position)", .help = "output name, unique among outputs" },
	[I2_URL] = { .name = "url", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, url), .check = check_url,
		     .range = "http:// or https://, no query", .help = "server URL, e.g. http://127.0.0.1:8086" },
	[I2_ORG] = { .name = "org", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, org),
		     .help = "organization (name or ID)" },
	[I2_BUCKET] = { .name = "bucket", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_influx_conf, bucket),
			.help = "bucket written to (InfluxDB 3: the database)" },
	[I2_TOKEN_FILE] = { .name = "token_file", .kt = KT_PATH, .flags = KF_REQ, .off = OFF(cc_influx_conf, token_file),
			    .range = "mode 0600 or stricter", .secret = "token",
			    .help = "file whose first line is the API token, read at load (sent as Authorization: Token)" },
	[I2_CA_FILE] = { .name = "ca_file", .kt = KT_PATH, .off = OFF(cc_influx_conf, ca_file),
			 .help = "CA bundle for https; the system's when unset" },
	[I2_INSECURE] = { .name = "insecure", .kt = KT_BOOL, .off = OFF(cc_influx_conf, insecure), .def = "false",
			  .help = "skip TLS certificate verification (logged loudly)" },
	[I2_GZIP] = { .name = "gzip", .kt = KT_BOOL, .off = OFF(cc_influx_conf, gzip), .def = "false",
		      .help = GZIP_HELP },
	[I2_BATCH] = { .name = "batch", .kt = KT_INT, .off = OFF(cc_influx_conf, batch), .def = "5000", .min = 1,
		       .max = 100000, .help = "lines per request" },
	[I2_BATCH_BYTES] = { .name = "batch_bytes", .kt = KT_SIZE, .off = OFF(cc_influx_conf, batch_bytes), .def = "4M",
			     .min = 1024.0, .max = 268435456.0, .help = BATCH_BYTES_HELP },
	[I2_FLUSH] = { .name = "flush", .kt = KT_DUR, .off = OFF(cc_influx_conf, flush_ms), .def = "1s", .min = 10,
		       .max = 3600000, .help = "max age of a batch" },
	[I2_TIMEOUT] = { .name = "timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, timeout_ms), .def = "10s",
			 .min = 100, .max = 600000, .help = "total request timeout" },
	[I2_CONNECT_TIMEOUT] = { .name = "connect_timeout", .kt = KT_DUR, .off = OFF(cc_influx_conf, connect_timeout_ms),
				 .def = "5s", .min = 100, .max = 300000, .help = "connect timeout" },
	[I2_BACKOFF] = { .name = "backoff_max", .kt = KT_DUR, .off = OFF(cc_influx_conf, backoff_max_ms), .def = "60s",
			 .min = 1000, .max = 86400000, .help = "cap on retry backoff while the server fails" },
	[I2_QUARANTINE] = { .name = "quarantine", .kt = KT_PATH, .flags = KF_DYN, .off = OFF(cc_influx_conf, quarantine),
			    .def = "<journal dir>/quarantine-NAME.lp", .help = QUARANTINE_HELP },
	[I2_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_influx_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT, .help = START_HELP },
};

enum { FK_NAME, FK_PATH, FK_START, FK_N };
static const struct key file_keys[] = {
	[FK_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_file_out_conf, name),
		      .def = "file-N (N = position)", .help = "output name, unique among outputs" },
	[FK_PATH] = { .name = "path", .kt = KT_PATH, .flags = KF_REQ, .off = OFF(cc_file_out_conf, path),
		      .help = "file line protocol is appended to; \"-\" = standard output" },
	[FK_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_file_out_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT, .help = START_HELP },
};

const struct group g_outputs = GROUP("outputs", outputs_keys, "outputs (at least one)");
const struct group g_influx = GROUP("outputs.influxdb", influx_keys, "one InfluxDB 1.x output (list element)");
const struct group g_influx2 = GROUP("outputs.influxdb2", influx2_keys, "one InfluxDB v2 API output (list element)");
const struct group g_file = GROUP("outputs.file", file_keys, "one line-protocol file output (list element)");
_Static_assert(ARRAY_SIZE(outputs_keys) == OK_N, "outputs_keys");
_Static_assert(ARRAY_SIZE(influx_keys) == IK_N && IK_N <= MAX_KEYS, "influx_keys");
_Static_assert(ARRAY_SIZE(influx2_keys) == I2_N && I2_N <= MAX_KEYS, "influx2_keys");
_Static_assert(ARRAY_SIZE(file_keys) == FK_N, "file_keys");

static void load_influx2(struct ctx *c, const config_setting_t *is, struct cc_influx_conf *o, const char *path)
{
	struct seen sn[MAX_KEYS];
	char *kp;

	o->line = src_line(is);
	o->v2 = 1;
	schema_apply(c, is, is, &g_influx2, o, path, sn);
	if (ok(&sn[I2_NAME]))
		name_unique(c, &c->outputs, "output", o->name, is, sn[I2_NAME].s, path, "name");
	if (ok(&sn[I2_TOKEN_FILE])) {
		kp = key_path(path, "token_file");
		read_secret(c, o->token_file, &o->token, "token", sn[I2_TOKEN_FILE].s, kp);
		free(kp);
	}
	if (ok(&sn[I2_CA_FILE]))
		check_readable(c, o->ca_file, sn[I2_CA_FILE].s, path, "ca_file");
}

static void load_influx(struct ctx *c, const config_setting_t *is, struct cc_influx_conf *o, const char *path)
{
	struct seen sn[MAX_KEYS];

	o->line = src_line(is);
	schema_apply(c, is, is, &g_influx, o, path, sn);
	if (ok(&sn[IK_NAME]))
		name_unique(c, &c->outputs, "output", o->name, is, sn[IK_NAME].s, path, "name");
	read_password(c, &sn[IK_PASSWORD_FILE], &sn[IK_USERNAME], o->password_file, &o->password, path);
	if (sn[IK_USERNAME].s && !sn[IK_PASSWORD_FILE].s)
		err_key(c, sn, IK_USERNAME, influx_keys, NULL, path, "requires password_file");
	if (ok(&sn[IK_CA_FILE]))
		check_readable(c, o->ca_file, sn[IK_CA_FILE].s, path, "ca_file");
}

static void load_file_out(struct ctx *c, const config_setting_t *fs, struct cc_file_out_conf *o, const char *path)
{
	struct seen sn[MAX_KEYS];

	o->line = src_line(fs);
	schema_apply(c, fs, fs, &g_file, o, path, sn);
	if (ok(&sn[FK_NAME]))
		name_unique(c, &c->outputs, "output", o->name, fs, sn[FK_NAME].s, path, "name");
}

/* "influxdb-2": unique among the outputs' names. */
char *derive_name(struct ctx *c, const char *prefix, size_t idx)
{
	for (size_t n = idx + 1;; n++) {
		char *s = xasprintf("%s-%zu", prefix, n);
		int taken = 0;
		for (size_t i = 0; i < c->outputs.n && !taken; i++)
			taken = strcmp(c->outputs.v[i].name, s) == 0;
		if (!taken)
			return s;
		free(s);
	}
}

static void influx_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	(void)arg;
	load_influx(c, el, &c->cfg->influx[c->cfg->ninflux++], path);
}

static void influx2_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	(void)arg;
	load_influx2(c, el, &c->cfg->influx[c->cfg->ninflux++], path);
}

static void file_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	(void)arg;
	load_file_out(c, el, &c->cfg->files[c->cfg->nfiles++], path);
}

/* Derived names after every explicit one is known, so none collides; the
 * quarantine files once the names and the journal directory are known. */
static void name_outputs(struct ctx *c, const config_setting_t *os)
{
	struct cc_config *cfg = c->cfg;

	for (size_t i = 0, n1 = 0, n2 = 0; i < cfg->ninflux; i++) {
		size_t idx = cfg->influx[i].v2 ? n2++ : n1++;
		if (!cfg->influx[i].name) {
			cfg->influx[i].name = derive_name(c, cfg->influx[i].v2 ? "influxdb2" : "influxdb", idx);
			names_add(&c->outputs, cfg->influx[i].name, os);
		}
	}
	for (size_t i = 0; i < cfg->nfiles; i++)
		if (!cfg->files[i].name) {
			cfg->files[i].name = derive_name(c, "file", i);
			names_add(&c->outputs, cfg->files[i].name, os);
		}
	for (size_t i = 0; i < cfg->ninflux; i++)
		if (!cfg->influx[i].quarantine && cfg->influx[i].name)
			cfg->influx[i].quarantine =
				xasprintf("%s/quarantine-%s.lp", cfg->journal.dir, cfg->influx[i].name);
}

void load_outputs(struct ctx *c, const config_setting_t *os, const config_setting_t *root)
{
	struct cc_config *cfg = c->cfg;
	struct seen sn[MAX_KEYS];
	char none; /* the group stores nothing itself */

	schema_apply(c, os, root, &g_outputs, &none, "outputs", sn);
	if (ok(&sn[OK_INFLUX])) {
		size_t n = (size_t)config_setting_length(sn[OK_INFLUX].s);
		cfg->influx = xcalloc(n + 1, sizeof(*cfg->influx));
		schema_each_group(c, sn[OK_INFLUX].s, "outputs.influxdb", "name", influx_elem, NULL);
	}
	if (ok(&sn[OK_INFLUX2])) {
		size_t n = (size_t)config_setting_length(sn[OK_INFLUX2].s);
		cfg->influx = xrealloc(cfg->influx, (cfg->ninflux + n + 1) * sizeof(*cfg->influx));
		memset(cfg->influx + cfg->ninflux, 0, (n + 1) * sizeof(*cfg->influx));
		schema_each_group(c, sn[OK_INFLUX2].s, "outputs.influxdb2", "name", influx2_elem, NULL);
	}
	if (ok(&sn[OK_FILE])) {
		size_t n = (size_t)config_setting_length(sn[OK_FILE].s);
		cfg->files = xcalloc(n + 1, sizeof(*cfg->files));
		schema_each_group(c, sn[OK_FILE].s, "outputs.file", "name", file_elem, NULL);
	}
	name_outputs(c, os);
	if (cfg->ninflux + cfg->nfiles == 0 && !sn[OK_INFLUX].bad && !sn[OK_INFLUX2].bad && !sn[OK_FILE].bad)
		err_at(c, os ? os : root, "outputs", "at least one output (influxdb, influxdb2 or file) is required");
}

/* Inside "outputs = { ... }": influxdb (always), influxdb2 (when set), file. */
void print_outputs(const struct cc_config *cfg, FILE *f)
{
	for (int v2 = 0; v2 <= 1; v2++) {
		size_t n = 0, k = 0;
		for (size_t i = 0; i < cfg->ninflux; i++)
			n += cfg->influx[i].v2 == v2;
		if (v2 && n == 0)
			continue;
		fputs(v2 ? "  );\n  influxdb2 = (\n" : "  influxdb = (\n", f);
		for (size_t i = 0; i < cfg->ninflux; i++) {
			if (cfg->influx[i].v2 != v2)
				continue;
			fputs("    {\n", f);
			schema_print_keys(f, "      ", v2 ? &g_influx2 : &g_influx, &cfg->influx[i], 0);
			fprintf(f, "    }%s\n", ++k < n ? "," : "");
		}
	}
	fputs("  );\n  file = (\n", f);
	for (size_t i = 0; i < cfg->nfiles; i++) {
		fputs("    { ", f);
		schema_print_keys(f, "", &g_file, &cfg->files[i], 1);
		fprintf(f, " }%s\n", i + 1 < cfg->nfiles ? "," : "");
	}
	fputs("  );\n", f);
}

void free_outputs(struct cc_config *cfg)
{
	for (size_t i = 0; i < cfg->ninflux; i++) {
		struct cc_influx_conf *o = &cfg->influx[i];
		free(o->name);
		free(o->url);
		free(o->database);
		free(o->retention_policy);
		free(o->username);
		free(o->password_file);
		free_secret(o->password);
		free(o->ca_file);
		free(o->org);
		free(o->bucket);
		free(o->token_file);
		free_secret(o->token);
		free(o->quarantine);
	}
	free(cfg->influx);
	for (size_t i = 0; i < cfg->nfiles; i++) {
		free(cfg->files[i].name);
		free(cfg->files[i].path);
	}
	free(cfg->files);
}
