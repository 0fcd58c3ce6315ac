/* batch_cool.c - precooling and carcass-chilling batches (issue 14): a
 * precooling batch's samples through its cooling fit (models/cooling.h),
 * a carcass-chilling batch's through its compliance state
 * (models/chill.h); their alarms, points, figures and history.  batch.c
 * runs them through batch_kind_cool. */
#include "batch_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util.h"

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

/* The fit's gates of a precool or carcass profile as the cooling model's. */
static void fit_params(struct cool_params *p, const struct cc_fit_gates *f)
{
	p->delta_k = f->delta_k;
	p->lag_y = f->lag_y;
	p->lag_h = batch_ms_h(f->t_lag_ms, INFINITY);
	p->min_points = (uint32_t)f->min_points;
	p->r2_min = f->r2_min;
	p->c_min = f->c_min;
	p->c_max = f->c_max;
	p->j_min = f->j_min;
	p->j_max = f->j_max;
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
	fit_params(p, &q->fit);
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
	fit_params(c, &q->fit);
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
	p->min_probes = q->min_probes > 0 ? (uint32_t)q->min_probes : 0;
	p->fresh_c = isnan(q->fresh_min_c) ? -INFINITY : q->fresh_min_c;
	p->giblets_h = batch_ms_h(q->giblets_deadline_ms, NAN);
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
	case BA_FEW_PROBES:
		return xasprintf("only %u of the required %u core probes report: compliance not proven",
				 b->few_n, q->min_probes);
	case BA_GIBLETS_MISSED:
		return xasprintf("giblets missed: not proven at or below %g °C within %g h of removal", p->target_c,
				 q->giblets_h);
	case BA_NOT_FRESH: return xasprintf("core below %g °C, the fresh limit: cannot be sold as fresh", q->fresh_c);
	default: return xasprintf("a core probe silent longer than %g h: compliance not proven", q->gap_h);
	}
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
	if (b->chill && v->ch.not_fresh)
		cJSON_AddItemToArray(notes, cJSON_CreateString("not_fresh"));
	if (b->chill && v->ch.giblets_missed)
		cJSON_AddItemToArray(notes, cJSON_CreateString("giblets_missed"));
}

/* The giblets' verdict: none (not tracked), pending, ok, missed. */
static const char *giblets_name(const struct ebatch *b, const struct chill_verdict *v)
{
	if (!v->giblets_deadline_ns)
		return "none";
	if (b->cs.giblets_ok)
		return "ok";
	return v->giblets_missed ? "missed" : "pending";
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
		cJSON_AddBoolToObject(x, "few_probes", v->ch.few_probes);
		cJSON_AddBoolToObject(x, "not_fresh", v->ch.not_fresh);
		cJSON_AddStringToObject(x, "giblets", giblets_name(b, &v->ch));
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
	cJSON_AddNumberToObject(x, "probes_reporting", v->ch.reporting);
	cJSON_AddNumberToObject(x, "min_probes", b->cp.min_probes);
	batch_json_time(x, "not_fresh", b->cs.fresh_lost ? b->cs.fresh_lost_ns : 0);
	batch_json_time(x, "giblets_deadline", v->ch.giblets_deadline_ns);
	batch_json_time(x, "giblets_ok", b->cs.giblets_ok ? b->cs.giblets_ok_ns : 0);
}


/* The message of alarm k: the batch, what, and the D-graded keys. */
static char *coolb_alarm_text(const struct ebatch *b, int k)
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
	static const char *const k_few[] = { "min_probes", NULL };
	static const char *const k_gib[] = { "target", "giblets_deadline", NULL };
	static const char *const k_fresh[] = { "fresh_min", NULL };
	static const char *const *const keys[BA_STEL] = { k_pull, k_under, k_unreach, k_late, k_fault, k_over, k_missed,
							   k_warn, k_exc,   k_ice,     k_gap,  k_few,   k_gib,  k_fresh };
	return batch_alarm_msg(b, b->chill ? "carcass_chill" : "precool", keys[k], alarm_what(b, k));
}


/* Whether the batch's kind and parameters make alarm k meaningful. */
static int coolb_alarm_wanted(const struct ebatch *b, int k)
{
	const struct cool_params *p = cparams(b);

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
	case BA_FEW_PROBES: return b->chill && b->cp.min_probes > 0;
	case BA_GIBLETS_MISSED: return b->chill && b->cs.ngiblets && isfinite(b->cp.giblets_h);
	case BA_NOT_FRESH: return b->chill && isfinite(b->cp.fresh_c);
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
	case BA_FEW_PROBES: return b->cp.min_probes;
	case BA_GIBLETS_MISSED: return b->cp.giblets_h;
	case BA_NOT_FRESH: return b->cp.fresh_c;
	default: return p->fault_y_max;
	}
}


/* A pull is a fact, not a state: it stays until someone resets it; so do
 * the chilling compliance alarms (undelayed: on-delay 0), the giblets'
 * deadline and the loss of "fresh".  Too few probes is a state: it goes
 * when they report again (undelayed: a probe counts as silent only after
 * max_gap, which is the delay already). */
static void coolb_alarm_conf(const struct ebatch *b, int k, struct alarm_conf *c)
{
	c->latched = k == BA_PULLED_EARLY || k == BA_CHILL_MISSED || k == BA_EXCURSION || k == BA_ICE ||
		     k == BA_GIBLETS_MISSED || k == BA_NOT_FRESH;
	if (k == BA_CHILL_MISSED || k == BA_EXCURSION || k == BA_GIBLETS_MISSED)
		c->severity = ALARM_SEV_CRITICAL;
	c->limit = alarm_limit(b, k);
}

/* The few-probes alarm says how many report: its message follows the count. */
static void few_probes_eval(struct engine *e, struct ebatch *b, int64_t now_ms, const struct bverdict *v)
{
	struct ealarm *ea = b->al[BA_FEW_PROBES];

	if (!ea)
		return;
	if (v->ch.reporting != b->few_n) {
		b->few_n = v->ch.reporting;
		build_alarm_message_set(ea, coolb_alarm_text(b, BA_FEW_PROBES));
	}
	/* the probes get max_gap from the start to report, as no_data does */
	eval_alarm_cond(e, ea, now_ms, v->ch.few_probes && v->at_h > b->cp.gap_h, (double)v->ch.reporting);
}

static void alarms_eval(struct engine *e, struct ebatch *b, int64_t now_ms, const struct bverdict *v)
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
		few_probes_eval(e, b, now_ms, v);
		eval_alarm_cond(e, b->al[BA_GIBLETS_MISSED], now_ms, v->ch.giblets_missed, NAN);
		eval_alarm_cond(e, b->al[BA_NOT_FRESH], now_ms, v->ch.not_fresh, b->cs.min_core_c);
		return;
	}
	eval_alarm_cond(e, b->al[BA_UNDERPERFORMING], now_ms, c->underperforming || c->medium_hot, c->c_ratio);
	eval_alarm_cond(e, b->al[BA_UNREACHABLE], now_ms, c->unreachable, c->fit.tm_c);
	eval_alarm_cond(e, b->al[BA_LATE_START], now_ms, c->late_start, late_h);
	eval_alarm_cond(e, b->al[BA_OVER_COOLING], now_ms, c->over_cooling, NAN);
}


static void coolb_eval(struct engine *e, struct ebatch *b, int64_t now_ms, int64_t at)
{
	struct bverdict v;

	batch_verdict(b, at, &v);
	alarms_eval(e, b, now_ms, &v);
}

/* The precooling or chilling state: 0, or -ERANGE (a carcass weight
 * without a band). */
static int coolb_init(struct ebatch *b, const struct cc_process_profile *prof, const struct engine_batch_opts *o)
{
	uint32_t np = (uint32_t)b->pc->nprobes;
	int rc;

	if (prof->kind == CC_PROCESS_CARCASS_CHILL) {
		b->chill = 1;
		chill_params_map(&b->cp, prof);
		if ((rc = chill_init(&b->cs, &b->cp, np, o->start_ns, o->weight_kg, o->pull_plan_ns)) < 0)
			return rc == -ENOENT ? -ERANGE : rc;
		b->cs.cool.harvest_ns = o->harvest_ns;
		return chill_init_giblets(&b->cs, (uint32_t)b->pc->ngiblets);
	}
	batch_params(&b->p, b->pc, prof);
	cool_batch_init(&b->b, np, o->start_ns, o->harvest_ns, o->pull_plan_ns);
	return 0;
}

static void coolb_sample(struct engine *e, struct ebatch *b, int role, int64_t ts_ns, double v)
{
	(void)e;
	if (b->chill && role >= PROLE_GIBLET)
		chill_observe_giblet(&b->cs, &b->cp, (uint32_t)(role - PROLE_GIBLET), ts_ns, v);
	else if (b->chill && role < 0)
		chill_observe_medium(&b->cs, &b->cp, ts_ns, v);
	else if (b->chill)
		chill_observe_probe(&b->cs, &b->cp, (uint32_t)role, ts_ns, v);
	else if (role < 0)
		cool_batch_observe_medium(&b->b, &b->p, ts_ns, v);
	else
		cool_batch_observe_probe(&b->b, &b->p, (uint32_t)role, ts_ns, v);
}

/* The newest reading the batch has taken (its start before any). */
static int64_t coolb_newest_ns(const struct ebatch *b)
{
	const struct cool_batch *cb = ccool(b);
	int64_t t = cb->start_ns;

	if (cb->medium.n && cb->medium.last_ns > t)
		t = cb->medium.last_ns;
	for (uint32_t i = 0; i < cb->nprobes; i++)
		if (cb->probe[i].nread && cb->probe[i].last_ns > t)
			t = cb->probe[i].last_ns;
	return t;
}

/* A chilling batch's window is its max_gap (batch_at). */
static int64_t coolb_window_ms(const struct engine *e, const struct ebatch *b)
{
	return b->chill ? (int64_t)(b->cp.gap_h * H_MS) : e->cfg->alarms.stale_after_ms;
}

static void coolb_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t at)
{
	struct bverdict v;
	const struct cool_verdict *c;
	struct lp_field fl[32];
	size_t n = 0;

	batch_verdict(b, at, &v);
	c = v.c;
	batch_field_f(fl, &n, "C", c->fit.c_per_h);
	batch_field_f(fl, &n, "j", c->fit.j);
	batch_field_f(fl, &n, "r2", c->fit.r2);
	batch_field_f(fl, &n, "half_h", c->fit.half_h);
	batch_field_f(fl, &n, "seven_eighths_h", c->fit.seven_eighths_h);
	batch_field_i(fl, &n, "eta", v.c->eta_ns);
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
		batch_field_i(fl, &n, "probes_reporting", v.ch.reporting);
		batch_field_b(fl, &n, "few_probes", v.ch.few_probes);
		batch_field_b(fl, &n, "not_fresh", v.ch.not_fresh);
		batch_field_s(fl, &n, "giblets", giblets_name(b, &v.ch));
	} else {
		batch_field_b(fl, &n, "underperforming", c->underperforming || c->medium_hot);
		batch_field_b(fl, &n, "unreachable", c->unreachable);
		batch_field_b(fl, &n, "late_start", c->late_start);
		batch_field_b(fl, &n, "over_cooling", c->over_cooling);
	}
	batch_emit(e, lb, b, NULL, fl, n, at);
}

/* The final verdict and the pulled-early alarm. */
static void coolb_stop(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user)
{
	struct bverdict v;
	int64_t now_ms = now_ns / 1000000;

	batch_verdict(b, now_ns, &v);
	alarms_eval(e, b, now_ms, &v);
	if (pull_early(b, &v)) /* raised once, held until reset */
		batch_alarm_fact(e, b->al[BA_PULLED_EARLY], now_ms, slowest_c(b, &v));
	log_info("batch %s on %s stopped by %s: slowest probe %.2f °C, C %.4g /h, j %.4g%s", b->id, b->pc->name, user,
		 slowest_c(b, &v), v.c->fit.c_per_h, v.c->fit.j, pull_early(b, &v) ? ": pulled too early" : "");
}

static void coolb_history(cJSON *x, const struct ebatch *b)
{
	struct bverdict v;

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
}

/* A cooled lot's pre-monitoring temperature: the final slowest probe (a
 * carcass lot's: its warmest core). */
static double coolb_final_c(const struct ebatch *b)
{
	struct bverdict v;

	batch_verdict(b, b->stop_ns, &v);
	return slowest_c(b, &v);
}

static void coolb_json(cJSON *x, const struct ebatch *b, int64_t at)
{
	const struct cool_batch *cb = ccool(b);
	struct bverdict v;
	const struct cool_fit *f;

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
	batch_json_time(x, "eta", v.c->eta_ns);
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
}

const struct batch_kind batch_kind_cool = {
	.init = coolb_init,
	.alarm_wanted = coolb_alarm_wanted,
	.alarm_conf = coolb_alarm_conf,
	.alarm_text = coolb_alarm_text,
	.sample = coolb_sample,
	.newest_ns = coolb_newest_ns,
	.window_ms = coolb_window_ms,
	.eval = coolb_eval,
	.point = coolb_point,
	.stop = coolb_stop,
	.json = coolb_json,
	.history = coolb_history,
	.final_c = coolb_final_c,
};
