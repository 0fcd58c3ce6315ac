/* telegram.c - the Telegram transport (transport.h, kind "telegram"): one
 * text to one chat through the Bot API's sendMessage, and the replies
 * people send back ("OK <id>") through getUpdates.
 *
 * Followed: the Bot API reference, https://core.telegram.org/bots/api
 * ("Making requests": https://api.telegram.org/bot<token>/METHOD, a JSON
 * answer with a Boolean "ok", "description", "error_code" and optional
 * ResponseParameters "retry_after"; sendMessage's text is 1-4096
 * characters after entities parsing; getUpdates' offset confirms every
 * update below it, timeout 0 is short polling, limit 1-100). */
#include "transport.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/channels_conf.h"
#include "../daemon/log.h"
#include "../daemon/state.h"
#include "../daemon/util.h"
#include "../util/hash.h"
#include "backend.h"
#include "http.h"

/* sendMessage's limit, in UTF-16 code units (what the API counts). */
#define TG_MAX_UNITS 4096
/* getUpdates per poll: a few replies a second at most is what people type;
 * the reply buffer (OUTPUT_RESP_MAX) holds this many long messages. */
#define TG_POLL_LIMIT 10
#define TG_RETRY_AFTER_MAX_S 3600

struct telegram {
	pthread_mutex_t mu; /* send and poll_replies may come from two threads */
	struct http http;
	char *name, *base, *token, *state_dir, *offset_file;
	int replies;
	int64_t offset;      /* the next update_id wanted */
	int poll_limit;      /* TG_POLL_LIMIT, 1 after a reply too large for the buffer */
	/* the parts of a long message already delivered: a retry of the same
	 * text to the same chat sends only the rest (never a part twice) */
	char *part_addr;
	uint64_t part_hash;
	size_t part_done;
	int auth_failed;
	struct log_rl rl_poll;
};

/* Bytes of the next part of s (len bytes left): the whole rest when it fits
 * in TG_MAX_UNITS, else cut after the last line end that fits, else at the
 * last whole character that fits.  *skip: 1 when the part ends at a '\n'
 * that is dropped. */
static size_t tg_next_part(const char *s, size_t len, int *skip)
{
	size_t i = 0, units = 0, last_nl = 0;

	*skip = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		size_t u = n == 4 ? 2 : 1; /* outside the BMP: a surrogate pair */

		if (units + u > TG_MAX_UNITS)
			break;
		if (c == '\n')
			last_nl = i;
		units += u;
		i += n > len - i ? len - i : n;
	}
	if (i >= len)
		return len;
	if (last_nl > 0) {
		*skip = 1;
		return last_nl;
	}
	return i;
}

/* chat_id: a number (a user, a group "-100...") or "@channelname". */
static cJSON *tg_chat_id(const char *addr)
{
	const char *p = addr + (addr[0] == '-');

	if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) < 20)
		return cJSON_CreateRaw(addr);
	return cJSON_CreateString(addr);
}

static char *tg_url(const struct telegram *t, const char *method)
{
	return xasprintf("%s/bot%s/%s", t->base, t->token, method);
}

/* One API call with a JSON body; the answer parsed into *root (NULL when it
 * is not JSON).  -1: a transport failure, already in r. */
static int tg_call(struct telegram *t, const char *method, const char *body, long *code, cJSON **root,
		   struct transport_result *r)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	char *url = tg_url(t, method);
	curl_off_t ra = 0;
	int rc;

	rc = http_request(&t->http, url, hdrs, body, strlen(body), code, &ra, r->error, sizeof(r->error));
	free(url);
	curl_slist_free_all(hdrs);
	*root = NULL;
	if (rc < 0) {
		http_scrub(r->error, t->token);
		r->status = TR_RETRY;
		return -1;
	}
	r->retry_after_ms = (*code == 429 || *code == 503) && ra > 0
				    ? (ra > TG_RETRY_AFTER_MAX_S ? TG_RETRY_AFTER_MAX_S : (int64_t)ra) * 1000
				    : 0;
	if (!t->http.resp_truncated)
		*root = cJSON_ParseWithLength(t->http.resp, t->http.resp_len);
	return 0;
}

/* The status policy of a sendMessage answer that is not ok. */
static void tg_classify(struct telegram *t, long code, const cJSON *root, struct transport_result *r)
{
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(root, "error_code");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "parameters");
	const cJSON *ra = cJSON_GetObjectItemCaseSensitive(params, "retry_after");
	char what[160];

	if (cJSON_IsNumber(ec))
		code = (long)ec->valuedouble; /* a relay may answer 200 with the API's error inside */
	if (cJSON_IsString(desc))
		output_excerpt(what, sizeof(what), desc->valuestring, strlen(desc->valuestring));
	else
		output_fmt(what, sizeof(what), "no description");
	http_scrub(what, t->token);
	output_fmt(r->error, sizeof(r->error), "HTTP %ld: %s", code, what);
	if (code == 429) {
		r->status = TR_RETRY;
		if (cJSON_IsNumber(ra) && ra->valuedouble > 0)
			r->retry_after_ms = (int64_t)(ra->valuedouble > TG_RETRY_AFTER_MAX_S ? TG_RETRY_AFTER_MAX_S
											     : ra->valuedouble) * 1000;
	} else if (code == 401 || code == 404) {
		/* 404 is the Bot API's answer to a token it does not know */
		r->status = TR_AUTH;
		t->auth_failed = 1;
	} else if (code == 400 || code == 403) {
		r->status = TR_REFUSED; /* chat not found, bot blocked or kicked */
	} else {
		r->status = TR_RETRY;
	}
}

/* One part; 0 when the API took it. */
static int tg_send_part(struct telegram *t, const char *addr, const char *text, size_t len,
			struct transport_result *r)
{
	cJSON *req = cJSON_CreateObject(), *root = NULL;
	const cJSON *ok;
	char *part = xmalloc(len + 1), *body;
	long code = 0;
	int rc = -1;

	memcpy(part, text, len);
	part[len] = '\0';
	cJSON_AddItemToObject(req, "chat_id", tg_chat_id(addr));
	cJSON_AddStringToObject(req, "text", part);
	cJSON_AddTrueToObject(req, "disable_web_page_preview");
	body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	free(part);
	if (!body) {
		r->status = TR_RETRY;
		output_fmt(r->error, sizeof(r->error), "out of memory");
		return -1;
	}
	if (tg_call(t, "sendMessage", body, &code, &root, r) == 0) {
		ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
		if (code == 200 && cJSON_IsTrue(ok)) {
			rc = 0;
			t->auth_failed = 0;
		} else if (root) {
			tg_classify(t, code, root, r);
		} else {
			r->status = TR_RETRY;
			output_fmt(r->error, sizeof(r->error), "HTTP %ld, not a Bot API answer", code);
		}
	}
	cJSON_free(body);
	cJSON_Delete(root);
	return rc;
}

static void telegram_send(void *tp, const char *address, const struct transport_msg *m,
			  struct transport_result *r)
{
	struct telegram *t = tp;
	const char *text = m->text ? m->text : "";
	size_t len = strlen(text), off = 0;
	uint64_t h = fnv1a64_str(text); /* in memory only */

	pthread_mutex_lock(&t->mu);
	if (t->part_addr && strcmp(t->part_addr, address) == 0 && t->part_hash == h)
		off = t->part_done; /* a retry: the parts before off were delivered */
	while (off < len || (len == 0 && off == 0)) {
		int skip;
		size_t n = tg_next_part(text + off, len - off, &skip);

		if (tg_send_part(t, address, text + off, n, r) < 0) {
			free(t->part_addr);
			t->part_addr = off > 0 ? xstrdup(address) : NULL;
			t->part_hash = h;
			t->part_done = off;
			pthread_mutex_unlock(&t->mu);
			return;
		}
		off += n + (size_t)skip;
		if (len == 0)
			break;
	}
	free(t->part_addr);
	t->part_addr = NULL;
	r->status = TR_OK;
	pthread_mutex_unlock(&t->mu);
}

static void tg_save_offset(struct telegram *t)
{
	char buf[32];
	int rc, n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", t->offset);

	if (!t->state_dir)
		return;
	rc = state_write(t->state_dir, t->offset_file, buf, (size_t)n);
	if (rc < 0)
		log_warn("telegram %s: %s/%s: %s (old replies may be read again after a restart)", t->name,
			 t->state_dir, t->offset_file, strerror(-rc));
}

/* Hands each text message of the answer to fn; the highest update_id seen
 * in *max_id.  Returns how many. */
static int tg_deliver_updates(const cJSON *result, transport_reply_fn fn, void *arg, int64_t *max_id)
{
	const cJSON *u;
	int n = 0;

	cJSON_ArrayForEach(u, result) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(u, "update_id");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(u, "message");
		const cJSON *chat = cJSON_GetObjectItemCaseSensitive(msg, "chat");
		const cJSON *cid = cJSON_GetObjectItemCaseSensitive(chat, "id");
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(msg, "text");
		char addr[32];

		if (!cJSON_IsNumber(id))
			continue;
		if ((int64_t)id->valuedouble > *max_id)
			*max_id = (int64_t)id->valuedouble;
		if (!cJSON_IsNumber(cid) || !cJSON_IsString(text))
			continue; /* not a text message: confirmed and ignored */
		snprintf(addr, sizeof(addr), "%.0f", cid->valuedouble);
		fn(arg, addr, text->valuestring);
		n++;
	}
	return n;
}

static int telegram_poll_replies(void *tp, transport_reply_fn fn, void *arg)
{
	struct telegram *t = tp;
	struct transport_result r = {0};
	cJSON *root = NULL;
	const cJSON *result;
	char body[160];
	int64_t max_id = -1;
	long code = 0;
	int n = 0;
	uint32_t supp;

	if (!t->replies)
		return 0;
	pthread_mutex_lock(&t->mu);
	snprintf(body, sizeof(body), "{\"offset\":%" PRId64 ",\"limit\":%d,\"timeout\":0,"
		 "\"allowed_updates\":[\"message\"]}", t->offset, t->poll_limit);
	if (tg_call(t, "getUpdates", body, &code, &root, &r) < 0) {
		n = -EIO;
		goto out;
	}
	result = cJSON_GetObjectItemCaseSensitive(root, "result");
	if (code != 200 || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "ok")) || !cJSON_IsArray(result)) {
		if (t->http.resp_truncated && t->poll_limit > 1) {
			t->poll_limit = 1; /* long messages: one at a time */
		} else if (log_rl_allow(&t->rl_poll, 60000, &supp)) {
			output_fmt(r.error, sizeof(r.error), "HTTP %ld%s", code,
				   t->http.resp_truncated ? ", answer too large" : "");
			log_warn("telegram %s: getUpdates: %s", t->name, r.error);
		}
		n = -EPROTO;
		goto out;
	}
	t->poll_limit = TG_POLL_LIMIT;
	n = tg_deliver_updates(result, fn, arg, &max_id);
	/* after the callbacks: a crash before this reads them again, and an
	 * "OK" acknowledged twice is harmless, one lost is not */
	if (max_id >= t->offset) {
		t->offset = max_id + 1;
		tg_save_offset(t);
	}
out:
	if (n == -EIO && log_rl_allow(&t->rl_poll, 60000, &supp))
		log_warn("telegram %s: getUpdates: %s", t->name, r.error);
	cJSON_Delete(root);
	pthread_mutex_unlock(&t->mu);
	return n;
}

static int telegram_healthy(void *tp, char *why, size_t n)
{
	struct telegram *t = tp;

	if (t->auth_failed) {
		output_fmt(why, n, "telegram %s: the bot token was refused", t->name);
		return 0;
	}
	return 1;
}

static void telegram_wakeup(void *tp)
{
	struct telegram *t = tp;

	http_stop(&t->http);
}

static void telegram_free(void *tp)
{
	struct telegram *t = tp;

	if (!t)
		return;
	http_free(&t->http);
	pthread_mutex_destroy(&t->mu);
	free(t->name);
	free(t->base);
	if (t->token)
		explicit_bzero(t->token, strlen(t->token));
	free(t->token);
	free(t->state_dir);
	free(t->offset_file);
	free(t->part_addr);
	free(t);
}

static void tg_load_offset(struct telegram *t)
{
	char *data = NULL, *end;
	size_t len;
	long long v;

	if (!t->state_dir || state_read(t->state_dir, t->offset_file, &data, &len) < 0)
		return;
	errno = 0;
	v = strtoll(data, &end, 10);
	if (errno == 0 && end != data && v >= 0)
		t->offset = v;
	else
		log_warn("telegram %s: %s/%s: not an update id, ignored", t->name, t->state_dir, t->offset_file);
	free(data);
}

void *transport_telegram_new(const struct cc_telegram_conf *c, const char *state_dir)
{
	struct telegram *t;
	const char *base = c->api_url ? c->api_url : "https://api.telegram.org";
	size_t bl = strlen(base);

	/* the token goes into the URL's path: only the characters a Bot API
	 * token has, so that it can neither break nor redirect the URL (the
	 * configuration's check, again here) */
	if (!config_telegram_token_ok(c->token)) {
		errno = EINVAL;
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	t->base = xasprintf("%.*s", (int)bl, base);
	t->name = xstrdup(c->c.name ? c->c.name : "telegram");
	t->token = xstrdup(c->token);
	t->replies = c->replies;
	t->poll_limit = TG_POLL_LIMIT;
	t->state_dir = state_dir ? xstrdup(state_dir) : NULL;
	t->offset_file = xasprintf("telegram-%s.offset", t->name);
	if (http_init(&t->http, "", c->ca_file, c->insecure) < 0) {
		telegram_free(t);
		errno = ENOMEM;
		return NULL;
	}
	curl_easy_setopt(t->http.easy, CURLOPT_POST, 0L);
	t->http.timeout_ms = c->c.timeout_ms > 0 ? c->c.timeout_ms : OUTPUT_DEF_TIMEOUT_MS;
	t->http.connect_timeout_ms = OUTPUT_DEF_CONNECT_MS;
	http_warn_insecure(&t->http, t->name);
	tg_load_offset(t);
	return t;
}

const struct transport_ops transport_telegram_ops = {
	.kind = "telegram",
	.send = telegram_send,
	.poll_replies = telegram_poll_replies,
	.healthy = telegram_healthy,
	.wakeup = telegram_wakeup,
	.free = telegram_free,
};
