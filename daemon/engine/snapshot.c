/* snapshot.c - the engine's state file (state_dir/engine.state): alarms
 * and lots as JSON, copied under the lock, printed and written without it,
 * and restored when the engine is built. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/jsonw.h"
#include "../log.h"
#include "../state.h"
#include "../util.h"

/*
 * The state file's alarms and lots are copied under the lock as compact
 * records (snapshot_take: a hub's 10,000 lots and its raised alarms in a
 * few milliseconds) and printed as JSON by the writer without it
 * (snapshot_write, codec/jsonw.c).  Printed under the lock through a cJSON
 * object per element, they held a hub's engine ~150 ms once a minute (the
 * MQTT thread waits that long) and were a fifth of a reload (issue 18).
 */
struct snap_alarm {
	struct alarm a;
	uint32_t id; /* offsets into the records' strings */
};

struct snap_lot {
	struct lot_state s;
	int64_t loaded_ns;
	double pre_c;
	uint32_t id, room, product, conf_room, history; /* 0: none */
	int runtime;
};

struct snap_pending {
	int64_t saved_ms;
	struct snap_alarm *al;
	size_t nal;
	struct snap_lot *lots;
	size_t nlots;
	char *strs; /* NUL-terminated strings; offset 0 is "" (none) */
	size_t slen, scap;
	char *rest; /* the small members (lots unloaded, batches) as JSON text, braces and all; NULL: none */
};

static void snap_pending_free(struct snap_pending *p)
{
	if (!p)
		return;
	free(p->al);
	free(p->lots);
	free(p->strs);
	cJSON_free(p->rest);
	free(p);
}

static uint32_t snap_str(struct snap_pending *p, const char *s)
{
	size_t n = s ? strlen(s) + 1 : 0, at = p->slen;

	if (!s)
		return 0;
	if (p->slen + n > p->scap) {
		size_t cap = p->scap;
		while (cap < p->slen + n)
			cap *= 2;
		p->strs = xrealloc(p->strs, cap);
		p->scap = cap;
	}
	memcpy(p->strs + at, s, n);
	p->slen += n;
	return (uint32_t)at;
}

/* an alarm that is inactive, quiet and unshelved has nothing to keep */
static int alarm_worth_keeping(const struct alarm *a)
{
	return a->active || !a->acked || a->cond || a->shelved_until_ms;
}

static void take_lot(struct engine *e, struct snap_pending *p, const struct eroom *r, const struct elot *l)
{
	struct snap_lot *sl = &p->lots[p->nlots++];
	struct lot_layout lay;
	char *h;

	lots_layout_of(e, r, l, &lay);
	memset(sl, 0, sizeof(*sl));
	sl->s = l->s;
	sl->id = snap_str(p, l->lc->id);
	sl->room = snap_str(p, r->rc->name);
	sl->runtime = lay.runtime;
	if (lay.runtime) {
		sl->product = snap_str(p, lay.product);
		sl->loaded_ns = lay.loaded_ns;
	}
	sl->pre_c = lay.pre_c;
	sl->conf_room = snap_str(p, lay.conf_room);
	/* a released batch's steps: a few per lot, and rare */
	if (lay.history && (h = cJSON_PrintUnformatted(lay.history))) {
		sl->history = snap_str(p, h);
		cJSON_free(h);
	}
}

/* Under e->lock: the records of a snapshot. */
static struct snap_pending *snapshot(struct engine *e, int64_t now_ms)
{
	struct snap_pending *p = xcalloc(1, sizeof(*p));
	cJSON *o = cJSON_CreateObject();
	size_t nal = 0, nl = 0;

	p->saved_ms = now_ms;
	for (size_t i = 0; i < e->nalarms; i++)
		nal += alarm_worth_keeping(&e->alarms[i]->a);
	for (size_t i = 0; i < e->nrooms; i++)
		nl += e->rooms[i].nlots;
	p->al = xcalloc(nal + 1, sizeof(*p->al));
	p->lots = xcalloc(nl + 1, sizeof(*p->lots));
	p->scap = 64 + (nal + nl) * 48;
	p->strs = xmalloc(p->scap);
	p->strs[0] = '\0';
	p->slen = 1;
	for (size_t i = 0; i < e->nalarms; i++) {
		const struct ealarm *ea = e->alarms[i];
		if (!alarm_worth_keeping(&ea->a))
			continue;
		p->al[p->nal].a = ea->a;
		p->al[p->nal++].id = snap_str(p, ealarm_id(ea));
	}
	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; j < e->rooms[i].nlots; j++)
			take_lot(e, p, &e->rooms[i], &e->rooms[i].lots[j]);
	/* the rest (lots unloaded, batches): small, one tree */
	lots_layout_save(e, o);
	snapshot_batches_save(e, o);
	p->rest = o->child ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return p;
}

static void print_alarm(struct jsonw *w, const struct snap_pending *p, const struct snap_alarm *sa)
{
	const struct alarm *a = &sa->a;

	jsonw_obj_begin(w, NULL);
	jsonw_str(w, "id", p->strs + sa->id);
	jsonw_num17(w, "cond", a->cond);
	jsonw_num17(w, "cond_since", (double)a->cond_since_ms);
	jsonw_num17(w, "active", a->active);
	jsonw_num17(w, "acked", a->acked);
	jsonw_num17(w, "held", a->held);
	jsonw_num17(w, "escalated", a->escalated);
	jsonw_num17(w, "active_since", (double)a->active_since_ms);
	jsonw_num17(w, "shelved_until", (double)a->shelved_until_ms);
	jsonw_num17(w, "last_notify", (double)a->last_notify_ms);
	jsonw_num17(w, "sev", a->sev);
	jsonw_num17(w, "pending", a->pending);
	jsonw_num17(w, "notified", (double)a->notified_ms);
	if (isfinite(a->value))
		jsonw_num17(w, "value", a->value);
	jsonw_obj_end(w);
}

static void print_lot(struct jsonw *w, const struct snap_pending *p, const struct snap_lot *sl)
{
	const struct lot_state *s = &sl->s;

	jsonw_obj_begin(w, NULL);
	jsonw_str(w, "id", p->strs + sl->id);
	jsonw_str(w, "room", p->strs + sl->room);
	jsonw_num17(w, "last_ts_ns", (double)s->last_ts_ns);
#define NUM(f)                                \
	do {                                  \
		if (isfinite(s->f))           \
			jsonw_num17(w, #f, s->f); \
	} while (0)
	NUM(last_air_c);
	NUM(last_rh);
	NUM(product_c);
	NUM(consumed);
	NUM(mkt_sum_w);
	NUM(mkt_sum_t);
	NUM(degree_h);
	NUM(chill_h);
	NUM(weight_loss);
	NUM(observed_h);
	NUM(no_data_h);
#undef NUM
	jsonw_num17(w, "gaps", s->gaps);
	if (sl->runtime) {
		jsonw_bool(w, "runtime", 1);
		jsonw_str(w, "product", p->strs + sl->product);
		jsonw_num17(w, "loaded_ns", (double)sl->loaded_ns);
		if (isfinite(sl->pre_c))
			jsonw_num17(w, "pre_c", sl->pre_c);
	} else if (sl->conf_room) {
		jsonw_str(w, "conf_room", p->strs + sl->conf_room);
	}
	if (sl->history)
		jsonw_raw(w, "history", p->strs + sl->history);
	jsonw_obj_end(w);
}

/* Without the lock: the state file's text (NULL: out of memory). */
static char *snapshot_text(const struct snap_pending *p)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_obj_begin(&w, NULL);
	jsonw_num(&w, "version", STATE_VERSION);
	jsonw_num(&w, "saved_ms", (double)p->saved_ms);
	jsonw_arr_begin(&w, "alarms");
	for (size_t i = 0; i < p->nal; i++)
		print_alarm(&w, p, &p->al[i]);
	jsonw_arr_end(&w);
	jsonw_arr_begin(&w, "lots");
	for (size_t i = 0; i < p->nlots; i++)
		print_lot(&w, p, &p->lots[i]);
	jsonw_arr_end(&w);
	if (p->rest && p->rest[0] == '{' && p->rest[1] != '}') {
		/* its members and closing brace, after ours */
		size_t n = 0, rl = strlen(p->rest + 1);
		char *t = jsonw_take(&w, &n);
		if (t) {
			t = xrealloc(t, n + rl + 2);
			t[n] = ',';
			memcpy(t + n + 1, p->rest + 1, rl + 1);
		}
		return t;
	}
	jsonw_obj_end(&w);
	return jsonw_take(&w, NULL);
}

double snapshot_num(const cJSON *o, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* "alarm ID: restored STATE (active since TIME)", TIME in the site's zone
 * with its offset: a line an operator reads (README "Running": which times
 * in the log are local). */
static void log_restored(const char *id, const struct alarm *a)
{
	char since[48];

	if (a->active_since_ms <= 0 ||
	    time_fmt_local(a->active_since_ms * 1000000LL, since, sizeof(since), TIME_LOCAL_ISO) < 0)
		snprintf(since, sizeof(since), "an unknown time");
	log_info("alarm %s: restored %s (active since %s)", id, alarm_state_name(alarm_state(a)), since);
}

static int alarm_id_cmp(const void *a, const void *b)
{
	return strcmp(ealarm_id(*(struct ealarm *const *)a), ealarm_id(*(struct ealarm *const *)b));
}

/* The first of the alarms with that id in v (sorted by id), and how many. */
static struct ealarm **alarms_by_id(struct ealarm **v, size_t nv, const char *id, size_t *count)
{
	size_t lo = 0, hi = nv, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ealarm_id(v[mid]), id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < nv && strcmp(ealarm_id(v[end]), id) == 0; end++)
		;
	*count = end - lo;
	return v + lo;
}

/* What the restore of the saved alarms and lots looks things up in: a
 * sorted copy of the engine's alarms (a hub's snapshot holds 250,000 of
 * them, and a search of every alarm per saved one took a reload 70 s) and
 * the lots by id; and how many it restored. */
struct restore_ctx {
	struct engine *e;
	struct ealarm **sorted;
	struct lots_index ix;
	int have_ix;
	size_t nal, nlot;
	size_t nbad; /* elements of the split arrays cJSON did not take */
};

/* A saved alarm (sv: its fields but its severity, sev: outside the
 * severities, the alarm's own) into the engine's alarms of its id. */
static void alarm_apply(struct restore_ctx *rc, const char *id, const struct alarm *sv, double sev)
{
	struct ealarm **m;
	size_t k;

	if (!rc->sorted)
		return;
	m = alarms_by_id(rc->sorted, rc->e->nalarms, id, &k);
	for (size_t i = 0; i < k; i++) {
		struct alarm *a = &m[i]->a;
		a->cond = sv->cond;
		a->cond_since_ms = sv->cond_since_ms;
		a->active = sv->active;
		a->acked = sv->acked;
		a->held = sv->held;
		a->escalated = sv->escalated;
		a->active_since_ms = sv->active_since_ms;
		a->shelved_until_ms = sv->shelved_until_ms;
		a->last_notify_ms = sv->last_notify_ms;
		a->pending = sv->pending;
		a->notified_ms = sv->notified_ms;
		a->sev = sev >= ALARM_SEV_INFO && sev <= ALARM_SEV_CRITICAL ? (enum alarm_severity)sev : a->c->severity;
		a->value = sv->value;
		if (a->active)
			log_restored(ealarm_id(m[i]), a);
		rc->nal++;
	}
}

/* A saved alarm of the state file. */
static void restore_alarm(struct restore_ctx *rc, const cJSON *x)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id");
	struct alarm sv = { 0 };
	double sev;

	if (!cJSON_IsString(id))
		return;
	sv.cond = snapshot_num(x, "cond", 0) != 0;
	sv.cond_since_ms = (int64_t)snapshot_num(x, "cond_since", 0);
	sv.active = snapshot_num(x, "active", 0) != 0;
	sv.acked = snapshot_num(x, "acked", 1) != 0;
	sv.held = snapshot_num(x, "held", 0) != 0;
	sv.escalated = snapshot_num(x, "escalated", 0) != 0;
	sv.active_since_ms = (int64_t)snapshot_num(x, "active_since", 0);
	sv.shelved_until_ms = (int64_t)snapshot_num(x, "shelved_until", 0);
	sv.last_notify_ms = (int64_t)snapshot_num(x, "last_notify", 0);
	sv.pending = snapshot_num(x, "pending", 0) != 0;
	sv.notified_ms = (int64_t)snapshot_num(x, "notified", (double)sv.active_since_ms);
	sev = snapshot_num(x, "sev", -1);
	sv.value = snapshot_num(x, "value", NAN);
	alarm_apply(rc, id->valuestring, &sv, sev);
}

static void restore_lot_state(struct lot_state *s, const cJSON *x)
{
	s->last_ts_ns = (int64_t)snapshot_num(x, "last_ts_ns", 0);
	s->last_air_c = snapshot_num(x, "last_air_c", NAN);
	s->last_rh = snapshot_num(x, "last_rh", NAN);
	s->product_c = snapshot_num(x, "product_c", NAN);
	s->consumed = snapshot_num(x, "consumed", 0);
	s->mkt_sum_w = snapshot_num(x, "mkt_sum_w", 0);
	s->mkt_sum_t = snapshot_num(x, "mkt_sum_t", 0);
	s->degree_h = snapshot_num(x, "degree_h", 0);
	s->chill_h = snapshot_num(x, "chill_h", 0);
	s->weight_loss = snapshot_num(x, "weight_loss", 0);
	s->observed_h = snapshot_num(x, "observed_h", 0);
	s->no_data_h = snapshot_num(x, "no_data_h", 0);
	s->gaps = (uint32_t)snapshot_num(x, "gaps", 0);
}

/* A saved lot into the engine's lots of its id alone: a lot moved to
 * another room keeps its history. */
static void lot_apply(struct restore_ctx *rc, const char *id, const struct lot_state *sv)
{
	struct elot *const *l;
	size_t k;

	if (!rc->have_ix || !(l = lots_index_find(&rc->ix, id, &k)))
		return;
	for (size_t i = 0; i < k; i++)
		l[i]->s = *sv;
	rc->nlot += k;
}

static void restore_lot(struct restore_ctx *rc, const cJSON *x)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(x, "id");
	struct lot_state sv;

	if (!cJSON_IsString(id))
		return;
	restore_lot_state(&sv, x);
	lot_apply(rc, id->valuestring, &sv);
}

static void restore_layout(struct restore_ctx *rc, const cJSON *x)
{
	lots_layout_restore_lot(rc->e, x);
}

/* --- the state file's big arrays, one element at a time ----------------
 * A hub's state file (1.7 MB: 10,000 lots, the raised alarms) parsed whole
 * was a cJSON tree of ~25 MB next to the new engine: the reload's and the
 * start-up's peak (issue 18).  The top-level object is split into its
 * members by a scanner that only matches brackets and strings; "alarms" and
 * "lots" are parsed an element at a time, the rest (small) as one tree.
 * Text the scanner does not take is parsed whole, as before. */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* The end of the value at p: NULL when its brackets or strings do not
 * close before end (cJSON, given the piece, decides the rest). */
static const char *skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	do {
		if (p >= end)
			return NULL;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && ++p >= end)
					return NULL;
			if (p >= end)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (!depth)
				return NULL;
			depth--;
		} else if (!depth) { /* a scalar */
			while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\r' &&
			       *p != '\n')
				p++;
			return p;
		}
		p++;
	} while (depth > 0);
	return p;
}

#define SNAP_MEMBERS 32
struct snap_member {
	char key[32];
	const char *v, *ve; /* the value's text */
};

/* The members of the top-level object text[0..n): 0, -1 when it is not
 * an object this scanner takes (a key of 32 bytes or more, or with an
 * escape; more than SNAP_MEMBERS members; brackets not closing). */
static int snap_split(const char *p, size_t n, struct snap_member *m, size_t *nm)
{
	const char *end = p + n, *k;

	*nm = 0;
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		if (p >= end || *p != '"' || *nm == SNAP_MEMBERS)
			return -1;
		for (k = ++p; p < end && *p != '"' && *p != '\\'; p++)
			;
		if (p >= end || *p != '"' || (size_t)(p - k) >= sizeof(m->key))
			return -1;
		memcpy(m[*nm].key, k, (size_t)(p - k));
		m[*nm].key[p - k] = '\0';
		p = skip_ws(p + 1, end);
		if (p >= end || *p != ':')
			return -1;
		m[*nm].v = skip_ws(p + 1, end);
		if (!(m[*nm].ve = skip_value(m[*nm].v, end)))
			return -1;
		p = skip_ws(m[(*nm)++].ve, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
		else
			return p < end && *p == '}' ? 0 : -1;
	}
}

/* fn of each element of the array text [p, end), each parsed alone. */
static void each_element(struct restore_ctx *rc, const char *p, const char *end,
			 void (*fn)(struct restore_ctx *, const cJSON *))
{
	p = skip_ws(p, end);
	if (p >= end || *p != '[')
		return;
	p = skip_ws(p + 1, end);
	while (p < end && *p != ']') {
		const char *ee = skip_value(p, end);
		cJSON *x;
		if (!ee)
			return;
		if ((x = cJSON_ParseWithLength(p, (size_t)(ee - p)))) {
			fn(rc, x);
			cJSON_Delete(x);
		} else
			rc->nbad++;
		p = skip_ws(ee, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
}

/* The root without its "alarms" and "lots" (*al, *lo: their members, NULL
 * when absent), or NULL when the text is not split so. */
static cJSON *snap_rest(const char *buf, size_t len, const struct snap_member **al, const struct snap_member **lo,
			struct snap_member *m)
{
	size_t nm;
	cJSON *o;

	*al = *lo = NULL;
	if (snap_split(buf, len, m, &nm) < 0 || !(o = cJSON_CreateObject()))
		return NULL;
	for (size_t i = 0; i < nm; i++) {
		cJSON *v;
		if (strcmp(m[i].key, "alarms") == 0 && !*al)
			*al = &m[i];
		else if (strcmp(m[i].key, "lots") == 0 && !*lo)
			*lo = &m[i];
		else if ((v = cJSON_ParseWithLength(m[i].v, (size_t)(m[i].ve - m[i].v))))
			cJSON_AddItemToObject(o, m[i].key, v);
		else {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* fn of each element of the array member key: from its text (mb) when
 * split, else from the tree o. */
static void restore_each(struct restore_ctx *rc, const cJSON *o, const struct snap_member *mb, const char *key,
			 void (*fn)(struct restore_ctx *, const cJSON *))
{
	const cJSON *x;

	if (mb) {
		each_element(rc, mb->v, mb->ve, fn);
		return;
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, key))
		fn(rc, x);
}

/* The layout, batches, alarms, lots and trend of the state in o (and the
 * split arrays al, lo); the counts logged. */
static void restore_all(struct engine *e, const cJSON *o, const struct snap_member *al, const struct snap_member *lo,
			int split)
{
	struct restore_ctx rc = { .e = e };
	size_t nb, ntr;

	lots_layout_restore_unloaded(e, o); /* runtime lots first: their alarms are restored next */
	restore_each(&rc, o, lo, "lots", restore_layout);
	rc.nbad = 0; /* the lots' pass below counts them */
	nb = snapshot_batches_restore(e, o); /* batches too */
	if ((rc.sorted = malloc((e->nalarms ? e->nalarms : 1) * sizeof(*rc.sorted)))) {
		memcpy(rc.sorted, e->alarms, e->nalarms * sizeof(*rc.sorted));
		qsort(rc.sorted, e->nalarms, sizeof(*rc.sorted), alarm_id_cmp);
		restore_each(&rc, o, split ? al : NULL, split && !al ? NULL : "alarms", restore_alarm);
		free(rc.sorted);
	} else
		log_warn("state %s/%s: out of memory: alarms start afresh", e->cfg->state_dir, STATE_FILE);
	if ((rc.have_ix = lots_index_build(e, &rc.ix) == 0)) {
		restore_each(&rc, o, split ? lo : NULL, split && !lo ? NULL : "lots", restore_lot);
		lots_index_free(&rc.ix);
	} else
		log_warn("state %s/%s: out of memory: lots start afresh", e->cfg->state_dir, STATE_FILE);
	ntr = trend_restore(e, o);
	if (rc.nbad)
		log_warn("state %s/%s: %zu unreadable %s skipped (alarms and lots of those ids start afresh)",
			 e->cfg->state_dir, STATE_FILE, rc.nbad, plural(rc.nbad, "element", "elements"));
	if (ntr) /* the day kept in the state file itself: releases before trend.state */
		log_info("state %s/%s: restored %zu trend %s", e->cfg->state_dir, STATE_FILE, ntr,
			 plural(ntr, "bucket", "buckets"));
	log_info("state %s/%s: restored %zu %s, %zu %s, %zu %s", e->cfg->state_dir, STATE_FILE, rc.nal,
		 plural(rc.nal, "alarm", "alarms"), rc.nlot, plural(rc.nlot, "lot", "lots"), nb,
		 plural(nb, "batch", "batches"));
}

void snapshot_restore(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0;
	struct snap_member m[SNAP_MEMBERS];
	const struct snap_member *al, *lo;
	cJSON *o;
	int rc = state_read(e->cfg->state_dir, STATE_FILE, &buf, &len), split;

	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		log_warn("state %s/%s: %s: alarms and lots start afresh", e->cfg->state_dir, STATE_FILE, strerror(-rc));
		return;
	}
	o = snap_rest(buf, len, &al, &lo, m);
	if (!(split = o != NULL))
		o = cJSON_ParseWithLength(buf, len);
	if (!o || snapshot_num(o, "version", 0) != STATE_VERSION) {
		log_warn("state %s/%s: not a version %d snapshot: alarms and lots start afresh", e->cfg->state_dir,
			 STATE_FILE, STATE_VERSION);
		cJSON_Delete(o);
		free(buf);
		return;
	}
	restore_all(e, o, al, lo, split);
	cJSON_Delete(o);
	free(buf);
}

/* --- a reload's hand-over: the same records, kept in memory ------------ */

struct engine_saved {
	struct snap_pending *p;
	struct trend_pending *trend;
	int64_t next_trend_ms; /* the day's next save, kept on its schedule */
};

struct engine_saved *snapshot_keep(struct engine *e)
{
	struct engine_saved *sv = xcalloc(1, sizeof(*sv));

	pthread_mutex_lock(&e->lock);
	snap_pending_free(e->pending); /* superseded: this one is newer */
	trend_pending_free(e->pending_trend);
	free(e->pending_dir);
	e->pending = NULL;
	e->pending_trend = NULL;
	e->pending_dir = NULL;
	sv->p = snapshot(e, time_now_ns() / 1000000);
	sv->trend = trend_take(e, 0);
	sv->next_trend_ms = e->next_trend_ms;
	pthread_mutex_unlock(&e->lock);
	return sv;
}

/* A lot record's layout, as lots_layout_restore_lot takes it from the
 * state file (only run-time and moved lots have one). */
static void restore_layout_rec(struct engine *e, const struct snap_pending *p, const struct snap_lot *sl)
{
	struct lot_layout lay = { .runtime = sl->runtime, .pre_c = sl->pre_c };
	cJSON *h = NULL;

	if (!sl->runtime && !sl->conf_room)
		return;
	if (sl->runtime) {
		lay.product = p->strs + sl->product;
		lay.loaded_ns = sl->loaded_ns;
	} else {
		lay.conf_room = p->strs + sl->conf_room;
	}
	if (sl->history)
		lay.history = h = cJSON_Parse(p->strs + sl->history);
	lots_layout_restore(e, p->strs + sl->id, p->strs + sl->room, &lay);
	cJSON_Delete(h);
}

/* restore_all's steps, in its order, from the records. */
void snapshot_restore_saved(struct engine *e, struct engine_saved *sv)
{
	struct restore_ctx rc = { .e = e };
	const struct snap_pending *p = sv->p;
	cJSON *rest = p->rest ? cJSON_Parse(p->rest) : NULL;
	size_t nb, ntr;

	lots_layout_restore_unloaded(e, rest);
	for (size_t i = 0; i < p->nlots; i++)
		restore_layout_rec(e, p, &p->lots[i]);
	nb = snapshot_batches_restore(e, rest);
	cJSON_Delete(rest);
	rc.sorted = xmalloc((e->nalarms ? e->nalarms : 1) * sizeof(*rc.sorted));
	memcpy(rc.sorted, e->alarms, e->nalarms * sizeof(*rc.sorted));
	qsort(rc.sorted, e->nalarms, sizeof(*rc.sorted), alarm_id_cmp);
	for (size_t i = 0; i < p->nal; i++)
		alarm_apply(&rc, p->strs + p->al[i].id, &p->al[i].a, p->al[i].a.sev);
	free(rc.sorted);
	if ((rc.have_ix = lots_index_build(e, &rc.ix) == 0)) {
		for (size_t i = 0; i < p->nlots; i++)
			lot_apply(&rc, p->strs + p->lots[i].id, &p->lots[i].s);
		lots_index_free(&rc.ix);
	}
	ntr = trend_restore_pending(e, sv->trend);
	e->next_trend_ms = sv->next_trend_ms;
	snap_pending_free(sv->p);
	free(sv);
	/* the state file is the old engine's last periodic one until
	 * engine_save: the next snapshot is due now */
	e->dirty = 1;
	log_info("state kept over the reload: restored %zu %s, %zu %s, %zu %s, %zu trend %s", rc.nal,
		 plural(rc.nal, "alarm", "alarms"), rc.nlot, plural(rc.nlot, "lot", "lots"), nb,
		 plural(nb, "batch", "batches"), ntr, plural(ntr, "bucket", "buckets"));
}

/*
 * The snapshot is built under e->lock (snapshot_take) and written with the lock
 * released (snapshot_write): a write costs two fsyncs, and a slow state disk
 * must never hold up the source threads waiting in engine_process() (a
 * broker with a small per-client queue drops QoS 1 messages for a client
 * that stops reading).  Only the newest snapshot waits in pending; one
 * writer at a time (save_lock) takes it, so an older snapshot never
 * overwrites a newer one.
 */
/* Under e->lock.  The rooms' day goes with it every TREND_SAVE_MS, and
 * when trend says so (a stop). */
void snapshot_take(struct engine *e, int64_t now_ms, int trend)
{
	struct snap_pending *p = snapshot(e, now_ms);

	snap_pending_free(e->pending); /* superseded before it was written */
	free(e->pending_dir);
	if (trend || now_ms >= e->next_trend_ms) {
		trend_pending_free(e->pending_trend);
		e->pending_trend = trend_take(e, e->trend_file_max);
		e->next_trend_ms = now_ms + TREND_SAVE_MS;
	}
	e->pending = p;
	e->snap_taken_ms = now_ms;
	e->pending_dir = xstrdup(e->cfg->state_dir);
	e->dirty = 0; /* set again if the write fails */
}

/* Without e->lock: writes the newest snapshot taken, if any. */
void snapshot_write(struct engine *e)
{
	struct snap_pending *p;
	char *js, *dir;
	struct trend_pending *tp;
	int rc = -ENOMEM, trc;

	pthread_mutex_lock(&e->save_lock);
	pthread_mutex_lock(&e->lock);
	p = e->pending;
	dir = e->pending_dir;
	tp = e->pending_trend;
	e->pending = NULL;
	e->pending_dir = NULL;
	e->pending_trend = NULL;
	pthread_mutex_unlock(&e->lock);
	if (!p) {
		trend_pending_free(tp);
		pthread_mutex_unlock(&e->save_lock);
		return;
	}
	js = snapshot_text(p);
	snap_pending_free(p);
	if (js) {
		size_t n = strlen(js);
		int64_t gap = (int64_t)(n / (SNAPSHOT_DIRTY_BPS / 1000));
		rc = state_write(dir, STATE_FILE, js, n);
		pthread_mutex_lock(&e->lock);
		e->snap_gap_ms = gap >= 1000 ? gap : 0;
		pthread_mutex_unlock(&e->lock);
	}
	if (tp && (trc = trend_write(dir, tp)) < 0) {
		static struct log_rl trl;
		uint32_t more;
		if (log_rl_allow(&trl, 60000, &more))
			log_err("state %s/%s: cannot write: %s (%u more)", dir, TREND_FILE, strerror(-trc), more);
	}
	pthread_mutex_unlock(&e->save_lock);
	if (rc < 0) {
		static struct log_rl rl;
		uint32_t more;
		pthread_mutex_lock(&e->lock);
		e->dirty = 1; /* the next tick tries again */
		pthread_mutex_unlock(&e->lock);
		if (log_rl_allow(&rl, 60000, &more))
			log_err("state %s/%s: cannot write: %s (%u more)", dir, STATE_FILE, strerror(-rc), more);
	}
	cJSON_free(js);
	free(dir);
}

/*
 * Batches: every accumulator field of the cooling model by name, so a
 * batch resumes after kill -9 exactly where its last snapshot left it.
 * Times (int64_t ns) are written as decimal strings: a JSON number (a
 * double) cannot hold a nanosecond timestamp.  Non-finite doubles are
 * strings too ("nan", "inf", "-inf"); a field missing on restore keeps
 * the value a fresh batch has.
 */
#define MEDIUM_FIELDS(X) X(U32, n) X(DBL, sum_c) X(DBL, last_c) X(I64, last_ns) X(U32, hot) X(I64, hot_since_ns) \
	X(U32, n_bad) X(U32, n_old)
#define PROBE_FIELDS(X)                                                                                      \
	X(I64, start_ns) X(U32, nread) X(I64, first_ns) X(I64, last_ns) X(DBL, t0_c) X(DBL, last_c)          \
	X(DBL, last_y) X(U32, fitting) X(I64, fit_ns) X(U32, med_n0) X(DBL, med_sum0) X(DBL, x0) X(DBL, y0) \
	X(U32, n) X(DBL, su) X(DBL, sv) X(DBL, suu) X(DBL, suv) X(DBL, svv) X(I64, prev_fit_ns)             \
	X(DBL, prev_fit_c) X(DBL, rate_num) X(DBL, rate_den) X(U32, rate_n) X(U32, fault) X(I64, fault_ns)  \
	X(U32, n_bad) X(U32, n_old) X(U32, n_no_medium) X(U32, n_noise)

static void put_i64(cJSON *o, const char *k, int64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRId64, v);
	cJSON_AddStringToObject(o, k, b);
}

static void put_dbl(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddStringToObject(o, k, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

static int64_t get_i64(const cJSON *o, const char *k, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? strtoll(v->valuestring, NULL, 10) : cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

static double get_dbl(const cJSON *o, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsString(v))
		return strcmp(v->valuestring, "inf") == 0 ? INFINITY : strcmp(v->valuestring, "-inf") == 0 ? -INFINITY : NAN;
	return def;
}

#define PUT_U32(o, s, f) cJSON_AddNumberToObject(o, #f, (double)(s)->f);
#define PUT_I64(o, s, f) put_i64(o, #f, (s)->f);
#define PUT_DBL(o, s, f) put_dbl(o, #f, (s)->f);
#define GET_U32(o, s, f) (s)->f = (__typeof__((s)->f))snapshot_num(o, #f, (double)(s)->f);
#define GET_I64(o, s, f) (s)->f = get_i64(o, #f, (s)->f);
#define GET_DBL(o, s, f) (s)->f = get_dbl(o, #f, (s)->f);
#define CHILL_FIELDS(X) X(DBL, weight_kg) X(DBL, deadline_h) X(I64, deadline_ns) X(U32, compliant) \
	X(I64, compliant_ns) X(DBL, compliant_max_c) X(U32, excursion) X(I64, excursion_ns) X(DBL, max_after_c) \
	X(DBL, min_core_c) X(U32, gaps) X(DBL, gap_h) X(U32, probes_ok) X(U32, fresh_lost) X(I64, fresh_lost_ns) \
	X(U32, giblets_ok) X(I64, giblets_ok_ns)
#define X_PUT_C(t, f) PUT_##t(ch, &b->cs, f)
#define X_GET_C(t, f) GET_##t(ch, &b->cs, f)
#define X_PUT_M(t, f) PUT_##t(m, &cb->medium, f)
#define X_PUT_P(t, f) PUT_##t(y, cp, f)
#define X_GET_M(t, f) GET_##t(m, &cb->medium, f)
#define X_GET_P(t, f) GET_##t(y, cp, f)

#define FUMC_FIELDS(X) X(I64, first_ns) X(I64, last_ns) X(DBL, last_ppm) X(DBL, ct_ppmh) X(DBL, gap_lo_ppmh) \
	X(DBL, gap_hi_ppmh) X(DBL, monitored_h) X(DBL, unmonitored_h) X(DBL, exposure_h) X(DBL, peak_ppm)         \
	X(I64, peak_ns) X(U32, phase) X(I64, phase_ns) X(I64, change_ns) X(DBL, change_ppm) X(I64, purge_start_ns) \
	X(DBL, purge_c0_ppm) X(I64, purge_end_ns) X(U32, door_open) X(I64, door_ns) X(U32, fan_on) X(I64, fan_ns) X(U32, gaps) \
	X(U32, nan_samples) X(U32, late_samples)
#define FUMX_FIELDS(X) X(I64, start_ns) X(I64, last_ns) X(DBL, last_ppm) X(DBL, ppmh) X(DBL, monitored_h) \
	X(DBL, unmonitored_h) X(DBL, fill_ppmh) X(DBL, peak_ppm) X(DBL, stel_max_ppm) X(I64, stel_max_end_ns) \
	X(U32, gaps) X(U32, nan_samples) X(U32, late_samples) X(U32, merges) X(U32, ring_head) X(U32, ring_n)
#define SEG_FIELDS(X) X(I64, t0_ns) X(I64, t1_ns) X(DBL, ppm)
#define DRY_FIELDS(X) X(I64, start_ns) X(DBL, m0_kg) X(DBL, mc0_wb) X(DBL, m_ds_kg) X(U32, n_mass) X(U32, n_air) \
	X(U32, n_amb) X(U32, n_exh) X(I64, mass_last_ns) X(I64, bin_abs) X(DBL, mass_raw_kg) X(DBL, mass_kg)        \
	X(DBL, mass_t_h) X(I64, point_last_ns) X(DBL, anchor_t_h) X(DBL, anchor_kg) X(DBL, rate_kg_h)               \
	X(DBL, rate_initial_kg_h) X(DBL, lw_n) X(DBL, lw_tt) X(DBL, lw_ty) X(DBL, lw_yy) X(DBL, lw_t) X(DBL, lw_y)  \
	X(DBL, pg_n) X(DBL, pg_u) X(DBL, pg_uu) X(DBL, pg_y) X(DBL, pg_uy) X(DBL, pg_yy) X(DBL, fit_t_first_h)      \
	X(DBL, fit_t_last_h) X(DBL, mass_min_kg) X(DBL, still_ref_kg) X(I64, still_since_ns) X(I64, air_last_ns)    \
	X(DBL, air_c) X(DBL, air_rh) X(DBL, air_max_c) X(DBL, tempering_h) X(I64, amb_last_ns) X(DBL, amb_c)        \
	X(DBL, amb_rh) X(DBL, w_in) X(I64, exh_last_ns) X(DBL, exh_c) X(DBL, exh_rh) X(DBL, w_out) X(DBL, mda_kg_s) \
	X(DBL, water_kg_h) X(DBL, water_kg) X(DBL, balance_gap_h) X(U32, bad_samples) X(U32, late_samples)
#define DRYE_FIELDS(X) X(DBL, air_rh) X(DBL, exh_t) X(DBL, exh_rh) X(DBL, amb_t) X(DBL, amb_rh)
#define FUME_FIELDS(X) X(DBL, chamber_t) X(DBL, chamber_rh)
#define X_PUT_FC(t, f) PUT_##t(o, &fb->cs, f)
#define X_GET_FC(t, f) GET_##t(o, &fb->cs, f)
#define X_PUT_FE(t, f) PUT_##t(o, fb, f)
#define X_GET_FE(t, f) GET_##t(o, fb, f)
#define X_PUT_FX(t, f) PUT_##t(y, xs, f)
#define X_GET_FX(t, f) GET_##t(y, xs, f)
#define X_PUT_SG(t, f) PUT_##t(z, sg, f)
#define X_GET_SG(t, f) GET_##t(z, sg, f)
#define X_PUT_D(t, f) PUT_##t(o, &d->s, f)
#define X_GET_D(t, f) GET_##t(o, &d->s, f)
#define X_PUT_DE(t, f) PUT_##t(o, d, f)
#define X_GET_DE(t, f) GET_##t(o, d, f)

/* A fumigation batch: the chamber, then each outside sensor with the
 * STEL ring's live segments. */
static cJSON *fum_save(const struct ebatch_fum *fb)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "outside");

	FUMC_FIELDS(X_PUT_FC)
	FUME_FIELDS(X_PUT_FE)
	for (uint32_t i = 0; i < fb->nout; i++) {
		const struct fum_exposure_state *xs = &fb->xs[i];
		cJSON *y = cJSON_CreateObject(), *ring = cJSON_AddArrayToObject(y, "ring");
		FUMX_FIELDS(X_PUT_FX)
		for (uint32_t r = 0; r < FUM_RING_MAX; r++) {
			const struct fum_seg *sg = &xs->ring[r];
			cJSON *z = cJSON_CreateObject();
			SEG_FIELDS(X_PUT_SG)
			cJSON_AddItemToArray(ring, z);
		}
		cJSON_AddItemToArray(arr, y);
	}
	return o;
}

static void fum_restore(struct ebatch_fum *fb, const cJSON *o)
{
	const cJSON *y, *z;
	uint32_t i = 0;

	if (!o)
		return;
	FUMC_FIELDS(X_GET_FC)
	FUME_FIELDS(X_GET_FE)
	cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(o, "outside"))
	{
		struct fum_exposure_state *xs = &fb->xs[i];
		uint32_t r = 0;
		if (i >= fb->nout)
			break;
		FUMX_FIELDS(X_GET_FX)
		cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(y, "ring"))
		{
			struct fum_seg *sg = &xs->ring[r];
			if (r >= FUM_RING_MAX)
				break;
			SEG_FIELDS(X_GET_SG)
			r++;
		}
		if (xs->ring_head >= FUM_RING_MAX || xs->ring_n > FUM_RING_MAX) /* a damaged file: an empty ring */
			xs->ring_head = xs->ring_n = 0;
		i++;
	}
}

/* A drying batch: the load-cell filter bins as arrays. */
static cJSON *dry_save(const struct ebatch_dry *d)
{
	cJSON *o = cJSON_CreateObject(), *bins = cJSON_AddArrayToObject(o, "bins");

	DRY_FIELDS(X_PUT_D)
	DRYE_FIELDS(X_PUT_DE)
	for (int i = 0; i < DRYING_FILTER_BINS; i++) {
		cJSON *z = cJSON_CreateObject();
		put_dbl(z, "kg", d->s.bin_sum_kg[i]);
		put_dbl(z, "t_h", d->s.bin_sum_t_h[i]);
		cJSON_AddNumberToObject(z, "n", d->s.bin_n[i]);
		cJSON_AddItemToArray(bins, z);
	}
	return o;
}

static void dry_restore(struct ebatch_dry *d, const cJSON *o)
{
	const cJSON *z;
	int i = 0;

	if (!o)
		return;
	DRY_FIELDS(X_GET_D)
	DRYE_FIELDS(X_GET_DE)
	cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(o, "bins"))
	{
		if (i >= DRYING_FILTER_BINS)
			break;
		d->s.bin_sum_kg[i] = get_dbl(z, "kg", 0);
		d->s.bin_sum_t_h[i] = get_dbl(z, "t_h", 0);
		d->s.bin_n[i] = (uint32_t)snapshot_num(z, "n", 0);
		i++;
	}
}

static void opts_save(cJSON *x, const struct engine_batch_opts *o)
{
	put_dbl(x, "opt_tonnes", o->tonnes);
	put_dbl(x, "opt_mass_kg", o->mass_kg);
	put_dbl(x, "opt_moisture_pct", o->moisture_pct);
}

/* A chilling batch's giblet probes' last readings, so that a proof
 * pending across a restart goes on from them (as many as the line has). */
static void giblets_save(cJSON *ch, const struct chill_state *cs)
{
	cJSON *arr = cJSON_AddArrayToObject(ch, "giblets");

	for (uint32_t i = 0; i < cs->ngiblets && i < CHILL_GIBLETS_MAX; i++) {
		cJSON *y = cJSON_CreateObject();
		put_dbl(y, "c", cs->giblet_c[i]);
		put_i64(y, "ns", cs->giblet_ns[i]);
		cJSON_AddItemToArray(arr, y);
	}
}

static void giblets_restore(const cJSON *ch, struct chill_state *cs)
{
	const cJSON *y;
	uint32_t i = 0;

	cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(ch, "giblets"))
	{
		if (i >= cs->ngiblets || i >= CHILL_GIBLETS_MAX)
			break;
		cs->giblet_c[i] = get_dbl(y, "c", NAN);
		cs->giblet_ns[i] = get_i64(y, "ns", 0);
		i++;
	}
}

static cJSON *batch_save(struct ebatch *b)
{
	cJSON *x = cJSON_CreateObject(), *m = cJSON_CreateObject(), *ps = cJSON_CreateArray();
	const struct cool_batch *cb = batch_cool(b);

	cJSON_AddStringToObject(x, "id", b->id);
	cJSON_AddStringToObject(x, "process", b->pc->name);
	cJSON_AddStringToObject(x, "profile", b->profile);
	cJSON_AddStringToObject(x, "user", b->user);
	if (b->lot)
		cJSON_AddStringToObject(x, "lot", b->lot);
	cJSON_AddNumberToObject(x, "state", b->state);
	put_i64(x, "stop_ns", b->stop_ns);
	put_i64(x, "start_ns", cb->start_ns);
	put_i64(x, "harvest_ns", cb->harvest_ns);
	put_i64(x, "pull_plan_ns", cb->pull_plan_ns);
	cJSON_AddNumberToObject(x, "nprobes", cb->nprobes);
	MEDIUM_FIELDS(X_PUT_M)
	cJSON_AddItemToObject(x, "medium", m);
	for (uint32_t i = 0; i < cb->nprobes; i++) {
		const struct cool_probe *cp = &cb->probe[i];
		cJSON *y = cJSON_CreateObject();
		PROBE_FIELDS(X_PUT_P)
		cJSON_AddItemToArray(ps, y);
	}
	cJSON_AddItemToObject(x, "probes", ps);
	if (b->chill) {
		cJSON *ch = cJSON_AddObjectToObject(x, "chill");
		CHILL_FIELDS(X_PUT_C)
		giblets_save(ch, &b->cs);
	}
	opts_save(x, &b->opts);
	if (b->fum)
		cJSON_AddItemToObject(x, "fumigation", fum_save(b->fum));
	if (b->dry)
		cJSON_AddItemToObject(x, "drying", dry_save(b->dry));
	return x;
}

void snapshot_batches_save(struct engine *e, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "batches");

	for (size_t i = 0; i < e->nbatches; i++)
		cJSON_AddItemToArray(arr, batch_save(e->batches[i]));
}

static const char *jstring(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int batch_restore(struct engine *e, const cJSON *x)
{
	const char *id = jstring(x, "id"), *proc = jstring(x, "process"), *prof = jstring(x, "profile");
	const char *user = jstring(x, "user"), *lot = jstring(x, "lot");
	struct eproc *pr = batch_proc_find(e, proc);
	const struct cc_process_profile *pp = config_find_process_profile(e->cfg, prof);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(x, "medium"), *y;
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(x, "chill");
	int state = (int)snapshot_num(x, "state", EBATCH_RUNNING);
	struct ebatch *b = NULL;
	struct cool_batch *cb;
	uint32_t i = 0;

	struct engine_batch_opts o;

	engine_batch_opts_init(&o, get_i64(x, "start_ns", 0));
	o.harvest_ns = get_i64(x, "harvest_ns", 0);
	o.pull_plan_ns = get_i64(x, "pull_plan_ns", 0);
	o.weight_kg = get_dbl(ch, "weight_kg", NAN);
	o.tonnes = get_dbl(x, "opt_tonnes", NAN);
	o.mass_kg = get_dbl(x, "opt_mass_kg", NAN);
	o.moisture_pct = get_dbl(x, "opt_moisture_pct", NAN);
	if (id && pr && pp && pp->kind == pr->pc->kind && !(state == EBATCH_RUNNING && pr->active))
		b = batch_add(e, pr, pp, id, user ? user : "?", &o);
	if (!b) {
		log_warn("batch %s: on process %s with profile %s, which the configuration no longer has as such: dropped",
			 id ? id : "?", proc ? proc : "?", prof ? prof : "?");
		return 0;
	}
	b->state = state >= EBATCH_RUNNING && state <= EBATCH_RELEASED ? state : EBATCH_RUNNING;
	if (b->state != EBATCH_RUNNING)
		pr->active = NULL;
	b->stop_ns = get_i64(x, "stop_ns", 0);
	b->lot = lot ? xstrdup(lot) : NULL;
	cb = batch_cool(b);
	MEDIUM_FIELDS(X_GET_M)
	cJSON_ArrayForEach(y, cJSON_GetObjectItemCaseSensitive(x, "probes"))
	{
		struct cool_probe *cp = &cb->probe[i];
		if (i >= cb->nprobes)
			break;
		PROBE_FIELDS(X_GET_P)
		i++;
	}
	if (b->chill && ch) {
		CHILL_FIELDS(X_GET_C)
		giblets_restore(ch, &b->cs);
	}
	if (b->fum)
		fum_restore(b->fum, cJSON_GetObjectItemCaseSensitive(x, "fumigation"));
	if (b->dry)
		dry_restore(b->dry, cJSON_GetObjectItemCaseSensitive(x, "drying"));
	return 1;
}

size_t snapshot_batches_restore(struct engine *e, const cJSON *root)
{
	const cJSON *x;
	size_t n = 0;

	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "batches"))
		n += (size_t)batch_restore(e, x);
	return n;
}
