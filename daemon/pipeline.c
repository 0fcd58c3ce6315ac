/* pipeline.c - the seam between sources and outputs.  Each sample is encoded
 * once to line protocol and the lines are appended to the journal; outputs
 * read the journal at their own pace (daemon/journal.h).  The samples then
 * go to the consumer (the alarm engine, wired in main.c). */
#include "pipeline.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "../codec/lineproto.h"
#include "journal.h"
#include "log.h"
#include "util.h"

static struct journal *journal;
static pipeline_consumer_fn *consumer;
static void *consumer_arg;
static pthread_mutex_t drop_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t dropped;
static struct log_rl drop_rl;
static pipeline_lines_fn *lines_sink;
static void *lines_sink_arg;

void pipeline_set_lines_sink(pipeline_lines_fn *fn, void *arg)
{
	lines_sink = fn;
	lines_sink_arg = arg;
}

void pipeline_set_journal(struct journal *j)
{
	journal = j;
}

void pipeline_set_consumer(pipeline_consumer_fn *fn, void *arg)
{
	consumer = fn;
	consumer_arg = arg;
}

/* After the samples' lines are journaled (or given up on). */
static void consume(const struct cc_sample *s, size_t n)
{
	if (consumer)
		consumer(consumer_arg, s, n);
}

uint64_t pipeline_dropped(void)
{
	uint64_t n;

	pthread_mutex_lock(&drop_lock);
	n = dropped;
	pthread_mutex_unlock(&drop_lock);
	return n;
}

static void count_dropped(size_t nlines, const char *why)
{
	uint32_t more;
	int say;

	pthread_mutex_lock(&drop_lock);
	dropped += nlines;
	say = log_rl_allow(&drop_rl, 60000, &more);
	pthread_mutex_unlock(&drop_lock);
	if (say)
		log_warn("sink: %zu %s dropped: %s (%" PRIu32 " more %s suppressed)", nlines,
			 plural(nlines, "line", "lines"), why, more, plural(more, "message", "messages"));
}

/*
 * Schema (README "Data model"): measurement = quantity; tags channel, room,
 * sensor, site, unit (sorted, as InfluxDB prefers).  A good reading carries
 * field value; anything else carries quality (and raw for out-of-range), so
 * a gap is visible in the record and never mistaken for a reading.
 */
#define NTAGS 5
static void sample_tags(const struct cc_channel *ch, struct lp_tag t[NTAGS])
{
	t[0] = (struct lp_tag){ "channel", ch->name };
	t[1] = (struct lp_tag){ "room", ch->room };
	t[2] = (struct lp_tag){ "sensor", ch->sensor };
	t[3] = (struct lp_tag){ "site", ch->site };
	t[4] = (struct lp_tag){ "unit", ch->unit };
}

static int encode_sample(struct lp_buf *b, const struct cc_sample *s)
{
	const struct cc_channel *ch = s->ch;
	struct lp_tag tags[NTAGS];
	struct lp_field f[2];
	size_t nf = 0;

	if (s->quality == CC_Q_GOOD) {
		f[nf].key = "value";
		f[nf].type = LP_FLOAT;
		f[nf++].v.f = s->value;
	} else {
		f[nf].key = "quality";
		f[nf].type = LP_STRING;
		f[nf++].v.s = quality_name(s->quality);
		if (s->quality == CC_Q_OUT_OF_RANGE && isfinite(s->value)) {
			f[nf].key = "raw";
			f[nf].type = LP_FLOAT;
			f[nf++].v.f = s->value;
		} else if (s->quality == CC_Q_OUT_OF_RANGE) {
			/* Line protocol has no NaN or infinite float, and a string in
			 * field raw would clash with its float type (InfluxDB refuses
			 * the line): what the device sent goes in its own field. */
			f[nf].key = "raw_text";
			f[nf].type = LP_STRING;
			f[nf++].v.s = isnan(s->value) ? "NaN" : s->value > 0 ? "+Inf" : "-Inf";
		}
	}
	sample_tags(ch, tags);
	return lp_encode(b, ch->quantity, tags, NTAGS, f, nf, s->ts_ns);
}

static void encode_failed(const struct cc_sample *s)
{
	static struct log_rl rl;
	static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
	uint32_t more;

	pthread_mutex_lock(&rl_lock);
	if (log_rl_allow(&rl, 60000, &more))
		log_warn("channel %s: sample not encodable (%u more)", s->ch->id, more);
	pthread_mutex_unlock(&rl_lock);
}

void pipeline_encode(struct lp_buf *b, const struct cc_sample *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (encode_sample(b, &s[i]) < 0)
			encode_failed(&s[i]);
}

int pipeline_encode_series(struct lp_buf *b, const struct cc_channel *ch)
{
	struct lp_tag tags[NTAGS];

	sample_tags(ch, tags);
	return lp_encode_series(b, ch->quantity, tags, NTAGS);
}

void pipeline_encode_with_series(struct lp_buf *b, const char *series, size_t len, const struct cc_sample *s)
{
	int r = series && s->quality == CC_Q_GOOD ? lp_encode_float(b, series, len, "value", s->value, s->ts_ns)
						  : encode_sample(b, s);

	if (r < 0)
		encode_failed(s);
}

void pipeline_submit_encoded(const struct lp_buf *b, const struct cc_sample *s, size_t n)
{
	if (b->lines)
		pipeline_submit_lines(b->data, b->len, b->lines);
	/* Alarms and models, after the readings are recorded. */
	consume(s, n);
}

int pipeline_try_submit_encoded(const struct lp_buf *b, const struct cc_sample *s, size_t n)
{
	int r;

	if (!journal || b->len > JOURNAL_MAX_RECORD / 2) { /* nothing to wait for: as pipeline_submit_encoded */
		pipeline_submit_encoded(b, s, n);
		return 0;
	}
	if (b->lines) {
		r = journal_try_append(journal, JOURNAL_LINES, b->data, b->len, (uint32_t)b->lines);
		if (r < 0)
			return r;
	}
	consume(s, n);
	return 0;
}

void pipeline_submit_unjournaled(const struct cc_sample *s, size_t n, size_t nlines, const char *why)
{
	if (nlines)
		count_dropped(nlines, why);
	consume(s, n);
}

int pipeline_journal_writable(void)
{
	if (lines_sink)
		return 1;
	return journal_writable(journal);
}

void pipeline_submit(const struct cc_sample *s, size_t n)
{
	struct lp_buf buf;

	lp_buf_init(&buf);
	pipeline_encode(&buf, s, n);
	pipeline_submit_encoded(&buf, s, n);
	lp_buf_free(&buf);
}

void pipeline_submit_lines(const char *lines, size_t len, size_t nlines)
{
	size_t n = 0;
	int r;

	(void)nlines; /* counted here: the journal needs the '\n's, not the claim */
	if (!lines || len == 0)
		return;
	for (const char *p = lines; (p = memchr(p, '\n', (size_t)(lines + len - p))) != NULL; p++)
		n++;
	if (lines[len - 1] != '\n')
		n++; /* the reader adds the missing '\n' */
	if (lines_sink) {
		lines_sink(lines_sink_arg, lines, len);
		return;
	}
	if (!journal) {
		count_dropped(n, "no journal");
		return;
	}
	/* Huge submissions are cut at line ends into records the journal takes. */
	while (len > JOURNAL_MAX_RECORD / 2) {
		const char *cut = memrchr(lines, '\n', JOURNAL_MAX_RECORD / 2);
		size_t part = cut ? (size_t)(cut - lines) + 1 : JOURNAL_MAX_RECORD / 2, pn = 0;

		for (const char *p = lines; (p = memchr(p, '\n', (size_t)(lines + part - p))) != NULL; p++)
			pn++;
		if (journal_append(journal, JOURNAL_LINES, lines, part, (uint32_t)(pn ? pn : 1)) < 0)
			count_dropped(pn, "journal append failed");
		lines += part;
		len -= part;
		n -= pn;
	}
	r = journal_append(journal, JOURNAL_LINES, lines, len, (uint32_t)n);
	if (r < 0)
		count_dropped(n, "journal append failed");
}

const char *quality_name(enum cc_quality q)
{
	switch (q) {
	case CC_Q_GOOD: return "good";
	case CC_Q_STALE: return "stale";
	case CC_Q_OUT_OF_RANGE: return "out_of_range";
	case CC_Q_COMM_ERROR: return "comm_error";
	}
	return "unknown";
}

void pipeline_submit_event(const char *json, size_t len)
{
	int r;

	if (!journal) {
		count_dropped(1, "no journal for an alert event");
		return;
	}
	r = journal_append(journal, JOURNAL_EVENT, json, len, 0);
	if (r < 0)
		count_dropped(1, "alert event not journaled");
}
