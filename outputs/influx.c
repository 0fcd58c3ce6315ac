/* influx.c - the InfluxDB backend: batches of line protocol POSTed to the
 * 1.x /write or the v2 /api/v2/write endpoint (optionally gzip), with the
 * status policy of outputs/output.h: 413 split, 400/422 refused lines
 * found (named in the answer, or by bisection) and quarantined. */
#include "backend.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "../codec/lineproto.h"
#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../daemon/util.h"
#include "http.h"

#define ERRMSG_MAX 1024        /* X-Influxdb-Error kept */
#define QUAR_REASON_MAX 1024   /* reason bytes before each quarantined line (not a
                                * whole 64 KiB error body before every line) */
#define LOG_EVERY_MS 30000     /* rate limit for repeated failure messages */
/* A database that is missing (and that we may not or could not create) is
 * retried every 5 s, not at backoff_max: whoever creates it by hand sees the
 * points arrive within seconds, and a 404 every 5 s costs the server
 * nothing. */
#define MISSING_DB_RETRY_MS 5000

struct influx {
	struct http http;
	char *name;
	int v2, insecure, gzip;
	int gzip_off; /* the server refused a gzip body (415, or 400 that plain cured): plain from then on */
	char *url, *database, *rp, *org, *bucket, *username, *ca_file, *quarantine;
	char *write_url;
	struct curl_slist *hdr_plain, *hdr_gzip;
	char influx_err[ERRMSG_MAX];
	unsigned char *gzbuf;
	size_t gzcap;
	unsigned char *refused; /* per line of the batch being analysed */
	size_t refused_cap;
	char **reasons; /* per refused line, or NULL: the whole message */
	struct log_rl rl_quar;
	int create_database; /* v1: CREATE DATABASE on "database not found" */
	int create_tried;    /* since the last successful write: once per episode */
};

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "X-Influxdb-Error:";
	struct influx *ix = arg;
	size_t n = size * nmemb;

	if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		const char *v = ptr + sizeof(name) - 1;
		size_t vl = n - (sizeof(name) - 1);

		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		output_excerpt(ix->influx_err, sizeof(ix->influx_err), v, vl);
	}
	return n;
}

/* gzip (RFC 1952) of data into ix->gzbuf; returns the size or 0 on failure. */
static size_t gzip_body(struct influx *ix, const char *data, size_t len)
{
	z_stream z;
	size_t bound;
	int r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 3, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	bound = deflateBound(&z, (uLong)len) + 32;
	if (bound > ix->gzcap) {
		ix->gzbuf = xrealloc(ix->gzbuf, bound);
		ix->gzcap = bound;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = ix->gzbuf;
	z.avail_out = (uInt)bound;
	r = deflate(&z, Z_FINISH);
	bound = r == Z_STREAM_END ? z.total_out : 0;
	deflateEnd(&z);
	return bound;
}

/* The server's message: "error" (1.x) or "message" (v2) of a JSON body,
 * else X-Influxdb-Error, else the body.  Returns a malloc'd string. */
static char *server_message(const struct influx *ix)
{
	cJSON *root = ix->http.resp_len && !ix->http.resp_truncated ? cJSON_ParseWithLength(ix->http.resp, ix->http.resp_len) : NULL;
	const cJSON *m = root ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
	char *s;

	if (root && !cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(root, "message");
	if (cJSON_IsString(m))
		s = xstrdup(m->valuestring);
	else if (ix->influx_err[0])
		s = xstrdup(ix->influx_err);
	else
		s = xasprintf("%.*s", (int)ix->http.resp_len, ix->http.resp);
	cJSON_Delete(root);
	return s;
}

static const char *lp_type_name(enum lp_ftype t)
{
	switch (t) {
	case LP_FLOAT: return "float";
	case LP_INT: return "integer";
	case LP_UINT: return "unsigned";
	case LP_STRING: return "string";
	case LP_BOOL: return "boolean";
	}
	return "?";
}

/* The lines of the batch, as (start, length) without '\n'. */
struct line_ref {
	const char *p;
	size_t len;
};

static size_t split_lines(const char *data, size_t len, struct line_ref **out)
{
	size_t n = 0, cap = 64;
	struct line_ref *v = xmalloc(cap * sizeof(*v));
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n].p = p;
		v[n++].len = (size_t)(e - p);
		p = e + 1;
	}
	*out = v;
	return n;
}

static void mark_refused(struct influx *ix, size_t i, const char *reason, size_t *nmarked)
{
	if (ix->refused[i])
		return;
	ix->refused[i] = 1;
	ix->reasons[i] = reason ? xstrdup(reason) : NULL;
	(*nmarked)++;
}

/*
 * Which lines of a 400/422 did the server refuse?  InfluxDB names a line it
 * cannot parse ("unable to parse 'LINE': why") and, for points it refuses,
 * says "field type conflict: input field "F" on measurement "M" is type T,
 * already exists as type U ... dropped=N".  Marks the lines it can pin down
 * in ix->refused; returns 1 when they account for every refusal the answer
 * counts, 0 when the batch has to be bisected to find them.
 */
static int attribute_refusals(struct influx *ix, const char *msg, const char *data, size_t len, size_t nlines)
{
	struct line_ref *lines;
	size_t n = split_lines(data, len, &lines), marked = 0, expected = 0;
	const char *p;

	if (nlines > ix->refused_cap) {
		ix->refused = xrealloc(ix->refused, nlines);
		ix->reasons = xrealloc(ix->reasons, nlines * sizeof(*ix->reasons));
		ix->refused_cap = nlines;
	}
	memset(ix->refused, 0, nlines);
	memset(ix->reasons, 0, nlines * sizeof(*ix->reasons));
	if (n > nlines)
		n = nlines;

	for (p = msg; (p = strstr(p, "unable to parse '")) != NULL;) {
		const char *q, *end, *nl;
		size_t found = 0;

		p += 17;
		end = strstr(p, "': ");
		if (!end)
			break;
		expected++;
		nl = strchr(end, '\n');
		for (size_t i = 0; i < n; i++)
			if (lines[i].len == (size_t)(end - p) && memcmp(lines[i].p, p, lines[i].len) == 0) {
				char *why = xasprintf("%.*s", (int)(nl ? nl - end - 3 : (long)strlen(end + 3)), end + 3);
				char *d = strstr(why, " dropped=");
				if (d)
					*d = '\0'; /* the batch's count, not this line's reason */
				mark_refused(ix, i, why, &found);
				free(why);
			}
		marked += found ? 1 : 0; /* the same line twice in a batch is one refusal */
		q = end + 3;
		p = q;
	}
	for (p = msg; (p = strstr(p, "dropped=")) != NULL;) {
		expected += strtoul(p + 8, NULL, 10);
		p += 8;
	}
	for (p = msg; (p = strstr(p, "input field \"")) != NULL;) {
		char field[256], meas[256], type[32];
		size_t before = marked;

		if (sscanf(p, "input field \"%255[^\"]\" on measurement \"%255[^\"]\" is type %31[a-z]", field, meas,
			   type) != 3) {
			p++;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			struct lp_point pt;
			const char *err;

			if (ix->refused[i] || lp_parse_line(lines[i].p, lines[i].len, &pt, &err) != 0)
				continue;
			if (strcmp(pt.measurement, meas) == 0)
				for (size_t k = 0; k < pt.nfields; k++)
					if (strcmp(pt.fields[k].key, field) == 0 &&
					    strcmp(lp_type_name(pt.fields[k].type), type) == 0) {
						mark_refused(ix, i, NULL, &marked);
						break;
					}
			lp_point_free(&pt);
		}
		(void)before;
		p++;
	}
	free(lines);
	return expected > 0 && marked == expected;
}

static void reasons_free(struct influx *ix, size_t n)
{
	for (size_t i = 0; i < n && i < ix->refused_cap; i++) {
		free(ix->reasons[i]);
		ix->reasons[i] = NULL;
	}
}

/* Appends the refused lines to the quarantine file, each after a comment
 * with the time, the output and the server's reason (so the file can be
 * fixed and replayed: InfluxDB skips '#' lines). */
static void quarantine_write(struct influx *ix, const char *data, size_t len, size_t nlines, const char *msg)
{
	struct line_ref *lines;
	size_t n = split_lines(data, len, &lines);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	uint32_t supp;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!ix->quarantine) { /* (a hand-built conf) only counted */
		free(lines);
		return;
	}
	f = fopen(ix->quarantine, "a");
	if (!f) {
		if (log_rl_allow(&ix->rl_quar, LOG_EVERY_MS, &supp))
			log_err("output %s: quarantine %s: %s (the refused lines are only counted)", ix->name,
				ix->quarantine ? ix->quarantine : "(none)", strerror(errno));
		free(lines);
		return;
	}
	for (size_t i = 0; i < n && i < nlines; i++) {
		const char *why;
		if (!ix->refused[i])
			continue;
		why = ix->reasons[i] ? ix->reasons[i] : msg;
		fprintf(f, "# %s output %s: ", when, ix->name);
		for (const char *c = why; *c && c - why < QUAR_REASON_MAX; c++)
			fputc(*c == '\n' || *c == '\r' ? ' ' : *c, f);
		if (strlen(why) > QUAR_REASON_MAX)
			fputs("...", f);
		fprintf(f, "\n%.*s\n", (int)lines[i].len, lines[i].p);
	}
	if (fclose(f) != 0 && log_rl_allow(&ix->rl_quar, LOG_EVERY_MS, &supp))
		log_err("output %s: quarantine %s: %s", ix->name, ix->quarantine, strerror(errno));
	free(lines);
}
/* Marks every line of the batch refused (one line the server will never take). */
static void refuse_all(struct influx *ix, size_t nlines)
{
	if (nlines > ix->refused_cap) {
		ix->refused = xrealloc(ix->refused, nlines);
		ix->reasons = xrealloc(ix->reasons, nlines * sizeof(*ix->reasons));
		ix->refused_cap = nlines;
	}
	memset(ix->refused, 1, nlines);
	memset(ix->reasons, 0, nlines * sizeof(*ix->reasons));
}

/* 1 when a v1 write's 404 says the database is missing. */
static int db_missing(const struct influx *ix, const char *msg)
{
	return strstr(ix->influx_err, "database not found") || strstr(msg, "database not found");
}

/* InfluxQL: "name" with '"' and '\\' escaped, for CREATE DATABASE. */
static char *quote_ident(const char *name)
{
	char *q = xmalloc(2 * strlen(name) + 3), *p = q;

	*p++ = '"';
	for (const char *c = name; *c; c++) {
		if (*c == '"' || *c == '\\')
			*p++ = '\\';
		*p++ = *c;
	}
	*p++ = '"';
	*p = '\0';
	return q;
}

/*
 * The database is missing: CREATE DATABASE once per episode (until a write
 * succeeds), when create_database allows it, with the output's credentials
 * (the handle's basic auth), on the output's connection.  1 when created
 * (logged), 0 otherwise (refused or failed: logged, rate-limited by the
 * episode).  The write URL is put back on the handle.
 */
static int influx_create_db(struct influx *ix)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	char *ident = quote_ident(ix->database), *stmt = xasprintf("CREATE DATABASE %s", ident);
	char *esc = curl_easy_escape(ix->http.easy, stmt, 0), *body = NULL, *url = NULL, err[256] = "", msg[200];
	size_t ul = strlen(ix->url);
	long code = 0;
	curl_off_t ra;
	int ok = 0;

	if (!ix->create_database || ix->create_tried || !h || !esc)
		goto out;
	ix->create_tried = 1;
	while (ul && ix->url[ul - 1] == '/')
		ul--;
	url = xasprintf("%.*s/query", (int)ul, ix->url);
	body = xasprintf("q=%s", esc);
	if (http_request(&ix->http, url, h, body, strlen(body), &code, &ra, err, sizeof(err)) < 0) {
		log_warn("output %s: database %s not found; CREATE DATABASE failed: %s", ix->name, ident, err);
		goto out;
	}
	output_excerpt(msg, sizeof(msg), ix->http.resp, ix->http.resp_len);
	ok = code >= 200 && code < 300 && !strstr(msg, "\"error\"");
	if (ok)
		log_info("output %s: database %s not found; created it (CREATE DATABASE)", ix->name, ident);
	else
		log_warn("output %s: database %s not found and CREATE DATABASE was refused (HTTP %ld: %s); "
			 "retrying the write every %d s until someone creates it",
			 ix->name, ident, code, msg, MISSING_DB_RETRY_MS / 1000);
out:
	curl_easy_setopt(ix->http.easy, CURLOPT_URL, ix->write_url);
	curl_slist_free_all(h);
	curl_free(esc);
	free(ident);
	free(stmt);
	free(body);
	free(url);
	return ok;
}

/*
 * One POST of the batch, gzipped when the output asks for it and the
 * server has not refused it.  A server that does not take gzip answers 415,
 * or 400 (it parsed the compressed bytes as line protocol): the batch goes
 * again at once as plain text, and when that is not refused the same way,
 * gzip is off for this output from then on (logged once, counted in
 * coldchaind_output.gzip_refused).  0, or -1 after a transport failure.
 */
static int influx_post(struct influx *ix, struct output *out, const char *data, size_t len, struct send_result *r,
		       long *code, curl_off_t *retry_after)
{
	size_t gz = ix->gzip && !ix->gzip_off ? gzip_body(ix, data, len) : 0;

	ix->influx_err[0] = '\0';
	if (!gz)
		return http_post(&ix->http, out, ix->hdr_plain, data, len, r, code, retry_after);
	if (http_post(&ix->http, out, ix->hdr_gzip, (const char *)ix->gzbuf, gz, r, code, retry_after) < 0)
		return -1;
	if (*code != 415 && *code != 400)
		return 0;
	ix->influx_err[0] = '\0';
	if (http_post(&ix->http, out, ix->hdr_plain, data, len, r, code, retry_after) < 0)
		return -1;
	if (*code != 415 && *code != 400) {
		ix->gzip_off = 1;
		output_count_gzip_refused(out);
		log_warn("output %s: the server refuses gzip request bodies; sending them uncompressed "
			 "(gzip = false avoids the retry after a restart)", ix->name);
	}
	return 0;
}

static void influx_send(void *be, struct output *out, const char *data, size_t len, size_t nlines,
			struct send_result *r)
{
	struct influx *ix = be;
	long code = 0;
	curl_off_t retry_after = 0;
	char msg[200];

	if (influx_post(ix, out, data, len, r, &code, &retry_after) < 0)
		return;
	if (ix->influx_err[0])
		output_fmt(msg, sizeof(msg), "%s", ix->influx_err);
	else
		output_excerpt(msg, sizeof(msg), ix->http.resp, ix->http.resp_len);

	if (code >= 200 && code < 300) {
		ix->create_tried = 0;
		r->status = SEND_OK;
		r->done = nlines;
		return;
	}
	output_fmt(r->error, sizeof(r->error), "HTTP %ld%s%s", code, msg[0] ? ": " : "", msg);
	r->retry_after_ms = http_retry_after_ms(code, retry_after);
	if (code == 413 && nlines > 1) {
		r->status = SEND_SPLIT;
	} else if (code == 413 || code == 400 || code == 422) {
		char *full = server_message(ix), *why = xasprintf("HTTP %ld: %s", code, full);

		if (code != 413 && nlines > 1 && !attribute_refusals(ix, full, data, len, nlines)) {
			r->status = SEND_BISECT;
		} else {
			if (code == 413 || nlines == 1)
				refuse_all(ix, nlines);
			r->status = SEND_REJECT;
			r->done = nlines;
			for (size_t i = 0; i < nlines; i++)
				r->rejected += ix->refused[i];
			r->quarantine = ix->quarantine;
			quarantine_write(ix, data, len, nlines, why);
		}
		reasons_free(ix, nlines);
		free(full);
		free(why);
	} else if (code == 401 || code == 403) {
		r->status = SEND_AUTH;
		output_fmt(r->error, sizeof(r->error), "unauthorised (HTTP %ld)%s%s", code, msg[0] ? ": " : "", msg);
	} else if (code == 404) {
		if (!ix->v2 && db_missing(ix, msg) && influx_create_db(ix)) {
			influx_send(be, out, data, len, nlines, r); /* at once, once: create_tried is set */
			return;
		}
		r->status = SEND_SLOW;
		if (!ix->v2 && db_missing(ix, msg))
			r->retry_cap_ms = MISSING_DB_RETRY_MS;
		if (ix->v2)
			output_fmt(r->error, sizeof(r->error), "HTTP 404: %s (org \"%s\" and bucket \"%s\" must exist)",
				  msg[0] ? msg : "not found", ix->org, ix->bucket);
		else
			output_fmt(r->error, sizeof(r->error),
				  "HTTP 404: %s (the database must exist: CREATE DATABASE \"%s\")",
				  msg[0] ? msg : "not found", ix->database);
	} else if (code >= 500 || code == 429 || code == 408) {
		r->status = SEND_RETRY;
	} else {
		/* redirects, other 4xx: something is misconfigured; keep the data */
		r->status = SEND_SLOW;
	}
}

/* The write URL, the headers and the credentials on the connection
 * (libcurl keeps its own copies of the secrets: ours stay in the conf). */
static int influx_setup(struct influx *ix, const struct cc_influx_conf *conf)
{
	char *a = NULL, *b = NULL;
	size_t ul;
	int r = -ENOMEM;

	if (http_init(&ix->http, NULL, ix->ca_file, ix->insecure) < 0)
		goto out;
	if (ix->v2) {
		a = curl_easy_escape(ix->http.easy, ix->org, 0);
		b = curl_easy_escape(ix->http.easy, ix->bucket, 0);
		if (!a || !b)
			goto out;
	} else {
		a = curl_easy_escape(ix->http.easy, ix->database, 0);
		b = ix->rp ? curl_easy_escape(ix->http.easy, ix->rp, 0) : NULL;
		if (!a || (ix->rp && !b))
			goto out;
	}
	ul = strlen(ix->url);
	while (ul && ix->url[ul - 1] == '/')
		ul--;
	if (ix->v2)
		ix->write_url = xasprintf("%.*s/api/v2/write?org=%s&bucket=%s&precision=ns", (int)ul, ix->url, a, b);
	else
		ix->write_url = xasprintf("%.*s/write?db=%s%s%s&precision=ns", (int)ul, ix->url, a, b ? "&rp=" : "",
					 b ? b : "");

	/* "Expect:" stops curl's 100-continue round trip on large bodies */
	ix->hdr_plain = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	ix->hdr_plain = curl_slist_append(ix->hdr_plain, "Expect:");
	ix->hdr_gzip = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	ix->hdr_gzip = curl_slist_append(ix->hdr_gzip, "Expect:");
	ix->hdr_gzip = curl_slist_append(ix->hdr_gzip, "Content-Encoding: gzip");
	if (conf->token) {
		char *h = xasprintf("Authorization: Token %s", conf->token);
		ix->hdr_plain = curl_slist_append(ix->hdr_plain, h);
		ix->hdr_gzip = curl_slist_append(ix->hdr_gzip, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	if (!ix->hdr_plain || !ix->hdr_gzip)
		goto out;

	curl_easy_setopt(ix->http.easy, CURLOPT_URL, ix->write_url);
	curl_easy_setopt(ix->http.easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(ix->http.easy, CURLOPT_HEADERDATA, ix);
	if (ix->username) {
		curl_easy_setopt(ix->http.easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(ix->http.easy, CURLOPT_USERNAME, ix->username);
		curl_easy_setopt(ix->http.easy, CURLOPT_PASSWORD, conf->password ? conf->password : "");
	}
	r = 0;
out:
	curl_free(a);
	curl_free(b);
	return r;
}

static void influx_start(void *be, const char *name)
{
	struct influx *ix = be;

	http_warn_insecure(&ix->http, name);
}

static void influx_wakeup(void *be)
{
	struct influx *ix = be;

	http_wakeup(&ix->http);
}

static int streq_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Same version, URL (trailing '/' ignored) and database/rp or org/bucket. */
static int influx_same_destination(const void *pa, const void *pb)
{
	const struct influx *a = pa, *b = pb;
	size_t la, lb;

	if (a->v2 != b->v2)
		return 0;
	la = strlen(a->url);
	lb = strlen(b->url);
	while (la && a->url[la - 1] == '/')
		la--;
	while (lb && b->url[lb - 1] == '/')
		lb--;
	if (la != lb || strncmp(a->url, b->url, la) != 0)
		return 0;
	if (a->v2)
		return strcmp(a->org, b->org) == 0 && strcmp(a->bucket, b->bucket) == 0;
	return strcmp(a->database, b->database) == 0 && streq_null(a->rp, b->rp);
}

static void influx_free(void *be)
{
	struct influx *ix = be;

	if (!ix)
		return;
	http_free(&ix->http);
	curl_slist_free_all(ix->hdr_plain);
	curl_slist_free_all(ix->hdr_gzip);
	free(ix->name);
	free(ix->url);
	free(ix->database);
	free(ix->rp);
	free(ix->org);
	free(ix->bucket);
	free(ix->username);
	free(ix->ca_file);
	free(ix->quarantine);
	free(ix->write_url);
	free(ix->gzbuf);
	free(ix->refused);
	free(ix->reasons);
	free(ix);
}

static const struct output_ops influx_ops = {
	.start = influx_start,
	.send = influx_send,
	.wakeup = influx_wakeup,
	.same_destination = influx_same_destination,
	.free = influx_free,
};

static struct influx *influx_from_conf(const struct cc_influx_conf *conf, const char *name)
{
	struct influx *ix = xcalloc(1, sizeof(*ix));

	ix->name = xstrdup(name);
	ix->http.timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : OUTPUT_DEF_TIMEOUT_MS;
	ix->http.connect_timeout_ms = conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms : OUTPUT_DEF_CONNECT_MS;
	ix->v2 = conf->v2;
	ix->url = xstrdup(conf->url);
	ix->database = output_strdup_or_null(conf->database);
	ix->rp = output_strdup_or_null(conf->retention_policy);
	ix->org = output_strdup_or_null(conf->org);
	ix->bucket = output_strdup_or_null(conf->bucket);
	ix->username = output_strdup_or_null(conf->username);
	ix->ca_file = output_strdup_or_null(conf->ca_file);
	ix->quarantine = output_strdup_or_null(conf->quarantine);
	ix->insecure = conf->insecure;
	ix->gzip = conf->gzip;
	ix->create_database = !conf->v2 && conf->create_database;
	return ix;
}

struct output *output_influx_new(const struct cc_influx_conf *conf)
{
	struct output_limits lim;
	struct influx *ix;
	struct output *o;
	const char *name;
	char *id;
	size_t ul;
	int r;

	if (!conf || !conf->url || (conf->v2 ? !conf->org || !conf->bucket : !conf->database)) {
		errno = EINVAL;
		return NULL;
	}
	name = conf->name ? conf->name : conf->url;
	ix = influx_from_conf(conf, name);
	r = influx_setup(ix, conf);
	if (r < 0) {
		log_err("output %s: cannot set up libcurl", name);
		influx_free(ix);
		errno = -r;
		return NULL;
	}
	ul = strlen(ix->url);
	while (ul && ix->url[ul - 1] == '/')
		ul--;
	if (ix->v2)
		id = xasprintf("influxdb2 %s %.*s %s %s", name, (int)ul, ix->url, ix->org, ix->bucket);
	else
		id = xasprintf("influxdb %s %.*s %s %s", name, (int)ul, ix->url, ix->database, ix->rp ? ix->rp : "-");
	lim = (struct output_limits){ .batch = conf->batch, .batch_bytes = conf->batch_bytes, .flush_ms = conf->flush_ms,
				      .backoff_max_ms = conf->backoff_max_ms, .start_oldest = conf->start_oldest };
	o = output_new(name, id, &lim, &influx_ops, ix);
	free(id);
	return o;
}

static size_t influx_count(const struct cc_config *cfg)
{
	return cfg->ninflux;
}

static struct output *influx_create(const struct cc_config *cfg, size_t i)
{
	return output_influx_new(&cfg->influx[i]);
}

const struct output_kind output_kind_influx = { "influxdb", influx_count, influx_create };
