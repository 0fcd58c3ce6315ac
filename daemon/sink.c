/* sink.c - the seam between sources and outputs.  Each sample is encoded
 * once to line protocol and the lines are handed to every output's queue.
 * The durable journal (separate issue) will take this place: sources keep
 * calling sink_submit() and the outputs read from the journal instead. */
#include "sink.h"

#include <math.h>
#include <pthread.h>

#include "../drivers/lineproto.h"
#include "../drivers/output.h"
#include "log.h"

static struct output **outputs;
static size_t noutputs;

void sink_set_outputs(struct output **outs, size_t n)
{
	outputs = outs;
	noutputs = n;
}

/*
 * Schema (README "Data model"): measurement = quantity; tags channel, room,
 * sensor, site, unit (sorted, as InfluxDB prefers).  A good reading carries
 * field value; anything else carries quality (and raw for out-of-range), so
 * a gap is visible in the record and never mistaken for a reading.
 */
static int encode_sample(struct lp_buf *b, const struct cc_sample *s)
{
	const struct cc_channel *ch = s->ch;
	struct lp_tag tags[] = {
		{ "channel", ch->name }, { "room", ch->room }, { "sensor", ch->sensor },
		{ "site", ch->site },    { "unit", ch->unit },
	};
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
		}
	}
	return lp_encode(b, ch->quantity, tags, sizeof(tags) / sizeof(tags[0]), f, nf, s->ts_ns);
}

void sink_submit(const struct cc_sample *s, size_t n)
{
	static struct log_rl rl;
	static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
	struct lp_buf buf;
	uint32_t more;

	lp_buf_init(&buf);
	for (size_t i = 0; i < n; i++) {
		if (encode_sample(&buf, &s[i]) == 0)
			continue;
		pthread_mutex_lock(&rl_lock);
		if (log_rl_allow(&rl, 60000, &more))
			log_warn("channel %s: sample not encodable (%u more)", s[i].ch->id, more);
		pthread_mutex_unlock(&rl_lock);
	}
	if (buf.lines)
		sink_submit_lines(buf.data, buf.len, buf.lines);
	lp_buf_free(&buf);
}

void sink_submit_lines(const char *lines, size_t len, size_t nlines)
{
	for (size_t i = 0; i < noutputs; i++)
		output_enqueue(outputs[i], lines, len, nlines);
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

void sink_submit_event(const char *json, size_t len)
{
	/* No event consumers until the journal and alert outputs land. */
	(void)json;
	(void)len;
}
