/* batch_fum.c - SO2 fumigation batches (processing.md §3): the chamber's
 * dose (CT, peak, purge) and each outside sensor's worker exposure (TWA,
 * STEL, IDLH) through models/fumigation.h, their alarms, points and
 * figures.  The phase (burning, hold, purge, done) is the operator's. */
#include "batch_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../util.h"

static const char *const phase_names[] = { "loading", "burning", "hold", "purge", "done", NULL };

static const char *fumb_phase_name(int phase)
{
	return phase >= 0 && phase <= FUM_PHASE_DONE ? phase_names[phase] : "?";
}

/* The profile's graded numbers (ms, ppm; NaN or -1 unset) as the model's
 * (seconds, hours; unset is the model's "judges nothing": a CT window of
 * 0..∞, NaN limits).  The active worker-limit set gives TWA and STEL. */
static int fumb_init(struct ebatch *b, const struct cc_process_profile *prof, const struct engine_batch_opts *o)
{
	const struct cc_fumigation_conf *q = &prof->fumigation;
	const struct cc_process_conf *pc = b->pc;
	struct ebatch_fum *f = xcalloc(1, sizeof(*f));

	fum_chamber_params_default(&f->cp);
	f->cp.ct_min_ppmh = isnan(q->ct_min_ppmh) ? 0 : q->ct_min_ppmh;
	f->cp.ct_max_ppmh = isnan(q->ct_max_ppmh) ? INFINITY : q->ct_max_ppmh;
	if (q->max_gap_ms > 0)
		f->cp.max_gap_s = (double)q->max_gap_ms / 1000.0;
	f->cp.entry_ppm = q->entry_limit_ppm;
	f->cp.ach_per_h = pc->air_changes_h;
	f->cp.purge_overdue_frac = q->purge_overrun;
	if (q->flat_window_ms > 0)
		f->cp.flat_window_s = (double)q->flat_window_ms / 1000.0;
	if (q->flat_epsilon_ppm > 0)
		f->cp.flat_eps_ppm = q->flat_epsilon_ppm;
	fum_chamber_init(&f->cs);
	fum_exposure_params_default(&f->xp);
	if (q->active) {
		f->xp.twa_limit_ppm = q->active->twa_ppm;
		f->xp.stel_limit_ppm = q->active->stel_ppm;
		if (q->active->twa_period_ms > 0)
			f->xp.t_ref_h = (double)q->active->twa_period_ms / H_MS;
	}
	if (q->stel_window_ms > 0)
		f->xp.stel_window_s = (double)q->stel_window_ms / 1000.0;
	if (q->exposure_max_gap_ms > 0)
		f->xp.max_gap_s = (double)q->exposure_max_gap_ms / 1000.0;
	f->xp.idlh_ppm = q->idlh_ppm;
	f->nout = (uint32_t)pc->noutside;
	for (uint32_t i = 0; i < f->nout; i++)
		fum_exposure_init(&f->xs[i], o->start_ns);
	f->tonnes = o->tonnes;
	f->nominal_g_m3 = fum_nominal_g_m3(pc->sulphur_kg_t, o->tonnes, pc->free_volume_m3);
	f->chamber_t = f->chamber_rh = NAN;
	b->fum = f;
	return 0;
}

int fumb_phase(struct ebatch *b, const char *phase, int64_t at_ns)
{
	for (int i = FUM_PHASE_BURNING; phase && phase_names[i]; i++)
		if (strcmp(phase, phase_names[i]) == 0)
			return fum_chamber_set_phase(&b->fum->cs, i, at_ns);
	return -EINVAL;
}

static int fumb_alarm_wanted(const struct ebatch *b, int k)
{
	const struct ebatch_fum *f = b->fum;

	switch (k) {
	case BA_STEL:
	case BA_STEL_WARN: return !isnan(f->xp.stel_limit_ppm);
	case BA_TWA_PROJECTED: return !isnan(f->xp.twa_limit_ppm);
	case BA_IDLH: return !isnan(f->xp.idlh_ppm);
	case BA_CT_UNDER: return f->cp.ct_min_ppmh > 0;
	case BA_CT_OVER: return isfinite(f->cp.ct_max_ppmh);
	case BA_CT_UNCERTAIN: return f->cp.ct_min_ppmh > 0 || isfinite(f->cp.ct_max_ppmh);
	case BA_DOOR: return b->pc->door && !isnan(f->cp.entry_ppm);
	case BA_PURGE_OVERDUE: return !isnan(f->cp.ach_per_h) && !isnan(f->cp.entry_ppm) && !isnan(f->cp.purge_overdue_frac);
	case BA_FLAT: return 1;
	default: return 0;
	}
}

/* Worker exposure is a compliance matter (processing.md §5): undelayed,
 * latched until acknowledged and critical (as a missed chilling deadline);
 * a single reading at the STEL limit is a warning. */
static void fumb_alarm_conf(const struct ebatch *b, int k, struct alarm_conf *c)
{
	const struct ebatch_fum *f = b->fum;

	c->latched = k == BA_STEL || k == BA_TWA_PROJECTED || k == BA_IDLH || k == BA_CT_UNDER || k == BA_CT_OVER ||
		     k == BA_CT_UNCERTAIN;
	/* a door opened on gas is worker safety too: critical, undelayed (not
	 * latched: it clears once the door is shut or the gas is purged) */
	if (k == BA_STEL || k == BA_TWA_PROJECTED || k == BA_IDLH || k == BA_DOOR)
		c->severity = ALARM_SEV_CRITICAL;
	switch (k) {
	case BA_STEL:
	case BA_STEL_WARN: c->limit = f->xp.stel_limit_ppm; break;
	case BA_TWA_PROJECTED: c->limit = f->xp.twa_limit_ppm; break;
	case BA_IDLH: c->limit = f->xp.idlh_ppm; break;
	case BA_CT_UNDER: c->limit = f->cp.ct_min_ppmh; break;
	case BA_CT_OVER: c->limit = f->cp.ct_max_ppmh; break;
	case BA_DOOR: c->limit = f->cp.entry_ppm; break;
	case BA_PURGE_OVERDUE: c->limit = f->cp.purge_overdue_frac; break;
	default: c->limit = NAN;
	}
}

static char *fumb_alarm_text(const struct ebatch *b, int k)
{
	static const char *const k_stel[] = { "worker_limit", "stel_window", NULL };
	static const char *const k_idlh[] = { "idlh", NULL };
	static const char *const k_ct[] = { "ct_min", "ct_max", "max_gap", NULL };
	static const char *const k_door[] = { "entry_limit", NULL };
	static const char *const k_purge[] = { "purge_overrun", "entry_limit", NULL };
	static const char *const k_flat[] = { "flat_window", "flat_epsilon", NULL };
	const struct ebatch_fum *f = b->fum;
	const char *set = b->prof->fumigation.worker_limit ? b->prof->fumigation.worker_limit : "?";
	const char *const *keys = k_flat;
	char *what;

	switch (k) {
	case BA_STEL:
		keys = k_stel;
		what = xasprintf("worker exposure outside: %g-min STEL above %g ppm (%s)", f->xp.stel_window_s / 60,
				 f->xp.stel_limit_ppm, set);
		break;
	case BA_STEL_WARN:
		keys = k_stel;
		what = xasprintf("worker exposure outside: a reading at or above the STEL %g ppm (%s)", f->xp.stel_limit_ppm, set);
		break;
	case BA_TWA_PROJECTED:
		keys = k_stel;
		what = xasprintf("worker exposure outside: %g-h TWA projected above %g ppm (%s)", f->xp.t_ref_h,
				 f->xp.twa_limit_ppm, set);
		break;
	case BA_IDLH:
		keys = k_idlh;
		what = xasprintf("SO2 outside at or above IDLH %g ppm: evacuate", f->xp.idlh_ppm);
		break;
	case BA_CT_UNDER: keys = k_ct; what = xasprintf("under-treated: CT below %g ppm·h", f->cp.ct_min_ppmh); break;
	case BA_CT_OVER: keys = k_ct; what = xasprintf("over-treated (residue): CT above %g ppm·h", f->cp.ct_max_ppmh); break;
	case BA_CT_UNCERTAIN:
		keys = k_ct;
		what = xasprintf("CT not proven within %g..%g ppm·h: unmonitored gaps", f->cp.ct_min_ppmh, f->cp.ct_max_ppmh);
		break;
	case BA_DOOR: keys = k_door; what = xasprintf("door open with the chamber above %g ppm", f->cp.entry_ppm); break;
	case BA_PURGE_OVERDUE:
		keys = k_purge;
		what = xasprintf("purge overdue (> %g × the estimate at %g air changes/h): ventilation fault",
				 1 + f->cp.purge_overdue_frac, f->cp.ach_per_h);
		break;
	default:
		what = xasprintf("chamber SO2 reading flat while burning (%g s within %g ppm): sensor fault", f->cp.flat_window_s,
				 f->cp.flat_eps_ppm);
	}
	return batch_alarm_msg(b, "fumigation", keys, what);
}

static void fumb_eval_workers(struct engine *e, struct ebatch *b, int64_t now_ms);

static void fumb_sample(struct engine *e, struct ebatch *b, int role, int64_t ts_ns, double v)
{
	struct ebatch_fum *f = b->fum;

	if (role >= 0 && (uint32_t)role < f->nout) {
		fum_exposure_observe(&f->xs[role], &f->xp, ts_ns, v);
		fumb_eval_workers(e, b, e->now_ms);
	} else if (role == PROLE_CHAMBER)
		fum_chamber_observe(&f->cs, &f->cp, ts_ns, v);
	else if (role == PROLE_DOOR)
		fum_chamber_observe_door(&f->cs, ts_ns, v != 0);
	else if (role == PROLE_PURGE_FAN && fum_chamber_observe_fan(&f->cs, &f->cp, ts_ns, v) == 1) {
		/* as `batch phase purge`, by the fan, at its switch-on */
		e->dirty = 1;
		log_info("batch %s on %s: phase purge by purge_fan (%s switched on at %.3f s; chamber %g ppm)", b->id,
			 b->pc->name, b->pc->purge_fan, (double)ts_ns / 1e9, f->cs.purge_c0_ppm);
	}
	else if (role == PROLE_CHAMBER_T)
		f->chamber_t = v;
	else if (role == PROLE_CHAMBER_RH)
		f->chamber_rh = v;
}

static int64_t fumb_newest_ns(const struct ebatch *b)
{
	const struct ebatch_fum *f = b->fum;
	int64_t t = b->start_ns;

	if (f->cs.last_ns > t)
		t = f->cs.last_ns;
	for (uint32_t i = 0; i < f->nout; i++)
		if (f->xs[i].last_ns > t)
			t = f->xs[i].last_ns;
	return t;
}

/* The worst outside sensor, each judged as of its own newest reading:
 * its alarm bits ORed, the highest figures. */
struct worst {
	unsigned a;
	double stel, projected, last;
};

static void worst_outside(const struct ebatch_fum *f, struct worst *w)
{
	w->a = 0;
	w->stel = w->projected = w->last = NAN;
	for (uint32_t i = 0; i < f->nout; i++) {
		struct fum_exposure_figures x;
		int64_t t = f->xs[i].last_ns;
		if (!t)
			continue;
		fum_exposure_figures(&f->xs[i], &f->xp, t, &x);
		w->a |= fum_exposure_alarms(&f->xs[i], &f->xp, t);
		w->stel = fmax(w->stel, x.stel_ppm);
		w->projected = fmax(w->projected, x.projected_ppm);
		w->last = fmax(w->last, f->xs[i].last_ppm);
	}
}

/*
 * Worker exposure, judged at every outside reading (not only at a tick):
 * a 15-min mean above the STEL is a fact of the shift even if the next
 * readings bring it down before the engine's next tick.  Each sensor is
 * judged as of its own newest reading, so a tick and a reading agree; a
 * sensor gone silent keeps its last verdict (its time counts as
 * unmonitored in the TWA).
 */
static void fumb_eval_workers(struct engine *e, struct ebatch *b, int64_t now_ms)
{
	struct worst w;

	worst_outside(b->fum, &w);
	eval_alarm_cond(e, b->al[BA_STEL], now_ms, !!(w.a & FUM_A_STEL), w.stel);
	eval_alarm_cond(e, b->al[BA_STEL_WARN], now_ms, !!(w.a & FUM_A_STEL_WARN), w.last);
	eval_alarm_cond(e, b->al[BA_TWA_PROJECTED], now_ms, !!(w.a & FUM_A_TWA_PROJECTED), w.projected);
	eval_alarm_cond(e, b->al[BA_IDLH], now_ms, !!(w.a & FUM_A_IDLH), w.last);
}

static void fumb_eval(struct engine *e, struct ebatch *b, int64_t now_ms, int64_t at)
{
	const struct ebatch_fum *f = b->fum;
	unsigned ca = fum_chamber_alarms(&f->cs, &f->cp, at);

	fumb_eval_workers(e, b, now_ms);
	eval_alarm_cond(e, b->al[BA_CT_UNDER], now_ms, !!(ca & FUM_A_CT_UNDER), f->cs.ct_ppmh);
	eval_alarm_cond(e, b->al[BA_CT_OVER], now_ms, !!(ca & FUM_A_CT_OVER), f->cs.ct_ppmh);
	eval_alarm_cond(e, b->al[BA_CT_UNCERTAIN], now_ms, !!(ca & FUM_A_CT_UNCERTAIN), f->cs.ct_ppmh);
	eval_alarm_cond(e, b->al[BA_DOOR], now_ms, !!(ca & FUM_A_DOOR), f->cs.last_ppm);
	eval_alarm_cond(e, b->al[BA_PURGE_OVERDUE], now_ms, !!(ca & FUM_A_PURGE_OVERDUE), fum_chamber_purge_h(&f->cs, at));
	eval_alarm_cond(e, b->al[BA_FLAT], now_ms, !!(ca & FUM_A_FLAT), f->cs.last_ppm);
}

/* One point for the chamber, one per outside sensor (tag sensor). */
static void fumb_point(struct engine *e, struct lp_buf *lb, const struct ebatch *b, int64_t at)
{
	const struct ebatch_fum *f = b->fum;
	struct lp_field fl[16];
	size_t n = 0;

	batch_field_f(fl, &n, "ct_ppmh", f->cs.ct_ppmh);
	batch_field_f(fl, &n, "ct_g_h_m3", fum_chamber_ct_g_h_m3(&f->cs));
	batch_field_f(fl, &n, "peak_ppm", f->cs.peak_ppm);
	batch_field_f(fl, &n, "chamber_ppm", f->cs.last_ns ? f->cs.last_ppm : NAN);
	batch_field_f(fl, &n, "unmonitored_h", f->cs.unmonitored_h);
	batch_field_f(fl, &n, "purge_h", fum_chamber_purge_h(&f->cs, at));
	batch_field_f(fl, &n, "purge_estimate_h", fum_chamber_purge_estimate_h(&f->cs, &f->cp));
	batch_field_f(fl, &n, "chamber_t", f->chamber_t);
	batch_field_f(fl, &n, "chamber_rh", f->chamber_rh);
	batch_field_s(fl, &n, "phase", fumb_phase_name(f->cs.phase));
	batch_field_s(fl, &n, "ct_verdict", fum_ct_verdict_name(fum_chamber_ct_verdict(&f->cs, &f->cp)));
	batch_field_b(fl, &n, "stopped", b->state != EBATCH_RUNNING);
	batch_emit(e, lb, b, NULL, fl, n, at);
	for (uint32_t i = 0; i < f->nout; i++) {
		struct fum_exposure_figures x;
		fum_exposure_figures(&f->xs[i], &f->xp, at, &x);
		n = 0;
		batch_field_f(fl, &n, "twa_ppm", x.twa_ppm);
		batch_field_f(fl, &n, "twa_upper_ppm", x.twa_upper_ppm);
		batch_field_f(fl, &n, "stel_ppm", x.stel_ppm);
		batch_field_f(fl, &n, "stel_max_ppm", x.stel_max_ppm);
		batch_field_f(fl, &n, "projected_twa_ppm", x.projected_ppm);
		batch_field_f(fl, &n, "last_ppm", x.last_ppm);
		batch_field_f(fl, &n, "unmonitored_h", x.unmonitored_h);
		batch_emit(e, lb, b, b->pc->outside[i], fl, n, at);
	}
}

/* Stopping a batch is its end: the CT verdict is taken (phase done). */
static void fumb_stop(struct engine *e, struct ebatch *b, int64_t now_ns, const char *user)
{
	struct ebatch_fum *f = b->fum;

	if (f->cs.phase != FUM_PHASE_DONE)
		fum_chamber_set_phase(&f->cs, FUM_PHASE_DONE, now_ns);
	fumb_eval(e, b, now_ns / 1000000, now_ns);
	log_info("batch %s on %s stopped by %s: CT %.1f ppm·h (%s), peak %.0f ppm", b->id, b->pc->name, user,
		 f->cs.ct_ppmh, fum_ct_verdict_name(fum_chamber_ct_verdict(&f->cs, &f->cp)), f->cs.peak_ppm);
}

static cJSON *outside_json(const struct ebatch *b, int64_t at)
{
	const struct ebatch_fum *f = b->fum;
	cJSON *arr = cJSON_CreateArray();

	for (uint32_t i = 0; i < f->nout; i++) {
		struct fum_exposure_figures x;
		cJSON *y = cJSON_CreateObject();
		fum_exposure_figures(&f->xs[i], &f->xp, at, &x);
		cJSON_AddStringToObject(y, "sensor", b->pc->outside[i]);
		batch_json_num(y, "twa_ppm", x.twa_ppm);
		batch_json_num(y, "twa_mg_m3", x.twa_mg_m3);
		batch_json_num(y, "twa_upper_ppm", x.twa_upper_ppm);
		batch_json_num(y, "projected_twa_ppm", x.projected_ppm);
		batch_json_num(y, "stel_ppm", x.stel_ppm);
		batch_json_num(y, "stel_max_ppm", x.stel_max_ppm);
		batch_json_num(y, "peak_ppm", f->xs[i].last_ns ? f->xs[i].peak_ppm : NAN);
		batch_json_num(y, "last_ppm", x.last_ppm);
		batch_json_num(y, "monitored_h", x.monitored_h);
		batch_json_num(y, "unmonitored_h", x.unmonitored_h);
		cJSON_AddItemToArray(arr, y);
	}
	return arr;
}

static void fumb_json(cJSON *x, const struct ebatch *b, int64_t at)
{
	const struct ebatch_fum *f = b->fum;
	const struct cc_fumigation_conf *q = &b->prof->fumigation;

	cJSON_AddStringToObject(x, "phase", fumb_phase_name(f->cs.phase));
	batch_json_num(x, "ct_ppmh", f->cs.ct_ppmh);
	batch_json_num(x, "ct_g_h_m3", fum_chamber_ct_g_h_m3(&f->cs));
	batch_json_num(x, "ct_min_ppmh", q->ct_min_ppmh);
	batch_json_num(x, "ct_max_ppmh", q->ct_max_ppmh);
	cJSON_AddStringToObject(x, "ct_verdict", fum_ct_verdict_name(fum_chamber_ct_verdict(&f->cs, &f->cp)));
	batch_json_num(x, "peak_ppm", f->cs.last_ns ? f->cs.peak_ppm : NAN);
	batch_json_num(x, "chamber_ppm", f->cs.last_ns ? f->cs.last_ppm : NAN);
	batch_json_num(x, "exposure_h", f->cs.exposure_h);
	batch_json_num(x, "unmonitored_h", f->cs.unmonitored_h);
	batch_json_num(x, "purge_h", fum_chamber_purge_h(&f->cs, at));
	batch_json_num(x, "purge_estimate_h", fum_chamber_purge_estimate_h(&f->cs, &f->cp));
	batch_json_num(x, "purge_start_ns", f->cs.purge_start_ns ? (double)f->cs.purge_start_ns : NAN);
	cJSON_AddBoolToObject(x, "entry_allowed", fum_chamber_entry_allowed(&f->cs, &f->cp, at));
	batch_json_num(x, "entry_limit_ppm", f->cp.entry_ppm);
	cJSON_AddBoolToObject(x, "entry_limit_estimate", batch_param_is_d(b, "fumigation", "entry_limit"));
	cJSON_AddBoolToObject(x, "door_open", f->cs.door_open);
	batch_json_num(x, "chamber_t", f->chamber_t);
	batch_json_num(x, "chamber_rh", f->chamber_rh);
	batch_json_num(x, "tonnes", f->tonnes);
	batch_json_num(x, "nominal_g_m3", f->nominal_g_m3);
	batch_json_num(x, "nominal_ppm", fum_mg_m3_to_ppm(f->nominal_g_m3 * 1000.0));
	cJSON_AddStringToObject(x, "worker_limit", q->worker_limit ? q->worker_limit : "");
	batch_json_num(x, "twa_limit_ppm", f->xp.twa_limit_ppm);
	batch_json_num(x, "stel_limit_ppm", f->xp.stel_limit_ppm);
	cJSON_AddItemToObject(x, "outside", outside_json(b, at));
}

/* The dose the lot received. */
static void fumb_history(cJSON *x, const struct ebatch *b)
{
	const struct ebatch_fum *f = b->fum;
	double stel = NAN;

	for (uint32_t i = 0; i < f->nout; i++)
		stel = fmax(stel, f->xs[i].stel_max_ppm);
	batch_json_num(x, "ct_ppmh", f->cs.ct_ppmh);
	batch_json_num(x, "ct_g_h_m3", fum_chamber_ct_g_h_m3(&f->cs));
	batch_json_num(x, "peak_ppm", f->cs.last_ns ? f->cs.peak_ppm : NAN);
	batch_json_num(x, "exposure_h", f->cs.exposure_h);
	batch_json_num(x, "unmonitored_h", f->cs.unmonitored_h);
	batch_json_num(x, "chamber_t", f->chamber_t);
	batch_json_num(x, "chamber_rh", f->chamber_rh);
	batch_json_num(x, "stel_max_ppm", stel);
	cJSON_AddStringToObject(x, "verdict", fum_ct_verdict_name(fum_chamber_ct_verdict(&f->cs, &f->cp)));
}

const struct batch_kind batch_kind_fum = {
	.init = fumb_init,
	.alarm_wanted = fumb_alarm_wanted,
	.alarm_conf = fumb_alarm_conf,
	.alarm_text = fumb_alarm_text,
	.sample = fumb_sample,
	.newest_ns = fumb_newest_ns,
	.window_ms = batch_stale_window_ms,
	.eval = fumb_eval,
	.point = fumb_point,
	.stop = fumb_stop,
	.json = fumb_json,
	.history = fumb_history,
	.final_c = NULL,
};
