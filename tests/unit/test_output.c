/* test_output.c - the backends (outputs/influx.c, file.c, webhook.c) and their
 * status policy through the delivery core, against a scripted HTTP server on
 * loopback (tests/unit/http_stub.h): delivery, retry, Retry-After, split,
 * reject, shutdown against a hung server, overflow, gzip; the file output;
 * and the webhook (one alert event per POST) with its status policy.  The
 * real-influxd run is the integration suite's. */
#include "../../outputs/output.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "../../daemon/config.h"
#include "../../daemon/journal.h"
#include "../../daemon/pipeline.h"
#include "../../daemon/util.h"
#include "../../outputs/influx_query.h"
#include "http_stub.h"
#include "testlib.h"

#define SAFETY_MS 30000 /* waits give up after this: a hang guard, not a speed limit */

static struct stub_reply reply(int status)
{
	struct stub_reply r = { .status = status };
	return r;
}

static char url[64];
static char quarantine[96]; /* in the test's journal dir */
static char db[] = "coldchain";
static char name[] = "stub";

static struct cc_influx_conf conf_for(const struct http_stub *s, int batch)
{
	struct cc_influx_conf c;

	memset(&c, 0, sizeof(c));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	c.name = name;
	c.url = url;
	c.database = db;
	c.batch = batch;
	c.flush_ms = 60000; /* batches leave by size unless a test says otherwise */
	c.timeout_ms = 10000;
	c.connect_timeout_ms = 5000;
	c.backoff_max_ms = 100; /* keeps retries quick; backoff starts at min(1 s, max) */
	c.quarantine = quarantine;
	return c;
}

/* Each test gets a fresh journal in a temp dir (outputs read from it). */
static struct journal *J;
static char jdir[64];

static void jsetup(void)
{
	struct journal_conf jc = { .dir = jdir, .max_size = 64 << 20, .segment_size = 16 << 20, .fsync_ms = 1000 };

	if (tl_mkdtemp(jdir, sizeof(jdir), "test-output") < 0)
		abort();
	J = journal_open(&jc);
	if (!J)
		abort();
	pipeline_set_journal(J);
	snprintf(quarantine, sizeof(quarantine), "%s/quarantine.lp", jdir);
}

static void jteardown(void)
{
	pipeline_set_journal(NULL);
	journal_close(J);
	J = NULL;
	tl_rmtree(jdir);
}

#define RUNJ(fn)                                                                                  \
	do {                                                                                      \
		jsetup();                                                                         \
		RUN(fn);                                                                          \
		jteardown();                                                                      \
	} while (0)

/* Journals lines, as a source does (the output reads them from there). */
static void append_str(const char *s)
{
	uint32_t n = 0;

	for (const char *p = s; *p; p++)
		n += *p == '\n';
	CHECK_INT(journal_append(J, JOURNAL_LINES, s, strlen(s), n), 0);
}

static void enqueue_str(struct output *o, const char *s)
{
	(void)o;
	append_str(s);
}

static int has(const struct journal_rec *r, const char *s)
{
	return memmem(r->data, r->len, s, strlen(s)) != NULL;
}

static int start(struct output *o)
{
	return output_start(o, J);
}

/* Polls the counters until pred holds (readiness, not timing). */
static int wait_stats(struct output *o, int (*pred)(const struct output_stats *, uint64_t), uint64_t arg,
		      struct output_stats *st)
{
	int64_t until = time_mono_ms() + SAFETY_MS;

	for (;;) {
		output_get_stats(o, st);
		if (pred(st, arg))
			return 1;
		if (time_mono_ms() > until)
			return 0;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
}

static int written_is(const struct output_stats *st, uint64_t n) { return st->written == n; }
static int written_at_least(const struct output_stats *st, uint64_t n) { return st->written >= n; }
static int rejected_is(const struct output_stats *st, uint64_t n) { return st->rejected == n; }
static int retried_at_least(const struct output_stats *st, uint64_t n) { return st->retried >= n; }
static int settled(const struct output_stats *st, uint64_t n) { return st->written + st->rejected == n && st->pending == 0; }

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void stop_now(struct output *o)
{
	output_stop(o, time_mono_ms() + 5000);
}

/* The quarantine file's text ("" when there is none), cut to len - 1 bytes. */
static void read_quarantine(char *buf, size_t len)
{
	FILE *f = fopen(quarantine, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Asserts that r's body is gzip and inflates to exactly want[0..len-1]. */
static void check_gunzips_to(const struct stub_req *r, const char *want, size_t len)
{
	char out[16384];
	z_stream z;

	memset(&z, 0, sizeof(z));
	CHECK_INT(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)r->body;
	z.avail_in = (uInt)r->body_len;
	z.next_out = (Bytef *)out;
	z.avail_out = sizeof(out);
	CHECK_INT(inflate(&z, Z_FINISH), Z_STREAM_END);
	CHECK_INT(z.total_out, len);
	CHECK(len <= sizeof(out) && memcmp(out, want, len) == 0);
	inflateEnd(&z);
}

/* --- fixture: a scripted stub server and the output under test ------------ */

/* One test's world: the stub on loopback, the conf aimed at it, and the
 * output made from that conf, reading the test's journal (RUNJ). */
struct fx {
	struct http_stub s;
	struct cc_influx_conf c;   /* an influx output's */
	struct cc_webhook_conf wc; /* a webhook's */
	struct output *o;          /* NULL until fx_start */
	int serving;               /* s runs until fx_stop_serving or fx_teardown */
};

/* The stub answers script[0..n-1] in turn, then dflt to every later request. */
static void fx_stub(struct fx *f, const struct stub_reply *script, size_t n, struct stub_reply dflt)
{
	memset(f, 0, sizeof(*f));
	CHECK_INT(stub_start(&f->s, script, n, dflt), 0);
	f->serving = 1;
}

/* The stub, and f->c aimed at it (batch lines a request): for a test that
 * changes the conf before fx_start. */
static void fx_serve(struct fx *f, const struct stub_reply *script, size_t n, struct stub_reply dflt, int batch)
{
	fx_stub(f, script, n, dflt);
	f->c = conf_for(&f->s, batch);
}

/* o, made from f's conf, becomes the output under test, started. */
static void fx_start(struct fx *f, struct output *o)
{
	f->o = o;
	CHECK(o != NULL);
	CHECK_INT(start(o), 0);
}

/* The usual arrangement: an influx output (batch lines a request) started
 * against a stub that answers script, then 204. */
static void fx_influx(struct fx *f, const struct stub_reply *script, size_t n, int batch)
{
	fx_serve(f, script, n, reply(204), batch);
	fx_start(f, output_influx_new(&f->c));
}

/* From now on the stub's port refuses connections. */
static void fx_stop_serving(struct fx *f)
{
	stub_stop(&f->s);
	f->serving = 0;
}

static void fx_teardown(struct fx *f)
{
	if (f->o) {
		stop_now(f->o); /* nothing to do if the test stopped it */
		output_free(f->o);
	}
	if (f->serving)
		stub_stop(&f->s);
}

static void test_204_delivers_lines_and_counts_them_written(void)
{
	struct fx f;
	struct output_stats st;
	char dbname[] = "cold chain", rp[] = "one/week", user[] = "user", pass[] = "secret";

	fx_serve(&f, NULL, 0, reply(204), 3);
	f.c.database = dbname;
	f.c.retention_policy = rp;
	f.c.username = user;
	f.c.password = pass;
	fx_start(&f, output_influx_new(&f.c));
	CHECK_STR(output_name(f.o), "stub");
	enqueue_str(f.o, "m v=1 1\nm v=2 2\n");
	enqueue_str(f.o, "m v=3 3\n");
	CHECK_INT(stub_wait(&f.s, 1, SAFETY_MS), 1);
	if (!f.s.req[0].head) { /* nothing came: fail here, not on a NULL head below */
		fx_teardown(&f);
		return;
	}
	CHECK_STR(f.s.req[0].body, "m v=1 1\nm v=2 2\nm v=3 3\n");
	CHECK(starts_with(f.s.req[0].head, "POST /write?db=cold%20chain&rp=one%2Fweek&precision=ns HTTP/1.1\r\n"));
	CHECK(strstr(f.s.req[0].head, "Content-Type: text/plain") != NULL);
	CHECK(strstr(f.s.req[0].head, "Authorization: Basic dXNlcjpzZWNyZXQ=") != NULL); /* user:secret */
	CHECK(strstr(f.s.req[0].head, "Content-Encoding") == NULL);
	CHECK(wait_stats(f.o, written_is, 3, &st));
	CHECK_INT(st.pending, 0);
	CHECK_INT(st.requests, 1);
	CHECK_INT(st.retried, 0);
	CHECK(st.last_ok_ms > 0);
	stop_now(f.o);
	CHECK_INT(stub_count(&f.s), 1);
	fx_teardown(&f);
}

static void test_a_young_partial_batch_leaves_after_flush(void)
{
	struct fx f;
	struct output_stats st;

	fx_serve(&f, NULL, 0, reply(204), 1000);
	f.c.flush_ms = 50;
	fx_start(&f, output_influx_new(&f.c));
	enqueue_str(f.o, "m v=1 1\n");
	CHECK_INT(stub_wait(&f.s, 1, SAFETY_MS), 1);
	CHECK(wait_stats(f.o, written_is, 1, &st));
	fx_teardown(&f);
}

static void test_500_then_204_retries_and_delivers_each_line_exactly_once(void)
{
	struct stub_reply script[] = { { .status = 500, .body = "{\"error\":\"engine: timeout\"}" }, reply(204) };
	struct fx f;
	struct output_stats st;

	fx_influx(&f, script, 2, 2);
	enqueue_str(f.o, "m v=1 1\nm v=2 2\n");
	CHECK_INT(stub_wait(&f.s, 2, SAFETY_MS), 2);
	CHECK_STR(f.s.req[0].body, "m v=1 1\nm v=2 2\n");
	CHECK_STR(f.s.req[1].body, "m v=1 1\nm v=2 2\n");
	CHECK(wait_stats(f.o, written_is, 2, &st));
	CHECK_INT(st.retried, 1);
	CHECK_INT(st.requests, 2);
	CHECK_INT(st.pending, 0);
	CHECK(strstr(st.last_error, "HTTP 500") != NULL && strstr(st.last_error, "engine: timeout") != NULL);
	stop_now(f.o);
	CHECK_INT(stub_count(&f.s), 2); /* nothing left to send twice */
	fx_teardown(&f);
}

static void test_429_retry_after_is_honoured(void)
{
	struct stub_reply script[] = { { .status = 429, .headers = "Retry-After: 1\r\n" }, reply(204) };
	struct fx f;
	struct output_stats st;

	fx_influx(&f, script, 2, 1); /* backoff alone would wait <= 100 ms */
	enqueue_str(f.o, "m v=1 1\n");
	CHECK_INT(stub_wait(&f.s, 2, SAFETY_MS), 2);
	CHECK(f.s.req[1].t_ms - f.s.req[0].t_ms >= 1000);
	CHECK_STR(f.s.req[1].body, "m v=1 1\n");
	CHECK(wait_stats(f.o, written_is, 1, &st));
	CHECK_INT(st.retried, 1);
	fx_teardown(&f);
}

static void test_413_splits_the_batch_in_halves(void)
{
	struct stub_reply script[] = { { .status = 413, .body = "{\"error\":\"Request Entity Too Large\"}" } };
	struct fx f;
	struct output_stats st;

	fx_influx(&f, script, 1, 4);
	enqueue_str(f.o, "m v=1 1\nm v=2 2\nm v=3 3\nm v=4 4\n");
	CHECK_INT(stub_wait(&f.s, 3, SAFETY_MS), 3);
	CHECK_STR(f.s.req[0].body, "m v=1 1\nm v=2 2\nm v=3 3\nm v=4 4\n");
	CHECK_STR(f.s.req[1].body, "m v=1 1\nm v=2 2\n");
	CHECK_STR(f.s.req[2].body, "m v=3 3\nm v=4 4\n");
	CHECK(wait_stats(f.o, written_is, 4, &st));
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.pending, 0);
	/* whole batches again afterwards */
	enqueue_str(f.o, "m v=5 5\nm v=6 6\nm v=7 7\nm v=8 8\n");
	CHECK_INT(stub_wait(&f.s, 4, SAFETY_MS), 4);
	CHECK_STR(f.s.req[3].body, "m v=5 5\nm v=6 6\nm v=7 7\nm v=8 8\n");
	fx_teardown(&f);
}

static void test_413_on_a_single_line_rejects_only_that_line(void)
{
	struct fx f;
	struct output_stats st;

	fx_serve(&f, NULL, 0, reply(413), 2); /* 413 to every request */
	fx_start(&f, output_influx_new(&f.c));
	enqueue_str(f.o, "big v=1 1\nbig v=2 2\n");
	CHECK(wait_stats(f.o, settled, 2, &st));
	CHECK_INT(st.rejected, 2);
	CHECK_INT(st.written, 0);
	CHECK_INT(stub_count(&f.s), 3); /* 2 lines, then 1 + 1 */
	fx_teardown(&f);
}

static void test_400_rejects_the_batch_and_moves_on(void)
{
	struct stub_reply script[] = {
		{ .status = 400,
		  .headers = "X-Influxdb-Error: unable to parse 'm v=x 1': invalid boolean\r\n",
		  .body = "{\"error\":\"unable to parse 'm v=x 1': invalid boolean\\nunable to parse 'm v=y 2': "
			  "invalid boolean\"}" },
		reply(204),
	};
	struct fx f;
	struct output_stats st;

	fx_influx(&f, script, 2, 2);
	enqueue_str(f.o, "m v=x 1\nm v=y 2\n");
	CHECK(wait_stats(f.o, rejected_is, 2, &st));
	CHECK_INT(st.written, 0);
	CHECK_INT(st.retried, 0);
	CHECK(strstr(st.last_error, "HTTP 400: unable to parse") != NULL);
	enqueue_str(f.o, "m v=1 3\nm v=2 4\n");
	CHECK_INT(stub_wait(&f.s, 2, SAFETY_MS), 2);
	CHECK_STR(f.s.req[1].body, "m v=1 3\nm v=2 4\n");
	CHECK(wait_stats(f.o, written_is, 2, &st));
	CHECK_INT(st.rejected, 2);
	CHECK_INT(st.pending, 0);
	fx_teardown(&f);
}

static void test_400_partial_write_counts_only_the_refused_lines(void)
{
	struct stub_reply script[] = {
		{ .status = 400,
		  .body = "{\"error\":\"partial write: field type conflict: input field \\\"v\\\" on measurement "
			  "\\\"m\\\" is type string, already exists as type float dropped=1\"}" },
		{ .status = 400,
		  .body = "{\"error\":\"partial write:\\nunable to parse 'm v= 5': missing field value dropped=0\"}" },
	};
	struct fx f;
	struct output_stats st;
	char buf[2048];

	fx_influx(&f, script, 2, 3);
	enqueue_str(f.o, "m v=1 1\nm v=\"s\" 2\nm v=2 3\n");
	CHECK(wait_stats(f.o, settled, 3, &st));
	CHECK_INT(st.rejected, 1);
	CHECK_INT(st.written, 2);
	enqueue_str(f.o, "m v=1 4\nm v= 5\nm v=2 6\n");
	CHECK(wait_stats(f.o, settled, 6, &st));
	CHECK_INT(st.rejected, 2);
	CHECK_INT(st.written, 4);
	read_quarantine(buf, sizeof(buf));
	/* each refused line after a comment with the server's reason; no other line */
	CHECK(strstr(buf, "field type conflict") != NULL && strstr(buf, "\nm v=\"s\" 2\n") != NULL);
	CHECK(strstr(buf, "missing field value\nm v= 5\n") != NULL);
	CHECK(strstr(buf, "m v=1 ") == NULL && strstr(buf, "m v=2 ") == NULL);
	fx_teardown(&f);
}

static void test_401_keeps_the_data_and_retries(void)
{
	struct stub_reply script[] = {
		{ .status = 401, .body = "{\"error\":\"authorization failed\"}" },
		{ .status = 403, .body = "{\"error\":\"forbidden\"}" },
		reply(204),
	};
	struct fx f;
	struct output_stats st;
	struct journal_consumer *jc;
	struct journal_rec r;
	int active = 0, cleared = 0;

	fx_influx(&f, script, 3, 1);
	enqueue_str(f.o, "m v=1 1\n");
	CHECK(wait_stats(f.o, written_is, 1, &st));
	CHECK_INT(st.retried, 2);
	CHECK_INT(st.rejected, 0);
	CHECK(strstr(st.last_error, "unauthorised") != NULL);
	CHECK_STR(f.s.req[2].body, "m v=1 1\n");
	jc = journal_consumer_open(J, "t", "test reader", 1, NULL, NULL);
	while (journal_next(jc, &r) == 1)
		if (r.type == JOURNAL_EVENT && has(&r, "\"rule\":\"output_unauthorised\"")) {
			active += has(&r, "\"active\"");
			cleared += has(&r, "\"cleared\"");
			CHECK(has(&r, "\"severity\":\"critical\""));
			CHECK(has(&r, "\"output\":\"stub\""));
		}
	CHECK_INT(active, 1); /* once per transition, not per retry */
	CHECK_INT(cleared, 1);
	journal_consumer_close(jc);
	fx_teardown(&f);
}

static void test_404_database_not_found_keeps_the_data(void)
{
	struct stub_reply script[] = {
		{ .status = 404, .body = "{\"error\":\"database not found: \\\"coldchain\\\"\"}" },
		reply(204),
	};
	struct fx f;
	struct output_stats st;

	fx_influx(&f, script, 2, 1);
	enqueue_str(f.o, "m v=1 1\n");
	CHECK(wait_stats(f.o, written_is, 1, &st));
	CHECK_INT(st.retried, 1);
	CHECK(strstr(st.last_error, "CREATE DATABASE") != NULL);
	fx_teardown(&f);
}

static void test_stop_returns_by_the_deadline_when_the_server_hangs(void)
{
	struct stub_reply script[] = { { .hang = 1 } };
	struct fx f;
	struct output_stats st;
	int64_t deadline, returned;

	fx_serve(&f, script, 1, reply(204), 2);
	f.c.timeout_ms = 600000; /* curl alone would wait ten minutes */
	fx_start(&f, output_influx_new(&f.c));
	enqueue_str(f.o, "m v=1 1\nm v=2 2\n");
	CHECK_INT(stub_wait(&f.s, 1, SAFETY_MS), 1);
	deadline = time_mono_ms() + 300;
	output_stop(f.o, deadline);
	returned = time_mono_ms();
	CHECK(returned >= deadline);
	CHECK(returned - deadline < 5000); /* generous: the point is "not ten minutes" */
	output_get_stats(f.o, &st);
	CHECK_INT(st.pending, 2); /* left for a replacement output */
	CHECK_INT(st.written, 0);
	fx_teardown(&f);
}

static void test_stop_delivers_what_is_queued_before_returning(void)
{
	struct fx f;
	struct output_stats st;

	fx_influx(&f, NULL, 0, 1000); /* neither batch size nor age would send it */
	enqueue_str(f.o, "m v=1 1\n");
	output_stop(f.o, time_mono_ms() + SAFETY_MS);
	output_get_stats(f.o, &st);
	CHECK_INT(st.written, 1);
	CHECK_INT(st.pending, 0);
	fx_teardown(&f);
}

static void test_journal_cap_drops_the_oldest_counts_them_and_delivers_the_newest(void)
{
	struct stub_reply script[] = { { .hang = 1 } };
	struct fx f;
	struct output_stats st;
	struct journal_stats js;
	char line[64], last[64];

	/* a tiny journal: 4 KiB segments, 8 KiB cap */
	journal_set_limits(J, 8192, 4096, 1000);
	fx_serve(&f, script, 1, reply(204), 2);
	f.c.timeout_ms = 600000;
	fx_start(&f, output_influx_new(&f.c));
	append_str("m v=0 0\nm v=0 1\n");
	CHECK_INT(stub_wait(&f.s, 1, SAFETY_MS), 1); /* hangs: nothing leaves meanwhile */
	for (int i = 1; i <= 2000; i++) {
		snprintf(line, sizeof(line), "m v=%d %d\n", i, i);
		append_str(line);
	}
	snprintf(last, sizeof(last), "%s", line);
	journal_get_stats(J, &js);
	CHECK(js.dropped_oldest > 0);
	CHECK(js.bytes <= 8192 + 4096);
	output_get_stats(f.o, &st);
	CHECK(st.dropped > 0);
	CHECK(st.dropped == js.dropped_oldest);
	output_stop(f.o, time_mono_ms()); /* its position stays in the journal */
	output_free(f.o);
	fx_start(&f, output_influx_new(&f.c)); /* same output after a restart: resumes */
	CHECK(wait_stats(f.o, written_at_least, 1, &st));
	CHECK(stub_wait(&f.s, 2, SAFETY_MS) >= 2);
	/* the newest line is delivered */
	for (int64_t until = time_mono_ms() + SAFETY_MS; time_mono_ms() < until;) {
		output_get_stats(f.o, &st);
		if (st.pending == 0)
			break;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	CHECK_INT(st.pending, 0);
	{
		size_t n = stub_count(&f.s) < STUB_MAX_REQ ? stub_count(&f.s) : STUB_MAX_REQ;
		const char *b = f.s.req[n - 1].body;
		size_t bl = strlen(b), ll = strlen(last);
		CHECK(n < STUB_MAX_REQ && bl >= ll && strcmp(b + bl - ll, last) == 0);
	}
	fx_teardown(&f);
}

static void test_gzip_body_decodes_to_the_same_lines(void)
{
	struct fx f;
	struct output_stats st;
	char lines[8192];
	size_t len = 0;

	fx_serve(&f, NULL, 0, reply(204), 100);
	f.c.gzip = 1;
	fx_start(&f, output_influx_new(&f.c));
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(lines + len, sizeof(lines) - len,
					"temperature,room=A,sensor=th-%d value=%d.25 %d\n", i % 7, i, i);
	CHECK_INT(journal_append(J, JOURNAL_LINES, lines, len, 100), 0);
	CHECK_INT(stub_wait(&f.s, 1, SAFETY_MS), 1);
	CHECK(strstr(f.s.req[0].head, "Content-Encoding: gzip") != NULL);
	CHECK(f.s.req[0].body_len < len);
	check_gunzips_to(&f.s.req[0], lines, len);
	CHECK(wait_stats(f.o, written_is, 100, &st));
	fx_teardown(&f);
}

static void test_refused_connection_keeps_the_data_and_retries(void)
{
	struct fx f;
	struct output_stats st;

	/* a port that was free a moment ago and has nobody listening now */
	fx_serve(&f, NULL, 0, reply(204), 1);
	fx_stop_serving(&f);
	fx_start(&f, output_influx_new(&f.c));
	enqueue_str(f.o, "m v=1 1\n");
	CHECK(wait_stats(f.o, retried_at_least, 2, &st));
	CHECK(st.last_error[0] != '\0');
	output_stop(f.o, time_mono_ms());
	output_get_stats(f.o, &st);
	CHECK_INT(st.pending, 1);
	CHECK_INT(st.written, 0);
	fx_teardown(&f);
}

static void test_a_replacement_resumes_at_the_committed_position(void)
{
	struct stub_reply script[] = { reply(204), { .status = 503 } };
	struct fx f;
	struct output *a, *b, *other;
	struct output_stats st;
	char other_db[] = "elsewhere";

	fx_serve(&f, script, 2, reply(204), 2);
	a = output_influx_new(&f.c);
	b = output_influx_new(&f.c);
	f.c.database = other_db;
	other = output_influx_new(&f.c);
	CHECK(output_same_destination(a, b));
	CHECK(!output_same_destination(a, other));
	CHECK_STR(output_id(a), output_id(b));
	CHECK_INT(start(a), 0);
	append_str("m v=1 1\nm v=2 2\n");
	CHECK(wait_stats(a, written_is, 2, &st));
	append_str("m v=3 3\nm v=4 4\n");
	CHECK_INT(stub_wait(&f.s, 2, SAFETY_MS), 2); /* 503: not delivered */
	output_stop(a, time_mono_ms());
	output_get_stats(a, &st);
	CHECK_INT(st.pending, 2);
	CHECK_INT(start(b), 0);
	CHECK_INT(stub_wait(&f.s, 3, SAFETY_MS), 3);
	CHECK_STR(f.s.req[2].body, "m v=3 3\nm v=4 4\n"); /* neither lost nor the first two again */
	CHECK(wait_stats(b, written_is, 2, &st));
	stop_now(b);
	output_free(a);
	output_free(b);
	output_free(other);
	fx_teardown(&f);
}

static void test_file_output_appends_lines(void)
{
	char path[] = "/tmp/cc-output-XXXXXX";
	int fd = mkstemp(path);
	struct cc_file_out_conf fc = { .name = NULL, .path = path };
	struct output *o, *o2;
	struct output_stats st;
	char buf[256];
	ssize_t n;

	CHECK(fd >= 0);
	o = output_file_new(&fc);
	CHECK(o != NULL);
	CHECK_STR(output_name(o), path);
	CHECK_INT(start(o), 0);
	enqueue_str(o, "m v=1 1\nm v=2 2\n");
	enqueue_str(o, "m v=3 3\n");
	output_stop(o, time_mono_ms() + SAFETY_MS);
	output_get_stats(o, &st);
	CHECK_INT(st.written, 3);
	CHECK_INT(st.pending, 0);
	o2 = output_file_new(&fc);
	CHECK(output_same_destination(o, o2));
	CHECK_INT(start(o2), 0);
	enqueue_str(o2, "m v=4 4\n");
	output_stop(o2, time_mono_ms() + SAFETY_MS);
	n = read(fd, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "m v=1 1\nm v=2 2\nm v=3 3\nm v=4 4\n");
	output_free(o);
	output_free(o2);
	close(fd);
	unlink(path);
}

static void test_file_output_retries_until_the_file_can_be_opened(void)
{
	struct cc_file_out_conf fc = { .path = (char[]){ "/nonexistent-dir/cc/out.lp" } };
	struct output *o = output_file_new(&fc);
	struct output_stats st;

	CHECK_INT(start(o), 0);
	enqueue_str(o, "m v=1 1\n");
	output_stop(o, time_mono_ms() + 200);
	output_get_stats(o, &st);
	CHECK(st.retried >= 1);
	CHECK_INT(st.pending, 1);
	CHECK(strstr(st.last_error, "No such file or directory") != NULL);
	output_free(o);
}

static void test_503_retry_after_is_honoured(void)
{
	struct stub_reply script[] = { { .status = 503, .headers = "Retry-After: 1\r\n" }, reply(204) };
	struct fx f;
	struct output_stats st;

	fx_influx(&f, script, 2, 1);
	enqueue_str(f.o, "m v=1 1\n");
	CHECK_INT(stub_wait(&f.s, 2, SAFETY_MS), 2);
	CHECK(f.s.req[1].t_ms - f.s.req[0].t_ms >= 1000);
	CHECK(wait_stats(f.o, written_is, 1, &st));
	CHECK_INT(st.retried, 1);
	fx_teardown(&f);
}

static void test_a_server_hanging_past_the_timeout_is_retried(void)
{
	struct stub_reply script[] = { { .hang = 1 } };
	struct fx f;
	struct output_stats st;

	fx_serve(&f, script, 1, reply(204), 2);
	f.c.timeout_ms = 300;
	fx_start(&f, output_influx_new(&f.c));
	enqueue_str(f.o, "m v=1 1\nm v=2 2\n");
	CHECK(wait_stats(f.o, written_is, 2, &st));
	CHECK_INT(st.retried, 1);
	CHECK(strstr(st.last_error, "imeout") != NULL || strstr(st.last_error, "timed out") != NULL);
	CHECK(stub_count(&f.s) >= 2);
	CHECK_STR(f.s.req[1].body, "m v=1 1\nm v=2 2\n");
	fx_teardown(&f);
}

static void test_a_connection_reset_is_retried_without_loss(void)
{
	struct stub_reply script[] = { { .reset = 1 } };
	struct fx f;
	struct output_stats st;

	fx_influx(&f, script, 1, 2);
	enqueue_str(f.o, "m v=1 1\nm v=2 2\n");
	CHECK(wait_stats(f.o, written_is, 2, &st));
	CHECK_INT(st.retried, 1);
	CHECK_INT(stub_count(&f.s), 2);
	CHECK_STR(f.s.req[1].body, "m v=1 1\nm v=2 2\n");
	fx_teardown(&f);
}

static void test_v2_request_is_exactly_path_org_bucket_token_and_gzip_body(void)
{
	struct fx f;
	struct output_stats st;
	char org[] = "pack house", bucket[] = "cold/chain", token[] = "s3cr3t-T0ken==";
	const char *lines = "temperature,room=A value=4.5 1780000000000000000\nhumidity,room=A value=92 1780000000000000000\n";

	fx_serve(&f, NULL, 0, reply(204), 2);
	f.c.v2 = 1;
	f.c.database = NULL;
	f.c.org = org;
	f.c.bucket = bucket;
	f.c.token = token;
	f.c.gzip = 1;
	fx_start(&f, output_influx_new(&f.c));
	append_str(lines);
	CHECK_INT(stub_wait(&f.s, 1, SAFETY_MS), 1);
	CHECK(starts_with(f.s.req[0].head,
			  "POST /api/v2/write?org=pack%20house&bucket=cold%2Fchain&precision=ns HTTP/1.1\r\n"));
	CHECK(strstr(f.s.req[0].head, "\r\nAuthorization: Token s3cr3t-T0ken==\r\n") != NULL);
	CHECK(strstr(f.s.req[0].head, "\r\nContent-Encoding: gzip\r\n") != NULL);
	CHECK(strstr(f.s.req[0].head, "\r\nContent-Type: text/plain; charset=utf-8\r\n") != NULL);
	check_gunzips_to(&f.s.req[0], lines, strlen(lines));
	CHECK(wait_stats(f.o, written_is, 2, &st));
	fx_teardown(&f);
}

/* A backlog (the journal holds more than 8 batches for the output) goes in
 * requests of up to 4 x batch lines, still in order and each line once;
 * caught up, requests carry batch lines again (issue 18: fewer requests
 * for a server sharing the box). */
static void test_a_backlog_goes_in_grown_batches_then_batch_again(void)
{
	struct fx f;
	struct output_stats st;
	char line[32], *want = NULL, *got = NULL;
	size_t wl = 0, gl = 0, most = 0, n, last = 0;
	FILE *w = open_memstream(&want, &wl), *g = open_memstream(&got, &gl);

	fx_serve(&f, NULL, 0, reply(204), 5);
	f.c.start_oldest = 1;
	for (int i = 0; i < 120; i++) { /* one record a line, before the output starts */
		snprintf(line, sizeof(line), "m v=%d %d\n", i, i);
		enqueue_str(NULL, line);
		fputs(line, w);
	}
	fclose(w);
	fx_start(&f, output_influx_new(&f.c));
	CHECK(wait_stats(f.o, written_is, 120, &st));
	n = stub_count(&f.s);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		for (const char *p = f.s.req[i].body; (p = strchr(p, '\n')) != NULL; p++)
			k++;
		most = k > most ? k : most;
		last = k;
		fputs(f.s.req[i].body, g);
	}
	fclose(g);
	CHECK_INT(most, 20);          /* grown to 4 x batch */
	CHECK(n < 120 / 5);           /* fewer requests than batch-sized ones */
	CHECK(last > 0 && last <= 5); /* caught up: batch lines again */
	CHECK_STR(got, want);         /* in order, each line once */
	free(want);
	free(got);
	fx_teardown(&f);
}

static void test_batches_are_cut_by_bytes(void)
{
	struct fx f;
	struct output_stats st;

	fx_serve(&f, NULL, 0, reply(204), 1000);
	f.c.batch_bytes = 20; /* two 8-byte lines fit, a third does not */
	f.c.flush_ms = 50;    /* the last, short batch leaves by age */
	fx_start(&f, output_influx_new(&f.c));
	enqueue_str(f.o, "m v=1 1\nm v=2 2\nm v=3 3\nm v=4 4\nm v=5 5\n");
	CHECK(wait_stats(f.o, written_is, 5, &st));
	CHECK_INT(stub_count(&f.s), 3);
	CHECK_STR(f.s.req[0].body, "m v=1 1\nm v=2 2\n");
	CHECK_STR(f.s.req[2].body, "m v=5 5\n");
	fx_teardown(&f);
}

static void test_an_unattributed_400_is_bisected_to_the_bad_line(void)
{
	/* 4 lines, line 3 bad; the server says only "dropped=1" (bad answer) */
	struct stub_reply script[] = {
		{ .status = 400, .body = "{\"error\":\"partial write: points beyond retention policy dropped=1\"}" },
		reply(204), /* lines 1-2 */
		{ .status = 400, .body = "{\"error\":\"partial write: points beyond retention policy dropped=1\"}" },
		{ .status = 400, .body = "{\"error\":\"points beyond retention policy\"}" }, /* line 3 */
		reply(204), /* line 4 */
	};
	struct fx f;
	struct output_stats st;
	char buf[512];

	fx_influx(&f, script, 5, 4);
	enqueue_str(f.o, "m v=1 1\nm v=2 2\nm v=3 3\nm v=4 4\n");
	CHECK(wait_stats(f.o, settled, 4, &st));
	CHECK_INT(st.rejected, 1);
	CHECK_INT(st.written, 3);
	CHECK_STR(f.s.req[1].body, "m v=1 1\nm v=2 2\n");
	CHECK_STR(f.s.req[2].body, "m v=3 3\nm v=4 4\n");
	CHECK_STR(f.s.req[3].body, "m v=3 3\n");
	CHECK_STR(f.s.req[4].body, "m v=4 4\n");
	read_quarantine(buf, sizeof(buf));
	CHECK(strstr(buf, "points beyond retention policy\nm v=3 3\n") != NULL);
	CHECK(strstr(buf, "m v=1 1") == NULL && strstr(buf, "m v=4 4") == NULL);
	/* whole batches again afterwards */
	enqueue_str(f.o, "m v=5 5\nm v=6 6\nm v=7 7\nm v=8 8\n");
	CHECK_INT(stub_wait(&f.s, 6, SAFETY_MS), 6);
	CHECK_STR(f.s.req[5].body, "m v=5 5\nm v=6 6\nm v=7 7\nm v=8 8\n");
	fx_teardown(&f);
}

/* --- webhook: one alert event per POST ------------------------------------ */

#define EV_WARN1 "{\"id\":\"A/temp_high\",\"room\":\"A\",\"event\":\"raise\",\"severity\":\"warning\",\"value\":8}"
#define EV_WARN2 "{\"id\":\"A/temp_high\",\"room\":\"A\",\"event\":\"clear\",\"severity\":\"warning\",\"value\":4}"
#define EV_INFO "{\"id\":\"A/L1/shelf_life_low\",\"room\":\"A\",\"event\":\"raise\",\"severity\":\"info\"}"
#define EV_CRIT "{\"id\":\"A/co2_high\",\"room\":\"A\",\"event\":\"raise\",\"severity\":\"critical\"}"

static char wh_name[] = "hook";
static char wh_token[] = "s3cret";
static char wh_hdr[] = "X-Site: packhouse-1";
static char *wh_headers[] = { wh_hdr };

static struct cc_webhook_conf webhook_conf_for(const struct http_stub *s)
{
	struct cc_webhook_conf c;

	memset(&c, 0, sizeof(c));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hooks/cold?key=k1", s->port);
	c.name = wh_name;
	c.url = url;
	c.min_severity = CC_SEV_WARNING;
	c.headers = wh_headers;
	c.nheaders = 1;
	c.token = wh_token;
	c.timeout_ms = 10000;
	c.backoff_max_ms = 100; /* keeps retries quick */
	return c;
}

/* A webhook (f->wc) started against a stub that answers script, then dflt. */
static void fx_webhook(struct fx *f, const struct stub_reply *script, size_t n, struct stub_reply dflt)
{
	fx_stub(f, script, n, dflt);
	f->wc = webhook_conf_for(&f->s);
	fx_start(f, output_webhook_new(&f->wc));
}

/* Journals an event as the engine does (pipeline_submit_event). */
static void append_event(const char *json)
{
	pipeline_submit_event(json, strlen(json));
}

static int pending_bytes_zero(const struct output_stats *st, uint64_t n)
{
	(void)n;
	return st->pending_bytes == 0;
}

static void test_webhook_2xx_posts_each_event_alone_as_json(void)
{
	struct stub_reply script[] = { reply(200), reply(204) };
	struct fx f;
	struct output_stats st;

	fx_webhook(&f, script, 2, reply(202));
	CHECK_STR(output_name(f.o), "hook");
	append_event(EV_WARN1);
	append_event(EV_WARN2);
	CHECK_INT(stub_wait(&f.s, 2, SAFETY_MS), 2);
	CHECK(wait_stats(f.o, written_is, 2, &st));
	CHECK_STR(f.s.req[0].body, EV_WARN1); /* the event's JSON exactly, no newline */
	CHECK_STR(f.s.req[1].body, EV_WARN2);
	CHECK(starts_with(f.s.req[0].head, "POST /hooks/cold?key=k1 HTTP/1.1\r\n"));
	CHECK(strstr(f.s.req[0].head, "Content-Type: application/json\r\n") != NULL);
	CHECK(strstr(f.s.req[0].head, "Authorization: Bearer s3cret\r\n") != NULL);
	CHECK(strstr(f.s.req[0].head, "X-Site: packhouse-1\r\n") != NULL);
	CHECK_INT(st.requests, 2);
	CHECK_INT(st.retried, 0);
	CHECK_INT(st.rejected, 0);
	stop_now(f.o);
	CHECK_INT(stub_count(&f.s), 2);
	fx_teardown(&f);
}

static void test_webhook_500_is_retried_then_delivered_exactly_once(void)
{
	struct stub_reply script[] = { { .status = 500, .body = "receiver busy" }, reply(204) };
	struct fx f;
	struct output_stats st;

	fx_webhook(&f, script, 2, reply(204));
	append_event(EV_WARN1);
	CHECK(wait_stats(f.o, written_is, 1, &st));
	CHECK_INT(stub_count(&f.s), 2);
	CHECK_STR(f.s.req[0].body, EV_WARN1);
	CHECK_STR(f.s.req[1].body, EV_WARN1);
	CHECK_INT(st.retried, 1);
	CHECK_INT(st.rejected, 0);
	CHECK(strstr(st.last_error, "HTTP 500") != NULL && strstr(st.last_error, "event A/temp_high") != NULL);
	CHECK(wait_stats(f.o, pending_bytes_zero, 0, &st));
	stop_now(f.o);
	CHECK_INT(stub_count(&f.s), 2); /* delivered: never sent a third time */
	fx_teardown(&f);
}

static void test_webhook_400_rejects_the_event_and_delivers_the_next(void)
{
	struct stub_reply script[] = { { .status = 400, .body = "{\"error\":\"unknown field\"}" }, reply(200) };
	struct fx f;
	struct output_stats st;

	fx_webhook(&f, script, 2, reply(200));
	append_event(EV_WARN1);
	append_event(EV_WARN2);
	CHECK(wait_stats(f.o, settled, 2, &st));
	CHECK_INT(st.rejected, 1);
	CHECK_INT(st.written, 1);
	CHECK_INT(st.retried, 0);
	CHECK_INT(stub_count(&f.s), 2);
	CHECK_STR(f.s.req[0].body, EV_WARN1);
	CHECK_STR(f.s.req[1].body, EV_WARN2);
	CHECK(strstr(st.last_error, "HTTP 400") != NULL && strstr(st.last_error, "unknown field") != NULL);
	stop_now(f.o);
	CHECK_INT(stub_count(&f.s), 2); /* the refused event is not sent again */
	fx_teardown(&f);
}

static void test_webhook_below_min_severity_is_skipped_and_the_position_moves_past_it(void)
{
	struct fx f;
	struct output_stats st;

	fx_webhook(&f, NULL, 0, reply(204));
	append_event(EV_INFO);
	/* committed past the info event without a request */
	CHECK(wait_stats(f.o, pending_bytes_zero, 0, &st));
	CHECK_INT(st.requests, 0);
	append_event(EV_INFO);
	append_event(EV_CRIT);
	CHECK(wait_stats(f.o, written_is, 1, &st));
	CHECK(wait_stats(f.o, pending_bytes_zero, 0, &st));
	stop_now(f.o);
	CHECK_INT(stub_count(&f.s), 1);
	CHECK_STR(f.s.req[0].body, EV_CRIT);
	output_free(f.o);
	/* a replacement (same name and URL) resumes after them: nothing replayed */
	f.wc.start_oldest = 1;
	fx_start(&f, output_webhook_new(&f.wc));
	append_event(EV_WARN1);
	CHECK(wait_stats(f.o, written_is, 1, &st));
	stop_now(f.o);
	CHECK_INT(stub_count(&f.s), 2);
	CHECK_STR(f.s.req[1].body, EV_WARN1);
	fx_teardown(&f);
}

static void test_webhook_401_keeps_the_event_retries_and_raises_output_unauthorised(void)
{
	struct stub_reply script[] = { reply(401), reply(403), reply(200) };
	struct fx f;
	struct output_stats st;

	fx_webhook(&f, script, 3, reply(200));
	append_event(EV_WARN1);
	CHECK(wait_stats(f.o, written_at_least, 1, &st));
	CHECK_INT(st.retried, 2);
	CHECK_INT(st.rejected, 0);
	CHECK_INT(st.unauthorised, 0);
	CHECK_STR(f.s.req[0].body, EV_WARN1);
	CHECK_STR(f.s.req[2].body, EV_WARN1);
	/* the output's own alert events (critical) are journaled and, being
	 * events at or above min_severity, sent on the same webhook */
	CHECK(wait_stats(f.o, written_is, 3, &st));
	CHECK(strstr(f.s.req[3].body, "\"rule\":\"output_unauthorised\"") != NULL &&
	      strstr(f.s.req[3].body, "\"state\":\"active\"") != NULL);
	CHECK(strstr(f.s.req[4].body, "\"rule\":\"output_unauthorised\"") != NULL &&
	      strstr(f.s.req[4].body, "\"state\":\"cleared\"") != NULL);
	fx_teardown(&f);
}

/* A server answering 400 with a 1 MiB body: the line is refused and
 * quarantined with a bounded reason, the connection stays usable, and the
 * next line is delivered. */
static void test_a_huge_error_body_is_bounded_and_the_next_line_delivered(void)
{
	size_t big = 1u << 20;
	char *body = malloc(big + 1), line[4096];
	struct stub_reply script[2] = { { .status = 400 }, reply(204) };
	struct fx f;
	struct output_stats st;
	FILE *q;

	memset(body, 'x', big);
	body[big] = '\0';
	script[0].body = body;
	fx_influx(&f, script, 2, 1);
	enqueue_str(f.o, "m v=1 1\n");
	CHECK(wait_stats(f.o, rejected_is, 1, &st));
	enqueue_str(f.o, "m v=2 2\n");
	CHECK(wait_stats(f.o, written_is, 1, &st));
	CHECK_INT(st.rejected, 1);
	CHECK(strlen(st.last_error) < 1024);
	q = fopen(quarantine, "r");
	CHECK(q != NULL);
	if (q) {
		/* "# TIME output stub: HTTP 400: xxx...": the reason is cut at
		 * 1 KiB, not OUTPUT_RESP_MAX, let alone the 1 MiB sent */
		CHECK(fgets(line, sizeof(line), q) != NULL);
		CHECK(strncmp(line, "# ", 2) == 0 && strstr(line, "output stub: HTTP 400: xxxx") != NULL);
		CHECK(strlen(line) < 1024 + 64);
		CHECK(strstr(line, "xxx...\n") != NULL);
		CHECK(fgets(line, sizeof(line), q) != NULL);
		CHECK_STR(line, "m v=1 1\n");
		fclose(q);
	}
	fx_teardown(&f);
	free(body);
}

/* coldchainctl report's read-back: a reply past max is refused, not grown. */
static void test_a_query_reply_larger_than_max_is_refused(void)
{
	size_t big = 2u << 20;
	char *body = malloc(big + 1), err[256];
	struct stub_reply ok200 = { .status = 200 };
	struct fx f;
	char *json = NULL;

	memset(body, ' ', big);
	memcpy(body, "{\"results\":[]}", 14);
	body[big] = '\0';
	ok200.body = body;
	fx_stub(&f, NULL, 0, ok200);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.s.port);
	CHECK_INT(influx_query_json(&(struct influx_query){ .url = url, .db = "db", .max = 1u << 20 }, "SELECT 1", &json,
				    err, sizeof(err)),
		  -EFBIG);
	CHECK(json == NULL);
	CHECK_STR(err, "reply larger than 1 MiB: ask for a shorter period");
	CHECK_INT(influx_query_json(&(struct influx_query){ .url = url, .db = "db", .max = 4u << 20 }, "SELECT 1", &json,
				    err, sizeof(err)),
		  0);
	CHECK(json != NULL && strlen(json) == big);
	free(json);
	CHECK_INT(stub_wait(&f.s, 2, SAFETY_MS), 2);
	CHECK(strncmp(f.s.req[0].head, "GET /query?db=db&epoch=ms&q=SELECT%201 ", 39) == 0);
	fx_teardown(&f);
	free(body);
}

int main(void)
{
	tl_prog = "unit/output";
	if (output_global_init() != 0)
		return 1;
	RUNJ(test_204_delivers_lines_and_counts_them_written);
	RUNJ(test_a_young_partial_batch_leaves_after_flush);
	RUNJ(test_500_then_204_retries_and_delivers_each_line_exactly_once);
	RUNJ(test_429_retry_after_is_honoured);
	RUNJ(test_503_retry_after_is_honoured);
	RUNJ(test_a_server_hanging_past_the_timeout_is_retried);
	RUNJ(test_a_connection_reset_is_retried_without_loss);
	RUNJ(test_v2_request_is_exactly_path_org_bucket_token_and_gzip_body);
	RUNJ(test_batches_are_cut_by_bytes);
	RUNJ(test_a_backlog_goes_in_grown_batches_then_batch_again);
	RUNJ(test_an_unattributed_400_is_bisected_to_the_bad_line);
	RUNJ(test_413_splits_the_batch_in_halves);
	RUNJ(test_413_on_a_single_line_rejects_only_that_line);
	RUNJ(test_400_rejects_the_batch_and_moves_on);
	RUNJ(test_400_partial_write_counts_only_the_refused_lines);
	RUNJ(test_a_huge_error_body_is_bounded_and_the_next_line_delivered);
	RUN(test_a_query_reply_larger_than_max_is_refused);
	RUNJ(test_401_keeps_the_data_and_retries);
	RUNJ(test_404_database_not_found_keeps_the_data);
	RUNJ(test_stop_returns_by_the_deadline_when_the_server_hangs);
	RUNJ(test_stop_delivers_what_is_queued_before_returning);
	RUNJ(test_journal_cap_drops_the_oldest_counts_them_and_delivers_the_newest);
	RUNJ(test_gzip_body_decodes_to_the_same_lines);
	RUNJ(test_refused_connection_keeps_the_data_and_retries);
	RUNJ(test_a_replacement_resumes_at_the_committed_position);
	RUNJ(test_file_output_appends_lines);
	RUNJ(test_file_output_retries_until_the_file_can_be_opened);
	RUNJ(test_webhook_2xx_posts_each_event_alone_as_json);
	RUNJ(test_webhook_500_is_retried_then_delivered_exactly_once);
	RUNJ(test_webhook_400_rejects_the_event_and_delivers_the_next);
	RUNJ(test_webhook_below_min_severity_is_skipped_and_the_position_moves_past_it);
	RUNJ(test_webhook_401_keeps_the_event_retries_and_raises_output_unauthorised);
	output_global_cleanup();
	return TL_DONE();
}
