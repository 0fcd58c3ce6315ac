/* batch.c - processing batches (issue 14) on the configured processes:
 * a precooling batch's samples through its cooling fit (models/cooling.h),
 * a carcass-chilling batch's through its compliance state (models/chill.h),
 * fumigation and drying batches through batch_fum.c and batch_dry.c;
 * their verdicts as alarms (PROCESS/BATCH/KIND), their "process" points,
 * and the operator's start, stop, release (into a lot) and status. */
#include "batch_int.h"

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
	"chill_warning", "excursion", "ice_crust", "no_data",
	"stel", "stel_warn", "twa_projected", "idlh", "ct_under", "ct_over", "ct_uncertain", "door_open_above_entry",
	"purge_overdue", "flat_sensor",
	"scorch", "scorch_critical", "fast_start", "stall", "exhaust_saturated", "open_air_wet", "loadcell_fault",
	"pulled_wet", "over_dried"
};

static int is_cool(const struct ebatch *b)
{
	return !b->fum && !b->dry;
}

/* A verdict of either kind: a precooling batch's is in cool (the rest
 * stays as chill_verdict leaves it for no deadline). */
struct bverdict {
	struct chill_verdict ch;
	struct cool_verdict *c; /* &ch.cool */
	double at_h;            /* the time judged at, hours since the start */
};

struct cool_batch *batch_cool(struct ebatch *b)
{
	return b->chill ? &b->cs.cool : &b->b;
}

static const struct cool_batch *ccool(const struct ebatch *b)
{
	return b->chill ? &b->cs.cool : &b->b;
}

static const struct cool_params *cparams(const struct ebatch *b)
{
	return b->chill ? &b->cp.cool : &b->p;
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
			      { pc->ambient_rh, PROLE_AMBIENT_RH },  { pc->loadcell, PROLE_LOADCELL } };
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
	p->lag_h = batch_ms_h(q->fit.t_lag_ms, INFINITY);
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
	p->late_start_h = batch_ms_h(q->harvest_limit_ms, INFINITY);
	p->field_heat_c = q->field_heat_c;
	p->over_cool_c = isnan(q->overcool_c) ? -INFINITY : q->overcool_c;
	p->medium_set_c = pc->set_point_c;
	p->medium_hot_k = q->medium_margin_k;
	p->medium_hot_h = batch_ms_h(q->medium_duration_ms, INFINITY);
}

/* The carcass profile as chill parameters: bands (max_kg unset: the last,
 * unbounded), deadlines in hours, the fit gates and target of its cooling
 * model; unset limits off. */
static void chill_params_map(struct chill_params *p, const struct cc_process_profile *prof)
{
	const struct cc_carcass_chill_conf *q = &prof->carcass_chill;
	struct cool_params *c = &p->cool;

	chill_params_default(p);
	c->target_c = q->target_c;
	c->pull_margin_k = q->target_margin_k;
	c->delta_k = q->fit.delta_k;
	c->lag_y = q->fit.lag_y;
	c->lag_h = batch_ms_h(q->fit.t_lag_ms, INFINITY);
	c->min_points = (uint32_t)q->fit.min_points;
	c->r2_min = q->fit.r2_min;
	c->c_min = q->fit.c_min;
	c->c_max = q->fit.c_max;
	c->j_min = q->fit.j_min;
	c->j_max = q->fit.j_max;
	c->medium_set_c = q->medium_max_c;
	c->medium_hot_k = 0;
	c->medium_hot_h = batch_ms_h(q->medium_duration_ms, INFINITY);
	p->nbands = (uint32_t)(q->nbands < CHILL_BANDS_MAX ? q->nbands : CHILL_BANDS_MAX);
	for (uint32_t i = 0; i < p->nbands; i++) {
		p->band_upper_kg[i] = isnan(q->bands[i].max_kg) ? INFINITY : q->bands[i].max_kg;
		p->band_h[i] = batch_ms_h(q->bands[i].deadline_ms, NAN);
	}
	p->warn_margin_h = batch_ms_h(q->warn_margin_ms, 0);
	p->excursion_c = isnan(q->post_chill_max_c) ? INFINITY : q->post_chill_max_c;
	p->ice_c = isnan(q->ice_crust_c) ? -INFINITY : q->ice_crust_c;
	p->gap_h = batch_ms_h(q->max_gap_ms, INFINITY);
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

/* What alarm k is about, with the numbers it rests on. */
static char *alarm_what(const struct ebatch *b, int k)
{
	const struct cool_params *p = cparams(b);
	const struct chill_params *q = &b->cp;

	switch (k) {
	case BA_PULLED_EARLY:
		return b->chill ? xasprintf("pulled too early: warmest core above %g °C + %g K", p->target_c, p->pull_margin_k)
				: xasprintf("pulled too early: slowest probe above %g °C + %g K, or its Y above %g",
					    p->target_c, p->pull_margin_k, p->pull_y_max);
	case BA_UNDERPERFORMING:
		return xasprintf("cooler underperforming: C below %g × C_ref %g /h, or medium above set-point %g °C + %g K "
				 "for %g h", p->underperf_frac, p->c_ref, p->medium_set_c, p->medium_hot_k, p->medium_hot_h);
	case BA_UNREACHABLE:
		return xasprintf("target %g °C unreachable: medium at or above %g °C", p->target_c,
				 p->target_c - p->unreach_margin_k);
	case BA_LATE_START: return xasprintf("late start: more than %g h from harvest to cooling", p->late_start_h);
	case BA_PROBE_FAULT: return xasprintf("probe fault (pulled out, rising, or Y above %g)", p->fault_y_max);
	case BA_OVER_COOLING: return xasprintf("over-cooling: pulp below %g °C", p->over_cool_c);
	case BA_CHILL_MISSED:
		return xasprintf("compliance missed: core not proven at or below %g °C within %g h (%g kg carcass)",
				 p->target_c, b->cs.deadline_h, b->cs.weight_kg);
	case BA_CHILL_WARNING:
		return xasprintf("chilling too slow: predicted to reach %g °C later than %g h before the %g h deadline",
				 p->target_c, q->warn_margin_h, b->cs.deadline_h);
	case BA_EXCURSION: return xasprintf("core above %g °C after compliance", q->excursion_c);
	case BA_ICE: return xasprintf("core below %g °C: ice crust", q->ice_c);
	default: return xasprintf("a core probe silent longer than %g h: compliance not proven", q->gap_h);
	}
}

/* The message of alarm k: the batch, what, and the D-graded keys. */
static char *alarm_text(const struct ebatch *b, int k)
{
	static const char *const k_pull[] = { "target", "target_margin", "pull_y", NULL };
	static const char *const k_under[] = { "c_ref", "underperform_fraction", "medium_margin", "medium_duration", NULL };
	static const char *const k_unreach[] = { "target", "unreachable_margin", NULL };
	static const char *const k_late[] = { "harvest_limit", NULL };
	static const char *const k_fault[] = { "probe_fault_y", "probe_fault_step", "probe_fault_rise", NULL };
	static const char *const k_over[] = { "overcool", NULL };
	static const char *const k_missed[] = { "target", "deadline", NULL };
	static const char *const k_warn[] = { "target", "warn_margin", NULL };
	static const char *const k_exc[] = { "post_chill_max", NULL };
	static const char *const k_ice[] = { "ice_crust", NULL };
	static const char *const k_gap[] = { "max_gap", NULL };
	static const char *const *const keys[BA_STEL] = { k_pull,	 k_under, k_unreach, k_late, k_fault, k_over,
						       k_missed, k_warn,  k_exc,     k_ice,  k_gap };
	if (b->fum)
		return fumb_alarm_text(b, k);
	if (b->dry)
		return dryb_alarm_text(b, k);
	return batch_alarm_msg(b, b->chill ? "carcass_chill" : "precool", keys[k], alarm_what(b, k));
}

char *batch_alarm_msg(const struct ebatch *b, const char *group, const char *const *keys, char *what)
{
	char *note = grade_note(b, group, keys), *msg;

	msg = xasprintf("batch %s on %s (%s %s): %s%s", b->id, b->pc->name, b->prof->name, b->prof->version, what, note);
	free(what);
	free(note);
	return msg;
}

/* Whether the batch's kind and parameters make alarm k meaningful. */
static int alarm_wanted(const struct ebatch *b, int k)
{
	const struct cool_params *p = cparams(b);

	if (b->fum)
		return fumb_alarm_wanted(b, k);
	if (b->dry)
		return dryb_alarm_wanted(b, k);
	if (k >= BA_FUM_FIRST)
		return 0;
	switch (k) {
	case BA_PULLED_EARLY:
	case BA_PROBE_FAULT: return 1;
	case BA_UNDERPERFORMING: return !b->chill && (isfinite(p->c_ref) || isfinite(p->medium_set_c));
	case BA_UNREACHABLE: return !b->chill;
	case BA_LATE_START: return !b->chill && isfinite(p->late_start_h) && b->b.harvest_ns != 0;
	case BA_OVER_COOLING: return !b->chill && isfinite(p->over_cool_c);
	case BA_EXCURSION: return b->chill && isfinite(b->cp.excursion_c);
	case BA_ICE: return b->chill && isfinite(b->cp.ice_c);
	default: return b->chill;
	}
}

/* The number each alarm's records show as its limit. */
static double alarm_limit(const struct ebatch *b, int k)
{
	const struct cool_params *p = cparams(b);

	switch (k) {
	case BA_PULLED_EARLY: return p->target_c + p->pull_margin_k;
	case BA_UNDERPERFORMING: return p->underperf_frac; /* of C_ref */
	case BA_UNREACHABLE: return p->target_c - p->unreach_margin_k;
	case BA_LATE_START: return p->late_start_h;
	case BA_OVER_COOLING: return p->over_cool_c;
	case BA_CHILL_MISSED: return b->cs.deadline_h;
	case BA_CHILL_WARNING: return b->cs.deadline_h - b->cp.warn_margin_h;
	case BA_EXCURSION: return b->cp.excursion_c;
	case BA_ICE: return b->cp.ice_c;
	case BA_NO_DATA: return b->cp.gap_h;
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
		/* a pull is a fact, not a state: it stays until someone resets
		 * it; so do the chilling compliance alarms (undelayed: on-delay 0) */
		if (b->fum)
			fumb_alarm_conf(b, k, &c);
		else if (b->dry)
			dryb_alarm_conf(b, k, &c);
		else {
			c.latched = k == BA_PULLED_EARLY || k == BA_CHILL_MISSED || k == BA_EXCURSION || k == BA_ICE;
			if (k == BA_CHILL_MISSED || k == BA_EXCURSION)
				c.severity = ALARM_SEV_CRITICAL;
			c.limit = alarm_limit(b, k);
		}
		id = xasprintf("%s/%s/%s", b->pc->name, b->id, alarm_rules[k]);
		msg = alarm_text(b, k);
		b->al[k] = build_alarm_new(e, id, NULL, NULL, NULL, alarm_rules[k], msg, &c);
		free(id);
		free(msg);
	}
}

/* The kind's own state: 0, or -errno (a carcass weight without a band:
 * -ERANGE; a drying profile the model refuses: -EINVAL). */
static int batch_kind_init(struct ebatch *b, struct eproc *pr, const struct cc_process_profile *prof,
			   const struct engine_batch_opts *o)
{
	uint32_t np = (uint32_t)pr->pc->nprobes;
	int rc;

	b->kind = prof->kind;
	b->start_ns = o->start_ns;
	b->opts = *o;
	b->pc = pr->pc;
	b->prof = prof;
	switch (prof->kind) {
	case CC_PROCESS_FUMIGATION: return fumb_init(b, prof, o);
	case CC_PROCESS_DRYING: return dryb_init(b, prof, o);
	case CC_PROCESS_CARCASS_CHILL:
		b->chill = 1;
		chill_params_map(&b->cp, prof);
		if ((rc = chill_init(&b->cs, &b->cp, np, o->start_ns, o->weight_kg, o->pull_plan_ns)) < 0)
			return rc == -ENOENT ? -ERANGE : rc;
		b->cs.cool.harvest_ns = o->harvest_ns;
		return 0;
	default:
		batch_params(&b->p, pr->pc, prof);
		cool_batch_init(&b->b, np, o->start_ns, o->harvest_ns, o->pull_plan_ns);
		return 0;
	}
}

struct ebatch *batch_add(struct engine *e, struct eproc *pr, const struct cc_process_profile *prof, const char *id,
			 const char *user, const struct engine_batch_opts *o)
{
	struct ebatch *b = xcalloc(1, sizeof(*b));
	int rc;

	if ((rc = batch_kind_init(b, pr, prof, o)) < 0) {
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
	if (b->fum) {
		fumb_sample(b, ch->proc_role, s->ts_ns, s->value);
		if (ch->proc_role >= 0)
			fumb_eval_workers(e, b, e->now_ms);
	} else if (b->dry)
		dryb_sample(b, ch->proc_role, s->ts_ns, s->value);
	else if (b->chill && ch->proc_role < 0)
		chill_observe_medium(&b->cs, &b->cp, s->ts_ns, s->value);
	else if (b->chill)
		chill_observe_probe(&b->cs, &b->cp, (uint32_t)ch->proc_role, s->ts_ns, s->value);
	else if (ch->proc_role < 0)
		cool_batch_observe_medium(&b->b, &b->p, s->ts_ns, s->value);
	else
		cool_batch_observe_probe(&b->b, &b->p, (uint32_t)ch->proc_role, s->ts_ns, s->value);
	b->fed++;
	b->arrival_ms = e->now_ms;
	e->dirty = 1;
}

/* The newest reading the batch has taken (its start before any). */
static int64_t batch_newest_ns(const struct ebatch *b)
{
	const struct cool_batch *cb = ccool(b);
	int64_t t = cb->start_ns;

	if (b->fum)
		return fumb_newest_ns(b);
	if (b->dry)
		return dryb_newest_ns(b);
	if (cb->medium.n && cb->medium.last_ns > t)
		t = cb->medium.last_ns;
	for (uint32_t i = 0; i < cb->nprobes; i++)
		if (cb->probe[i].nread && cb->probe[i].last_ns > t)
			t = cb->probe[i].last_ns;
	return t;
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
	int64_t window_ms = b->chill ? (int64_t)(b->cp.gap_h * H_MS) : e->cfg->alarms.stale_after_ms;
	int64_t at = batch_newest_ns(b);

	if (b->state != EBATCH_RUNNING)
		return b->stop_ns;
	return now_ns / 1000000 - b->arrival_ms <= window_ms && at < now_ns ? at : now_ns;
}

/* The verdict at time at (a stopped batch: at its stop). */
static void batch_verdict(const struct ebatch *b, int64_t at, struct bverdict *v)
{
	if (b->state != EBATCH_RUNNING)
		at = b->stop_ns;
	memset(v, 0, sizeof(*v));
	v->c = &v->ch.cool;
	v->at_h = (double)(at - ccool(b)->start_ns) / H_NS;
	if (b->chill)
		chill_verdict(&b->cs, &b->cp, at, &v->ch);
	else
		cool_batch_verdict(&b->b, &b->p, at, &v->ch.cool);
}

static double slowest_c(const struct ebatch *b, const struct bverdict *v)
{
	return v->c->slowest >= 0 ? ccool(b)->probe[v->c->slowest].last_c : NAN;
}

/* Leaving now would be too early. */
static int pull_early(const struct ebatch *b, const struct bverdict *v)
{
	return b->chill ? v->ch.pulled_early : v->c->pull_early;
}

/* When the slowest probe reaches the target: its last reading's time plus
 * the remaining time from that reading (the model's eta_ns counts from the
 * query time, which is later than the reading when data arrive late or a
 * probe has gone quiet); 0 when there is no prediction. */
static int64_t batch_eta_ns(const struct ebatch *b, const struct bverdict *v)
{
	const struct cool_fit *f = &v->c->fit;

	if (v->c->slowest < 0 || (f->eta != COOL_ETA_OK && f->eta != COOL_ETA_REACHED))
		return 0;
	return ccool(b)->probe[v->c->slowest].last_ns + (int64_t)(f->remaining_h * H_NS);
}

static void batch_alarms_eval(struct engine *e, struct ebatch *b, int64_t now_ms, const struct bverdict *v)
{
	const struct cool_verdict *c = v->c;
	double late_h = b->b.harvest_ns ? (double)(b->b.start_ns - b->b.harvest_ns) / H_NS : NAN;
	enum chill_status st = v->ch.status;

	eval_alarm_cond(e, b->al[BA_PROBE_FAULT], now_ms, c->probe_faults != 0, (double)c->probe_faults);
	if (b->chill) {
		eval_alarm_cond(e, b->al[BA_CHILL_MISSED], now_ms, st == CHILL_MISSED, v->ch.max_core_c);
		eval_alarm_cond(e, b->al[BA_CHILL_WARNING], now_ms, st == CHILL_EARLY_WARNING, v->ch.pred_h);
		eval_alarm_cond(e, b->al[BA_EXCURSION], now_ms, st == CHILL_EXCURSION, b->cs.max_after_c);
		eval_alarm_cond(e, b->al[BA_ICE], now_ms, v->ch.ice, b->cs.min_core_c);
		/* silent longer than max_gap counts from the start, not from before it */
		eval_alarm_cond(e, b->al[BA_NO_DATA], now_ms, (st == CHILL_NO_DATA || v->ch.stale) && v->at_h > b->cp.gap_h,
				NAN);
		return;
	}
	eval_alarm_cond(e, b->al[BA_UNDERPERFORMING], now_ms, c->underperforming || c->medium_hot, c->c_ratio);
	eval_alarm_cond(e, b->al[BA_UNREACHABLE], now_ms, c->unreachable, c->fit.tm_c);
	eval_alarm_cond(e, b->al[BA_LATE_START], now_ms, c->late_start, late_h);
	eval_alarm_cond(e, b->al[BA_OVER_COOLING], now_ms, c->over_cooling, NAN);
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

/* The batch's "process" point, at the time it is judged at (a backlog's
 * points fall at their process time). */
static void batch_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t now_ns)
{
	struct bverdict v;
	const struct cool_verdict *c;
	struct lp_field fl[32];
	size_t n = 0;
	int64_t at = batch_at(e, b, now_ns);

	if (b->fum) {
		fumb_point(e, lb, b, at);
		return;
	}
	if (b->dry) {
		dryb_point(e, lb, b, at);
		return;
	}
	batch_verdict(b, at, &v);
	c = v.c;
	batch_field_f(fl, &n, "C", c->fit.c_per_h);
	batch_field_f(fl, &n, "j", c->fit.j);
	batch_field_f(fl, &n, "r2", c->fit.r2);
	batch_field_f(fl, &n, "half_h", c->fit.half_h);
	batch_field_f(fl, &n, "seven_eighths_h", c->fit.seven_eighths_h);
	batch_field_i(fl, &n, "eta", batch_eta_ns(b, &v));
	batch_field_f(fl, &n, "remaining_h", c->fit.remaining_h);
	batch_field_f(fl, &n, "slowest_c", slowest_c(b, &v));
	batch_field_f(fl, &n, "medium_c", ccool(b)->medium.last_c);
	batch_field_i(fl, &n, "n", c->fit.n);
	batch_field_s(fl, &n, "fit", cool_fit_status_name(c->fit.status));
	batch_field_b(fl, &n, "pull_early", pull_early(b, &v));
	batch_field_i(fl, &n, "probe_faults", c->probe_faults);
	batch_field_b(fl, &n, "stopped", b->state != EBATCH_RUNNING);
	if (b->chill) {
		batch_field_s(fl, &n, "status", chill_status_name(v.ch.status));
		batch_field_i(fl, &n, "deadline", b->cs.deadline_ns);
		batch_field_f(fl, &n, "pred_h", v.ch.pred_h);
		batch_field_f(fl, &n, "margin_h", v.ch.margin_h);
		batch_field_f(fl, &n, "max_core_c", v.ch.max_core_c);
		batch_field_f(fl, &n, "weight_kg", b->cs.weight_kg);
	} else {
		batch_field_b(fl, &n, "underperforming", c->underperforming || c->medium_hot);
		batch_field_b(fl, &n, "unreachable", c->unreachable);
		batch_field_b(fl, &n, "late_start", c->late_start);
		batch_field_b(fl, &n, "over_cooling", c->over_cooling);
	}
	batch_emit(e, lb, b, NULL, fl, n, at);
}

void batch_emit(struct engine *e, struct lp_buf *lb, const struct ebatch *b, const char *sensor,
		const struct lp_field *fl, size_t n, int64_t at)
{
	struct lp_tag tags[] = { { "batch", b->id },	     { "kind", config_process_kind_name(b->pc->kind) },
				 { "process", b->pc->name }, { "profile", b->prof->name },
				 { "profile_version", b->prof->version }, { "sensor", sensor },
				 { "site", e->cfg->site } };
	size_t nt = sizeof(tags) / sizeof(tags[0]);

	if (!sensor) { /* drop the sensor tag, keep the order */
		tags[5] = tags[6];
		nt--;
	}
	lp_encode(lb, "process", tags, nt, fl, n, at);
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
		struct bverdict v;
		int64_t at;
		if (b->state != EBATCH_RUNNING)
			continue;
		/* judged at its readings' time, announced now: re-notification
		 * and escalation count from when someone could first be told */
		at = batch_at(e, b, now_ns);
		if (b->fum)
			fumb_eval(e, b, now_ns / 1000000, at);
		else if (b->dry)
			dryb_eval(e, b, now_ns / 1000000, at);
		else {
			batch_verdict(b, at, &v);
			batch_alarms_eval(e, b, now_ns / 1000000, &v);
		}
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

/* A fumigation or drying batch stopped: its final verdicts, a last point. */
static void batch_stop_other(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user)
{
	struct lp_buf lb;
	int64_t now_ms = now_ns / 1000000;

	if (b->fum) {
		fumb_stop(e, b, now_ns);
		fumb_eval(e, b, now_ms, now_ns);
	} else {
		dryb_eval(e, b, now_ms, now_ns);
		dryb_stop(e, b, now_ns);
	}
	lp_buf_init(&lb);
	batch_point(e, &lb, b, now_ns);
	eval_emit_lines(e, &lb);
	lp_buf_free(&lb);
	b->fed = 0;
	e->dirty = 1;
	log_info("batch %s on %s stopped by %s", b->id, b->pc->name, user);
}

/* Under the lock: the final verdict, the pulled-early alarm, a last point. */
static void batch_stop_locked(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user)
{
	struct bverdict v;
	struct lp_buf lb;
	int64_t now_ms = now_ns / 1000000;

	b->stop_ns = now_ns;
	b->state = EBATCH_STOPPED;
	for (size_t i = 0; i < e->nprocs; i++)
		if (e->procs[i].active == b)
			e->procs[i].active = NULL;
	if (!is_cool(b)) {
		batch_stop_other(e, b, now_ns, user);
		return;
	}
	batch_verdict(b, now_ns, &v);
	batch_alarms_eval(e, b, now_ms, &v);
	if (pull_early(b, &v)) /* raised once, held until reset */
		batch_alarm_fact(e, b->al[BA_PULLED_EARLY], now_ms, slowest_c(b, &v));
	lp_buf_init(&lb);
	batch_point(e, &lb, b, now_ns);
	eval_emit_lines(e, &lb);
	lp_buf_free(&lb);
	b->fed = 0;
	e->dirty = 1;
	log_info("batch %s on %s stopped by %s: slowest probe %.2f °C, C %.4g /h, j %.4g%s", b->id, b->pc->name, user,
		 slowest_c(b, &v), v.c->fit.c_per_h, v.c->fit.j, pull_early(b, &v) ? ": pulled too early" : "");
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

static void add_notes(cJSON *x, const struct ebatch *b, const struct bverdict *v)
{
	const struct cool_verdict *c = v->c;
	cJSON *notes = cJSON_AddArrayToObject(x, "notes");

	if (c->underperforming || c->medium_hot)
		cJSON_AddItemToArray(notes, cJSON_CreateString("underperforming"));
	if (c->late_start)
		cJSON_AddItemToArray(notes, cJSON_CreateString("late_start"));
	if (c->over_cooling)
		cJSON_AddItemToArray(notes, cJSON_CreateString("over_cooling"));
	if (c->field_heat)
		cJSON_AddItemToArray(notes, cJSON_CreateString("field_heat"));
	if (c->probe_faults)
		cJSON_AddItemToArray(notes, cJSON_CreateString("probe_fault"));
	if (b->chill && v->ch.ice)
		cJSON_AddItemToArray(notes, cJSON_CreateString("ice_crust"));
}

/* One processing step of a lot's history. */
static cJSON *history_step(const struct ebatch *b)
{
	struct bverdict v;
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
	if (b->fum) {
		fumb_history(x, b);
		return x;
	}
	if (b->dry) {
		dryb_history(x, b);
		return x;
	}
	batch_verdict(b, b->stop_ns, &v);
	if (isfinite(slowest_c(b, &v)))
		cJSON_AddNumberToObject(x, "final_c", slowest_c(b, &v));
	if (isfinite(v.c->fit.c_per_h))
		cJSON_AddNumberToObject(x, "C", v.c->fit.c_per_h);
	if (isfinite(v.c->fit.j))
		cJSON_AddNumberToObject(x, "j", v.c->fit.j);
	cJSON_AddStringToObject(x, "fit", cool_fit_status_name(v.c->fit.status));
	cJSON_AddStringToObject(x, "verdict", pull_early(b, &v) ? "pulled_early" : "ok");
	if (b->chill)
		cJSON_AddStringToObject(x, "compliance", chill_status_name(v.ch.status));
	add_notes(x, b, &v);
	return x;
}

static int batch_release_locked(struct engine *e, struct ebatch *b, const char *lot, const char *room,
				const char *product, const char *user)
{
	const struct cc_room_conf *rc = config_find_room(e->cfg, room);
	struct bverdict v;
	struct elot *l;
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
	if (is_cool(b))
		batch_verdict(b, b->stop_ns, &v);
	/* a carcass lot's pre-monitoring temperature is its warmest core; a
	 * fumigated or dried lot's is not measured */
	pre_c = is_cool(b) ? slowest_c(b, &v) : NAN;
	err = lots_load(e, room, lot, product, b->stop_ns, pre_c, &l);
	if (err < 0)
		return err;
	if (!l->history)
		l->history = cJSON_CreateArray();
	cJSON_AddItemToArray(l->history, history_step(b));
	b->state = EBATCH_RELEASED;
	b->lot = xstrdup(lot);
	if (is_cool(b))
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

static cJSON *verdict_json(const struct ebatch *b, const struct bverdict *v)
{
	const struct cool_verdict *c = v->c;
	cJSON *x = cJSON_CreateObject();

	cJSON_AddBoolToObject(x, "pull_early", pull_early(b, v));
	cJSON_AddNumberToObject(x, "probe_faults", c->probe_faults);
	if (b->chill) {
		cJSON_AddStringToObject(x, "compliance", chill_status_name(v->ch.status));
		cJSON_AddBoolToObject(x, "ice", v->ch.ice);
		cJSON_AddBoolToObject(x, "no_data", v->ch.stale);
		return x;
	}
	cJSON_AddBoolToObject(x, "underperforming", c->underperforming);
	cJSON_AddBoolToObject(x, "medium_hot", c->medium_hot);
	cJSON_AddBoolToObject(x, "unreachable", c->unreachable);
	cJSON_AddBoolToObject(x, "late_start", c->late_start);
	cJSON_AddBoolToObject(x, "miss_dispatch", c->miss_dispatch);
	cJSON_AddBoolToObject(x, "over_cooling", c->over_cooling);
	cJSON_AddBoolToObject(x, "field_heat", c->field_heat);
	return x;
}

static cJSON *probes_json(const struct ebatch *b)
{
	const struct cool_batch *cb = ccool(b);
	cJSON *arr = cJSON_CreateArray();

	for (uint32_t i = 0; i < cb->nprobes; i++) {
		const struct cool_probe *pr = &cb->probe[i];
		struct cool_fit f;
		cJSON *y = cJSON_CreateObject();
		cool_probe_fit(pr, &cb->medium, cparams(b), &f);
		cJSON_AddStringToObject(y, "channel", b->pc->probes[i]);
		batch_json_num(y, "t0_c", pr->t0_c);
		batch_json_num(y, "last_c", pr->last_c);
		cJSON_AddNumberToObject(y, "n", f.n);
		batch_json_num(y, "C", f.c_per_h);
		batch_json_num(y, "j", f.j);
		cJSON_AddStringToObject(y, "fit", cool_fit_status_name(f.status));
		cJSON_AddNumberToObject(y, "fault", pr->fault);
		cJSON_AddItemToArray(arr, y);
	}
	return arr;
}

static void chill_json(cJSON *x, const struct ebatch *b, const struct bverdict *v)
{
	batch_json_num(x, "weight_kg", b->cs.weight_kg);
	batch_json_num(x, "deadline_h", b->cs.deadline_h);
	batch_json_time(x, "deadline", b->cs.deadline_ns);
	batch_json_num(x, "pred_h", v->ch.pred_h);
	batch_json_num(x, "margin_h", v->ch.margin_h);
	batch_json_num(x, "max_core_c", v->ch.max_core_c);
	batch_json_time(x, "compliant", b->cs.compliant ? b->cs.compliant_ns : 0);
}

static cJSON *batch_json(const struct ebatch *b, int64_t at)
{
	static const char *const states[] = { "running", "stopped", "released" };
	const struct cool_batch *cb = ccool(b);
	struct bverdict v;
	const struct cool_fit *f;
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
	if (b->fum) {
		fumb_json(x, b, at);
		return x;
	}
	if (b->dry) {
		dryb_json(x, b, at);
		return x;
	}
	batch_verdict(b, at, &v);
	f = &v.c->fit;
	batch_json_time(x, "harvest", cb->harvest_ns);
	batch_json_time(x, "pull_plan", cb->pull_plan_ns);
	batch_json_num(x, "target_c", cparams(b)->target_c);
	cJSON_AddNumberToObject(x, "n", f->n);
	batch_json_num(x, "C", f->c_per_h);
	batch_json_num(x, "j", f->j);
	batch_json_num(x, "r2", f->r2);
	batch_json_num(x, "half_h", f->half_h);
	batch_json_num(x, "seven_eighths_h", f->seven_eighths_h);
	batch_json_num(x, "c_ratio", v.c->c_ratio);
	cJSON_AddStringToObject(x, "fit", cool_fit_status_name(f->status));
	cJSON_AddNumberToObject(x, "why", f->why);
	cJSON_AddStringToObject(x, "eta_status", cool_eta_name(f->eta));
	batch_json_time(x, "eta", batch_eta_ns(b, &v));
	batch_json_num(x, "remaining_h", f->remaining_h);
	batch_json_num(x, "to_target_h", f->to_target_h);
	batch_json_num(x, "slowest_c", slowest_c(b, &v));
	if (v.c->slowest >= 0)
		cJSON_AddStringToObject(x, "slowest", b->pc->probes[v.c->slowest]);
	batch_json_num(x, "medium_c", cb->medium.last_c);
	batch_json_num(x, "tm_c", f->tm_c);
	batch_json_num(x, "y_slowest", v.c->y_slowest);
	if (b->chill)
		chill_json(x, b, &v);
	cJSON_AddItemToObject(x, "verdict", verdict_json(b, &v));
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
