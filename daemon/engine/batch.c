/* batch.c - processing batches (issue 14) on the configured processes:
 * the lines' channels, start, samples, ticks, stop, release (into a lot)
 * and status, the alarms (PROCESS/BATCH/KIND) and "process" points; what
 * each kind does is its struct batch_kind (batch_cool.c: precooling and
 * carcass chilling, batch_fum.c: SO2 fumigation, batch_dry.c: drying). */
#include "batch_int.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util.h"

static const char *const alarm_rules[BA_N] = {
	"pulled_early", "underperforming", "unreachable", "late_start", "probe_fault", "over_cooling", "chill_missed",
	"chill_warning", "excursion", "ice_crust", "no_data", "few_probes", "giblets_missed", "not_fresh",
	"stel", "stel_warn", "twa_projected", "idlh", "ct_under", "ct_over", "ct_uncertain", "door_open_above_entry",
	"purge_overdue", "flat_sensor",
	"scorch", "scorch_critical", "fast_start", "stall", "exhaust_saturated", "open_air_wet", "loadcell_fault",
	"pulled_wet", "over_dried"
};

int64_t batch_stale_window_ms(const struct engine *e, const struct ebatch *b)
{
	(void)b;
	return e->cfg->alarms.stale_after_ms;
}

struct eproc *batch_proc_find(struct engine *e, const char *name)
{
	for (size_t i = 0; name && i < e->nprocs; i++)
		if (strcmp(e->procs[i].pc->name, name) == 0)
			return &e->procs[i];
	return NULL;
}

static struct ebatch *batch_find(struct engine *e, const char *id)
{
	for (size_t i = 0; id && i < e->nbatches; i++)
		if (strcmp(e->batches[i]->id, id) == 0)
			return e->batches[i];
	return NULL;
}

void batch_build(struct engine *e)
{
	const struct cc_config *cfg = e->cfg;

	e->nprocs = cfg->nprocesses;
	e->procs = xcalloc(cfg->nprocesses + 1, sizeof(*e->procs));
	for (size_t i = 0; i < cfg->nprocesses; i++) {
		const struct cc_process_conf *pc = &cfg->processes[i];
		struct echan *ch;
		const struct {
			const char *id;
			int role;
		} roles[] = { { pc->medium, PROLE_MEDIUM },	     { pc->chamber, PROLE_CHAMBER },
			      { pc->door, PROLE_DOOR },		     { pc->chamber_t, PROLE_CHAMBER_T },
			      { pc->chamber_rh, PROLE_CHAMBER_RH },  { pc->air, PROLE_AIR },
			      { pc->air_rh, PROLE_AIR_RH },	     { pc->exhaust_t, PROLE_EXHAUST_T },
			      { pc->exhaust_rh, PROLE_EXHAUST_RH },  { pc->ambient_t, PROLE_AMBIENT_T },
			      { pc->ambient_rh, PROLE_AMBIENT_RH },  { pc->loadcell, PROLE_LOADCELL },
			      { pc->purge_fan, PROLE_PURGE_FAN } };
		e->procs[i].pc = pc;
		for (size_t j = 0; j < sizeof(roles) / sizeof(roles[0]); j++)
			if (roles[j].id) {
				ch = build_chan_get(e, roles[j].id, NULL);
				ch->proc = &e->procs[i];
				ch->proc_role = roles[j].role;
			}
		for (size_t j = 0; j < pc->nprobes; j++) {
			ch = build_chan_get(e, pc->probes[j], NULL);
			ch->proc = &e->procs[i];
			ch->proc_role = (int)j;
		}
		for (size_t j = 0; j < pc->ngiblets; j++) {
			ch = build_chan_get(e, pc->giblets[j], NULL);
			ch->proc = &e->procs[i];
			ch->proc_role = PROLE_GIBLET + (int)j;
		}
		for (size_t j = 0; j < pc->noutside; j++) {
			ch = build_chan_get(e, pc->outside[j], NULL);
			ch->proc = &e->procs[i];
			ch->proc_role = (int)j;
		}
	}
}

double batch_ms_h(int64_t ms, double unset)
{
	return ms < 0 ? unset : (double)ms / H_MS;
}

/* " (D-graded, an estimate: k1, k2)" for the keys behind an alarm the
 * profile (group "precool", "carcass_chill", ...) or the line
 * ("processes") grades D. */
static char *grade_note(const struct ebatch *b, const char *group, const char *const *keys)
{
	char *out = xstrdup(""), *t;
	int n = 0;

	for (size_t i = 0; keys[i]; i++) {
		const struct cc_param *pa = config_process_param(b->prof, group, keys[i], -1);
		for (size_t j = 0; !pa && j < b->pc->nparams; j++)
			if (strcmp(b->pc->params[j].key, keys[i]) == 0)
				pa = &b->pc->params[j];
		if (!pa || pa->grade != 'D')
			continue;
		t = xasprintf("%s%s%s", out, n++ ? ", " : " (D-graded, an estimate: ", keys[i]);
		free(out);
		out = t;
	}
	if (n) {
		t = xasprintf("%s)", out);
		free(out);
		out = t;
	}
	return out;
}

int batch_param_is_d(const struct ebatch *b, const char *group, const char *key)
{
	const char *const keys[] = { key, NULL };
	char *note = grade_note(b, group, keys);
	int d = *note != 0;

	free(note);
	return d;
}

char *batch_alarm_msg(const struct ebatch *b, const char *group, const char *const *keys, char *what)
{
	char *note = grade_note(b, group, keys), *msg;

	msg = xasprintf("batch %s on %s (%s %s): %s%s", b->id, b->pc->name, b->prof->name, b->prof->version, what, note);
	free(what);
	free(note);
	return msg;
}

static void batch_alarms(struct engine *e, struct ebatch *b)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;

	for (int k = 0; k < BA_N; k++) {
		struct alarm_conf c = { .kind = ALARM_COND, .severity = ALARM_SEV_WARNING, .renotify_ms = ac->renotify_ms,
					.escalate_ms = ac->escalate_ms, .escalate_to = ALARM_SEV_CRITICAL };
		char *id, *msg;
		if (!b->ops->alarm_wanted(b, k))
			continue;
		b->ops->alarm_conf(b, k, &c);
		id = xasprintf("%s/%s/%s", b->pc->name, b->id, alarm_rules[k]);
		msg = b->ops->alarm_text(b, k);
		b->al[k] = build_alarm_new(e, id, NULL, NULL, NULL, alarm_rules[k], msg, &c);
		free(id);
		free(msg);
	}
}

struct ebatch *batch_add(struct engine *e, struct eproc *pr, const struct cc_process_profile *prof, const char *id,
			 const char *user, const struct engine_batch_opts *o)
{
	struct ebatch *b = xcalloc(1, sizeof(*b));
	int rc;

	b->kind = prof->kind;
	b->ops = prof->kind == CC_PROCESS_FUMIGATION ? &batch_kind_fum
		 : prof->kind == CC_PROCESS_DRYING  ? &batch_kind_dry
						     : &batch_kind_cool;
	b->start_ns = o->start_ns;
	b->opts = *o;
	b->pc = pr->pc;
	b->prof = prof;
	if ((rc = b->ops->init(b, prof, o)) < 0) {
		free(b);
		errno = -rc;
		return NULL;
	}
	b->id = xstrdup(id);
	b->profile = xstrdup(prof->name);
	b->user = xstrdup(user);
	b->arrival_ms = e->now_ms;
	batch_alarms(e, b);
	e->batches = xrealloc(e->batches, (e->nbatches + 1) * sizeof(*e->batches));
	e->batches[e->nbatches++] = b;
	pr->active = b;
	eval_line_state(e, pr, e->now_ms, NULL); /* its channels watched again */
	return b;
}

static void batch_free(struct engine *e, struct ebatch *b, int drop_alarms)
{
	for (int k = 0; k < BA_N && drop_alarms; k++)
		lots_alarm_drop(e, b->al[k]);
	free(b->id);
	free(b->profile);
	free(b->user);
	free(b->lot);
	free(b->fum);
	free(b->dry);
	free(b);
}

void batch_free_all(struct engine *e)
{
	for (size_t i = 0; i < e->nbatches; i++)
		batch_free(e, e->batches[i], 0); /* the engine frees every alarm */
	free(e->batches);
	free(e->procs);
	e->batches = NULL;
	e->nbatches = 0;
}

void batch_sample(struct engine *e, struct echan *ch, const struct cc_sample *s)
{
	struct ebatch *b = ch->proc->active;

	if (!b || s->ts_ns < b->start_ns)
		return;
	b->ops->sample(e, b, ch->proc_role, s->ts_ns, s->value);
	b->fed++;
	b->arrival_ms = e->now_ms;
	e->dirty = 1;
}

/*
 * The time a running batch is judged at.  While its readings are arriving
 * (the last one came less than a window of wall time ago), at the newest
 * reading's own time: a backlog (an MQTT session resumed, a logger
 * uploaded, a batch started with --start in the past) is judged as it was
 * then, not as if the hours it covers had passed without data; the same
 * for a batch just started, before its first reading.  Once readings stop
 * arriving for longer than the window, at the wall clock: a deadline
 * passes and silence is seen.  The window: a chilling batch's max_gap, a
 * precooling batch's stale limit (alarms.stale_after).
 */
static int64_t batch_at(const struct engine *e, const struct ebatch *b, int64_t now_ns)
{
	int64_t window_ms = b->ops->window_ms(e, b);
	int64_t at = b->ops->newest_ns(b);

	if (b->state != EBATCH_RUNNING)
		return b->stop_ns;
	return now_ns / 1000000 - b->arrival_ms <= window_ms && at < now_ns ? at : now_ns;
}

void batch_field_f(struct lp_field *f, size_t *n, const char *k, double v)
{
	f[*n].key = k;
	f[*n].type = LP_FLOAT;
	f[(*n)++].v.f = v;
}

void batch_field_i(struct lp_field *f, size_t *n, const char *k, int64_t v)
{
	f[*n].key = k;
	f[*n].type = LP_INT;
	f[(*n)++].v.i = v;
}

void batch_field_b(struct lp_field *f, size_t *n, const char *k, int v)
{
	f[*n].key = k;
	f[*n].type = LP_BOOL;
	f[(*n)++].v.b = v;
}

void batch_field_s(struct lp_field *f, size_t *n, const char *k, const char *v)
{
	f[*n].key = k;
	f[*n].type = LP_STRING;
	f[(*n)++].v.s = v;
}

/* The batch's "process" points, at the time it is judged at (a backlog's
 * points fall at their process time). */
static void batch_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t now_ns)
{
	b->ops->point(e, lb, b, batch_at(e, b, now_ns));
}

#define BATCH_FIELDS_MAX 32 /* the most fields a kind's point has */

void batch_emit(struct engine *e, struct lp_buf *lb, const struct ebatch *b, const char *sensor,
		const struct lp_field *fl, size_t n, int64_t at)
{
	struct lp_tag tags[] = { { "batch", b->id },	     { "kind", config_process_kind_name(b->pc->kind) },
				 { "process", b->pc->name }, { "profile", b->prof->name },
				 { "profile_version", b->prof->version }, { "sensor", sensor },
				 { "site", e->cfg->site } };
	size_t nt = sizeof(tags) / sizeof(tags[0]);
	struct lp_field all[BATCH_FIELDS_MAX + 2];

	/* every kind's points carry the start (a report draws from it) and,
	 * once released, the lot (a report finds the lot's batches by it) */
	assert(n <= BATCH_FIELDS_MAX);
	memcpy(all, fl, n * sizeof(*fl));
	batch_field_i(all, &n, "start", b->start_ns);
	if (b->lot)
		batch_field_s(all, &n, "lot", b->lot);
	if (!sensor) { /* drop the sensor tag, keep the order */
		tags[5] = tags[6];
		nt--;
	}
	lp_encode(lb, "process", tags, nt, all, n, at);
}

/* A released batch whose alarms are all quiet has nothing left to show. */
static int batch_done(const struct ebatch *b)
{
	if (b->state != EBATCH_RELEASED)
		return 0;
	for (int k = 0; k < BA_N; k++)
		if (b->al[k] && alarm_state(&b->al[k]->a) != ALARM_INACTIVE)
			return 0;
	return 1;
}

void batch_tick(struct engine *e, int64_t now_ns)
{
	struct lp_buf lb;

	lp_buf_init(&lb);
	for (size_t i = 0; i < e->nbatches; i++) {
		struct ebatch *b = e->batches[i];
		int64_t at;
		if (b->state != EBATCH_RUNNING)
			continue;
		/* judged at its readings' time, announced now: re-notification
		 * and escalation count from when someone could first be told */
		at = batch_at(e, b, now_ns);
		b->ops->eval(e, b, now_ns / 1000000, at);
		if (b->fed) {
			batch_point(e, &lb, b, now_ns);
			b->fed = 0;
		}
	}
	eval_emit_lines(e, &lb);
	lp_buf_free(&lb);
	for (size_t i = 0; i < e->nbatches; i++)
		if (batch_done(e->batches[i])) {
			batch_free(e, e->batches[i], 1);
			memmove(&e->batches[i], &e->batches[i + 1], (e->nbatches - i - 1) * sizeof(*e->batches));
			e->nbatches--;
			i--;
			e->dirty = 1;
		}
}

/* 0, or why process pr cannot take a batch of profile prof now. */
static int start_refused(struct engine *e, struct eproc *pr, const struct cc_process_profile *prof, const char *id)
{
	if (prof->kind != pr->pc->kind)
		return -EMEDIUMTYPE;
	if (batch_find(e, id))
		return -EEXIST;
	if (pr->active)
		return -EBUSY;
	if (e->nbatches >= ENGINE_MAX_BATCHES)
		return -ENOSPC;
	return 0;
}

void engine_batch_opts_init(struct engine_batch_opts *o, int64_t start_ns)
{
	*o = (struct engine_batch_opts){ .start_ns = start_ns, .weight_kg = NAN, .tonnes = NAN, .mass_kg = NAN,
					 .moisture_pct = NAN };
}

int engine_batch_start(struct engine *e, const char *process, const char *batch, const char *profile,
		       int64_t start_ns, int64_t harvest_ns, int64_t pull_plan_ns, double weight_kg, const char *user)
{
	struct engine_batch_opts o;

	engine_batch_opts_init(&o, start_ns);
	o.harvest_ns = harvest_ns;
	o.pull_plan_ns = pull_plan_ns;
	o.weight_kg = weight_kg;
	return engine_batch_start_opts(e, process, batch, profile, &o, user);
}

int engine_batch_start_opts(struct engine *e, const char *process, const char *batch, const char *profile,
			    const struct engine_batch_opts *o, const char *user)
{
	const struct cc_process_profile *prof;
	struct eproc *pr;
	int rc = 0;

	if (!batch || !*batch || !user || !*user || !o || o->start_ns <= 0)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(pr = batch_proc_find(e, process)) || !(prof = config_find_process_profile(e->cfg, profile)))
		rc = -ENOENT;
	else if ((rc = start_refused(e, pr, prof, batch)) == 0 &&
		 !batch_add(e, pr, prof, batch, user, o))
		rc = -errno;
	if (rc == 0) {
		e->dirty = 1;
		log_info("batch %s started on %s with profile %s %s by %s", batch, process, profile, prof->version, user);
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void batch_alarm_fact(struct engine *e, struct ealarm *ea, int64_t now_ms, double v)
{
	eval_alarm_cond(e, ea, now_ms, 1, v);
	eval_alarm_cond(e, ea, now_ms, 0, v);
}

/* One point of batch b now, out to the lines. */
static void batch_point_lines(struct engine *e, const struct ebatch *b, int64_t now_ns)
{
	struct lp_buf lb;

	lp_buf_init(&lb);
	batch_point(e, &lb, b, now_ns);
	eval_emit_lines(e, &lb);
	lp_buf_free(&lb);
}

/* Under the lock: the final verdicts (the pulled-early alarm, ...), a last
 * point. */
static void batch_stop_locked(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user)
{
	b->stop_ns = now_ns;
	b->state = EBATCH_STOPPED;
	for (size_t i = 0; i < e->nprocs; i++)
		if (e->procs[i].active == b) {
			e->procs[i].active = NULL;
			eval_line_state(e, &e->procs[i], now_ns / 1000000, b->id); /* idle: its channels' alarms clear */
		}
	b->ops->stop(e, b, now_ns, user);
	batch_point_lines(e, b, now_ns);
	b->fed = 0;
	e->dirty = 1;
}

int engine_batch_stop(struct engine *e, const char *batch, int64_t now_ns, const char *user)
{
	struct ebatch *b;
	int rc = 0;

	if (!user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(b = batch_find(e, batch)))
		rc = -ENOENT;
	else if (b->state != EBATCH_RUNNING)
		rc = -EALREADY;
	else
		batch_stop_locked(e, b, now_ns, user);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

/* One processing step of a lot's history. */
static cJSON *history_step(const struct ebatch *b)
{
	cJSON *x = cJSON_CreateObject();
	char t[64];

	cJSON_AddStringToObject(x, "process", b->pc->name);
	cJSON_AddStringToObject(x, "kind", config_process_kind_name(b->pc->kind));
	cJSON_AddStringToObject(x, "batch", b->id);
	cJSON_AddStringToObject(x, "profile", b->prof->name);
	cJSON_AddStringToObject(x, "profile_version", b->prof->version);
	publish_fmt_time(b->start_ns, t, sizeof(t));
	cJSON_AddStringToObject(x, "start", t);
	publish_fmt_time(b->stop_ns, t, sizeof(t));
	cJSON_AddStringToObject(x, "end", t);
	b->ops->history(x, b);
	return x;
}

/* Lot `lot` when it is loaded in room `room`, else NULL. */
static struct elot *lot_in_room(struct engine *e, const char *room, const char *lot)
{
	for (size_t i = 0; i < e->nrooms; i++)
		for (size_t j = 0; strcmp(e->rooms[i].rc->name, room) == 0 && j < e->rooms[i].nlots; j++)
			if (strcmp(e->rooms[i].lots[j].lc->id, lot) == 0)
				return &e->rooms[i].lots[j];
	return NULL;
}

/* The lot's steps this release records: the harvest (when the batch was
 * started with one), the batch, the room it is in now (its start: the
 * latest processing step's end, when that follows the load). */
static void release_steps(struct engine *e, const struct ebatch *b, const struct elot *l, const char *room,
			  const cJSON *step)
{
	const char *lot = l->lc->id;
	int64_t loaded = l->lc->loaded_ns;

	if (b->opts.harvest_ns)
		lots_step_emit(e, &(struct lot_step){ .lot = lot, .step = "harvest", .batch = b->id,
						      .at_ns = b->opts.harvest_ns, .start_ns = b->opts.harvest_ns });
	lots_step_emit(e, &(struct lot_step){ .lot = lot, .step = config_process_kind_name(b->pc->kind),
					      .batch = b->id, .process = b->pc->name, .at_ns = b->start_ns,
					      .start_ns = b->start_ns, .end_ns = b->stop_ns, .result = step });
	lots_step_emit(e, &(struct lot_step){ .lot = lot, .step = "room", .room = room, .at_ns = loaded,
					      .start_ns = b->stop_ns > loaded ? b->stop_ns : loaded });
}

static int batch_release_locked(struct engine *e, struct ebatch *b, const char *lot, const char *room,
				const char *product, const char *user)
{
	const struct cc_room_conf *rc = config_find_room(e->cfg, room);
	struct elot *l;
	cJSON *step;
	double pre_c;
	int err;

	if (!rc)
		return -ENOENT;
	if (!product)
		product = rc->prof ? rc->prof->name : NULL;
	if (!product)
		return -EINVAL;
	if (b->state == EBATCH_RUNNING)
		batch_stop_locked(e, b, time_now_ns(), user);
	/* a cooled lot's pre-monitoring temperature is its final slowest
	 * probe (a carcass lot's: its warmest core); a fumigated or dried
	 * lot's is not measured */
	pre_c = b->ops->final_c ? b->ops->final_c(b) : NAN;
	/* a lot an earlier step (precooling) released into this room goes
	 * on through this one (fumigation): one history */
	if (!(l = lot_in_room(e, room, lot)) && (err = lots_load(e, room, lot, product, b->stop_ns, pre_c, &l)) < 0)
		return err;
	if (!l->history)
		l->history = cJSON_CreateArray();
	step = history_step(b);
	cJSON_AddItemToArray(l->history, step);
	release_steps(e, b, l, room, step);
	b->state = EBATCH_RELEASED;
	b->lot = xstrdup(lot);
	batch_point_lines(e, b, b->stop_ns); /* the last point again, now with its lot */
	if (!isnan(pre_c))
		log_info("batch %s on %s released by %s as lot %s (%s) into room %s at %.2f °C", b->id, b->pc->name, user,
			 lot, product, room, pre_c);
	else
		log_info("batch %s on %s released by %s as lot %s (%s) into room %s", b->id, b->pc->name, user, lot,
			 product, room);
	return 0;
}

int engine_batch_release(struct engine *e, const char *batch, const char *lot, const char *room,
			 const char *product, const char *user)
{
	struct ebatch *b;
	int rc;

	if (!lot || !*lot || !user || !*user)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(b = batch_find(e, batch)))
		rc = -ENOENT;
	else if (b->state == EBATCH_RELEASED)
		rc = -EALREADY;
	else
		rc = batch_release_locked(e, b, lot, room, product, user);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void batch_json_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

void batch_json_time(cJSON *o, const char *k, int64_t ns)
{
	char t[64], nb[24];
	char *kn;

	if (!ns)
		return;
	publish_fmt_time(ns, t, sizeof(t));
	cJSON_AddStringToObject(o, k, t);
	kn = xasprintf("%s_ns", k);
	snprintf(nb, sizeof(nb), "%" PRId64, ns);
	cJSON_AddRawToObject(o, kn, nb);
	free(kn);
}

static cJSON *batch_json(const struct ebatch *b, int64_t at)
{
	static const char *const states[] = { "running", "stopped", "released" };
	cJSON *x = cJSON_CreateObject();

	cJSON_AddStringToObject(x, "id", b->id);
	cJSON_AddStringToObject(x, "process", b->pc->name);
	cJSON_AddStringToObject(x, "kind", config_process_kind_name(b->pc->kind));
	cJSON_AddStringToObject(x, "profile", b->prof->name);
	cJSON_AddStringToObject(x, "profile_version", b->prof->version);
	cJSON_AddStringToObject(x, "state", states[b->state]);
	cJSON_AddStringToObject(x, "user", b->user);
	if (b->lot)
		cJSON_AddStringToObject(x, "lot", b->lot);
	batch_json_time(x, "start", b->start_ns);
	batch_json_time(x, "stop", b->state == EBATCH_RUNNING ? 0 : b->stop_ns);
	batch_json_time(x, "judged_at", at);
	b->ops->json(x, b, at);
	return x;
}

cJSON *engine_batch_status_json(struct engine *e, const char *batch)
{
	cJSON *o = NULL, *arr;
	int64_t now_ns;

	if (!e)
		return NULL;
	pthread_mutex_lock(&e->lock);
	now_ns = e->now_ms * 1000000LL;
	if (batch) {
		const struct ebatch *b = batch_find(e, batch);
		o = b ? batch_json(b, batch_at(e, b, now_ns)) : NULL;
	} else {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "site", e->cfg->site);
		arr = cJSON_AddArrayToObject(o, "batches");
		for (size_t i = 0; i < e->nbatches; i++)
			cJSON_AddItemToArray(arr, batch_json(e->batches[i], batch_at(e, e->batches[i], now_ns)));
	}
	pthread_mutex_unlock(&e->lock);
	return o;
}

int engine_batch_phase(struct engine *e, const char *batch, const char *phase, int64_t at_ns, const char *user)
{
	struct ebatch *b;
	int rc;

	if (!user || !*user || !phase)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(b = batch_find(e, batch)))
		rc = -ENOENT;
	else if (!b->fum)
		rc = -EMEDIUMTYPE;
	else if (b->state != EBATCH_RUNNING)
		rc = -EALREADY;
	else if ((rc = fumb_phase(b, phase, at_ns)) == 0) {
		b->fed++;
		e->dirty = 1;
		log_info("batch %s on %s: phase %s by %s", b->id, b->pc->name, phase, user);
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}
