/* build.c - the engine built from the configuration: each room's
 * channels, limits (room over profile over defaults) and alarms, its lots
 * with their shelf-life parameters, the rules; and taken apart again. */
#include "engine_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../state.h"
#include "../util.h"
#include "../../util/hash.h"

/* The intern table: one copy of each distinct object, packed in 16 KiB
 * blocks and found by open addressing; freed with the engine.  Two kinds
 * use it: the names (a hub's 60,000 alarms named their room, sensor,
 * channel and rule with 240,000 strdups, 16 bytes of malloc header each)
 * and the alarms' configurations (a 64-byte copy each of a few hundred
 * distinct ones, issue 18: 3.5 MB). */
#define INTAB_BLK 16384
struct inblk {
	struct inblk *next;
	size_t used;
	max_align_t data[]; /* INTAB_BLK bytes, or one long object */
};
struct intab_kind {
	size_t size;  /* every object's size; 0: NUL-terminated strings */
	size_t align; /* of each object in a block */
	size_t first; /* slots at the first grow (a power of two) */
	size_t (*hash)(const void *p, size_t len);
};
struct intab {
	const struct intab_kind *kind;
	const void **slot;
	size_t size, n;
	struct inblk *blk;
};

static size_t intab_len(const struct intab *t, const void *p)
{
	return t->kind->size ? t->kind->size : strlen(p) + 1;
}

static void *intab_store(struct intab *t, const void *p, size_t len)
{
	unsigned char *at;
	size_t off = t->blk ? (t->blk->used + t->kind->align - 1) / t->kind->align * t->kind->align : 0;

	if (len > INTAB_BLK / 4) { /* a long one: its own block, behind the current one */
		struct inblk *b = xmalloc(offsetof(struct inblk, data) + len);
		b->used = len;
		b->next = t->blk ? t->blk->next : NULL;
		if (t->blk)
			t->blk->next = b;
		else
			t->blk = b;
		at = (unsigned char *)b->data;
	} else {
		if (!t->blk || off + len > INTAB_BLK) {
			struct inblk *b = xmalloc(offsetof(struct inblk, data) + INTAB_BLK);
			b->used = 0;
			b->next = t->blk;
			t->blk = b;
			off = 0;
		}
		at = (unsigned char *)t->blk->data + off;
		t->blk->used = off + len;
	}
	memcpy(at, p, len);
	return at;
}

static void intab_grow(struct intab *t)
{
	size_t size = t->size ? 2 * t->size : t->kind->first;
	const void **slot = xcalloc(size, sizeof(*slot));

	for (size_t i = 0; i < t->size; i++)
		if (t->slot[i]) {
			size_t j = t->kind->hash(t->slot[i], intab_len(t, t->slot[i])) & (size - 1);
			while (slot[j])
				j = (j + 1) & (size - 1);
			slot[j] = t->slot[i];
		}
	free(t->slot);
	t->slot = slot;
	t->size = size;
}

/* The one copy of the len bytes at p in *tp (made of kind at the first
 * call): equal bytes are the same object. */
static const void *intab_intern(struct intab **tp, const struct intab_kind *kind, const void *p, size_t len)
{
	struct intab *t;
	size_t i;

	if (!*tp) {
		*tp = xcalloc(1, sizeof(**tp));
		(*tp)->kind = kind;
	}
	t = *tp;
	if (2 * (t->n + 1) > t->size)
		intab_grow(t);
	for (i = kind->hash(p, len) & (t->size - 1); t->slot[i]; i = (i + 1) & (t->size - 1))
		if (intab_len(t, t->slot[i]) == len && memcmp(t->slot[i], p, len) == 0)
			return t->slot[i];
	t->n++;
	return t->slot[i] = intab_store(t, p, len);
}

static void intab_free(struct intab *t)
{
	if (!t)
		return;
	while (t->blk) {
		struct inblk *b = t->blk;
		t->blk = b->next;
		free(b);
	}
	free(t->slot);
	free(t);
}

static size_t str_hash(const char *s);

static size_t name_hash(const void *p, size_t len)
{
	(void)len;
	return str_hash(p);
}

static const struct intab_kind names_kind = { .size = 0, .align = 1, .first = 256, .hash = name_hash };

const char *build_intern(struct engine *e, const char *s)
{
	return s ? intab_intern(&e->strs, &names_kind, s, strlen(s) + 1) : NULL;
}

static size_t conf_hash(const void *c, size_t len)
{
	return hash_fold(fnv1a64(c, len));
}

static const struct intab_kind confs_kind = {
	.size = sizeof(struct econf), .align = _Alignof(struct econf), .first = 64, .hash = conf_hash
};

/* The one copy of c with rule and tail (interned; the deadband made >= 0;
 * the struct has no padding, so equal confs are equal bytes). */
_Static_assert(sizeof(struct alarm_conf) == 2 * sizeof(enum alarm_kind) + sizeof(enum alarm_severity) + sizeof(int) +
			       2 * sizeof(double) + 4 * sizeof(int64_t),
	       "struct alarm_conf has padding: conf_intern compares its bytes");
_Static_assert(sizeof(struct econf) == sizeof(struct alarm_conf) + 2 * sizeof(char *),
	       "struct econf has padding: conf_intern compares its bytes");

static const struct alarm_conf *conf_intern(struct engine *e, const struct alarm_conf *c, const char *rule,
					    const char *tail)
{
	struct econf k;
	const struct econf *x;

	memset(&k, 0, sizeof(k));
	k.c = *c;
	if (!(k.c.deadband >= 0))
		k.c.deadband = 0;
	k.rule = rule;
	k.tail = tail;
	x = intab_intern(&e->confs, &confs_kind, &k, sizeof(k));
	return &x->c;
}

/* A configured alarm's message in two interned parts (struct ealarm: the
 * head in msg, the tail returned in *tail for its conf); one made at run
 * time (a lot loaded, a batch) keeps a copy of its own in at, so the string
 * table holds only what the configuration names (bounded).  The bytes at
 * needs. */
static size_t alarm_message_store(struct engine *e, struct ealarm *a, const char *message, char *at,
				  const char **tail)
{
	const char *sep = e->building ? strstr(message, ": ") : NULL;
	size_t ml = strlen(message) + 1;

	*tail = NULL;
	if (sep) {
		char *head = xasprintf("%.*s", (int)(sep - message), message);
		a->msg = build_intern(e, head);
		a->msg_split = 1;
		*tail = build_intern(e, sep + 2);
		free(head);
		return 0;
	}
	if (at) {
		memcpy(at, message, ml);
		a->msg = at;
	}
	return ml;
}

/* The configured alarms live as long as the engine (a lot's, removed at run
 * time, leaves its place until then): one after another in blocks of 4 KiB
 * doubling to 64 KiB, 8-byte aligned, without malloc's header and 16-byte
 * steps (issue 18: ~16 bytes of each of a hub's 62,670 alarms). */
struct alarm_blk {
	struct alarm_blk *next;
	size_t size;
	_Alignas(8) unsigned char data[];
};

static struct ealarm *alarm_alloc(struct engine *e, size_t n)
{
	struct alarm_blk *b = e->ablk;
	struct ealarm *a;

	n = (n + 7) & ~(size_t)7;
	if (!b || b->size - e->aused < n) {
		size_t sz = b ? (b->size < 65536 ? 2 * b->size : b->size) : 4096;
		sz = sz < n ? n : sz;
		b = xmalloc(offsetof(struct alarm_blk, data) + sz);
		b->size = sz;
		b->next = e->ablk;
		e->ablk = b;
		e->aused = 0;
	}
	a = (struct ealarm *)(void *)(b->data + e->aused);
	e->aused += n;
	memset(a, 0, n);
	a->in_arena = 1;
	return a;
}

static void alarm_blks_free(struct engine *e)
{
	while (e->ablk) {
		struct alarm_blk *b = e->ablk;
		e->ablk = b->next;
		free(b);
	}
	e->aused = 0;
}

const char *ealarm_sensor(const struct ealarm *a, char *buf, size_t size)
{
	const char *ch = ealarm_channel(a), *sl;

	if (!ch)
		return NULL;
	sl = strchr(ch, '/');
	snprintf(buf, size, "%.*s", (int)(sl ? sl - ch : (ptrdiff_t)strlen(ch)), ch);
	return buf;
}

/* sensor: the part of channel before '/' (ealarm_sensor), or NULL with it. */
struct ealarm *build_alarm_new(struct engine *e, const char *id, const char *room, const char *sensor,
				const char *channel, const char *rule, const char *message, const struct alarm_conf *c)
{
	size_t il = strlen(id) + 1;
	struct ealarm a0 = { 0 };
	const char *tail;
	size_t ml = alarm_message_store(e, &a0, message, NULL, &tail);
	size_t n = offsetof(struct ealarm, text) + il + ml;
	struct ealarm *a = e->building ? alarm_alloc(e, n) : xcalloc(1, n);

	(void)sensor;
	memcpy(a->text, id, il);
	alarm_message_store(e, a, message, a->text + il, &tail);
	a->room = build_intern(e, room);
	a->has_chan = channel != NULL;
	alarm_init(&a->a, conf_intern(e, c, build_intern(e, rule), tail));
	a->a.cond_since_ms = e->start_ms;
	/* doubling: one realloc per alarm copied a hub's whole array each time */
	if ((e->nalarms & (e->nalarms - 1)) == 0 && e->nalarms >= 16)
		e->alarms = xrealloc(e->alarms, 2 * e->nalarms * sizeof(*e->alarms));
	else if (!e->alarms)
		e->alarms = xmalloc(16 * sizeof(*e->alarms));
	e->alarms[e->nalarms++] = a;
	return a;
}

void build_alarm_message_set(struct ealarm *a, char *msg)
{
	if (a->msg_own)
		free((char *)a->msg);
	a->msg_split = 0;
	a->msg = msg;
	a->msg_own = msg != NULL;
}

const char *build_alarm_message(const struct ealarm *a, char *buf, size_t size)
{
	if (!a->msg_split)
		return a->msg;
	snprintf(buf, size, "%s: %s", a->msg, ealarm_conf(a)->tail);
	return buf;
}

static char *sensor_of(const char *chid)
{
	const char *s = strchr(chid, '/');
	return s ? xasprintf("%.*s", (int)(s - chid), chid) : xstrdup(chid);
}

static int64_t channel_interval(const struct cc_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nbuses; i++)
		for (size_t j = 0; j < cfg->buses[i].ndevices; j++) {
			const struct cc_device_conf *d = &cfg->buses[i].devices[j];
			for (size_t k = 0; k < d->npoints; k++)
				if (d->points[k].ch.id && strcmp(d->points[k].ch.id, id) == 0)
					return d->interval_ms;
		}
	return 0;
}

static const char *channel_room(const struct cc_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->nbuses; i++)
		for (size_t j = 0; j < cfg->buses[i].ndevices; j++) {
			const struct cc_device_conf *d = &cfg->buses[i].devices[j];
			for (size_t k = 0; k < d->npoints; k++)
				if (d->points[k].ch.id && strcmp(d->points[k].ch.id, id) == 0)
					return d->room;
		}
	return NULL;
}

/* A word at a time (multiply-xorshift per 8 bytes): ids are short and
 * come from the configuration (no adversary); a per-byte hash cost a tenth
 * of a sample's whole evaluation. */
static size_t str_hash(const char *id)
{
	size_t n = strlen(id);
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;

	for (; n >= 8; n -= 8, id += 8) {
		memcpy(&w, id, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, id, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (size_t)h;
}

#define CHAN_LINEAR_MAX 8

static void chan_index_put(struct chan_slot *tab, size_t size, struct echan *ch, size_t h)
{
	size_t i = h & (size - 1);

	while (tab[i].ch)
		i = (i + 1) & (size - 1);
	tab[i].ch = ch;
	tab[i].hash = h;
}

/* Adds ch (already in e->chans) to the index, doubling it past half full. */
static void chan_index_add(struct engine *e, struct echan *ch)
{
	if (2 * e->nchans > e->chan_index_size) {
		size_t size = e->chan_index_size ? 2 * e->chan_index_size : 64;
		struct chan_slot *tab = xcalloc(size, sizeof(*tab));

		for (size_t i = 0; i < e->chan_index_size; i++)
			if (e->chan_index[i].ch)
				chan_index_put(tab, size, e->chan_index[i].ch, e->chan_index[i].hash);
		free(e->chan_index);
		e->chan_index = tab;
		e->chan_index_size = size;
	}
	chan_index_put(e->chan_index, e->chan_index_size, ch, str_hash(ch->id));
}

/* The string is compared only when the whole hash matches: a miss (96 % of
 * a hub's samples go to channels no room watches) touches the slots alone. */
struct echan *build_chan_find(const struct engine *e, const char *id)
{
	size_t h, mask = e->chan_index_size - 1;

	/* a few channels (one room): comparing them all is cheaper than a hash */
	if (e->nchans <= CHAN_LINEAR_MAX) {
		for (size_t i = 0; i < e->nchans; i++)
			if (strcmp(e->chans[i]->id, id) == 0)
				return e->chans[i];
		return NULL;
	}
	h = str_hash(id);
	for (size_t i = h & mask; e->chan_index[i].ch; i = (i + 1) & mask)
		if (e->chan_index[i].hash == h && strcmp(e->chan_index[i].ch->id, id) == 0)
			return e->chan_index[i].ch;
	return NULL;
}

struct echan *build_chan_get(struct engine *e, const char *id, const char *room)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	struct alarm_conf c = { .kind = ALARM_COND, .severity = ALARM_SEV_WARNING, .renotify_ms = ac->renotify_ms,
				.escalate_ms = ac->escalate_ms, .escalate_to = ALARM_SEV_CRITICAL };
	struct echan *ch;
	char *aid, *msg, *sensor;

	if ((ch = build_chan_find(e, id)) != NULL)
		return ch;
	ch = xcalloc(1, sizeof(*ch));
	ch->id = build_intern(e, id);
	ch->interval_ms = channel_interval(e->cfg, id);
	ch->value = NAN;
	ch->stuck_value = NAN;
	sensor = sensor_of(id);
	if (!room)
		room = channel_room(e->cfg, id);
	aid = xasprintf("%s:stale", id);
	msg = xasprintf("channel %s: no good reading (stale): loss of monitoring", id);
	ch->stale = build_alarm_new(e, aid, room, sensor, id, "stale", msg, &c);
	ch->stale->src = ch;
	free(aid);
	free(msg);
	c.on_delay_ms = ac->fault_delay_ms;
	aid = xasprintf("%s:fault", id);
	msg = xasprintf("channel %s: sensor fault (comm_error or out_of_range)", id);
	ch->fault = build_alarm_new(e, aid, room, sensor, id, "fault", msg, &c);
	ch->fault->src = ch;
	free(aid);
	free(msg);
	free(sensor);
	e->chans = xrealloc(e->chans, (e->nchans + 1) * sizeof(*e->chans));
	e->chans[e->nchans++] = ch;
	chan_index_add(e, ch);
	return ch;
}

static double pick(double room, double prof)
{
	return isnan(room) ? prof : room;
}

static void effective_limits(struct cc_limits *out, const struct cc_limits *room, const struct cc_profile *p,
			     const struct cc_alarms_conf *ac)
{
	struct cc_limits none;
	const struct cc_limits *pl;

	none.band_low = none.band_high = none.warn_low = none.warn_high = none.alarm_low = none.alarm_high = NAN;
	none.rh_warn_low = none.rh_alarm_low = none.rh_warn_high = none.rh_alarm_high = NAN;
	none.on_delay_ms = none.rh_on_delay_ms = ac->on_delay_ms;
	pl = p ? &p->limits : &none;
	out->band_low = pick(room->band_low, pl->band_low);
	out->band_high = pick(room->band_high, pl->band_high);
	out->warn_low = pick(room->warn_low, pl->warn_low);
	out->warn_high = pick(room->warn_high, pl->warn_high);
	out->alarm_low = pick(room->alarm_low, pl->alarm_low);
	out->alarm_high = pick(room->alarm_high, pl->alarm_high);
	out->rh_warn_low = pick(room->rh_warn_low, pl->rh_warn_low);
	out->rh_alarm_low = pick(room->rh_alarm_low, pl->rh_alarm_low);
	out->rh_warn_high = pick(room->rh_warn_high, pl->rh_warn_high);
	out->rh_alarm_high = pick(room->rh_alarm_high, pl->rh_alarm_high);
	out->on_delay_ms = room->on_delay_ms >= 0 ? room->on_delay_ms : pl->on_delay_ms;
	out->rh_on_delay_ms = room->rh_on_delay_ms >= 0 ? room->rh_on_delay_ms : pl->rh_on_delay_ms;
}

/* Where a room alarm's limit and on-delay come from. */
enum room_limit { LIM_NONE, LIM_ROOM, LIM_RATE, LIM_CO2, LIM_O2 };
enum room_delay { DELAY_NONE, DELAY_TEMP, DELAY_RH, DELAY_DOOR, DELAY_STUCK };

#define ROLE(x) (1u << (x))
#define SLOT(field) offsetof(struct eroom, field)
#define LIMIT(field) LIM_ROOM, offsetof(struct cc_limits, field)

/* One row per kind of room alarm, in the order they are built (which is
 * the order ticks evaluate them, so it decides which raises a flood
 * groups).  A level alarm (kind other than ALARM_COND) is built when its
 * limit is set and its channel exists; a condition when every channel in
 * needs exists.  The message follows "room NAME: "; a level's %g (or its
 * end) gets the limit.  "stuck" is the temperature channel's own alarm
 * (CHANNEL:stuck, one per channel whichever rooms read it). */
static const struct room_alarm_row {
	const char *rule;
	enum alarm_kind kind;
	int role;       /* the channel whose readings drive it, -1: none (ticks) */
	unsigned needs; /* a condition's channels */
	enum room_limit limit;
	size_t limit_off; /* LIM_ROOM: the field of the effective limits */
	enum room_delay delay;
	enum alarm_severity sev;
	double deadband; /* NAN: the alarms group's */
	int temp_kind;   /* defrost suppresses it */
	size_t slot;     /* the eroom field that holds it */
	const char *message;
} room_alarms[] = {
	{ "temp_high", ALARM_HIGH, R_TEMP, 0, LIMIT(warn_high), DELAY_TEMP, ALARM_SEV_WARNING, NAN, 1, SLOT(t_hi),
	  "air temperature above" },
	{ "temp_high_high", ALARM_HIGH_HIGH, R_TEMP, 0, LIMIT(alarm_high), DELAY_TEMP, ALARM_SEV_CRITICAL, NAN, 1,
	  SLOT(t_hh), "air temperature above" },
	{ "temp_low", ALARM_LOW, R_TEMP, 0, LIMIT(warn_low), DELAY_TEMP, ALARM_SEV_WARNING, NAN, 1, SLOT(t_lo),
	  "air temperature below" },
	{ "temp_low_low", ALARM_LOW_LOW, R_TEMP, 0, LIMIT(alarm_low), DELAY_TEMP, ALARM_SEV_CRITICAL, NAN, 1,
	  SLOT(t_ll), "air temperature below" },
	{ "rh_low", ALARM_LOW, R_RH, 0, LIMIT(rh_warn_low), DELAY_RH, ALARM_SEV_WARNING, NAN, 0, SLOT(rh_lo),
	  "relative humidity below" },
	{ "rh_low_low", ALARM_LOW_LOW, R_RH, 0, LIMIT(rh_alarm_low), DELAY_RH, ALARM_SEV_CRITICAL, NAN, 0,
	  SLOT(rh_ll), "relative humidity below" },
	{ "rh_high", ALARM_HIGH, R_RH, 0, LIMIT(rh_warn_high), DELAY_RH, ALARM_SEV_WARNING, NAN, 0, SLOT(rh_hi),
	  "relative humidity above" },
	{ "rh_high_high", ALARM_HIGH_HIGH, R_RH, 0, LIMIT(rh_alarm_high), DELAY_RH, ALARM_SEV_CRITICAL, NAN, 0,
	  SLOT(rh_hh), "relative humidity above" },
	{ "temp_rate", ALARM_HIGH, R_TEMP, 0, LIM_RATE, 0, DELAY_NONE, ALARM_SEV_WARNING, NAN, 1, SLOT(rate),
	  "air temperature rising faster than %g K/h (refrigeration failure?)" },
	{ "stuck", ALARM_COND, R_TEMP, ROLE(R_TEMP), LIM_NONE, 0, DELAY_STUCK, ALARM_SEV_WARNING, NAN, 0, 0,
	  "value unchanged (stuck sensor?)" },
	{ "door_open", ALARM_COND, R_DOOR, ROLE(R_DOOR), LIM_NONE, 0, DELAY_DOOR, ALARM_SEV_WARNING, NAN, 0,
	  SLOT(door), "door open too long" },
	{ "condensation", ALARM_COND, R_DOOR, ROLE(R_DOOR) | ROLE(R_OUT_T) | ROLE(R_OUT_RH) | ROLE(R_TEMP), LIM_NONE,
	  0, DELAY_NONE, ALARM_SEV_WARNING, NAN, 0, SLOT(condens),
	  "condensation risk: door open and outside dew point above product temperature" },
	{ "co2_high", ALARM_HIGH, R_CO2, 0, LIM_CO2, 0, DELAY_NONE, ALARM_SEV_CRITICAL, 100 /* ppm */, 0, SLOT(co2),
	  "CO2 above %g ppm (safety: do not enter)" },
	{ "o2_low", ALARM_LOW, R_O2, 0, LIM_O2, 0, DELAY_NONE, ALARM_SEV_CRITICAL, NAN, 0, SLOT(o2),
	  "O2 below %g % (safety: do not enter)" },
	{ "refrigeration_failure", ALARM_COND, -1, 0, LIM_NONE, 0, DELAY_NONE, ALARM_SEV_CRITICAL, NAN, 0,
	  SLOT(group), "refrigeration failure (alarm flood: the room's alarms are grouped here)" },
};

static double row_limit(const struct engine *e, const struct eroom *r, const struct room_alarm_row *w)
{
	switch (w->limit) {
	case LIM_ROOM: return *(const double *)((const char *)&r->lim + w->limit_off);
	case LIM_RATE: return e->cfg->alarms.rate_limit_kh > 0 ? e->cfg->alarms.rate_limit_kh : NAN;
	case LIM_CO2: return r->rc->co2_high_ppm;
	case LIM_O2: return r->rc->o2_low_pct;
	case LIM_NONE: break;
	}
	return NAN;
}

static int64_t row_delay(const struct engine *e, const struct eroom *r, const struct room_alarm_row *w)
{
	switch (w->delay) {
	case DELAY_TEMP: return r->lim.on_delay_ms;
	case DELAY_RH: return r->lim.rh_on_delay_ms;
	case DELAY_DOOR: return e->cfg->alarms.door_open_ms;
	case DELAY_STUCK: return e->cfg->alarms.stuck_after_ms;
	case DELAY_NONE: break;
	}
	return 0;
}

/* "room NAME: " + what, with what's one %g replaced by the limit. */
static char *xasprintf2_g(const char *room, const char *what, double limit)
{
	const char *g = strstr(what, "%g");
	return xasprintf("room %s: %.*s%g%s", room, (int)(g - what), what, limit, g + 2);
}

/* The temperature channel's stuck alarm: shared by the rooms reading the
 * channel, so built once. */
static void chan_stuck(struct engine *e, struct eroom *r, const struct room_alarm_row *w)
{
	struct alarm_conf c = { .kind = ALARM_COND, .on_delay_ms = row_delay(e, r, w), .severity = w->sev };
	struct echan *ch = r->ch[w->role];
	char *id, *msg, *sensor;

	if (c.on_delay_ms <= 0)
		return;
	if (!ch->stuck) {
		id = xasprintf("%s:%s", ch->id, w->rule);
		msg = xasprintf("channel %s: %s", ch->id, w->message);
		sensor = sensor_of(ch->id);
		ch->stuck = build_alarm_new(e, id, r->rc->name, sensor, ch->id, w->rule, msg, &c);
		free(id);
		free(msg);
		free(sensor);
	}
	ch->stuck->src = ch;
}

/* One row of room_alarms for room r: the alarm, or NULL when the room
 * lacks its limit or channels. */
static struct ealarm *room_alarm(struct engine *e, struct eroom *r, const struct room_alarm_row *w)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	int level = w->kind != ALARM_COND;
	struct alarm_conf c = { .kind = w->kind, .limit = row_limit(e, r, w), .on_delay_ms = row_delay(e, r, w),
				.severity = w->sev, .renotify_ms = ac->renotify_ms, .escalate_ms = ac->escalate_ms,
				.escalate_to = ALARM_SEV_CRITICAL };
	struct echan *ch = w->role >= 0 ? r->ch[w->role] : NULL;
	struct ealarm *a;
	char *id, *msg, *sensor;

	for (int i = 0; i < R_N; i++)
		if ((w->needs & ROLE(i)) && !r->ch[i])
			return NULL;
	if (level && (isnan(c.limit) || !ch))
		return NULL;
	if (level) {
		c.deadband = isnan(w->deadband) ? ac->deadband : w->deadband;
		c.off_delay_ms = ac->off_delay_ms;
	}
	id = xasprintf("%s/%s", r->rc->name, w->rule);
	if (level && strstr(w->message, "%g"))
		msg = xasprintf2_g(r->rc->name, w->message, c.limit);
	else if (level)
		msg = xasprintf("room %s: %s %g", r->rc->name, w->message, c.limit);
	else
		msg = xasprintf("room %s: %s", r->rc->name, w->message);
	sensor = ch ? sensor_of(ch->id) : NULL;
	a = build_alarm_new(e, id, r->rc->name, sensor, ch ? ch->id : NULL, w->rule, msg, &c);
	a->src = ch;
	a->temp_kind = w->temp_kind;
	free(id);
	free(msg);
	free(sensor);
	return a;
}

/* p in the engine's table of lot parameters: the copy of equal bytes
 * (one per profile and reading interval), else a new one.  Only the first
 * LPARAMS_SEARCH entries are searched (a configuration of as many
 * distinct intervals keeps its start-up linear). */
#define LPARAMS_SEARCH 256
static const struct lot_params *lot_params_share(struct engine *e, const struct lot_params *p)
{
	struct lot_params *n;

	for (size_t i = 0; i < e->nlparams && i < LPARAMS_SEARCH; i++)
		if (memcmp(e->lparams[i], p, sizeof(*p)) == 0)
			return e->lparams[i];
	e->lparams = xrealloc(e->lparams, (e->nlparams + 1) * sizeof(*e->lparams));
	n = xmalloc(sizeof(*n));
	memcpy(n, p, sizeof(*n));
	e->lparams[e->nlparams++] = n;
	return n;
}

/* The lot's model parameters from its profile p (NULL: the defaults). */
static void lot_params_from(struct lot_params *lp, const struct cc_profile *p, double dt_cap_s)
{
	memset(lp, 0, sizeof(*lp)); /* padding too: shared by memcmp */
	lot_params_default(lp);
	lp->dt_cap_s = dt_cap_s;
	lp->loaded_ns = 0; /* the lot's own (struct elot) */
	lp->pre_c = NAN;
	if (!p)
		return;
	lp->sl.kind = p->model == CC_MODEL_ARRHENIUS ? SL_ARRHENIUS : p->model == CC_MODEL_Q10 ? SL_Q10
		      : p->model == CC_MODEL_SQRT ? SL_SQRT : p->model == CC_MODEL_PIECEWISE_Q10 ? SL_PIECEWISE_Q10
		      : SL_NONE;
	lp->sl.t_ref_c = p->t_ref_c;
	lp->sl.sl_ref_h = (double)p->shelf_life_ms / 3600000.0;
	lp->sl.ea_j_mol = p->ea_kj_mol * 1000.0;
	lp->sl.q10 = p->q10;
	lp->sl.t_min_c = p->t_min_c;
	lp->sl.npw = p->npw;
	memcpy(lp->sl.pw_upper_c, p->pw_upper_c, sizeof(p->pw_upper_c));
	memcpy(lp->sl.pw_q10, p->pw_q10, sizeof(p->pw_q10));
	lp->sl.valid_min_c = p->valid_min_c;
	lp->sl.valid_max_c = p->valid_max_c;
	lp->mkt_dh_r_k = p->mkt_dh_r_k;
	lp->dh_thr_c = isnan(p->degree_threshold_c) ? INFINITY : p->degree_threshold_c;
	lp->chill_thr_c = isnan(p->chill_threshold_c) ? -INFINITY : p->chill_threshold_c;
	lp->aw = p->aw;
	lp->kt_fresh = p->kt_fresh;
	lp->kt_dry = p->kt_dry;
	lp->wl_crit = p->wl_crit_pct / 100.0;
	lp->tau_h = (double)p->tau_ms / 3600000.0;
}

void build_lot(struct engine *e, struct eroom *r, struct elot *l, const struct cc_lot_conf *lc)
{
	const struct cc_profile *p = lc->profile;
	struct alarm_conf c = { .kind = ALARM_COND, .severity = ALARM_SEV_WARNING };
	char *id, *msg;
	int64_t iv = r->ch[R_TEMP] ? r->ch[R_TEMP]->interval_ms : 0;
	struct lot_params lp;

	l->lc = lc;
	l->prof = p;
	lot_state_init(&l->s);
	lot_params_from(&lp, p, iv > 0 ? 3.0 * (double)iv / 1000.0 : (double)e->cfg->alarms.stale_after_ms / 1000.0);
	l->p = lot_params_share(e, &lp);
	l->loaded_ns = lc->loaded_ns;
	l->pre_c = NAN;
	if (!p)
		return;
	l->pre_c = isnan(lc->pre_c) ? p->pre_monitoring_c : lc->pre_c;

#define LOT_ALARM(field, rule, sev, fmt, ...)                                                          \
	do {                                                                                           \
		c.severity = sev;                                                                      \
		id = xasprintf("%s/%s/%s", r->rc->name, lc->id, rule);                                 \
		msg = xasprintf("lot %s (%s) in room %s: " fmt, lc->id, p->name, r->rc->name, __VA_ARGS__); \
		l->field = build_alarm_new(e, id, r->rc->name, NULL, NULL, rule, msg, &c);                   \
		l->field->src = r->ch[R_TEMP];                                                         \
		free(id);                                                                              \
		free(msg);                                                                             \
	} while (0)
	if (!isnan(p->chill_warn_kh))
		LOT_ALARM(chill_warn, "chill_warn", ALARM_SEV_WARNING, "chilling dose above %g K·h", p->chill_warn_kh);
	if (!isnan(p->chill_alarm_kh))
		LOT_ALARM(chill_alarm, "chill_alarm", ALARM_SEV_CRITICAL, "chilling dose above %g K·h",
			  p->chill_alarm_kh);
	if (p->kt_fresh > 0) {
		LOT_ALARM(wl_warn, "weight_loss_warn", ALARM_SEV_WARNING, "weight loss above %g %%", p->wl_warn_pct);
		LOT_ALARM(wl_alarm, "weight_loss", ALARM_SEV_CRITICAL, "weight loss above %g %%", p->wl_crit_pct);
	}
	if (p->model != CC_MODEL_NONE && p->remaining_warn_ms > 0)
		LOT_ALARM(life_low, "shelf_life_low", ALARM_SEV_INFO, "remaining shelf life below %g h",
			  (double)p->remaining_warn_ms / 3600000.0);
	if (p->model != CC_MODEL_NONE && lc->dispatch)
		LOT_ALARM(dispatch, "end_of_life_before_dispatch", ALARM_SEV_INFO,
			  "will reach end of life before its planned dispatch %s", lc->dispatch);
#undef LOT_ALARM
}

static void room_build(struct engine *e, struct eroom *r, const struct cc_room_conf *rc)
{
	const char *ids[R_N] = { rc->temperature, rc->humidity, rc->door, rc->defrost,
				 rc->outside_temperature, rc->outside_humidity, rc->co2, rc->o2 };

	r->rc = rc;
	r->prof = rc->prof;
	for (int i = 0; i < R_N; i++) {
		struct echan *ch = ids[i] ? build_chan_get(e, ids[i], rc->name) : NULL;
		r->ch[i] = ch;
		r->v[i] = NAN;
		if (ch) {
			ch->uses = xrealloc(ch->uses, (ch->nuses + 1) * sizeof(*ch->uses));
			ch->uses[ch->nuses++] = (struct echan_use){ .room = (uint32_t)(r - e->rooms), .role = i };
		}
	}
	effective_limits(&r->lim, &rc->limits, r->prof, &e->cfg->alarms);
	for (size_t i = 0; i < sizeof(room_alarms) / sizeof(room_alarms[0]); i++) {
		const struct room_alarm_row *w = &room_alarms[i];
		if (strcmp(w->rule, "stuck") == 0) {
			if (r->ch[w->role])
				chan_stuck(e, r, w);
		} else {
			*(struct ealarm **)((char *)r + w->slot) = room_alarm(e, r, w);
		}
	}
	r->nlots = rc->nlots;
	r->lots = xcalloc(rc->nlots + 1, sizeof(*r->lots));
	for (size_t i = 0; i < rc->nlots; i++)
		build_lot(e, r, &r->lots[i], &rc->lots[i]);
}

static void rule_build(struct engine *e, struct erule *u, const struct cc_rule_conf *uc)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;
	static const enum alarm_kind kinds[] = { ALARM_HIGH, ALARM_HIGH_HIGH, ALARM_LOW, ALARM_LOW_LOW, ALARM_HIGH,
						 ALARM_COND };
	struct alarm_conf c = { 0 };
	enum alarm_severity sev = ALARM_SEV_WARNING;
	const char *room = uc->room ? uc->room : channel_room(e->cfg, uc->channel);
	char *id = xasprintf("rule:%s", uc->name), *msg, *sensor = sensor_of(uc->channel);

	alarm_severity_parse(uc->severity ? uc->severity : "warning", &sev);
	u->uc = uc;
	u->ch = build_chan_get(e, uc->channel, room);
	u->ch->ruled = 1;
	u->last = NAN;
	c.kind = kinds[uc->type];
	c.limit = uc->limit;
	c.deadband = isnan(uc->deadband) ? ac->deadband : uc->deadband;
	c.on_delay_ms = uc->on_delay_ms >= 0 ? uc->on_delay_ms : uc->type == CC_RULE_STUCK ? ac->stuck_after_ms
											: ac->on_delay_ms;
	c.off_delay_ms = uc->off_delay_ms >= 0 ? uc->off_delay_ms : ac->off_delay_ms;
	c.severity = sev;
	c.latched = uc->latched;
	c.renotify_ms = ac->renotify_ms;
	c.escalate_ms = ac->escalate_ms;
	c.escalate_to = ALARM_SEV_CRITICAL;
	switch (uc->type) {
	case CC_RULE_RATE: msg = xasprintf("channel %s: rising faster than %g per hour", uc->channel, uc->limit); break;
	case CC_RULE_STUCK: msg = xasprintf("channel %s: value unchanged (stuck)", uc->channel); break;
	case CC_RULE_LOW:
	case CC_RULE_LOW_LOW: msg = xasprintf("channel %s: below %g", uc->channel, uc->limit); break;
	default: msg = xasprintf("channel %s: above %g", uc->channel, uc->limit); break;
	}
	u->al = build_alarm_new(e, id, room, sensor, uc->channel, uc->name, msg, &c);
	u->al->src = u->ch;
	free(id);
	free(msg);
	free(sensor);
}

/* A channel that only process lines read (no room role, no rule): its
 * stale and fault alarms run only while a batch is on its line (eval.c). */
static void build_line_only(struct engine *e)
{
	for (size_t i = 0; i < e->nchans; i++)
		e->chans[i]->line_only = e->chans[i]->proc != NULL;
	for (size_t i = 0; i < e->nrooms; i++)
		for (int k = 0; k < R_N; k++)
			if (e->rooms[i].ch[k])
				e->rooms[i].ch[k]->line_only = 0;
	for (size_t i = 0; i < e->nrules; i++)
		e->rules[i].ch->line_only = 0;
}

/* sv: a reload's hand-over (NULL: the state file). */
static struct engine *engine_build(const struct cc_config *cfg, const struct engine_callbacks *cb,
				   struct engine_saved *sv)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	size_t nl = 0;

	e->cfg = cfg;
	if (cb)
		e->cb = *cb;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->save_lock, NULL);
	e->start_ms = time_now_ns() / 1000000;
	e->now_ms = e->start_ms;
	e->nrooms = cfg->nrooms;
	e->building = 1;
	e->rooms = xcalloc(cfg->nrooms + 1, sizeof(*e->rooms));
	for (size_t i = 0; i < cfg->nrooms; i++) {
		room_build(e, &e->rooms[i], &cfg->rooms[i]);
		nl += cfg->rooms[i].nlots;
	}
	e->nrules = cfg->alarms.nrules;
	e->rules = xcalloc(e->nrules + 1, sizeof(*e->rules));
	for (size_t i = 0; i < e->nrules; i++)
		rule_build(e, &e->rules[i], &cfg->alarms.rules[i]);
	e->building = 0;
	batch_build(e);
	build_line_only(e);
	trend_build(e);
	e->next_sl_ms = e->start_ms + cfg->alarms.shelf_life_interval_ms;
	e->next_snap_ms = e->start_ms + SNAPSHOT_MS;
	e->next_trend_ms = e->start_ms + TREND_SAVE_MS; /* a hand-over keeps the old engine's */
	e->trend_file_max = STATE_MAX_BYTES;
	if (sv) {
		snapshot_restore_saved(e, sv);
	} else {
		snapshot_restore(e);
		trend_load(e);
	}
	if (e->nrooms || e->nrules)
		log_info("engine: %zu %s, %zu %s, %zu %s, %zu %s, %zu %s watched", e->nrooms,
			 plural(e->nrooms, "room", "rooms"), nl, plural(nl, "lot", "lots"), e->nrules,
			 plural(e->nrules, "rule", "rules"), e->nalarms, plural(e->nalarms, "alarm", "alarms"), e->nchans,
			 plural(e->nchans, "channel", "channels"));
	return e;
}

void build_alarm_free(struct ealarm *a)
{
	build_alarm_message_set(a, NULL);
	if (!a->in_arena)
		free(a);
}

struct engine *engine_new(const struct cc_config *cfg, const struct engine_callbacks *cb)
{
	return engine_build(cfg, cb, NULL);
}

struct engine *engine_new_from(const struct cc_config *cfg, const struct engine_callbacks *cb,
			       struct engine_saved *sv)
{
	return engine_build(cfg, cb, sv);
}

static void engine_release(struct engine *e);

/* The state file now; the rooms' day too when trend (a stop). */
static void save(struct engine *e, int trend)
{
	pthread_mutex_lock(&e->lock);
	if (e->nalarms || e->nrooms || e->nbatches)
		snapshot_take(e, time_now_ns() / 1000000, trend);
	pthread_mutex_unlock(&e->lock);
	snapshot_write(e);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	save(e, 1);
	engine_release(e);
}

void engine_save(struct engine *e)
{
	save(e, 0);
}

struct engine_saved *engine_free_saved(struct engine *e)
{
	struct engine_saved *sv;

	if (!e)
		return NULL;
	sv = snapshot_keep(e);
	engine_release(e);
	return sv;
}

/* Frees e and everything it holds; its state was written or kept. */
static void engine_release(struct engine *e)
{
	lots_free(e);
	batch_free_all(e);
	for (size_t i = 0; i < e->nlparams; i++)
		free(e->lparams[i]);
	free(e->lparams);
	for (size_t i = 0; i < e->nalarms; i++)
		build_alarm_free(e->alarms[i]);
	free(e->alarms);
	for (size_t i = 0; i < e->nchans; i++) {
		trend_free(e->chans[i]);
		free(e->chans[i]->uses);
		free(e->chans[i]);
	}
	free(e->chans);
	free(e->chan_index);
	for (size_t i = 0; i < e->nrooms; i++) {
		free(e->rooms[i].lots);
		free(e->rooms[i].roc);
		free(e->rooms[i].flood);
	}
	for (size_t i = 0; i < e->nrules; i++)
		free(e->rules[i].roc);
	free(e->rooms);
	free(e->rules);
	for (size_t i = 0; i < e->nnotify; i++) {
		free(e->notify[i]->key);
		free(e->notify[i]);
	}
	free(e->notify);
	intab_free(e->strs);
	intab_free(e->confs);
	alarm_blks_free(e);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->save_lock);
	free(e);
}
