/* lots.c - lots at run time (control socket): load, unload, move, and
 * their layout in the snapshot. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util.h"

/* The air temperature a lot's remaining life is projected at: the newest
 * reading it has seen (the room's when it has seen none yet). */
double lots_air_now(const struct elot *l, const struct eroom *r)
{
	return !isnan(l->s.last_air_c) ? l->s.last_air_c : r->v[R_TEMP];
}

/* A lot loaded, moved or unloaded at run time is kept in the snapshot
 * (engine.state): runtime lots with their product and load time, configured
 * lots with the room the configuration had them in ("conf_room").  A move or
 * unload of a configured lot holds until the configuration itself changes
 * that lot's room; then the file wins. */
static const char *conf_room_of(const struct cc_config *cfg, const char *lot)
{
	const struct cc_room_conf *room;

	return config_find_lot(cfg, lot, &room) ? room->name : NULL;
}

/* A configured lot still in the room the configuration put it in: its conf
 * is an element of that room's lots (the common case, found without
 * searching the configuration: a snapshot of 10,000 lots would otherwise do
 * 50 million strcmp()s). */
static int lot_conf_in(const struct cc_lot_conf *lc, const struct cc_room_conf *rc)
{
	uintptr_t p = (uintptr_t)lc, b = (uintptr_t)rc->lots;

	return rc->nlots && p >= b && p < b + rc->nlots * sizeof(*rc->lots);
}

struct eroom *lots_room_find(struct engine *e, const char *name)
{
	for (size_t i = 0; name && i < e->nrooms; i++)
		if (strcmp(e->rooms[i].rc->name, name) == 0)
			return &e->rooms[i];
	return NULL;
}

static int lot_cmp(const void *a, const void *b)
{
	return strcmp((*(struct elot *const *)a)->lc->id, (*(struct elot *const *)b)->lc->id);
}

int lots_index_build(struct engine *e, struct lots_index *ix)
{
	size_t n = 0;

	for (size_t i = 0; i < e->nrooms; i++)
		n += e->rooms[i].nlots;
	ix->n = 0;
	if (!(ix->v = malloc((n ? n : 1) * sizeof(*ix->v))))
		return -ENOMEM;
	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++)
			ix->v[ix->n++] = &e->rooms[i].lots[j];
	qsort(ix->v, ix->n, sizeof(*ix->v), lot_cmp);
	return 0;
}

struct elot *const *lots_index_find(const struct lots_index *ix, const char *id, size_t *count)
{
	size_t lo = 0, hi = ix->n, end;

	while (lo < hi) { /* the first id >= the one sought */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->v[mid]->lc->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < ix->n && strcmp(ix->v[end]->lc->id, id) == 0; end++)
		;
	*count = end - lo;
	return end > lo ? &ix->v[lo] : NULL;
}

void lots_index_free(struct lots_index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}

static struct elot *lot_find(struct engine *e, const char *id, struct eroom **room)
{
	for (size_t i = 0; id && i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++)
			if (strcmp(e->rooms[i].lots[j].lc->id, id) == 0) {
				if (room)
					*room = &e->rooms[i];
				return &e->rooms[i].lots[j];
			}
	return NULL;
}

static const struct cc_profile *profile_find(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; name && i < cfg->nprofiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

void lots_alarm_drop(struct engine *e, struct ealarm *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < e->nalarms; i++)
		if (e->alarms[i] == a) {
			memmove(&e->alarms[i], &e->alarms[i + 1], (e->nalarms - i - 1) * sizeof(*e->alarms));
			e->nalarms--;
			break;
		}
	if (a->a.active)
		log_info("alarm %s: dropped with its lot (was %s)", ealarm_id(a), alarm_state_name(alarm_state(&a->a)));
	build_alarm_free(a);
}

static void lot_drop_alarms(struct engine *e, struct elot *l)
{
	lots_alarm_drop(e, l->chill_warn);
	lots_alarm_drop(e, l->chill_alarm);
	lots_alarm_drop(e, l->wl_warn);
	lots_alarm_drop(e, l->wl_alarm);
	lots_alarm_drop(e, l->life_low);
	lots_alarm_drop(e, l->dispatch);
	l->chill_warn = l->chill_alarm = l->wl_warn = l->wl_alarm = l->life_low = l->dispatch = NULL;
}

static void lot_conf_free(struct cc_lot_conf *lc)
{
	if (!lc)
		return;
	free(lc->id);
	free(lc->product);
	free(lc->loaded);
	free(lc);
}

/* Removes lot index j from room r (its alarms go with it); returns the
 * removed lot in *out when out is set, else frees what it owns. */
static void room_take_lot(struct engine *e, struct eroom *r, size_t j, struct elot *out)
{
	struct elot l = r->lots[j];

	memmove(&r->lots[j], &r->lots[j + 1], (r->nlots - j - 1) * sizeof(*r->lots));
	r->nlots--;
	lot_drop_alarms(e, &l);
	if (out) {
		*out = l;
	} else {
		lot_conf_free(l.own);
		cJSON_Delete(l.history);
	}
}

/* Puts a lot into room r: its alarms are built for r, its state is kept. */
static void room_put_lot(struct engine *e, struct eroom *r, const struct elot *from)
{
	struct elot *l;
	struct lot_state st = from->s;

	r->lots = xrealloc(r->lots, (r->nlots + 1) * sizeof(*r->lots));
	l = &r->lots[r->nlots++];
	memset(l, 0, sizeof(*l));
	build_lot(e, r, l, from->lc);
	l->own = from->own;
	l->history = from->history;
	l->s = st;
}

static struct elot *lot_add_new(struct engine *e, struct eroom *r, const char *id, const char *product,
				 const struct cc_profile *p, int64_t loaded_ns, double pre_c)
{
	struct elot tmp;
	struct cc_lot_conf *lc = xcalloc(1, sizeof(*lc));
	char tbuf[64];

	publish_fmt_time(loaded_ns, tbuf, sizeof(tbuf));
	lc->id = xstrdup(id);
	lc->product = xstrdup(product);
	lc->loaded = xstrdup(tbuf);
	lc->loaded_ns = loaded_ns;
	lc->plan_c = NAN;
	lc->pre_c = pre_c;
	lc->profile = p;
	memset(&tmp, 0, sizeof(tmp));
	tmp.lc = lc;
	tmp.own = lc;
	lot_state_init(&tmp.s);
	room_put_lot(e, r, &tmp);
	return &r->lots[r->nlots - 1];
}

void lots_layout_of(struct engine *e, const struct eroom *r, const struct elot *l, struct lot_layout *out)
{
	const char *cr;

	memset(out, 0, sizeof(*out));
	out->pre_c = NAN;
	if (l->own) {
		out->runtime = 1;
		out->product = l->lc->product;
		out->loaded_ns = l->lc->loaded_ns;
		out->pre_c = l->lc->pre_c;
	} else if (!lot_conf_in(l->lc, r->rc) && (cr = conf_room_of(e->cfg, l->lc->id)) &&
		   strcmp(cr, r->rc->name) != 0) {
		out->conf_room = cr;
	}
	out->history = l->history;
}

void lots_layout_save(struct engine *e, cJSON *root)
{
	if (e->unloaded && cJSON_GetArraySize(e->unloaded) > 0)
		cJSON_AddItemToObject(root, "unloaded", cJSON_Duplicate(e->unloaded, 1));
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void lots_layout_restore_unloaded(struct engine *e, const cJSON *o)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "unloaded"))
	{
		const char *id = jstr(x, "id"), *cr = jstr(x, "conf_room"), *now;
		struct eroom *r = NULL;
		struct elot *l;
		if (!id || !cr || !(now = conf_room_of(e->cfg, id)) || strcmp(now, cr) != 0)
			continue; /* the configuration changed that lot: it wins */
		if ((l = lot_find(e, id, &r)))
			room_take_lot(e, r, (size_t)(l - r->lots), NULL);
		if (!e->unloaded)
			e->unloaded = cJSON_CreateArray();
		cJSON_AddItemToArray(e->unloaded, cJSON_Duplicate(x, 1));
	}
}

void lots_layout_restore(struct engine *e, const char *id, const char *room, const struct lot_layout *lay)
{
	struct eroom *to, *from = NULL;
	struct elot *l;

	/* a configured lot where the configuration put it (no conf_room) needs
	 * no room: skip the search (10,000 lots x 2,000 rooms at a reload) */
	if (!id || !room || (!lay->runtime && !lay->conf_room))
		return;
	to = lots_room_find(e, room);
	if (lay->runtime) {
		const struct cc_profile *p = profile_find(e->cfg, lay->product);
		if (lot_find(e, id, NULL))
			return; /* the configuration has it now */
		if (!to || !p) {
			log_warn("lot %s: loaded into room %s as %s, but the configuration has no such %s: "
				 "dropped", id, room, lay->product ? lay->product : "?", !to ? "room" : "profile");
			return;
		}
		l = lot_add_new(e, to, id, lay->product, p, lay->loaded_ns, lay->pre_c);
		if (cJSON_IsArray(lay->history))
			l->history = cJSON_Duplicate(lay->history, 1);
	} else if (to && (l = lot_find(e, id, &from)) && from != to && strcmp(from->rc->name, lay->conf_room) == 0) {
		struct elot tmp;
		room_take_lot(e, from, (size_t)(l - from->lots), &tmp);
		room_put_lot(e, to, &tmp);
	}
}

void lots_layout_restore_lot(struct engine *e, const cJSON *x)
{
	struct lot_layout lay = {
		.runtime = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "runtime")),
		.product = jstr(x, "product"),
		.loaded_ns = (int64_t)snapshot_num(x, "loaded_ns", 0),
		.pre_c = snapshot_num(x, "pre_c", NAN),
		.conf_room = jstr(x, "conf_room"),
		.history = cJSON_GetObjectItemCaseSensitive(x, "history"),
	};

	lots_layout_restore(e, jstr(x, "id"), jstr(x, "room"), &lay);
}

void lots_free(struct engine *e)
{
	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++) {
			lot_conf_free(e->rooms[i].lots[j].own);
			cJSON_Delete(e->rooms[i].lots[j].history);
		}
	cJSON_Delete(e->unloaded);
	e->unloaded = NULL;
}

/* Under the lock: see engine_lot_load. */
#define LOT_STEP_FIELDS_MAX 40

/* The history object's figures that are not already tags or times. */
static size_t step_result_fields(const cJSON *result, struct lp_field *f, size_t n)
{
	static const char *const skip[] = { "process", "kind", "batch", "start", "end", "start_ns", "end_ns" };
	const cJSON *x;

	cJSON_ArrayForEach(x, result) {
		size_t k = 0;
		while (k < sizeof(skip) / sizeof(skip[0]) && strcmp(skip[k], x->string) != 0)
			k++;
		if (k < sizeof(skip) / sizeof(skip[0]) || n >= LOT_STEP_FIELDS_MAX)
			continue;
		f[n].key = x->string;
		if (cJSON_IsNumber(x)) {
			f[n].type = LP_FLOAT;
			f[n++].v.f = x->valuedouble;
		} else if (cJSON_IsString(x)) {
			f[n].type = LP_STRING;
			f[n++].v.s = x->valuestring;
		} else if (cJSON_IsBool(x)) {
			f[n].type = LP_BOOL;
			f[n++].v.b = cJSON_IsTrue(x);
		}
	}
	return n;
}

void lots_step_emit(struct engine *e, const struct lot_step *s)
{
	struct lp_tag tags[] = { { "batch", s->batch }, { "lot", s->lot },   { "room", s->room },
				 { "site", e->cfg->site }, { "step", s->step } };
	struct lp_field f[LOT_STEP_FIELDS_MAX + 3];
	struct lp_buf lb;
	size_t n = 0;

	/* start and end as fields: a room's start may follow its load (the
	 * processing done in between); the process line as a field, not a tag
	 * (the step is the same point whatever the line was renamed to) */
	if (s->start_ns) { /* absent: the start written before stays */
		f[n].key = "start";
		f[n].type = LP_INT;
		f[n++].v.i = s->start_ns;
	}
	if (s->end_ns) {
		f[n].key = "end";
		f[n].type = LP_INT;
		f[n++].v.i = s->end_ns;
	}
	if (s->process) {
		f[n].key = "process";
		f[n].type = LP_STRING;
		f[n++].v.s = s->process;
	}
	n = step_result_fields(s->result, f, n);
	lp_buf_init(&lb);
	/* whole milliseconds: the snapshot keeps a lot's load time as a double,
	 * and the point written after a restart must fall on the same time */
	if (lp_encode(&lb, "lot_step", tags, sizeof(tags) / sizeof(tags[0]), f, n, s->at_ns / 1000000 * 1000000) == 0)
		eval_emit_lines(e, &lb);
	lp_buf_free(&lb);
}

int lots_load(struct engine *e, const char *room, const char *lot, const char *product, int64_t loaded_ns,
	      double pre_c, struct elot **out)
{
	struct eroom *r;
	const struct cc_profile *p;
	size_t n = 0;

	if (!(r = lots_room_find(e, room)) || !(p = profile_find(e->cfg, product)))
		return -ENOENT;
	if (lot_find(e, lot, NULL))
		return -EEXIST;
	for (size_t i = 0; i < e->nrooms; i++)
		n += e->rooms[i].nlots;
	if (n >= ENGINE_MAX_LOTS)
		return -ENOSPC;
	*out = lot_add_new(e, r, lot, product, p, loaded_ns, pre_c);
	e->dirty = 1;
	return 0;
}

int engine_lot_load(struct engine *e, const char *room, const char *lot, const char *product, int64_t loaded_ns, const char *user)
{
	struct elot *l;
	int rc;

	if (!lot || !*lot || !product || !user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	rc = lots_load(e, room, lot, product, loaded_ns, NAN, &l);
	if (rc == 0)
		lots_step_emit(e, &(struct lot_step){ .lot = lot, .step = "room", .room = room, .at_ns = loaded_ns,
						      .start_ns = loaded_ns });
	if (rc == 0)
		log_info("lot %s (%s) loaded into room %s by %s", lot, product, room, user);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int engine_lot_unload(struct engine *e, const char *lot, const char *user)
{
	struct eroom *r = NULL;
	struct elot *l;
	int rc = 0;

	if (!user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(l = lot_find(e, lot, &r))) {
		rc = -ENOENT;
		goto out;
	}
	if (!l->own) {
		const char *cr = conf_room_of(e->cfg, lot);
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", lot);
		cJSON_AddStringToObject(x, "conf_room", cr ? cr : r->rc->name);
		if (!e->unloaded)
			e->unloaded = cJSON_CreateArray();
		cJSON_AddItemToArray(e->unloaded, x);
	}
	log_info("lot %s unloaded from room %s by %s (consumed %.3f)", lot, r->rc->name, user, l->s.consumed);
	lots_step_emit(e, &(struct lot_step){ .lot = lot, .step = "room", .room = r->rc->name,
					      .at_ns = l->lc->loaded_ns, .end_ns = time_now_ns() });
	room_take_lot(e, r, (size_t)(l - r->lots), NULL);
	e->dirty = 1;
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int engine_lot_move(struct engine *e, const char *lot, const char *room, const char *user)
{
	struct eroom *from = NULL, *to;
	struct elot *l, tmp;
	int64_t now_ns;
	int rc = 0;

	if (!user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(l = lot_find(e, lot, &from)) || !(to = lots_room_find(e, room))) {
		rc = -ENOENT;
		goto out;
	}
	if (from == to) {
		rc = -EALREADY;
		goto out;
	}
	now_ns = time_now_ns();
	/* the room step's time is the lot's load: a lot moved twice ends its
	 * first room's step (known limitation, README) */
	lots_step_emit(e, &(struct lot_step){ .lot = lot, .step = "room", .room = from->rc->name,
					      .at_ns = l->lc->loaded_ns, .end_ns = now_ns });
	lots_step_emit(e, &(struct lot_step){ .lot = lot, .step = "move", .room = room, .at_ns = now_ns,
					      .start_ns = now_ns, .result = NULL });
	room_take_lot(e, from, (size_t)(l - from->lots), &tmp);
	room_put_lot(e, to, &tmp);
	e->dirty = 1;
	log_info("lot %s moved from room %s to room %s by %s (consumed %.3f kept)", lot, from->rc->name, room, user,
		 tmp.s.consumed);
out:
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int lots_observe(struct elot *l, int64_t ts_ns, double t_air_c, double rh)
{
	struct lot_params first;

	if (l->s.last_ts_ns != 0 && !isnan(l->s.last_air_c))
		return lot_observe(&l->s, l->p, ts_ns, t_air_c, rh);
	/* the first reading (lot_observe's own test): the span since the
	 * lot was loaded is a gap, filled with its pre-monitoring temperature */
	first = *l->p;
	first.loaded_ns = l->loaded_ns;
	first.pre_c = l->pre_c;
	return lot_observe(&l->s, &first, ts_ns, t_air_c, rh);
}
