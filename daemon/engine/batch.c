/* batch.c - processing batches (issue 14) on the configured processes:
 * a precooling batch's samples through its cooling fit (models/cooling.h),
 * its verdicts as alarms (PROCESS/BATCH/KIND), its "process" points, and
 * the operator's start, stop, release (into a lot) and status. */
#include "engine_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util.h"

#define H_MS 3600000.0
#define H_NS 3.6e12

static const char *const alarm_rules[BA_N] = { "pulled_early", "underperforming", "unreachable", "late_start",
					       "probe_fault", "over_cooling" };

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
		e->procs[i].pc = pc;
		ch = build_chan_get(e, pc->medium, NULL);
		ch->proc = &e->procs[i];
		ch->proc_role = -1;
		for (size_t j = 0; j < pc->nprobes; j++) {
			ch = build_chan_get(e, pc->probes[j], NULL);
			ch->proc = &e->procs[i];
			ch->proc_role = (int)j;
		}
	}
}

static double ms_h(int64_t ms, double unset)
{
	return ms < 0 ? unset : (double)ms / H_MS;
}

/* The profile's graded numbers (ms, °C, NaN or -1 unset) as the cooling
 * model's parameters (hours; unset is the model's "off"); the line's own
 * c_ref and set-point win. */
static void batch_params(struct cool_params *p, const struct cc_process_conf *pc, const struct cc_process_profile *prof)
{
	const struct cc_precool_conf *q = &prof->precool;

	cool_params_default(p);
	p->target_c = q->target_c;
	p->unreach_margin_k = q->unreachable_margin_k;
	p->delta_k = q->fit.delta_k;
	p->lag_y = q->fit.lag_y;
	p->lag_h = ms_h(q->fit.t_lag_ms, INFINITY);
	p->min_points = (uint32_t)q->fit.min_points;
	p->r2_min = q->fit.r2_min;
	p->c_min = q->fit.c_min;
	p->c_max = q->fit.c_max;
	p->j_min = q->fit.j_min;
	p->j_max = q->fit.j_max;
	p->fault_y_max = q->probe_fault_y;
	p->fault_step_frac = q->probe_fault_step_fraction;
	p->fault_step_k = q->probe_fault_step_k;
	p->fault_rise_k = q->probe_fault_rise_k;
	p->c_ref = isnan(pc->c_ref_h) ? q->c_ref_h : pc->c_ref_h;
	p->underperf_frac = q->underperform_fraction;
	p->pull_margin_k = q->target_margin_k;
	p->pull_y_max = q->pull_y_max;
	p->late_start_h = ms_h(q->harvest_limit_ms, INFINITY);
	p->field_heat_c = q->field_heat_c;
	p->over_cool_c = isnan(q->overcool_c) ? -INFINITY : q->overcool_c;
	p->medium_set_c = pc->set_point_c;
	p->medium_hot_k = q->medium_margin_k;
	p->medium_hot_h = ms_h(q->medium_duration_ms, INFINITY);
}

/* " (D-graded, an estimate: k1, k2)" for the keys behind an alarm the
 * profile (group "precool") or the line ("processes") grades D. */
static char *grade_note(const struct ebatch *b, const char *const *keys)
{
	char *out = xstrdup(""), *t;
	int n = 0;

	for (size_t i = 0; keys[i]; i++) {
		const struct cc_param *pa = config_process_param(b->prof, "precool", keys[i], -1);
		for (size_t j = 0; !pa && strcmp(keys[i], "c_ref") == 0 && j < b->pc->nparams; j++)
			if (strcmp(b->pc->params[j].key, "c_ref") == 0)
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

/* What each alarm says, and whether the batch's parameters make it
 * meaningful (else it is not built). */
static char *alarm_text(const struct ebatch *b, int k)
{
	static const char *const k_pull[] = { "target", "target_margin", "pull_y", NULL };
	static const char *const k_under[] = { "c_ref", "underperform_fraction", "medium_margin", "medium_duration", NULL };
	static const char *const k_unreach[] = { "target", "unreachable_margin", NULL };
	static const char *const k_late[] = { "harvest_limit", NULL };
	static const char *const k_fault[] = { "probe_fault_y", "probe_fault_step", "probe_fault_rise", NULL };
	static const char *const k_over[] = { "overcool", NULL };
	static const char *const *const keys[BA_N] = { k_pull, k_under, k_unreach, k_late, k_fault, k_over };
	const struct cool_params *p = &b->p;
	char *what, *note, *msg;

	switch (k) {
	case BA_PULLED_EARLY:
		what = xasprintf("pulled too early: slowest probe above %g °C + %g K, or its Y above %g", p->target_c,
				 p->pull_margin_k, p->pull_y_max);
		break;
	case BA_UNDERPERFORMING:
		what = xasprintf("cooler underperforming: C below %g × C_ref %g /h, or medium above set-point %g °C + %g K "
				 "for %g h", p->underperf_frac, p->c_ref, p->medium_set_c, p->medium_hot_k, p->medium_hot_h);
		break;
	case BA_UNREACHABLE:
		what = xasprintf("target %g °C unreachable: medium at or above %g °C", p->target_c,
				 p->target_c - p->unreach_margin_k);
		break;
	case BA_LATE_START: what = xasprintf("late start: more than %g h from harvest to cooling", p->late_start_h); break;
	case BA_PROBE_FAULT: what = xasprintf("probe fault (pulled out of the fruit, rising, or Y above %g)", p->fault_y_max); break;
	default: what = xasprintf("over-cooling: pulp below %g °C", p->over_cool_c); break;
	}
	note = grade_note(b, keys[k]);
	msg = xasprintf("batch %s on %s (%s %s): %s%s", b->id, b->pc->name, b->prof->name, b->prof->version, what, note);
	free(what);
	free(note);
	return msg;
}

static int alarm_wanted(const struct ebatch *b, int k)
{
	switch (k) {
	case BA_UNDERPERFORMING: return isfinite(b->p.c_ref) || isfinite(b->p.medium_set_c);
	case BA_LATE_START: return isfinite(b->p.late_start_h) && b->b.harvest_ns != 0;
	case BA_OVER_COOLING: return isfinite(b->p.over_cool_c);
	default: return 1;
	}
}

/* The number each alarm's records show as its limit. */
static double alarm_limit(const struct ebatch *b, int k)
{
	const struct cool_params *p = &b->p;

	switch (k) {
	case BA_PULLED_EARLY: return p->target_c + p->pull_margin_k;
	case BA_UNDERPERFORMING: return p->underperf_frac; /* of C_ref */
	case BA_UNREACHABLE: return p->target_c - p->unreach_margin_k;
	case BA_LATE_START: return p->late_start_h;
	case BA_OVER_COOLING: return p->over_cool_c;
	default: return p->fault_y_max;
	}
}

static void batch_alarms(struct engine *e, struct ebatch *b)
{
	const struct cc_alarms_conf *ac = &e->cfg->alarms;

	for (int k = 0; k < BA_N; k++) {
		struct alarm_conf c = { .kind = ALARM_COND, .severity = ALARM_SEV_WARNING, .renotify_ms = ac->renotify_ms,
					.escalate_ms = ac->escalate_ms, .escalate_to = ALARM_SEV_CRITICAL };
		char *id, *msg;
		if (!alarm_wanted(b, k))
			continue;
		/* a pull is a fact, not a state: it stays until someone resets it */
		c.latched = k == BA_PULLED_EARLY;
		c.limit = alarm_limit(b, k);
		id = xasprintf("%s/%s/%s", b->pc->name, b->id, alarm_rules[k]);
		msg = alarm_text(b, k);
		b->al[k] = build_alarm_new(e, id, NULL, NULL, NULL, alarm_rules[k], msg, &c);
		free(id);
		free(msg);
	}
}

struct ebatch *batch_add(struct engine *e, struct eproc *pr, const struct cc_process_profile *prof, const char *id,
			 const char *user, int64_t start_ns, int64_t harvest_ns, int64_t pull_plan_ns)
{
	struct ebatch *b = xcalloc(1, sizeof(*b));

	b->id = xstrdup(id);
	b->profile = xstrdup(prof->name);
	b->user = xstrdup(user);
	b->pc = pr->pc;
	b->prof = prof;
	batch_params(&b->p, pr->pc, prof);
	cool_batch_init(&b->b, (uint32_t)pr->pc->nprobes, start_ns, harvest_ns, pull_plan_ns);
	batch_alarms(e, b);
	e->batches = xrealloc(e->batches, (e->nbatches + 1) * sizeof(*e->batches));
	e->batches[e->nbatches++] = b;
	pr->active = b;
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

	if (!b || s->ts_ns < b->b.start_ns)
		return;
	if (ch->proc_role < 0)
		cool_batch_observe_medium(&b->b, &b->p, s->ts_ns, s->value);
	else
		cool_batch_observe_probe(&b->b, &b->p, (uint32_t)ch->proc_role, s->ts_ns, s->value);
	b->fed++;
	e->dirty = 1;
}

/* The verdict now, or at the stop for a stopped batch. */
static void batch_verdict(const struct ebatch *b, int64_t now_ns, struct cool_verdict *v)
{
	cool_batch_verdict(&b->b, &b->p, b->state == EBATCH_RUNNING ? now_ns : b->stop_ns, v);
}

static double slowest_c(const struct ebatch *b, const struct cool_verdict *v)
{
	return v->slowest >= 0 ? b->b.probe[v->slowest].last_c : NAN;
}

/* When the slowest probe reaches the target: its last reading's time plus
 * the remaining time from that reading (the model's eta_ns counts from the
 * query time, which is later than the reading when data arrive late or a
 * probe has gone quiet); 0 when there is no prediction. */
static int64_t batch_eta_ns(const struct ebatch *b, const struct cool_verdict *v)
{
	if (v->slowest < 0 || (v->fit.eta != COOL_ETA_OK && v->fit.eta != COOL_ETA_REACHED))
		return 0;
	return b->b.probe[v->slowest].last_ns + (int64_t)(v->fit.remaining_h * H_NS);
}

static void batch_alarms_eval(struct engine *e, struct ebatch *b, int64_t now_ms, const struct cool_verdict *v)
{
	double late_h = b->b.harvest_ns ? (double)(b->b.start_ns - b->b.harvest_ns) / H_NS : NAN;

	eval_alarm_cond(e, b->al[BA_UNDERPERFORMING], now_ms, v->underperforming || v->medium_hot, v->c_ratio);
	eval_alarm_cond(e, b->al[BA_UNREACHABLE], now_ms, v->unreachable, v->fit.tm_c);
	eval_alarm_cond(e, b->al[BA_LATE_START], now_ms, v->late_start, late_h);
	eval_alarm_cond(e, b->al[BA_PROBE_FAULT], now_ms, v->probe_faults != 0, (double)v->probe_faults);
	eval_alarm_cond(e, b->al[BA_OVER_COOLING], now_ms, v->over_cooling, NAN);
}

static void batch_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t now_ns)
{
	struct cool_verdict v;
	const struct cool_fit *f = &v.fit;

	batch_verdict(b, now_ns, &v);
	{
		struct lp_tag tags[] = { { "batch", b->id },	      { "kind", config_process_kind_name(b->pc->kind) },
					 { "process", b->pc->name },  { "profile", b->prof->name },
					 { "profile_version", b->prof->version }, { "site", e->cfg->site } };
		struct lp_field fl[] = {
			{ "C", LP_FLOAT, { .f = f->c_per_h } },
			{ "j", LP_FLOAT, { .f = f->j } },
			{ "r2", LP_FLOAT, { .f = f->r2 } },
			{ "half_h", LP_FLOAT, { .f = f->half_h } },
			{ "seven_eighths_h", LP_FLOAT, { .f = f->seven_eighths_h } },
			{ "eta", LP_INT, { .i = batch_eta_ns(b, &v) } },
			{ "remaining_h", LP_FLOAT, { .f = f->remaining_h } },
			{ "slowest_c", LP_FLOAT, { .f = slowest_c(b, &v) } },
			{ "medium_c", LP_FLOAT, { .f = b->b.medium.last_c } },
			{ "n", LP_INT, { .i = f->n } },
			{ "fit", LP_STRING, { .s = cool_fit_status_name(f->status) } },
			{ "pull_early", LP_BOOL, { .b = v.pull_early } },
			{ "underperforming", LP_BOOL, { .b = v.underperforming || v.medium_hot } },
			{ "unreachable", LP_BOOL, { .b = v.unreachable } },
			{ "late_start", LP_BOOL, { .b = v.late_start } },
			{ "over_cooling", LP_BOOL, { .b = v.over_cooling } },
			{ "probe_faults", LP_INT, { .i = v.probe_faults } },
			{ "stopped", LP_BOOL, { .b = b->state != EBATCH_RUNNING } },
		};
		lp_encode(lb, "process", tags, sizeof(tags) / sizeof(tags[0]), fl, sizeof(fl) / sizeof(fl[0]), now_ns);
	}
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
		struct cool_verdict v;
		if (b->state != EBATCH_RUNNING)
			continue;
		batch_verdict(b, now_ns, &v);
		batch_alarms_eval(e, b, now_ns / 1000000, &v);
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

static int kept_full(const struct engine *e)
{
	return e->nbatches >= ENGINE_MAX_BATCHES;
}

int engine_batch_start(struct engine *e, const char *process, const char *batch, const char *profile,
		       int64_t start_ns, int64_t harvest_ns, int64_t pull_plan_ns, const char *user)
{
	const struct cc_process_profile *prof;
	struct eproc *pr;
	int rc = 0;

	if (!batch || !*batch || !user || !*user || start_ns <= 0)
		return -EINVAL;
	if (!e)
		return -ESRCH;
	pthread_mutex_lock(&e->lock);
	if (!(pr = batch_proc_find(e, process)) || !(prof = config_find_process_profile(e->cfg, profile)))
		rc = -ENOENT;
	else if (prof->kind != pr->pc->kind)
		rc = -EMEDIUMTYPE;
	else if (pr->pc->kind != CC_PROCESS_PRECOOL)
		rc = -ENOTSUP;
	else if (batch_find(e, batch))
		rc = -EEXIST;
	else if (pr->active)
		rc = -EBUSY;
	else if (kept_full(e))
		rc = -ENOSPC;
	if (rc == 0) {
		batch_add(e, pr, prof, batch, user, start_ns, harvest_ns, pull_plan_ns);
		e->dirty = 1;
		log_info("batch %s started on %s with profile %s %s by %s", batch, process, profile, prof->version, user);
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

/* Under the lock: the final verdict, the pulled-early alarm, a last point. */
static void batch_stop_locked(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user)
{
	struct cool_verdict v;
	struct lp_buf lb;
	int64_t now_ms = now_ns / 1000000;

	b->stop_ns = now_ns;
	b->state = EBATCH_STOPPED;
	for (size_t i = 0; i < e->nprocs; i++)
		if (e->procs[i].active == b)
			e->procs[i].active = NULL;
	batch_verdict(b, now_ns, &v);
	batch_alarms_eval(e, b, now_ms, &v);
	if (v.pull_early) { /* raised once, held until reset */
		eval_alarm_cond(e, b->al[BA_PULLED_EARLY], now_ms, 1, slowest_c(b, &v));
		eval_alarm_cond(e, b->al[BA_PULLED_EARLY], now_ms, 0, slowest_c(b, &v));
	}
	lp_buf_init(&lb);
	batch_point(e, &lb, b, now_ns);
	eval_emit_lines(e, &lb);
	lp_buf_free(&lb);
	b->fed = 0;
	e->dirty = 1;
	log_info("batch %s on %s stopped by %s: slowest probe %.2f °C, C %.4g /h, j %.4g%s", b->id, b->pc->name, user,
		 slowest_c(b, &v), v.fit.c_per_h, v.fit.j, v.pull_early ? ": pulled too early" : "");
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
	struct cool_verdict v;
	cJSON *x = cJSON_CreateObject(), *notes = cJSON_CreateArray();
	char t[64];

	batch_verdict(b, b->stop_ns, &v);
	cJSON_AddStringToObject(x, "process", b->pc->name);
	cJSON_AddStringToObject(x, "kind", config_process_kind_name(b->pc->kind));
	cJSON_AddStringToObject(x, "batch", b->id);
	cJSON_AddStringToObject(x, "profile", b->prof->name);
	cJSON_AddStringToObject(x, "profile_version", b->prof->version);
	publish_fmt_time(b->b.start_ns, t, sizeof(t));
	cJSON_AddStringToObject(x, "start", t);
	publish_fmt_time(b->stop_ns, t, sizeof(t));
	cJSON_AddStringToObject(x, "end", t);
	if (isfinite(slowest_c(b, &v)))
		cJSON_AddNumberToObject(x, "final_c", slowest_c(b, &v));
	if (isfinite(v.fit.c_per_h))
		cJSON_AddNumberToObject(x, "C", v.fit.c_per_h);
	if (isfinite(v.fit.j))
		cJSON_AddNumberToObject(x, "j", v.fit.j);
	cJSON_AddStringToObject(x, "fit", cool_fit_status_name(v.fit.status));
	cJSON_AddStringToObject(x, "verdict", v.pull_early ? "pulled_early" : "ok");
	if (v.underperforming || v.medium_hot)
		cJSON_AddItemToArray(notes, cJSON_CreateString("underperforming"));
	if (v.late_start)
		cJSON_AddItemToArray(notes, cJSON_CreateString("late_start"));
	if (v.over_cooling)
		cJSON_AddItemToArray(notes, cJSON_CreateString("over_cooling"));
	if (v.field_heat)
		cJSON_AddItemToArray(notes, cJSON_CreateString("field_heat"));
	if (v.probe_faults)
		cJSON_AddItemToArray(notes, cJSON_CreateString("probe_fault"));
	cJSON_AddItemToObject(x, "notes", notes);
	return x;
}

static int batch_release_locked(struct engine *e, struct ebatch *b, const char *lot, const char *room,
				const char *product, const char *user)
{
	const struct cc_room_conf *rc = config_find_room(e->cfg, room);
	struct cool_verdict v;
	struct elot *l;
	int err;

	if (!rc)
		return -ENOENT;
	if (!product)
		product = rc->prof ? rc->prof->name : NULL;
	if (!product)
		return -EINVAL;
	if (b->state == EBATCH_RUNNING)
		batch_stop_locked(e, b, time_now_ns(), user);
	batch_verdict(b, b->stop_ns, &v);
	err = lots_load(e, room, lot, product, b->stop_ns, slowest_c(b, &v), &l);
	if (err < 0)
		return err;
	if (!l->history)
		l->history = cJSON_CreateArray();
	cJSON_AddItemToArray(l->history, history_step(b));
	b->state = EBATCH_RELEASED;
	b->lot = xstrdup(lot);
	log_info("batch %s on %s released by %s as lot %s (%s) into room %s at %.2f °C", b->id, b->pc->name, user, lot,
		 product, room, slowest_c(b, &v));
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

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_time(cJSON *o, const char *k, int64_t ns)
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

static cJSON *verdict_json(const struct cool_verdict *v)
{
	cJSON *x = cJSON_CreateObject();

	cJSON_AddBoolToObject(x, "pull_early", v->pull_early);
	cJSON_AddBoolToObject(x, "underperforming", v->underperforming);
	cJSON_AddBoolToObject(x, "medium_hot", v->medium_hot);
	cJSON_AddBoolToObject(x, "unreachable", v->unreachable);
	cJSON_AddBoolToObject(x, "late_start", v->late_start);
	cJSON_AddBoolToObject(x, "miss_dispatch", v->miss_dispatch);
	cJSON_AddBoolToObject(x, "over_cooling", v->over_cooling);
	cJSON_AddBoolToObject(x, "field_heat", v->field_heat);
	cJSON_AddNumberToObject(x, "probe_faults", v->probe_faults);
	return x;
}

static cJSON *probes_json(const struct ebatch *b)
{
	cJSON *arr = cJSON_CreateArray();

	for (uint32_t i = 0; i < b->b.nprobes; i++) {
		const struct cool_probe *pr = &b->b.probe[i];
		struct cool_fit f;
		cJSON *y = cJSON_CreateObject();
		cool_probe_fit(pr, &b->b.medium, &b->p, &f);
		cJSON_AddStringToObject(y, "channel", b->pc->probes[i]);
		add_num(y, "t0_c", pr->t0_c);
		add_num(y, "last_c", pr->last_c);
		cJSON_AddNumberToObject(y, "n", f.n);
		add_num(y, "C", f.c_per_h);
		add_num(y, "j", f.j);
		cJSON_AddStringToObject(y, "fit", cool_fit_status_name(f.status));
		cJSON_AddNumberToObject(y, "fault", pr->fault);
		cJSON_AddItemToArray(arr, y);
	}
	return arr;
}

static cJSON *batch_json(const struct ebatch *b, int64_t now_ns)
{
	static const char *const states[] = { "running", "stopped", "released" };
	struct cool_verdict v;
	const struct cool_fit *f = &v.fit;
	cJSON *x = cJSON_CreateObject();

	batch_verdict(b, now_ns, &v);
	cJSON_AddStringToObject(x, "id", b->id);
	cJSON_AddStringToObject(x, "process", b->pc->name);
	cJSON_AddStringToObject(x, "kind", config_process_kind_name(b->pc->kind));
	cJSON_AddStringToObject(x, "profile", b->prof->name);
	cJSON_AddStringToObject(x, "profile_version", b->prof->version);
	cJSON_AddStringToObject(x, "state", states[b->state]);
	cJSON_AddStringToObject(x, "user", b->user);
	if (b->lot)
		cJSON_AddStringToObject(x, "lot", b->lot);
	add_time(x, "start", b->b.start_ns);
	add_time(x, "harvest", b->b.harvest_ns);
	add_time(x, "pull_plan", b->b.pull_plan_ns);
	add_time(x, "stop", b->state == EBATCH_RUNNING ? 0 : b->stop_ns);
	add_num(x, "target_c", b->p.target_c);
	cJSON_AddNumberToObject(x, "n", f->n);
	add_num(x, "C", f->c_per_h);
	add_num(x, "j", f->j);
	add_num(x, "r2", f->r2);
	add_num(x, "half_h", f->half_h);
	add_num(x, "seven_eighths_h", f->seven_eighths_h);
	add_num(x, "c_ratio", v.c_ratio);
	cJSON_AddStringToObject(x, "fit", cool_fit_status_name(f->status));
	cJSON_AddNumberToObject(x, "why", f->why);
	cJSON_AddStringToObject(x, "eta_status", cool_eta_name(f->eta));
	add_time(x, "eta", batch_eta_ns(b, &v));
	add_num(x, "remaining_h", f->remaining_h);
	add_num(x, "to_target_h", f->to_target_h);
	add_num(x, "slowest_c", slowest_c(b, &v));
	if (v.slowest >= 0)
		cJSON_AddStringToObject(x, "slowest", b->pc->probes[v.slowest]);
	add_num(x, "medium_c", b->b.medium.last_c);
	add_num(x, "tm_c", f->tm_c);
	add_num(x, "y_slowest", v.y_slowest);
	cJSON_AddItemToObject(x, "verdict", verdict_json(&v));
	cJSON_AddItemToObject(x, "probes", probes_json(b));
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
		o = b ? batch_json(b, now_ns) : NULL;
	} else {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "site", e->cfg->site);
		arr = cJSON_AddArrayToObject(o, "batches");
		for (size_t i = 0; i < e->nbatches; i++)
			cJSON_AddItemToArray(arr, batch_json(e->batches[i], now_ns));
	}
	pthread_mutex_unlock(&e->lock);
	return o;
}
