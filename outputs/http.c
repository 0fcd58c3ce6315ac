/* http.c - the HTTP(S) POST the InfluxDB and webhook backends share
 * (libcurl, through a multi handle so that output_stop() can cut a hung
 * request short at its deadline). */
#include "http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/log.h"
#include "../daemon/util.h"
#include "backend.h"

#define RETRY_AFTER_MAX_S 3600

/* output.h's: the backends' one library-wide set-up is libcurl's. */
int output_global_init(void)
{
	CURLcode r = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (r != CURLE_OK) {
		log_err("libcurl: %s", curl_easy_strerror(r));
		return -EIO;
	}
	return 0;
}

void output_global_cleanup(void)
{
	curl_global_cleanup();
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http *h = arg;
	size_t n = size * nmemb, room = OUTPUT_RESP_MAX - h->resp_len;

	if (n > room) {
		h->resp_truncated = 1;
	}
	memcpy(h->resp + h->resp_len, ptr, n < room ? n : room);
	h->resp_len += n < room ? n : room;
	return n; /* keep reading: the connection stays reusable */
}

int http_init(struct http *h, const char *url, const char *ca_file, int insecure)
{
	h->easy = curl_easy_init();
	h->multi = curl_multi_init();
	if (!h->easy || !h->multi)
		return -ENOMEM;
	h->resp = xmalloc(OUTPUT_RESP_MAX);
	h->insecure = insecure;
	curl_easy_setopt(h->easy, CURLOPT_URL, url);
	curl_easy_setopt(h->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "coldchaind");
	curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (ca_file)
		curl_easy_setopt(h->easy, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
	curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
	return 0;
}

void http_free(struct http *h)
{
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->easy)
		curl_easy_cleanup(h->easy);
	free(h->resp);
	h->multi = NULL;
	h->easy = NULL;
	h->resp = NULL;
}

void http_wakeup(struct http *h)
{
	if (h->multi)
		curl_multi_wakeup(h->multi);
}

void http_warn_insecure(const struct http *h, const char *name)
{
	if (h->insecure)
		log_warn("output %s: TLS certificate verification is DISABLED (insecure = true): "
			 "anyone on the path can read and alter the data", name);
}

/*
 * Runs one transfer through the multi handle so that output_stop() can cut
 * it short the moment its deadline passes (curl_multi_wakeup), instead of
 * waiting for curl's own timeout against a server that hangs.
 */
static CURLcode http_perform(struct http *h, struct output *o)
{
	CURLcode res = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left;

	if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	for (;;) {
		int64_t rem;

		if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
			res = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		rem = o ? output_remaining_ms(o) : INT64_MAX;
		if (__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
			res = CURLE_ABORTED_BY_CALLBACK;
			output_fmt(h->curl_err, sizeof(h->curl_err), "abandoned: the output is stopping");
			break;
		}
		if (rem <= 0) {
			res = CURLE_ABORTED_BY_CALLBACK;
			output_fmt(h->curl_err, sizeof(h->curl_err), "abandoned at the shutdown deadline");
			break;
		}
		curl_multi_poll(h->multi, NULL, 0, rem < 1000 ? (int)rem : 1000, NULL);
	}
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && !running)
			res = msg->data.result;
	curl_multi_remove_handle(h->multi, h->easy);
	return res;
}

int http_post(struct http *h, struct output *o, struct curl_slist *hdrs, const char *body, size_t len,
	      struct send_result *r, long *code, curl_off_t *retry_after)
{
	int64_t timeout = h->timeout_ms, connect = h->connect_timeout_ms, rem = output_remaining_ms(o);
	CURLcode res;

	if (rem < timeout) /* at shutdown the deadline bounds the request */
		timeout = rem > 1 ? rem : 1;
	if (connect > timeout)
		connect = timeout;
	h->resp_len = 0;
	h->resp_truncated = 0;
	h->curl_err[0] = '\0';
	if (hdrs)
		curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);

	res = http_perform(h, o);
	output_count_request(o);
	if (res != CURLE_OK) {
		r->status = SEND_RETRY;
		output_fmt(r->error, sizeof(r->error), "%s", h->curl_err[0] ? h->curl_err : curl_easy_strerror(res));
		return -1;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, code);
	curl_easy_getinfo(h->easy, CURLINFO_RETRY_AFTER, retry_after);
	return 0;
}

int64_t http_retry_after_ms(long code, curl_off_t retry_after)
{
	if (retry_after > 0 && (code == 429 || code == 503))
		return (retry_after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int64_t)retry_after) * 1000;
	return 0;
}

void http_stop(struct http *h)
{
	__atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
	http_wakeup(h);
}

int http_request(struct http *h, const char *url, struct curl_slist *hdrs, const char *body, size_t len,
		 long *code, curl_off_t *retry_after, char *err, size_t errlen)
{
	int64_t timeout = h->timeout_ms > 0 ? h->timeout_ms : OUTPUT_DEF_TIMEOUT_MS;
	int64_t connect = h->connect_timeout_ms > 0 ? h->connect_timeout_ms : OUTPUT_DEF_CONNECT_MS;
	CURLcode res;

	if (connect > timeout)
		connect = timeout;
	h->resp_len = 0;
	h->resp_truncated = 0;
	h->curl_err[0] = '\0';
	*code = 0;
	*retry_after = 0;
	curl_easy_setopt(h->easy, CURLOPT_URL, url);
	curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(h->easy, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	res = http_perform(h, NULL);
	curl_easy_setopt(h->easy, CURLOPT_URL, ""); /* the token is not kept where a later error could show it */
	if (res != CURLE_OK) {
		output_fmt(err, errlen, "%s", h->curl_err[0] ? h->curl_err : curl_easy_strerror(res));
		return -1;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, code);
	curl_easy_getinfo(h->easy, CURLINFO_RETRY_AFTER, retry_after);
	return 0;
}

void http_scrub(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n < 3) /* a token shorter than the mask could only grow the text */
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}
