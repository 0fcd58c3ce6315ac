/* alerts.c - the alert-event outputs of group outputs (outputs.webhook,
 * outputs.alerts_mqtt): their tables, loader, printer and destructor.
 * They load after mqtt: an alerts_mqtt without a broker group of its own
 * takes a copy of mqtt.broker (broker_copy). */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A webhook URL may carry a path and a query (many receivers put their key
 * there); only the scheme, a host and no control characters are required. */
static const char *check_webhook_url(const char *s)
{
	return check_http_url(s, 1);
}

/* Topic prefix: levels without wildcards, no leading/trailing '/'. */
static const char *check_topic_prefix(const char *s)
{
	if (strpbrk(s, "+#"))
		return "must not contain the wildcards + or #";
	if (s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
		return "must not start or end with '/' or have an empty level";
	if (s[0] == '$')
		return "must not start with '$' (reserved for the broker)";
	return NULL;
}

enum { WH_NAME, WH_URL, WH_MIN_SEVERITY, WH_HEADERS, WH_TOKEN_FILE, WH_CA_FILE, WH_INSECURE, WH_TIMEOUT, WH_BACKOFF,
       WH_START, WH_N };
static const struct key webhook_keys[] = {
	[WH_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(cc_webhook_conf, name),
		      .def = "webhook-N (N = position)", .help = "output name, unique among outputs" },
	[WH_URL] = { .name = "url", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_webhook_conf, url),
		     .check = check_webhook_url, .help = "http(s) URL each alert event is POSTed to as JSON" },
	[WH_MIN_SEVERITY] = { .name = "min_severity", .kt = KT_ENUM, .off = OFF(cc_webhook_conf, min_severity),
			      .def = "warning", .enums = severity_names, .store = ES_INT,
			      .help = "events of a lower severity are skipped (not sent, not retried)" },
	[WH_HEADERS] = { .name = "headers", .kt = KT_GROUP, .flags = KF_NOPRINT,
			 .help = "extra request headers, NAME = \"value\" (no secrets here: use token_file)" },
	[WH_TOKEN_FILE] = { .name = "token_file", .kt = KT_PATH, .off = OFF(cc_webhook_conf, token_file),
			    .range = "mode 0600 or stricter",
			    .help = "file whose first line is a token, read at load (sent as Authorization: Bearer)" },
	[WH_CA_FILE] = { .name = "ca_file", .kt = KT_PATH, .off = OFF(cc_webhook_conf, ca_file),
			 .help = "CA certificate(s) for an https URL (private CA)" },
	[WH_INSECURE] = { .name = "insecure", .kt = KT_BOOL, .off = OFF(cc_webhook_conf, insecure), .def = "false",
			  .help = "skip TLS certificate verification (logged loudly)" },
	[WH_TIMEOUT] = { .name = "timeout", .kt = KT_DUR, .off = OFF(cc_webhook_conf, timeout_ms), .def = "10s",
			 .min = 100, .max = 300000, .help = "total request timeout (then retried)" },
	[WH_BACKOFF] = { .name = "backoff_max", .kt = KT_DUR, .off = OFF(cc_webhook_conf, backoff_max_ms), .def = "60s",
			 .min = 1000, .max = 86400000, .help = "cap on the retry backoff (1 s doubling, with jitter)" },
	[WH_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_webhook_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT,
		       .help = "a new webhook gets events journaled from now on (end) or every event the journal "
			       "still holds (oldest)" },
};

enum { AM_NAME, AM_PREFIX, AM_BROKER, AM_START, AM_N };
static const struct key alerts_mqtt_keys[] = {
	[AM_NAME] = { .name = "name", .kt = KT_NAME, .off = OFF(cc_alerts_mqtt_conf, name), .def = "alerts_mqtt",
		      .help = "output name, unique among outputs" },
	[AM_PREFIX] = { .name = "prefix", .kt = KT_STR, .flags = KF_DYN, .off = OFF(cc_alerts_mqtt_conf, prefix),
			.def = "coldchaind/SITE", .check = check_topic_prefix,
			.help = "topics PREFIX/state/ROOM/ID (retained) and PREFIX/events" },
	[AM_BROKER] = { .name = "broker", .kt = KT_GROUP, .flags = KF_NOPRINT,
			.help = "the broker, keys of group mqtt.broker (client_id default coldchaind-SITE-alerts); "
				"unset = mqtt.broker's settings with client id CLIENT_ID-alerts" },
	[AM_START] = { .name = "start", .kt = KT_ENUM, .off = OFF(cc_alerts_mqtt_conf, start_oldest), .def = "end",
		       .enums = start_names, .store = ES_INT,
		       .help = "a new publisher gets events journaled from now on (end) or every event the journal "
			       "still holds (oldest)" },
};

const struct group g_webhook = GROUP("outputs.webhook", webhook_keys,
				     "one webhook: alert events as JSON POSTs (list element)");
const struct group g_alerts_mqtt = GROUP("outputs.alerts_mqtt", alerts_mqtt_keys,
					 "alert events to MQTT: retained state per alarm and an event topic");
_Static_assert(ARRAY_SIZE(webhook_keys) == WH_N, "webhook_keys");
_Static_assert(ARRAY_SIZE(alerts_mqtt_keys) == AM_N, "alerts_mqtt_keys");


static char *dup_or_null_cfg(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A copy of mqtt.broker's settings for the alert publisher: the same
 * broker, its own client id (two clients with one id would throw each
 * other off the broker) and a clean session (nothing to subscribe to). */
static struct cc_mqtt_conf *broker_copy(const struct cc_mqtt_conf *m)
{
	struct cc_mqtt_conf *b = xcalloc(1, sizeof(*b));

	b->host = dup_or_null_cfg(m->host);
	b->port = m->port;
	b->client_id = xasprintf("%s-alerts", m->client_id ? m->client_id : "coldchaind");
	b->protocol = m->protocol;
	b->keepalive_ms = m->keepalive_ms;
	b->clean_session = 1;
	b->username = dup_or_null_cfg(m->username);
	b->password_file = dup_or_null_cfg(m->password_file);
	b->password = dup_or_null_cfg(m->password);
	b->tls = m->tls;
	b->ca_file = dup_or_null_cfg(m->ca_file);
	b->ca_dir = dup_or_null_cfg(m->ca_dir);
	b->cert = dup_or_null_cfg(m->cert);
	b->key = dup_or_null_cfg(m->key);
	b->insecure = m->insecure;
	b->reconnect_max_ms = m->reconnect_max_ms;
	b->line = m->line;
	return b;
}

static void load_webhook(struct ctx *c, const config_setting_t *ws, struct cc_webhook_conf *w, const char *path)
{
	struct seen sn[MAX_KEYS];
	char *kp;

	w->line = src_line(ws);
	schema_apply(c, ws, ws, &g_webhook, w, path, sn);
	if (ok(&sn[WH_NAME]))
		name_unique(c, &c->outputs, "output", w->name, ws, sn[WH_NAME].s, path, "name");
	if (ok(&sn[WH_HEADERS])) {
		const config_setting_t *hs = sn[WH_HEADERS].s;
		int n = config_setting_length(hs);

		w->headers = xcalloc((size_t)n + 1, sizeof(*w->headers));
		for (int i = 0; i < n; i++) {
			const config_setting_t *h = config_setting_get_elem(hs, (unsigned)i);
			const char *name = config_setting_name(h), *v;

			kp = xasprintf("%s.headers.%s", path, name);
			if (config_setting_type(h) != CONFIG_TYPE_STRING) {
				err_at(c, h, kp, "expected a string, got %s", lc_type_name(config_setting_type(h)));
			} else if (strcasecmp(name, "Content-Type") == 0 || strcasecmp(name, "Content-Length") == 0 ||
				   strcasecmp(name, "Authorization") == 0) {
				err_at(c, h, kp, "set by coldchaind (Authorization: use token_file)");
			} else {
				v = config_setting_get_string(h);
				if (strpbrk(v, "\r\n"))
					err_at(c, h, kp, "must not contain a line break");
				else
					w->headers[w->nheaders++] = xasprintf("%s: %s", name, v);
			}
			free(kp);
		}
	}
	if (ok(&sn[WH_TOKEN_FILE])) {
		kp = key_path(path, "token_file");
		read_secret(c, w->token_file, &w->token, "token", sn[WH_TOKEN_FILE].s, kp);
		free(kp);
	}
	if (ok(&sn[WH_CA_FILE]))
		check_readable(c, w->ca_file, sn[WH_CA_FILE].s, path, "ca_file");
}

static void load_alerts_mqtt(struct ctx *c, const config_setting_t *as)
{
	struct cc_alerts_mqtt_conf *a = xcalloc(1, sizeof(*a));
	struct seen sn[MAX_KEYS];

	c->cfg->alerts_mqtt = a;
	a->line = src_line(as);
	schema_apply(c, as, as, &g_alerts_mqtt, a, "outputs.alerts_mqtt", sn);
	if (ok(&sn[AM_NAME]))
		name_unique(c, &c->outputs, "output", a->name, as, sn[AM_NAME].s, "outputs.alerts_mqtt", "name");
	if (!ok(&sn[AM_PREFIX]))
		a->prefix = xasprintf("coldchaind/%s", c->cfg->site ? c->cfg->site : "site");
	if (ok(&sn[AM_BROKER])) {
		a->broker = xcalloc(1, sizeof(*a->broker));
		load_alerts_broker(c, sn[AM_BROKER].s, a->broker, "outputs.alerts_mqtt.broker");
	} else if (c->cfg->mqtt) {
		a->broker = broker_copy(c->cfg->mqtt);
	} else if (!sn[AM_BROKER].bad) {
		err_at(c, as, "outputs.alerts_mqtt", "needs a broker: a broker group here, or an mqtt group to share");
	}
}

static void webhook_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	(void)arg;
	load_webhook(c, el, &c->cfg->webhooks[c->cfg->nwebhooks++], path);
}

/* Called after load_mqtt: outputs.webhook and outputs.alerts_mqtt (their
 * types were checked with the outputs group). */
void load_alert_outputs(struct ctx *c, const config_setting_t *os)
{
	struct cc_config *cfg = c->cfg;
	const config_setting_t *wl = os ? config_setting_get_member(os, "webhook") : NULL;
	const config_setting_t *am = os ? config_setting_get_member(os, "alerts_mqtt") : NULL;

	if (wl && config_setting_type(wl) == CONFIG_TYPE_LIST) {
		size_t n = (size_t)config_setting_length(wl);

		cfg->webhooks = xcalloc(n + 1, sizeof(*cfg->webhooks));
		schema_each_group(c, wl, "outputs.webhook", "name", webhook_elem, NULL);
		for (size_t i = 0; i < cfg->nwebhooks; i++)
			if (!cfg->webhooks[i].name) {
				cfg->webhooks[i].name = derive_name(c, "webhook", i);
				names_add(&c->outputs, cfg->webhooks[i].name, wl);
			}
	}
	if (am && config_setting_type(am) == CONFIG_TYPE_GROUP)
		load_alerts_mqtt(c, am);
}

void free_alert_outputs(struct cc_config *cfg)
{
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		struct cc_webhook_conf *w = &cfg->webhooks[i];
		free(w->name);
		free(w->url);
		for (size_t k = 0; k < w->nheaders; k++)
			free(w->headers[k]);
		free(w->headers);
		free(w->token_file);
		free_secret(w->token);
		free(w->ca_file);
	}
	free(cfg->webhooks);
	if (cfg->alerts_mqtt) {
		free(cfg->alerts_mqtt->name);
		free(cfg->alerts_mqtt->prefix);
		free_mqtt(cfg->alerts_mqtt->broker);
		free(cfg->alerts_mqtt);
	}
}

/* Inside "outputs = { ... }". */
void print_alert_outputs(const struct cc_config *cfg, FILE *f)
{
	if (cfg->nwebhooks) {
		fputs("  webhook = (\n", f);
		for (size_t i = 0; i < cfg->nwebhooks; i++) {
			const struct cc_webhook_conf *w = &cfg->webhooks[i];
			fputs("    {\n", f);
			schema_print_keys(f, "      ", &g_webhook, w, 0);
			if (w->nheaders) {
				fputs("      headers = {", f);
				for (size_t k = 0; k < w->nheaders; k++) {
					const char *colon = strchr(w->headers[k], ':');
					fprintf(f, " %.*s = ", (int)(colon - w->headers[k]), w->headers[k]);
					schema_print_string(f, colon + 2);
					fputc(';', f);
				}
				fputs(" };\n", f);
			}
			fprintf(f, "    }%s\n", i + 1 < cfg->nwebhooks ? "," : "");
		}
		fputs("  );\n", f);
	}
	if (cfg->alerts_mqtt) {
		const struct cc_alerts_mqtt_conf *a = cfg->alerts_mqtt;
		fputs("  alerts_mqtt = {\n", f);
		schema_print_keys(f, "    ", &g_alerts_mqtt, a, 0);
		if (a->broker)
			print_alerts_broker(a->broker, f);
		fputs("  };\n", f);
	}
}
