/* influx_query.c - reading back from InfluxDB 1.x (GET /query, libcurl) for
 * coldchainctl report; the daemon's own delivery is outputs/influx.c. */
#include "influx_query.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/util.h"

struct qbuf {
	char *p;
	size_t len, cap, max;
	int too_big;
};

static size_t query_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct qbuf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->max) {
		b->too_big = 1;
		return 0; /* curl aborts the transfer */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* A transfer that failed: -EFBIG (the reply passed its bound), -ETIMEDOUT
 * or -EIO, with a message in err. */
static int query_failed(CURLcode rc, const struct qbuf *b, char *err, size_t errlen)
{
	if (b->too_big) {
		if (b->max % ((size_t)1 << 20) == 0)
			snprintf(err, errlen, "reply larger than %zu MiB: ask for a shorter period", b->max >> 20);
		else
			snprintf(err, errlen, "reply larger than %zu bytes: ask for a shorter period", b->max);
		return -EFBIG;
	}
	snprintf(err, errlen, "%s", curl_easy_strerror(rc));
	return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
}

int influx_query_json(const struct influx_query *iq, const char *q, char **json, char *err, size_t errlen)
{
	struct qbuf b = { .max = iq->max ? iq->max : INFLUX_QUERY_MAX };
	const char *url = iq->url;
	CURL *c = NULL;
	char *edb = NULL, *eq = NULL, *full = NULL, *userpwd = NULL;
	long code = 0;
	CURLcode rc;
	size_t ul = strlen(url);
	int r = -EIO;

	*json = NULL;
	err[0] = '\0';
	c = curl_easy_init();
	if (!c) {
		r = -ENOMEM;
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	edb = curl_easy_escape(c, iq->db, 0);
	eq = curl_easy_escape(c, q, 0);
	if (!edb || !eq) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (ul && url[ul - 1] == '/')
		ul--;
	full = xasprintf("%.*s/query?db=%s&epoch=ms&q=%s", (int)ul, url, edb, eq);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "coldchainctl");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, iq->timeout_ms > 0 ? iq->timeout_ms : 120000L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, query_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (iq->user) {
		userpwd = xasprintf("%s:%s", iq->user, iq->pass ? iq->pass : "");
		curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	if (iq->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, iq->ca_file);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, iq->insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, iq->insecure ? 0L : 2L);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		r = query_failed(rc, &b, err, errlen);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		r = code == 401 || code == 403 ? -EACCES : -EIO;
		snprintf(err, errlen, "HTTP %ld%s%.200s", code, b.len ? ": " : "", b.len ? b.p : "");
		goto out;
	}
	*json = b.p ? b.p : xstrdup("");
	b.p = NULL;
	r = 0;
out:
	if (userpwd) {
		explicit_bzero(userpwd, strlen(userpwd));
		free(userpwd);
	}
	free(full);
	curl_free(eq);
	curl_free(edb);
	if (c)
		curl_easy_cleanup(c);
	free(b.p);
	return r;
}
