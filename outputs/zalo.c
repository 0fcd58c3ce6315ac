/* zalo.c - the Zalo transport (transport.h, kind "zalo"): one text to one
 * follower of the site's Official Account, through the OA API v3, with the
 * access token refreshed from the single-use refresh token when it expires.
 *
 * Followed: Zalo for Developers, OA API v3 "consultation" message
 * (POST https://openapi.zalo.me/v3.0/oa/message/cs, header access_token,
 * {"recipient":{"user_id":...},"message":{"text":...}}, answer
 * {"error":0,"message":"Success","data":{"message_id":...}}), and the
 * OAuth v4 token refresh as the Zalo OA tutorials show it
 * (POST https://oauth.zaloapp.com/v4/oa/access_token, header secret_key,
 * form refresh_token, app_id, grant_type=refresh_token; answer
 * access_token, refresh_token, expires_in; the access token lives about 25
 * hours, the refresh token 3 months and can be used once).
 *
 * Error codes.  Verified against published tables: none of the OA v3
 * message codes could be checked against Zalo's own page from here (the
 * tables found were third-party and for v2 or ZNS).  Assumed (from the
 * brief and common integrations; an unknown code is a retry, never a
 * refusal, so a wrong guess delays and never drops): -216 access token
 * invalid and -124 access token expired (refresh); -213 user has not
 * followed the OA, -230 user has not interacted in the allowed window,
 * -201 invalid parameter (user id) (refused); -32 rate limit exceeded
 * (retry). */
#include "transport.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/channels_conf.h"
#include "../daemon/log.h"
#include "../daemon/state.h"
#include "../daemon/util.h"
#include "backend.h"
#include "http.h"

/* Keys and tokens go into header lines: config_zalo_token_ok (config.h) is
 * their form, for the configured ones and every one the API returns, so a
 * peer's answer can never add a header or end a request early. */
#define ZALO_RETRY_AFTER_MAX_S 3600

struct zalo {
	pthread_mutex_t mu;
	struct http http;
	char *name, *api, *oauth, *app_id, *secret, *state_dir, *tokens_file;
	char *access, *refresh; /* the current pair; access NULL: refresh first */
	int auth_failed;
};


static int zalo_token_error(int e)
{
	return e == -216 || e == -124;
}

static int zalo_refused_error(int e)
{
	return e == -213 || e == -230 || e == -201;
}

static void zalo_save_tokens(struct zalo *z)
{
	cJSON *o = cJSON_CreateObject();
	char *s;
	int rc = -ENOMEM;

	cJSON_AddStringToObject(o, "access_token", z->access);
	cJSON_AddStringToObject(o, "refresh_token", z->refresh);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s && z->state_dir)
		rc = state_write(z->state_dir, z->tokens_file, s, strlen(s)); /* 0600, atomic */
	if (s) {
		explicit_bzero(s, strlen(s));
		cJSON_free(s);
	}
	if (rc < 0)
		log_err("zalo %s: %s/%s: %s: the new refresh token is only in memory; after a restart the "
			"OA must be authorised again", z->name, z->state_dir ? z->state_dir : "-", z->tokens_file,
			strerror(-rc));
}

static void zalo_set(char **dst, const char *v)
{
	if (*dst)
		explicit_bzero(*dst, strlen(*dst));
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

/* The form body of a refresh: every value URL-encoded. */
static char *zalo_refresh_body(struct zalo *z)
{
	char *rt = curl_easy_escape(z->http.easy, z->refresh, 0);
	char *app = curl_easy_escape(z->http.easy, z->app_id, 0);
	char *body = NULL;

	if (rt && app)
		body = xasprintf("refresh_token=%s&app_id=%s&grant_type=refresh_token", rt, app);
	if (rt)
		explicit_bzero(rt, strlen(rt));
	curl_free(rt);
	curl_free(app);
	return body;
}

/* A new token pair; 0, or the status the send ends with (r filled). */
static int zalo_refresh(struct zalo *z, struct transport_result *r)
{
	struct curl_slist *hdrs = NULL;
	char *url = xasprintf("%s/v4/oa/access_token", z->oauth), *body = zalo_refresh_body(z), *hdr;
	cJSON *root = NULL;
	const cJSON *at, *rt;
	curl_off_t ra;
	long code;
	int rc;

	hdr = xasprintf("secret_key: %s", z->secret);
	hdrs = curl_slist_append(hdrs, hdr);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	rc = body ? http_request(&z->http, url, hdrs, body, strlen(body), &code, &ra, r->error, sizeof(r->error))
		  : -1;
	curl_slist_free_all(hdrs); /* the slist's copy of the secret goes with it */
	free(url);
	if (body)
		explicit_bzero(body, strlen(body));
	free(body);
	if (rc < 0) {
		r->status = TR_RETRY;
		return -1;
	}
	if (!z->http.resp_truncated)
		root = cJSON_ParseWithLength(z->http.resp, z->http.resp_len);
	at = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	rt = cJSON_GetObjectItemCaseSensitive(root, "refresh_token");
	if (code == 200 && cJSON_IsString(at) && cJSON_IsString(rt) && config_zalo_token_ok(at->valuestring) &&
	    config_zalo_token_ok(rt->valuestring)) {
		zalo_set(&z->access, at->valuestring);
		zalo_set(&z->refresh, rt->valuestring);
		/* before the first use: the old refresh token is spent now */
		zalo_save_tokens(z);
		z->auth_failed = 0;
		log_info("zalo %s: access token refreshed", z->name);
		rc = 0;
	} else if (code >= 500 || code == 429 || code == 0) {
		r->status = TR_RETRY;
		output_fmt(r->error, sizeof(r->error), "token refresh: HTTP %ld", code);
		rc = -1;
	} else {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "error_name");
		char what[120] = "";

		if (cJSON_IsString(m))
			output_excerpt(what, sizeof(what), m->valuestring, strlen(m->valuestring));
		r->status = TR_AUTH;
		z->auth_failed = 1;
		output_fmt(r->error, sizeof(r->error), "token refresh refused: HTTP %ld, error %d %s", code,
			   cJSON_IsNumber(e) ? (int)e->valuedouble : 0, what);
		rc = -1;
	}
	cJSON_Delete(root);
	return rc;
}

/* One message call; the API's "error" in *err (1 when the answer has none). */
static int zalo_post(struct zalo *z, const char *body, long *code, int *err, cJSON **root,
		     struct transport_result *r)
{
	struct curl_slist *hdrs = NULL;
	char *url = xasprintf("%s/v3.0/oa/message/cs", z->api), *hdr = xasprintf("access_token: %s", z->access);
	const cJSON *e;
	curl_off_t ra = 0;
	int rc;

	hdrs = curl_slist_append(hdrs, hdr);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	rc = http_request(&z->http, url, hdrs, body, strlen(body), code, &ra, r->error, sizeof(r->error));
	curl_slist_free_all(hdrs);
	free(url);
	*root = NULL;
	*err = 1;
	if (rc < 0) {
		r->status = TR_RETRY;
		return -1;
	}
	if ((*code == 429 || *code == 503) && ra > 0)
		r->retry_after_ms = (ra > ZALO_RETRY_AFTER_MAX_S ? ZALO_RETRY_AFTER_MAX_S : (int64_t)ra) * 1000;
	if (!z->http.resp_truncated)
		*root = cJSON_ParseWithLength(z->http.resp, z->http.resp_len);
	e = cJSON_GetObjectItemCaseSensitive(*root, "error");
	if (cJSON_IsNumber(e))
		*err = (int)e->valuedouble;
	return 0;
}

static void zalo_classify(long code, int err, const cJSON *root, struct transport_result *r)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
	char what[160] = "";

	if (cJSON_IsString(m))
		output_excerpt(what, sizeof(what), m->valuestring, strlen(m->valuestring));
	output_fmt(r->error, sizeof(r->error), "HTTP %ld, error %d: %s", code, err, what[0] ? what : "-");
	if (code == 200 && zalo_refused_error(err))
		r->status = TR_REFUSED;
	else if (code == 200 && zalo_token_error(err))
		r->status = TR_AUTH; /* still refused right after a refresh */
	else
		r->status = TR_RETRY; /* -32 rate limit, 5xx, 429, anything unknown */
}

static void zalo_send(void *zp, const char *address, const struct transport_msg *m, struct transport_result *r)
{
	struct zalo *z = zp;
	cJSON *req = cJSON_CreateObject(), *rcp = cJSON_AddObjectToObject(req, "recipient"), *root = NULL;
	cJSON *msg = cJSON_AddObjectToObject(req, "message");
	char *body;
	long code = 0;
	int err = 1, refreshed = 0;

	cJSON_AddStringToObject(rcp, "user_id", address);
	cJSON_AddStringToObject(msg, "text", m->text ? m->text : "");
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	pthread_mutex_lock(&z->mu);
	if (!body) {
		r->status = TR_RETRY;
		output_fmt(r->error, sizeof(r->error), "out of memory");
		goto out;
	}
	if (!z->access) {
		if (zalo_refresh(z, r) < 0)
			goto out;
		refreshed = 1;
	}
	for (;;) {
		if (zalo_post(z, body, &code, &err, &root, r) < 0)
			goto out;
		if (code == 200 && err == 0) {
			r->status = TR_OK;
			goto out;
		}
		if (code != 200 || !zalo_token_error(err) || refreshed)
			break;
		cJSON_Delete(root);
		root = NULL;
		if (zalo_refresh(z, r) < 0) /* the send is tried again once, with the new token */
			goto out;
		refreshed = 1;
	}
	zalo_classify(code, err, root, r);
out:
	pthread_mutex_unlock(&z->mu);
	cJSON_Delete(root);
	cJSON_free(body);
}

static int zalo_healthy(void *zp, char *why, size_t n)
{
	struct zalo *z = zp;

	if (z->auth_failed) {
		output_fmt(why, n, "zalo %s: the refresh token was refused: authorise the OA again", z->name);
		return 0;
	}
	return 1;
}

static void zalo_wakeup(void *zp)
{
	struct zalo *z = zp;

	http_stop(&z->http);
}

static void zalo_free(void *zp)
{
	struct zalo *z = zp;

	if (!z)
		return;
	http_free(&z->http);
	pthread_mutex_destroy(&z->mu);
	zalo_set(&z->access, NULL);
	zalo_set(&z->refresh, NULL);
	zalo_set(&z->secret, NULL);
	free(z->name);
	free(z->api);
	free(z->oauth);
	free(z->app_id);
	free(z->state_dir);
	free(z->tokens_file);
	free(z);
}

/* The pair kept by the last refresh, when there is one: it supersedes the
 * configured refresh_token_file, which was spent by that refresh. */
static void zalo_load_tokens(struct zalo *z)
{
	char *data = NULL;
	size_t len;
	cJSON *root;
	const cJSON *at, *rt;

	if (!z->state_dir || state_read(z->state_dir, z->tokens_file, &data, &len) < 0)
		return;
	root = cJSON_ParseWithLength(data, len);
	at = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	rt = cJSON_GetObjectItemCaseSensitive(root, "refresh_token");
	if (cJSON_IsString(at) && cJSON_IsString(rt) && config_zalo_token_ok(rt->valuestring)) {
		zalo_set(&z->access, config_zalo_token_ok(at->valuestring) ? at->valuestring : NULL);
		zalo_set(&z->refresh, rt->valuestring);
	} else {
		log_warn("zalo %s: %s/%s: not a token pair, using the configured refresh token", z->name,
			 z->state_dir, z->tokens_file);
	}
	cJSON_Delete(root);
	explicit_bzero(data, len);
	free(data);
}

static char *zalo_base(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xasprintf("%.*s", (int)n, url);
}

void *transport_zalo_new(const struct cc_zalo_conf *c, const char *state_dir)
{
	struct zalo *z;

	if (!c->app_id || !c->secret_key || !c->refresh_token || !config_zalo_token_ok(c->secret_key) ||
	    !config_zalo_token_ok(c->refresh_token)) {
		errno = EINVAL;
		return NULL;
	}
	z = xcalloc(1, sizeof(*z));
	pthread_mutex_init(&z->mu, NULL);
	z->name = xstrdup(c->c.name ? c->c.name : "zalo");
	z->api = zalo_base(c->api_url ? c->api_url : "https://openapi.zalo.me");
	z->oauth = zalo_base(c->oauth_url ? c->oauth_url : "https://oauth.zaloapp.com");
	z->app_id = xstrdup(c->app_id);
	z->secret = xstrdup(c->secret_key);
	z->refresh = xstrdup(c->refresh_token);
	z->state_dir = state_dir ? xstrdup(state_dir) : NULL;
	z->tokens_file = xasprintf("zalo-%s.tokens", z->name);
	if (http_init(&z->http, "", c->ca_file, c->insecure) < 0) {
		zalo_free(z);
		errno = ENOMEM;
		return NULL;
	}
	z->http.timeout_ms = c->c.timeout_ms > 0 ? c->c.timeout_ms : OUTPUT_DEF_TIMEOUT_MS;
	z->http.connect_timeout_ms = OUTPUT_DEF_CONNECT_MS;
	http_warn_insecure(&z->http, z->name);
	zalo_load_tokens(z);
	return z;
}

const struct transport_ops transport_zalo_ops = {
	.kind = "zalo",
	.send = zalo_send,
	.healthy = zalo_healthy,
	.wakeup = zalo_wakeup,
	.free = zalo_free,
};
