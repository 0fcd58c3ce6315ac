/* webhook.c - the webhook backend: each alert event at or above
 * min_severity POSTed alone as JSON, with the status policy of
 * outputs/output.h (output_webhook_new). */
#include "backend.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../daemon/util.h"
#include "http.h"

struct webhook {
	struct http http;
	char *url;
	int min_severity;
	struct curl_slist *hdrs;
};

/* Event severity, lowest first; an unknown or missing one counts as
 * critical (a filter never drops what it cannot read). */
static int event_severity(const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *sv = root ? cJSON_GetObjectItemCaseSensitive(root, "severity") : NULL;
	int r = CC_SEV_CRITICAL;

	if (cJSON_IsString(sv)) {
		if (strcmp(sv->valuestring, "info") == 0)
			r = CC_SEV_INFO;
		else if (strcmp(sv->valuestring, "warning") == 0)
			r = CC_SEV_WARNING;
	}
	cJSON_Delete(root);
	return r;
}

static int webhook_wants(void *be, const char *json, size_t len)
{
	const struct webhook *w = be;

	return event_severity(json, len) >= w->min_severity;
}

/* The event's "id" (for messages), or "-". */
static void event_id(const char *json, size_t len, char *dst, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *id = root ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
	const cJSON *rule = root ? cJSON_GetObjectItemCaseSensitive(root, "rule") : NULL;

	if (cJSON_IsString(id))
		output_excerpt(dst, size, id->valuestring, strlen(id->valuestring));
	else if (cJSON_IsString(rule))
		output_excerpt(dst, size, rule->valuestring, strlen(rule->valuestring));
	else
		output_fmt(dst, size, "-");
	cJSON_Delete(root);
}

/* The status policy for a reply that is not 2xx. */
static void webhook_classify(long code, const char *msg, struct send_result *r)
{
	if (code >= 500 || code == 429 || code == 408) {
		r->status = SEND_RETRY;
	} else if (code == 401 || code == 403) {
		/* wrong for every event alike: throwing this one away helps nobody */
		r->status = SEND_AUTH;
		output_fmt(r->error, sizeof(r->error), "unauthorised (HTTP %ld)%s%s", code, msg[0] ? ": " : "", msg);
	} else if (code == 404 || code == 405 || code == 410) {
		/* a wrong URL or method refuses every event alike: a misconfigured
		 * receiver must not throw the alert record away - keep, retry slowly */
		r->status = SEND_SLOW;
	} else if (code >= 400) {
		/* the receiver refuses this event: one bad event never stalls the rest */
		r->status = SEND_REJECT;
		r->done = 1;
		r->rejected = 1;
	} else {
		r->status = SEND_SLOW; /* redirects and the like: misconfigured, keep the event */
	}
}

/* One event per request: data is the event's JSON and its '\n'. */
static void webhook_send(void *be, struct output *o, const char *data, size_t len, size_t nlines,
			 struct send_result *r)
{
	struct webhook *w = be;
	long code = 0;
	curl_off_t retry_after = 0;
	char msg[200], id[96];

	(void)nlines;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	/* the webhook's headers are fixed at setup (NULL: leave them) */
	if (http_post(&w->http, o, NULL, data, len, r, &code, &retry_after) < 0)
		return;
	if (code >= 200 && code < 300) {
		r->status = SEND_OK;
		r->done = 1;
		return;
	}
	output_excerpt(msg, sizeof(msg), w->http.resp, w->http.resp_len);
	event_id(data, len, id, sizeof(id));
	output_fmt(r->error, sizeof(r->error), "HTTP %ld%s%s (event %s)", code, msg[0] ? ": " : "", msg, id);
	r->retry_after_ms = http_retry_after_ms(code, retry_after);
	webhook_classify(code, msg, r);
}

static int webhook_setup(struct webhook *w, const struct cc_webhook_conf *conf)
{
	if (http_init(&w->http, w->url, conf->ca_file, conf->insecure) < 0)
		return -ENOMEM;
	w->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (w->hdrs)
		w->hdrs = curl_slist_append(w->hdrs, "Expect:");
	for (size_t i = 0; w->hdrs && i < conf->nheaders; i++)
		w->hdrs = curl_slist_append(w->hdrs, conf->headers[i]);
	if (w->hdrs && conf->token) {
		char *h = xasprintf("Authorization: Bearer %s", conf->token);
		w->hdrs = curl_slist_append(w->hdrs, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	if (!w->hdrs)
		return -ENOMEM;
	curl_easy_setopt(w->http.easy, CURLOPT_HTTPHEADER, w->hdrs);
	return 0;
}

static void webhook_start(void *be, const char *name)
{
	struct webhook *w = be;

	http_warn_insecure(&w->http, name);
}

static void webhook_wakeup(void *be)
{
	struct webhook *w = be;

	http_wakeup(&w->http);
}

static int webhook_same_destination(const void *a, const void *b)
{
	return strcmp(((const struct webhook *)a)->url, ((const struct webhook *)b)->url) == 0;
}

static void webhook_free(void *be)
{
	struct webhook *w = be;

	http_free(&w->http);
	curl_slist_free_all(w->hdrs);
	free(w->url);
	free(w);
}

static const struct output_ops webhook_ops = {
	.events = 1,
	.wants = webhook_wants,
	.start = webhook_start,
	.send = webhook_send,
	.wakeup = webhook_wakeup,
	.same_destination = webhook_same_destination,
	.free = webhook_free,
};

struct output *output_webhook_new(const struct cc_webhook_conf *conf)
{
	struct output_limits lim = { .batch = 1, .flush_ms = OUTPUT_DEF_FLUSH_MS }; /* one event per request */
	struct webhook *w;
	struct output *o;
	const char *name;
	char *id;
	int r;

	if (!conf || !conf->url) {
		errno = EINVAL;
		return NULL;
	}
	name = conf->name ? conf->name : conf->url;
	w = xcalloc(1, sizeof(*w));
	w->url = xstrdup(conf->url);
	w->min_severity = conf->min_severity;
	w->http.timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : OUTPUT_DEF_TIMEOUT_MS;
	w->http.connect_timeout_ms =
		w->http.timeout_ms < OUTPUT_DEF_CONNECT_MS ? w->http.timeout_ms : OUTPUT_DEF_CONNECT_MS;
	r = webhook_setup(w, conf);
	if (r < 0) {
		log_err("output %s: cannot set up libcurl", name);
		webhook_free(w);
		errno = -r;
		return NULL;
	}
	lim.backoff_max_ms = conf->backoff_max_ms;
	lim.start_oldest = conf->start_oldest;
	id = xasprintf("webhook %s %s", name, w->url);
	o = output_new(name, id, &lim, &webhook_ops, w);
	free(id);
	return o;
}

static size_t webhook_count(const struct cc_config *cfg)
{
	return cfg->nwebhooks;
}

static struct output *webhook_create(const struct cc_config *cfg, size_t i)
{
	return output_webhook_new(&cfg->webhooks[i]);
}

const struct output_kind output_kind_webhook = { "webhook", webhook_count, webhook_create };
