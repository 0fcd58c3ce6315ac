/* status.c - the engine's status for the control socket: rooms with
 * their readings and lots, and every alarm that is not quiet; as a cJSON
 * tree (the web pages, tests) and written straight as text (the control
 * socket's reply: a hub's is megabytes), with the same members. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/jsonw.h"
#include "../sample.h"
#include "../util.h"

static const char *const roles[R_N] = { "temperature",	       "humidity",	   "door", "defrost",
					"outside_temperature", "outside_humidity", "co2",  "o2" };

const char *engine_room_site(const struct cc_config *cfg, const char *room, char *buf, size_t n)
{
	const char *slash = room ? strchr(room, '/') : NULL;

	if (!slash || slash == room)
		return cfg->site;
	snprintf(buf, n, "%.*s", (int)(slash - room), room);
	return buf;
}

/* 1 when room (a name, NULL: an alarm of no room) passes f. */
static int room_wanted(const struct engine *e, const struct engine_status_filter *f, const char *room)
{
	char b[256];

	if (!f)
		return 1;
	if (f->room && (!room || strcmp(f->room, room) != 0))
		return 0;
	if (f->site && strcmp(f->site, engine_room_site(e->cfg, room, b, sizeof(b))) != 0)
		return 0;
	return 1;
}

/* A reading's quality word. */
static const char *chan_quality(const struct engine *e, const struct echan *ch, int64_t now)
{
	int64_t lim = ch->interval_ms > 0 ? e->cfg->alarms.stale_intervals * ch->interval_ms : e->cfg->alarms.stale_after_ms;

	if (!ch->last_ms)
		return "none";
	return now - ch->last_good_ms > lim ? "stale" : quality_name((enum cc_quality)ch->last_q);
}

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
	char tbuf[64];
	publish_fmt_time(ms * 1000000LL, tbuf, sizeof(tbuf));
	cJSON_AddStringToObject(o, k, tbuf);
}

/* A lot's figures, in the order of the status object's numbers. */
enum { LF_CONSUMED, LF_REMAINING, LF_AT_PLAN, LF_MKT, LF_PRODUCT, LF_OBSERVED, LF_NO_DATA, LF_N };
static const char *const lot_keys[LF_N] = { "consumed", "remaining_h", "remaining_h_at_plan", "mkt_c",
					    "product_c", "observed_h", "no_data_h" };

static void lot_figures(const struct elot *l, const struct eroom *r, double f[LF_N])
{
	const struct cc_profile *p = l->prof;
	double tnow = lots_air_now(l, r);
	double plan = p ? (isnan(l->lc->plan_c) ? p->t_ref_c : l->lc->plan_c) : NAN;
	int model = p && p->model != CC_MODEL_NONE;

	f[LF_CONSUMED] = model ? l->s.consumed : NAN;
	f[LF_REMAINING] = model ? lot_remaining_h(&l->s, l->p, tnow) : NAN;
	f[LF_AT_PLAN] = model ? lot_remaining_h(&l->s, l->p, plan) : NAN;
	f[LF_MKT] = lot_mkt_c(&l->s, l->p);
	f[LF_PRODUCT] = l->s.product_c;
	f[LF_OBSERVED] = l->s.observed_h;
	f[LF_NO_DATA] = l->s.no_data_h;
}

/* 1 when the status lists the alarm (not quiet, or shelved). */
static int alarm_listed(const struct ealarm *ea, int64_t now, int *shelved)
{
	*shelved = alarm_is_shelved(&ea->a, now);
	return alarm_state(&ea->a) != ALARM_INACTIVE || *shelved;
}

/* --- as a cJSON tree ------------------------------------------------------ */

/* The listed alarms f lets through (a slice of them when f->alarms_max),
 * *total: how many it lets through. */
static cJSON *alarms_json(struct engine *e, int64_t now, const struct engine_status_filter *f, size_t *total)
{
	cJSON *arr = cJSON_CreateArray();
	size_t from = f && f->alarms_max ? f->alarms_skip : 0, to = f && f->alarms_max ? from + f->alarms_max : SIZE_MAX;

	*total = 0;
	for (size_t i = 0; i < e->nalarms; i++) {
		const struct ealarm *ea = e->alarms[i];
		const struct alarm *a = &ea->a;
		int shelved;
		char msg[ALARM_MSG_MAX];
		cJSON *x;
		if (!alarm_listed(ea, now, &shelved) || !room_wanted(e, f, ea->room) || (*total)++ < from ||
		    *total > to)
			continue;
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", ealarm_id(ea));
		cJSON_AddStringToObject(x, "state", alarm_state_name(alarm_state(a)));
		cJSON_AddStringToObject(x, "severity", alarm_severity_name(a->sev));
		if (ea->room)
			cJSON_AddStringToObject(x, "room", ea->room);
		if (ealarm_channel(ea))
			cJSON_AddStringToObject(x, "channel", ealarm_channel(ea));
		cJSON_AddStringToObject(x, "rule", ealarm_rule(ea));
		add_num(x, "value", a->value);
		add_num(x, "limit", a->c->limit);
		if (a->active)
			add_time(x, "active_since", a->active_since_ms);
		cJSON_AddBoolToObject(x, "shelved", shelved);
		if (shelved)
			add_time(x, "shelved_until", a->shelved_until_ms);
		cJSON_AddBoolToObject(x, "suppressed", a->suppressed);
		cJSON_AddBoolToObject(x, "latched", a->held);
		cJSON_AddStringToObject(x, "message", build_alarm_message(ea, msg, sizeof(msg)));
		cJSON_AddItemToArray(arr, x);
	}
	return arr;
}

static cJSON *lot_json(const struct elot *l, const struct eroom *r)
{
	const struct cc_profile *p = l->prof;
	double f[LF_N];
	cJSON *y = cJSON_CreateObject();

	cJSON_AddStringToObject(y, "id", l->lc->id);
	cJSON_AddStringToObject(y, "product", l->lc->product);
	if (p && p->version)
		cJSON_AddStringToObject(y, "profile_version", p->version);
	cJSON_AddStringToObject(y, "loaded", l->lc->loaded ? l->lc->loaded : "");
	if (l->lc->dispatch)
		cJSON_AddStringToObject(y, "dispatch", l->lc->dispatch);
	cJSON_AddBoolToObject(y, "runtime", l->own != NULL);
	lot_figures(l, r, f);
	for (int k = 0; k < LF_N; k++)
		add_num(y, lot_keys[k], f[k]);
	if (isfinite(l->lc->pre_c))
		cJSON_AddNumberToObject(y, "pre_c", l->lc->pre_c);
	if (l->history)
		cJSON_AddItemToObject(y, "history", cJSON_Duplicate(l->history, 1));
	return y;
}

/* The least remaining life of a room's lots (NaN: none has one). */
static double room_least(const struct eroom *r)
{
	double least = NAN;

	for (size_t j = 0; j < r->nlots; j++) {
		const struct elot *l = &r->lots[j];
		double rem;
		if (!l->prof || l->prof->model == CC_MODEL_NONE)
			continue;
		rem = lot_remaining_h(&l->s, l->p, lots_air_now(l, r));
		if (isfinite(rem) && !(rem >= least))
			least = rem;
	}
	return least;
}

static cJSON *rooms_json(struct engine *e, int64_t now, const struct engine_status_filter *f)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < e->nrooms; i++) {
		struct eroom *r = &e->rooms[i];
		cJSON *x, *rd, *lots;
		if (!room_wanted(e, f, r->rc->name))
			continue;
		x = cJSON_CreateObject();
		rd = cJSON_CreateArray();
		lots = cJSON_CreateArray();
		cJSON_AddStringToObject(x, "name", r->rc->name);
		if (r->prof)
			cJSON_AddStringToObject(x, "profile", r->prof->name);
		add_num(x, "band_low", r->lim.band_low);
		add_num(x, "band_high", r->lim.band_high);
		for (int k = 0; k < R_N; k++) {
			const struct echan *ch = r->ch[k];
			cJSON *y;
			if (!ch)
				continue;
			y = cJSON_CreateObject();
			cJSON_AddStringToObject(y, "role", roles[k]);
			cJSON_AddStringToObject(y, "channel", ch->id);
			add_num(y, "value", ch->value);
			add_num(y, "age_s", ch->last_good_ms ? (double)(now - ch->last_good_ms) / 1000.0 : NAN);
			cJSON_AddStringToObject(y, "quality", chan_quality(e, ch, now));
			cJSON_AddItemToArray(rd, y);
		}
		cJSON_AddItemToObject(x, "readings", rd);
		for (size_t j = 0; j < r->nlots; j++)
			cJSON_AddItemToArray(lots, lot_json(&r->lots[j], r));
		cJSON_AddItemToObject(x, "lots", lots);
		cJSON_AddItemToArray(arr, x);
	}
	return arr;
}

cJSON *engine_status_json_filtered(struct engine *e, int rooms, const struct engine_status_filter *f)
{
	cJSON *o;
	int64_t now = time_now_ns() / 1000000;
	size_t total;

	if (!e)
		return NULL;
	pthread_mutex_lock(&e->lock);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "site", e->cfg->site);
	if (rooms)
		cJSON_AddItemToObject(o, "rooms", rooms_json(e, now, f));
	cJSON_AddItemToObject(o, "alarms", alarms_json(e, now, f, &total));
	pthread_mutex_unlock(&e->lock);
	if (f && f->alarms_max)
		cJSON_AddNumberToObject(o, "alarms_total", (double)total);
	return o;
}

cJSON *engine_status_json(struct engine *e, int rooms)
{
	return engine_status_json_filtered(e, rooms, NULL);
}

int engine_lot_room(struct engine *e, const char *id, char **room)
{
	int rc = -ENOENT;

	*room = NULL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nrooms && rc; i++)
		for (size_t j = 0; j < e->rooms[i].nlots && rc; j++)
			if (strcmp(e->rooms[i].lots[j].lc->id, id) == 0) {
				*room = xstrdup(e->rooms[i].rc->name);
				rc = 0;
			}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int engine_ids(struct engine *e, int lots, struct engine_ids *out)
{
	int64_t now = time_now_ns() / 1000000;
	size_t cap = 0;
	int shelved;

	out->v = NULL;
	out->n = 0;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (lots) {
		for (size_t i = 0; i < e->nrooms; i++)
			cap += e->rooms[i].nlots;
	} else {
		cap = e->nalarms;
	}
	out->v = xcalloc(cap + 1, sizeof(*out->v));
	for (size_t i = 0; lots && i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++)
			out->v[out->n++] = xstrdup(e->rooms[i].lots[j].lc->id);
	for (size_t i = 0; !lots && i < e->nalarms; i++)
		if (alarm_listed(e->alarms[i], now, &shelved))
			out->v[out->n++] = xstrdup(ealarm_id(e->alarms[i]));
	pthread_mutex_unlock(&e->lock);
	return 0;
}

void engine_ids_free(struct engine_ids *ids)
{
	for (size_t i = 0; i < ids->n; i++)
		free(ids->v[i]);
	free(ids->v);
	ids->v = NULL;
	ids->n = 0;
}

/* --- written as text ------------------------------------------------------ */

/* engine_status_write copies what the reply needs under the engine's lock
 * (compact records, their strings in one block) and formats it without the
 * lock: a hub's 142 KB reply held every sample back while its numbers were
 * printed and its strings escaped.  Strings are copied, not pointed to: a
 * runtime lot may go while the reply is formatted. */
#define SN_NONE ((size_t)-1) /* a string that is absent */
struct sn_read {
	int role;
	size_t chan;
	double value, age_s;
	const char *quality; /* static */
};
struct sn_lot {
	size_t id, product, profile_version, loaded, dispatch, history;
	int runtime;
	double f[LF_N], pre_c;
};
struct sn_room {
	size_t name, profile, r0, nr, l0, nl;
	double band_low, band_high;
};
struct sn_alarm {
	size_t id, room, channel, rule, message;
	const char *state, *severity; /* static */
	double value, limit;
	int64_t active_since_ms, shelved_until_ms;
	int active, shelved, suppressed, latched;
};
struct sn_vec {
	void *v;
	size_t n, cap;
};
struct snap {
	struct sn_vec chars, rooms, reads, lots, alarms;
	size_t site;
	int totals; /* rooms_total, lots_total, rooms_open_unlisted, alarm_counts */
	double nrooms, nlots, more, counts[4];
	int err;
};

/* A new zeroed element of size at the end of v, NULL (s->err) when out of
 * memory. */
static void *sn_push(struct snap *s, struct sn_vec *v, size_t size, size_t count)
{
	char *p;

	if (s->err)
		return NULL;
	if (v->n + count > v->cap) {
		size_t cap = v->cap ? v->cap : 64;
		while (cap < v->n + count)
			cap *= 2;
		if (!(p = realloc(v->v, cap * size))) {
			s->err = -ENOMEM;
			return NULL;
		}
		v->v = p;
		v->cap = cap;
	}
	p = (char *)v->v + v->n * size;
	memset(p, 0, count * size);
	v->n += count;
	return p;
}

/* str's copy (an offset into s->chars), SN_NONE for NULL. */
static size_t sn_str(struct snap *s, const char *str)
{
	size_t len, at = s->chars.n;
	char *p;

	if (!str)
		return SN_NONE;
	len = strlen(str) + 1;
	if (!(p = sn_push(s, &s->chars, 1, len)))
		return SN_NONE;
	memcpy(p, str, len);
	return at;
}

static const char *sn_at(const struct snap *s, size_t off)
{
	return off == SN_NONE ? NULL : (const char *)s->chars.v + off;
}

static void sn_free(struct snap *s)
{
	free(s->chars.v);
	free(s->rooms.v);
	free(s->reads.v);
	free(s->lots.v);
	free(s->alarms.v);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Rooms (sorted names) whose alarms are listed: all when NULL. */
struct listed {
	const char **v;
	size_t n;
};

/* The alarms (of the listed rooms only, when ls->v), under the lock. */
static void alarms_snap(struct engine *e, int64_t now, const struct engine_status_filter *f, const struct listed *ls,
			struct snap *s)
{
	for (size_t i = 0; i < e->nalarms && !s->err; i++) {
		const struct ealarm *ea = e->alarms[i];
		const struct alarm *a = &ea->a;
		struct sn_alarm *x;
		int shelved;
		char msg[ALARM_MSG_MAX];
		if (!alarm_listed(ea, now, &shelved) || !room_wanted(e, f, ea->room))
			continue;
		if (ls->v && (!ea->room || !bsearch(&ea->room, ls->v, ls->n, sizeof(*ls->v), cmp_name)))
			continue;
		if (!(x = sn_push(s, &s->alarms, sizeof(*x), 1)))
			break;
		x->state = alarm_state_name(alarm_state(a));
		x->severity = alarm_severity_name(a->sev);
		x->value = a->value;
		x->limit = a->c->limit;
		x->active = a->active != 0;
		x->active_since_ms = a->active_since_ms;
		x->shelved = shelved;
		x->shelved_until_ms = a->shelved_until_ms;
		x->suppressed = a->suppressed != 0;
		x->latched = a->held != 0;
		x->id = sn_str(s, ealarm_id(ea)); /* x stays valid: the strings are another block */
		x->room = sn_str(s, ea->room);
		x->channel = sn_str(s, ealarm_channel(ea));
		x->rule = sn_str(s, ealarm_rule(ea));
		x->message = sn_str(s, build_alarm_message(ea, msg, sizeof(msg)));
	}
}

static void lot_snap(const struct elot *l, const struct eroom *r, struct snap *s)
{
	const struct cc_profile *p = l->prof;
	struct sn_lot *x = sn_push(s, &s->lots, sizeof(*x), 1);
	char *h;

	if (!x)
		return;
	x->runtime = l->own != NULL;
	lot_figures(l, r, x->f);
	x->pre_c = l->lc->pre_c;
	x->id = sn_str(s, l->lc->id);
	x->product = sn_str(s, l->lc->product);
	x->profile_version = sn_str(s, p ? p->version : NULL);
	x->loaded = sn_str(s, l->lc->loaded ? l->lc->loaded : "");
	x->dispatch = sn_str(s, l->lc->dispatch);
	x->history = SN_NONE;
	if (l->history) { /* small and rare (a released batch's steps) */
		if ((h = cJSON_PrintUnformatted(l->history)) != NULL)
			x->history = sn_str(s, h);
		else
			s->err = -ENOMEM;
		cJSON_free(h);
	}
}

static void room_snap(struct engine *e, const struct eroom *r, int64_t now, struct snap *s)
{
	struct sn_room *x = sn_push(s, &s->rooms, sizeof(*x), 1);

	if (!x)
		return;
	x->band_low = r->lim.band_low;
	x->band_high = r->lim.band_high;
	x->name = sn_str(s, r->rc->name);
	x->profile = sn_str(s, r->prof ? r->prof->name : NULL);
	x->r0 = s->reads.n;
	for (int k = 0; k < R_N; k++) {
		const struct echan *ch = r->ch[k];
		struct sn_read *y;
		if (!ch || !(y = sn_push(s, &s->reads, sizeof(*y), 1)))
			continue;
		y->role = k;
		y->value = ch->value;
		y->age_s = ch->last_good_ms ? (double)(now - ch->last_good_ms) / 1000.0 : NAN;
		y->quality = chan_quality(e, ch, now);
		y->chan = sn_str(s, ch->id);
	}
	x->nr = s->reads.n - x->r0;
	x->l0 = s->lots.n;
	for (size_t j = 0; j < r->nlots; j++)
		lot_snap(&r->lots[j], r, s);
	x->nl = s->lots.n - x->l0;
}

/* The rooms of the open alarms (active or acknowledged, not shelved),
 * sorted for bsearch; NULL when out of memory. */
static const char **open_rooms(const struct engine *e, int64_t now, size_t *n)
{
	const char **v = malloc((e->nalarms + 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < e->nalarms; i++) {
		const struct ealarm *ea = e->alarms[i];
		enum alarm_state st = alarm_state(&ea->a);
		if (ea->room && !alarm_is_shelved(&ea->a, now) && (st == ALARM_ACTIVE_UNACKED || st == ALARM_ACTIVE_ACKED))
			v[(*n)++] = ea->room;
	}
	if (v)
		qsort(v, *n, sizeof(*v), cmp_name);
	return v;
}

/* Counts of every alarm the filter lets through, for the summary line when
 * only some are listed. */
static void alarm_counts(struct engine *e, int64_t now, const struct engine_status_filter *f, double n[4])
{
	for (size_t i = 0; i < e->nalarms; i++) {
		const struct ealarm *ea = e->alarms[i];
		enum alarm_state st = alarm_state(&ea->a);
		int shelved;
		if (!alarm_listed(ea, now, &shelved) || !room_wanted(e, f, ea->room))
			continue;
		if (shelved)
			n[3]++;
		else if (st == ALARM_ACTIVE_ACKED)
			n[2]++;
		else if (st == ALARM_ACTIVE_UNACKED) {
			n[0]++;
			n[1] += ea->a.sev == ALARM_SEV_CRITICAL;
		}
	}
}

/* The "rooms" array's records, under the lock.  Past f->open_past rooms:
 * only those with an open alarm, at most open_past of them (ls: their
 * names, whose alarms alone are listed then), with the totals. */
static void rooms_snap(struct engine *e, int64_t now, const struct engine_status_filter *f, struct listed *ls,
		       struct snap *s)
{
	const char **open = NULL;
	size_t nopen = 0, nrooms = 0, nlots = 0, more = 0;

	for (size_t i = 0; i < e->nrooms; i++)
		if (room_wanted(e, f, e->rooms[i].rc->name)) {
			nrooms++;
			nlots += e->rooms[i].nlots;
		}
	if (f && f->open_past > 0 && nrooms > (size_t)f->open_past) {
		if (!(open = open_rooms(e, now, &nopen)) || !(ls->v = malloc((size_t)f->open_past * sizeof(*ls->v))))
			s->err = -ENOMEM;
	}
	for (size_t i = 0; i < e->nrooms && !s->err; i++) {
		const char *name = e->rooms[i].rc->name;
		if (!room_wanted(e, f, name) || (open && !bsearch(&name, open, nopen, sizeof(*open), cmp_name)))
			continue;
		if (ls->v && ls->n == (size_t)f->open_past) {
			more++;
			continue;
		}
		if (ls->v)
			ls->v[ls->n++] = name;
		room_snap(e, &e->rooms[i], now, s);
	}
	if (f && f->open_past > 0) {
		s->totals = 1;
		s->nrooms = (double)nrooms;
		s->nlots = (double)nlots;
		s->more = (double)more;
		alarm_counts(e, now, f, s->counts);
	}
	if (ls->v)
		qsort(ls->v, ls->n, sizeof(*ls->v), cmp_name);
	free(open);
}

/* --- the records formatted, without the lock --- */

static void w_time(struct jsonw *w, const char *k, int64_t ms)
{
	char tbuf[64];
	publish_fmt_time(ms * 1000000LL, tbuf, sizeof(tbuf));
	jsonw_str(w, k, tbuf);
}

static void w_opt(struct jsonw *w, const struct snap *s, const char *k, size_t off)
{
	if (off != SN_NONE)
		jsonw_str(w, k, sn_at(s, off));
}

static void alarms_write(const struct snap *s, struct jsonw *w)
{
	const struct sn_alarm *v = s->alarms.v;

	jsonw_arr_begin(w, "alarms");
	for (size_t i = 0; i < s->alarms.n; i++) {
		const struct sn_alarm *x = &v[i];
		jsonw_obj_begin(w, NULL);
		jsonw_str(w, "id", sn_at(s, x->id));
		jsonw_str(w, "state", x->state);
		jsonw_str(w, "severity", x->severity);
		w_opt(w, s, "room", x->room);
		w_opt(w, s, "channel", x->channel);
		jsonw_str(w, "rule", sn_at(s, x->rule));
		jsonw_num(w, "value", x->value);
		jsonw_num(w, "limit", x->limit);
		if (x->active)
			w_time(w, "active_since", x->active_since_ms);
		jsonw_bool(w, "shelved", x->shelved);
		if (x->shelved)
			w_time(w, "shelved_until", x->shelved_until_ms);
		jsonw_bool(w, "suppressed", x->suppressed);
		jsonw_bool(w, "latched", x->latched);
		jsonw_str(w, "message", sn_at(s, x->message));
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
}

static void lot_write(const struct snap *s, const struct sn_lot *x, struct jsonw *w)
{
	jsonw_obj_begin(w, NULL);
	jsonw_str(w, "id", sn_at(s, x->id));
	jsonw_str(w, "product", sn_at(s, x->product));
	w_opt(w, s, "profile_version", x->profile_version);
	jsonw_str(w, "loaded", sn_at(s, x->loaded));
	w_opt(w, s, "dispatch", x->dispatch);
	jsonw_bool(w, "runtime", x->runtime);
	for (int k = 0; k < LF_N; k++)
		jsonw_num(w, lot_keys[k], x->f[k]);
	if (isfinite(x->pre_c))
		jsonw_num(w, "pre_c", x->pre_c);
	if (x->history != SN_NONE)
		jsonw_raw(w, "history", sn_at(s, x->history));
	jsonw_obj_end(w);
}

static void room_write(const struct snap *s, const struct sn_room *x, struct jsonw *w)
{
	const struct sn_read *rd = (const struct sn_read *)s->reads.v + x->r0;
	const struct sn_lot *lt = (const struct sn_lot *)s->lots.v + x->l0;

	jsonw_obj_begin(w, NULL);
	jsonw_str(w, "name", sn_at(s, x->name));
	w_opt(w, s, "profile", x->profile);
	jsonw_num(w, "band_low", x->band_low);
	jsonw_num(w, "band_high", x->band_high);
	jsonw_arr_begin(w, "readings");
	for (size_t k = 0; k < x->nr; k++) {
		jsonw_obj_begin(w, NULL);
		jsonw_str(w, "role", roles[rd[k].role]);
		jsonw_str(w, "channel", sn_at(s, rd[k].chan));
		jsonw_num(w, "value", rd[k].value);
		jsonw_num(w, "age_s", rd[k].age_s);
		jsonw_str(w, "quality", rd[k].quality);
		jsonw_obj_end(w);
	}
	jsonw_arr_end(w);
	jsonw_arr_begin(w, "lots");
	for (size_t j = 0; j < x->nl; j++)
		lot_write(s, &lt[j], w);
	jsonw_arr_end(w);
	jsonw_obj_end(w);
}

static void rooms_write(const struct snap *s, struct jsonw *w)
{
	jsonw_arr_begin(w, "rooms");
	for (size_t i = 0; i < s->rooms.n; i++)
		room_write(s, (const struct sn_room *)s->rooms.v + i, w);
	jsonw_arr_end(w);
	if (s->totals) {
		jsonw_num(w, "rooms_total", s->nrooms);
		jsonw_num(w, "lots_total", s->nlots);
		jsonw_num(w, "rooms_open_unlisted", s->more);
		jsonw_obj_begin(w, "alarm_counts");
		jsonw_num(w, "active", s->counts[0]);
		jsonw_num(w, "critical", s->counts[1]);
		jsonw_num(w, "acked", s->counts[2]);
		jsonw_num(w, "shelved", s->counts[3]);
		jsonw_obj_end(w);
	}
}

int engine_status_write(struct engine *e, int rooms, const struct engine_status_filter *f, struct jsonw *w)
{
	int64_t now = time_now_ns() / 1000000;
	struct listed ls = { NULL, 0 };
	struct snap s;

	if (!e)
		return -ESRCH;
	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&e->lock);
	s.site = sn_str(&s, e->cfg->site);
	if (rooms)
		rooms_snap(e, now, f, &ls, &s);
	alarms_snap(e, now, f, &ls, &s);
	pthread_mutex_unlock(&e->lock);
	free(ls.v);
	if (!s.err) {
		jsonw_str(w, "site", sn_at(&s, s.site));
		if (rooms)
			rooms_write(&s, w);
		alarms_write(&s, w);
	} else
		w->err = s.err;
	sn_free(&s);
	return w->err;
}

/* --- the hub overview's rows ---------------------------------------------- */

static int row_by_name(const void *a, const void *b)
{
	return strcmp((*(struct engine_room_row *const *)a)->name, (*(struct engine_room_row *const *)b)->name);
}

/* A room's row but for its alarms: stale when its temperature has no
 * fresh value (none, or its quality "stale"), else ok. */
static void row_fill(const struct engine *e, const struct eroom *r, int64_t now, struct engine_room_row *w)
{
	const struct echan *t = r->ch[R_TEMP], *h = r->ch[R_RH];
	const char *q = t ? chan_quality(e, t, now) : "none";

	w->state = strcmp(q, "stale") == 0 || strcmp(q, "none") == 0 ? ENGINE_ROOM_STALE : ENGINE_ROOM_OK;
	w->temp_c = t ? t->value : NAN;
	w->rh = h ? h->value : NAN;
	w->nlots = (double)r->nlots;
	w->remaining_h_min = room_least(r);
}

/* Each room's worst open alarm (active or acked, not shelved) over its
 * state; by: the rows sorted by name. */
static void rows_alarms(const struct engine *e, int64_t now, struct engine_room_row **by, size_t n)
{
	for (size_t i = 0; i < e->nalarms; i++) {
		const struct ealarm *ea = e->alarms[i];
		enum alarm_state st = alarm_state(&ea->a);
		struct engine_room_row key = { .name = ea->room }, *kp = &key, **r;
		if (!ea->room || (st != ALARM_ACTIVE_UNACKED && st != ALARM_ACTIVE_ACKED) ||
		    (ea->a.sev != ALARM_SEV_CRITICAL && ea->a.sev != ALARM_SEV_WARNING) || alarm_is_shelved(&ea->a, now))
			continue;
		if (!(r = bsearch(&kp, by, n, sizeof(*by), row_by_name)))
			continue;
		if (ea->a.sev == ALARM_SEV_CRITICAL)
			(*r)->state = ENGINE_ROOM_CRITICAL;
		else if ((*r)->state > ENGINE_ROOM_WARNING)
			(*r)->state = ENGINE_ROOM_WARNING;
	}
}

int engine_room_rows(struct engine *e, const char *site, struct engine_room_rows *out)
{
	struct engine_status_filter f = { .site = site };
	int64_t now = time_now_ns() / 1000000;
	struct engine_room_row **by = NULL;
	size_t n = 0, bytes = 0, k = 0;
	char *p;

	memset(out, 0, sizeof(*out));
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nrooms; i++)
		if (room_wanted(e, &f, e->rooms[i].rc->name)) {
			n++;
			bytes += strlen(e->rooms[i].rc->name) + 1;
		}
	out->v = malloc((n ? n : 1) * sizeof(*out->v));
	out->names = p = malloc(bytes ? bytes : 1);
	by = malloc((n ? n : 1) * sizeof(*by));
	if (!out->v || !p || !by) {
		pthread_mutex_unlock(&e->lock);
		free(by);
		engine_room_rows_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < e->nrooms; i++) {
		const struct eroom *r = &e->rooms[i];
		size_t len;
		if (!room_wanted(e, &f, r->rc->name))
			continue;
		len = strlen(r->rc->name) + 1;
		memcpy(p, r->rc->name, len);
		out->v[k].name = p;
		p += len;
		row_fill(e, r, now, &out->v[k]);
		by[k] = &out->v[k];
		k++;
	}
	qsort(by, n, sizeof(*by), row_by_name);
	rows_alarms(e, now, by, n);
	out->n = n;
	pthread_mutex_unlock(&e->lock);
	free(by);
	return 0;
}

void engine_room_rows_free(struct engine_room_rows *r)
{
	free(r->v);
	free(r->names);
	memset(r, 0, sizeof(*r));
}
