/* output.c - where journaled line protocol leaves the daemon: one journal
 * consumer and one sender thread per output, posting batches to InfluxDB
 * (1.x /write or the v2 API, libcurl) or appending them to a file; refused
 * lines go to a quarantine file.  The only file that includes <curl/curl.h>. */
#include "output.h"

#include <cJSON.h>
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
#include "../daemon/journal.h"
#include "../daemon/log.h"
#include "../daemon/sink.h"
#include "../daemon/util.h"
#include "../codec/lineproto.h"

#define RESP_MAX OUTPUT_RESP_MAX
#define ERRMSG_MAX 1024        /* X-Influxdb-Error kept */
#define QUAR_REASON_MAX 1024   /* reason bytes before each quarantined line (not a
                                * whole 64 KiB error body before every line) */
#define LOG_EVERY_MS 30000     /* rate limit for repeated failure messages */
#define BACKOFF_START_MS 1000
#define RETRY_AFTER_MAX_S 3600
#define READAHEAD_MIN_BYTES (4 * 1024 * 1024)

/* Defaults for values a hand-built conf may leave at 0 (config.c fills them). */
#define DEF_BATCH 5000
#define DEF_BATCH_BYTES (4 * 1024 * 1024)
#define DEF_FLUSH_MS 1000
#define DEF_TIMEOUT_MS 10000
#define DEF_CONNECT_MS 5000
#define DEF_BACKOFF_MAX_MS 60000
#define FILE_BATCH 1000
#define FILE_FLUSH_MS 100

enum out_kind { OUT_INFLUX, OUT_FILE, OUT_WEBHOOK, OUT_PUBLISHER };

/*
 * The read-ahead buffer: a list of chunks, each the lines of one journal
 * record (what is left of them), with where the consumer's position goes
 * once the chunk is done (end_lsn/end_seq: the record's end, or past the
 * event records that followed it).  Lines leave the head only once
 * delivered or quarantined; a batch being sent is a copy of the first lines.
 */
struct chunk {
	struct chunk *next;
	int64_t t_mono; /* when the record was journaled, on the monotonic clock */
	int64_t t_wall; /* the same, wall clock ms */
	uint64_t end_lsn, end_seq;
	char *data;
	size_t off, len; /* unconsumed bytes are data[off, len) */
	size_t lines;    /* unconsumed lines */
};

/* What one delivery attempt did. */
enum send_status {
	SEND_OK,     /* all lines delivered (or `done` of them) */
	SEND_RETRY,  /* transient: backoff, same lines again */
	SEND_SLOW,   /* needs an operator (no database, misconfigured): retry at backoff_max */
	SEND_AUTH,   /* 401/403: like SEND_SLOW, and an alert on the transition */
	SEND_REJECT, /* the server refused some lines (quarantined): the rest is delivered */
	SEND_SPLIT,  /* too large: send the batch in halves */
	SEND_BISECT, /* some lines refused, the answer does not say which: bisect */
};

struct send_result {
	enum send_status status;
	size_t done;     /* lines delivered or refused (SEND_OK, SEND_REJECT, partial file writes) */
	size_t rejected; /* SEND_REJECT: lines refused */
	int64_t retry_after_ms;
	char error[sizeof(((struct output_stats *)0)->last_error)];
};

struct output {
	enum out_kind kind;
	char *name, *id;
	int batch, start_oldest;
	size_t batch_bytes;
	int64_t flush_ms, timeout_ms, connect_timeout_ms, backoff_max_ms;

	/* InfluxDB */
	int v2;
	char *url, *database, *rp, *org, *bucket, *username, *password, *token, *ca_file, *quarantine;
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
	/* webhook (also uses url, ca_file, insecure and the curl handles) */
	int min_severity;
	/* publisher (implemented elsewhere: the MQTT alert publisher) */
	const struct output_publisher_ops *pub_ops;
	void *pub_arg;

	struct journal *journal;
	struct journal_consumer *cons;

	/* shared state, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *head, *tail;
	size_t lines, bytes;
	unsigned gen; /* bumped by each journal append (notify) */
	int caught_up; /* the last read found nothing more in the journal */
	uint64_t commit_lsn, commit_seq;
	int commit_dirty;
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
	int bisect;
	unsigned char *refused; /* per line of the batch being analysed */
	size_t refused_cap;
	char **reasons; /* per refused line, or NULL: the whole message */
	uint64_t rng;
	struct log_rl rl_fail, rl_reject, rl_quar;
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

/* --- read-ahead (the queue is under mu) -------------------------------- */

/* Drops the n oldest lines (delivered or quarantined); finished chunks move
 * the commit position. */
static void queue_drop_head(struct output *o, size_t n)
{
	while (n > 0 && o->head) {
		struct chunk *c = o->head;

		if (n >= c->lines) {
			n -= c->lines;
			o->lines -= c->lines;
			o->bytes -= c->len - c->off;
			o->head = c->next;
			if (!o->head)
				o->tail = NULL;
			o->commit_lsn = c->end_lsn;
			o->commit_seq = c->end_seq;
			o->commit_dirty = 1;
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

static void queue_free(struct output *o)
{
	struct chunk *c = o->head;

	while (c) {
		struct chunk *next = c->next;
		free(c->data);
		free(c);
		c = next;
	}
	o->head = o->tail = NULL;
	o->lines = o->bytes = 0;
}

/* Under mu: hands the commit position to the journal. */
static void commit_flush(struct output *o)
{
	if (o->commit_dirty && o->cons) {
		journal_commit(o->cons, o->commit_lsn, o->commit_seq);
		o->commit_dirty = 0;
	}
}

/* Copies up to max lines and about max_bytes (at least one line) from the
 * head into sendbuf; returns how many lines. */
static size_t queue_peek(struct output *o, size_t max, size_t max_bytes, size_t *bytes)
{
	size_t n = 0, b = 0;

	for (struct chunk *c = o->head; c && n < max; c = c->next) {
		const char *p = c->data + c->off, *end = c->data + c->len, *q = p;
		size_t take;

		if (c->lines <= max - n && b + (size_t)(end - p) <= max_bytes) {
			q = end;
			n += c->lines;
		} else {
			while (n < max && q < end) {
				const char *e = (const char *)memchr(q, '\n', (size_t)(end - q)) + 1;
				if (n > 0 && b + (size_t)(e - p) > max_bytes)
					break;
				q = e;
				n++;
			}
		}
		take = (size_t)(q - p);
		if (b + take > o->sendcap) {
			size_t cap = o->sendcap ? o->sendcap : 64 * 1024;
			while (cap < b + take)
				cap *= 2;
			o->sendbuf = xrealloc(o->sendbuf, cap);
			o->sendcap = cap;
		}
		memcpy(o->sendbuf + b, p, take);
		b += take;
		if (q < end)
			break;
	}
	*bytes = b;
	return n;
}

static int is_event_kind(const struct output *o)
{
	return o->kind == OUT_WEBHOOK || o->kind == OUT_PUBLISHER;
}

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

/* Is this record for this output?  Line protocol for the TSDB outputs,
 * events (at or above min_severity for a webhook) for the alert outputs. */
static int record_wanted(const struct output *o, const struct journal_rec *r)
{
	if (r->len == 0)
		return 0;
	if (!is_event_kind(o))
		return r->type == JOURNAL_LINES;
	if (r->type != JOURNAL_EVENT)
		return 0;
	return o->kind != OUT_WEBHOOK || event_severity(r->data, r->len) >= o->min_severity;
}

/* journal_append's wake-up (no journal lock held). */
static void on_journal(void *arg)
{
	struct output *o = arg;

	pthread_mutex_lock(&o->mu);
	o->gen++;
	o->caught_up = 0;
	/* An idle sender needs every wake-up; one collecting a batch only
	 * every 64th (its flush timer bounds the wait): waking it per append
	 * cost a context switch and a journal read per MQTT message. */
	if (o->lines == 0 || (o->gen & 63) == 0)
		pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

/*
 * Reads journal records into the read-ahead buffer until it holds two
 * batches' worth or the journal has nothing more (caught_up).  Called by
 * the sender with mu held; reads with it released.
 */
static void fill(struct output *o)
{
	size_t max_lines = 2 * (size_t)o->batch, max_bytes = 2 * o->batch_bytes;

	if (max_bytes < READAHEAD_MIN_BYTES)
		max_bytes = READAHEAD_MIN_BYTES;
	while (o->lines < max_lines && o->bytes < max_bytes) {
		struct journal_rec r;
		struct chunk *c;
		int got;

		o->caught_up = 0;
		pthread_mutex_unlock(&o->mu);
		got = journal_next(o->cons, &r);
		c = NULL;
		if (got && record_wanted(o, &r)) {
			int64_t age = time_now_ns() / 1000000 - r.t_ms;

			c = xcalloc(1, sizeof(*c));
			c->data = xmalloc(r.len + 1);
			memcpy(c->data, r.data, r.len);
			c->len = r.len;
			if (is_event_kind(o)) /* one event = one line: JSON needs no raw newline */
				for (size_t k = 0; k < c->len; k++)
					if (c->data[k] == '\n' || c->data[k] == '\r')
						c->data[k] = ' ';
			if (c->data[c->len - 1] != '\n') /* never glue two lines together */
				c->data[c->len++] = '\n';
			for (const char *p = c->data; (p = memchr(p, '\n', (size_t)(c->data + c->len - p))) != NULL; p++)
				c->lines++;
			c->t_wall = r.t_ms;
			c->t_mono = time_mono_ms() - (age > 0 ? age : 0);
			c->end_lsn = r.end_lsn;
			c->end_seq = r.end_seq;
		}
		pthread_mutex_lock(&o->mu);
		if (!got) {
			o->caught_up = 1;
			break;
		}
		if (c) {
			if (o->tail)
				o->tail->next = c;
			else
				o->head = c;
			o->tail = c;
			o->lines += c->lines;
			o->bytes += c->len;
		} else if (o->tail) {
			/* a record not for this output: done when the ones before it are */
			o->tail->end_lsn = r.end_lsn;
			o->tail->end_seq = r.end_seq;
		} else {
			o->commit_lsn = r.end_lsn;
			o->commit_seq = r.end_seq;
			o->commit_dirty = 1;
			commit_flush(o);
		}
	}
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

/* --- refused lines ----------------------------------------------------- */

/* The server's message: "error" (1.x) or "message" (v2) of a JSON body,
 * else X-Influxdb-Error, else the body.  Returns a malloc'd string. */
static char *server_message(const struct output *o)
{
	cJSON *root = o->resp_len && !o->resp_truncated ? cJSON_ParseWithLength(o->resp, o->resp_len) : NULL;
	const cJSON *m = root ? cJSON_GetObjectItemCaseSensitive(root, "error") : NULL;
	char *s;

	if (root && !cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(root, "message");
	if (cJSON_IsString(m))
		s = xstrdup(m->valuestring);
	else if (o->influx_err[0])
		s = xstrdup(o->influx_err);
	else
		s = xasprintf("%.*s", (int)o->resp_len, o->resp);
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

static void mark_refused(struct output *o, size_t i, const char *reason, size_t *nmarked)
{
	if (o->refused[i])
		return;
	o->refused[i] = 1;
	o->reasons[i] = reason ? xstrdup(reason) : NULL;
	(*nmarked)++;
}

/*
 * Which lines of a 400/422 did the server refuse?  InfluxDB names a line it
 * cannot parse ("unable to parse 'LINE': why") and, for points it refuses,
 * says "field type conflict: input field "F" on measurement "M" is type T,
 * already exists as type U ... dropped=N".  Marks the lines it can pin down
 * in o->refused; returns 1 when they account for every refusal the answer
 * counts, 0 when the batch has to be bisected to find them.
 */
static int attribute_refusals(struct output *o, const char *msg, const char *data, size_t len, size_t nlines)
{
	struct line_ref *lines;
	size_t n = split_lines(data, len, &lines), marked = 0, expected = 0;
	const char *p;

	if (nlines > o->refused_cap) {
		o->refused = xrealloc(o->refused, nlines);
		o->reasons = xrealloc(o->reasons, nlines * sizeof(*o->reasons));
		o->refused_cap = nlines;
	}
	memset(o->refused, 0, nlines);
	memset(o->reasons, 0, nlines * sizeof(*o->reasons));
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
				mark_refused(o, i, why, &found);
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

			if (o->refused[i] || lp_parse_line(lines[i].p, lines[i].len, &pt, &err) != 0)
				continue;
			if (strcmp(pt.measurement, meas) == 0)
				for (size_t k = 0; k < pt.nfields; k++)
					if (strcmp(pt.fields[k].key, field) == 0 &&
					    strcmp(lp_type_name(pt.fields[k].type), type) == 0) {
						mark_refused(o, i, NULL, &marked);
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

static void reasons_free(struct output *o, size_t n)
{
	for (size_t i = 0; i < n && i < o->refused_cap; i++) {
		free(o->reasons[i]);
		o->reasons[i] = NULL;
	}
}

/* Appends the refused lines to the quarantine file, each after a comment
 * with the time, the output and the server's reason (so the file can be
 * fixed and replayed: InfluxDB skips '#' lines). */
static void quarantine_write(struct output *o, const char *data, size_t len, size_t nlines, const char *msg)
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
	if (!o->quarantine) { /* (a hand-built conf) only counted */
		free(lines);
		return;
	}
	f = fopen(o->quarantine, "a");
	if (!f) {
		if (log_rl_allow(&o->rl_quar, LOG_EVERY_MS, &supp))
			log_err("output %s: quarantine %s: %s (the refused lines are only counted)", o->name,
				o->quarantine ? o->quarantine : "(none)", strerror(errno));
		free(lines);
		return;
	}
	for (size_t i = 0; i < n && i < nlines; i++) {
		const char *why;
		if (!o->refused[i])
			continue;
		why = o->reasons[i] ? o->reasons[i] : msg;
		fprintf(f, "# %s output %s: ", when, o->name);
		for (const char *c = why; *c && c - why < QUAR_REASON_MAX; c++)
			fputc(*c == '\n' || *c == '\r' ? ' ' : *c, f);
		if (strlen(why) > QUAR_REASON_MAX)
			fputs("...", f);
		fprintf(f, "\n%.*s\n", (int)lines[i].len, lines[i].p);
	}
	if (fclose(f) != 0 && log_rl_allow(&o->rl_quar, LOG_EVERY_MS, &supp))
		log_err("output %s: quarantine %s: %s", o->name, o->quarantine, strerror(errno));
	free(lines);
}
/* Marks every line of the batch refused (one line the server will never take). */
static void refuse_all(struct output *o, size_t nlines)
{
	if (nlines > o->refused_cap) {
		o->refused = xrealloc(o->refused, nlines);
		o->reasons = xrealloc(o->reasons, nlines * sizeof(*o->reasons));
		o->refused_cap = nlines;
	}
	memset(o->refused, 1, nlines);
	memset(o->reasons, 0, nlines * sizeof(*o->reasons));
}

/*
 * One POST of body on the output's handle, bounded by its timeouts (and by
 * the shutdown deadline).  Returns 0 with the HTTP status in *code, or -1
 * after a transport failure, which r already records as a retry.
 */
static int http_post(struct output *o, struct curl_slist *hdrs, const char *body, size_t len,
		     struct send_result *r, long *code, curl_off_t *retry_after)
{
	int64_t timeout = o->timeout_ms, connect = o->connect_timeout_ms, rem = remaining_ms(o);
	CURLcode res;

	if (rem < timeout) /* at shutdown the deadline bounds the request */
		timeout = rem > 1 ? rem : 1;
	if (connect > timeout)
		connect = timeout;
	o->resp_len = 0;
	o->resp_truncated = 0;
	o->influx_err[0] = '\0';
	o->curl_err[0] = '\0';
	if (hdrs)
		curl_easy_setopt(o->easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(o->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(o->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(o->easy, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(o->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);

	res = influx_perform(o);
	pthread_mutex_lock(&o->mu);
	o->st.requests++;
	pthread_mutex_unlock(&o->mu);
	if (res != CURLE_OK) {
		r->status = SEND_RETRY;
		fmt_trunc(r->error, sizeof(r->error), "%s", o->curl_err[0] ? o->curl_err : curl_easy_strerror(res));
		return -1;
	}
	curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, code);
	curl_easy_getinfo(o->easy, CURLINFO_RETRY_AFTER, retry_after);
	return 0;
}

static void influx_send(struct output *o, const char *data, size_t len, size_t nlines, struct send_result *r)
{
	const char *body = data;
	size_t body_len = len;
	struct curl_slist *hdrs = o->hdr_plain;
	long code = 0;
	curl_off_t retry_after = 0;
	char msg[200];

	if (o->gzip) {
		size_t gz = gzip_body(o, data, len);
		if (gz) {
			body = (const char *)o->gzbuf;
			body_len = gz;
			hdrs = o->hdr_gzip;
		}
	}
	if (http_post(o, hdrs, body, body_len, r, &code, &retry_after) < 0)
		return;
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
	if (code == 413 && nlines > 1) {
		r->status = SEND_SPLIT;
	} else if (code == 413 || code == 400 || code == 422) {
		char *full = server_message(o), *why = xasprintf("HTTP %ld: %s", code, full);

		if (code != 413 && nlines > 1 && !attribute_refusals(o, full, data, len, nlines)) {
			r->status = SEND_BISECT;
		} else {
			if (code == 413 || nlines == 1)
				refuse_all(o, nlines);
			r->status = SEND_REJECT;
			r->done = nlines;
			for (size_t i = 0; i < nlines; i++)
				r->rejected += o->refused[i];
			quarantine_write(o, data, len, nlines, why);
		}
		reasons_free(o, nlines);
		free(full);
		free(why);
	} else if (code == 401 || code == 403) {
		r->status = SEND_AUTH;
		fmt_trunc(r->error, sizeof(r->error), "unauthorised (HTTP %ld)%s%s", code, msg[0] ? ": " : "", msg);
	} else if (code == 404) {
		r->status = SEND_SLOW;
		if (o->v2)
			fmt_trunc(r->error, sizeof(r->error), "HTTP 404: %s (org \"%s\" and bucket \"%s\" must exist)",
				  msg[0] ? msg : "not found", o->org, o->bucket);
		else
			fmt_trunc(r->error, sizeof(r->error),
				  "HTTP 404: %s (the database must exist: CREATE DATABASE \"%s\")",
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
	char *a = NULL, *b = NULL;
	size_t ul;
	int r = -ENOMEM;

	o->easy = curl_easy_init();
	o->multi = curl_multi_init();
	if (!o->easy || !o->multi)
		goto out;
	if (o->v2) {
		a = curl_easy_escape(o->easy, o->org, 0);
		b = curl_easy_escape(o->easy, o->bucket, 0);
		if (!a || !b)
			goto out;
	} else {
		a = curl_easy_escape(o->easy, o->database, 0);
		b = o->rp ? curl_easy_escape(o->easy, o->rp, 0) : NULL;
		if (!a || (o->rp && !b))
			goto out;
	}
	ul = strlen(o->url);
	while (ul && o->url[ul - 1] == '/')
		ul--;
	if (o->v2)
		o->write_url = xasprintf("%.*s/api/v2/write?org=%s&bucket=%s&precision=ns", (int)ul, o->url, a, b);
	else
		o->write_url = xasprintf("%.*s/write?db=%s%s%s&precision=ns", (int)ul, o->url, a, b ? "&rp=" : "",
					 b ? b : "");
	o->resp = xmalloc(RESP_MAX);

	/* "Expect:" stops curl's 100-continue round trip on large bodies */
	o->hdr_plain = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	o->hdr_plain = curl_slist_append(o->hdr_plain, "Expect:");
	o->hdr_gzip = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	o->hdr_gzip = curl_slist_append(o->hdr_gzip, "Expect:");
	o->hdr_gzip = curl_slist_append(o->hdr_gzip, "Content-Encoding: gzip");
	if (o->token) {
		char *h = xasprintf("Authorization: Token %s", o->token);
		o->hdr_plain = curl_slist_append(o->hdr_plain, h);
		o->hdr_gzip = curl_slist_append(o->hdr_gzip, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
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
	curl_free(a);
	curl_free(b);
	return r;
}

/* --- alert events: webhook and publisher -------------------------------- */

/* The event's "id" (for messages), or "-". */
static void event_id(const char *json, size_t len, char *dst, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *id = root ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
	const cJSON *rule = root ? cJSON_GetObjectItemCaseSensitive(root, "rule") : NULL;

	if (cJSON_IsString(id))
		excerpt(dst, size, id->valuestring, strlen(id->valuestring));
	else if (cJSON_IsString(rule))
		excerpt(dst, size, rule->valuestring, strlen(rule->valuestring));
	else
		fmt_trunc(dst, size, "-");
	cJSON_Delete(root);
}

/* One event per request: data is the event's JSON and its '\n'. */
static void webhook_send(struct output *o, const char *data, size_t len, size_t nlines, struct send_result *r)
{
	long code = 0;
	curl_off_t retry_after = 0;
	char msg[200], id[96];

	(void)nlines;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	/* the webhook's headers are fixed at setup (NULL: leave them) */
	if (http_post(o, NULL, data, len, r, &code, &retry_after) < 0)
		return;
	if (code >= 200 && code < 300) {
		r->status = SEND_OK;
		r->done = 1;
		return;
	}
	excerpt(msg, sizeof(msg), o->resp, o->resp_len);
	event_id(data, len, id, sizeof(id));
	fmt_trunc(r->error, sizeof(r->error), "HTTP %ld%s%s (event %s)", code, msg[0] ? ": " : "", msg, id);
	if (retry_after > 0 && (code == 429 || code == 503))
		r->retry_after_ms = (retry_after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int64_t)retry_after) * 1000;
	if (code >= 500 || code == 429 || code == 408) {
		r->status = SEND_RETRY;
	} else if (code == 401 || code == 403) {
		/* wrong for every event alike: throwing this one away helps nobody */
		r->status = SEND_AUTH;
		fmt_trunc(r->error, sizeof(r->error), "unauthorised (HTTP %ld)%s%s", code, msg[0] ? ": " : "", msg);
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

static int webhook_setup(struct output *o, const struct cc_webhook_conf *conf)
{
	o->easy = curl_easy_init();
	o->multi = curl_multi_init();
	if (!o->easy || !o->multi)
		return -ENOMEM;
	o->resp = xmalloc(RESP_MAX);
	o->hdr_plain = curl_slist_append(NULL, "Content-Type: application/json");
	if (o->hdr_plain)
		o->hdr_plain = curl_slist_append(o->hdr_plain, "Expect:");
	for (size_t i = 0; o->hdr_plain && i < conf->nheaders; i++)
		o->hdr_plain = curl_slist_append(o->hdr_plain, conf->headers[i]);
	if (o->hdr_plain && conf->token) {
		char *h = xasprintf("Authorization: Bearer %s", conf->token);
		o->hdr_plain = curl_slist_append(o->hdr_plain, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	if (!o->hdr_plain)
		return -ENOMEM;
	curl_easy_setopt(o->easy, CURLOPT_URL, o->url);
	curl_easy_setopt(o->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(o->easy, CURLOPT_HTTPHEADER, o->hdr_plain);
	curl_easy_setopt(o->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(o->easy, CURLOPT_USERAGENT, "coldchaind");
	curl_easy_setopt(o->easy, CURLOPT_ERRORBUFFER, o->curl_err);
	curl_easy_setopt(o->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(o->easy, CURLOPT_WRITEDATA, o);
	curl_easy_setopt(o->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(o->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(o->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (o->ca_file)
		curl_easy_setopt(o->easy, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(o->easy, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
	curl_easy_setopt(o->easy, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
	return 0;
}

static void publisher_send(struct output *o, const char *data, size_t len, struct send_result *r)
{
	int64_t timeout = o->timeout_ms, rem = remaining_ms(o);
	int e;

	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (rem < timeout)
		timeout = rem > 1 ? rem : 1;
	e = o->pub_ops->publish(o->pub_arg, data, len, timeout, r->error, sizeof(r->error));
	pthread_mutex_lock(&o->mu);
	o->st.requests++;
	pthread_mutex_unlock(&o->mu);
	if (e == 0) {
		r->status = SEND_OK;
		r->done = 1;
	} else if (e == -EINVAL) {
		r->status = SEND_REJECT;
		r->done = 1;
		r->rejected = 1;
	} else {
		r->status = SEND_RETRY;
	}
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

/* The alert raised (and cleared) when the server stops (and resumes)
 * accepting our credentials; written to the journal like any event. */
static void auth_event(struct output *o, int active, const char *error)
{
	cJSON *ev = cJSON_CreateObject();
	char *json;

	cJSON_AddStringToObject(ev, "rule", "output_unauthorised");
	cJSON_AddStringToObject(ev, "severity", "critical");
	cJSON_AddStringToObject(ev, "state", active ? "active" : "cleared");
	cJSON_AddStringToObject(ev, "output", o->name);
	cJSON_AddStringToObject(ev, "message",
				active ? error : "the server accepts the output's credentials again");
	cJSON_AddNumberToObject(ev, "ts_ms", (double)(time_now_ns() / 1000000));
	json = cJSON_PrintUnformatted(ev);
	if (json) {
		sink_submit_event(json, strlen(json));
		cJSON_free(json);
	}
	cJSON_Delete(ev);
}

/*
 * Applies the outcome of a request to the queue and the counters (under mu).
 * The batch was lines [0, sent) of the queue; [0, done) are finished with
 * (delivered, or refused and quarantined).
 */
static void apply_result(struct output *o, size_t sent, struct send_result *r, int64_t now)
{
	uint32_t supp = 0;

	if (r->done > sent)
		r->done = sent;
	queue_drop_head(o, r->done);
	commit_flush(o);
	o->st.written += r->done - r->rejected;
	o->st.rejected += r->rejected;

	switch (r->status) {
	case SEND_OK:
	case SEND_REJECT:
		if (r->status == SEND_OK) {
			o->st.last_ok_ms = now;
		} else {
			fmt_trunc(o->st.last_error, sizeof(o->st.last_error), "%s", r->error);
			if (is_event_kind(o))
				UNLOCKED(o, log_warn("output %s: event refused, skipped: %s", o->name, r->error));
			else if (log_rl_allow(&o->rl_reject, LOG_EVERY_MS, &supp))
				UNLOCKED(o, log_warn("output %s: server refused %zu of %zu lines (quarantined in %s): "
						     "%s%s", o->name, r->rejected, sent,
						     o->quarantine ? o->quarantine : "-", r->error,
						     supp ? " (earlier refusals suppressed)" : ""));
		}
		if (o->split_left) {
			o->split_left = o->split_left > sent ? o->split_left - sent : 0;
			if (o->bisect && o->split_limit < (size_t)o->batch)
				o->split_limit *= 2; /* past the bad line: grow back */
			if (!o->split_left) {
				o->split_limit = 0;
				o->bisect = 0;
			}
		}
		o->retry_at = 0;
		o->st.unauthorised = 0;
		if (o->failures) {
			unsigned f = o->failures;

			o->failures = 0;
			o->rl_fail.last_ms = 0; /* the next outage is logged at once */
			UNLOCKED(o, log_info("output %s: delivering again after %u failures", o->name, f));
		}
		break;
	case SEND_RETRY:
	case SEND_SLOW:
	case SEND_AUTH: {
		int64_t d;

		o->st.retried++;
		o->failures++;
		d = backoff_ms(o, r->status != SEND_RETRY);
		if (r->retry_after_ms > d)
			d = r->retry_after_ms;
		o->retry_at = now + d;
		o->st.unauthorised = r->status == SEND_AUTH;
		fmt_trunc(o->st.last_error, sizeof(o->st.last_error), "%s", r->error);
		if (log_rl_allow(&o->rl_fail, LOG_EVERY_MS, &supp))
			UNLOCKED(o, log_warn("output %s: %s%s", o->name, r->error,
					     supp ? " (repeated failures suppressed)" : ""));
		break;
	}
	case SEND_SPLIT:
	case SEND_BISECT:
		o->split_limit = (sent + 1) / 2;
		if (o->split_left < sent)
			o->split_left = sent;
		o->bisect = r->status == SEND_BISECT;
		UNLOCKED(o, log_info("output %s: %s: sending the %zu lines in halves%s", o->name, r->error, sent,
				     r->status == SEND_BISECT ? " to find the refused ones" : ""));
		break;
	}
}

static void *sender_main(void *arg)
{
	struct output *o = arg;
	int was_unauthorised = 0;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		int64_t now, until;
		size_t limit = (size_t)o->batch, n, bytes;
		unsigned gen = o->gen;
		struct send_result r;

		fill(o);
		now = time_mono_ms();
		if (o->split_limit && o->split_limit < limit)
			limit = o->split_limit;
		if (o->stopping && (now >= o->deadline_ms || (o->lines == 0 && o->caught_up)))
			break;
		if (o->retry_at > now)
			until = o->retry_at;
		else if (o->lines == 0)
			until = o->caught_up ? INT64_MAX : 0;
		else if (!o->stopping && !o->split_left && o->caught_up && o->lines < limit &&
			 o->bytes < o->batch_bytes && now - o->head->t_mono < o->flush_ms)
			until = o->head->t_mono + o->flush_ms;
		else
			until = -1; /* send now */
		if (until >= 0) {
			if (until == 0 || o->gen != gen)
				continue; /* more to read */
			if (o->stopping && until > o->deadline_ms)
				until = o->deadline_ms;
			cond_wait_until(o, until);
			continue;
		}

		n = queue_peek(o, limit, o->batch_bytes, &bytes);
		pthread_mutex_unlock(&o->mu);

		memset(&r, 0, sizeof(r));
		if (o->kind == OUT_INFLUX)
			influx_send(o, o->sendbuf, bytes, n, &r);
		else if (o->kind == OUT_WEBHOOK)
			webhook_send(o, o->sendbuf, bytes, n, &r);
		else if (o->kind == OUT_PUBLISHER)
			publisher_send(o, o->sendbuf, bytes, &r);
		else
			file_send(o, o->sendbuf, bytes, n, &r);
		if (r.status == SEND_AUTH && !was_unauthorised) {
			was_unauthorised = 1;
			log_err("output %s: %s: raising alert output_unauthorised", o->name, r.error);
			auth_event(o, 1, r.error);
		} else if ((r.status == SEND_OK || r.status == SEND_REJECT) && was_unauthorised) {
			was_unauthorised = 0;
			log_info("output %s: the server accepts our credentials again", o->name);
			auth_event(o, 0, NULL);
		}

		pthread_mutex_lock(&o->mu);
		apply_result(o, n, &r, time_mono_ms());
	}
	commit_flush(o);
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

static void output_limits(struct output *o, int batch, uint64_t batch_bytes, int64_t flush_ms, int64_t backoff_max_ms)
{
	o->batch = batch > 0 ? batch : DEF_BATCH;
	o->batch_bytes = batch_bytes > 0 ? (size_t)batch_bytes : DEF_BATCH_BYTES;
	o->flush_ms = flush_ms > 0 ? flush_ms : DEF_FLUSH_MS;
	o->backoff_max_ms = backoff_max_ms > 0 ? backoff_max_ms : DEF_BACKOFF_MAX_MS;
}

struct output *output_influx_new(const struct cc_influx_conf *conf)
{
	struct output *o;
	size_t ul;
	int r;

	if (!conf || !conf->url || (conf->v2 ? !conf->org || !conf->bucket : !conf->database)) {
		errno = EINVAL;
		return NULL;
	}
	o = output_alloc(OUT_INFLUX, conf->name ? conf->name : conf->url);
	output_limits(o, conf->batch, conf->batch_bytes, conf->flush_ms, conf->backoff_max_ms);
	o->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : DEF_TIMEOUT_MS;
	o->connect_timeout_ms = conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms : DEF_CONNECT_MS;
	o->v2 = conf->v2;
	o->url = xstrdup(conf->url);
	o->database = dup_or_null(conf->database);
	o->rp = dup_or_null(conf->retention_policy);
	o->org = dup_or_null(conf->org);
	o->bucket = dup_or_null(conf->bucket);
	o->username = dup_or_null(conf->username);
	o->password = dup_or_null(conf->password);
	o->token = dup_or_null(conf->token);
	o->ca_file = dup_or_null(conf->ca_file);
	o->quarantine = dup_or_null(conf->quarantine);
	o->insecure = conf->insecure;
	o->gzip = conf->gzip;
	o->start_oldest = conf->start_oldest;
	ul = strlen(o->url);
	while (ul && o->url[ul - 1] == '/')
		ul--;
	if (o->v2)
		o->id = xasprintf("influxdb2 %s %.*s %s %s", o->name, (int)ul, o->url, o->org, o->bucket);
	else
		o->id = xasprintf("influxdb %s %.*s %s %s", o->name, (int)ul, o->url, o->database, o->rp ? o->rp : "-");
	r = influx_setup(o);
	/* libcurl keeps its own copies: ours are wiped right away */
	if (o->password) {
		explicit_bzero(o->password, strlen(o->password));
		free(o->password);
		o->password = NULL;
	}
	if (o->token) {
		explicit_bzero(o->token, strlen(o->token));
		free(o->token);
		o->token = NULL;
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
	output_limits(o, FILE_BATCH, 0, FILE_FLUSH_MS, 0);
	o->path = xstrdup(conf->path);
	o->start_oldest = conf->start_oldest;
	o->id = xasprintf("file %s %s", o->name, o->path);
	return o;
}

struct output *output_webhook_new(const struct cc_webhook_conf *conf)
{
	struct output *o;
	int r;

	if (!conf || !conf->url) {
		errno = EINVAL;
		return NULL;
	}
	o = output_alloc(OUT_WEBHOOK, conf->name ? conf->name : conf->url);
	output_limits(o, 1, 0, DEF_FLUSH_MS, conf->backoff_max_ms); /* one event per request */
	o->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : DEF_TIMEOUT_MS;
	o->connect_timeout_ms = o->timeout_ms < DEF_CONNECT_MS ? o->timeout_ms : DEF_CONNECT_MS;
	o->url = xstrdup(conf->url);
	o->ca_file = dup_or_null(conf->ca_file);
	o->insecure = conf->insecure;
	o->min_severity = conf->min_severity;
	o->start_oldest = conf->start_oldest;
	o->id = xasprintf("webhook %s %s", o->name, o->url);
	r = webhook_setup(o, conf);
	if (r < 0) {
		log_err("output %s: cannot set up libcurl", o->name);
		output_free(o);
		errno = -r;
		return NULL;
	}
	return o;
}

struct output *output_publisher_new(const char *name, const char *id, int start_oldest, int64_t backoff_max_ms,
				    const struct output_publisher_ops *ops, void *arg)
{
	struct output *o;

	if (!name || !id || !ops || !ops->publish) {
		errno = EINVAL;
		return NULL;
	}
	o = output_alloc(OUT_PUBLISHER, name);
	output_limits(o, 1, 0, DEF_FLUSH_MS, backoff_max_ms);
	o->timeout_ms = DEF_TIMEOUT_MS;
	o->start_oldest = start_oldest;
	o->id = xstrdup(id);
	o->pub_ops = ops;
	o->pub_arg = arg;
	return o;
}

const char *output_name(const struct output *o)
{
	return o->name;
}

const char *output_id(const struct output *o)
{
	return o->id;
}

int output_start(struct output *o, struct journal *j)
{
	sigset_t all, old;
	char cname[64];
	int r;

	pthread_mutex_lock(&o->mu);
	if (o->running || !j) {
		pthread_mutex_unlock(&o->mu);
		return o->running ? -EALREADY : -EINVAL;
	}
	pthread_mutex_unlock(&o->mu);
	/* a name is [A-Za-z0-9._-] from the config; a path-derived one is not */
	snprintf(cname, sizeof(cname), "%s", o->name);
	for (char *p = cname; *p; p++)
		if (!(((*p | 32) >= 'a' && (*p | 32) <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '_';
	o->cons = journal_consumer_open(j, cname, o->id, o->start_oldest, on_journal, o);
	if (!o->cons) {
		r = -errno;
		log_err("output %s: cannot open its journal position: %s", o->name, strerror(errno));
		return r;
	}
	pthread_mutex_lock(&o->mu);
	o->journal = j;
	o->running = 1;
	o->stopping = 0;
	o->caught_up = 0;
	pthread_mutex_unlock(&o->mu);

	if ((o->kind == OUT_INFLUX || o->kind == OUT_WEBHOOK) && o->insecure)
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
		journal_consumer_close(o->cons);
		o->cons = NULL;
		log_err("output %s: cannot start its thread: %s", o->name, strerror(r));
		return -r;
	}
	log_debug("output %s: started", o->name);
	return 0;
}

void output_stop(struct output *o, int64_t deadline_ms)
{
	struct journal_consumer_stats cs;

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
	commit_flush(o);
	journal_consumer_get_stats(o->cons, &cs);
	o->st.pending = cs.pending_lines;
	o->st.pending_bytes = cs.pending_bytes;
	o->st.dropped = cs.dropped;
	queue_free(o);
	pthread_mutex_unlock(&o->mu);
	if (cs.pending_lines)
		log_info("output %s: stopped with %" PRIu64 " lines undelivered (kept in the journal)", o->name,
			 cs.pending_lines);
	journal_consumer_close(o->cons);
	o->cons = NULL;
}

int output_same_destination(const struct output *a, const struct output *b)
{
	size_t la, lb;

	if (!a || !b || a->kind != b->kind)
		return 0;
	if (a->kind == OUT_FILE)
		return strcmp(a->path, b->path) == 0;
	if (a->kind == OUT_WEBHOOK)
		return strcmp(a->url, b->url) == 0;
	if (a->kind == OUT_PUBLISHER)
		return strcmp(a->id, b->id) == 0;
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

void output_free(struct output *o)
{
	if (!o)
		return;
	output_stop(o, time_mono_ms());
	queue_free(o);
	if (o->pub_ops && o->pub_ops->destroy)
		o->pub_ops->destroy(o->pub_arg);
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
	free(o->token);
	free(o->name);
	free(o->id);
	free(o->url);
	free(o->database);
	free(o->rp);
	free(o->org);
	free(o->bucket);
	free(o->username);
	free(o->ca_file);
	free(o->quarantine);
	free(o->write_url);
	free(o->resp);
	free(o->path);
	free(o->sendbuf);
	free(o->gzbuf);
	free(o->refused);
	free(o->reasons);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

void output_get_stats(struct output *o, struct output_stats *st)
{
	struct journal_consumer_stats cs;
	int64_t now = time_now_ns() / 1000000;

	pthread_mutex_lock(&o->mu);
	*st = o->st;
	if (o->cons) {
		journal_consumer_get_stats(o->cons, &cs);
		st->pending = cs.pending_lines;
		st->pending_bytes = cs.pending_bytes;
		st->dropped = cs.dropped;
	}
	st->oldest_age_ms = o->head && now > o->head->t_wall ? now - o->head->t_wall : 0;
	pthread_mutex_unlock(&o->mu);
}
