/* batch_dry.c - drying batches (processing.md §4): the kiln air against
 * the profile's schedule, moisture from the load cell and the batch's dry
 * solids, the Lewis drying rate and ETA, the exhaust balance, through
 * models/drying.h; their alarms, points and figures. */
#include "batch_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util.h"

static void stages_map(struct drying_params *p, const struct cc_drying_conf *q)
{
	p->nstages = q->nstages < DRYING_STAGES_MAX ? q->nstages : DRYING_STAGES_MAX;
	for (size_t i = 0; i < p->nstages; i++) {
		struct drying_stage *d = &p->stages[i];
		const struct cc_drying_stage *s = &q->stages[i];
		snprintf(d->name, sizeof(d->name), "%s", s->name ? s->name : "");
		d->duration_h = batch_ms_h(s->duration_ms, INFINITY);
		d->t_min_c = s->air_min_c;
		d->t_max_c = s->air_max_c;
		d->rh_max_pct = s->rh_max_pct;
		d->tempering = s->tempering;
		/* a rest counts as rested once its full duration is */
		if (s->tempering && isfinite(d->duration_h) && !(p->tempering_min_h <= d->duration_h))
			p->tempering_min_h = d->duration_h;
	}
}

/* The profile (% points, ms; NaN or -1 unset) as the model's parameters
 * (fractions, hours; unset is "judges nothing"). */
static int dryb_init(struct ebatch *b, const struct cc_process_profile *prof, const struct engine_batch_opts *o)
{
	const struct cc_drying_conf *q = &prof->drying;
	struct ebatch_dry *d = xcalloc(1, sizeof(*d));
	struct drying_params *p = &d->p;
	double mc0 = isnan(o->moisture_pct) ? q->initial_mc_wb : o->moisture_pct;

	drying_params_default(p);
	p->mc_target_wb = q->target_mc_wb / 100.0;
	p->wet_margin = q->incomplete_margin / 100.0;
	p->dry_margin = q->overdry_margin / 100.0;
	p->ratio_max = q->mass_ratio;
	p->xe = isnan(q->xe_db) ? 0.0 : q->xe_db;
	/* the signal handling, graded keys with today's values as defaults
	 * (loadcell_filter 5m, rate_span 1h, initial_rate_window 6h, max_gap 10m) */
	p->filter_window_s = (double)q->loadcell_filter_ms / 1000.0;
	p->rate_window_h = batch_ms_h(q->rate_span_ms, NAN);
	p->initial_rate_h = batch_ms_h(q->initial_rate_window_ms, NAN);
	p->dt_cap_s = (double)q->max_gap_ms / 1000.0;
	p->stall_frac = q->stall_fraction;
	p->rise_frac = q->loadcell_rise_pct / 100.0;
	p->stuck_h = batch_ms_h(q->loadcell_flat_ms, NAN);
	p->stuck_frac = q->loadcell_flat_band_pct / 100.0;
	p->stuck_air_c = q->loadcell_flat_above_c;
	p->initial_phase_h = batch_ms_h(q->initial_phase_ms, 0);
	p->scorch_c = q->scorch_limit_c;
	p->scorch_abs_c = q->scorch_max_c;
	p->scorch_undelayed_k = q->scorch_undelayed_k;
	p->fast_start_c = q->fast_start_c;
	p->fast_start_h = batch_ms_h(q->fast_start_window_ms, NAN);
	p->exhaust_rh_max = q->exhaust_rh_pct;
	p->outdoor_rh_max = q->open_air ? q->open_air_rh_pct : NAN;
	stages_map(p, q);
	if (drying_params_check(p) < 0) {
		free(d);
		return -EINVAL;
	}
	drying_state_init(&d->s, o->start_ns, o->mass_kg, mc0 / 100.0);
	d->air_rh = d->exh_t = d->exh_rh = d->amb_t = d->amb_rh = NAN;
	b->dry = d;
	return 0;
}

static int dryb_alarm_wanted(const struct ebatch *b, int k)
{
	const struct drying_params *p = &b->dry->p;
	const struct cc_process_conf *pc = b->pc;

	switch (k) {
	case BA_SCORCH: return !isnan(p->scorch_c);
	case BA_SCORCH_HIGH: return !isnan(p->scorch_c) || !isnan(p->scorch_abs_c);
	case BA_FAST_START: return !isnan(p->fast_start_c) && !isnan(p->fast_start_h);
	case BA_STALL: return 1;
	case BA_EXHAUST_SAT: return pc->exhaust_rh && pc->exhaust_t && !isnan(p->exhaust_rh_max);
	case BA_OPEN_AIR_WET: return pc->ambient_rh && pc->ambient_t && !isnan(p->outdoor_rh_max);
	case BA_LOADCELL:
	case BA_PULLED_WET: return pc->loadcell != NULL;
	case BA_OVER_DRIED: return pc->loadcell && !isnan(b->dry->s.mc0_wb) && !isnan(p->dry_margin);
	default: return 0;
	}
}

/* Scorch above the limit waits the profile's on-delay, far above it
 * (level 2) is critical and undelayed; saturated exhaust and a cold kiln
 * wait their profile durations; the unload verdicts are facts, latched. */
static void dryb_alarm_conf(const struct ebatch *b, int k, struct alarm_conf *c)
{
	const struct cc_drying_conf *q = &b->prof->drying;
	const struct drying_params *p = &b->dry->p;

	c->latched = k == BA_PULLED_WET || k == BA_OVER_DRIED;
	c->limit = NAN;
	switch (k) {
	case BA_SCORCH:
		c->on_delay_ms = q->scorch_on_delay_ms > 0 ? q->scorch_on_delay_ms : 0;
		c->limit = p->scorch_c;
		break;
	case BA_SCORCH_HIGH:
		c->severity = ALARM_SEV_CRITICAL;
		c->limit = isnan(p->scorch_c) ? p->scorch_abs_c : p->scorch_c + p->scorch_undelayed_k;
		break;
	case BA_FAST_START: c->limit = p->fast_start_c; break;
	case BA_STALL: c->on_delay_ms = q->stall_duration_ms > 0 ? q->stall_duration_ms : 0; break;
	case BA_EXHAUST_SAT:
		c->on_delay_ms = q->exhaust_duration_ms > 0 ? q->exhaust_duration_ms : 0;
		c->limit = p->exhaust_rh_max;
		break;
	case BA_OPEN_AIR_WET: c->limit = p->outdoor_rh_max; break;
	case BA_PULLED_WET: c->limit = (p->mc_target_wb + p->wet_margin) * 100.0; break;
	case BA_OVER_DRIED: c->limit = (p->mc_target_wb - p->dry_margin) * 100.0; break;
	default: break;
	}
}

static char *dryb_alarm_text(const struct ebatch *b, int k)
{
	static const char *const k_scorch[] = { "scorch_limit", "scorch_max", "scorch_on_delay", "scorch_undelayed", NULL };
	static const char *const k_fast[] = { "fast_start", "fast_start_window", NULL };
	static const char *const k_stall[] = { "stall_fraction", "stall_duration", "rate_span", "initial_rate_window", NULL };
	static const char *const k_exh[] = { "exhaust_rh", "exhaust_duration", NULL };
	static const char *const k_open[] = { "open_air_rh", NULL };
	static const char *const k_lc[] = { "loadcell_rise_pct", "loadcell_flat", "loadcell_flat_band", "loadcell_flat_above",
					    "loadcell_filter", NULL };
	static const char *const k_wet[] = { "target_mc_wb", "incomplete_margin", "mass_ratio", NULL };
	static const char *const k_over[] = { "target_mc_wb", "overdry_margin", NULL };
	const struct drying_params *p = &b->dry->p;
	const char *const *keys = k_scorch;
	char *what;

	switch (k) {
	case BA_SCORCH: what = xasprintf("scorch: kiln air above %g °C after the initial phase", p->scorch_c); break;
	case BA_SCORCH_HIGH:
		what = xasprintf("scorch: kiln air above %g °C + %g K, or ever above %g °C", p->scorch_c, p->scorch_undelayed_k,
				 p->scorch_abs_c);
		break;
	case BA_FAST_START:
		keys = k_fast;
		what = xasprintf("too-fast start: air above %g °C within %g h", p->fast_start_c, p->fast_start_h);
		break;
	case BA_STALL:
		keys = k_stall;
		what = xasprintf("stall: air below the stage minimum, or drying rate below %g × the initial rate", p->stall_frac);
		break;
	case BA_EXHAUST_SAT:
		keys = k_exh;
		what = xasprintf("saturated exhaust: RH above %g %% (under-ventilation)", p->exhaust_rh_max);
		break;
	case BA_OPEN_AIR_WET:
		keys = k_open;
		what = xasprintf("open-air drying: outdoor RH above %g %%", p->outdoor_rh_max);
		break;
	case BA_LOADCELL:
		keys = k_lc;
		what = xasprintf("load-cell fault: mass rising > %g %% or moving < %g %% in %g h above %g °C",
				 p->rise_frac * 100, p->stuck_frac * 100, p->stuck_h, p->stuck_air_c);
		break;
	case BA_PULLED_WET:
		keys = k_wet;
		what = xasprintf("pulled wet: MC above %g %% wb, or m/m0 above %g", (p->mc_target_wb + p->wet_margin) * 100,
				 p->ratio_max);
		break;
	default:
		keys = k_over;
		what = xasprintf("over-dried: MC below %g %% wb", (p->mc_target_wb - p->dry_margin) * 100);
	}
	return batch_alarm_msg(b, "drying", keys, what);
}

/* Air, exhaust and ambient: the temperature reading carries the newest
 * RH of its pair (an RH alone waits for the next temperature). */
static void dryb_sample(struct engine *e, struct ebatch *b, int role, int64_t ts_ns, double v)
{
	(void)e;
	struct ebatch_dry *d = b->dry;
	double flow = isnan(b->pc->air_flow_kg_s) ? 0.0 : b->pc->air_flow_kg_s;

	switch (role) {
	case PROLE_AIR: drying_observe_air(&d->s, &d->p, ts_ns, v, d->air_rh); break;
	case PROLE_AIR_RH: d->air_rh = v; break;
	case PROLE_EXHAUST_T:
		d->exh_t = v;
		drying_observe_exhaust(&d->s, &d->p, ts_ns, v, d->exh_rh, flow);
		break;
	case PROLE_EXHAUST_RH: d->exh_rh = v; break;
	case PROLE_AMBIENT_T:
		d->amb_t = v;
		drying_observe_ambient(&d->s, &d->p, ts_ns, v, d->amb_rh);
		break;
	case PROLE_AMBIENT_RH: d->amb_rh = v; break;
	case PROLE_LOADCELL: drying_observe_mass(&d->s, &d->p, ts_ns, v); break;
	default: break;
	}
}

static int64_t dryb_newest_ns(const struct ebatch *b)
{
	const struct drying_state *s = &b->dry->s;
	int64_t t = b->start_ns, v[] = { s->mass_last_ns, s->air_last_ns, s->amb_last_ns, s->exh_last_ns };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] > t)
			t = v[i];
	return t;
}

static void dryb_eval(struct engine *e, struct ebatch *b, int64_t now_ms, int64_t at)
{
	const struct ebatch_dry *d = b->dry;
	int lvl = drying_scorch_level(&d->s, &d->p, at);

	eval_alarm_cond(e, b->al[BA_SCORCH], now_ms, lvl >= 1, d->s.air_c);
	eval_alarm_cond(e, b->al[BA_SCORCH_HIGH], now_ms, lvl >= 2, d->s.air_c);
	eval_alarm_cond(e, b->al[BA_FAST_START], now_ms, drying_is_fast_start(&d->s, &d->p, at), d->s.air_c);
	eval_alarm_cond(e, b->al[BA_STALL], now_ms, drying_stall(&d->s, &d->p, at) != 0, d->s.rate_kg_h);
	eval_alarm_cond(e, b->al[BA_EXHAUST_SAT], now_ms, drying_is_exhaust_saturated(&d->s, &d->p), d->s.exh_rh);
	eval_alarm_cond(e, b->al[BA_OPEN_AIR_WET], now_ms, drying_is_open_air_wet(&d->s, &d->p), d->s.amb_rh);
	eval_alarm_cond(e, b->al[BA_LOADCELL], now_ms, drying_loadcell_fault(&d->s, &d->p, at) != 0, d->s.mass_kg);
}

struct dfig {
	double mc_wb, mc_db, ratio, k, eta_h, into_h;
	int stage;
};

static void dry_figures(const struct ebatch *b, int64_t at, struct dfig *f)
{
	const struct ebatch_dry *d = b->dry;

	f->mc_wb = drying_now_mc_wb(&d->s);
	f->mc_db = drying_now_mc_db(&d->s);
	f->ratio = drying_now_mass_ratio(&d->s);
	if (drying_fit_lewis(&d->s, &d->p, &f->k, NULL) < 0)
		f->k = NAN;
	f->eta_h = drying_eta_h(&d->s, &d->p, DRYING_LEWIS, at);
	f->stage = drying_stage_at(&d->p, (double)(at - b->start_ns) / H_NS, &f->into_h);
}

static const char *stage_name(const struct ebatch *b, int i)
{
	return i >= 0 ? b->dry->p.stages[i].name : "";
}

static void dryb_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t at)
{
	const struct ebatch_dry *d = b->dry;
	struct lp_field fl[16];
	struct dfig f;
	size_t n = 0;

	dry_figures(b, at, &f);
	batch_field_f(fl, &n, "mc_wb", f.mc_wb * 100.0);
	batch_field_f(fl, &n, "mc_db", f.mc_db);
	batch_field_f(fl, &n, "mass_ratio", f.ratio);
	batch_field_f(fl, &n, "mass_kg", d->s.mass_kg);
	batch_field_s(fl, &n, "stage", stage_name(b, f.stage));
	batch_field_f(fl, &n, "k", f.k);
	if (isfinite(f.eta_h))
		batch_field_i(fl, &n, "eta", at + (int64_t)(f.eta_h * H_NS));
	batch_field_f(fl, &n, "rate", d->s.rate_kg_h);
	batch_field_f(fl, &n, "air_c", d->s.n_air ? d->s.air_c : NAN);
	batch_field_f(fl, &n, "air_rh", d->air_rh);
	batch_field_f(fl, &n, "exhaust_rh", d->exh_rh);
	if (!isnan(b->pc->air_flow_kg_s))
		batch_field_f(fl, &n, "water_kg", d->s.water_kg);
	batch_field_f(fl, &n, "tempering_h", d->s.tempering_h);
	batch_field_b(fl, &n, "stopped", b->state != EBATCH_RUNNING);
	batch_emit(e, lb, b, NULL, fl, n, at);
}

static void dryb_stop(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user)
{
	const struct ebatch_dry *d = b->dry;
	int64_t now_ms = now_ns / 1000000;
	unsigned v = drying_unload_verdict(&d->s, &d->p);

	dryb_eval(e, b, now_ms, now_ns);
	if (v & DRYING_V_WET)
		batch_alarm_fact(e, b->al[BA_PULLED_WET], now_ms, drying_now_mc_wb(&d->s) * 100.0);
	if (drying_is_overdried(&d->s, &d->p))
		batch_alarm_fact(e, b->al[BA_OVER_DRIED], now_ms, drying_now_mc_wb(&d->s) * 100.0);
	log_info("batch %s on %s stopped by %s: MC %.2f %% wb, m/m0 %.4f%s", b->id, b->pc->name, user,
		 drying_now_mc_wb(&d->s) * 100.0, drying_now_mass_ratio(&d->s), v & DRYING_V_WET ? ": pulled wet" : "");
}

static cJSON *verdicts_json(const struct ebatch *b, int64_t at)
{
	unsigned v = drying_verdicts(&b->dry->s, &b->dry->p, at);
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { DRYING_V_SCORCH, "scorch" },	       { DRYING_V_SCORCH_HIGH, "scorch_high" },
		      { DRYING_V_FAST_START, "fast_start" },   { DRYING_V_STALL_COLD, "stall_cold" },
		      { DRYING_V_STALL_RATE, "stall_rate" },   { DRYING_V_STAGE_HOT, "stage_hot" },
		      { DRYING_V_EXHAUST_SAT, "exhaust_saturated" }, { DRYING_V_OPEN_AIR_WET, "open_air_wet" },
		      { DRYING_V_LOADCELL_RISE, "loadcell_rise" }, { DRYING_V_LOADCELL_STUCK, "loadcell_stuck" },
		      { DRYING_V_OVERDRIED, "over_dried" },     { DRYING_V_WET, "wet" },
		      { DRYING_V_NO_TEMPERING, "no_tempering" }, { DRYING_V_STAGE_HUMID, "stage_humid" } };
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (v & names[i].bit)
			cJSON_AddItemToArray(arr, cJSON_CreateString(names[i].name));
	return arr;
}

static void dryb_json(cJSON *x, const struct ebatch *b, int64_t at)
{
	const struct ebatch_dry *d = b->dry;
	struct dfig f;

	dry_figures(b, at, &f);
	batch_json_num(x, "m0_kg", d->s.m0_kg);
	batch_json_num(x, "mc0_wb", d->s.mc0_wb * 100.0);
	batch_json_num(x, "dry_solids_kg", d->s.m_ds_kg);
	batch_json_num(x, "mass_kg", d->s.mass_kg);
	/* when the filtered mass stands: its readings' mean time, h since the start */
	batch_json_num(x, "mass_t_h", d->s.n_mass ? d->s.mass_t_h : NAN);
	batch_json_num(x, "mc_wb", f.mc_wb * 100.0);
	batch_json_num(x, "mc_db", f.mc_db);
	batch_json_num(x, "mass_ratio", f.ratio);
	batch_json_num(x, "target_mc_wb", d->p.mc_target_wb * 100.0);
	batch_json_num(x, "target_mass_kg", drying_now_target_mass(&d->s, &d->p));
	batch_json_num(x, "ratio_max", d->p.ratio_max);
	cJSON_AddStringToObject(x, "stage", stage_name(b, f.stage));
	batch_json_num(x, "stage_into_h", f.stage >= 0 ? f.into_h : NAN);
	batch_json_num(x, "k", f.k);
	batch_json_num(x, "eta_h", f.eta_h);
	batch_json_num(x, "rate", d->s.rate_kg_h);
	batch_json_num(x, "rate_initial", d->s.rate_initial_kg_h);
	batch_json_num(x, "air_c", d->s.n_air ? d->s.air_c : NAN);
	batch_json_num(x, "air_max_c", d->s.n_air ? d->s.air_max_c : NAN);
	batch_json_num(x, "air_rh", d->air_rh);
	batch_json_num(x, "exhaust_c", d->exh_t);
	batch_json_num(x, "exhaust_rh", d->exh_rh);
	batch_json_num(x, "ambient_c", d->amb_t);
	batch_json_num(x, "ambient_rh", d->amb_rh);
	batch_json_num(x, "water_kg", isnan(b->pc->air_flow_kg_s) ? NAN : d->s.water_kg);
	batch_json_num(x, "tempering_h", d->s.tempering_h);
	cJSON_AddItemToObject(x, "verdicts", verdicts_json(b, at));
}

/* The final moisture the lot carries on. */
static void dryb_history(cJSON *x, const struct ebatch *b)
{
	const struct ebatch_dry *d = b->dry;
	unsigned v = drying_unload_verdict(&d->s, &d->p);

	batch_json_num(x, "mc_wb", drying_now_mc_wb(&d->s) * 100.0);
	batch_json_num(x, "mass_ratio", drying_now_mass_ratio(&d->s));
	batch_json_num(x, "mass_kg", d->s.mass_kg);
	batch_json_num(x, "m0_kg", d->s.m0_kg);
	batch_json_num(x, "air_max_c", d->s.n_air ? d->s.air_max_c : NAN);
	cJSON_AddStringToObject(x, "verdict", v & DRYING_V_WET ? "pulled_wet"
					       : drying_is_overdried(&d->s, &d->p) ? "over_dried" : "ok");
}

const struct batch_kind batch_kind_dry = {
	.init = dryb_init,
	.alarm_wanted = dryb_alarm_wanted,
	.alarm_conf = dryb_alarm_conf,
	.alarm_text = dryb_alarm_text,
	.sample = dryb_sample,
	.newest_ns = dryb_newest_ns,
	.window_ms = batch_stale_window_ms,
	.eval = dryb_eval,
	.point = dryb_point,
	.stop = dryb_stop,
	.json = dryb_json,
	.history = dryb_history,
	.final_c = NULL,
};
