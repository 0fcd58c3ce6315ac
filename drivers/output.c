/* output.c - where line protocol leaves the daemon: a bounded queue of lines
 * per output and one sender thread that posts batches to InfluxDB 1.x
 * (/write, libcurl) or appends them to a file.  The only file that includes
 * <curl/curl.h>. */
#include "output.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../daemon/util.h"

#define RESP_MAX (64 * 1024)   /* response body kept for error messages */
#define ERRMSG_MAX 1024        /* X-Influxdb-Error kept */
#define CHUNK_MAX (64 * 1024)  /* enqueue calls are merged into chunks up to this */
#define CHUNK_MERGE_MS 50      /* ... when they arrive this close together */
#define LOG_EVERY_MS 30000     /* rate limit for repeated failure messages */
#define BACKOFF_START_MS 1000
#define RETRY_AFTER_MAX_S 3600

/* Defaults for values a hand-built conf may leave at 0 (config.c fills them). */
#define DEF_BATCH 5000
#define DEF_FLUSH_MS 1000
#define DEF_TIMEOUT_MS 10000
#define DEF_CONNECT_MS 5000
#define DEF_BACKOFF_MAX_MS 60000
#define DEF_MAX_PENDING 100000
#define FILE_BATCH 1000
#define FILE_FLUSH_MS 100

enum out_kind { OUT_INFLUX, OUT_FILE };

/*
 * The queue: a singly linked list of chunks, each a run of complete lines
 * with the time its first line arrived.  Lines are removed from the head
 * only once delivered (or dropped).  A batch being sent is a copy of the
 * first `inflight` lines; if the queue overflows meanwhile, dropping the
 * oldest lines eats into that prefix, and `evicted` remembers how many, so
 * they are counted by the outcome of the request rather than twice.
 */
struct chunk {
	struct chunk *next;
	int64_t t_ms;
	char *data;
	size_t off, len, cap; /* unconsumed bytes are data[off, len) */
	size_t lines;         /* unconsumed lines */
};

/* What one delivery attempt did. */
enum send_status {
	SEND_OK,     /* all lines delivered (or `done` of them) */
	SEND_RETRY,  /* transient: backoff, same lines again */
	SEND_SLOW,   /* needs an operator (auth, no database): retry at backoff_max */
	SEND_REJECT, /* the server refused the lines: count and move on */
	SEND_SPLIT,  /* too large: send the batch in halves */
};

struct send_result {
	enum send_status status;
	size_t done;     /* lines delivered (SEND_OK, SEND_REJECT, partial file writes) */
	size_t rejected; /* SEND_REJECT: lines the server refused */
	int64_t retry_after_ms;
	char error[sizeof(((struct output_stats *)0)->last_error)];
};

struct output {
	enum out_kind kind;
	char *name;
	int batch;
	int64_t flush_ms, timeout_ms, connect_timeout_ms, backoff_max_ms;
	size_t max_lines, max_bytes;

	/* InfluxDB */
	char *url, *database, *rp, *username, *password, *ca_file;
	int insecure, gzip;
	char *write_url;
	CURL *easy;
	CURLM *multi;
	struct curl_slist *hdr_plain, *hdr_gzip;
	char curl_err[CURL_ERROR_SIZE];
	char *resp;
	size_t resp_len;
	int resp_truncated;
	char influx_err[ERRMSG_MAX];
	/* file */
	char *path;
	int fd;
	int torn; /* last write ended mid-line: terminate it before the next */

	/* shared state, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail;
	size_t lines, bytes;
	size_t inflight, evicted;
	uint64_t drop_unlogged;
	struct log_rl rl_drop;
	struct output_stats st;
	int running, stopping;
	int64_t deadline_ms;
	int64_t retry_at; /* monotonic ms; 0 = no backoff pending */

	/* sender thread only */
	pthread_t thread;
	char *sendbuf;
	size_t sendcap;
	unsigned char *gzbuf;
	size_t gzcap;
	unsigned failures;
	size_t split_limit, split_left;
	uint64_t rng;
	struct log_rl rl_fail, rl_reject;
};

/* --- small helpers ------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* snprintf that may truncate on purpose (messages bounded for logs/stats). */
static void fmt_trunc(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmt_trunc(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static int streq_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Printable, single-line excerpt of at most max bytes (server text into logs). */
static void excerpt(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	if (o + 4 >= size && len > o) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

static void cond_wait_until(struct output *o, int64_t until_ms)
{
	struct timespec ts;

	if (until_ms == INT64_MAX) {
		pthread_cond_wait(&o->cv, &o->mu);
		return;
	}
	ts.tv_sec = (time_t)(until_ms / 1000);
	ts.tv_nsec = (long)(until_ms % 1000) * 1000000L;
	pthread_cond_timedwait(&o->cv, &o->mu, &ts); /* cv uses CLOCK_MONOTONIC */
}

/* --- queue (all under mu) -------------------------------------------- */

/* Drops the n oldest lines (n <= o->lines). */
static void queue_drop_head(struct output *o, size_t n, int count_dropped)
{
	size_t ev = n < o->inflight ? n : o->inflight;

	o->inflight -= ev;
	o->evicted += ev;
	if (count_dropped) {
		o->st.dropped += n - ev;
		o->drop_unlogged += n - ev;
	}
	while (n > 0 && o->head) {
		struct chunk *c = o->head;

		if (n >= c->lines) {
			n -= c->lines;
			o->lines -= c->lines;
			o->bytes -= c->len - c->off;
			o->head = c->next;
			if (!o->head)
				o->tail = NULL;
			free(c->data);
			free(c);
			continue;
		}
		while (n > 0) {
			char *nl = memchr(c->data + c->off, '\n', c->len - c->off);
			size_t l = (size_t)(nl - (c->data + c->off)) + 1;

			c->off += l;
			c->lines--;
			o->lines--;
			o->bytes -= l;
			n--;
		}
	}
}

static void queue_trim(struct output *o)
{
	while (o->lines > o->max_lines || (o->bytes > o->max_bytes && o->lines > 0)) {
		size_t n = o->lines > o->max_lines ? o->lines - o->max_lines : 1;
		queue_drop_head(o, n, 1);
	}
}

static void queue_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;
		free(c->data);
		free(c);
		c = next;
	}
}

/* Copies up to max lines from the head into sendbuf; returns how many. */
static size_t queue_peek(struct output *o, size_t max, size_t *bytes)
{
	size_t n = 0, b = 0;

	for (struct chunk *c = o->head; c && n < max; c = c->next) {
		const char *p = c->data + c->off, *end = c->data + c->len;
		size_t take;

		if (c->lines <= max - n) {
			take = c->len - c->off;
			n += c->lines;
		} else {
			const char *q = p;
			while (n < max) {
				q = (const char *)memchr(q, '\n', (size_t)(end - q)) + 1;
				n++;
			}
			take = (size_t)(q - p);
		}
		if (b + take > o->sendcap) {
			size_t cap = o->sendcap ? o->sendcap : 64 * 1024;
			while (cap < b + take)
				cap *= 2;
			o->sendbuf = xrealloc(o->sendbuf, cap);
			o->sendcap = cap;
		}
		memcpy(o->sendbuf + b, p, take);
		b += take;
	}
	*bytes = b;
	return n;
}

/* Under mu: returns the drops to report now (rate-limited), 0 if none. */
static uint64_t drops_to_log(struct output *o)
{
	uint64_t n = 0;
	uint32_t supp;

	if (o->drop_unlogged && log_rl_allow(&o->rl_drop, LOG_EVERY_MS, &supp)) {
		n = o->drop_unlogged;
		o->drop_unlogged = 0;
	}
	return n;
}

static void log_drops(const struct output *o, uint64_t n)
{
	if (n)
		log_warn("output %s: queue full, dropped %" PRIu64 " oldest lines", o->name, n);
}

void output_enqueue(struct output *o, const char *lines, size_t len, size_t nlines)
{
	int64_t now = time_mono_ms();
	size_t n = 0, add = len;
	int was_empty;
	uint64_t dropped;
	struct chunk *c;

	(void)nlines; /* counted here: the queue needs the '\n's, not the claim */
	if (!o || !lines || len == 0)
		return;
	for (const char *p = lines; (p = memchr(p, '\n', (size_t)(lines + len - p))) != NULL; p++)
		n++;
	if (lines[len - 1] != '\n') { /* a caller bug, but never glue two lines together */
		n++;
		add++;
	}

	pthread_mutex_lock(&o->mu);
	was_empty = o->lines == 0;
	c = o->tail;
	if (!c || now - c->t_ms > CHUNK_MERGE_MS || c->len + add > CHUNK_MAX) {
		c = xcalloc(1, sizeof(*c));
		c->t_ms = now;
		if (o->tail)
			o->tail->next = c;
		else
			o->head = c;
		o->tail = c;
	}
	if (c->len + add > c->cap) {
		size_t cap = c->cap ? c->cap : 256;
		while (cap < c->len + add)
			cap *= 2;
		c->data = xrealloc(c->data, cap);
		c->cap = cap;
	}
	memcpy(c->data + c->len, lines, len);
	if (add > len)
		c->data[c->len + len] = '\n';
	c->len += add;
	c->lines += n;
	o->lines += n;
	o->bytes += add;
	queue_trim(o);
	dropped = drops_to_log(o);
	if (was_empty || o->lines >= (size_t)o->batch)
		pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
	log_drops(o, dropped);
}

/* --- InfluxDB over HTTP ---------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct output *o = arg;
	size_t n = size * nmemb, room = RESP_MAX - o->resp_len;

	if (n > room) {
		o->resp_truncated = 1;
	}
	memcpy(o->resp + o->resp_len, ptr, n < room ? n : room);
	o->resp_len += n < room ? n : room;
	return n; /* keep reading: the connection stays reusable */
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "X-Influxdb-Error:";
	struct output *o = arg;
	size_t n = size * nmemb;

	if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		const char *v = ptr + sizeof(name) - 1;
		size_t vl = n - (sizeof(name) - 1);

		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		excerpt(o->influx_err, sizeof(o->influx_err), v, vl);
	}
	return n;
}

/* gzip (RFC 1952) of data into o->gzbuf; returns the size or 0 on failure. */
static size_t gzip_body(struct output *o, const char *data, size_t len)
{
	z_stream z;
	size_t bound;
	int r;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 3, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	bound = deflateBound(&z, (uLong)len) + 32;
	if (bound > o->gzcap) {
		o->gzbuf = xrealloc(o->gzbuf, bound);
		o->gzcap = bound;
	}
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = o->gzbuf;
	z.avail_out = (uInt)bound;
	r = deflate(&z, Z_FINISH);
	bound = r == Z_STREAM_END ? z.total_out : 0;
	deflateEnd(&z);
	return bound;
}

/* Counts occurrences of needle in hay[0, len). */
static size_t count_substr(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	const char *p = hay, *end = hay + len;

	while ((p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		n++;
		p += nl;
	}
	return n;
}

/*
 * InfluxDB 1.x answers a partly bad batch with 400 and writes the good
 * points: "partial write: unable to parse '...': ... dropped=0" for lines
 * it could not parse, "partial write: field type conflict: ... dropped=N"
 * for points it refused.  Count what it refused; fall back to the whole batch.
 */
static size_t rejected_lines(const struct output *o, size_t batch)
{
	size_t n = 0;
	const char *p, *end = o->resp + o->resp_len;

	if (o->resp_truncated)
		return batch;
	n = count_substr(o->resp, o->resp_len, "unable to parse");
	for (p = o->resp; (p = memmem(p, (size_t)(end - p), "dropped=", 8)) != NULL;) {
		size_t v = 0;

		for (p += 8; p < end && *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (size_t)(*p - '0');
		n += v;
	}
	return n == 0 || n > batch ? batch : n;
}

static int64_t remaining_ms(struct output *o)
{
	int64_t r;

	pthread_mutex_lock(&o->mu);
	r = o->stopping ? o->deadline_ms - time_mono_ms() : INT64_MAX;
	pthread_mutex_unlock(&o->mu);
	return r;
}

/*
 * Runs one transfer through the multi handle so that output_stop() can cut
 * it short the moment its deadline passes (curl_multi_wakeup), instead of
 * waiting for curl's own timeout against a server that hangs.
 */
static CURLcode influx_perform(struct output *o)
{
	CURLcode res = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left;

	if (curl_multi_add_handle(o->multi, o->easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	for (;;) {
		int64_t rem;

		if (curl_multi_perform(o->multi, &running) != CURLM_OK) {
			res = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		rem = remaining_ms(o);
		if (rem <= 0) {
			res = CURLE_ABORTED_BY_CALLBACK;
			fmt_trunc(o->curl_err, sizeof(o->curl_err), "abandoned at the shutdown deadline");
			break;
		}
		curl_multi_poll(o->multi, NULL, 0, rem < 1000 ? (int)rem : 1000, NULL);
	}
	while ((msg = curl_multi_info_read(o->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && !running)
			res = msg->data.result;
	curl_multi_remove_handle(o->multi, o->easy);
	return res;
}

static void influx_send(struct output *o, const char *data, size_t len, size_t nlines, struct send_result *r)
{
	const char *body = data;
	size_t body_len = len;
	struct curl_slist *hdrs = o->hdr_plain;
	int64_t timeout = o->timeout_ms, connect = o->connect_timeout_ms, rem = remaining_ms(o);
	long code = 0;
	curl_off_t retry_after = 0;
	CURLcode res;
	char msg[200];

	if (o->gzip) {
		size_t gz = gzip_body(o, data, len);
		if (gz) {
			body = (const char *)o->gzbuf;
			body_len = gz;
			hdrs = o->hdr_gzip;
		}
	}
	if (rem < timeout) /* at shutdown the deadline bounds the request */
		timeout = rem > 1 ? rem : 1;
	if (connect > timeout)
		connect = timeout;
	o->resp_len = 0;
	o->resp_truncated = 0;
	o->influx_err[0] = '\0';
	o->curl_err[0] = '\0';
	curl_easy_setopt(o->easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(o->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(o->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(o->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(o->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);

	res = influx_perform(o);
	pthread_mutex_lock(&o->mu);
	o->st.requests++;
	pthread_mutex_unlock(&o->mu);
	if (res != CURLE_OK) {
		r->status = SEND_RETRY;
		fmt_trunc(r->error, sizeof(r->error), "%s", o->curl_err[0] ? o->curl_err : curl_easy_strerror(res));
		return;
	}
	curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(o->easy, CURLINFO_RETRY_AFTER, &retry_after);
	if (o->influx_err[0])
		fmt_trunc(msg, sizeof(msg), "%s", o->influx_err);
	else
		excerpt(msg, sizeof(msg), o->resp, o->resp_len);

	if (code >= 200 && code < 300) {
		r->status = SEND_OK;
		r->done = nlines;
		return;
	}
	fmt_trunc(r->error, sizeof(r->error), "HTTP %ld%s%s", code, msg[0] ? ": " : "", msg);
	if (retry_after > 0 && (code == 429 || code == 503))
		r->retry_after_ms = (retry_after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int64_t)retry_after) * 1000;
	if (code == 413) {
		r->status = SEND_SPLIT;
	} else if (code == 400 || code == 422) {
		r->status = SEND_REJECT;
		r->rejected = rejected_lines(o, nlines);
		r->done = nlines;
	} else if (code == 401 || code == 403) {
		r->status = SEND_SLOW;
		fmt_trunc(r->error, sizeof(r->error), "unauthorised (HTTP %ld)%s%s", code, msg[0] ? ": " : "", msg);
	} else if (code == 404) {
		r->status = SEND_SLOW;
		fmt_trunc(r->error, sizeof(r->error), "HTTP 404: %s (the database must exist: CREATE DATABASE \"%s\")",
			 msg[0] ? msg : "not found", o->database);
	} else if (code >= 500 || code == 429 || code == 408) {
		r->status = SEND_RETRY;
	} else {
		/* redirects, other 4xx: something is misconfigured; keep the data */
		r->status = SEND_SLOW;
	}
}

static int influx_setup(struct output *o)
{
	char *db = NULL, *rp = NULL;
	size_t ul;
	int r = -ENOMEM;

	o->easy = curl_easy_init();
	o->multi = curl_multi_init();
	if (!o->easy || !o->multi)
		goto out;
	db = curl_easy_escape(o->easy, o->database, 0);
	rp = o->rp ? curl_easy_escape(o->easy, o->rp, 0) : NULL;
	if (!db || (o->rp && !rp))
		goto out;
	ul = strlen(o->url);
	while (ul && o->url[ul - 1] == '/')
		ul--;
	o->write_url = xasprintf("%.*s/write?db=%s%s%s&precision=ns", (int)ul, o->url, db, rp ? "&rp=" : "",
				 rp ? rp : "");
	o->resp = xmalloc(RESP_MAX);

	/* "Expect:" stops curl's 100-continue round trip on large bodies */
	o->hdr_plain = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	o->hdr_plain = curl_slist_append(o->hdr_plain, "Expect:");
	o->hdr_gzip = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	o->hdr_gzip = curl_slist_append(o->hdr_gzip, "Expect:");
	o->hdr_gzip = curl_slist_append(o->hdr_gzip, "Content-Encoding: gzip");
	if (!o->hdr_plain || !o->hdr_gzip)
		goto out;

	curl_easy_setopt(o->easy, CURLOPT_URL, o->write_url);
	curl_easy_setopt(o->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(o->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(o->easy, CURLOPT_USERAGENT, "coldchaind");
	curl_easy_setopt(o->easy, CURLOPT_ERRORBUFFER, o->curl_err);
	curl_easy_setopt(o->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(o->easy, CURLOPT_WRITEDATA, o);
	curl_easy_setopt(o->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(o->easy, CURLOPT_HEADERDATA, o);
	curl_easy_setopt(o->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(o->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(o->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (o->username) {
		curl_easy_setopt(o->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(o->easy, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(o->easy, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (o->ca_file)
		curl_easy_setopt(o->easy, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(o->easy, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
	curl_easy_setopt(o->easy, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
	r = 0;
out:
	curl_free(db);
	curl_free(rp);
	return r;
}

/* --- file ---------------------------------------------------------- */

static void file_send(struct output *o, const char *data, size_t len, size_t nlines, struct send_result *r)
{
	size_t off = 0;
	int err = 0;
	const char *op = "open";

	(void)nlines;
	if (o->fd < 0) {
		if (strcmp(o->path, "-") == 0)
			o->fd = STDOUT_FILENO;
		else
			o->fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (o->fd < 0)
			err = errno;
	}
	/* a line torn by an earlier failure is ended first, so that it
	 * does not swallow the next one */
	if (!err)
		op = "write";
	while (!err && o->torn) {
		ssize_t w = write(o->fd, "\n", 1);

		if (w == 1)
			o->torn = 0;
		else if (!(w < 0 && errno == EINTR))
			err = w < 0 ? errno : EIO;
	}
	while (!err && off < len) {
		ssize_t w = write(o->fd, data + off, len - off);

		if (w > 0)
			off += (size_t)w;
		else if (!(w < 0 && errno == EINTR))
			err = w < 0 ? errno : EIO;
	}
	for (size_t i = 0; i < off; i++) /* complete lines written are delivered */
		r->done += data[i] == '\n';
	if (!err) {
		r->status = SEND_OK;
		return;
	}
	r->status = SEND_RETRY;
	fmt_trunc(r->error, sizeof(r->error), "%s %s: %s", op, o->path, strerror(err));
	if (off > 0 && data[off - 1] != '\n')
		o->torn = 1;
	if (o->fd >= 0 && o->fd != STDOUT_FILENO)
		close(o->fd);
	o->fd = -1; /* reopen next time: the file may have been rotated or fixed */
}

/* --- the sender thread ------------------------------------------------ */

static int64_t backoff_ms(struct output *o, int slow)
{
	int64_t b = o->backoff_max_ms;

	if (!slow) {
		unsigned shift = o->failures > 1 ? o->failures - 1 : 0;
		if (shift < 20 && ((int64_t)BACKOFF_START_MS << shift) < b)
			b = (int64_t)BACKOFF_START_MS << shift;
	}
	/* jitter: somewhere in [b/2, b] so that many daemons do not retry in step */
	return b / 2 + (int64_t)(rand_next(&o->rng) % (uint64_t)(b / 2 + 1));
}

/* Logs with mu released (log_msg takes its own lock; keep the queue free). */
#define UNLOCKED(o, stmt)                                                                         \
	do {                                                                                      \
		pthread_mutex_unlock(&(o)->mu);                                                   \
		stmt;                                                                             \
		pthread_mutex_lock(&(o)->mu);                                                     \
	} while (0)

/*
 * Applies the outcome of a request to the queue and the counters (under mu).
 * The batch was lines [0, sent) of the queue; the first `evicted` of them
 * were dropped meanwhile by an overflow, the other `keep` are still at the
 * head.  Lines [0, done) reached the server.
 */
static void apply_result(struct output *o, size_t sent, struct send_result *r, int64_t now)
{
	size_t keep = o->inflight, evicted = o->evicted, written_now;
	uint32_t supp = 0;

	o->inflight = o->evicted = 0;
	if (r->status == SEND_SPLIT && sent <= 1) {
		/* one line the server will never take: refuse it and move on */
		r->status = SEND_REJECT;
		r->done = r->rejected = sent;
	}
	if (r->done > sent)
		r->done = sent;
	written_now = r->done > evicted ? r->done - evicted : 0;
	queue_drop_head(o, written_now < keep ? written_now : keep, 0);
	if (evicted > r->done) /* dropped and never delivered */
		o->st.dropped += evicted - r->done;
	o->st.written += r->done - r->rejected;
	o->st.rejected += r->rejected;

	switch (r->status) {
	case SEND_OK:
	case SEND_REJECT:
		if (r->status == SEND_OK) {
			o->st.last_ok_ms = now;
		} else {
			fmt_trunc(o->st.last_error, sizeof(o->st.last_error), "%s", r->error);
			if (log_rl_allow(&o->rl_reject, LOG_EVERY_MS, &supp))
				UNLOCKED(o, log_warn("output %s: server refused %zu of %zu lines: %s%s", o->name,
						     r->rejected, sent, r->error,
						     supp ? " (earlier refusals suppressed)" : ""));
		}
		if (o->split_left) {
			o->split_left = o->split_left > sent ? o->split_left - sent : 0;
			if (!o->split_left)
				o->split_limit = 0;
		}
		o->retry_at = 0;
		if (o->failures) {
			unsigned f = o->failures;

			o->failures = 0;
			o->rl_fail.last_ms = 0; /* the next outage is logged at once */
			UNLOCKED(o, log_info("output %s: delivering again after %u failures", o->name, f));
		}
		break;
	case SEND_RETRY:
	case SEND_SLOW: {
		int64_t d;

		o->st.retried++;
		o->failures++;
		d = backoff_ms(o, r->status == SEND_SLOW);
		if (r->retry_after_ms > d)
			d = r->retry_after_ms;
		o->retry_at = now + d;
		fmt_trunc(o->st.last_error, sizeof(o->st.last_error), "%s", r->error);
		if (log_rl_allow(&o->rl_fail, LOG_EVERY_MS, &supp))
			UNLOCKED(o, log_warn("output %s: %s%s", o->name, r->error,
					     supp ? " (repeated failures suppressed)" : ""));
		break;
	}
	case SEND_SPLIT:
		o->split_limit = (sent + 1) / 2;
		if (o->split_left < sent)
			o->split_left = sent;
		UNLOCKED(o, log_info("output %s: %s: sending the %zu lines in halves", o->name, r->error, sent));
		break;
	}
}

static void *sender_main(void *arg)
{
	struct output *o = arg;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		int64_t now = time_mono_ms(), until = INT64_MAX;
		size_t limit = (size_t)o->batch, n, bytes;
		struct send_result r;

		if (o->split_limit && o->split_limit < limit)
			limit = o->split_limit;
		if (o->stopping && (now >= o->deadline_ms || o->lines == 0))
			break;
		if (o->retry_at > now)
			until = o->retry_at;
		else if (o->lines == 0)
			until = INT64_MAX;
		else if (!o->stopping && o->lines < limit && now - o->head->t_ms < o->flush_ms)
			until = o->head->t_ms + o->flush_ms;
		else
			until = 0;
		if (until != 0) {
			uint64_t dropped = drops_to_log(o); /* drops the last enqueue could not report */

			if (dropped) {
				UNLOCKED(o, log_drops(o, dropped));
				continue;
			}
			if (until > now + LOG_EVERY_MS && o->drop_unlogged)
				until = now + LOG_EVERY_MS;
			if (o->stopping && until > o->deadline_ms)
				until = o->deadline_ms;
			cond_wait_until(o, until);
			continue;
		}

		n = queue_peek(o, limit, &bytes);
		o->inflight = n;
		o->evicted = 0;
		pthread_mutex_unlock(&o->mu);

		memset(&r, 0, sizeof(r));
		if (o->kind == OUT_INFLUX)
			influx_send(o, o->sendbuf, bytes, n, &r);
		else
			file_send(o, o->sendbuf, bytes, n, &r);

		pthread_mutex_lock(&o->mu);
		apply_result(o, n, &r, time_mono_ms());
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* --- public API ------------------------------------------------------ */

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

static struct output *output_alloc(enum out_kind kind, const char *name)
{
	struct output *o = xcalloc(1, sizeof(*o));
	pthread_condattr_t ca;

	o->kind = kind;
	o->name = xstrdup(name);
	o->fd = -1;
	pthread_mutex_init(&o->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cv, &ca);
	pthread_condattr_destroy(&ca);
	o->rng = (uint64_t)time_now_ns() ^ (uint64_t)(uintptr_t)o;
	return o;
}

static void output_limits(struct output *o, int batch, int64_t flush_ms, int64_t backoff_max_ms, int max_pending)
{
	o->max_lines = max_pending > 0 ? (size_t)max_pending : DEF_MAX_PENDING;
	o->batch = batch > 0 ? batch : DEF_BATCH;
	if ((size_t)o->batch > o->max_lines)
		o->batch = (int)o->max_lines;
	o->flush_ms = flush_ms > 0 ? flush_ms : DEF_FLUSH_MS;
	o->backoff_max_ms = backoff_max_ms > 0 ? backoff_max_ms : DEF_BACKOFF_MAX_MS;
	/* a line count alone does not bound memory if lines are huge */
	o->max_bytes = o->max_lines * 1024;
	if (o->max_bytes < 1024 * 1024)
		o->max_bytes = 1024 * 1024;
}

struct output *output_influx_new(const struct cc_influx_conf *conf)
{
	struct output *o;
	int r;

	if (!conf || !conf->url || !conf->database) {
		errno = EINVAL;
		return NULL;
	}
	o = output_alloc(OUT_INFLUX, conf->name ? conf->name : conf->url);
	output_limits(o, conf->batch, conf->flush_ms, conf->backoff_max_ms, conf->max_pending);
	o->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : DEF_TIMEOUT_MS;
	o->connect_timeout_ms = conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms : DEF_CONNECT_MS;
	o->url = xstrdup(conf->url);
	o->database = xstrdup(conf->database);
	o->rp = dup_or_null(conf->retention_policy);
	o->username = dup_or_null(conf->username);
	o->password = dup_or_null(conf->password);
	o->ca_file = dup_or_null(conf->ca_file);
	o->insecure = conf->insecure;
	o->gzip = conf->gzip;
	r = influx_setup(o);
	/* libcurl keeps its own copy: ours is wiped right away */
	if (o->password) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
		o->password = NULL;
	}
	if (r < 0) {
		log_err("output %s: cannot set up libcurl", o->name);
		output_free(o);
		errno = -r;
		return NULL;
	}
	return o;
}

struct output *output_file_new(const struct cc_file_out_conf *conf)
{
	struct output *o;

	if (!conf || !conf->path || !conf->path[0]) {
		errno = EINVAL;
		return NULL;
	}
	o = output_alloc(OUT_FILE, conf->name ? conf->name : conf->path);
	output_limits(o, FILE_BATCH, FILE_FLUSH_MS, 0, 0);
	o->path = xstrdup(conf->path);
	return o;
}

const char *output_name(const struct output *o)
{
	return o->name;
}

int output_start(struct output *o)
{
	sigset_t all, old;
	int r;

	pthread_mutex_lock(&o->mu);
	if (o->running) {
		pthread_mutex_unlock(&o->mu);
		return -EALREADY;
	}
	o->running = 1;
	o->stopping = 0;
	pthread_mutex_unlock(&o->mu);

	if (o->kind == OUT_INFLUX && o->insecure)
		log_warn("output %s: TLS certificate verification is DISABLED (insecure = true): "
			 "anyone on the path can read and alter the data", o->name);
	/* signals belong to the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&o->thread, NULL, sender_main, o);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		pthread_mutex_lock(&o->mu);
		o->running = 0;
		pthread_mutex_unlock(&o->mu);
		log_err("output %s: cannot start its thread: %s", o->name, strerror(r));
		return -r;
	}
	log_debug("output %s: started", o->name);
	return 0;
}

void output_stop(struct output *o, int64_t deadline_ms)
{
	pthread_mutex_lock(&o->mu);
	if (!o->running) {
		pthread_mutex_unlock(&o->mu);
		return;
	}
	o->stopping = 1;
	o->deadline_ms = deadline_ms;
	o->retry_at = 0; /* one more attempt now, whatever the backoff said */
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	if (o->multi)
		curl_multi_wakeup(o->multi); /* cuts a hung request short at the deadline */
	pthread_join(o->thread, NULL);
	pthread_mutex_lock(&o->mu);
	o->running = 0;
	o->stopping = 0;
	if (o->drop_unlogged) {
		log_warn("output %s: queue full, dropped %" PRIu64 " oldest lines", o->name, o->drop_unlogged);
		o->drop_unlogged = 0;
	}
	if (o->lines)
		log_info("output %s: stopped with %zu lines undelivered", o->name, o->lines);
	pthread_mutex_unlock(&o->mu);
}

void output_take_pending(struct output *to, struct output *from)
{
	struct chunk *head, *tail;
	size_t lines, bytes;

	if (!to || !from || to == from)
		return;
	pthread_mutex_lock(&from->mu);
	head = from->head;
	tail = from->tail;
	lines = from->lines;
	bytes = from->bytes;
	from->head = from->tail = NULL;
	from->lines = from->bytes = 0;
	from->inflight = from->evicted = 0;
	pthread_mutex_unlock(&from->mu);
	if (!head)
		return;

	pthread_mutex_lock(&to->mu);
	/* from's lines are older: they go in front (no request is in flight
	 * on them: from is stopped; to's own in-flight prefix moves back) */
	tail->next = to->head;
	to->head = head;
	if (!to->tail)
		to->tail = tail;
	to->lines += lines;
	to->bytes += bytes;
	to->inflight = 0; /* its batch is no longer a prefix: count by outcome */
	queue_trim(to);
	pthread_cond_signal(&to->cv);
	pthread_mutex_unlock(&to->mu);
}

int output_same_destination(const struct output *a, const struct output *b)
{
	size_t la, lb;

	if (!a || !b || a->kind != b->kind)
		return 0;
	if (a->kind == OUT_FILE)
		return strcmp(a->path, b->path) == 0;
	la = strlen(a->url);
	lb = strlen(b->url);
	while (la && a->url[la - 1] == '/')
		la--;
	while (lb && b->url[lb - 1] == '/')
		lb--;
	return la == lb && strncmp(a->url, b->url, la) == 0 && strcmp(a->database, b->database) == 0 &&
	       streq_null(a->rp, b->rp);
}

void output_free(struct output *o)
{
	if (!o)
		return;
	output_stop(o, time_mono_ms());
	queue_free(o->head);
	if (o->multi)
		curl_multi_cleanup(o->multi);
	if (o->easy)
		curl_easy_cleanup(o->easy);
	curl_slist_free_all(o->hdr_plain);
	curl_slist_free_all(o->hdr_gzip);
	if (o->fd >= 0 && o->fd != STDOUT_FILENO)
		close(o->fd);
	if (o->password)
		explicit_bzero(o->password, strlen(o->password));
	free(o->password);
	free(o->name);
	free(o->url);
	free(o->database);
	free(o->rp);
	free(o->username);
	free(o->ca_file);
	free(o->write_url);
	free(o->resp);
	free(o->path);
	free(o->sendbuf);
	free(o->gzbuf);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

void output_get_stats(struct output *o, struct output_stats *st)
{
	int64_t now = time_mono_ms();

	pthread_mutex_lock(&o->mu);
	*st = o->st;
	st->pending = o->lines;
	st->oldest_age_ms = o->head ? now - o->head->t_ms : 0;
	pthread_mutex_unlock(&o->mu);
}
