/* mqtt_decode.c - decoding one MQTT message (scalar, JSON, influx line
 * protocol) into samples, the channels it interns and the checks on every
 * sample (time skew, finite, range).  No network here: the input client
 * (mqtt.c) hands over the topic, its captures and the payload. */
#include "mqtt.h"
#include "mqtt_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/config.h"
#include "../daemon/log.h"
#include "../codec/payload.h"
#include "../util/hash.h"

const char *const mqtt_reason_names[R_N] = {
	"too_large", "bad_utf8", "parse_error", "wrong_type", "not_finite", "missing_field", "bad_time",
	"time_skew", "bad_topic", "channel_limit",
};

/* --- channels ------------------------------------------------------------ */

/* Doubles the chained hash table tab of size buckets (64 when empty) whose
 * nodes of type T keep their hash and next: the channels', the shared
 * strings' and the series pairs' tables. */
#define CHAIN_GROW(T, tab, size)                                                  \
	do {                                                                      \
		size_t ns_ = (size) ? (size) * 2 : 64;                            \
		T **nt_ = xcalloc(ns_, sizeof(*nt_));                             \
		for (size_t i_ = 0; i_ < (size); i_++)                            \
			while ((tab)[i_]) {                                       \
				T *x_ = (tab)[i_];                                \
				(tab)[i_] = x_->next;                             \
				x_->next = nt_[x_->hash & (ns_ - 1)];             \
				nt_[x_->hash & (ns_ - 1)] = x_;                   \
			}                                                         \
		free(tab);                                                        \
		(tab) = nt_;                                                      \
		(size) = ns_;                                                     \
	} while (0)

static void chans_grow(struct mqtt_client *c)
{
	CHAIN_GROW(struct chan, c->tab, c->tabsize);
}

/* --- the channels' shared strings ------------------------------------------ */

struct istr {
	struct istr *next;
	uint32_t hash;
	char s[];
};

/* n bytes at p into the running hash h, folded to the tables' 32 bits */
static uint32_t hash32(const char *p, size_t n, uint64_t h)
{
	return (uint32_t)hash_fold(fnv1a64_add(h, p, n));
}

/* s's copy in the table, NULL if none; add: created if none.  They live
 * until mqtt_decode_chans_free; only a new channel adds (so at most seven
 * per channel: five parts and its series' prefix and suffix, bounded by
 * max_channels). */
static const char *str_intern(struct mqtt_client *c, const char *s, int add)
{
	size_t n = strlen(s);
	uint32_t h = hash32(s, n, FNV1A64_BASIS);
	struct istr *x;

	if (c->stabsize)
		for (x = c->stab[h & (c->stabsize - 1)]; x; x = x->next)
			if (x->hash == h && strcmp(x->s, s) == 0)
				return x->s;
	if (!add)
		return NULL;
	if (c->nstr + 1 > c->stabsize / 2)
		CHAIN_GROW(struct istr, c->stab, c->stabsize);
	x = mqtt_arena_alloc(&c->chans, sizeof(*x) + n + 1);
	memcpy(x->s, s, n + 1);
	x->hash = h;
	x->next = c->stab[h & (c->stabsize - 1)];
	c->stab[h & (c->stabsize - 1)] = x;
	c->nstr++;
	return x->s;
}

/* The shared parts of a channel (room and unit NULL when empty), looked up
 * (add 0: -1 if one is not in the table, so no channel has it) or added. */
static int chan_parts(struct mqtt_client *c, const char *const parts[6], const char *out[6], int add)
{
	for (int i = 0; i < 6; i++) {
		if (i == 2 || ((i == 1 || i == 5) && !*parts[i])) {
			out[i] = i == 2 ? parts[i] : NULL;
			continue;
		}
		if (!(out[i] = str_intern(c, parts[i], add)))
			return -1;
	}
	return 0;
}

static uint32_t chan_hash(const char *const p[6])
{
	uint64_t h = FNV1A64_BASIS;

	for (int i = 0; i < 6; i++)
		if (i != 2)
			h = hash32((const char *)&p[i], sizeof(p[i]), h);
	return hash32(p[2], strlen(p[2]), h);
}

/* Splits the series key f of a channel whose sensor is sensor into the
 * prefix up to ",sensor=", the escaped sensor (*esc, *elen: in e) and the
 * suffix after it (in sfx); 0, or -1 when f is not that (no fast path). */
static int series_split(const struct lp_buf *f, const char *sensor, struct lp_buf *e, struct lp_buf *sfx,
			const struct cc_channel *probe, size_t *plen)
{
	const struct lp_tag st = { "sensor", sensor }, tt[2] = { { "site", probe->site }, { "unit", probe->unit } };
	size_t el, sl;

	if (lp_encode_series(e, "x", &st, 1) != 0 || lp_encode_series(sfx, "x", tt, 2) != 0)
		return -1;
	el = e->len - 9; /* "x,sensor=" */
	sl = sfx->len - 1;
	if (f->len < 8 + el + sl || memcmp(f->data + f->len - sl, sfx->data + 1, sl) != 0 ||
	    memcmp(f->data + f->len - sl - el, e->data + 9, el) != 0 ||
	    memcmp(f->data + f->len - sl - el - 8, ",sensor=", 8) != 0)
		return -1;
	*plen = f->len - sl - el;
	return 0;
}

/* The one pair of this prefix and suffix (interned), made when new: at
 * most one per channel, in the arena; the table grows at load 1/2. */
static const struct spair *spair_intern(struct mqtt_client *c, const char *sp, size_t splen, const char *ss,
					size_t sslen)
{
	uint32_t h = hash32((const char *)&ss, sizeof(ss), hash32((const char *)&sp, sizeof(sp), FNV1A64_BASIS));
	struct spair *x;

	if (c->ptabsize)
		for (x = c->ptab[h & (c->ptabsize - 1)]; x; x = x->next)
			if (x->sp == sp && x->ss == ss)
				return x;
	if (c->npair + 1 > c->ptabsize / 2)
		CHAIN_GROW(struct spair, c->ptab, c->ptabsize);
	x = mqtt_arena_alloc(&c->chans, sizeof(*x));
	x->sp = sp;
	x->ss = ss;
	x->splen = (uint8_t)splen;
	x->sslen = (uint8_t)sslen;
	x->hash = h;
	x->next = c->ptab[h & (c->ptabsize - 1)];
	c->ptab[h & (c->ptabsize - 1)] = x;
	c->npair++;
	return x;
}

/* The series parts of ch (its key holds the sensor and id; room for the
 * escaped sensor after them when it differs): interned prefix and suffix. */
static void chan_series(struct mqtt_client *c, struct chan *ch, const struct lp_buf *f, const struct lp_buf *e,
			const struct lp_buf *sfx, size_t plen, size_t at)
{
	size_t el = e->len - 9, sl = sfx->len - 1;

	f->data[plen] = '\0';
	ch->sx = spair_intern(c, str_intern(c, f->data, 1), plen, str_intern(c, sfx->data + 1, 1), sl);
	ch->smlen = (uint8_t)el;
	if (el != strlen(ch->key) || memcmp(e->data + 9, ch->key, el) != 0) {
		memcpy(ch->key + at, e->data + 9, el);
		ch->smoff = (uint8_t)at;
	}
}

/* A new channel of the parts p (hash h): one block with its sensor, its id
 * (sensor/channel) and, when escaping changes it, the escaped sensor. */
static struct chan *chan_new(struct mqtt_client *c, const char *const p[6], uint32_t h)
{
	size_t sl = strlen(p[2]) + 1, idlen = sl + strlen(p[3]) + 1, plen = 0, extra = 0;
	struct cc_channel probe = { .site = p[0], .room = p[1], .sensor = p[2], .name = p[3], .quantity = p[4],
				    .unit = p[5], .id = "" };
	struct lp_buf f, e, sfx;
	struct chan *ch;
	int fast;

	lp_buf_init(&f);
	lp_buf_init(&e);
	lp_buf_init(&sfx);
	fast = pipeline_encode_series(&f, &probe) == 0 && series_split(&f, p[2], &e, &sfx, &probe, &plen) == 0 &&
	       plen <= UINT8_MAX && e.len - 9 <= UINT8_MAX && sfx.len - 1 <= UINT8_MAX;
	if (fast && (e.len - 9 != sl - 1 || memcmp(e.data + 9, p[2], sl - 1) != 0)) {
		extra = e.len - 9; /* the escaped sensor differs: its own copy, at key + sl + idlen */
		fast = sl + idlen <= UINT8_MAX;
		extra = fast ? extra : 0;
	}
	ch = mqtt_arena_alloc(&c->chans, offsetof(struct chan, key) + sl + idlen + extra);
	ch->hash = h;
	memcpy(ch->key, p[2], sl);
	snprintf(ch->key + sl, idlen, "%s/%s", p[2], p[3]);
	ch->ch = probe;
	ch->ch.sensor = ch->key;
	ch->ch.id = ch->key + sl;
	if (fast)
		chan_series(c, ch, &f, &e, &sfx, plen, sl + idlen);
	lp_buf_free(&f);
	lp_buf_free(&e);
	lp_buf_free(&sfx);
	return ch;
}

static struct chan *chan_find(struct mqtt_client *c, const char *const p[6], uint32_t h)
{
	if (c->tabsize)
		for (struct chan *ch = c->tab[h & (c->tabsize - 1)]; ch; ch = ch->next)
			if (ch->hash == h && ch->ch.site == p[0] && ch->ch.room == p[1] && ch->ch.name == p[3] &&
			    ch->ch.quantity == p[4] && ch->ch.unit == p[5] && strcmp(ch->ch.sensor, p[2]) == 0)
				return ch;
	return NULL;
}

/* The channel for these tags, created on first use (bounded by
 * max_channels); strings live until mqtt_stop.  Loop thread only. */
static const struct cc_channel *chan_intern(struct mqtt_client *c, const char *site, const char *room,
					    const char *sensor, const char *channel, const char *quantity,
					    const char *unit)
{
	const char *parts[6] = { site, room ? room : "", sensor, channel, quantity, unit ? unit : "" };
	const char *p[6];
	size_t n = 0;
	uint32_t h;
	struct chan *ch;

	for (int i = 0; i < 6; i++)
		n += strlen(parts[i]) + 1;
	if (n > 6 * (TOPIC_MAX_CAPTURE + 256))
		return NULL;
	if (chan_parts(c, parts, p, 0) == 0 && (ch = chan_find(c, p, chan_hash(p))))
		return &ch->ch;
	if (c->nchan >= (size_t)c->conf->max_channels)
		return NULL;
	chan_parts(c, parts, p, 1);
	h = chan_hash(p);
	if (c->nchan + 1 > c->tabsize) /* chains of ~1 on average: 8 bytes a channel */
		chans_grow(c);
	ch = chan_new(c, p, h);
	ch->next = c->tab[h & (c->tabsize - 1)];
	c->tab[h & (c->tabsize - 1)] = ch;
	c->nchan++;
	return &ch->ch;
}

void mqtt_decode_chans_free(struct mqtt_client *c)
{
	mqtt_arena_free(&c->chans);
	free(c->tab);
	c->tab = NULL;
	c->tabsize = c->nchan = 0;
	free(c->stab);
	c->stab = NULL;
	free(c->ptab);
	c->ptab = NULL;
	c->ptabsize = c->npair = 0;
	c->stabsize = c->nstr = 0;
}

static void problem(struct decode *d, enum reason r, const char *why)
{
	if (!d->problems) {
		d->first = r;
		d->why = why;
	}
	d->problems++;
	d->why_count[r]++;
}

static int ts_ok(struct decode *d, int64_t ts)
{
	const struct cc_mqtt_conf *m = d->c->conf;
	if (ts > d->now + m->max_future_ms * 1000000 || ts < d->now - m->max_age_ms * 1000000) {
		problem(d, R_TIME_SKEW, ts > d->now ? "timestamp too far in the future (max_future)"
						    : "timestamp too old (max_age)");
		return 0;
	}
	return 1;
}

/* slot: the topic cache's place for this sample's channel (or NULL) */
static void add_sample(struct decode *d, const struct cc_channel **slot, const char *site, const char *room,
		       const char *sensor, const char *channel, const char *quantity, const char *unit, double raw,
		       double scale, double offset, double vmin, double vmax, int64_t ts)
{
	const struct cc_channel *ch;
	double v = raw * scale + offset;

	if (!isfinite(v)) {
		problem(d, R_NOT_FINITE, "value not finite after scale/offset");
		return;
	}
	if (!sensor || !*sensor) {
		problem(d, R_BAD_TOPIC, "no sensor (capture, sensor key or sensor tag)");
		return;
	}
	ch = slot && *slot ? *slot : chan_intern(d->c, site, room, sensor, channel, quantity, unit);
	if (slot && ch)
		*slot = ch;
	if (!ch) {
		uint32_t more;
		problem(d, R_CHANNEL_LIMIT, "max_channels reached: a new channel is refused");
		if (log_rl_allow(&d->c->rl_limit, LOG_RL_MS, &more))
			log_warn("mqtt broker %s: max_channels (%d) reached: new channel %s/%s refused (%u more)",
				 d->c->broker, d->c->conf->max_channels, sensor, channel, more);
		return;
	}
	if (d->n == d->cap) {
		d->cap *= 2;
		if (d->smp == d->inl)
			d->smp = memcpy(xmalloc(d->cap * sizeof(*d->smp)), d->inl, sizeof(d->inl));
		else
			d->smp = xrealloc(d->smp, d->cap * sizeof(*d->smp));
	}
	d->smp[d->n].ch = ch;
	d->smp[d->n].ts_ns = ts;
	d->smp[d->n].value = v;
	d->smp[d->n].quality = (v < vmin || v > vmax) ? CC_Q_OUT_OF_RANGE : CC_Q_GOOD;
	d->noor += d->smp[d->n].quality != CC_Q_GOOD;
	d->n++;
}

static enum reason reason_of(int rc)
{
	switch (rc) {
	case -EDOM: return R_WRONG_TYPE;
	case -ERANGE: return R_NOT_FINITE;
	case -ENOENT: return R_MISSING;
	case -EILSEQ: return R_BAD_UTF8;
	default: return R_PARSE;
	}
}

#define T(d, cap) ((d)->tags[cap])

static void decode_scalar(struct decode *d, const char *p, size_t n)
{
	const struct cc_mqtt_sub *s = d->s->conf;
	const char *err = NULL;
	double v;
	int rc = s->format == CC_MQTT_BOOL ? payload_bool(p, n, &v, &err) : payload_number(p, n, &v, &err);

	if (rc < 0) {
		problem(d, reason_of(rc), err);
		return;
	}
	if (s->format == CC_MQTT_BOOL)
		add_sample(d, d->slot, T(d, TOPIC_CAP_SITE), T(d, TOPIC_CAP_ROOM), T(d, TOPIC_CAP_SENSOR),
			   T(d, TOPIC_CAP_CHANNEL), T(d, TOPIC_CAP_QUANTITY), s->unit, v, 1, 0, -INFINITY, INFINITY,
			   d->now);
	else
		add_sample(d, d->slot, T(d, TOPIC_CAP_SITE), T(d, TOPIC_CAP_ROOM), T(d, TOPIC_CAP_SENSOR),
			   T(d, TOPIC_CAP_CHANNEL), T(d, TOPIC_CAP_QUANTITY), s->unit, v, s->scale, s->offset,
			   s->valid_min, s->valid_max, d->now);
}

static void decode_json(struct decode *d, const char *p, size_t n)
{
	const struct cc_mqtt_sub *s = d->s->conf;
	struct payload_json j; /* in place, no allocation, for the flat objects sensors send */
	const char *err = NULL;
	int64_t ts = d->now;
	int rc = payload_json_open(&j, p, n, &err);

	if (rc < 0) {
		problem(d, R_PARSE, err);
		return;
	}
	if (s->time_path) {
		rc = payload_json_time(&j, s->time_path, (enum payload_tunit)s->time_unit, &ts, &err);
		if (rc < 0) {
			problem(d, R_BAD_TIME, err);
			goto out;
		}
		if (!ts_ok(d, ts))
			goto out;
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const struct cc_mqtt_field *f = &s->fields[i];
		double v;

		rc = payload_json_number(&j, f->path, &v, &err);
		if (rc < 0) {
			problem(d, reason_of(rc), err);
			continue;
		}
		add_sample(d, d->slot ? &d->slot[i] : NULL, T(d, TOPIC_CAP_SITE), T(d, TOPIC_CAP_ROOM),
			   T(d, TOPIC_CAP_SENSOR), f->name, f->quantity, f->unit, v, f->scale, f->offset, f->valid_min,
			   f->valid_max, ts);
	}
out:
	payload_json_close(&j);
}

static const char *lp_tag(const struct lp_point *pt, const char *key)
{
	for (size_t i = 0; i < pt->ntags; i++)
		if (strcmp(pt->tags[i].key, key) == 0)
			return pt->tags[i].value;
	return NULL;
}

static void decode_influx(struct decode *d, const char *p, size_t n)
{
	const struct cc_mqtt_sub *s = d->s->conf;
	const char *end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p, *err = NULL, *site, *room, *sensor, *unit, *chtag;
		struct lp_point pt;
		int64_t ts = d->now;

		p = nl ? nl + 1 : end;
		if (len && line[len - 1] == '\r')
			len--;
		while (len && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		if (len == 0 || *line == '#')
			continue;
		if (lp_parse_line(line, len, &pt, &err) < 0) {
			problem(d, R_PARSE, err);
			continue;
		}
		if (pt.has_ts) {
			ts = pt.ts;
			if (!ts_ok(d, ts)) {
				lp_point_free(&pt);
				continue;
			}
		}
		site = lp_tag(&pt, "site") ? lp_tag(&pt, "site") : T(d, TOPIC_CAP_SITE);
		room = lp_tag(&pt, "room") ? lp_tag(&pt, "room") : T(d, TOPIC_CAP_ROOM);
		sensor = lp_tag(&pt, "sensor") ? lp_tag(&pt, "sensor") : T(d, TOPIC_CAP_SENSOR);
		unit = lp_tag(&pt, "unit") ? lp_tag(&pt, "unit") : s->unit;
		chtag = lp_tag(&pt, "channel");
		for (size_t i = 0; i < pt.nfields; i++) {
			const struct lp_field *f = &pt.fields[i];
			int is_value = strcmp(f->key, "value") == 0;
			const char *q = is_value ? pt.measurement : f->key;
			const char *chn = is_value && chtag ? chtag : q;
			double v;

			switch (f->type) {
			case LP_FLOAT: v = f->v.f; break;
			case LP_INT: v = (double)f->v.i; break;
			case LP_UINT: v = (double)f->v.u; break;
			case LP_BOOL: v = f->v.b ? 1 : 0; break;
			default:
				problem(d, R_WRONG_TYPE, "string field (only numbers and booleans are readings)");
				continue;
			}
			add_sample(d, NULL, site, room, sensor, chn, q, unit, v, s->scale, s->offset, s->valid_min, s->valid_max,
				   ts);
		}
		lp_point_free(&pt);
	}
}

void mqtt_decode_log_refusal(struct decode *d, const char *p, size_t n)
{
	char ex[EXCERPT_IN * 4 + 8], tp[EXCERPT_IN * 4 + 8];
	uint32_t more;

	if (!log_rl_allow(&d->s->rl, LOG_RL_MS, &more))
		return;
	payload_excerpt(p, n, EXCERPT_IN, ex, sizeof(ex));
	payload_excerpt(d->topic, strlen(d->topic), 2 * EXCERPT_IN, tp, sizeof(tp));
	log_warn("mqtt subscription %s: topic %s: %s %s: %s (%d problem%s; %u more messages like this suppressed): "
		 "payload \"%s\" (%zu bytes)",
		 d->s->conf->topic, tp, d->n ? "partly refused" : "refused", mqtt_reason_names[d->first],
		 d->why ? d->why : "", d->problems, d->problems == 1 ? "" : "s", more, ex, n);
}

/* One message: captures, size, UTF-8, then its format's decoder (see
 * mqtt_int.h). */
void mqtt_decode_msg(struct decode *d, struct mqtt_client *c, struct msub *s, const char *topic,
		     const char *vals[TOPIC_CAP_N], const size_t lens[TOPIC_CAP_N], const struct cc_channel **slot,
		     const char *p, size_t *n)
{
	const struct cc_mqtt_sub *sc = s->conf;

	memset(d, 0, offsetof(struct decode, inl));
	d->smp = d->inl;
	d->cap = ARRAY_SIZE(d->inl);
	d->c = c;
	d->s = s;
	d->topic = topic;
	d->slot = slot;
	d->now = time_now_ns();
	d->tags[TOPIC_CAP_SITE] = c->site;
	d->tags[TOPIC_CAP_ROOM] = sc->room;
	d->tags[TOPIC_CAP_SENSOR] = sc->sensor;
	d->tags[TOPIC_CAP_CHANNEL] = sc->channel;
	d->tags[TOPIC_CAP_QUANTITY] = sc->quantity;
	for (int i = 0; i < TOPIC_CAP_N; i++) {
		if (!vals[i])
			continue;
		if (lens[i] == 0 || lens[i] > TOPIC_MAX_CAPTURE) {
			problem(d, R_BAD_TOPIC, lens[i] ? "a captured topic level is too long" : "a captured topic level is empty");
			return;
		}
		memcpy(d->capbuf[i], vals[i], lens[i]);
		d->capbuf[i][lens[i]] = '\0';
		d->tags[i] = d->capbuf[i];
	}
	if (!vals[TOPIC_CAP_CHANNEL] && !sc->channel && vals[TOPIC_CAP_QUANTITY])
		d->tags[TOPIC_CAP_CHANNEL] = d->tags[TOPIC_CAP_QUANTITY];
	if (*n > (size_t)sc->max_payload) {
		problem(d, R_TOO_LARGE, "payload larger than max_payload");
		return;
	}
	/* some C publishers send strlen + 1 bytes */
	if (*n && p[*n - 1] == '\0')
		(*n)--;
	if (payload_utf8_check(p, *n) < 0) {
		problem(d, R_BAD_UTF8, "not valid UTF-8 (or a NUL byte)");
		return;
	}
	switch (sc->format) {
	case CC_MQTT_NUMBER:
	case CC_MQTT_BOOL: decode_scalar(d, p, *n); break;
	case CC_MQTT_JSON: decode_json(d, p, *n); break;
	case CC_MQTT_INFLUX: decode_influx(d, p, *n); break;
	}
	if (d->n == 0 && !d->problems)
		problem(d, R_MISSING, "no value in the message");
}

void mqtt_decode_free(struct decode *d)
{
	if (d->smp != d->inl)
		free(d->smp);
}
